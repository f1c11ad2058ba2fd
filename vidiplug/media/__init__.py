"""Media room: a local path in, sampled frames with true times out. Opens files; fetches nothing.

Must not import anything above media/ (engine, identity, pipeline, ...) nor any network library.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vidiplug.media.frames import DecodeStats, Frame, LumaSize, sample_frames
from vidiplug.media.images import load_image, probe_image
from vidiplug.media.pixels import UHD_PIXELS, held_size
from vidiplug.media.probe import MediaInfo, is_image_path, probe_video

__all__ = [
    "UHD_PIXELS",
    "DecodeStats",
    "Frame",
    "LumaSize",
    "MediaInfo",
    "held_size",
    "iter_media_frames",
    "load_image",
    "probe_media",
]


def probe_media(path: Path) -> MediaInfo:
    """MediaInfo for a video or still image; MediaError naming the file when unreadable."""
    return probe_image(path) if is_image_path(path) else probe_video(path)


def iter_media_frames(
    path: Path,
    info: MediaInfo,
    interval_s: float,
    stats: DecodeStats | None = None,
    luma_size: LumaSize | None = None,
    max_pixels: int | None = None,
) -> Iterator[Frame]:
    """Sampled frames of ``path``: one frame at time 0 for a still image (no luma), else ``sample_frames``.

    ``max_pixels``: pictures with more pixels are decoded scaled down to that many (see
    ``sample_frames`` and ``load_image``); ``Frame.source_size`` keeps their own size.
    """
    if info.is_image:
        image = load_image(path, max_pixels=max_pixels)
        source = (info.width, info.height)
        yield Frame(0, 0.0, image, source_size=source if source != (image.shape[1], image.shape[0]) else None)
        return
    yield from sample_frames(path, interval_s, info=info, stats=stats, luma_size=luma_size, max_pixels=max_pixels)
