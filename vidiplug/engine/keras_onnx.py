"""A small Keras 2 image classifier (an ``.hdf5`` file) as an ONNX graph: the same weights, run by ONNX Runtime.

Keras 3 cannot run a model without TensorFlow, JAX or PyTorch, none of which vidiplug
installs, so the file is read with h5py and its functional graph rebuilt node by node
from the layer configuration stored in it. Only the layers of mini-Xception style
networks are known: InputLayer, Conv2D, SeparableConv2D (a depthwise convolution, one
group per channel, then a pointwise one), BatchNormalization, Activation (linear, relu,
softmax), MaxPooling2D, Add and GlobalAveragePooling2D; any other layer is an
EngineError naming it. TensorFlow's "same" padding (the odd pixel goes at the end) is
reproduced with explicit pads from static shapes. Imports nothing above engine/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vidiplug.errors import EngineError

INPUT_NAME, OUTPUT_NAME = "faces", "scores"
OPSET = 13
IR_VERSION = 7  # old enough for every onnxruntime release vidiplug accepts

Shape = tuple[int, int, int]  # (channels, height, width) of one sample


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """TensorFlow's "same" padding along one axis: (output size, pad before, pad after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def _spatial(
    shape: Shape, kernel: tuple[int, int], stride: tuple[int, int], padding: str
) -> tuple[int, int, list[int]]:
    """Output height and width and ONNX pads [top, left, bottom, right] of a window op."""
    if padding == "valid":
        height = (shape[1] - kernel[0]) // stride[0] + 1
        width = (shape[2] - kernel[1]) // stride[1] + 1
        return height, width, [0, 0, 0, 0]
    if padding != "same":
        raise EngineError(f"Keras model: padding {padding!r} is not supported")
    height, top, bottom = same_pads(shape[1], kernel[0], stride[0])
    width, left, right = same_pads(shape[2], kernel[1], stride[1])
    return height, width, [top, left, bottom, right]


@dataclass
class _Graph:
    """ONNX nodes and weights built in forward order."""

    nodes: list[Any] = field(default_factory=list)
    weights: list[Any] = field(default_factory=list)
    counter: int = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def weight(self, prefix: str, array: NDArray[Any]) -> str:
        from onnx import numpy_helper

        name = self.name(prefix)
        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out


class _Converter:
    """Walks the functional graph in file order, keeping each layer's ONNX output and static shape."""

    def __init__(self, weights: Any) -> None:
        self.weights = weights
        self.g = _Graph()
        self.outputs: dict[str, tuple[str, Shape]] = {}

    def tensor(self, layer: str, suffix: str) -> NDArray[np.float32] | None:
        """The layer's weight whose name ends in ``suffix`` (``kernel:0``, ``gamma:0``...), or None."""
        found: list[NDArray[np.float32]] = []

        def visit(name: str, obj: Any) -> None:
            if name.endswith(suffix) and hasattr(obj, "shape"):
                found.append(np.asarray(obj, dtype=np.float32))

        if layer in self.weights:
            self.weights[layer].visititems(visit)
        return found[0] if found else None

    def need(self, layer: str, suffix: str) -> NDArray[np.float32]:
        array = self.tensor(layer, suffix)
        if array is None:
            raise EngineError(f"Keras model: layer {layer!r} has no {suffix.split(':')[0]} weights")
        return array

    def add(self, kind: str, name: str, config: dict[str, Any], inputs: list[tuple[str, Shape]]) -> tuple[str, Shape]:
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            raise EngineError(f"Keras model: layer type {kind} ({name}) is not supported")
        result: tuple[str, Shape] = handler(name, config, inputs)
        return result

    def _activation(self, x: str, shape: Shape | tuple[int, ...], activation: str) -> str:
        if activation == "linear":
            return x
        if activation == "relu":
            return self.g.node("Relu", [x])
        if activation == "softmax":
            return self.g.node("Softmax", [x], axis=-1 if len(shape) == 1 else 1)
        raise EngineError(f"Keras model: activation {activation!r} is not supported")

    def _Conv2D(self, name: str, config: dict[str, Any], inputs: list[tuple[str, Shape]]) -> tuple[str, Shape]:
        (x, shape), = inputs
        kernel = self.need(name, "kernel:0")  # (kh, kw, in, out)
        kh, kw, _, out = kernel.shape
        stride = tuple(config.get("strides", (1, 1)))
        height, width, pads = _spatial(shape, (kh, kw), (stride[0], stride[1]), config.get("padding", "valid"))
        args = [x, self.g.weight(f"{name}_w", kernel.transpose(3, 2, 0, 1))]
        if config.get("use_bias", True):
            args.append(self.g.weight(f"{name}_b", self.need(name, "bias:0")))
        y = self.g.node("Conv", args, kernel_shape=[kh, kw], strides=list(stride), pads=pads)
        return self._activation(y, (out,), config.get("activation", "linear")), (out, height, width)

    def _SeparableConv2D(self, name: str, config: dict[str, Any], inputs: list[tuple[str, Shape]]) -> tuple[str, Shape]:
        (x, shape), = inputs
        depthwise = self.need(name, "depthwise_kernel:0")  # (kh, kw, in, multiplier)
        pointwise = self.need(name, "pointwise_kernel:0")  # (1, 1, in * multiplier, out)
        kh, kw, channels, multiplier = depthwise.shape
        stride = tuple(config.get("strides", (1, 1)))
        height, width, pads = _spatial(shape, (kh, kw), (stride[0], stride[1]), config.get("padding", "valid"))
        dw = depthwise.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
        y = self.g.node("Conv", [x, self.g.weight(f"{name}_dw", dw)], kernel_shape=[kh, kw],
                        strides=list(stride), pads=pads, group=channels)
        out = pointwise.shape[3]
        args = [y, self.g.weight(f"{name}_pw", pointwise.transpose(3, 2, 0, 1))]
        if config.get("use_bias", True):
            args.append(self.g.weight(f"{name}_b", self.need(name, "bias:0")))
        z = self.g.node("Conv", args, kernel_shape=[1, 1])
        return self._activation(z, (out,), config.get("activation", "linear")), (out, height, width)

    def _BatchNormalization(self, name: str, config: dict[str, Any],
                            inputs: list[tuple[str, Shape]]) -> tuple[str, Shape]:
        (x, shape), = inputs
        if config.get("axis", -1) not in (-1, 3):
            raise EngineError(f"Keras model: {name} normalises axis {config.get('axis')}, not the channels")
        channels = shape[0]
        gamma = self.tensor(name, "gamma:0")
        beta = self.tensor(name, "beta:0")
        args = [
            x,
            self.g.weight(f"{name}_gamma", gamma if gamma is not None else np.ones(channels, np.float32)),
            self.g.weight(f"{name}_beta", beta if beta is not None else np.zeros(channels, np.float32)),
            self.g.weight(f"{name}_mean", self.need(name, "moving_mean:0")),
            self.g.weight(f"{name}_var", self.need(name, "moving_variance:0")),
        ]
        return self.g.node("BatchNormalization", args, epsilon=float(config.get("epsilon", 1e-3))), shape

    def _Activation(self, name: str, config: dict[str, Any], inputs: list[tuple[str, Shape]]) -> tuple[str, Shape]:
        (x, shape), = inputs
        return self._activation(x, shape, config["activation"]), shape

    def _MaxPooling2D(self, name: str, config: dict[str, Any], inputs: list[tuple[str, Shape]]) -> tuple[str, Shape]:
        (x, shape), = inputs
        pool = tuple(config.get("pool_size", (2, 2)))
        stride = tuple(config.get("strides") or pool)
        height, width, pads = _spatial(shape, (pool[0], pool[1]), (stride[0], stride[1]),
                                       config.get("padding", "valid"))
        y = self.g.node("MaxPool", [x], kernel_shape=list(pool), strides=list(stride), pads=pads)
        return y, (shape[0], height, width)

    def _Add(self, name: str, config: dict[str, Any], inputs: list[tuple[str, Shape]]) -> tuple[str, Shape]:
        shapes = {shape for _, shape in inputs}
        if len(shapes) != 1:
            raise EngineError(f"Keras model: {name} adds tensors of shapes {sorted(shapes)}")
        y = inputs[0][0]
        for other, _ in inputs[1:]:
            y = self.g.node("Add", [y, other])
        return y, inputs[0][1]

    def _GlobalAveragePooling2D(self, name: str, config: dict[str, Any],
                                inputs: list[tuple[str, Shape]]) -> tuple[str, Shape]:
        (x, shape), = inputs
        pooled = self.g.node("GlobalAveragePool", [x])
        # A flat (channels,) shape: the width and height are gone.
        return self.g.node("Flatten", [pooled], axis=1), (shape[0], 0, 0)


def _flat(shape: Shape) -> bool:
    return shape[1] == 0 and shape[2] == 0


def convert_keras_classifier(model_path: Path, graph_name: str) -> bytes:
    """The serialized ONNX model of the Keras 2 classifier in ``model_path`` (an hdf5 file).

    The graph takes ``faces`` (N, C, H, W) float32 (channels first, already scaled as the
    model was trained) and returns ``scores`` (N, classes) as the model's last layer
    computes them. Raises EngineError when the file is not such a network.
    """
    import h5py
    from onnx import TensorProto, checker, helper

    try:
        with h5py.File(model_path, "r") as handle:
            config = json.loads(handle.attrs["model_config"])
            return _convert(config, handle["model_weights"], graph_name, helper, checker, TensorProto)
    except (OSError, KeyError, ValueError) as exc:
        raise EngineError(f"{model_path}: not a Keras model file ({exc})") from exc


def _convert(config: dict[str, Any], weights: Any, graph_name: str, helper: Any, checker: Any,
             tensor_proto: Any) -> bytes:
    converter = _Converter(weights)
    layers = config["config"]["layers"]
    input_shape: Shape | None = None
    for layer in layers:
        kind, settings = layer["class_name"], layer["config"]
        name = settings.get("name", layer.get("name"))
        if kind == "InputLayer":
            _, height, width, channels = settings["batch_input_shape"]
            input_shape = (int(channels), int(height), int(width))
            converter.outputs[name] = (INPUT_NAME, input_shape)
            continue
        sources = [inbound[0] for inbound in layer["inbound_nodes"][0]]
        converter.outputs[name] = converter.add(kind, name, settings, [converter.outputs[s] for s in sources])
    last_name = config["config"]["output_layers"][0][0]
    output, shape = converter.outputs[last_name]
    if input_shape is None or not _flat(shape):
        raise EngineError("Keras model: not an image classifier (no input layer, or the output is not flat)")
    graph = converter.g
    graph.nodes.append(helper.make_node("Identity", [output], [OUTPUT_NAME]))
    onnx_graph = helper.make_graph(
        graph.nodes, graph_name,
        [helper.make_tensor_value_info(INPUT_NAME, tensor_proto.FLOAT, ["n", *input_shape])],
        [helper.make_tensor_value_info(OUTPUT_NAME, tensor_proto.FLOAT, ["n", shape[0]])],
        graph.weights,
    )
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vidiplug")
    model.ir_version = IR_VERSION
    checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized
