"""Test media written at test time with PyAV: frames at chosen presentation times, or of a chosen size."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

MS = Fraction(1, 1000)


def portrait(side_px: int = 512) -> NDArray[np.uint8]:
    """The NASA portrait (public domain, shipped with scikit-image), RGB (side, side, 3): one clear face."""
    from PIL import Image
    from skimage import data

    picture = Image.fromarray(np.asarray(data.astronaut(), dtype=np.uint8))
    return np.asarray(picture.resize((side_px, side_px)), dtype=np.uint8)


def write_timed_clip(path: Path, times_s: Sequence[float], picture: NDArray[np.uint8], *, rate: int = 1) -> None:
    """An H.264 MP4 showing ``picture`` at exactly ``times_s`` (seconds, increasing), nothing in between.

    The track counts milliseconds (``video_track_timescale``), so gaps of days stay exact;
    ``rate`` is only the encoder's nominal rate: FFmpeg derives the average from the times.
    No B-frames, so packets come in presentation order.
    """
    height, width = picture.shape[:2]
    with av.open(str(path), "w", options={"video_track_timescale": "1000"}) as container:
        stream = container.add_stream("libx264", rate=rate, options={"bf": "0"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = MS
        stream.codec_context.time_base = MS
        for time_s in times_s:
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = round(time_s * 1000), MS
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_rated_clip(path: Path, times_s: Sequence[float], *, rate: Fraction | int) -> None:
    """A small grey H.264 Matroska clip whose header claims ``rate`` fps, with frames at ``times_s``."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate, options={"bf": "0"})
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.codec_context.time_base = MS
        for index, time_s in enumerate(times_s):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 40 * index % 256, np.uint8), format="rgb24")
            frame.pts, frame.time_base = round(time_s * 1000), MS
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
