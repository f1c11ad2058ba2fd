from __future__ import annotations

import numpy as np

from vidiplug.engine.base import Box, Detection
from vidiplug.engine.dlib import DlibEngine
from vidiplug.media import UHD_PIXELS, Frame
from vidiplug.pipeline.resolution import frame_pixel_budget, min_source_side_px, to_source_box


def test_default_dlib_engine_holds_frames_at_4k_uhd(dlib_engine: DlibEngine) -> None:
    assert frame_pixel_budget(dlib_engine) == UHD_PIXELS


def test_budget_keeps_twice_a_fine_detectors_resolution() -> None:
    fine = DlibEngine(detect_size_px=2560)

    assert frame_pixel_budget(fine) == 4 * 2560 * 2560


def test_boxes_in_a_scaled_frame_map_back_to_source_pixels() -> None:
    frame = Frame(0, 0.0, np.zeros((225, 400, 3), np.uint8), source_size=(1600, 900))
    det = Detection(Box(100, 50, 120, 70), np.zeros((5, 2), np.float32), 0.9)

    assert to_source_box(det.box, frame) == Box(400, 200, 480, 280)
    assert min_source_side_px(det, frame) == 80
