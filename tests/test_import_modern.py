"""``convcost import`` of the bundled models built from issue 17's kinds, against PyTorch.

As tests/test_import.py does for the older zoo: the plain-torch references of ESPCN, U-Net,
DeepLabV3 and ConvNeXt-Tiny (tests/torch_models_modern.py), exported by both of PyTorch's
exporters in eval mode (tests/onnx_exports.py, once per session), import with exactly PyTorch's
conv, transposed-conv and linear MACs and output shapes (forward hooks,
tests/torch_models.count_conv_linear), the bundled spec's receptive fields, and the parameters
of PyTorch (``sum(p.numel())``; DeepLabV3's batchnorms fold into its convs in eval mode, so
there the graph's own count, and PyTorch's when exported with batchnorm kept).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

import convcost
from convcost import zoo
from convcost.errors import ModelError
from convcost.importer import import_model, import_torch, open_model
from convcost.importer.structure import to_spec
from convcost.report import Report
from tests.conftest import require

torch = require("torch")
onnx = require("onnx")
require("onnxscript")  # the dynamo exporter writes its graphs with it

from tests.onnx_exports import EXPORTERS, Exports, reference  # noqa: E402 (needs torch)
from tests.test_import import (  # noqa: E402
    CONV_KINDS,
    conv_fields,
    graph_params,
    without_comments,
)
from tests.torch_models import Counted, Permute, count_conv_linear  # noqa: E402
from tests.torch_models_modern import MODERN_MODELS  # noqa: E402

pytestmark = pytest.mark.torch

FOLDED = {"deeplabv3_resnet50"}
"""The models with batchnorm, which both exporters fold into the conv before it in eval mode."""


@functools.cache
def counted(name: str) -> Counted:
    factory, shape = reference(name)
    return count_conv_linear(factory().eval(), shape)


@functools.cache
def bundled(name: str) -> Report:
    """The bundled spec, at the input the reference is exported at (U-Net at 1×64×64: its spec
    takes any side divisible by 16)."""
    path = zoo.find(name)
    assert path is not None
    text = path.read_text()
    spec_shape = MODERN_MODELS[name][1]
    _, shape = reference(name)
    old, new = (f"input: [{', '.join(map(str, s))}]" for s in (spec_shape, shape))
    assert old in text
    return convcost.analyze(convcost.parse_spec(text.replace(old, new), source=str(path)))


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("name", sorted(MODERN_MODELS))
def test_modern_zoo_model_imports_with_pytorchs_numbers(
    name: str, exporter: str, onnx_exports: Exports
) -> None:
    path = onnx_exports.path(name, exporter)  # type: ignore[arg-type]
    model = open_model(path)
    report = convcost.analyze(model.spec)
    torch_counts = counted(name)
    assert report.totals.macs == torch_counts.macs
    shapes = [layer.output_shape for layer in report.layers if layer.kind in CONV_KINDS]
    assert shapes == torch_counts.shapes
    assert report.output_shape == torch_counts.output_shape
    if name in FOLDED:
        assert report.totals.params == graph_params(path)
    else:  # nothing folded: the graph holds every parameter of the module
        assert report.totals.params == sum(p.numel() for p in reference(name)[0]().parameters())
        assert report.totals.params == bundled(name).totals.params
    assert report.totals.macs == bundled(name).totals.macs
    # receptive field and jump of every conv and linear layer, and of the whole network
    assert conv_fields(report) == conv_fields(bundled(name))
    assert report.receptive_field == bundled(name).receptive_field
    flat = convcost.analyze(convcost.parse_spec(to_spec(model.graph, flat=True)))
    assert (flat.totals, flat.output_shape, conv_fields(flat)) == (
        report.totals,
        report.output_shape,
        conv_fields(report),
    )


@pytest.mark.parametrize("name", sorted(FOLDED))
def test_modern_batchnorm_kept_gives_pytorchs_parameters(name: str, onnx_exports: Exports) -> None:
    report = convcost.analyze(open_model(onnx_exports.path(name, "torchscript", "batchnorm")).spec)
    assert report.totals.params == sum(p.numel() for p in reference(name)[0]().parameters())
    assert report.totals.params == bundled(name).totals.params
    assert report.totals.macs == counted(name).macs


@pytest.mark.parametrize("name", sorted(MODERN_MODELS))
def test_both_exporters_write_the_same_modern_spec(name: str, onnx_exports: Exports) -> None:
    # ConvNeXt's channels-last runs too: each layer named after its own node by both
    dynamo = import_model(onnx_exports.path(name, "dynamo"))
    torchscript = import_model(onnx_exports.path(name, "torchscript"))
    assert without_comments(dynamo) == without_comments(torchscript)


class OpenChannelsLast(torch.nn.Module):  # type: ignore[misc]
    """A conv, a permute to channels last and a linear that never permutes back: the linear
    acts on each position's channels, but the output stays channels last."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3)
        self.permute = Permute([0, 2, 3, 1])
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x: Any) -> Any:
        return self.fc(self.permute(self.conv(x)))


def test_a_channels_last_run_that_never_comes_back_is_reported() -> None:
    # not fused (no Transpose back to channels first), and its MatMul·Add not fused as a linear
    # on [N, features] either: each node is listed, where the pattern once escaped as a crash
    with pytest.raises(
        ModelError,
        match=r"^OpenChannelsLast\.onnx: 3 nodes have no convcost layer: Transpose ×1 \(first: "
        r'node "/permute/Transpose"\), MatMul \(on an input other than \[N, features\]\) ×1 '
        r'\(first: node "/fc/MatMul"\), Add \(by a constant tensor\) ×1 \(first: node '
        r'"/fc/Add"\)$',
    ):
        import_torch(OpenChannelsLast(), (3, 16, 16), exporter="torchscript")
