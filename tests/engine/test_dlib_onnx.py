"""dlib's face ResNet converted to ONNX: the same vectors as dlib's own, from its own model file."""

from __future__ import annotations

from pathlib import Path

import dlib
import numpy as np
import onnxruntime as ort
import pytest

from vidiplug.engine.dlib import model_files
from vidiplug.engine.dlib_onnx import INPUT_NAME, convert_face_resnet, pack_chips
from vidiplug.errors import EngineError
from vidiplug.media import load_image

MODELS = model_files()
RESNET = MODELS["resnet"]


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    return ort.InferenceSession(convert_face_resnet(RESNET), providers=["CPUExecutionProvider"])


def _chips(path: Path) -> list[np.ndarray]:
    image = load_image(path)
    shapes = dlib.shape_predictor(str(MODELS["shape"]))
    return [np.asarray(dlib.get_face_chip(image, shapes(image, rect), 150, 0.25))
            for rect in dlib.get_frontal_face_detector()(image, 1)]


def test_converted_network_reproduces_dlibs_descriptors(session: ort.InferenceSession, data_dir: Path) -> None:
    chips = _chips(data_dir / "face_recognition/examples/two_people.jpg") + \
        _chips(data_dir / "face_recognition/examples/biden.jpg")
    net = dlib.face_recognition_model_v1(str(RESNET))
    expected = np.stack([np.asarray(net.compute_face_descriptor(chip), np.float32) for chip in chips])

    got = session.run(None, {INPUT_NAME: pack_chips(chips)})[0]

    assert len(chips) == 3 and got.shape == (3, 128)
    assert np.abs(got - expected).max() < 1e-4
    # ... and they still tell people apart: two different faces are far apart.
    assert np.linalg.norm(got[0] - got[1]) > 0.6


@pytest.mark.parametrize("cut", [0.5, 0.999])
def test_a_truncated_model_file_is_a_clear_error(tmp_path: Path, cut: float) -> None:
    data = RESNET.read_bytes()
    broken = tmp_path / "resnet.dat"
    broken.write_bytes(data[: int(len(data) * cut)])

    with pytest.raises(EngineError, match=r"ends early|bad"):
        convert_face_resnet(broken)


def test_another_dlib_network_is_refused(tmp_path: Path) -> None:
    other = MODELS["cnn"]  # dlib's MMOD face detector, not the ResNet

    with pytest.raises(EngineError, match="dlib"):
        convert_face_resnet(other)


def test_the_converted_graph_is_cached_and_a_damaged_cache_is_rebuilt(tmp_path: Path, data_dir: Path) -> None:
    from vidiplug.engine.dlib import DlibEngine
    from vidiplug.engine.dlib_onnx import cached_graph_path

    image = load_image(data_dir / "face_recognition/examples/obama_small.jpg")
    first = DlibEngine(concurrency=1, cache_dir=tmp_path)
    cached = cached_graph_path(tmp_path, first.info.version)
    assert cached.is_file() and cached.stat().st_size > 20_000_000
    expected = first.embed(image, first.detect(image))

    cached.write_bytes(b"not an onnx model")  # a damaged cache file
    second = DlibEngine(concurrency=1, cache_dir=tmp_path)

    assert np.allclose(second.embed(image, second.detect(image)), expected, atol=1e-6)
    assert cached.stat().st_size > 20_000_000  # converted again and rewritten
    third = DlibEngine(concurrency=1, cache_dir=tmp_path)  # from the cache
    assert np.allclose(third.embed(image, third.detect(image)), expected, atol=1e-6)
