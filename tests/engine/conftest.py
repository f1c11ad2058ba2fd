"""Tiny ONNX graphs with SCRFD's and ArcFace's signatures, built with onnx.helper, and a fake pack of them.

The fake SCRFD "sees a face" where a bright square exactly one stride-s cell wide sits on a
dark surround: per stride s its score is sigmoid(GAIN * (9/8 * (cell mean - 3x3-cell mean) - EDGE))
of the normalised grey input, so a square of side s aligned to the stride-s grid scores ~1
at that stride only (bigger squares have bright neighbours and score ~0). Box and landmark
distances are constants (in stride units), or, with ``echo``, the landmark distances are
the input's per-channel means, so a test can read back what the network was fed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

STRIDES = (8, 16, 32)
BOX_DIST = (1.0, 1.5, 2.0, 2.5)  # left, top, right, bottom distances from the anchor, in strides
KPS_DIST = np.array([[0.2, 0.3], [0.8, 0.3], [0.5, 0.6], [0.3, 0.9], [0.7, 0.9]], dtype=np.float32)
GAIN, EDGE = 20.0, 1.5
OPSET = 17

Builder = Callable[..., Path]


def _save(path: Path, nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto],
          inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto]) -> Path:
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def build_detector(path: Path, *, size: int | None = None, kps: bool = True, echo: bool = False,
                   box_dist: tuple[float, float, float, float] = BOX_DIST, kps_dist: np.ndarray = KPS_DIST) -> Path:
    """A fake SCRFD: input 'input.1' [1, 3, H, W] (dynamic unless ``size``), 9 outputs (6 without kps)."""
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def const(name: str, value: object, dtype: type = np.float32) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(op: str, ins: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, ins, [out], name=f"n{len(nodes)}_{out}", **attrs))
        return out

    const("k_gain", GAIN), const("k_edge", EDGE), const("k_ratio", 9.0 / 8.0), const("k_zero", 0.0)
    const("z4", np.zeros((1, 4))), const("z10", np.zeros((1, 10))), const("bvec", [box_dist])
    const("col", [-1, 1], np.int64)
    gray = node("ReduceMean", ["input.1"], "gray", axes=[1], keepdims=1)
    if echo:
        means = node("ReduceMean", ["input.1"], "chan_means", axes=[2, 3], keepdims=0)
        kvec = node("Concat", [means, const("z7", np.zeros((1, 7)))], "kvec", axis=1)
    else:
        kvec = const("kvec", np.asarray(kps_dist).reshape(1, 10))
    scores, boxes, points = [], [], []
    for s in STRIDES:
        cell = node("AveragePool", [gray], f"cell{s}", kernel_shape=[s, s], strides=[s, s])
        around = node("AveragePool", [gray], f"around{s}", kernel_shape=[3 * s, 3 * s], strides=[s, s],
                      pads=[s, s, s, s], count_include_pad=1)
        contrast = node("Mul", [node("Sub", [cell, around], f"d{s}"), "k_ratio"], f"c{s}")
        logit = node("Mul", [node("Sub", [contrast, "k_edge"], f"e{s}"), "k_gain"], f"l{s}")
        per_cell = node("Reshape", [node("Sigmoid", [logit], f"p{s}"), "col"], f"r{s}")
        two = node("Concat", [per_cell, per_cell], f"two{s}", axis=1)  # 2 anchors per location
        score = node("Reshape", [two, "col"], f"score_{s}")
        scores.append(score)
        boxes.append(node("Add", [node("Mul", [score, "z4"], f"mb{s}"), "bvec"], f"bbox_{s}"))
        points.append(node("Add", [node("Mul", [score, "z10"], f"mk{s}"), kvec], f"kps_{s}"))
    height: int | str = size if size else "height"
    width: int | str = size if size else "width"
    inputs = [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, height, width])]
    names = scores + boxes + (points if kps else [])
    widths = {"score": 1, "bbox": 4, "kps": 10}
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [f"n{n.split('_')[1]}", widths[n.split("_")[0]]])
               for n in names]
    return _save(path, nodes, inits, inputs, outputs)


def build_recogniser(path: Path, *, dim: int = 512, batch: int | str = "N", echo: bool = False, seed: int = 0) -> Path:
    """A fake ArcFace: input 'data' [batch, 3, 112, 112] -> 'fc1' [batch, dim].

    Plain: a fixed random projection of the 8x8-average-pooled crop (different crops give
    different vectors). ``echo``: [mean R, mean G, mean B, 1, 0, ...] of its input (batch 1).
    """
    if echo:
        nodes = [
            helper.make_node("ReduceMean", ["data"], ["chan_means"], name="means", axes=[2, 3], keepdims=0),
            helper.make_node("Concat", ["chan_means", "one", "rest"], ["fc1"], name="echo", axis=1),
        ]
        inits = [numpy_helper.from_array(np.ones((1, 1), np.float32), "one"),
                 numpy_helper.from_array(np.zeros((1, dim - 4), np.float32), "rest")]
        batch = 1
    else:
        weights = np.random.default_rng(seed).standard_normal((3 * 14 * 14, dim)).astype(np.float32)
        nodes = [
            helper.make_node("AveragePool", ["data"], ["pooled"], name="pool", kernel_shape=[8, 8], strides=[8, 8]),
            helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1),
            helper.make_node("MatMul", ["flat", "proj"], ["fc1"], name="project"),
        ]
        inits = [numpy_helper.from_array(weights, "proj")]
    inputs = [helper.make_tensor_value_info("data", TensorProto.FLOAT, [batch, 3, 112, 112])]
    outputs = [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [batch, dim])]
    return _save(path, nodes, inits, inputs, outputs)


def build_square_input_model(path: Path, side: int) -> Path:
    """A one-input, one-output model on a side x side image (like 2d106det at 192, genderage at 96)."""
    nodes = [helper.make_node("GlobalAveragePool", ["data"], ["out"], name="gap")]
    inputs = [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, side, side])]
    outputs = [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 1, 1])]
    return _save(path, nodes, [], inputs, outputs)


@pytest.fixture
def make_detector() -> Builder:
    return build_detector


@pytest.fixture
def make_recogniser() -> Builder:
    return build_recogniser


@pytest.fixture
def make_square_model() -> Builder:
    return build_square_input_model


@pytest.fixture
def models_root(tmp_path: Path) -> Path:
    """A models root holding one usable pack "buffalo_l" laid out like the real one (plus extras)."""
    root = tmp_path / "models"
    pack = root / "buffalo_l"
    build_detector(pack / "det_10g.onnx")
    build_recogniser(pack / "w600k_r50.onnx")
    build_square_input_model(pack / "2d106det.onnx", 192)
    build_square_input_model(pack / "genderage.onnx", 96)
    return root


@pytest.fixture
def pack_dir(models_root: Path) -> Path:
    return models_root / "buffalo_l"
