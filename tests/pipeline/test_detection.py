"""The grey picture is an optional engine capability: only an engine that detects on grey is handed one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.base import Box, Detection, EngineInfo, LumaDetector
from vidiplug.engine.dlib import RULES
from vidiplug.media import UHD_PIXELS, Frame
from vidiplug.pipeline.detection import frame_detector, luma_size_of
from vidiplug.pipeline.resolution import frame_pixel_budget

FACE = Detection(Box(1, 1, 5, 5), np.zeros((5, 2), np.float32), 0.9)


class ColourEngine:
    """Detects on colour only: its detect takes the image and nothing else."""

    info = EngineInfo("colour", "test", "0", 4, RULES)
    providers = ("test",)

    def __init__(self) -> None:
        self.calls: list[tuple[int, ...]] = []

    def detect(self, image: NDArray[np.uint8]) -> list[Detection]:
        self.calls.append(image.shape)
        return [FACE]

    def embed(self, image: NDArray[np.uint8], found: Sequence[Detection]) -> NDArray[np.float32]:
        return np.zeros((len(found), 4), np.float32)


class GreyEngine(ColourEngine):
    """Detects on a grey picture of half the frame's size."""

    def luma_size(self, width: int, height: int) -> tuple[int, int] | None:
        return width // 2, height // 2

    def detect(self, image: NDArray[np.uint8], luma: NDArray[np.uint8] | None = None) -> list[Detection]:
        self.calls.append(image.shape if luma is None else luma.shape)
        return [FACE]


def _frame() -> Frame:
    return Frame(0, 0.0, np.zeros((8, 10, 3), np.uint8), luma=np.zeros((4, 5), np.uint8))


def test_a_colour_engine_is_not_asked_for_a_grey_picture() -> None:
    engine = ColourEngine()

    found = frame_detector(engine)(_frame())

    assert not isinstance(engine, LumaDetector)
    assert luma_size_of(engine) is None
    assert found == [FACE] and engine.calls == [(8, 10, 3)]


def test_a_grey_engine_gets_the_decoders_grey_picture() -> None:
    engine = GreyEngine()

    found = frame_detector(engine)(_frame())

    size = luma_size_of(engine)
    assert size is not None and size(10, 8) == (5, 4)
    assert found == [FACE] and engine.calls == [(4, 5)]


def test_a_colour_engine_holds_frames_at_4k_uhd() -> None:
    assert frame_pixel_budget(ColourEngine()) == UHD_PIXELS
