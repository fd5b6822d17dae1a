"""``convcost import`` and every command on a ``.onnx`` file, against PyTorch.

The zoo's plain-torch references (tests/torch_models.py), exported by both of PyTorch's
exporters in eval mode, import with exactly PyTorch's conv and linear MACs and output shapes
(counted by forward hooks, tests/torch_models.count_conv_linear), the bundled spec's receptive
fields, and the graph's own parameter count (counted here from the ONNX initializers); exported
with batchnorm kept, the parameter count is PyTorch's ``sum(p.numel())``. Each export is made
once per session (tests/onnx_exports.py). The command line's cases, bad models among them, are
in tests/test_import_cli.py.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import convcost
from convcost import zoo
from convcost.errors import ExitStatus, ModelError
from convcost.importer import import_model, import_torch, is_model_path, load_model, open_model
from convcost.importer.structure import to_spec
from convcost.report import Report
from tests.attacks.harness import cli_env, run_cli
from tests.conftest import require

torch = require("torch")
onnx = require("onnx")
require("onnxscript")  # the dynamo exporter writes its graphs with it

from tests.onnx_exports import EXPORTERS, Exports  # noqa: E402 (needs torch)
from tests.torch_models import MODELS, Counted, count_conv_linear  # noqa: E402

CONV_KINDS = {"conv", "depthwise", "pointwise", "linear", "conv_transpose"}
WEIGHTED_OPS = {"Conv": (1, 2), "Gemm": (1, 2), "BatchNormalization": (1, 2)}
"""The ONNX operators with parameters here, and the inputs that hold them (weight and bias;
a batchnorm's scale and shift: its running mean and variance are not parameters)."""

pytestmark = pytest.mark.torch


@functools.cache
def counted(name: str) -> Counted:
    return count_conv_linear(MODELS[name]().eval(), (3, 224, 224))


@functools.cache
def bundled(name: str) -> Report:
    path = zoo.find(name)
    assert path is not None
    return convcost.analyze(convcost.load_spec(path))


def graph_params(path: Path) -> int:
    """The parameters of an exported graph, from ONNX itself: the elements of every initializer
    a Conv, Gemm or BatchNormalization reads as its weight or bias (through the Identity nodes
    the TorchScript exporter puts in front of shared initializers)."""
    graph = onnx.load(str(path), load_external_data=False).graph
    sizes = {init.name: _elements(init.dims) for init in graph.initializer}
    aliases = {node.output[0]: node.input[0] for node in graph.node if node.op_type == "Identity"}
    total = 0
    for node in graph.node:
        for index in WEIGHTED_OPS.get(node.op_type, ()):
            if index < len(node.input) and node.input[index]:
                tensor = node.input[index]
                while tensor in aliases:
                    tensor = aliases[tensor]
                total += sizes[tensor]
    return total


def _elements(dims: Any) -> int:
    count = 1
    for dim in dims:
        count *= dim
    return count


def conv_fields(report: Report) -> Counter[tuple[object, ...]]:
    """Each conv or linear layer's output shape, receptive field and jump (a multiset: the
    import and the zoo spec may list the branches of a block in another order)."""
    return Counter(
        (layer.output_shape, layer.receptive_field.size, layer.receptive_field.jump)
        for layer in report.layers
        if layer.kind in CONV_KINDS
    )


# -- every zoo model, both exporters --------------------------------------------------------------


@pytest.mark.parametrize("exporter", EXPORTERS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_zoo_model_imports_with_pytorchs_numbers(
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
    assert report.totals.params == graph_params(path)
    # receptive field and jump of every conv and linear layer, and of the whole network
    assert conv_fields(report) == conv_fields(bundled(name))
    assert report.receptive_field == bundled(name).receptive_field
    # written flat (the graph read once: `import --flat` writes this text), the same network
    flat = convcost.analyze(convcost.parse_spec(to_spec(model.graph, flat=True)))
    assert (flat.totals, flat.output_shape, conv_fields(flat)) == (
        report.totals,
        report.output_shape,
        conv_fields(report),
    )


def without_comments(text: str) -> list[str]:
    """The spec's lines without the header and the trailing node comments (``# /fc/Gemm`` from
    one exporter, ``# node_linear (Gemm)`` from the other)."""
    return [re.sub(r"  # .*$", "", line) for line in text.splitlines() if not line.startswith("#")]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_both_exporters_write_the_same_spec(name: str, onnx_exports: Exports) -> None:
    # layer names come from the module paths, which both exporters record
    dynamo = import_model(onnx_exports.path(name, "dynamo"))
    torchscript = import_model(onnx_exports.path(name, "torchscript"))
    assert without_comments(dynamo) == without_comments(torchscript)


NO_BATCHNORM = {"alexnet", "squeezenet1_0", "vgg16"}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_batchnorm_kept_gives_pytorchs_parameters(name: str, onnx_exports: Exports) -> None:
    if name in NO_BATCHNORM:  # nothing to fold: the eval-mode export is the whole model
        path = onnx_exports.path(name, "torchscript")
        ops = {node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node}
        assert "BatchNormalization" not in ops
    else:
        path = onnx_exports.path(name, "torchscript", "batchnorm")
    report = convcost.analyze(load_model(path))
    assert report.totals.params == sum(p.numel() for p in MODELS[name]().parameters())
    assert report.totals.macs == counted(name).macs


def test_folded_batchnorm_is_noted(onnx_exports: Exports) -> None:
    model = open_model(onnx_exports.path("resnet18", "dynamo"))
    assert model.notes == (
        "batchnorm was folded into the preceding convolutions by the exporter (eval mode): the "
        "parameter count is the graph's (folded weights and biases), not the PyTorch module's",
    )
    kept = open_model(onnx_exports.path("resnet18", "torchscript", "batchnorm"))
    assert kept.notes == ()


def test_import_is_byte_identical_across_processes(onnx_exports: Exports, tmp_path: Path) -> None:
    # two processes with different hash seeds: no set or dict order may leak into the text
    path = onnx_exports.path("googlenet", "dynamo")
    texts = []
    for seed in ("1", "2"):
        output = tmp_path / f"googlenet-{seed}.yaml"
        run = run_cli(
            ["import", str(path), "-o", str(output)],
            cwd=tmp_path,
            env={"PYTHONHASHSEED": seed},
            deadline=120,
        )
        assert run.exit_code == ExitStatus.OK, run.describe()
        texts.append(output.read_bytes())
    assert texts[0] == texts[1]
    assert texts[0].decode() == import_model(path)
    # `analyze` of the written YAML is `analyze` of the .onnx file (but for the source named)
    reports = []
    for source in (str(path), str(tmp_path / "googlenet-1.yaml")):
        run = run_cli(["analyze", source, "-f", "json"], cwd=tmp_path, deadline=120)
        assert run.exit_code == ExitStatus.OK, run.describe()
        reports.append({**json.loads(run.stdout), "source": None})
    assert reports[0] == reports[1]
    assert reports[0]["totals"]["macs"] == counted("googlenet").macs


def test_resnet50_spec_is_short(onnx_exports: Exports) -> None:
    text = import_model(onnx_exports.path("resnet50", "dynamo"))
    lines = text.splitlines()
    print(f"ResNet-50 (dynamo export): {len(lines)} lines")  # reported in docs/import.md
    assert len(lines) <= 80  # 53 convs, 16 adds, 49 ReLUs: ~170 entries when flat
    assert "blocks:" in lines
    flat = import_model(onnx_exports.path("resnet50", "dynamo"), flat=True)
    assert "blocks:" not in flat.splitlines()


def test_external_weights_are_not_needed(onnx_exports: Exports, tmp_path: Path) -> None:
    # the dynamo exporter writes weights to NAME.onnx.data: only the initializers' dims are
    # read, so the import is the same without the file
    exported = onnx_exports.path("resnet18", "dynamo")
    assert exported.with_suffix(".onnx.data").stat().st_size > 40_000_000
    alone = tmp_path / "resnet18.onnx"
    alone.write_bytes(exported.read_bytes())
    assert import_model(alone) == import_model(exported)
    assert convcost.analyze(load_model(alone)).totals.macs == counted("resnet18").macs


# -- import_torch ----------------------------------------------------------------------------------


def small_net() -> Any:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, groups=2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 10),
    )


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_import_torch(exporter: str) -> None:
    module = small_net().train()
    text = import_torch(module, (3, 32, 32), exporter=exporter)  # type: ignore[arg-type]
    assert module.training  # put back as it was
    report = convcost.analyze(convcost.parse_spec(text))
    torch_counts = count_conv_linear(small_net().eval(), (3, 32, 32))
    assert report.totals.macs == torch_counts.macs
    assert [layer.output_shape for layer in report.layers if layer.kind in CONV_KINDS] == (
        torch_counts.shapes
    )


def test_import_torch_refuses_what_is_not_a_module() -> None:
    with pytest.raises(ModelError, match=r"^expected a torch\.nn\.Module, got function$"):
        import_torch(small_net, (3, 32, 32))


def test_is_model_path() -> None:
    assert is_model_path("resnet50.onnx")
    assert is_model_path(Path("models/Net.ONNX"))
    assert not is_model_path("resnet50.yaml")
    assert not is_model_path("resnet50")


def test_the_library_never_imports_onnx_for_a_yaml_spec(tmp_path: Path) -> None:
    code = (
        "import sys, convcost; from convcost.cli.common import resolve_spec; "
        "resolve_spec('resnet50'); print(sorted({'onnx', 'torch'} & set(sys.modules)))"
    )
    child = subprocess.run(
        [sys.executable, "-c", code],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert child.stdout == "[]\n"
