"""Convert a TensorFlow.js graph model (``model.json`` + weight shards) to ONNX, at install time.

Only the operators that @vladmandic/human's CenterNet, BlazeFace and emotion models use are
supported; anything else raises :class:`UnsupportedGraph` naming the operator, so a changed model
fails the install instead of converting wrongly. Tensors stay NHWC as in TensorFlow: each
convolution and pooling is wrapped in NHWC↔NCHW transposes, which onnxruntime's optimizer folds
away at load time.

Needs the ``onnx`` package (the ``models`` extra), which nothing imports at run time."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 18
IR_VERSION = 9


class UnsupportedGraph(ValueError):
    """The graph uses something this converter does not know."""


@dataclass
class TfjsGraph:
    nodes: dict[str, dict[str, Any]]
    weights: dict[str, np.ndarray]

    @classmethod
    def load(cls, model_json: Path) -> TfjsGraph:
        spec = json.loads(model_json.read_text(encoding="utf-8"))
        nodes = {node["name"]: node for node in spec["modelTopology"]["node"]}
        return cls(nodes, _read_weights(spec["weightsManifest"], model_json.parent))

    def outputs(self) -> list[str]:
        """Nodes nothing consumes (the model's outputs), in file order."""
        consumed = {
            _node_name(name) for node in self.nodes.values() for name in node.get("input", [])
        }
        return [
            name
            for name, node in self.nodes.items()
            if name not in consumed and node["op"] != "Const"
        ]

    def needed_in_order(self, outputs: Iterable[str]) -> list[str]:
        """The nodes the outputs depend on, each after its inputs (iterative depth-first)."""
        seen: set[str] = set()
        order: list[str] = []
        stack = [(name, False) for name in outputs]
        while stack:
            name, expanded = stack.pop()
            name = _node_name(name)
            if expanded:
                order.append(name)
                continue
            if name in seen:
                continue
            if name not in self.nodes:
                raise UnsupportedGraph(f"unknown node {name!r}")
            seen.add(name)
            stack.append((name, True))
            stack.extend((child, False) for child in self.nodes[name].get("input", []))
        return order


def _node_name(reference: str) -> str:
    return reference.split(":")[0].lstrip("^")


def _read_weights(manifest: list[dict[str, Any]], folder: Path) -> dict[str, np.ndarray]:
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        buffer = b"".join((folder / path).read_bytes() for path in group["paths"])
        offset = 0
        for weight in group["weights"]:
            shape = [int(size) for size in weight["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quantization = weight.get("quantization")
            if quantization and quantization["dtype"] == "float16":
                array = np.frombuffer(buffer, np.float16, count, offset).astype(np.float32)
                offset += 2 * count
            elif quantization and quantization["dtype"] == "uint8":
                raw = np.frombuffer(buffer, np.uint8, count, offset).astype(np.float32)
                array = raw * quantization["scale"] + quantization["min"]
                offset += count
            elif quantization:
                raise UnsupportedGraph(f"weight quantization {quantization['dtype']!r}")
            else:
                dtype = {"float32": np.float32, "int32": np.int32}.get(weight["dtype"])
                if dtype is None:
                    raise UnsupportedGraph(f"weight dtype {weight['dtype']!r}")
                array = np.frombuffer(buffer, dtype, count, offset).copy()
                offset += array.nbytes
            weights[weight["name"]] = array.reshape(shape)
        if offset != len(buffer):
            raise UnsupportedGraph(f"weight shards hold {len(buffer)} bytes, manifest {offset}")
    return weights


def _attribute(node: dict[str, Any], key: str, default: Any = None) -> Any:
    value = node.get("attr", {}).get(key)
    if value is None:
        return default
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    if "list" in value:
        items = value["list"]
        if "s" in items:
            return [base64.b64decode(item).decode() for item in items["s"]]
        if "i" in items:
            return [int(item) for item in items["i"]]
        return []
    if "i" in value:
        return int(value["i"])
    if "b" in value:
        return value["b"]
    if "f" in value:
        return value["f"]
    return value


@dataclass
class _Builder:
    """Accumulates ONNX nodes and initializers for one graph."""

    graph: TfjsGraph
    nodes: list[Any] = field(default_factory=list)
    initializers: dict[str, Any] = field(default_factory=dict)
    _counter: int = 0

    def node(self, op: str, inputs: list[str], outputs: list[str], **attributes: Any) -> None:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, outputs, **attributes))

    def const(self, name: str, array: Any) -> str:
        from onnx import numpy_helper

        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(np.asarray(array), name)
        return name

    def weight(self, name: str) -> np.ndarray:
        try:
            return self.graph.weights[name]
        except KeyError:
            raise UnsupportedGraph(f"constant {name!r} has no weights") from None

    def temp(self, base: str) -> str:
        self._counter += 1
        return f"{base}__{self._counter}"

    def to_nchw(self, name: str) -> str:
        out = self.temp(name)
        self.node("Transpose", [name], [out], perm=[0, 3, 1, 2])
        return out

    def to_nhwc(self, name: str, out: str) -> None:
        self.node("Transpose", [name], [out], perm=[0, 2, 3, 1])

    def constant_inputs(self, inputs: list[str]) -> None:
        for name in inputs:
            if self.graph.nodes[name]["op"] == "Const":
                self.const(name, self.weight(name))

    def conv(
        self,
        node: dict[str, Any],
        x: str,
        kernel: str,
        bias: str | None,
        depthwise: bool,
        activations: list[str],
    ) -> None:
        weights = self.weight(kernel)  # TF: [kh, kw, in, out] or depthwise [kh, kw, in, mult]
        if depthwise:
            kh, kw, channels, multiplier = weights.shape
            onnx_weights = weights.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)
            group = channels
        else:
            onnx_weights = weights.transpose(3, 2, 0, 1)
            group = 1
        name = node["name"]
        strides = _attribute(node, "strides")
        dilations = _attribute(node, "dilations", [1, 1, 1, 1])
        inputs = [self.to_nchw(x), self.const(f"{name}/W", onnx_weights.astype(np.float32))]
        if bias is not None:
            inputs.append(self.const(f"{name}/B", self.weight(bias).astype(np.float32)))
        y = self.temp(name)
        self.node(
            "Conv",
            inputs,
            [y],
            strides=[strides[1], strides[2]],
            dilations=[dilations[1], dilations[2]],
            group=group,
            kernel_shape=list(onnx_weights.shape[2:]),
            auto_pad=_pad_mode(_attribute(node, "padding")),
        )
        for activation in activations:
            z = self.temp(name)
            self.activation(activation, y, z)
            y = z
        self.to_nhwc(y, name)

    def activation(self, op: str, x: str, out: str) -> None:
        if op == "Relu":
            self.node("Relu", [x], [out])
        elif op == "Relu6":
            low = self.const(f"{out}_lo", np.float32(0))
            high = self.const(f"{out}_hi", np.float32(6))
            self.node("Clip", [x, low, high], [out])
        else:
            raise UnsupportedGraph(f"fused activation {op!r}")


def _pad_mode(padding: str | None) -> str:
    if padding == "SAME":
        return "SAME_UPPER"
    if padding == "VALID":
        return "VALID"
    raise UnsupportedGraph(f"padding {padding!r}")


def _emit(builder: _Builder, name: str) -> None:
    node = builder.graph.nodes[name]
    op = node["op"]
    inputs = [_node_name(i) for i in node.get("input", []) if not i.startswith("^")]
    if op in ("Placeholder", "Const"):
        return
    if op in ("_FusedConv2D", "FusedDepthwiseConv2dNative"):
        fused = _attribute(node, "fused_ops")
        if not fused or fused[0] != "BiasAdd":
            raise UnsupportedGraph(f"fused ops {fused} in {name}")
        builder.conv(node, inputs[0], inputs[1], inputs[2], op != "_FusedConv2D", fused[1:])
    elif op in ("Conv2D", "DepthwiseConv2dNative"):
        builder.conv(node, inputs[0], inputs[1], None, op != "Conv2D", [])
    elif op in ("Mul", "Add", "AddV2", "Sub"):
        builder.constant_inputs(inputs)
        builder.node({"AddV2": "Add"}.get(op, op), inputs, [name])
    elif op == "MaxPool":
        size, strides = _attribute(node, "ksize"), _attribute(node, "strides")
        y = builder.temp(name)
        builder.node(
            "MaxPool",
            [builder.to_nchw(inputs[0])],
            [y],
            kernel_shape=[size[1], size[2]],
            strides=[strides[1], strides[2]],
            auto_pad=_pad_mode(_attribute(node, "padding")),
        )
        builder.to_nhwc(y, name)
    elif op in ("Pad", "PadV2"):
        pads = builder.weight(inputs[1]).astype(np.int64)
        onnx_pads = builder.const(f"{name}_pads", np.concatenate([pads[:, 0], pads[:, 1]]))
        builder.node("Pad", [inputs[0], onnx_pads], [name], mode="constant")
    elif op == "Reshape":
        shape = builder.const(
            f"{name}_shape", builder.weight(inputs[1]).astype(np.int64).reshape(-1)
        )
        builder.node("Reshape", [inputs[0], shape], [name])
    elif op == "Softmax":
        builder.node("Softmax", inputs, [name], axis=-1)
    elif op == "Relu6":
        builder.activation("Relu6", inputs[0], name)
    elif op in ("Relu", "Sigmoid", "Identity"):
        builder.constant_inputs(inputs)
        builder.node(op, inputs, [name])
    elif op == "Mean":
        axes = builder.const(f"{name}_axes", builder.weight(inputs[1]).astype(np.int64).reshape(-1))
        keep = int(bool(_attribute(node, "keep_dims", False)))
        builder.node("ReduceMean", [inputs[0], axes], [name], keepdims=keep)
    elif op == "ConcatV2":
        axis = int(builder.weight(inputs[-1]).reshape(-1)[0])
        builder.node("Concat", inputs[:-1], [name], axis=axis)
    elif op == "ResizeBilinear":
        _resize_bilinear(builder, node, inputs)
    else:
        raise UnsupportedGraph(f"operator {op} ({name})")


def _resize_bilinear(builder: _Builder, node: dict[str, Any], inputs: list[str]) -> None:
    """NHWC resize to a constant (height, width): sizes = [N, h, w, C] taken from the input."""
    name = node["name"]
    size = builder.weight(inputs[1]).astype(np.int64).reshape(-1)
    shape = builder.temp(name)
    builder.node("Shape", [inputs[0]], [shape])
    batch_and_channels = builder.temp(name)
    builder.node(
        "Gather",
        [shape, builder.const(f"{batch_and_channels}_i", np.array([0, 3], np.int64))],
        [batch_and_channels],
    )
    batch, channels = builder.temp(name), builder.temp(name)
    for out, start in ((batch, 0), (channels, 1)):
        builder.node(
            "Slice",
            [
                batch_and_channels,
                builder.const(f"{out}_s", np.array([start], np.int64)),
                builder.const(f"{out}_e", np.array([start + 1], np.int64)),
            ],
            [out],
        )
    sizes = builder.temp(name)
    builder.node("Concat", [batch, builder.const(f"{sizes}_hw", size), channels], [sizes], axis=0)
    if _attribute(node, "align_corners"):
        mode = "align_corners"
    elif _attribute(node, "half_pixel_centers"):
        mode = "half_pixel"
    else:
        mode = "asymmetric"
    builder.node(
        "Resize",
        [inputs[0], "", "", sizes],
        [name],
        mode="linear",
        coordinate_transformation_mode=mode,
    )


def convert(model_json: Path, outputs: list[str] | None = None) -> Any:
    """The ONNX model (an ``onnx.ModelProto``) for a tfjs graph model, cut at ``outputs``
    (default: the graph's own outputs, in file order)."""
    import onnx
    from onnx import TensorProto, helper

    graph = TfjsGraph.load(model_json)
    wanted = outputs or graph.outputs()
    order = graph.needed_in_order(wanted)
    builder = _Builder(graph)
    for name in order:
        _emit(builder, name)

    placeholders = [graph.nodes[name] for name in order if graph.nodes[name]["op"] == "Placeholder"]
    if len(placeholders) != 1:
        raise UnsupportedGraph(f"expected one input, found {len(placeholders)}")
    placeholder = placeholders[0]
    dims = [int(d["size"]) for d in placeholder["attr"]["shape"]["shape"]["dim"]]
    input_info = helper.make_tensor_value_info(
        placeholder["name"], TensorProto.FLOAT, [d if d > 0 else "N" for d in dims]
    )
    output_infos = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in wanted]
    onnx_graph = helper.make_graph(
        builder.nodes,
        model_json.stem,
        [input_info],
        output_infos,
        initializer=list(builder.initializers.values()),
    )
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model = onnx.shape_inference.infer_shapes(model)
    for output in model.graph.output:
        if not output.type.tensor_type.HasField("shape"):
            output.type.tensor_type.shape.SetInParent()
    onnx.checker.check_model(model)
    return model


def convert_file(model_json: Path, target: Path, outputs: list[str] | None = None) -> None:
    import onnx

    onnx.save(convert(model_json, outputs), str(target))
