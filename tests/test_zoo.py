"""The bundled models: exact totals, PyTorch agreement, receptive fields, and the CLI by name."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner, Result

import convcost
from convcost import zoo
from convcost.cli import app
from convcost.report import Report
from tests.conftest import require

# Parameters and conv + linear MACs (no bias adds) of torchvision's models at 3×224×224, batch 1:
# the table of issue 3, from torchvision's definitions (torchinfo's "Total params" and
# "Total mult-adds" agree on these). resnet50_v1 has no torchvision model: its MACs are what the
# hook counter in test_zoo_matches_pytorch measures on tests/torch_models.resnet50_v1.
TOTALS = {
    "alexnet": (61_100_840, 714_188_480),
    "vgg16": (138_357_544, 15_470_264_320),
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet50": (25_557_032, 4_089_184_256),
    "resnet50_v1": (25_557_032, 3_857_973_248),
    "mobilenet_v2": (3_504_872, 300_774_272),
    "googlenet": (6_624_904, 1_498_376_192),
    # torchvision's model docs list 1,248,424, 2,278,604 and 2,542,856 parameters and 0.82, 0.14
    # and 0.06 "GFLOPS" (its MACs, rounded); the exact MACs are the hook counter's on
    # tests/torch_models
    "squeezenet1_0": (1_248_424, 818_924_576),
    "shufflenet_v2_x1_0": (2_278_604, 144_907_992),
    "mobilenet_v3_small": (2_542_856, 56_510_400),
    # torchvision's docs: 7,978,856 parameters, 2.83 "GFLOPS"
    "densenet121": (7_978_856, 2_834_161_664),
}

# Layers whose stride leaves real input pixels unread (a floor-division warning), as in the
# originals: SqueezeNet's unpadded 7×7 stride-2 conv1 on 224 reads up to pixel 222 of 0…223.
UNREAD = {"squeezenet1_0": ["conv1"]}

CONV_KINDS = {"conv", "depthwise", "pointwise", "linear"}


def run_cli(*args: str) -> Result:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"}).invoke(app, list(args))


def bundled(name: str) -> Report:
    path = zoo.find(name)
    assert path is not None, name
    return convcost.analyze(convcost.load_spec(path))


def test_zoo_lists_exactly_the_verified_models() -> None:
    assert set(zoo.names()) == set(TOTALS)


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_zoo_totals(name: str) -> None:
    report = bundled(name)
    assert (report.totals.params, report.totals.macs) == TOTALS[name]
    assert report.input_shape == (3, 224, 224)
    assert report.output_shape == (1000,)
    assert [warning.path for warning in report.warnings] == UNREAD.get(name, [])


@pytest.mark.parametrize(
    ("name", "path", "field", "jump"),
    [
        # Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks",
        # Distill 2019, table of receptive fields: AlexNet 195 and VGG-16 212 at pool5, jump 32.
        ("alexnet", "pool5", 195, 32),
        ("vgg16", "stage5.pool", 212, 32),
        # ResNet-50 after layer4: 483 with the stride on the first 1×1 (the paper, v1), 427 with
        # it on the 3×3 (torchvision, v1.5); the 3×3 then runs at the finer jump of the input.
        ("resnet50", "layer4", 427, 32),
        ("resnet50_v1", "layer4", 483, 32),
    ],
)
def test_receptive_fields(name: str, path: str, field: int, jump: int) -> None:
    report = bundled(name)
    entries = {entry.path: entry.receptive_field for entry in (*report.layers, *report.blocks)}
    assert entries[path].size == (field, field)
    assert entries[path].jump == (jump, jump)


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_analyze_by_name(name: str) -> None:
    result = run_cli("analyze", name, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["params"] == TOTALS[name][0]


def test_depth_one_rows_sum_to_the_totals() -> None:
    result = run_cli("analyze", "resnet50", "--depth", "1", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    header, *lines = result.stdout.strip().splitlines()
    columns = header.split(",")
    rows = [dict(zip(columns, line.split(","), strict=True)) for line in lines]
    paths = [row["path"] for row in rows]
    # stem layers, the four stages as single rows, then the head
    assert paths == [
        "conv1", "bn1", "relu1", "maxpool1", "layer1", "layer2", "layer3", "layer4",
        "avgpool", "flatten1", "fc",
    ]  # fmt: skip
    assert sum(int(row["params"]) for row in rows) == TOTALS["resnet50"][0]
    assert sum(int(row["macs"]) for row in rows) == TOTALS["resnet50"][1]


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(TOTALS))
def test_zoo_matches_pytorch(name: str) -> None:
    torch = require("torch")
    from tests.torch_models import MODELS  # noqa: PLC0415 (needs torch; the other tests run without)

    model = MODELS[name]().eval()
    shapes: list[tuple[int, ...]] = []
    macs = 0

    def record(module: object, inputs: tuple[object, ...], output: object) -> None:
        # the same convention as convcost: conv MACs = output elements · (C_in / groups) · ∏k,
        # linear MACs = in · out; bias adds are not MACs
        nonlocal macs
        assert isinstance(output, torch.Tensor)
        shapes.append(tuple(output.shape[1:]))
        if isinstance(module, torch.nn.Linear):
            macs += module.in_features * module.out_features
        else:
            assert isinstance(module, torch.nn.Conv2d)
            per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
            macs += output.numel() * per_output

    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d | torch.nn.Linear):
            module.register_forward_hook(record)
    with torch.no_grad():
        output = model(torch.zeros(1, 3, 224, 224))

    report = bundled(name)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.macs == macs == TOTALS[name][1]
    predicted = [layer.output_shape for layer in report.layers if layer.kind in CONV_KINDS]
    assert predicted == shapes
    assert tuple(output.shape[1:]) == report.output_shape
