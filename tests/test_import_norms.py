"""LayerNormalization, InstanceNormalization and GroupNorm's Reshape·InstanceNormalization·
Reshape·Mul·Add from torch modules exported by both of PyTorch's ONNX exporters: the layers they
become, and parameters equal to the torch module's."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import convcost
from convcost.errors import ModelError
from convcost.importer import load_model, read_model
from tests.conftest import require

require("onnx")
torch = pytest.importorskip("torch")
nn = torch.nn

SHAPE = (8, 5, 6)

MODULES: dict[str, tuple[Any, list[object]]] = {
    # nn.LayerNorm(F) on a flat input: LayerNormalization over the last axis of [N, F]
    "layernorm flat": (
        lambda: nn.Sequential(nn.Flatten(), nn.LayerNorm(240, eps=1e-6)),
        [{"flatten": {}}, {"layernorm": {"eps": 1e-6}}],
    ),
    # nn.LayerNorm([C, H, W]): axis 1 (TorchScript writes −3) of [N, C, H, W]
    "layernorm all": (lambda: nn.LayerNorm(list(SHAPE)), [{"layernorm": {"over": "all"}}]),
    # PyTorch's defaults: no affine, its ones and zeros constants of the exporter's own
    "instancenorm": (lambda: nn.InstanceNorm2d(8), [{"instancenorm": {}}]),
    "instancenorm affine": (
        lambda: nn.InstanceNorm2d(8, affine=True, eps=1e-3),
        [{"instancenorm": {"affine": True, "eps": 1e-3}}],
    ),
    # Reshape to [N, 2, −1], InstanceNormalization by ones and zeros, Reshape back, Mul, Add;
    # trained values (both exporters rename γ: only its values tell it from affine=False's ones)
    "groupnorm": (lambda: _trained(nn.GroupNorm(2, 8)), [{"groupnorm": {"groups": 2}}]),
    "groupnorm no affine": (
        lambda: nn.GroupNorm(4, 8, eps=1e-6, affine=False),
        [{"groupnorm": {"groups": 4, "eps": 1e-6, "affine": False}}],
    ),
}


def _trained(module: Any) -> Any:
    """``module`` with γ and β away from PyTorch's initial ones and zeros."""
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(0.5, 1.5)
    return module


def _export(model: Any, path: Path, dynamo: bool) -> Path:
    x = torch.randn(1, *SHAPE)
    options: dict[str, Any] = {} if dynamo else {"opset_version": 17}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (x,), str(path), dynamo=dynamo, **options)
    return path


@pytest.mark.parametrize("exporter", ["ts", "dynamo"])
@pytest.mark.parametrize("name", list(MODULES))
def test_exported_norms_become_their_kinds(name: str, exporter: str, tmp_path: Path) -> None:
    factory, expected = MODULES[name]
    torch.manual_seed(0)
    model = factory()
    path = _export(model, tmp_path / "m.onnx", exporter == "dynamo")
    graph = read_model(path)
    assert [node.layer for node in graph.nodes] == expected
    report = convcost.analyze(load_model(path))
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.output_shape == ((240,) if name == "layernorm flat" else SHAPE)


def _unsupported(path: Path, label: str, count: int, node: str) -> None:
    nodes = "1 node has" if count == 1 else f"{count} nodes have"
    message = f'{path.name}: {nodes} no convcost layer: {label} ×{count} (first: node "{node}")'
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_model(path)


def test_layernorm_over_the_last_axis_of_a_map_is_unsupported(tmp_path: Path) -> None:
    # nn.LayerNorm(6) on [N, 8, 5, 6] normalises each row of W: no convcost kind does that
    path = _export(nn.LayerNorm(6), tmp_path / "ln.onnx", dynamo=False)
    label = "LayerNormalization (other than over a flat input or a whole map)"
    _unsupported(path, label, 1, "/LayerNormalization")
