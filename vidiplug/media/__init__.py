"""Media room: a local path in, sampled frames with true times out. Opens files; fetches nothing.

Must not import anything above media/ (engine, identity, pipeline, ...) nor any network library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from vidiplug.media.frames import DecodeStats, Frame, LumaSize, sample_frames
from vidiplug.media.images import load_image, probe_image
from vidiplug.media.probe import MediaInfo, is_image_path, probe_video

__all__ = ["DecodeStats", "Frame", "LumaSize", "MediaInfo", "iter_media_frames", "load_image", "probe_media"]


def probe_media(path: Path) -> MediaInfo:
    """MediaInfo for a video or still image; MediaError naming the file when unreadable."""
    return probe_image(path) if is_image_path(path) else probe_video(path)


def iter_media_frames(
    path: Path,
    info: MediaInfo,
    interval_s: float,
    stats: DecodeStats | None = None,
    luma_size: LumaSize | None = None,
) -> Iterator[Frame]:
    """Sampled frames of ``path``: one frame at time 0 for a still image (no luma), else ``sample_frames``."""
    if info.is_image:
        yield Frame(0, 0.0, load_image(path))
        return
    yield from sample_frames(path, interval_s, info=info, stats=stats, luma_size=luma_size)
