"""dlib's face ResNet as an ONNX graph: the same weights, run by ONNX Runtime.

dlib-bin's wheels have no BLAS, so its ResNet takes ~80 ms per face on one core (and
holds the GIL); ONNX Runtime runs the same network in ~6 ms, batches faces, releases
the GIL and uses CUDA where onnxruntime-gpu finds a GPU. The weights are read from the
``dlib_face_recognition_resnet_model_v1.dat`` that ships in ``face_recognition_models``,
following dlib's own ``deserialize`` code for exactly that network type (``anet_type`` of
dlib's ``face_recognition.cpp``); batch norm is folded into per-channel affine, as dlib
itself does when loading. The vectors equal dlib's to float precision (tested), so they
keep dlib's model name and version. Imports nothing above engine/.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vidiplug.engine.dlib_resnet import CHIP_PX
from vidiplug.errors import EngineError

log = logging.getLogger("vidiplug.engine")

INPUT_NAME, OUTPUT_NAME = "chips", "descriptors"
CONVERTER_REVISION = 1  # bump when the graph built from the same weights changes: cached graphs are then rebuilt
OPSET = 13
IR_VERSION = 7  # old enough for every onnxruntime release vidiplug accepts


class _Reader:
    """dlib's serialization primitives (dlib/serialize.h, dlib/cuda/tensor.h)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def _take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise EngineError(f"dlib model file ends early (at byte {self.pos})")
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def integer(self) -> int:
        # A control byte (low nibble: byte count, 0x80: negative), then little-endian bytes.
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8:
            raise EngineError(f"dlib model file: bad integer at byte {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def flag(self) -> bool:
        char = self._take(1)
        if char not in (b"0", b"1"):
            raise EngineError(f"dlib model file: bad boolean at byte {self.pos - 1}")
        return char == b"1"

    def real(self) -> float:
        # dlib's portable float: mantissa (int64) * 2 ** exponent (int16); 32000+ are inf/nan.
        mantissa, exponent = self.integer(), self.integer()
        if exponent >= 32000:
            return {32000: float("inf"), 32001: float("-inf")}.get(exponent, float("nan"))
        return float(np.ldexp(float(mantissa), exponent))

    def text(self) -> str:
        return self._take(self.integer()).decode("ascii", "replace")

    def tensor(self) -> NDArray[np.float32]:
        if self.integer() != 2:
            raise EngineError(f"dlib model file: unknown tensor version at byte {self.pos}")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        return np.frombuffer(self._take(4 * count), "<f4").reshape(shape).astype(np.float32)

    def alias(self) -> tuple[int, ...]:
        if self.integer() != 1:
            raise EngineError(f"dlib model file: unknown alias_tensor version at byte {self.pos}")
        return tuple(self.integer() for _ in range(4))

    def expect(self, *names: str) -> str:
        name = self.text()
        if name not in names:
            raise EngineError(f"dlib model file: found layer {name!r} where {' or '.join(names)} was expected")
        return name


# The network type, outermost layer first, as dlib's face_recognition.cpp declares it.
# ("layer", kind, args, sub) | ("tag", id, sub) | ("skip", id, sub) | ("input",)
Node = tuple[Any, ...]
_INPUT: Node = ("input",)


def _layer(kind: str, sub: Node, **args: int) -> Node:
    return ("layer", kind, args, sub)


def _block(n: int, stride: int, sub: Node) -> Node:
    inner = _layer("affine", _layer("con", sub, n=n, k=3, s=stride))
    return _layer("affine", _layer("con", _layer("relu", inner), n=n, k=3, s=1))


def _ares(n: int, sub: Node) -> Node:
    return _layer("relu", _layer("add_prev", _block(n, 1, ("tag", 1, sub)), tag=1))


def _ares_down(n: int, sub: Node) -> Node:
    down = ("skip", 1, ("tag", 2, _block(n, 2, ("tag", 1, sub))))
    return _layer("relu", _layer("add_prev", _layer("avg_pool", down, k=2, s=2), tag=2))


def face_resnet_v1() -> Node:
    """dlib_face_recognition_resnet_model_v1's anet_type (without its loss layer)."""
    net = _layer("max_pool", _layer("relu", _layer("affine", _layer("con", _INPUT, n=32, k=7, s=2))), k=3, s=2)
    for n in (32, 32, 32):
        net = _ares(n, net)
    net = _ares_down(64, net)
    for n in (64, 64, 64):
        net = _ares(n, net)
    net = _ares_down(128, net)
    for n in (128, 128):
        net = _ares(n, net)
    net = _ares_down(256, net)
    for n in (256, 256):
        net = _ares(n, net)
    net = _ares_down(256, net)
    return _layer("fc", _layer("avg_pool_all", net), n=128)


@dataclass
class _Graph:
    """ONNX nodes and weights built in forward order, with static shapes (C, H, W)."""

    nodes: list[Any] = field(default_factory=list)
    weights: list[Any] = field(default_factory=list)
    tags: dict[int, tuple[str, tuple[int, int, int]]] = field(default_factory=dict)
    counter: int = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def weight(self, prefix: str, array: NDArray[Any]) -> str:
        from onnx import numpy_helper

        name = self.name(prefix)
        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out


def _pool_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


class _Converter:
    def __init__(self, reader: _Reader) -> None:
        self.r = reader
        self.g = _Graph()

    def read(self, node: Node) -> tuple[str, tuple[int, int, int]]:
        """Read ``node`` (sub-network first, as dlib writes it) and emit its ONNX ops."""
        kind = node[0]
        if kind in ("tag", "skip"):
            if self.r.integer() != 1:
                raise EngineError(f"dlib model file: unknown {kind} layer version")
            value, shape = self.read(node[2])
            if kind == "tag":
                self.g.tags[node[1]] = (value, shape)
                return value, shape
            return self.g.tags[node[1]]  # skip: continue from the tagged output
        _, layer, args, sub = node
        version = self.r.integer()
        if sub[0] == "input":
            if version not in (2, 3):
                raise EngineError(f"dlib model file: unknown input layer version {version}")
            value, shape = self._input()
        else:
            if version not in (1, 2):
                raise EngineError(f"dlib model file: unknown layer version {version}")
            value, shape = self.read(sub)
        value, shape = getattr(self, "_" + layer)(value, shape, **args)
        for _ in range(3):  # setup called, gradient stale, output disabled
            self.r.flag()
        self.r.tensor()  # x_grad
        self.r.tensor()  # cached_output
        if sub[0] == "input":
            self.r.tensor()  # grad_final
            if version >= 3:
                self.r.integer()  # sample expansion factor
        elif version == 2:
            self.r.tensor()  # params_grad
        return value, shape

    def _input(self) -> tuple[str, tuple[int, int, int]]:
        self.r.expect("input_rgb_image_sized")
        means = np.array([self.r.real() for _ in range(3)], np.float32).reshape(1, 3, 1, 1)
        rows, cols = self.r.integer(), self.r.integer()
        if (rows, cols) != (CHIP_PX, CHIP_PX):
            raise EngineError(f"dlib model file: input is {rows}x{cols}, expected {CHIP_PX}x{CHIP_PX}")
        # dlib feeds (pixel - channel mean) / 256; the graph takes NHWC uint8-valued floats.
        chw = self.g.node("Transpose", [INPUT_NAME], perm=[0, 3, 1, 2])
        centred = self.g.node("Sub", [chw, self.g.weight("mean", means)])
        scaled = self.g.node("Mul", [centred, self.g.weight("scale", np.array(1.0 / 256.0, np.float32))])
        return scaled, (3, rows, cols)

    def _con(self, x: str, shape: tuple[int, int, int], *, n: int, k: int, s: int) -> tuple[str, tuple[int, int, int]]:
        name = self.r.expect("con_4", "con_5", "con_6")
        params = self.r.tensor().ravel()
        filters, rows, cols = self.r.integer(), self.r.integer(), self.r.integer()
        stride_y, stride_x, pad_y, pad_x = (self.r.integer() for _ in range(4))
        w_shape, b_shape = self.r.alias(), self.r.alias()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            self.r.real()
        use_bias = self.r.flag() if name in ("con_5", "con_6") else True
        if name == "con_6" and self.r.flag():
            raise EngineError("dlib model file: fused relu in a convolution is not supported")
        if (filters, rows, cols, stride_y, stride_x) != (n, k, k, s, s) or w_shape[1] != shape[0]:
            raise EngineError(f"dlib model file: convolution {filters}x{rows}x{cols}/{stride_y} where "
                              f"{n}x{k}x{k}/{s} was expected")
        w_size = int(np.prod(w_shape))
        inputs = [x, self.g.weight("w", params[:w_size].reshape(w_shape))]
        if use_bias:
            inputs.append(self.g.weight("b", params[w_size:w_size + int(np.prod(b_shape))]))
        out = self.g.node("Conv", inputs, kernel_shape=[k, k], strides=[s, s], pads=[pad_y, pad_x, pad_y, pad_x])
        return out, (n, _pool_size(shape[1], k, s, pad_y), _pool_size(shape[2], k, s, pad_x))

    def _affine(self, x: str, shape: tuple[int, int, int]) -> tuple[str, tuple[int, int, int]]:
        name = self.r.expect("bn_con2", "affine_", "affine_2")
        params = self.r.tensor().ravel()
        g_shape, b_shape = self.r.alias(), self.r.alias()
        size = int(np.prod(g_shape))
        gamma, beta = params[:size], params[size:size + int(np.prod(b_shape))]
        if name == "bn_con2":
            for _ in range(2):  # means, invstds of the last training batch
                self.r.tensor()
            running_means, running_variances = self.r.tensor().ravel(), self.r.tensor().ravel()
            self.r.integer()  # num_updates
            self.r.integer()  # running_stats_window_size
            for _ in range(4):
                self.r.real()
            eps = self.r.real()
            # As dlib's affine_(const bn_&): the inference-time form of batch norm.
            gamma = gamma / np.sqrt(running_variances + eps)
            beta = beta - gamma * running_means
        else:
            mode = self.r.integer()
            if mode != 0:  # CONV_MODE
                raise EngineError("dlib model file: a fully-connected affine layer where a convolutional one "
                                  "was expected")
            if name == "affine_2" and self.r.flag():
                return x, shape  # disabled
        channels = shape[0]
        scaled = self.g.node("Mul", [x, self.g.weight("gamma", gamma.reshape(1, channels, 1, 1).astype(np.float32))])
        bias = self.g.weight("beta", beta.reshape(1, channels, 1, 1).astype(np.float32))
        return self.g.node("Add", [scaled, bias]), shape

    def _relu(self, x: str, shape: tuple[int, int, int]) -> tuple[str, tuple[int, int, int]]:
        if self.r.expect("relu_", "relu_2") == "relu_2" and self.r.flag():
            return x, shape  # disabled
        return self.g.node("Relu", [x]), shape

    def _pool_header(self, version: str, k: int, s: int) -> None:
        self.r.expect(version)
        rows, cols, stride_y, stride_x, pad_y, pad_x = (self.r.integer() for _ in range(6))
        if (rows, cols, stride_y, stride_x, pad_y, pad_x) != (k, k, s, s, 0, 0):
            raise EngineError(f"dlib model file: pooling {rows}x{cols}/{stride_y} pad {pad_y} "
                              f"where {k}x{k}/{s} was expected")

    def _max_pool(self, x: str, shape: tuple[int, int, int], *, k: int, s: int) -> tuple[str, tuple[int, int, int]]:
        self._pool_header("max_pool_2", k, s)
        out = self.g.node("MaxPool", [x], kernel_shape=[k, k], strides=[s, s])
        return out, (shape[0], _pool_size(shape[1], k, s, 0), _pool_size(shape[2], k, s, 0))

    def _avg_pool(self, x: str, shape: tuple[int, int, int], *, k: int, s: int) -> tuple[str, tuple[int, int, int]]:
        self._pool_header("avg_pool_2", k, s)
        out = self.g.node("AveragePool", [x], kernel_shape=[k, k], strides=[s, s])
        return out, (shape[0], _pool_size(shape[1], k, s, 0), _pool_size(shape[2], k, s, 0))

    def _avg_pool_all(self, x: str, shape: tuple[int, int, int]) -> tuple[str, tuple[int, int, int]]:
        self._pool_header("avg_pool_2", 0, 1)
        return self.g.node("GlobalAveragePool", [x]), (shape[0], 1, 1)

    def _add_prev(self, x: str, shape: tuple[int, int, int], *, tag: int) -> tuple[str, tuple[int, int, int]]:
        self.r.expect("add_prev_")
        other, other_shape = self.g.tags[tag]
        # dlib adds tensors of different sizes as if the smaller were zero-padded at the end.
        target = tuple(max(a, b) for a, b in zip(shape, other_shape))
        left, right = self._pad_to(x, shape, target), self._pad_to(other, other_shape, target)
        return self.g.node("Add", [left, right]), target  # type: ignore[return-value]

    def _pad_to(self, x: str, shape: tuple[int, ...], target: tuple[int, ...]) -> str:
        if shape == target:
            return x
        ends = [0] + [t - s for s, t in zip(shape, target)]
        pads = np.array([0, 0, 0, 0, *ends], np.int64)
        return self.g.node("Pad", [x, self.g.weight("pads", pads)])

    def _fc(self, x: str, shape: tuple[int, int, int], *, n: int) -> tuple[str, tuple[int, int, int]]:
        name = self.r.expect("fc_2", "fc_3")
        outputs, inputs = self.r.integer(), self.r.integer()
        params = self.r.tensor().ravel()
        w_shape, _ = self.r.alias(), self.r.alias()
        bias_mode = self.r.integer()
        for _ in range(4):
            self.r.real()
        if name == "fc_3":
            self.r.flag()
        if outputs != n or inputs != shape[0] or bias_mode != 1:  # FC_NO_BIAS
            raise EngineError(f"dlib model file: fully-connected {inputs}->{outputs} (bias mode {bias_mode}) "
                              f"where {shape[0]}->{n} without bias was expected")
        flat = self.g.node("Flatten", [x], axis=1)
        weights = params[:int(np.prod(w_shape))].reshape(inputs, outputs)  # dlib: out = in x W
        return self.g.node("MatMul", [flat, self.g.weight("fc", weights)]), (n, 1, 1)


def convert_face_resnet(model_path: Path) -> bytes:
    """The serialized ONNX model of dlib's face ResNet in ``model_path``.

    The graph takes ``chips`` (N, 150, 150, 3) float32 RGB values 0-255 (dlib's aligned
    chips) and returns ``descriptors`` (N, 128), not normalised, as dlib computes them.
    Raises EngineError when the file is not that network.
    """
    from onnx import TensorProto, checker, helper

    reader = _Reader(model_path.read_bytes())
    if reader.integer() != 1:
        raise EngineError(f"{model_path}: not a dlib network file (unknown loss layer version)")
    if reader.expect("loss_metric_", "loss_metric_2") == "loss_metric_2":
        reader.real()  # margin
        reader.real()  # distance threshold
    converter = _Converter(reader)
    output, shape = converter.read(face_resnet_v1())
    if shape != (128, 1, 1):
        raise EngineError(f"{model_path}: network output is {shape}, expected 128 values")
    graph = converter.g
    graph.nodes.append(helper.make_node("Identity", [output], [OUTPUT_NAME]))
    onnx_graph = helper.make_graph(
        graph.nodes, "dlib_face_resnet_v1",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["n", CHIP_PX, CHIP_PX, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["n", 128])],
        graph.weights,
    )
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="vidiplug")
    model.ir_version = IR_VERSION
    checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized


def pack_chips(chips: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
    """Aligned 150x150 RGB chips as the graph's input batch."""
    batch = np.stack(chips).astype(np.float32)
    if batch.shape[1:] != (CHIP_PX, CHIP_PX, 3):
        raise EngineError(f"dlib engine: chips must be {CHIP_PX}x{CHIP_PX} RGB, got {batch.shape[1:]}")
    return batch



def cached_graph_path(cache_dir: Path, weights_version: str) -> Path:
    """Where the graph converted from weights of ``weights_version`` is kept in ``cache_dir``."""
    tag = weights_version.replace(":", "-")
    return cache_dir / f"dlib_face_resnet_v1-{tag}-r{CONVERTER_REVISION}.onnx"


def load_or_convert(model_path: Path, weights_version: str, cache_dir: Path | None) -> tuple[bytes, Path | None]:
    """The ONNX model of ``model_path``: from ``cache_dir`` when converted before, else converted now and cached.

    Returns the model and the cache file it came from (None when it was converted now).
    Converting costs ~1 s (mostly importing onnx); a cache that cannot be written is
    skipped with a debug message.
    """
    cached = cached_graph_path(cache_dir, weights_version) if cache_dir is not None else None
    if cached is not None and cached.is_file():
        try:
            return cached.read_bytes(), cached
        except OSError as exc:
            log.debug("cannot read the cached ResNet graph %s: %s", cached, exc)
    model = convert_face_resnet(model_path)
    if cached is not None:
        store_graph(cached, model)
    return model, None


def store_graph(path: Path, model: bytes) -> None:
    """Write ``model`` to ``path`` atomically (a reader never sees half a file); failures are only logged."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".partial", delete=False) as out:
            out.write(model)
        os.replace(out.name, path)
    except OSError as exc:
        log.debug("cannot cache the ResNet graph at %s: %s", path, exc)
