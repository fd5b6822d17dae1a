"""``--allow-unsupported``: an ONNX node convcost has no layer for becomes a ``custom``
placeholder of unknown cost (``unknown: true``), and every report on the spec says so.

Oracles: ONNX's own shape inference for the placeholders' shapes, hand-computed conv MACs
and parameter counts (each with where it comes from), and torch for the SELU model.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from convcost.engine import analyze_all
from convcost.errors import ModelError, SpecError
from convcost.spec import parse_spec
from tests.conftest import require

require("onnx")

import onnx  # noqa: E402

from convcost.importer import import_model, import_torch, load_model  # noqa: E402
from convcost.importer.onnx_reader import read_onnx  # noqa: E402
from tests.onnx_graphs import (  # noqa: E402
    conv,
    helper,
    inferred_output,
    save,
    weight,
)

ROOT = Path(__file__).resolve().parents[1]

NOTE = (
    "3 placeholder layers of unknown cost (Sin ×2, Pow ×1; first: layer {first}): "
    "their MACs and ops are not counted in the totals"
)

# conv 3→4, kernel 3, no bias, on 3×8×8: out 4×6×6; MACs = 4·6·6 outputs × 3·3·3 taps = 3,888
CONV_MACS = 3888
# conv weight 4·3·3·3 = 108, Pow's exponent initializer [1, 4, 1, 1] = 4 elements
PARAMS = 108 + 4


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """conv → Sin → Pow (by a constant exponent per channel) → Sin."""
    nodes = [
        conv(["x", "w"], "c", name="conv", kernel_shape=[3, 3]),
        helper.make_node("Sin", ["c"], ["s"], name="sin_a"),
        helper.make_node("Pow", ["s", "e"], ["p"], name="pow"),
        helper.make_node("Sin", ["p"], ["y"], name="sin_b"),
    ]
    return save(
        tmp_path / "m.onnx",
        nodes,
        [1, 3, 8, 8],
        initializers=[weight("w", [4, 3, 3, 3]), weight("e", [1, 4, 1, 1])],
    )


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "convcost", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


def test_unsupported_fails_without_the_option(model: Path) -> None:
    message = (
        'm.onnx: 3 nodes have no convcost layer: Sin ×2 (first: node "sin_a"), '
        'Pow ×1 (first: node "pow")'
    )
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(model)
    result = _cli("import", str(model), cwd=model.parent)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"error: {message}\n"


def test_placeholders_are_custom_layers_of_unknown_cost(model: Path) -> None:
    graph = read_onnx(model, allow_unsupported=True)
    shape = list(inferred_output(model))  # ONNX's shape inference: [4, 6, 6]
    assert [node.layer for node in graph.nodes][1:] == [
        {"custom": {"label": "Sin", "shape": shape, "unknown": True}},
        {"custom": {"label": "Pow", "shape": shape, "params": 4, "unknown": True}},
        {"custom": {"label": "Sin", "shape": shape, "unknown": True}},
    ]
    assert graph.notes == (
        "imported with --allow-unsupported: a node convcost has no layer for is a placeholder "
        'of unknown cost (custom, unknown: true) (node "sin_a" and 2 more)',
    )
    (report,) = analyze_all(load_model(model, allow_unsupported=True))
    assert (report.totals.macs, report.totals.ops, report.totals.params) == (
        CONV_MACS,
        0,
        PARAMS,
    )
    assert report.output_shape == tuple(shape)
    first = report.layers[1].path
    assert report.notes == (NOTE.format(first=first),)


def test_written_yaml_round_trips_with_the_same_notice(model: Path) -> None:
    text = import_model(model, allow_unsupported=True, flat=True)
    assert text == import_model(model, allow_unsupported=True, flat=True)  # byte-identical
    assert (
        "  - custom: {label: Pow, shape: [4, 6, 6], params: 4, unknown: true}  # pow (Pow)\n"
        "    name: pow\n"
    ) in text
    (direct,) = analyze_all(load_model(model, allow_unsupported=True))
    (again,) = analyze_all(parse_spec(text, source="m.yaml"))
    assert again.totals == direct.totals
    assert again.notes == (NOTE.format(first="sin_a"),)


def test_every_command_says_so(model: Path) -> None:
    folder = model.parent
    result = _cli("import", "m.onnx", "--allow-unsupported", "--flat", "-o", "m.yaml", cwd=folder)
    assert (result.returncode, result.stderr) == (0, "")
    warning = f"warning: m: {NOTE.format(first='sin_a')}\n"
    for source in ("m.yaml", "m.onnx"):
        extra = ["--allow-unsupported"] if source == "m.onnx" else []
        result = _cli("analyze", source, "-f", "json", *extra, cwd=folder)
        assert result.returncode == 0, result.stderr
        assert result.stderr.endswith(warning)
        data = json.loads(result.stdout)
        assert data["notes"] == [NOTE.format(first="sin_a")]
        assert data["totals"]["macs"] == CONV_MACS
        table = _cli("analyze", source, *extra, cwd=folder)
        assert re.search(r"total\s+4×6×6\s+112\s+3\.9 K \+ \?", table.stdout), table.stdout
        markdown = _cli("analyze", source, "-f", "markdown", *extra, cwd=folder)
        assert f"> warning: {NOTE.format(first='sin_a')}" in markdown.stdout
    # the CI gate passes on the MACs it can count, and says which it cannot
    result = _cli("check", "m.onnx", "--allow-unsupported", "--max-macs", "4000", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert f"note: m.onnx: m: {NOTE.format(first='sin_a')}" in result.stderr
    # compare and explain take the option too
    assert _cli("compare", "m.onnx", "m.yaml", "--allow-unsupported", cwd=folder).returncode == 0
    explained = _cli("explain", "m.yaml", "--layer", "pow", cwd=folder)
    assert explained.returncode == 0, explained.stderr
    assert "declared: Pow, cost unknown" in explained.stdout


def test_a_shape_onnx_cannot_infer_stays_an_error(tmp_path: Path) -> None:
    node = helper.make_node("Fancy", ["x"], ["y"], name="n", domain="com.vendor")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.vendor", 1)]
    path = tmp_path / "v.onnx"
    onnx.save(helper.make_model(graph, opset_imports=opsets), str(path))
    message = (
        "v.onnx: node \"n\" (Fancy): ONNX cannot infer the shape of its output 'y': "
        "a placeholder of unknown cost needs it"
    )
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path, allow_unsupported=True)
    result = _cli("analyze", "v.onnx", "--allow-unsupported", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"error: {message}\n")


def test_unknown_cost_declares_no_macs() -> None:
    text = "name: t\ninput: [3, 8, 8]\nlayers:\n  - custom: {unknown: true, macs: 5}\n"
    message = (
        "t.yaml:4:35: layer custom1, field custom.macs: "
        "a layer of unknown cost declares no macs: remove it"
    )
    with pytest.raises(SpecError, match=f"^{re.escape(message)}$"):
        analyze_all(parse_spec(text, source="t.yaml"))


def test_torch_selu_imports_as_placeholders() -> None:
    require("torch")
    import torch  # noqa: PLC0415  (optional)
    from torch import nn  # noqa: PLC0415

    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(3, 8, 3), nn.SELU(), nn.Conv2d(8, 4, 3, stride=2))
    x = torch.randn(1, 3, 16, 16)
    with pytest.raises(ModelError, match=r"Selu ×1 \(first: node"):
        import_torch(module, (3, 16, 16), exporter="torchscript")
    text = import_torch(module, (3, 16, 16), exporter="torchscript", allow_unsupported=True)
    (report,) = analyze_all(parse_spec(text, source="selu.yaml"))
    assert report.output_shape == tuple(module(x).shape[1:])
    assert report.totals.params == sum(p.numel() for p in module.parameters())
    # conv MACs from torch's shapes: out elements × (in channels × kernel taps)
    first, second = module[0](x), module(x)
    expected = first[0].numel() * 3 * 9 + second[0].numel() * 8 * 9
    assert report.totals.macs == expected
    (selu,) = [row.path for row in report.layers if row.kind == "custom:Selu"]
    assert report.notes == (
        f"1 placeholder layer of unknown cost (Selu ×1; first: layer {selu}): "
        "its MACs and ops are not counted in the totals",
    )
