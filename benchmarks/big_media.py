"""Oversized test media, written on demand: a square H.264 clip and a still image with the NASA portrait.

The portrait (public domain, from scikit-image) fills the middle half of every picture, so
analysis has one clear face to find. Run in its own process (encoding a 16000 x 16000
clip takes ~3 GB):

    python benchmarks/big_media.py video OUT.mp4 [--side 16000] [--frames 3]
    python benchmarks/big_media.py image OUT.png [--side 9450]      # 89.3 MP; .jpg for JPEG
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image


def portrait(side_px: int) -> Image.Image:
    """The NASA portrait scaled to ``side_px`` square, RGB."""
    from skimage import data

    return Image.fromarray(np.asarray(data.astronaut(), dtype=np.uint8)).resize((side_px, side_px))


def _yuv_planes(side_px: int) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    """Y, U, V planes (yuv420p) of a grey ``side_px`` square with the portrait in its middle half."""
    inset = side_px // 2 - side_px // 2 % 2
    small = av.VideoFrame.from_image(portrait(inset)).reformat(format="yuv420p")
    y = np.full((side_px, side_px), 60, np.uint8)
    u = np.full((side_px // 2, side_px // 2), 128, np.uint8)
    v = np.full((side_px // 2, side_px // 2), 128, np.uint8)
    top = (side_px - inset) // 2 - (side_px - inset) // 2 % 2
    for plane, full, div in zip(small.planes, (y, u, v), (1, 2, 2)):
        rows = np.frombuffer(bytes(plane), np.uint8).reshape(plane.height, plane.line_size)[:, : inset // div]
        full[top // div : top // div + inset // div, top // div : top // div + inset // div] = rows
    return y, u, v


def write_big_clip(path: Path, side_px: int = 16000, frames: int = 3) -> None:
    """``frames`` frames of ``side_px`` x ``side_px``, one a second, H.264 (x264 ultrafast: one reference frame)."""
    planes = _yuv_planes(side_px)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1, options={"preset": "ultrafast"})
        stream.width = stream.height = side_px
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame(side_px, side_px, "yuv420p")
            for plane, values in zip(frame.planes, planes):
                padded = np.zeros((plane.height, plane.line_size), np.uint8)
                padded[:, : values.shape[1]] = values
                plane.update(padded.tobytes())
            frame.pts, frame.time_base = index, Fraction(1)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_big_image(path: Path, side_px: int = 9450) -> None:
    """A ``side_px`` square still (PNG or JPEG by suffix): grey, the portrait in its middle half."""
    canvas = Image.new("RGB", (side_px, side_px), (60, 60, 60))
    inset = side_px // 2
    canvas.paste(portrait(inset), ((side_px - inset) // 2, (side_px - inset) // 2))
    canvas.save(path, quality=90) if path.suffix.lower() in (".jpg", ".jpeg") else canvas.save(path, compress_level=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["video", "image"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--side", type=int, default=None, help="pixels a side (video 16000, image 9450)")
    parser.add_argument("--frames", type=int, default=3, help="video frames, one a second")
    args = parser.parse_args()
    if args.kind == "video":
        write_big_clip(args.out, args.side or 16000, args.frames)
    else:
        write_big_image(args.out, args.side or 9450)


if __name__ == "__main__":
    main()
