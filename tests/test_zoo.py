"""The bundled models: exact totals, PyTorch agreement, receptive fields, and the CLI by name."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict

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
    # torchvision's docs: 28,589,128 parameters, 4.46 "GFLOPS"; the exact MACs are the hook
    # counter's on tests/torch_models_modern
    "convnext_tiny": (28_589_128, 4_455_531_264),
    # torchvision's docs list 42,004,074 parameters with the aux classifier, whose FCNHead(1024,
    # 21) holds 1024·256·9 + 2·256 + 256·21 + 21 = 2,365,205 of them; its MACs at 520 are pinned
    # to the docs' 178.72 "GFLOPS" by test_deeplab_matches_torchvisions_published_macs
    "deeplabv3_resnet50": (39_638_869, 31_310_548_992),
    # no published figure at this size: both are the hook counter's (tests/torch_models_modern)
    "unet": (31_030_658, 192_384_335_872),
    # by hand: 5·5·64 + 64 + 3·3·64·32 + 32 + 3·3·32·9 + 9 = 22,729 parameters; 224² positions ·
    # (5·5·64 + 3·3·64·32 + 3·3·32·9) = 50,176 · 22,624 MACs
    "espcn": (22_729, 1_135_181_824),
}

CLASSIFIER = ((3, 224, 224), (1000,))
SHAPES = {
    "unet": ((1, 512, 512), (2, 512, 512)),
    "deeplabv3_resnet50": ((3, 224, 224), (21, 224, 224)),
    "espcn": ((1, 224, 224), (1, 672, 672)),
}
"""Input and output shapes of the bundled models that are not ImageNet classifiers
(CLASSIFIER): U-Net on a 512² grayscale tile, DeepLabV3's 21 PASCAL VOC classes at the input's
size, ESPCN's ×3 upscaling of a luminance channel."""


def shapes(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return SHAPES.get(name, CLASSIFIER)


def shown(shape: tuple[int, ...], separator: str = "×") -> str:
    return separator.join(map(str, shape))


# Layers whose stride leaves real input pixels unread (a floor-division warning), as in the
# originals: SqueezeNet's unpadded 7×7 stride-2 conv1 on 224 reads up to pixel 222 of 0…223.
UNREAD = {"squeezenet1_0": ["conv1"]}
# Layers whose dilated taps read only padding: DeepLabV3's rate-36 ASPP branch on the 28×28 map
# of a 224 input, whose taps but the centre lie 36 positions away, past the map's last (27).
DEAD_TAPS = {"deeplabv3_resnet50": ["aspp.concat1.rate36.atrous1.conv1"]}

CONV_KINDS = {"conv", "depthwise", "pointwise", "linear"}


def run_cli(*args: str) -> Result:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"}).invoke(app, list(args))


def bundled(name: str) -> Report:
    path = zoo.find(name)
    assert path is not None, name
    return convcost.analyze(convcost.load_spec(path))


def test_zoo_lists_exactly_the_verified_models() -> None:
    assert zoo.names() == sorted(TOTALS)


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_zoo_totals(name: str) -> None:
    report = bundled(name)
    assert (report.totals.params, report.totals.macs) == TOTALS[name]
    assert (report.input_shape, report.output_shape) == shapes(name)
    warned = UNREAD.get(name, []) + DEAD_TAPS.get(name, [])
    assert [warning.path for warning in report.warnings] == warned


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


def test_deeplab_matches_torchvisions_published_macs() -> None:
    # torchvision's model docs list 178.72 "GFLOPS" (its MACs) for deeplabv3_resnet50 at
    # 3×520×520, counted with the aux classifier: FCNHead(1024, 21) on layer3's 65×65 map, a 3×3
    # conv 1024 → 256 and a 1×1 conv 256 → 21. At 520 the image-pooling branch upsamples to 65².
    path = zoo.find("deeplabv3_resnet50")
    assert path is not None
    text = path.read_text(encoding="utf-8")
    assert text.count("size: [28, 28]") == 1
    spec = convcost.parse_spec(text.replace("size: [28, 28]", "size: [65, 65]"))
    report = convcost.analyze(spec, input_shape=(3, 520, 520))
    assert report.output_shape == (21, 520, 520)
    aux = 65 * 65 * (1024 * 256 * 9 + 256 * 21)
    assert round((report.totals.macs + aux) / 10**9, 2) == 178.72


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


# The torch module classes and functions (tests/torch_models.FUNCTIONS) the references
# (tests/torch_models*.py) run, and the convcost kinds they are, grouped where one stands for
# several (a Linear is a linear or a pointwise conv; ConvNeXt's layer scale is a multiply)
TORCH_KINDS = {
    "Conv2d": "conv",
    "Linear": "conv",
    "ConvTranspose2d": "conv_transpose",
    "BatchNorm2d": "batchnorm",
    "LayerNorm": "layernorm",
    "LayerNorm2d": "layernorm",
    "ReLU": "relu",
    "ReLU6": "relu6",
    "GELU": "gelu",
    "Tanh": "tanh",
    "Hardswish": "hardswish",
    "Hardsigmoid": "hardsigmoid",
    "MaxPool2d": "maxpool",
    "AvgPool2d": "avgpool",
    "AdaptiveAvgPool2d": "adaptive_avgpool",
    "Flatten": "flatten",
    "Dropout": "dropout",
    "PixelShuffle": "pixel_shuffle",
    "add": "add",
    "mul": "multiply",
    "cat": "concat",
    "interpolate": "upsample",
}
GROUPED = dict.fromkeys(CONV_KINDS, "conv") | {
    "global_avgpool": "adaptive_avgpool",
    "layer_scale": "multiply",
}
UNSEEN = {"split", "channel_shuffle"}
"""Kinds the references compute with views (ShuffleNet's ``chunk`` and its reshape-transpose
shuffle), which the function mode does not record: their outputs are checked as the inputs of
the layers after them."""


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(TOTALS))
def test_zoo_matches_pytorch(name: str) -> None:
    require("torch")
    # needs torch; the other tests run without
    from tests.torch_models import MODELS, count_conv_linear  # noqa: PLC0415
    from tests.torch_models_modern import MODERN_MODELS  # noqa: PLC0415

    make = MODELS[name] if name in MODELS else MODERN_MODELS[name][0]
    model = make().eval()
    counted = count_conv_linear(model, shapes(name)[0])

    report = bundled(name)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.macs == counted.macs == TOTALS[name][1]
    predicted = [
        layer.output_shape
        for layer in report.layers
        if layer.kind in CONV_KINDS | {"conv_transpose"}
    ]
    assert predicted == counted.shapes
    assert counted.output_shape == report.output_shape
    # every layer's output shape: the calls of each torch module class and function in order
    # against the layers of its kind in the report's order
    expected: dict[str, list[tuple[int, ...]]] = defaultdict(list)
    for step, shape in counted.steps:
        expected[TORCH_KINDS[step]].append(shape)
    got: dict[str, list[tuple[int, ...]]] = defaultdict(list)
    for layer in report.layers:
        if layer.kind not in UNSEEN:
            got[GROUPED.get(layer.kind, layer.kind)].append(layer.output_shape)
    assert got == expected


# --- `convcost zoo` in every format -------------------------------------------------------------

# AlexNet's outputs, from torchvision's definition on 3×224×224 (C·H·W each): conv1 and its relu
# 64·55·55 = 193,600 twice; pool 64·27·27 = 46,656; conv2 and relu 192·27·27 = 139,968 twice;
# pool 192·13·13 = 32,448; conv3 and relu 384·13·13 = 64,896 twice; conv4, relu, conv5, relu
# 256·13·13 = 43,264 four times; pool5, adaptive avgpool, flatten, dropout 256·6·6 = 9,216 four
# times; linear, relu, dropout, linear, relu 4,096 five times; linear 1,000.
ALEXNET_ACTIVATIONS = (
    2 * 193_600 + 46_656 + 2 * 139_968 + 32_448 + 2 * 64_896 + 4 * 43_264 + 4 * 9_216
    + 5 * 4_096 + 1_000
)  # fmt: skip
# Layers: AlexNet 13 in the features (5 convs, 5 relus, 3 pools) + avgpool + flatten + 7 in the
# classifier; VGG-16 13 convs + 13 relus + 5 pools + avgpool + flatten + 7 in the classifier.
LAYER_COUNTS = {"alexnet": 22, "vgg16": 40}


def test_zoo_json_is_every_models_full_report() -> None:
    result = run_cli("zoo", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [model["name"] for model in data] == sorted(TOTALS)
    for model in data:
        name, totals = model["name"], model["totals"]
        assert (totals["params"], totals["macs"]) == TOTALS[name]
        assert totals["flops"] == 2 * TOTALS[name][1]  # the convention, on torchvision's MACs
        assert [model["input_shape"], model["output_shape"]] == list(map(list, shapes(name)))
        assert model["source"].endswith(f"zoo/{name}.yaml")
        if name in LAYER_COUNTS:
            assert len(model["layers"]) == LAYER_COUNTS[name]
    alexnet = data[0]["totals"]
    assert alexnet["activation_elements"] == ALEXNET_ACTIVATIONS == 1_107_432
    assert alexnet["activation_bytes"] == 4 * ALEXNET_ACTIVATIONS


def test_zoo_csv_is_one_line_of_exact_totals_per_model() -> None:
    result = run_cli("zoo", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    lines = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.stdout.splitlines()[0] == (
        "name,input_shape,output_shape,params,macs,flops,ops,activation_bytes"
    )
    assert [line["name"] for line in lines] == sorted(TOTALS)
    for line in lines:
        assert (int(line["params"]), int(line["macs"])) == TOTALS[line["name"]]
        assert int(line["flops"]) == 2 * TOTALS[line["name"]][1]
        expected = tuple(shown(shape, "x") for shape in shapes(line["name"]))
        assert (line["input_shape"], line["output_shape"]) == expected
    assert int(lines[0]["activation_bytes"]) == 4 * ALEXNET_ACTIVATIONS


@pytest.mark.parametrize("exact", [False, True])
def test_zoo_markdown_is_one_row_per_model(exact: bool) -> None:
    result = run_cli("zoo", "-f", "markdown", *(["--exact"] if exact else []))
    assert result.exit_code == 0, result.stderr
    header, rule, *rows = result.stdout.splitlines()
    assert (header, rule) == (
        "| model | input | params | MACs | activations |",
        "|---|--:|--:|--:|--:|",
    )
    cells = {line.split(" | ")[0].strip("| "): line.strip("|").split("|") for line in rows}
    assert list(cells) == sorted(TOTALS)
    for name, (params, macs) in TOTALS.items():
        row = [cell.strip() for cell in cells[name]]
        assert row[1] == shown(shapes(name)[0])
        if exact:
            assert row[2:4] == [f"{params:,}", f"{macs:,}"]
    # rounded: ResNet-18's 11,689,512 parameters and 1,814,073,344 MACs; AlexNet's 4,429,728 B
    if not exact:
        assert [cell.strip() for cell in cells["resnet18"]][2:4] == ["11.7 M", "1.8 G"]
        assert cells["alexnet"][4].strip() == "4.2 MiB"


def test_zoo_table_lists_every_model() -> None:
    result = run_cli("zoo")
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    for name in TOTALS:
        assert lines[name][1] == shown(shapes(name)[0])
    # ResNet-18: 11.7 M parameters, 1.8 G MACs, 31.4 MiB of activations, 69 layers
    assert lines["resnet18"][2:] == ["11.7", "M", "1.8", "G", "31.4", "MiB", "69"]
    assert lines["alexnet"][-1] == str(LAYER_COUNTS["alexnet"])
