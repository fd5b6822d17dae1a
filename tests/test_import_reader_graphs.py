"""read_onnx on small graphs written with onnx.helper: each edge case of an operator, alone.

Oracles: hand-computed values (each with where it comes from) and ONNX's own shape inference
on the original model, which the reader's layers must reproduce when convcost analyses them.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from convcost.errors import ModelError
from convcost.importer.graph import INPUT
from convcost.importer.onnx_reader import read_onnx
from tests.conftest import require

require("onnx")

from tests.graph_eval import evaluate  # noqa: E402
from tests.onnx_graphs import (  # noqa: E402
    conv,
    floats,
    helper,
    inferred_output,
    ints,
    layers,
    save,
    scalar,
    unsupported,
    weight,
)

# ---- windows: auto_pad, asymmetric pads, Pad folding, 1-D/3-D, transposed ----------------


@pytest.mark.parametrize(
    ("auto_pad", "padding"),
    [
        # SAME: out = ⌈7/2⌉ = 4, total = (4 − 1)·2 + 4 − 7 = 3 pixels; UPPER puts the odd one last
        ("SAME_UPPER", [[1, 2], [1, 2]]),
        ("SAME_LOWER", [[2, 1], [2, 1]]),
        ("VALID", None),
    ],
)
def test_conv_auto_pad(tmp_path: Path, auto_pad: str, padding: object) -> None:
    node = conv(["x", "w"], kernel_shape=[4, 4], strides=[2, 2], auto_pad=auto_pad)
    path = save(tmp_path / "m.onnx", [node], [1, 3, 7, 7], initializers=[weight("w", [5, 3, 4, 4])])
    fields: dict[str, object] = {"out": 5, "kernel": 4, "stride": 2, "bias": False}
    if padding is not None:
        fields["padding"] = padding
    graph = read_onnx(path)
    assert [n.layer for n in graph.nodes] == [{"conv": fields}]
    assert evaluate(graph)[graph.output].output_shape == inferred_output(path)


def test_pool_auto_pad(tmp_path: Path) -> None:
    # stride 1, kernel 3: total padding 2, one pixel each side
    node = helper.make_node(
        "MaxPool", ["x"], ["y"], name="n", kernel_shape=[3, 3], auto_pad="SAME_UPPER"
    )
    path = save(tmp_path / "m.onnx", [node], [1, 3, 6, 6])
    assert layers(path) == [{"maxpool": {"kernel": 3, "stride": 1, "padding": 1}}]
    # stride 2, kernel 2 on 7: total (4 − 1)·2 + 2 − 7 = 1 pixel, after: a pool pads symmetrically
    node = helper.make_node(
        "MaxPool",
        ["x"],
        ["y"],
        name="n",
        kernel_shape=[2, 2],
        strides=[2, 2],
        auto_pad="SAME_UPPER",
    )
    unsupported(save(tmp_path / "m2.onnx", [node], [1, 3, 7, 7]), "MaxPool (asymmetric pads)")


def test_asymmetric_pads(tmp_path: Path) -> None:
    node = conv(["x", "w", "b"], kernel_shape=[3, 3], pads=[0, 1, 2, 3])  # begins H, W; ends H, W
    path = save(
        tmp_path / "m.onnx",
        [node],
        [1, 2, 8, 8],
        initializers=[weight("w", [4, 2, 3, 3]), weight("b", [4])],
    )
    graph = read_onnx(path)
    assert [n.layer for n in graph.nodes] == [
        {"conv": {"out": 4, "kernel": 3, "padding": [[0, 2], [1, 3]]}}
    ]
    # H: 8 + 0 + 2 − 3 + 1 = 8; W: 8 + 1 + 3 − 3 + 1 = 10
    assert evaluate(graph)[graph.output].output_shape == inferred_output(path) == (4, 8, 10)


def test_pad_folds_into_conv_and_avgpool(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"], name="pad"),
        conv(["p", "w"], "c", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Pad", ["c", "pads2"], ["q"], name="pad2"),
        helper.make_node(
            "AveragePool", ["q"], ["y"], name="pool", kernel_shape=[3, 3], count_include_pad=1
        ),
    ]
    inits = [
        weight("w", [4, 2, 3, 3]),
        ints("pads", [0, 0, 1, 2, 0, 0, 3, 4]),  # N, C, H, W begins; then ends
        ints("pads2", [0, 0, 1, 1, 0, 0, 1, 1]),
    ]
    path = save(tmp_path / "m.onnx", nodes, [1, 2, 8, 8], initializers=inits)
    graph = read_onnx(path)
    assert [n.layer for n in graph.nodes] == [
        {"conv": {"out": 4, "kernel": 3, "padding": [[2, 4], [3, 5]], "bias": False}},  # 1 + Pad's
        {"avgpool": {"kernel": 3, "stride": 1, "padding": 1}},
    ]
    assert graph.nodes[0].inputs == (INPUT,)
    assert evaluate(graph)[graph.output].output_shape == inferred_output(path)


@pytest.mark.parametrize(
    ("mode", "consumer"),
    [("constant", "MaxPool"), ("reflect", "Conv")],  # zeros are not -inf; reflection is no zero pad
)
def test_pad_not_folded_is_a_layer_of_its_own(tmp_path: Path, mode: str, consumer: str) -> None:
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"], name="n", mode=mode),
        helper.make_node(
            consumer,
            ["p", "w"][: 2 if consumer == "Conv" else 1],
            ["y"],
            name="c",
            kernel_shape=[3, 3],
        ),
    ]
    inits = [weight("w", [4, 2, 3, 3]), ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])]
    path = save(tmp_path / "m.onnx", nodes, [1, 2, 8, 8], initializers=inits)
    pad = {"pad": {"padding": [[1, 1], [1, 1]], "mode": mode}}
    assert layers(path)[0] == pad


def test_conv_1d_and_3d(tmp_path: Path) -> None:
    one = conv(["x", "w"], kernel_shape=[5], dilations=[2], pads=[4, 4])
    path = save(tmp_path / "m.onnx", [one], [1, 3, 20], initializers=[weight("w", [6, 3, 5])])
    assert layers(path) == [
        {"conv": {"out": 6, "kernel": 5, "dilation": 2, "padding": 4, "bias": False}}
    ]
    three = conv(["x", "w"], kernel_shape=[1, 3, 3], strides=[1, 2, 2], group=3)
    path = save(
        tmp_path / "m3.onnx", [three], [1, 3, 4, 9, 9], initializers=[weight("w", [6, 1, 1, 3, 3])]
    )
    graph = read_onnx(path)
    expected = {"out": 6, "kernel": [1, 3, 3], "stride": [1, 2, 2], "groups": 3, "bias": False}
    assert [n.layer for n in graph.nodes] == [{"conv": expected}]
    assert evaluate(graph)[graph.output].output_shape == inferred_output(path) == (6, 4, 4, 4)


def test_conv_transpose_output_shape(tmp_path: Path) -> None:
    # in 5, kernel 3, stride 2, output_shape 10: ONNX pads total = 2·(5 − 1) + 3 − 10 = 1; as
    # torch: padding ⌈1/2⌉ = 1 and output_padding 1, 2·4 − 2·1 + 2 + 1 + 1 = 10
    node = helper.make_node(
        "ConvTranspose",
        ["x", "w"],
        ["y"],
        name="n",
        kernel_shape=[3, 3],
        strides=[2, 2],
        output_shape=[10, 10],
    )
    path = save(tmp_path / "m.onnx", [node], [1, 4, 5, 5], initializers=[weight("w", [4, 3, 3, 3])])
    graph = read_onnx(path)
    fields = {"out": 3, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1, "bias": False}
    assert [n.layer for n in graph.nodes] == [{"conv_transpose": fields}]
    assert evaluate(graph)[graph.output].output_shape == inferred_output(path) == (3, 10, 10)


# ---- activations, skipped nodes, patterns ------------------------------------------------


@pytest.mark.parametrize(
    ("bounds", "opset", "kind"),
    [
        ((0.0, 6.0), 17, "relu6"),
        ((0.0, None), 17, "relu"),
        ((0.0, 6.0), 6, "relu6"),
        ((-1.0, 1.0), 17, None),
    ],
)
def test_clip(
    tmp_path: Path, bounds: tuple[float, float | None], opset: int, kind: str | None
) -> None:
    low, high = bounds
    if opset < 11:  # Clip-6 holds its bounds as attributes
        node = helper.make_node("Clip", ["x"], ["y"], name="n", min=low, max=high)
        inits = []
    else:
        node = helper.make_node(
            "Clip", ["x", "lo", "hi" if high is not None else ""], ["y"], name="n"
        )
        inits = [scalar("lo", low)] + ([scalar("hi", high)] if high is not None else [])
    path = save(tmp_path / "m.onnx", [node], [1, 3, 4, 4], initializers=inits, opset=opset)
    if kind is None:
        unsupported(path, "Clip (bounds other than 0 and 6)")
    else:
        assert layers(path) == [{kind: {}}]


def test_identity_and_dropout_are_skipped(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Dropout", ["x"], ["a"], name="drop"),
        helper.make_node("Relu", ["a"], ["b"], name="relu"),
        helper.make_node("Identity", ["b"], ["c"], name="same"),
        helper.make_node("Mul", ["c", "k"], ["y"], name="scale"),  # by a scalar constant
    ]
    path = save(tmp_path / "m.onnx", nodes, [1, 3, 4, 4], initializers=[scalar("k", 2.0)])
    graph = read_onnx(path)
    assert [(n.name, n.layer) for n in graph.nodes] == [("relu", {"relu": {}})]
    assert graph.output == "relu"


def test_hard_sigmoid_alpha(tmp_path: Path) -> None:
    node = helper.make_node("HardSigmoid", ["x"], ["y"], name="n", alpha=1 / 6)
    assert layers(save(tmp_path / "m.onnx", [node], [1, 3, 4, 4])) == [{"hardsigmoid": {}}]
    node = helper.make_node("HardSigmoid", ["x"], ["y"], name="n")  # ONNX's default alpha is 0.2
    unsupported(
        save(tmp_path / "m2.onnx", [node], [1, 3, 4, 4]),
        "HardSigmoid (alpha other than 1/6, PyTorch's)",
    )


def test_erf_gelu_with_the_half_first(tmp_path: Path) -> None:
    # (x · 0.5) · (1 + erf(x · 1/√2)): the other order the Erf GELU is written in
    nodes = [
        helper.make_node("Mul", ["x", "half"], ["h"], name="half"),
        helper.make_node("Mul", ["x", "isqrt2"], ["s"], name="scale"),
        helper.make_node("Erf", ["s"], ["e"], name="erf"),
        helper.make_node("Add", ["e", "one"], ["a"], name="add"),
        helper.make_node("Mul", ["h", "a"], ["y"], name="mul"),
    ]
    inits = [scalar("half", 0.5), scalar("isqrt2", 1 / math.sqrt(2)), scalar("one", 1.0)]
    graph = read_onnx(save(tmp_path / "m.onnx", nodes, [1, 3, 4, 4], initializers=inits))
    assert [(n.layer, n.origin.op_type) for n in graph.nodes] == [({"gelu": {}}, "Erf GELU")]


def test_sigmoid_of_another_tensor_is_a_gate(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["p"], name="pool"),
        helper.make_node("Sigmoid", ["p"], ["s"], name="sig"),
        helper.make_node("Mul", ["x", "s"], ["y"], name="gate"),
    ]
    graph = read_onnx(save(tmp_path / "m.onnx", nodes, [1, 3, 4, 4]))
    assert [(n.name, n.inputs, n.layer or n.merge) for n in graph.nodes] == [
        ("pool", (INPUT,), {"global_avgpool": {}}),
        ("sig", ("pool",), {"sigmoid": {}}),
        ("gate", (INPUT, "sig"), "multiply"),
    ]


@pytest.mark.parametrize(
    ("op", "layer"),
    [("LeakyRelu", {"leaky_relu": {}}), ("PRelu", {"prelu": {"shared": True}})],
)
def test_kinds_since_issue_17(tmp_path: Path, op: str, layer: object) -> None:
    # once without a kind; a scalar slope is nn.PReLU()'s one shared slope
    inputs = ["x", "slope"] if op == "PRelu" else ["x"]
    node = helper.make_node(op, inputs, ["y"], name="n")
    path = save(tmp_path / "m.onnx", [node], [1, 3, 4, 4], initializers=[scalar("slope", 0.25)])
    assert layers(path) == [layer]


def test_every_unsupported_node_listed_once(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Sin", ["x"], ["a"], name="up1"),
        helper.make_node("Softmax", ["a"], ["b"], name="soft"),
        helper.make_node("Sin", ["b"], ["y"], name="up2"),
    ]
    path = save(
        tmp_path / "m.onnx", nodes, [1, 3, 4, 4], initializers=[floats("scales", [1, 1, 2, 2])]
    )
    message = 'm.onnx: 3 nodes have no convcost layer: Sin ×2 (first: node "up1"), Softmax (over other axes than the channels) ×1 (first: node "soft")'
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)


# ---- flatten, pools over everything, linear --------------------------------------------


def test_reshape(tmp_path: Path) -> None:
    node = helper.make_node("Reshape", ["x", "s"], ["y"], name="n")
    path = save(tmp_path / "m.onnx", [node], [1, 4, 3, 3], initializers=[ints("s", [1, -1])])
    assert layers(path) == [{"flatten": {}}]
    path = save(tmp_path / "m2.onnx", [node], [1, 4, 3, 3], initializers=[ints("s", [1, 12, 3])])
    unsupported(path, "Reshape (other than a flatten to [N, C·H·W])")
    # the dynamo exporter writes the export's batch into the target: [2, 36] for a batch of 2
    path = save(tmp_path / "m3.onnx", [node], [2, 4, 3, 3], initializers=[ints("s", [2, 36])])
    assert layers(path) == [{"flatten": {}}]


@pytest.mark.parametrize(("keepdims", "opset"), [(1, 17), (0, 17), (0, 18)])
def test_reduce_mean_over_space(tmp_path: Path, keepdims: int, opset: int) -> None:
    if opset >= 18:  # ReduceMean-18 reads its axes from an input
        node = helper.make_node("ReduceMean", ["x", "axes"], ["y"], name="n", keepdims=keepdims)
        inits = [ints("axes", [-1, -2])]
    else:
        node = helper.make_node(
            "ReduceMean", ["x"], ["y"], name="n", axes=[2, 3], keepdims=keepdims
        )
        inits = []
    path = save(tmp_path / "m.onnx", [node], [1, 5, 4, 4], initializers=inits, opset=opset)
    graph = read_onnx(path)
    expected = [{"global_avgpool": {}}] + ([] if keepdims else [{"flatten": {}}])
    assert [n.layer for n in graph.nodes] == expected
    assert evaluate(graph)[graph.output].output_shape == inferred_output(path)


def test_reduce_mean_over_channels(tmp_path: Path) -> None:
    node = helper.make_node("ReduceMean", ["x"], ["y"], name="n", axes=[1])
    path = save(tmp_path / "m.onnx", [node], [1, 5, 4, 4])
    unsupported(path, "ReduceMean (over axes other than every spatial one)")


@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm(tmp_path: Path, trans_b: int) -> None:
    dims = [10, 12] if trans_b else [12, 10]  # transB: the weight is [out, in], as nn.Linear's
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "w"], ["y"], name="fc", transB=trans_b),
    ]
    graph = read_onnx(
        save(tmp_path / "m.onnx", nodes, [1, 3, 2, 2], initializers=[weight("w", dims)])
    )
    assert [n.layer for n in graph.nodes] == [
        {"flatten": {}},
        {"linear": {"out": 10, "bias": False}},
    ]


def test_gemm_weight_that_does_not_fit(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "w"], ["y"], name="fc", transB=1),
    ]
    path = save(tmp_path / "m.onnx", nodes, [1, 3, 2, 2], initializers=[weight("w", [12, 10])])
    message = 'm.onnx: node "fc" (Gemm): the weight [12, 10] does not fit the input\'s 12 features'
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)


def test_matmul_add_is_a_linear_with_bias(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flat"),
        helper.make_node("MatMul", ["f", "w"], ["m"], name="fc"),
        helper.make_node("Add", ["m", "b"], ["y"], name="bias"),
    ]
    inits = [weight("w", [12, 7]), weight("b", [7])]
    graph = read_onnx(save(tmp_path / "m.onnx", nodes, [1, 3, 2, 2], initializers=inits))
    assert [(n.layer, n.origin.op_type) for n in graph.nodes] == [
        ({"flatten": {}}, "Flatten"),
        ({"linear": {"out": 7}}, "MatMul·Add"),
    ]


# ---- merges, split, shuffle --------------------------------------------------------------


def test_merges(tmp_path: Path) -> None:
    nodes = [
        conv(["x", "w"], "a", name="a", kernel_shape=[1, 1]),
        conv(["x", "w"], "b", name="b", kernel_shape=[1, 1]),
        helper.make_node("Add", ["a", "b"], ["s"], name="sum"),
        helper.make_node("Concat", ["x", "s", "a"], ["y"], name="cat", axis=1),
    ]
    graph = read_onnx(
        save(tmp_path / "m.onnx", nodes, [1, 3, 4, 4], initializers=[weight("w", [3, 3, 1, 1])])
    )
    assert [(n.name, n.inputs, n.merge) for n in graph.nodes[2:]] == [
        ("sum", ("a", "b"), "add"),
        ("cat", (INPUT, "sum", "a"), "concat"),
    ]
    assert evaluate(graph)["cat"].output_shape == (9, 4, 4)


def test_concat_on_space(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="r"),
        helper.make_node("Concat", ["x", "r"], ["y"], name="n", axis=2),
    ]
    unsupported(
        save(tmp_path / "m.onnx", nodes, [1, 3, 4, 4]), "Concat (on an axis other than channels)"
    )


def test_split_and_slice(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Split", ["x", "sizes"], ["a", "b", "c"], name="split", axis=1),
        helper.make_node("Slice", ["x", "start", "end", "axes"], ["d"], name="slice"),
        helper.make_node("Concat", ["a", "c", "d"], ["y"], name="cat", axis=1),  # b is unused
    ]
    inits = [ints("sizes", [4, 4, 4]), ints("start", [4]), ints("end", [8]), ints("axes", [1])]
    graph = read_onnx(save(tmp_path / "m.onnx", nodes, [1, 12, 3, 3], initializers=inits))
    assert [(n.name, n.layer or n.merge) for n in graph.nodes] == [
        ("split", {"split": {"parts": 3, "index": 0}}),
        ("split_1", {"split": {"parts": 3, "index": 2}}),  # the unused middle part is dropped
        ("slice", {"split": {"parts": 3, "index": 1}}),  # channels 4..8 of 12
        ("cat", "concat"),
    ]
    unequal = [helper.make_node("Split", ["x", "sizes"], ["a", "y"], name="n", axis=1)]
    path = save(tmp_path / "m2.onnx", unequal, [1, 12, 3, 3], initializers=[ints("sizes", [4, 8])])
    unsupported(path, "Split (into unequal channel parts)")


def test_channel_shuffle(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Reshape", ["x", "split"], ["r"], name="view"),
        helper.make_node("Transpose", ["r"], ["t"], name="swap", perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t", "back"], ["y"], name="back"),
    ]
    inits = [ints("split", [1, 3, 4, 5, 5]), ints("back", [1, 12, 5, 5])]
    graph = read_onnx(save(tmp_path / "m.onnx", nodes, [1, 12, 5, 5], initializers=inits))
    assert [(n.layer, n.origin.op_type) for n in graph.nodes] == [
        ({"channel_shuffle": {"groups": 3}}, "Reshape·Transpose·Reshape")
    ]


# ---- names -------------------------------------------------------------------------------


def test_names(tmp_path: Path) -> None:
    nodes = [
        conv(["x", "onnx::Conv_7"], "a", name="/layer1/layer1.0/conv1/Conv", kernel_shape=[1, 1]),
        helper.make_node("Relu", ["a"], ["b"], name="/layer1/layer1.0/relu/Relu"),
        helper.make_node("Add", ["b", "x"], ["c"], name="/layer1/layer1.0/Add"),
        conv(["c", "features.0.weight"], "d", name="node_conv2d", kernel_shape=[1, 1]),
        helper.make_node("Relu", ["d"], ["e"], name="a b/c"),
        helper.make_node("Relu", ["e"], ["y"], name="a b/c"),
    ]
    inits = [weight("onnx::Conv_7", [3, 3, 1, 1]), weight("features.0.weight", [3, 3, 1, 1])]
    graph = read_onnx(save(tmp_path / "m.onnx", nodes, [1, 3, 4, 4], initializers=inits))
    assert [n.name for n in graph.nodes] == [
        "layer1.0.conv1",  # TorchScript's scope, its parts folded
        "layer1.0.relu",
        "layer1.0.add",  # an operator inside a module holding others: named after its layer
        "features.0",  # from the weight's name
        "a_b_c",  # sanitised
        "a_b_c_1",  # unique
    ]
    assert graph.nodes[2].origin.name == "/layer1/layer1.0/Add"


def test_avgpool_without_the_padding_is_noted_once(tmp_path: Path) -> None:
    pool = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}  # ONNX's count_include_pad is 0
    nodes = [
        helper.make_node("AveragePool", ["x"], ["a"], name="pool1", **pool),
        helper.make_node("AveragePool", ["a"], ["y"], name="pool2", **pool),
    ]
    graph = read_onnx(save(tmp_path / "m.onnx", nodes, [1, 3, 6, 6]))
    assert [n.layer for n in graph.nodes] == [
        {"avgpool": {"kernel": 3, "stride": 1, "padding": 1}}
    ] * 2
    assert graph.notes == (
        "AveragePool leaves the padding out of the average (count_include_pad=0); convcost's"
        " avgpool counts it, as PyTorch's default: shapes and costs are the same, --execute"
        ' values at the border differ (node "pool1" and 1 more)',
    )


def test_constant_node_values(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Constant", [], ["lo"], name="c1", value_float=0.0),
        helper.make_node("Constant", [], ["hi"], name="c2", value=scalar("v", 6.0)),
        helper.make_node("Clip", ["x", "lo", "hi"], ["c"], name="clip"),
        helper.make_node("Constant", [], ["s"], name="c3", value_ints=[1, -1]),
        helper.make_node("Reshape", ["c", "s"], ["y"], name="flat"),
    ]
    assert layers(save(tmp_path / "m.onnx", nodes, [1, 3, 4, 4])) == [
        {"relu6": {}},
        {"flatten": {}},
    ]


def test_per_channel_scale_and_shift_is_a_batchnorm(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Mul", ["x", "scale"], ["m"], name="bn_scale"),
        helper.make_node("Add", ["m", "shift"], ["y"], name="bn_shift"),
    ]
    inits = [weight("scale", [4, 1, 1]), weight("shift", [1, 4, 1, 1])]  # one value per channel
    graph = read_onnx(save(tmp_path / "m.onnx", nodes, [1, 4, 5, 5], initializers=inits))
    assert [(n.layer, n.origin.op_type) for n in graph.nodes] == [({"batchnorm": {}}, "Mul·Add")]
    assert evaluate(graph)[graph.output].params == 2 * 4  # the scale's 4 and the shift's 4
    # a scale per column ([5] broadcasts on the last axis) is not per channel
    inits = [weight("scale", [5]), weight("shift", [1, 4, 1, 1])]
    path = save(tmp_path / "m2.onnx", nodes, [1, 4, 5, 5], initializers=inits)
    message = (
        "m2.onnx: 2 nodes have no convcost layer: "
        'Mul (by a constant tensor) ×1 (first: node "bn_scale"), '
        'Add (by a constant tensor) ×1 (first: node "bn_shift")'
    )
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)


def test_weight_computed_from_an_initializer(tmp_path: Path) -> None:
    # a linear's weight stored [out, in] and transposed in the graph: still a constant weight
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flat"),
        helper.make_node("Transpose", ["w"], ["wt"], name="wt", perm=[1, 0]),
        helper.make_node("MatMul", ["f", "wt"], ["y"], name="fc"),
    ]
    graph = read_onnx(
        save(tmp_path / "m.onnx", nodes, [1, 3, 2, 2], initializers=[weight("w", [7, 12])])
    )
    assert [n.layer for n in graph.nodes] == [
        {"flatten": {}},
        {"linear": {"out": 7, "bias": False}},
    ]


def test_slice_without_axes(tmp_path: Path) -> None:
    # no axes input: starts and ends apply to axes 0, 1, …; here N 0:1, C 6:12 of 12
    node = helper.make_node("Slice", ["x", "start", "end"], ["y"], name="n")
    inits = [ints("start", [0, 6]), ints("end", [1, 12])]
    assert layers(save(tmp_path / "m.onnx", [node], [1, 12, 3, 3], initializers=inits)) == [
        {"split": {"parts": 2, "index": 1}}
    ]


def _scoped(node: Any, *scopes: str) -> Any:
    """A node as the dynamo exporter writes it: its module path in metadata."""
    entry = node.metadata_props.add()
    entry.key, entry.value = "pkg.torch.onnx.name_scopes", repr(["", *scopes])
    return node


def test_dynamo_names_from_scopes(tmp_path: Path) -> None:
    bn = ["x", "ones", "zeros", "zeros", "ones"]  # fresh batchnorms share one set of tensors
    nodes = [
        _scoped(helper.make_node("BatchNormalization", bn, ["a"], name="node_bn"), "norm1", "bn"),
        _scoped(
            helper.make_node("BatchNormalization", ["a", *bn[1:]], ["b"], name="node_bn_1"),
            "norm2",
            "bn",
        ),
        helper.make_node("Split", ["b"], ["c", "d"], name="node_Split_7", axis=1, num_outputs=2),
        _scoped(
            conv(["d", "block.conv.weight"], "e", name="node_conv", kernel_shape=[1, 1]),
            "block",
            "block.conv",
            "conv2d",
        ),
        _scoped(
            helper.make_node("Concat", ["c", "e"], ["y"], name="node_cat", axis=1), "block", "cat"
        ),
    ]
    inits = [weight("ones", [4]), weight("zeros", [4]), weight("block.conv.weight", [2, 2, 1, 1])]
    graph = read_onnx(save(tmp_path / "m.onnx", nodes, [1, 4, 3, 3], initializers=inits, opset=18))
    assert [n.name for n in graph.nodes] == [
        "norm1",  # from the scope: the shared weight would name both after one
        "norm2",
        "block.split",  # no scope of its own: the module its readers share
        "block.split_1",
        "block.conv",
        "block.concat",
    ]
