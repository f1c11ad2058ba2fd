"""Sample media that needs no network: built from the public-domain NASA portrait in scikit-image.

``sample:astronaut`` is the portrait (Eileen Collins, NASA) as a PNG; ``sample:astronaut.mp4``
is an 8-second 25 fps clip: 2 s of an empty dark frame, then the portrait with a slow
zoom for 4 s, then 2 s empty again — so the face appears at 2.0-6.0 s.
``sample:scenes.mp4`` (the demo's default) continues that clip with a second shot at
7.0-11.0 s: the Tom Hanks portrait that ships inside the insightface package, so the demo
has two unknown faces, one to name and one to delete.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vidiplug.errors import MediaError

PREFIX = "sample:"
SAMPLES_VERSION = 2  # bump when a sample's pictures or timing change: cached copies are then rebuilt
SAMPLES = ("astronaut", "astronaut.mp4", "scenes.mp4")
FACE_START_S, FACE_END_S = 2.0, 6.0
SECOND_START_S, SECOND_END_S = 7.0, 11.0


def is_sample(text: str) -> bool:
    """True when ``text`` names bundled sample media (``sample:NAME``)."""
    return text.startswith(PREFIX)


def _portrait() -> NDArray[np.uint8]:
    from skimage import data

    return np.asarray(data.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]


def _second_portrait() -> Image.Image:
    """The face photo shipped in the insightface package (installed with vidiplug)."""
    import insightface

    path = Path(insightface.__file__).parent / "data" / "images" / "Tom_Hanks_54745.png"
    if not path.is_file():
        raise MediaError("sample:scenes.mp4", f"the insightface package has no sample face at {path}")
    return Image.open(path).convert("RGB")


def sample_path(text: str, cache_dir: Path) -> Path:
    """The file for ``sample:NAME``, written under ``cache_dir`` on first use."""
    name = text[len(PREFIX):]
    if name not in SAMPLES:
        raise MediaError(text, f"unknown sample; choose one of {', '.join(PREFIX + s for s in SAMPLES)}")
    cache_dir = cache_dir / f"v{SAMPLES_VERSION}"
    cache_dir.mkdir(parents=True, exist_ok=True)
    if name == "astronaut":
        path = cache_dir / "astronaut.png"
        if not path.exists():
            Image.fromarray(_portrait()).save(path)
        return path
    path = cache_dir / name
    if not path.exists():
        partial = cache_dir / f"{path.stem}.partial.mp4"
        if name == "scenes.mp4":
            write_sample_clip(partial, duration_s=12.0, second=_second_portrait())
        else:
            write_sample_clip(partial)
        partial.replace(path)
    return path


def write_sample_clip(path: Path, fps: int = 25, duration_s: float = 8.0, second: Image.Image | None = None) -> None:
    """Encode the sample clip (H.264 when available, else MPEG-4 Part 2) to ``path``.

    With ``second``, that picture is shown, centred, from SECOND_START_S to SECOND_END_S.
    """
    portrait = Image.fromarray(_portrait())
    width, height = 640, 360
    second_frame = _fit(second.resize((300, 300)), width, height) if second is not None else None
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        if not isinstance(stream, av.video.stream.VideoStream):
            raise MediaError(str(path), f"{codec} is not a video encoder")
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        total = int(duration_s * fps)
        for index in range(total):
            time_s = index / fps
            canvas = np.full((height, width, 3), 16, np.uint8)
            if FACE_START_S <= time_s < FACE_END_S:
                zoom = 1.0 + 0.15 * (time_s - FACE_START_S) / (FACE_END_S - FACE_START_S)
                side = int(300 * zoom)
                tile = np.asarray(portrait.resize((side, side)))
                top = max(0, (height - side) // 2)
                left = (width - side) // 2
                visible = tile[: height - top, :]
                canvas[top : top + visible.shape[0], left : left + side] = visible
            elif second_frame is not None and SECOND_START_S <= time_s < SECOND_END_S:
                canvas = second_frame
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _fit(picture: Image.Image, width: int, height: int) -> NDArray[np.uint8]:
    """``picture`` centred on a dark ``width`` x ``height`` canvas (scaled down only to fit)."""
    scale = min(1.0, width / picture.width, height / picture.height)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    canvas = np.full((height, width, 3), 16, np.uint8)
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = np.asarray(picture.resize(size))
    return canvas
