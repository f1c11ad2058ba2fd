"""Detection on sampled frames: hand an engine that detects on grey (LumaDetector) the decoder's grey picture.

Imports engine and media types only.
"""

from __future__ import annotations

from collections.abc import Callable

from vidiplug.engine.base import Detection, Engine, LumaDetector
from vidiplug.media import Frame, LumaSize


def luma_size_of(engine: Engine) -> LumaSize | None:
    """The size of grey picture ``engine`` detects on, as the decoder asks for it; None for a colour detector."""
    return engine.luma_size if isinstance(engine, LumaDetector) else None


def frame_detector(engine: Engine) -> Callable[[Frame], list[Detection]]:
    """A function giving ``engine``'s faces in a frame's image, boxes in that image's pixels.

    An engine that detects on grey also gets the frame's ``luma`` (made by the decoder,
    far more cheaply than converting the RGB image); any other engine gets the image only.
    """
    if isinstance(engine, LumaDetector):
        grey: LumaDetector = engine
        return lambda frame: grey.detect(frame.image, frame.luma)
    return lambda frame: engine.detect(frame.image)
