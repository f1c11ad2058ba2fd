"""The programme: the shared clips joined into one long 1280x720 25 fps video with per-second truth.

Each clip in ``quality_data.PROGRAMME`` becomes a segment of whole seconds (a truth clip:
one second per truth row; any other clip: its duration rounded), scaled to fit 1280x720
with black bars (aspect ratio kept) and re-timed to 25 fps by showing, at each output
instant, the latest source frame shown by then (the first frame before it starts). Source
times are media times (presentation time minus the container's start), the time line the
truth files use, so a truth row ``s`` of a clip at offset ``o`` is programme second ``o + s``.

The video is built once into a cache folder, named by a key of ``VERSION`` and the
inputs' sizes, and rebuilt when that key changes. Nobody is enrolled when it is analysed:
every person must come out as an unknown fingerprint, the same one each time they return.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from quality_data import PROGRAMME, read_labels, read_truth, truth_clips, video_identity
from quality_metrics import SecondTruth, shift_truth

VERSION = "programme-v1"  # bump when the way the programme is made changes
WIDTH, HEIGHT, FPS = 1280, 720, 25


@dataclass(frozen=True)
class Segment:
    """One clip inside the programme: it plays from ``start_s`` for ``length_s`` whole seconds."""

    clip: str
    start_s: int
    length_s: int
    multi_person: bool


@dataclass(frozen=True)
class Programme:
    """The built programme video, its segments and its truth (programme seconds)."""

    path: Path
    segments: tuple[Segment, ...]
    truth: dict[int, SecondTruth]

    @property
    def duration_s(self) -> float:
        return float(sum(s.length_s for s in self.segments))


def plan(data: Path) -> tuple[tuple[Segment, ...], dict[int, SecondTruth]]:
    """The segments of ``PROGRAMME`` and the programme's truth (probes durations; decodes nothing)."""
    truths = {c.clip: c for c in truth_clips(data)}
    labels = read_labels(data)
    segments, truth, start = [], {}, 0
    for clip in PROGRAMME:
        if clip in truths:
            rows = read_truth(data / truths[clip].truth_file)
            length = max(rows) + 1
            truth.update(shift_truth(rows, start))
        else:
            person = video_identity(labels, clip)
            length = max(1, round(media_duration_s(data / clip)))
            truth.update({start + s: SecondTruth(required=frozenset({person})) for s in range(length)})
        segments.append(Segment(clip, start, length, clip in truths))
        start += length
    return tuple(segments), truth


def media_duration_s(path: Path) -> float:
    """The container's duration in seconds."""
    import av

    with av.open(str(path)) as container:
        return float((container.duration or 0) / av.time_base)


def cache_key(data: Path) -> str:
    """``VERSION`` and every input's size, hashed: a new key means a new programme."""
    sha = hashlib.sha256(VERSION.encode())
    for clip in PROGRAMME:
        for path in (data / clip, data / f"{clip}.truth.csv"):
            if path.exists():
                sha.update(f"{path.relative_to(data).as_posix()}:{path.stat().st_size};".encode())
    sha.update(str((data / "labels.csv").stat().st_size).encode())
    return sha.hexdigest()[:12]


def load_programme(data: Path, cache: Path) -> Programme:
    """The programme, built into ``cache`` unless a copy with the current key is there."""
    segments, truth = plan(data)
    path = cache / f"programme-{cache_key(data)}.mp4"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.mp4")
        print(f"# building the programme ({sum(s.length_s for s in segments)} s) into {path}", file=sys.stderr)
        encode(data, segments, partial)
        partial.replace(path)
        for stale in cache.glob("programme-*.mp4"):
            if stale != path:
                stale.unlink()
    return Programme(path, segments, truth)


def encode(data: Path, segments: tuple[Segment, ...], target: Path) -> None:
    """Write the segments one after the other as one H.264 (yuv420p) stream at WIDTH x HEIGHT, FPS."""
    import av

    with av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20", "g": str(2 * FPS)}
        index = 0
        for segment in segments:
            print(f"#   {segment.start_s:4d} s  {segment.clip}", file=sys.stderr)
            for picture in segment_pictures(data / segment.clip, segment.length_s):
                frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
                frame.pts, frame.time_base = index, Fraction(1, FPS)
                index += 1
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def segment_pictures(path: Path, length_s: int) -> Iterator[NDArray[np.uint8]]:
    """``length_s * FPS`` letterboxed RGB pictures of the clip at ``path``, one per output instant."""
    frames = _timed_frames(path)
    current = next(frames)
    upcoming = next(frames, None)
    picture: NDArray[np.uint8] | None = None
    for k in range(length_s * FPS):
        instant = k / FPS
        while upcoming is not None and upcoming[0] <= instant + 1e-6:
            current, upcoming, picture = upcoming, next(frames, None), None
        if picture is None:
            picture = letterbox(current[1], current[2])
        yield picture


def _timed_frames(path: Path) -> Iterator[tuple[float, Any, int]]:
    """(media time s, decoded frame, clockwise rotation) of every frame of the clip's first video stream."""
    import av

    from vidiplug.media.probe import stream_rotation_deg

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rotation = stream_rotation_deg(stream)
        base = stream.time_base or Fraction(1, 90000)
        origin = (container.start_time or 0) / av.time_base
        for frame in container.decode(stream):
            if frame.pts is not None:
                yield float(frame.pts * base) - origin, frame, rotation


def letterbox(frame: Any, rotation: int = 0) -> NDArray[np.uint8]:
    """A decoded frame turned ``rotation`` degrees clockwise, fitted into WIDTH x HEIGHT (aspect kept) on black."""
    from vidiplug.media.frames import upright

    turned = rotation in (90, 270)
    width, height = (frame.height, frame.width) if turned else (frame.width, frame.height)
    scale = min(WIDTH / width, HEIGHT / height)
    fit_w, fit_h = max(2, round(width * scale)), max(2, round(height * scale))
    scaled_w, scaled_h = (fit_h, fit_w) if turned else (fit_w, fit_h)
    image = upright(frame.reformat(width=scaled_w, height=scaled_h, format="rgb24").to_ndarray(), rotation)
    canvas = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    top, left = (HEIGHT - image.shape[0]) // 2, (WIDTH - image.shape[1]) // 2
    canvas[top: top + image.shape[0], left: left + image.shape[1]] = image
    return canvas
