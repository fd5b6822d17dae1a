"""read_onnx on models PyTorch exports, with both its exporters, against the torch modules.

Oracles: the torch modules themselves (their conv/linear names, fields, and the output shapes
and MACs forward hooks see), never the reader's own arithmetic. Each model is exported once per
exporter (a module-scoped cache), at a small input so the exports take seconds.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from convcost.errors import ModelError
from convcost.importer.graph import Graph
from convcost.importer.onnx_reader import FOLDED_BATCHNORM, read_onnx
from tests.conftest import require
from tests.graph_eval import evaluate, kinds

torch = require("torch")
require("onnx")
require("onnxscript")  # the dynamo exporter's

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from tests import torch_models  # noqa: E402

SIZE = 64
"""The exported input's height and width (small: the exports and hooks stay fast)."""

WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Linear)


class Gadgets(nn.Module):
    """Every fused pattern and window detail the exporters write for plain modules."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=(1, 2), dilation=(1, 2))
        self.silu = nn.SiLU()
        self.gelu = nn.GELU()
        self.gate = nn.Hardsigmoid()
        self.deconv = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.padded = nn.Conv2d(6, 6, 4, groups=3)
        self.act = nn.Tanh()
        self.mp = nn.MaxPool2d(2, ceil_mode=True)
        self.fc = nn.Linear(336, 10)

    def forward(self, x: Any) -> Any:
        x = self.gelu(self.silu(self.conv(x)))
        x = self.pool(self.deconv(x * self.gate(x)))
        x = self.mp(self.act(self.padded(F.pad(x, (0, 1, 0, 1)))))  # asymmetric: right, bottom
        return self.fc(torch.flatten(x, 1))


GADGETS_INPUT = (3, 29, 31)


class Unsupported(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.act = nn.SELU()
        self.act2 = nn.SELU()
        self.up = nn.Upsample(scale_factor=2)
        self.soft = nn.CELU()

    def forward(self, x: Any) -> Any:
        return self.soft(self.up(self.act2(self.act(self.conv(x)))))


MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    name: (torch_models.MODELS[name], (3, SIZE, SIZE))
    for name in ("resnet18", "shufflenet_v2_x1_0", "mobilenet_v3_small", "googlenet")
}
MODELS["gadgets"] = (Gadgets, GADGETS_INPUT)
MODELS["unsupported"] = (Unsupported, (3, 16, 16))


def _export(
    model: nn.Module, shape: tuple[int, ...], path: Path, *, dynamo: bool, **options: Any
) -> Path:
    torch.manual_seed(0)
    x = torch.randn(1, *shape)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if not dynamo:
            options.setdefault("opset_version", 17)  # below 20: nn.GELU exports as the Erf pattern
        torch.onnx.export(model, (x,), str(path), dynamo=dynamo, **options)
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Path]:
    """`exported(model, "ts" | "dynamo")`: the model's ONNX file, exported on first use."""
    folder = tmp_path_factory.mktemp("onnx")
    cache: dict[tuple[str, str], Path] = {}

    def get(name: str, exporter: str) -> Path:
        if (name, exporter) not in cache:
            factory, shape = MODELS[name]
            torch.manual_seed(0)
            model = factory().eval()
            path = folder / f"{name}_{exporter}.onnx"
            cache[name, exporter] = _export(model, shape, path, dynamo=exporter == "dynamo")
        return cache[name, exporter]

    return get


def _torch_layers(
    model: nn.Module, shape: tuple[int, ...]
) -> dict[str, tuple[tuple[int, ...], int, nn.Module]]:
    """Each conv/linear module's name → (output shape without batch, MACs, module), from hooks."""
    seen: dict[str, tuple[tuple[int, ...], int, nn.Module]] = {}

    def hook(name: str) -> Callable[..., None]:
        def record(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            if isinstance(module, nn.Linear):
                macs = output.numel() * module.in_features
            elif isinstance(module, nn.ConvTranspose1d | nn.ConvTranspose2d):
                # every input element meets out/groups kernels
                per = module.out_channels // module.groups * math.prod(module.kernel_size)
                macs = inputs[0].numel() * per
            else:  # every output element is a dot product of (in/groups)·k taps
                macs = (
                    output.numel()
                    * module.in_channels
                    // module.groups
                    * math.prod(module.kernel_size)
                )
            seen[name] = (tuple(output.shape[1:]), macs, module)

        return record

    for name, module in model.named_modules():
        if isinstance(module, WEIGHTED):
            module.register_forward_hook(hook(name))
    with torch.no_grad():
        model(torch.randn(1, *shape))
    return seen


def _per_axis(value: object, rank: int) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (value,) * rank


def _check_against_torch(graph: Graph, name: str, padding: dict[str, object] | None = None) -> None:
    """`padding`: a layer's expected padding where F.pad before it adds to its module's."""
    factory, shape = MODELS[name]
    torch.manual_seed(0)
    expected = _torch_layers(factory().eval(), shape)
    results = evaluate(graph)
    weighted = {
        n.name: n for n in graph.nodes if kinds_of(n) in ("conv", "conv_transpose", "linear")
    }
    assert sorted(weighted) == sorted(expected)
    for layer_name, (out_shape, macs, module) in expected.items():
        assert results[layer_name].output_shape == out_shape, layer_name
        assert results[layer_name].macs == macs, layer_name
        fields = dict(weighted[layer_name].layer[kinds_of(weighted[layer_name])])  # type: ignore[index]
        if isinstance(module, nn.Linear):
            assert fields["out"] == module.out_features
            continue
        rank = len(module.kernel_size)
        assert fields["out"] == module.out_channels, layer_name
        assert _per_axis(fields["kernel"], rank) == module.kernel_size, layer_name
        assert _per_axis(fields.get("stride", 1), rank) == module.stride, layer_name
        assert _per_axis(fields.get("dilation", 1), rank) == module.dilation, layer_name
        assert fields.get("groups", 1) == module.groups, layer_name
        written = _per_axis(fields.get("padding", 0), rank)
        expected_padding = (padding or {}).get(layer_name, module.padding)
        assert tuple(p if isinstance(p, int) else tuple(p) for p in written) == expected_padding


def kinds_of(node: Any) -> str:
    return node.merge or next(iter(node.layer))


@pytest.mark.parametrize("exporter", ["ts", "dynamo"])
@pytest.mark.parametrize("name", ["resnet18", "shufflenet_v2_x1_0"])
def test_zoo_models_convs_match_torch(
    exported: Callable[[str, str], Path], name: str, exporter: str
) -> None:
    graph = read_onnx(exported(name, exporter))
    assert graph.input_shape == MODELS[name][1]
    _check_against_torch(graph, name)
    assert FOLDED_BATCHNORM in graph.notes  # eval mode: both exporters fold batchnorm


@pytest.mark.parametrize(("name", "exporter"), [("mobilenet_v3_small", "ts"), ("googlenet", "ts")])
def test_more_zoo_models_match_torch(
    exported: Callable[[str, str], Path], name: str, exporter: str
) -> None:
    _check_against_torch(read_onnx(exported(name, exporter)), name)


@pytest.mark.parametrize("name", ["resnet18", "shufflenet_v2_x1_0"])
def test_both_exporters_give_the_same_names(
    exported: Callable[[str, str], Path], name: str
) -> None:
    # TorchScript's names come from node names (/layer1/layer1.0/conv1/Conv), dynamo's from
    # metadata scopes and weights: the same modules, the same names
    ts, dynamo = read_onnx(exported(name, "ts")), read_onnx(exported(name, "dynamo"))
    assert [n.name for n in ts.nodes] == [n.name for n in dynamo.nodes]


def test_shufflenet_reads_split_and_shuffle(exported: Callable[[str, str], Path]) -> None:
    # torchvision's ShuffleNet v2: 13 units split channels in two (x.chunk: Slice in the
    # TorchScript export, Split in the dynamo one), all 16 units shuffle with 2 groups
    for exporter in ("ts", "dynamo"):
        graph = read_onnx(exported("shufflenet_v2_x1_0", exporter))
        shuffles = [n.layer for n in graph.nodes if kinds_of(n) == "channel_shuffle"]
        assert shuffles == [{"channel_shuffle": {"groups": 2}}] * 16
        splits = [n.layer for n in graph.nodes if kinds_of(n) == "split"]
        assert (
            splits
            == [{"split": {"parts": 2, "index": 0}}, {"split": {"parts": 2, "index": 1}}] * 13
        )


def test_mobilenet_v3_gates_multiply(exported: Callable[[str, str], Path]) -> None:
    graph = read_onnx(exported("mobilenet_v3_small", "ts"))
    # 9 blocks have squeeze-and-excitation: x * hardsigmoid(fc2(...)), a multiply merge
    assert kinds(graph).count("multiply") == 9
    assert kinds(graph).count("hardsigmoid") == 9
    assert kinds(graph).count("hardswish") == 19  # nn.Hardswish modules in the reference


@pytest.mark.parametrize("exporter", ["ts", "dynamo"])
def test_gadgets_fused_patterns(exported: Callable[[str, str], Path], exporter: str) -> None:
    graph = read_onnx(exported("gadgets", exporter))
    # F.pad(x, (0, 1, 0, 1)) pads the right and bottom by one: folded into the next conv
    _check_against_torch(graph, "gadgets", padding={"padded": ((0, 1), (0, 1))})
    assert kinds(graph) == [
        "conv", "silu", "gelu", "hardswish", "conv_transpose", "avgpool", "conv", "tanh",
        "maxpool", "flatten", "linear",
    ]  # fmt: skip
    origins = {n.name: n.origin.op_type for n in graph.nodes}
    assert origins["silu"] == "Mul·Sigmoid"
    assert origins["gate"] == "Mul·HardSigmoid"  # x * hardsigmoid(x) is hard-swish
    # opset 17 has no Gelu: the TorchScript exporter writes 0.5·x·(1 + erf(x/√2))
    assert origins["gelu"] == ("Erf GELU" if exporter == "ts" else "Gelu")
    padded = next(n.layer for n in graph.nodes if n.name == "padded")
    assert padded == {"conv": {"out": 6, "kernel": 4, "padding": [[0, 1], [0, 1]], "groups": 3}}
    pool = next(n.layer for n in graph.nodes if n.name == "pool")
    assert pool == {"avgpool": {"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}}
    assert FOLDED_BATCHNORM not in graph.notes
    assert any("count_include_pad=0" in note for note in graph.notes)


def test_unsupported_operators_listed(exported: Callable[[str, str], Path]) -> None:
    path = exported("unsupported", "ts")
    message = (
        "unsupported_ts.onnx: 3 nodes have no convcost layer: "
        'Selu ×2 (first: node "/act/Selu"), '
        'Celu ×1 (first: node "/soft/Celu")'
    )
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)


def test_batchnorm_preserved_counts_torch_parameters(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = torch_models.resnet18().eval()
    path = _export(
        model,
        (3, SIZE, SIZE),
        tmp_path / "bn.onnx",
        dynamo=False,
        training=torch.onnx.TrainingMode.PRESERVE,
    )
    graph = read_onnx(path)
    assert kinds(graph).count("batchnorm") == 20
    assert FOLDED_BATCHNORM not in graph.notes
    params = sum(result.params for result in evaluate(graph).values())
    assert params == sum(p.numel() for p in model.parameters())


def test_external_data_not_needed(exported: Callable[[str, str], Path], tmp_path: Path) -> None:
    source = exported("resnet18", "dynamo")
    data = source.with_name(source.name + ".data")
    assert data.exists()  # the dynamo exporter keeps weights outside the .onnx file
    alone = tmp_path / source.name
    alone.write_bytes(source.read_bytes())  # the graph without its weights
    assert read_onnx(alone) == read_onnx(source)


def test_symbolic_spatial_sizes_need_input_shape(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 5))
    axes = {"x": {0: "batch", 2: "height", 3: "width"}}
    path = _export(
        model,
        (3, 32, 32),
        tmp_path / "dyn.onnx",
        dynamo=False,
        input_names=["x"],
        dynamic_axes=axes,
    )
    message = (
        'dyn.onnx: input "x" is [batch, 3, height, width], with symbolic sizes (height, width): '
        "give the input shape without batch, e.g. --input 3x224x224"
    )
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)
    graph = read_onnx(path, input_shape=(3, 40, 48))
    assert graph.input_shape == (3, 40, 48)
    with torch.no_grad():
        expected = tuple(model(torch.randn(1, 3, 40, 48)).shape[1:])
    assert evaluate(graph)[graph.output].output_shape == expected
    with pytest.raises(ModelError, match=r"the input shape 4x40x48 does not fit it$"):
        read_onnx(path, input_shape=(4, 40, 48))
