"""The resolution analysis holds frames at, and faces found in a scaled-down frame mapped back to the source.

Imports engine and media types only.
"""

from __future__ import annotations

from vidiplug.engine.base import Box, Detection, Engine
from vidiplug.media import UHD_PIXELS, Frame
from vidiplug.media.pixels import MAX_SOURCE_PIXELS
from vidiplug.pipeline.detection import luma_size_of

_LARGEST_SIDE_PX = int(MAX_SOURCE_PIXELS**0.5)


def frame_pixel_budget(engine: Engine) -> int:
    """Most pixels a sampled frame is held at during analysis: 4K UHD (8.3 MP), or more for a fine detector.

    Detection never looks at more than its detection size: the engine scales any larger
    picture down to it (dlib's ``luma_size``: 1280 px on the long side by default;
    insightface's SCRFD works at 640). Embedding, though, crops faces from the held
    frame, so the frame keeps at least twice the detector's resolution: a face the
    detector can just find (~80 px at detection size for HOG) is then at least 160 px
    tall, more than the 150 px chip dlib's ResNet embeds (insightface: 112 px). A
    square budget of side 2 x detection side covers every aspect ratio, hence
    ``4 * side**2`` when that exceeds UHD. Media up to 4K is never scaled, so analysis
    of ordinary media is unchanged; a 16000 x 16000 frame is held at 2880 x 2880.
    """
    luma_size = luma_size_of(engine)
    detect = luma_size(_LARGEST_SIDE_PX, _LARGEST_SIDE_PX) if luma_size is not None else None
    detect_side_px = max(detect) if detect is not None else 0
    return max(UHD_PIXELS, 4 * detect_side_px * detect_side_px)


def to_source_box(box: Box, frame: Frame) -> Box:
    """``box``, in pixels of ``frame.image``, in pixels of the picture as the file shows it."""
    scale_x, scale_y = frame.scale
    if scale_x == 1.0 and scale_y == 1.0:
        return box
    return Box(box.x1 / scale_x, box.y1 / scale_y, box.x2 / scale_x, box.y2 / scale_y)


def min_source_side_px(det: Detection, frame: Frame) -> float:
    """The shorter side of ``det``'s box in source pixels (what ``min_face_px`` is compared with)."""
    box = to_source_box(det.box, frame)
    return min(box.width, box.height)
