"""Rebuild Kokoro's int8 ONNX graph as a float graph from the same weights, at install time.

Why: the packaged model is dynamically quantized (``ConvInteger``, ``MatMulInteger``,
``DynamicQuantizeLSTM``). onnxruntime's integer convolution is a slow path on CPUs without
AVX-512 VNNI / AVX-VNNI (profiled there: ``ConvInteger`` alone was 64 % of Kokoro's time), while
float ``Conv``/``MatMul`` run on its fast MLAS kernels everywhere. The engine times both graphs at
start and keeps the faster one (``engines/tts/calibrate.py``).

How: every quantized node is replaced by its float operator on the dequantized weight
(``(w - zero_point) * scale``, exactly the values the int8 graph multiplies by), fed by the
float activation that the int8 graph quantized on the fly. The scale ``Mul`` after each integer
product (and the integer bias ``Add`` of a convolution) is folded into the new node, which writes
the ``Mul``'s output name, so the rest of the graph is untouched. The float graph therefore skips
only the activation rounding: it is the int8 graph without its quantization noise.

Weights may be stored as float16 (``weights="float16"``) with a ``Cast`` to float32 in front;
onnxruntime folds those casts at load time, so compute stays float32 and the file is half the
size. Needs the ``onnx`` package (the ``models`` extra), which nothing imports at run time."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Literal

import numpy as np
import onnx
from onnx import helper, numpy_helper

WeightType = Literal["float32", "float16"]


class UnexpectedGraph(ValueError):
    """The int8 graph does not have the shape this rewrite expects (a changed export)."""


class _Graph:
    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.graph = model.graph
        self.inits = {init.name: init for init in self.graph.initializer}
        self.producer = {out: node for node in self.graph.node for out in node.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for node in self.graph.node:
            for name in node.input:
                self.consumers[name].append(node)
        self.new_inits: dict[str, np.ndarray] = {}

    def array(self, name: str) -> np.ndarray:
        if name not in self.inits:
            raise UnexpectedGraph(f"{name!r} is not an initializer")
        return numpy_helper.to_array(self.inits[name])

    def made_by(self, name: str, op_type: str) -> onnx.NodeProto:
        node = self.producer.get(name)
        if node is None or node.op_type != op_type:
            found = "an input" if node is None else node.op_type
            raise UnexpectedGraph(f"{name!r} comes from {found}, expected {op_type}")
        return node

    def only_consumer(self, name: str, op_type: str) -> onnx.NodeProto:
        nodes = self.consumers.get(name, [])
        if len(nodes) != 1 or nodes[0].op_type != op_type:
            found = ", ".join(n.op_type for n in nodes) or "nothing"
            raise UnexpectedGraph(f"{name!r} feeds {found}, expected one {op_type}")
        return nodes[0]

    def quantized_input(self, name: str) -> str:
        """The float tensor a ``DynamicQuantizeLinear`` turned into ``name``."""
        return self.made_by(name, "DynamicQuantizeLinear").input[0]

    def weight_scale(self, scales: str, activation_scale: str) -> np.ndarray:
        """The weight's scale inside ``scales = activation_scale * weight_scale``."""
        node = self.made_by(scales, "Mul")
        others = [name for name in node.input if name != activation_scale]
        if len(others) != 1:
            raise UnexpectedGraph(f"{node.name}: not activation scale × weight scale")
        return self.array(others[0])

    def add_weight(self, name: str, value: np.ndarray) -> str:
        self.new_inits[name] = value.astype(np.float32)
        return name


def dequantized(weight: np.ndarray, zero_point: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(w - zero_point) * scale`` in float32, as the integer kernels' results are rescaled."""
    return (weight.astype(np.float32) - zero_point.astype(np.float32)) * scale.astype(np.float32)


def _rewrite_matmul(g: _Graph, node: onnx.NodeProto) -> list[onnx.NodeProto]:
    # DQL(x) -> MatMulInteger(xq, wq, x_zp, w_zp) -> Cast -> Mul(·, x_scale * w_scale) -> y
    x = g.quantized_input(node.input[0])
    x_scale = g.made_by(node.input[0], "DynamicQuantizeLinear").output[1]
    cast = g.only_consumer(node.output[0], "Cast")
    mul = g.only_consumer(cast.output[0], "Mul")
    scales = next(name for name in mul.input if name != cast.output[0])
    w_scale = g.weight_scale(scales, x_scale)
    # Per-column scale and zero point ([N]) broadcast over the [K, N] weight's last axis.
    weight = dequantized(g.array(node.input[1]), g.array(node.input[3]), w_scale)
    w = g.add_weight(f"{node.input[1]}_float", weight)
    return [helper.make_node("MatMul", [x, w], [mul.output[0]], name=f"{node.name}_float")]


def _rewrite_conv(g: _Graph, node: onnx.NodeProto) -> list[onnx.NodeProto]:
    # DQL(x) -> ConvInteger -> [Add(·, int32 bias)] -> Cast -> Mul(·, x_scale * w_scale) -> y,
    # the int32 bias being Reshape(Cast(Floor(Div(bias, x_scale * w_scale)))).
    x = g.quantized_input(node.input[0])
    x_scale = g.made_by(node.input[0], "DynamicQuantizeLinear").output[1]
    nxt = g.consumers[node.output[0]]
    bias: list[str] = []
    after = node.output[0]
    if len(nxt) == 1 and nxt[0].op_type == "Add":
        add = nxt[0]
        quantized_bias = next(name for name in add.input if name != node.output[0])
        reshape = g.made_by(quantized_bias, "Reshape")
        cast_bias = g.made_by(reshape.input[0], "Cast")
        floor = g.made_by(cast_bias.input[0], "Floor")
        div = g.made_by(floor.input[0], "Div")
        bias = [div.input[0]]
        g.array(bias[0])  # the float bias is an initializer
        after = add.output[0]
    cast = g.only_consumer(after, "Cast")
    mul = g.only_consumer(cast.output[0], "Mul")
    scales = next(name for name in mul.input if name != cast.output[0])
    w_scale = g.weight_scale(scales, x_scale)
    zero_point = g.array(node.input[3]) if len(node.input) > 3 and node.input[3] else np.zeros(1)
    raw = g.array(node.input[1])
    if w_scale.size > 1:  # per output channel: scale the first axis
        w_scale = w_scale.reshape(-1, *([1] * (raw.ndim - 1)))
        zero_point = zero_point.reshape(-1, *([1] * (raw.ndim - 1)))
    w = g.add_weight(f"{node.input[1]}_float", dequantized(raw, zero_point, w_scale))
    conv = helper.make_node("Conv", [x, w, *bias], [mul.output[0]], name=f"{node.name}_float")
    conv.attribute.extend(node.attribute)
    return [conv]


def _rewrite_lstm(g: _Graph, node: onnx.NodeProto) -> list[onnx.NodeProto]:
    # com.microsoft DynamicQuantizeLSTM: inputs 0-7 as ONNX LSTM but W and R are quantized and
    # transposed ([dirs, input, 4*hidden]), then W_scale, W_zp, R_scale, R_zp per direction.
    inputs = list(node.input) + [""] * (12 - len(node.input))
    weights = []
    for index, (scale, zero) in ((1, (8, 9)), (2, (10, 11))):
        raw = g.array(inputs[index])
        dirs = raw.shape[0]
        s = g.array(inputs[scale]).reshape(dirs, *([1] * (raw.ndim - 1)))
        z = g.array(inputs[zero]).reshape(dirs, *([1] * (raw.ndim - 1)))
        if s.size != dirs or z.size != dirs:
            # Per-column scales index the 4*hidden axis: broadcast them over it instead.
            s = g.array(inputs[scale]).reshape(dirs, 1, -1)
            z = g.array(inputs[zero]).reshape(dirs, 1, -1)
        value = dequantized(raw, z, s).transpose(0, 2, 1)
        weights.append(g.add_weight(f"{inputs[index]}_float", np.ascontiguousarray(value)))
    lstm_inputs = [inputs[0], weights[0], weights[1], *inputs[3:8]]
    while lstm_inputs and not lstm_inputs[-1]:
        lstm_inputs.pop()
    lstm = helper.make_node("LSTM", lstm_inputs, list(node.output), name=f"{node.name}_float")
    lstm.attribute.extend(node.attribute)
    return [lstm]


REWRITES = {
    "MatMulInteger": _rewrite_matmul,
    "ConvInteger": _rewrite_conv,
    "DynamicQuantizeLSTM": _rewrite_lstm,
}


def float_model(model: onnx.ModelProto, weights: WeightType = "float32") -> onnx.ModelProto:
    """A copy of the int8 Kokoro graph with every integer operator replaced by its float one."""
    g = _Graph(model)
    nodes: list[onnx.NodeProto] = []
    new: list[onnx.NodeProto] = []
    for node in g.graph.node:
        rewrite = REWRITES.get(node.op_type)
        if rewrite is None:
            nodes.append(node)
        else:
            new += rewrite(g, node)
            nodes += new[-1:]
    replaced = {out for node in new for out in node.output}
    fresh = {id(node) for node in new}
    # Drop the nodes whose outputs the new ones now write (Mul) and everything no longer needed.
    nodes = [n for n in nodes if id(n) in fresh or not set(n.output) & replaced]
    nodes = _live(nodes, [out.name for out in g.graph.output])

    used = {name for node in nodes for name in node.input}
    kept = [init for init in g.graph.initializer if init.name in used]
    added = []
    casts = []
    for name, value in g.new_inits.items():
        if weights == "float16":
            added.append(numpy_helper.from_array(value.astype(np.float16), f"{name}_f16"))
            cast = helper.make_node("Cast", [f"{name}_f16"], [name], to=onnx.TensorProto.FLOAT)
            casts.append(cast)
        else:
            added.append(numpy_helper.from_array(value, name))

    graph = helper.make_graph(
        casts + nodes,
        g.graph.name,
        list(g.graph.input),
        list(g.graph.output),
        kept + added,
    )
    out = helper.make_model(graph, opset_imports=list(model.opset_import))
    out.ir_version = model.ir_version
    out.producer_name = "openlive (float rebuild of the Kokoro int8 graph)"
    return out


def _live(nodes: list[onnx.NodeProto], outputs: list[str]) -> list[onnx.NodeProto]:
    """The nodes the graph outputs depend on, in their original order."""
    producer = {out: i for i, node in enumerate(nodes) for out in node.output}
    needed: set[int] = set()
    stack = [producer[name] for name in outputs if name in producer]
    while stack:
        index = stack.pop()
        if index in needed:
            continue
        needed.add(index)
        stack.extend(producer[name] for name in nodes[index].input if name in producer)
    return [node for i, node in enumerate(nodes) if i in needed]


def convert_file(source: Path, target: Path, weights: WeightType = "float32") -> None:
    model = float_model(onnx.load(str(source)), weights)
    left = {n.op_type for n in model.graph.node} & {*REWRITES, "DynamicQuantizeLinear"}
    if left:
        raise UnexpectedGraph(f"float graph still holds {', '.join(sorted(left))}")
    onnx.save(model, str(target))
