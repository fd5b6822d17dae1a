"""convcost's shape rules (convcost.importer.shape_rules*) operator by operator against ONNX's
own shape inference, the oracle, on one-node graphs that reach the corners the zoo's exports
do not (auto_pad, ceil_mode, output_padding, negative steps, opset-dependent axes, …)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from convcost.importer import onnx_file
from convcost.importer.onnx_reader import index
from convcost.importer.shape_infer import infer
from tests.conftest import require

onnx = require("onnx")

from onnx import TensorProto, helper  # noqa: E402

INT64_MAX = 2**63 - 1


def ints(name: str, values: list[int], dims: list[int] | None = None) -> Any:
    return helper.make_tensor(
        name, TensorProto.INT64, [len(values)] if dims is None else dims, values
    )


def floats(name: str, values: list[float]) -> Any:
    return helper.make_tensor(name, TensorProto.FLOAT, [len(values)], values)


def weight(name: str, dims: list[int]) -> Any:
    count = 1
    for d in dims:
        count *= d
    return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.0] * count)


# (case, op, input shape, other inputs (initializers, or "" for an omitted one), attributes,
#  opset, number of outputs)
CASES: list[tuple[str, str, list[int], list[Any], dict[str, Any], int, int]] = [
    (
        "conv-strided",
        "Conv",
        [1, 3, 10, 11],
        [weight("w", [8, 3, 3, 3])],
        {"strides": [2, 2], "pads": [1, 0, 2, 1], "dilations": [1, 2]},
        17,
        1,
    ),
    (
        "conv-same-upper",
        "Conv",
        [1, 3, 11, 11],
        [weight("w", [4, 3, 3, 3])],
        {"strides": [2, 2], "auto_pad": "SAME_UPPER"},
        17,
        1,
    ),
    (
        "conv-valid",
        "Conv",
        [1, 3, 11, 11],
        [weight("w", [4, 3, 4, 4])],
        {"strides": [3, 3], "auto_pad": "VALID"},
        17,
        1,
    ),
    (
        "conv-1d-groups",
        "Conv",
        [1, 6, 20],
        [weight("w", [6, 2, 5])],
        {"strides": [3], "group": 3},
        17,
        1,
    ),
    ("conv-3d", "Conv", [1, 2, 5, 6, 7], [weight("w", [4, 2, 3, 3, 3])], {"pads": [1] * 6}, 17, 1),
    (
        "conv-transpose",
        "ConvTranspose",
        [1, 4, 7, 7],
        [weight("w", [4, 2, 3, 3])],
        {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
        17,
        1,
    ),
    (
        "conv-transpose-groups",
        "ConvTranspose",
        [1, 4, 5, 5],
        [weight("w", [4, 3, 4, 4])],
        {"strides": [2, 2], "group": 2, "dilations": [2, 1]},
        17,
        1,
    ),
    (
        "maxpool-ceil",
        "MaxPool",
        [1, 3, 112, 112],
        [],
        {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1},
        17,
        1,
    ),
    (
        "maxpool-ceil-last-in-padding",
        "MaxPool",
        [1, 1, 5, 5],
        [],
        {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
        17,
        1,
    ),
    (
        "maxpool-indices",
        "MaxPool",
        [1, 2, 9, 9],
        [],
        {"kernel_shape": [3, 3], "strides": [2, 2]},
        17,
        2,
    ),
    (
        "avgpool-same-lower",
        "AveragePool",
        [1, 3, 10, 10],
        [],
        {"kernel_shape": [3, 3], "strides": [3, 3], "auto_pad": "SAME_LOWER"},
        17,
        1,
    ),
    ("global-avgpool", "GlobalAveragePool", [2, 5, 7, 3], [], {}, 17, 1),
    (
        "gemm-transposed",
        "Gemm",
        [2, 6],
        [weight("w", [10, 6]), weight("b", [10])],
        {"transB": 1},
        17,
        1,
    ),
    ("matmul-batched", "MatMul", [2, 3, 4], [weight("w", [4, 5])], {}, 17, 1),
    ("matmul-vector", "MatMul", [4], [weight("w", [2, 4, 5])], {}, 17, 1),
    ("flatten-axis-2", "Flatten", [2, 3, 4, 5], [], {"axis": 2}, 17, 1),
    ("reshape-copy-and-infer", "Reshape", [2, 3, 4], [ints("s", [0, -1])], {}, 17, 1),
    ("reshape-allowzero", "Reshape", [2, 3, 4], [ints("s", [4, 3, 2])], {"allowzero": 1}, 17, 1),
    ("transpose", "Transpose", [2, 3, 4, 5], [], {"perm": [0, 2, 3, 1]}, 17, 1),
    ("transpose-reversed", "Transpose", [2, 3, 4], [], {}, 17, 1),
    ("concat-last-axis", "Concat", [2, 3, 4], [weight("c", [2, 3, 7])], {"axis": -1}, 17, 1),
    ("split-sizes", "Split", [2, 6, 4], [ints("s", [2, 4])], {"axis": 1}, 13, 2),
    ("split-num-outputs", "Split", [2, 7], [], {"axis": 1, "num_outputs": 3}, 18, 3),
    ("split-even-attr", "Split", [2, 9], [], {"axis": -1}, 11, 3),
    (
        "slice-step",
        "Slice",
        [2, 10, 4],
        [ints("a", [-3]), ints("b", [INT64_MAX]), ints("c", [1]), ints("d", [2])],
        {},
        17,
        1,
    ),
    (
        "slice-negative-step",
        "Slice",
        [2, 10, 4],
        [ints("a", [8, 3]), ints("b", [1, 0]), ints("c", [1, 2]), ints("d", [-3, -1])],
        {},
        17,
        1,
    ),
    ("slice-no-axes", "Slice", [6, 5], [ints("a", [1, 0]), ints("b", [4, 100])], {}, 17, 1),
    ("slice-opset-9", "Slice", [6, 5], [], {"starts": [1], "ends": [-1], "axes": [0]}, 9, 1),
    ("gather-axis-1", "Gather", [2, 10, 4], [ints("i", [2, 5, 7], [3])], {"axis": 1}, 17, 1),
    ("gather-scalar", "Gather", [5, 4], [ints("i", [3], [])], {}, 17, 1),
    ("squeeze-attr", "Squeeze", [2, 1, 4, 1], [], {"axes": [1, -1]}, 11, 1),
    ("squeeze-input", "Squeeze", [2, 1, 4, 1], [ints("a", [3])], {}, 13, 1),
    ("squeeze-all", "Squeeze", [1, 3, 1, 2], [], {}, 13, 1),
    ("unsqueeze-input", "Unsqueeze", [3, 4], [ints("a", [0, -1])], {}, 13, 1),
    ("unsqueeze-attr", "Unsqueeze", [3, 4], [], {"axes": [1]}, 11, 1),
    ("shape-sliced", "Shape", [2, 3, 4, 5], [], {"start": 1, "end": -1}, 17, 1),
    ("size", "Size", [2, 3], [], {}, 17, 1),
    ("expand", "Expand", [3, 1], [ints("s", [2, 1, 4])], {}, 17, 1),
    ("tile", "Tile", [2, 3], [ints("r", [2, 3])], {}, 17, 1),
    ("pad-axes", "Pad", [1, 3, 5, 5], [ints("p", [1, 2, 3, 4]), "", ints("a", [2, 3])], {}, 18, 1),
    ("pad-all", "Pad", [1, 3, 5], [ints("p", [0, 0, 1, 0, 0, 2])], {}, 17, 1),
    ("pad-opset-2", "Pad", [1, 3, 5], [], {"pads": [0, 1, 2, 0, 3, 4]}, 2, 1),
    (
        "resize-scales",
        "Resize",
        [1, 3, 5, 7],
        ["", floats("s", [1, 1, 2, 1.5])],
        {"mode": "nearest"},
        17,
        1,
    ),
    ("resize-sizes", "Resize", [1, 3, 5, 7], ["", "", ints("z", [1, 3, 9, 4])], {}, 17, 1),
    ("upsample", "Upsample", [1, 3, 5, 7], [floats("s", [1, 1, 2, 3])], {}, 9, 1),
    ("depth-to-space", "DepthToSpace", [1, 8, 3, 5], [], {"blocksize": 2}, 17, 1),
    ("space-to-depth", "SpaceToDepth", [1, 2, 6, 4], [], {"blocksize": 2}, 17, 1),
    ("reduce-mean-attr", "ReduceMean", [2, 3, 4, 5], [], {"axes": [2, 3], "keepdims": 0}, 17, 1),
    ("reduce-mean-input", "ReduceMean", [2, 3, 4, 5], [ints("a", [-1])], {}, 18, 1),
    ("reduce-sum-all", "ReduceSum", [2, 3, 4], [], {"keepdims": 1}, 13, 1),
    ("reduce-sum-noop", "ReduceSum", [2, 3, 4], [], {"noop_with_empty_axes": 1}, 13, 1),
    ("reduce-max-all", "ReduceMax", [2, 3, 4], [], {"keepdims": 0}, 17, 1),
    ("argmax", "ArgMax", [2, 3, 4], [], {"axis": 1, "keepdims": 0}, 17, 1),
    ("add-broadcast", "Add", [3, 1, 5], [weight("b", [4, 1])], {}, 17, 1),
    ("where", "Where", [1, 4], [weight("a", [3, 1]), weight("b", [4])], {}, 17, 1),
    ("prelu", "PRelu", [1, 4, 5, 5], [weight("s", [4, 1, 1])], {}, 17, 1),
    ("softmax", "Softmax", [2, 7], [], {}, 17, 1),
    ("layernorm", "LayerNormalization", [2, 5, 8], [weight("g", [8])], {}, 17, 1),
    ("cast", "Cast", [2, 3], [], {"to": TensorProto.INT64}, 17, 1),
]


def _torch_pool() -> tuple[int, ...]:
    """PyTorch's ceil_mode drops a last window that would start in the end padding:
    ⌈(5 + 2 − 2) / 2⌉ + 1 = 4 windows, but the 4th starts at (4 − 1)·2 = 6 ≥ 5 + 1: 3. The
    onnx package's shape inference counts 4; convcost follows PyTorch (its maxpool layer does,
    and so do the models it reads), checked here against PyTorch itself."""
    torch = require("torch")
    pooled = torch.nn.functional.max_pool2d(
        torch.zeros(1, 1, 5, 5), 2, stride=2, padding=1, ceil_mode=True
    )
    return tuple(pooled.shape)


PYTORCH_RULE = {"maxpool-ceil-last-in-padding": _torch_pool}
"""Cases where the oracle is PyTorch rather than the onnx package's shape inference."""


def _model(
    op: str, shape: list[int], others: list[Any], attrs: dict[str, Any], opset: int, outputs: int
) -> Any:
    first_type = TensorProto.FLOAT
    if op == "Where":
        first_type = TensorProto.BOOL
    names = ["x", *(o.name if o != "" else "" for o in others)]
    while names and names[-1] == "":
        names.pop()
    node = helper.make_node(op, names, [f"y{i}" for i in range(outputs)], name="n", **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", first_type, shape)],
        [
            helper.make_tensor_value_info(f"y{i}", TensorProto.UNDEFINED, None)
            for i in range(outputs)
        ],
        [o for o in others if o != ""],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


@pytest.mark.parametrize(
    ("case", "op", "shape", "others", "attrs", "opset", "outputs"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_rule_equals_onnx_shape_inference(
    tmp_path: Path,
    case: str,
    op: str,
    shape: list[int],
    others: list[Any],
    attrs: dict[str, Any],
    opset: int,
    outputs: int,
) -> None:
    model = _model(op, shape, others, attrs, opset, outputs)
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    expected = {
        value.name: tuple(d.dim_value for d in value.type.tensor_type.shape.dim)
        for value in inferred.graph.output
    }
    if case in PYTORCH_RULE:
        expected = {"y0": PYTORCH_RULE[case]()}
    ours = onnx_file.load(path)
    source = index(ours, file=path.name, directory=tmp_path)
    infer(source, "x", tuple(shape))
    assert {name: source.shapes.get(name) for name in expected} == expected
