"""ONNX import of LeakyRelu, PRelu, Elu, Gelu (both forms), Mish (also the TorchScript
exporter's Softplus·Tanh·Mul) and Softmax over the channels.

Oracles: torch modules exported by both of PyTorch's exporters (their parameter counts and
output shapes), and small graphs written with onnx.helper whose expected layers are stated by
hand from the ONNX operator definitions (each with the reason).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import convcost
from convcost.importer import open_model
from convcost.importer.onnx_reader import read_onnx
from tests.conftest import require

torch = require("torch")
require("onnx")
require("onnxscript")  # the dynamo exporter's

from torch import nn  # noqa: E402

from tests.onnx_exports import EXPORTERS, export  # noqa: E402
from tests.onnx_graphs import floats, helper, layers, save, scalar, unsupported  # noqa: E402

pytestmark = pytest.mark.torch


class Activations(nn.Module):
    """One of each activation, on a map and (softmax, prelu) on flat features."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.leaky = nn.LeakyReLU(0.2)
        self.prelu = nn.PReLU(8)
        self.elu = nn.ELU(0.5)
        self.shared = nn.PReLU()
        self.gelu = nn.GELU(approximate="tanh")
        self.mish = nn.Mish()
        self.head = nn.Conv2d(8, 5, 1)
        self.softmax = nn.Softmax(dim=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(5, 4)
        self.fc_prelu = nn.PReLU(4)
        self.fc_softmax = nn.Softmax(dim=1)

    def forward(self, x: Any) -> Any:
        x = self.shared(self.elu(self.prelu(self.leaky(self.conv(x)))))
        x = self.softmax(self.head(self.mish(self.gelu(x))))
        x = torch.flatten(self.pool(x), 1)
        return self.fc_softmax(self.fc_prelu(self.fc(x)))


SHAPE = (3, 12, 10)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_exported_activations_import_with_torchs_numbers(exporter: Any, tmp_path: Path) -> None:
    model = Activations().eval()
    path = tmp_path / "acts.onnx"
    export(model, path, exporter=exporter, input_shape=SHAPE)
    graph = read_onnx(path)
    by_name = {node.name: node.layer for node in graph.nodes}
    assert by_name["leaky"] == {"leaky_relu": {"slope": 0.2}}
    assert by_name["prelu"] == {"prelu": {}}
    assert by_name["elu"] == {"elu": {"alpha": 0.5}}
    assert by_name["shared"] == {"prelu": {"shared": True}}
    assert by_name["gelu"] == {"gelu": {"approximate": "tanh"}}
    assert by_name["mish"] == {"mish": {}}
    assert by_name["softmax"] == by_name["fc_softmax"] == {"softmax": {}}
    assert by_name["fc_prelu"] == {"prelu": {}}
    report = convcost.analyze(open_model(path).spec)
    with torch.no_grad():
        out = model(torch.zeros(1, *SHAPE))
    assert report.output_shape == tuple(out.shape[1:])
    # every parameter is kept: no batchnorm to fold, and PReLU's slopes are parameters
    assert report.totals.params == sum(p.numel() for p in model.parameters())


def test_torchscript_mish_is_one_layer(tmp_path: Path) -> None:
    path = tmp_path / "mish.onnx"
    export(nn.Sequential(nn.Conv2d(3, 4, 1), nn.Mish()), path, exporter="torchscript")
    graph = read_onnx(path)
    assert [(n.layer, n.origin.op_type) for n in graph.nodes][1] == (
        {"mish": {}},
        "Mul·Tanh·Softplus",
    )


# ---- small graphs: what each attribute and slope shape becomes -----------------------------


@pytest.mark.parametrize(
    ("op", "attrs", "layer"),
    [
        ("LeakyRelu", {}, {"leaky_relu": {}}),  # ONNX's default alpha is PyTorch's 0.01
        ("LeakyRelu", {"alpha": 0.1}, {"leaky_relu": {"slope": 0.1}}),
        ("Elu", {}, {"elu": {}}),  # ONNX's default alpha is PyTorch's 1.0
        ("Elu", {"alpha": 2.0}, {"elu": {"alpha": 2.0}}),
        ("Gelu", {}, {"gelu": {}}),  # approximate defaults to "none" in ONNX and convcost
        ("Gelu", {"approximate": "tanh"}, {"gelu": {"approximate": "tanh"}}),
        ("Mish", {}, {"mish": {}}),
        ("Softmax", {"axis": 1}, {"softmax": {}}),
    ],
)
def test_attributes(tmp_path: Path, op: str, attrs: dict[str, Any], layer: object) -> None:
    node = helper.make_node(op, ["x"], ["y"], name="n", **attrs)
    assert layers(save(tmp_path / "m.onnx", [node], [1, 3, 4, 5], opset=20)) == [layer]


@pytest.mark.parametrize(
    ("dims", "layer"),
    [
        ([], {"prelu": {"shared": True}}),  # one slope: nn.PReLU()
        ([1], {"prelu": {"shared": True}}),
        ([3, 1, 1], {"prelu": {}}),  # aligned at the right: axis 1 of [1, 3, 4, 5]
        ([1, 3, 1, 1], {"prelu": {}}),
    ],
)
def test_prelu_slopes(tmp_path: Path, dims: list[int], layer: object) -> None:
    node = helper.make_node("PRelu", ["x", "slope"], ["y"], name="n")
    slope = floats("slope", [0.25] * max(1, 3 * (len(dims) > 1)), dims)
    assert layers(save(tmp_path / "m.onnx", [node], [1, 3, 4, 5], initializers=[slope])) == [layer]


def test_prelu_slope_per_column_is_not_a_kind(tmp_path: Path) -> None:
    # a slope of 5 values on [1, 3, 4, 5] broadcasts along W (the last axis), not the channels
    node = helper.make_node("PRelu", ["x", "slope"], ["y"], name="n")
    path = save(
        tmp_path / "m.onnx", [node], [1, 3, 4, 5], initializers=[floats("slope", [0.25] * 5)]
    )
    unsupported(path, "PRelu (a slope other than one per channel or one shared)")


def test_prelu_with_a_computed_slope_is_not_a_kind(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["s"], name="r"),
        helper.make_node("PRelu", ["x", "s"], ["y"], name="n"),
    ]
    unsupported(save(tmp_path / "m.onnx", nodes, [1, 3, 4, 5]), "PRelu (with a computed slope)")


@pytest.mark.parametrize(
    ("opset", "shape", "axis"),
    [
        (13, [1, 3, 4, 5], -1),  # over W
        (13, [1, 3, 4, 5], None),  # the default from opset 13 is -1: over W
        (11, [1, 3, 4, 5], 1),  # before 13: over the flattened [3·4·5]
    ],
)
def test_softmax_over_other_axes(
    tmp_path: Path, opset: int, shape: list[int], axis: int | None
) -> None:
    attrs = {} if axis is None else {"axis": axis}
    node = helper.make_node("Softmax", ["x"], ["y"], name="n", **attrs)
    path = save(tmp_path / "m.onnx", [node], shape, opset=opset)
    unsupported(path, "Softmax (over other axes than the channels)")


@pytest.mark.parametrize(("opset", "axis"), [(11, None), (11, 1), (13, None), (13, -1), (13, 1)])
def test_softmax_on_features(tmp_path: Path, opset: int, axis: int | None) -> None:
    # on [N, F] every one of these is over the F features (before opset 13 the default is 1)
    attrs = {} if axis is None else {"axis": axis}
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="f"),
        helper.make_node("Softmax", ["f"], ["y"], name="n", **attrs),
    ]
    path = save(tmp_path / "m.onnx", nodes, [1, 3, 1, 2], opset=opset)
    assert layers(path) == [{"flatten": {}}, {"softmax": {}}]


def test_mish_pattern_needs_the_same_x(tmp_path: Path) -> None:
    # Softplus(x)·Tanh multiplied by another tensor is not mish: Softplus stays unsupported
    nodes = [
        helper.make_node("Softplus", ["x"], ["s"], name="n"),
        helper.make_node("Tanh", ["s"], ["t"], name="t"),
        helper.make_node("Mul", ["t", "k"], ["y"], name="m"),
    ]
    path = save(tmp_path / "m.onnx", nodes, [1, 3, 4, 5], initializers=[scalar("k", 2.0)])
    unsupported(path, "Softplus")


def _residual_stack(act: str, fields: dict[str, object]) -> Any:
    """Three residual blocks (conv, act, conv, add, act), as a YOLO/Darknet stage writes them."""
    from convcost.importer.graph import INPUT  # noqa: PLC0415
    from tests.import_graphs import Builder  # noqa: PLC0415

    b = Builder()
    x = INPUT
    for index in range(3):
        p = f"block{index}_"
        y = b.layer(p + "conv1", x, "conv", "Conv", out=8, kernel=1)
        y = b.layer(p + "act1", y, act, **fields)
        y = b.layer(p + "conv2", y, "conv", "Conv", out=8, kernel=3, padding=1)
        y = b.merge(p + "add", "add", y, x)
        x = b.layer(p + "act2", y, act, **fields)
    return b.graph("stack", (8, 16, 16), x)


@pytest.mark.parametrize(
    ("act", "fields", "written"),
    [
        ("leaky_relu", {"slope": 0.1}, "leaky_relu: {slope: 0.1}"),
        ("prelu", {}, "prelu: {}"),
        ("elu", {}, "elu: {}"),
        ("mish", {}, "mish: {}"),
    ],
)
def test_an_activation_after_the_add_stays_in_its_block(
    act: str, fields: dict[str, object], written: str
) -> None:
    # the oracle: the same stack with ReLU, whose grouping the zoo's ResNets pin
    from convcost.importer.structure import to_spec  # noqa: PLC0415

    with_relu = to_spec(_residual_stack("relu", {}))
    assert "repeat: 3" in with_relu
    assert to_spec(_residual_stack(act, fields)) == with_relu.replace("relu: {}", written)
