from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidiplug.engine.dlib import RULES as DLIB_RULES
from vidiplug.engine.dlib import DlibEngine
from vidiplug.errors import EngineError
from vidiplug.media import load_image
from vidiplug.media.frames import sample_frames
from vidiplug.pipeline.enroll import face_for_enrolment

FLOOR = DLIB_RULES.floor  # the cosine a named match needs at least


def _embedding(engine: DlibEngine, path: Path) -> np.ndarray:
    return face_for_enrolment(load_image(path), engine).embedding


def test_engine_info_is_stamped(dlib_engine: DlibEngine) -> None:
    info = dlib_engine.info

    assert (info.name, info.dim) == ("dlib", 128)
    assert len(info.version) == 12 and "hog" in info.model


def test_detects_one_face_with_box_and_landmarks(dlib_engine: DlibEngine, data_dir: Path) -> None:
    image = load_image(data_dir / "face_recognition/examples/obama.jpg")

    found = dlib_engine.detect(image)

    assert len(found) == 1
    face = found[0]
    assert 250 < face.box.width < 500 and 0.5 < face.score <= 1.0
    assert face.landmarks.shape == (5, 2) and face.landmarks.dtype == np.float32
    left_eye, right_eye = face.landmarks[0], face.landmarks[1]
    assert left_eye[0] < right_eye[0]
    assert face.box.x1 < left_eye[0] < face.box.x2 and face.box.y1 < left_eye[1] < face.box.y2


def test_embeddings_are_unit_vectors(dlib_engine: DlibEngine, data_dir: Path) -> None:
    image = load_image(data_dir / "face_recognition/examples/knn_examples/test/kit_with_rose.jpg")

    vectors = dlib_engine.embed(image, dlib_engine.detect(image))

    assert vectors.shape == (2, 128)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("clip_name", [
    "liveportrait/assets/examples/source/s29.mp4",  # scaled down to the detection size
    "liveportrait/assets/examples/source/s13.mp4",  # scaled up
])
def test_decoder_made_luma_finds_the_same_faces_as_the_rgb_picture(
    dlib_engine: DlibEngine, data_dir: Path, clip_name: str
) -> None:
    frames = list(sample_frames(data_dir / clip_name, 1.0, luma_size=dlib_engine.luma_size))

    for frame in frames:
        assert frame.luma is not None
        height, width = frame.image.shape[:2]
        assert frame.luma.shape[::-1] == dlib_engine.luma_size(width, height)
        from_luma = dlib_engine.detect(frame.image, frame.luma)
        from_rgb = dlib_engine.detect(frame.image)
        assert len(from_luma) == len(from_rgb) == 1
        assert from_luma[0].box.iou(from_rgb[0].box) > 0.8  # boxes in the RGB image's pixels either way


def test_luma_of_another_size_is_ignored(dlib_engine: DlibEngine, data_dir: Path) -> None:
    image = load_image(data_dir / "face_recognition/examples/obama.jpg")
    wrong = np.zeros((17, 23), dtype=np.uint8)  # would find nothing if it were used

    assert [d.box for d in dlib_engine.detect(image, wrong)] == [d.box for d in dlib_engine.detect(image)]


def test_luma_size_keeps_the_long_side_at_the_detection_size(dlib_engine: DlibEngine) -> None:
    assert dlib_engine.luma_size(1920, 1080) == (1280, 720)
    assert dlib_engine.luma_size(720, 1364) == (676, 1280)
    assert dlib_engine.luma_size(320, 240) == (640, 480)  # small pictures are upsampled at most 2x


def test_two_photos_of_the_same_person_match(dlib_engine: DlibEngine, data_dir: Path) -> None:
    a = _embedding(dlib_engine, data_dir / "face_recognition/examples/obama.jpg")
    b = _embedding(dlib_engine, data_dir / "face_recognition/examples/obama2.jpg")

    assert float(a @ b) >= FLOOR


@pytest.mark.parametrize(
    "first, second",
    [
        ("face_recognition/examples/obama.jpg", "face_recognition/examples/biden.jpg"),
        ("face_recognition/examples/lin-manuel-miranda.png", "face_recognition/examples/alex-lacamoire.png"),
        ("dlib/examples/johns/John_Salley/000179_02159509.jpg", "dlib/examples/johns/John_Savage/000264_01099001.jpg"),
    ],
)
def test_two_different_people_are_separated(dlib_engine: DlibEngine, data_dir: Path, first: str, second: str) -> None:
    a = _embedding(dlib_engine, data_dir / first)
    b = _embedding(dlib_engine, data_dir / second)

    assert float(a @ b) < FLOOR


def test_tight_face_crop_can_be_enrolled(dlib_engine: DlibEngine, data_dir: Path) -> None:
    image = load_image(data_dir / "face_recognition/examples/obama.jpg")
    box = dlib_engine.detect(image)[0].box
    crop = np.ascontiguousarray(image[int(box.y1) : int(box.y2), int(box.x1) : int(box.x2)])
    reference = _embedding(dlib_engine, data_dir / "face_recognition/examples/obama2.jpg")

    face = face_for_enrolment(crop, dlib_engine)

    assert float(face.embedding @ reference) >= FLOOR


def test_parallel_detection_gives_the_same_boxes(dlib_engine: DlibEngine, data_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    image = load_image(data_dir / "face_recognition/examples/knn_examples/test/obama_and_biden.jpg")
    expected = [d.box for d in dlib_engine.detect(image)]

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: [d.box for d in dlib_engine.detect(image)], range(6)))

    assert all(r == expected for r in results)


def test_small_tight_crop_is_enrolled_by_padding(dlib_engine: DlibEngine, data_dir: Path) -> None:
    # The unknown-face items vidiplug creates are tight crops; operators train on them.
    image = load_image(data_dir / "face_recognition/examples/obama_small.jpg")
    box = dlib_engine.detect(image)[0].box
    crop = np.ascontiguousarray(image[int(box.y1) + 16 : int(box.y2) - 8, int(box.x1) + 16 : int(box.x2) - 16])
    reference = _embedding(dlib_engine, data_dir / "face_recognition/examples/obama2.jpg")

    assert dlib_engine.detect(crop) == []
    face = face_for_enrolment(crop, dlib_engine)

    assert float(face.embedding @ reference) >= FLOOR


def test_onnx_worker_process_and_in_process_resnets_give_the_same_vectors(dlib_engine: DlibEngine,
                                                                           data_dir: Path) -> None:
    image = load_image(data_dir / "face_recognition/examples/knn_examples/test/kit_with_rose.jpg")
    found = dlib_engine.detect(image)
    in_process = DlibEngine(resnet="inline", concurrency=1)
    child = DlibEngine(resnet="process", concurrency=1)

    onnx = dlib_engine.embed(image, found)
    local = in_process.embed(image, found)
    remote = child.embed(image, found)
    child.close()

    assert len(found) == 2
    assert "CPUExecutionProvider" in dlib_engine.providers  # the default runs the ResNet in ONNX Runtime
    assert np.allclose(remote, local, atol=1e-6)
    assert np.allclose(onnx, local, atol=1e-5)


def test_closed_engine_still_embeds_in_process(data_dir: Path) -> None:
    engine = DlibEngine(concurrency=1, resnet="process")
    image = load_image(data_dir / "face_recognition/examples/obama_small.jpg")
    engine.close()

    vectors = engine.embed(image, engine.detect(image))

    assert vectors.shape == (1, 128)


def test_asking_for_an_onnx_provider_that_is_missing_is_an_error_not_a_silent_fallback() -> None:
    with pytest.raises(EngineError, match=r"NoSuchExecutionProvider.*not available"):
        DlibEngine(concurrency=1, providers=["NoSuchExecutionProvider"])
