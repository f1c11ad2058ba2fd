"""InsightFaceEngine on tiny stand-in graphs (see conftest.py): loading, pre-processing, decoding, padding."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from vidiplug.engine.align import ARCFACE_TEMPLATE, pad_for_detection
from vidiplug.engine.base import Detection
from vidiplug.engine.insightface import InsightFaceEngine
from vidiplug.engine.session import build_session
from vidiplug.errors import EngineError, ModelNotFound

Builder = Callable[..., Path]
BOX = (1.0, 1.5, 2.0, 2.5)  # distances left, top, right, bottom from the anchor, in strides
KPS = np.array([[0.2, 0.3], [0.8, 0.3], [0.5, 0.6], [0.3, 0.9], [0.7, 0.9]], dtype=np.float32)


def _expected(anchor: tuple[float, float], stride: int, scale: float,
              shift: float = 0.0) -> tuple[list[float], np.ndarray]:
    """SCRFD's decoding: box = anchor -/+ distance * stride, points = anchor + offset * stride; / scale - shift."""
    ax, ay = anchor
    left, top, right, bottom = BOX
    box = [ax - left * stride, ay - top * stride, ax + right * stride, ay + bottom * stride]
    return [v / scale - shift for v in box], (np.array(anchor) + KPS * stride) / scale - shift


def _box(det: Detection) -> list[float]:
    return [det.box.x1, det.box.y1, det.box.x2, det.box.y2]


def _face_at(x: float, y: float, scale: float = 1.0) -> Detection:
    from vidiplug.engine.base import Box

    points = (ARCFACE_TEMPLATE * scale + np.array([x, y], dtype=np.float32)).astype(np.float32)
    return Detection(Box(x, y, x + 112 * scale, y + 112 * scale), points, 0.9)


@pytest.fixture
def engine(pack_dir: Path) -> InsightFaceEngine:
    return InsightFaceEngine(pack_dir=pack_dir)


def test_engine_info_names_both_models_hashes_them_and_reads_the_dim(pack_dir: Path, engine: InsightFaceEngine) -> None:
    det, rec = pack_dir / "det_10g.onnx", pack_dir / "w600k_r50.onnx"

    info = engine.info

    assert (info.name, info.model, info.dim) == ("insightface", "det_10g.onnx+w600k_r50.onnx", 512)
    assert info.version == hashlib.sha256(det.read_bytes() + rec.read_bytes()).hexdigest()[:12]


def test_providers_are_those_the_sessions_run_on_and_are_logged(pack_dir: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="vidiplug.engine"):
        engine = InsightFaceEngine(pack_dir=pack_dir, providers=["CPUExecutionProvider"])

    assert engine.providers == ("CPUExecutionProvider",)
    ready = [r.getMessage() for r in caplog.records if "insightface engine ready" in r.getMessage()]
    assert len(ready) == 1 and "providers=CPUExecutionProvider" in ready[0]


def test_version_changes_when_a_model_file_changes(
    pack_dir: Path, engine: InsightFaceEngine, make_recogniser: Builder
) -> None:
    make_recogniser(pack_dir / "w600k_r50.onnx", seed=7)

    changed = InsightFaceEngine(pack_dir=pack_dir)

    assert changed.info.version != engine.info.version and changed.info.model == engine.info.model


def test_dim_is_the_recogniser_output_size(tmp_path: Path, make_detector: Builder, make_recogniser: Builder) -> None:
    det, rec = make_detector(tmp_path / "det.onnx"), make_recogniser(tmp_path / "rec128.onnx", dim=128)

    engine = InsightFaceEngine(detector_path=det, recogniser_path=rec)

    assert engine.info.dim == 128 and engine.info.model == "det.onnx+rec128.onnx"
    assert engine.embed(np.zeros((200, 200, 3), np.uint8), [_face_at(40, 40)]).shape == (1, 128)


def test_explicit_paths_must_be_a_detector_and_a_recogniser(pack_dir: Path) -> None:
    with pytest.raises(EngineError, match=r"w600k_r50.onnx: not an insightface detector"):
        InsightFaceEngine(detector_path=pack_dir / "w600k_r50.onnx", recogniser_path=pack_dir / "det_10g.onnx")


def test_a_missing_pack_folder_raises_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="nothing_here"):
        InsightFaceEngine(pack_dir=tmp_path / "nothing_here")


def test_a_pack_whose_detector_has_no_landmarks_is_refused(
    tmp_path: Path, make_detector: Builder, make_recogniser: Builder
) -> None:
    make_detector(tmp_path / "det.onnx", kps=False)
    make_recogniser(tmp_path / "rec.onnx")

    with pytest.raises(ModelNotFound, match="no SCRFD detector with landmarks"):
        InsightFaceEngine(pack_dir=tmp_path)


def test_bad_knobs_are_refused(pack_dir: Path) -> None:
    with pytest.raises(EngineError, match="multiples of 32"):
        InsightFaceEngine(pack_dir=pack_dir, det_size=(640, 500))
    with pytest.raises(EngineError, match="det_thresh"):
        InsightFaceEngine(pack_dir=pack_dir, det_thresh=1.5)


@pytest.mark.parametrize("input_size", [None, 640], ids=["dynamic-input", "fixed-640-input"])
def test_detect_decodes_anchors_into_original_frame_pixels(
    tmp_path: Path, make_detector: Builder, make_recogniser: Builder, input_size: int | None
) -> None:
    det = make_detector(tmp_path / "det.onnx", size=input_size, box_dist=BOX, kps_dist=KPS)
    engine = InsightFaceEngine(detector_path=det, recogniser_path=make_recogniser(tmp_path / "rec.onnx"))
    image = np.zeros((160, 320, 3), dtype=np.uint8)  # scaled x2 to 640x320, letterboxed into 640x640
    image[32:48, 64:80] = 255  # 32 px at detector scale: one stride-32 cell, anchor (128, 64)
    image[80:88, 200:208] = 255  # 16 px: one stride-16 cell, anchor (400, 160)

    found = sorted(engine.detect(image), key=lambda d: -d.box.width)

    assert len(found) == 2
    for det_, (anchor, stride) in zip(found, [((128.0, 64.0), 32), ((400.0, 160.0), 16)]):
        box, points = _expected(anchor, stride, scale=2.0)
        np.testing.assert_allclose(_box(det_), box, atol=1e-3)
        assert det_.landmarks.shape == (5, 2) and det_.landmarks.dtype == np.float32
        np.testing.assert_allclose(det_.landmarks, points, atol=1e-3)
        assert 0.99 < det_.score <= 1.0


def test_detection_threshold_decides_and_scores_pass_through(pack_dir: Path) -> None:
    image = np.zeros((640, 640, 3), dtype=np.uint8)
    image[320:352, 320:352] = 195  # a dim square: the fake scores it sigmoid(20 * (contrast - 1.5)) ~ 0.62
    contrast = (195 - 127.5) / 128 - (0 - 127.5) / 128
    expected = 1 / (1 + np.exp(-20 * (contrast - 1.5)))

    lenient = InsightFaceEngine(pack_dir=pack_dir, det_thresh=0.5, pad_max_px=0).detect(image)
    strict = InsightFaceEngine(pack_dir=pack_dir, det_thresh=0.7, pad_max_px=0).detect(image)

    assert len(lenient) == 1 and lenient[0].score == pytest.approx(expected, abs=1e-3)
    assert strict == []


def test_detector_is_fed_rgb_normalised_by_scrfd_mean_and_std(
    tmp_path: Path, make_detector: Builder, make_recogniser: Builder
) -> None:
    det = make_detector(tmp_path / "echo_det.onnx", echo=True)  # landmark offsets = the input's channel means
    rec = make_recogniser(tmp_path / "rec.onnx")
    engine = InsightFaceEngine(detector_path=det, recogniser_path=rec, detector_session=build_session(det))
    image = np.empty((640, 640, 3), dtype=np.uint8)
    image[...] = (60, 20, 0)
    image[320:352, 320:352] = 255
    means = ((image.astype(np.float64) - 127.5) / 128.0).mean(axis=(0, 1))  # R, G, B

    (face,) = engine.detect(image)

    fed = [(face.landmarks[0, 0] - 320) / 32, (face.landmarks[0, 1] - 320) / 32, (face.landmarks[1, 0] - 320) / 32]
    np.testing.assert_allclose(fed, means, atol=1e-4)


def test_recogniser_is_fed_the_aligned_crop_in_rgb_normalised_by_arcface_mean_and_std(
    tmp_path: Path, make_detector: Builder, make_recogniser: Builder
) -> None:
    rec = make_recogniser(tmp_path / "echo_rec.onnx", echo=True)  # [mean R, mean G, mean B, 1, 0...], batch 1
    engine = InsightFaceEngine(detector_path=make_detector(tmp_path / "det.onnx"), recogniser_path=rec,
                               recogniser_session=build_session(rec))
    image = np.empty((300, 300, 3), dtype=np.uint8)
    image[...] = (200, 100, 50)

    rows = engine.embed(image, [_face_at(20, 30), _face_at(150, 140, scale=1.2)])

    assert rows.shape == (2, 512)
    for row in rows:
        np.testing.assert_allclose(row[:3] / row[3], (np.array([200, 100, 50]) - 127.5) / 127.5, atol=1e-5)


def test_embed_gives_unit_rows_that_differ_between_faces(engine: InsightFaceEngine) -> None:
    image = np.random.default_rng(5).integers(0, 256, size=(320, 320, 3), dtype=np.uint8)
    faces = [_face_at(10, 10), _face_at(150, 160, scale=1.3)]

    rows = engine.embed(image, faces)

    assert rows.shape == (2, 512) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert float(rows[0] @ rows[1]) < 0.95
    np.testing.assert_allclose(engine.embed(image, faces[1:])[0], rows[1], atol=1e-5)


def test_embed_of_no_faces_is_an_empty_matrix(engine: InsightFaceEngine) -> None:
    assert engine.embed(np.zeros((50, 50, 3), np.uint8), []).shape == (0, 512)


def test_tight_crop_is_detected_on_a_padded_copy_and_mapped_back(pack_dir: Path) -> None:
    image = np.zeros((320, 320, 3), dtype=np.uint8)
    image[128:160, 128:160] = 255  # x2 at detector scale: 64 px, too big for the fake's one-cell "faces"
    assert InsightFaceEngine(pack_dir=pack_dir, pad_max_px=0).detect(image) == []
    engine = InsightFaceEngine(pack_dir=pack_dir, pad_ratio=0.5)

    found = engine.detect(image)

    # padded to 640x640 with the crop at (160, 160): the square is one stride-32 cell, anchor (288, 288)
    assert len(found) == 1
    box, points = _expected((288.0, 288.0), 32, scale=1.0, shift=160.0)
    np.testing.assert_allclose(_box(found[0]), box, atol=1e-3)
    np.testing.assert_allclose(found[0].landmarks, points, atol=1e-3)
    rows = engine.embed(image, found)  # a tight crop enrols
    assert rows.shape == (1, 512) and abs(float(np.linalg.norm(rows[0])) - 1.0) < 1e-5


def test_video_frames_are_not_retried_with_padding(engine: InsightFaceEngine) -> None:
    frame = np.zeros((360, 640, 3), dtype=np.uint8)  # 16:9: a frame, not a face crop
    frame[76:140, 320:384] = 255  # too big here; one stride-32 cell once padded and scaled by 1/2
    padded, _ = pad_for_detection(frame, 0.5)
    assert len(engine.detect(padded)) == 1

    found = engine.detect(frame)

    assert found == []


def test_a_one_pixel_sliver_finds_nothing_without_failing(engine: InsightFaceEngine) -> None:
    assert engine.detect(np.full((1, 900, 3), 255, dtype=np.uint8)) == []


def test_detect_refuses_images_that_are_not_rgb_uint8(engine: InsightFaceEngine) -> None:
    with pytest.raises(EngineError, match="RGB uint8"):
        engine.detect(np.zeros((64, 64), dtype=np.uint8))
