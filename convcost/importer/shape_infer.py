"""Every tensor's shape, inferred by convcost itself in one pass over the graph's nodes (in
their topological order), with the small values of shape arithmetic computed on the way.

Each operator's rule is in `convcost.importer.shape_rules` (arithmetic, windows, layout) and
`convcost.importer.shape_rules_data` (slicing, padding, resizing, shape arithmetic); the
values are `convcost.importer.ops_static`'s. An operator without a rule (a vendor's, or one
convcost has no layer for) leaves its outputs' shapes unknown: the reader then asks ONNX's
shape inference when the ``onnx`` package is installed (`convcost.importer.ops_shapes`), and
otherwise says which node and how to get it (`fallback_hint`).
"""

from __future__ import annotations

import contextlib

from convcost.importer import shape_rules as arith
from convcost.importer import shape_rules_data as data
from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops_graph import Source, attributes
from convcost.importer.ops_static import SHAPE_ONLY, evaluate, known_value
from convcost.importer.shape_rules import Rule, Shape, Site

UNARY = frozenset(
    [
        "Abs",
        "Acos",
        "Acosh",
        "Asin",
        "Asinh",
        "Atan",
        "Atanh",
        "BatchNormalization",
        "Cast",
        "CastLike",
        "Ceil",
        "Celu",
        "Clip",
        "Cos",
        "Cosh",
        "Dropout",
        "Elu",
        "Erf",
        "Exp",
        "Floor",
        "Gelu",
        "HardSigmoid",
        "HardSwish",
        "Hardmax",
        "Identity",
        "InstanceNormalization",
        "IsInf",
        "IsNaN",
        "LRN",
        "LayerNormalization",
        "LeakyRelu",
        "Log",
        "LogSoftmax",
        "MeanVarianceNormalization",
        "Mish",
        "Neg",
        "Not",
        "Reciprocal",
        "Relu",
        "Round",
        "Selu",
        "Shrink",
        "Sigmoid",
        "Sign",
        "Sin",
        "Sinh",
        "Softmax",
        "Softplus",
        "Softsign",
        "Sqrt",
        "Tan",
        "Tanh",
        "ThresholdedRelu",
        "Trilu",
    ]
)
"""Operators whose (first) output has their first input's shape."""

BROADCAST = frozenset(
    [
        "Add",
        "And",
        "BitShift",
        "BitwiseAnd",
        "BitwiseOr",
        "BitwiseXor",
        "Div",
        "Equal",
        "Greater",
        "GreaterOrEqual",
        "Less",
        "LessOrEqual",
        "Max",
        "Mean",
        "Min",
        "Mod",
        "Mul",
        "Or",
        "Pow",
        "PRelu",
        "Sub",
        "Sum",
        "Where",
        "Xor",
    ]
)
"""Operators whose output is their inputs' shapes broadcast together (numpy's rule)."""

RULES: dict[str, Rule] = {
    **dict.fromkeys(UNARY, arith.same),
    **dict.fromkeys(BROADCAST, arith.elementwise),
    "Conv": arith.conv,
    "ConvTranspose": arith.conv_transpose,
    **dict.fromkeys(("MaxPool", "AveragePool", "LpPool"), arith.pool),
    **dict.fromkeys(("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"), arith.global_pool),
    "Gemm": arith.gemm,
    "MatMul": arith.matmul,
    "Flatten": arith.flatten,
    "Reshape": arith.reshape,
    "Transpose": arith.transpose,
    "Concat": arith.concat,
    "Split": arith.split,
    "Slice": data.slice_,
    "Gather": data.gather,
    "Squeeze": data.squeeze,
    "Unsqueeze": data.unsqueeze,
    "Shape": data.shape,
    "Size": data.size,
    "ConstantOfShape": data.constant_of_shape,
    "Range": data.range_,
    "Expand": data.expand,
    "Tile": data.tile,
    "Pad": data.pad,
    "Resize": data.resize,
    "Upsample": data.resize,
    "DepthToSpace": data.depth_to_space,
    "SpaceToDepth": data.space_to_depth,
    **dict.fromkeys(
        [
            "ReduceL1",
            "ReduceL2",
            "ReduceLogSum",
            "ReduceLogSumExp",
            "ReduceMax",
            "ReduceMean",
            "ReduceMin",
            "ReduceProd",
            "ReduceSum",
            "ReduceSumSquare",
        ],
        data.reduce,
    ),
    **dict.fromkeys(("ArgMax", "ArgMin"), data.arg_reduce),
}
"""Each operator's shape rule (``Constant``'s shape is its tensor's ``dims``)."""

_NEEDS_VALUES = frozenset(
    {"Reshape", "Split", "Slice", "Squeeze", "Unsqueeze", "ConstantOfShape", "Range", "Expand"}
    | {"Tile", "Pad", "Resize", "Upsample"}
    | {op for op, rule in RULES.items() if rule is data.reduce}
)
"""Operators whose output shape depends on the values of inputs after the first."""


_MALFORMED = (ArithmeticError, ValueError, TypeError, IndexError)
"""What a rule or an evaluation raises on a malformed node (an attribute of another type)."""


def infer(source: Source, input_tensor: str, shape: Shape) -> set[str]:
    """Record every tensor's shape that can be inferred in ``source.shapes`` (the graph input
    at ``shape``, batch first) and the values of shape arithmetic in ``source.values``; the
    static tensors (constants and what is computed from them and from shapes alone)."""
    shapes = source.shapes
    for table in (source.initializers, source.constants):
        for name, tensor in table.items():
            shapes[name] = tuple(tensor.dims)
            source.types[name] = tensor.data_type
    shapes[input_tensor] = shape
    static = set(source.initializers) | set(source.constants)
    for node in source.nodes:
        op = node.op_type
        rule = RULES.get(op) if node.domain in ("", "ai.onnx") else None
        if rule is not None and node.output:
            values = [
                known_value(source, node, name) if name and index and op in _NEEDS_VALUES else None
                for index, name in enumerate(node.input)
            ]
            inputs = [shapes.get(name) if name else None for name in node.input]
            site = Site(node, inputs, values, attributes(node), source.opset)
            try:
                found_shapes = rule(site)
            except _MALFORMED:
                found_shapes = []  # a malformed node: its converter names what is wrong
            for output, found in zip(node.output, found_shapes, strict=False):
                if output and found is not None and min(found, default=0) >= 0:
                    shapes[output] = found
        inputs_read = [name for name in node.input[: 1 if op == "CastLike" else None] if name]
        if op in SHAPE_ONLY or all(name in static for name in inputs_read):
            static.update(name for name in node.output)
            with contextlib.suppress(*_MALFORMED):  # a malformed node: its value stays unknown
                evaluate(source, node)
    return static


def gaps(source: Source, static: set[str]) -> list[NodeProto]:
    """The nodes computing a run-time tensor whose shape is not known."""
    return [
        node
        for node in source.nodes
        if any(t and t not in static and t not in source.shapes for t in node.output)
    ]


def fallback_hint(nodes: list[NodeProto]) -> str:
    """What the error on an unknown shape adds when ONNX's inference is not installed."""
    first = next((node for node in nodes if RULES.get(node.op_type) is None), None)
    if first is None:
        return ""
    name = first.name or (first.output[0] if first.output else "")
    return (
        f' (convcost infers no shape for {first.op_type}, node "{name}": ONNX\'s shape'
        " inference can, with pip install 'convcost[onnx]')"
    )
