"""What a media file is: duration, frame rate, size, rotation — or a MediaError naming the file.

Catches PyAV's and Pillow's exceptions and nothing else's; imports nothing above media/.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error

from vidiplug.errors import MediaError

_SAME_RATE_TOLERANCE = Fraction(1, 1000)  # relative: two rates this close are one grid
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"})


@dataclass(frozen=True)
class MediaInfo:
    """Facts about a media file.

    ``duration_s`` is 0 for still images; ``fps`` is the average frame rate (0 for
    stills); ``width``/``height`` are the displayed size after rotation;
    ``rotation_deg`` is the clockwise rotation applied to decoded frames (0, 90, 180, 270).
    ``frame_rate`` keeps the exact rational rate when the frames lie on that rate's grid
    (used for time codes); it is None for stills, unknown rates and variable-rate media,
    whose average rate is no grid (see ``regular_frame_rate``).
    """

    path: str
    duration_s: float
    fps: float
    width: int
    height: int
    rotation_deg: int = 0
    is_image: bool = False
    frame_rate: Fraction | None = None


def check_readable(path: Path) -> None:
    """Raise MediaError unless ``path`` is an existing, non-empty regular file."""
    if not path.exists():
        raise MediaError(str(path), "no such file")
    if not path.is_file():
        raise MediaError(str(path), "not a regular file")
    if path.stat().st_size == 0:
        raise MediaError(str(path), "file is empty")


def is_image_path(path: Path) -> bool:
    """True when the suffix says still image (decoded with Pillow, one frame)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def stream_rotation_deg(stream: av.video.stream.VideoStream) -> int:
    """Clockwise rotation (0/90/180/270) to apply to decoded frames of ``stream``.

    Reads the display matrix side data when present (FFmpeg's ``rotate`` tag is gone
    in FFmpeg 7), else the legacy ``rotate`` metadata tag.
    """
    tag = stream.metadata.get("rotate") if stream.metadata else None
    degrees: float | None = None
    if tag is not None:
        try:
            degrees = float(tag)
        except ValueError:
            degrees = None
    if degrees is None:
        side = getattr(stream, "side_data", None)
        display = None
        if side is not None:
            try:
                display = side.get("DISPLAYMATRIX") if hasattr(side, "get") else None
            except (KeyError, TypeError):
                display = None
        if display is not None:
            # FFmpeg reports the display matrix angle counter-clockwise.
            degrees = -float(display)
    if degrees is None:
        return 0
    return int(round(degrees / 90.0)) % 4 * 90


def probe_video(path: Path) -> MediaInfo:
    """MediaInfo of a video file; raises MediaError naming the file when it cannot be read."""
    check_readable(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaError(str(path), "no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            stream_rates = (rate, stream.base_rate)
            fps = float(rate) if rate else 0.0
            # The container's duration is what players show (audio may outlast the video).
            if container.duration is not None:
                duration_s = container.duration / av.time_base
            elif stream.duration is not None and stream.time_base is not None:
                duration_s = float(stream.duration * stream.time_base)
            else:
                duration_s = 0.0
            width = stream.codec_context.width
            height = stream.codec_context.height
            rotation = stream_rotation_deg(stream)
            if width <= 0 or height <= 0:
                raise MediaError(str(path), "video stream has no frame size")
    except MediaError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(str(path), f"cannot be decoded as media ({_one_line(exc)})") from exc
    if rotation in (90, 270):
        width, height = height, width
    return MediaInfo(
        path=str(path),
        duration_s=duration_s,
        fps=fps,
        width=width,
        height=height,
        rotation_deg=rotation,
        is_image=False,
        frame_rate=regular_frame_rate(stream_rates[0], stream_rates[1]),
    )


def regular_frame_rate(average_rate: Fraction | None, base_rate: Fraction | None) -> Fraction | None:
    """The average rate when the stream's frames lie on its grid, else None.

    ``base_rate`` is FFmpeg's ``r_frame_rate``, the lowest rate on whose grid every
    timestamp falls. Constant-rate media have it equal to the average (or twice it, for
    interlaced fields). When they disagree the frames come at varying intervals (a phone's
    variable rate, dropped frames, a pause: frames at 0 s, 1 s and 1,000,000 s average
    3/1000001 fps), and a time code counting average frames would misplace them.
    """
    if not average_rate or average_rate <= 0:
        return None
    rate = Fraction(average_rate)
    if not base_rate or base_rate <= 0:
        return rate
    base = Fraction(base_rate)
    if any(abs(base - rate * k) <= rate * k * _SAME_RATE_TOLERANCE for k in (1, 2)):
        return rate
    return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
