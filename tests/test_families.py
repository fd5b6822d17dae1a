"""Model families from one spec with `params:`: EfficientNet B0-B3 and MobileNetV2 at five widths,
exact against plain-torch references of torchvision's definitions (tests/torch_families.py)
and against torchvision's published parameter counts."""

from __future__ import annotations

from pathlib import Path

import pytest

import convcost
from convcost import zoo
from convcost.report import Report
from tests.conftest import require

SPECS = Path(__file__).parent.parent / "specs"
CONV_KINDS = {"conv", "depthwise", "pointwise", "linear"}

EFFICIENTNET = {
    "b0": ({"width": 1.0, "depth": 1.0, "resolution": 224}, 5_288_548),
    "b1": ({"width": 1.0, "depth": 1.1, "resolution": 240}, 7_794_184),
    "b2": ({"width": 1.1, "depth": 1.2, "resolution": 260}, 9_109_994),
    "b3": ({"width": 1.2, "depth": 1.4, "resolution": 300}, 12_233_232),
}
"""torchvision's width_mult, depth_mult (and the paper's resolution) for efficientnet_b0…b3, with
the parameter counts torchvision's model docs publish (5,288,548; 7,794,184; 9,109,994;
12,233,232)."""

ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.4)


def analyzed(spec: str, params: dict[str, str | int | float]) -> Report:
    return convcost.analyze(convcost.load_spec(SPECS / spec, params=params))


@pytest.mark.parametrize("variant", sorted(EFFICIENTNET))
def test_efficientnet_matches_torchvision(variant: str) -> None:
    torch = require("torch")
    from tests.torch_families import EFFICIENTNET_B, efficientnet  # noqa: PLC0415
    from tests.torch_models import count_conv_linear  # noqa: PLC0415

    params, published = EFFICIENTNET[variant]
    width, depth, resolution = EFFICIENTNET_B[variant]
    assert params == {"width": width, "depth": depth, "resolution": resolution}
    report = analyzed("efficientnet.yaml", params)
    with torch.device("meta"):  # shapes only: no weights initialised, no arithmetic
        model = efficientnet(width, depth).eval()
    counted = count_conv_linear(model, (3, resolution, resolution), device="meta")
    assert report.totals.params == sum(p.numel() for p in model.parameters()) == published
    assert report.totals.macs == counted.macs
    predicted = [layer.output_shape for layer in report.layers if layer.kind in CONV_KINDS]
    assert predicted == counted.shapes
    assert report.output_shape == counted.output_shape == (1000,)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_mobilenet_v2_family_matches_torchvision(alpha: float) -> None:
    torch = require("torch")
    from tests.torch_families import mobilenet_v2  # noqa: PLC0415
    from tests.torch_models import count_conv_linear  # noqa: PLC0415

    report = analyzed("mobilenet_v2_family.yaml", {"width": alpha})
    with torch.device("meta"):
        model = mobilenet_v2(alpha).eval()
    counted = count_conv_linear(model, (3, 224, 224), device="meta")
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.macs == counted.macs
    predicted = [layer.output_shape for layer in report.layers if layer.kind in CONV_KINDS]
    assert predicted == counted.shapes


def test_mobilenet_v2_family_at_width_1_is_the_bundled_model() -> None:
    # the zoo's mobilenet_v2 pins torchvision's 3,504,872 parameters and 300,774,272 MACs
    family = analyzed("mobilenet_v2_family.yaml", {})
    bundled = convcost.analyze(convcost.load_spec(zoo.find("mobilenet_v2") or ""))
    assert (family.totals.params, family.totals.macs) == (3_504_872, 300_774_272)
    assert family.totals == bundled.totals


def test_efficientnet_b2_at_288_matches_torchvisions_published_macs() -> None:
    # torchvision's docs give efficientnet_b2 1.09 "GFLOPS" (its MACs) at its 288×288 crop
    report = analyzed("efficientnet.yaml", {"width": "1.1", "depth": "1.2", "resolution": "288"})
    assert round(report.totals.macs / 1e9, 2) == 1.09


def test_set_reaches_export_and_report(tmp_path: Path) -> None:
    """`--set` on `export` and `report` picks the same family point: the exported PyTorch file
    at width 0.5 has the parameters of the plain-torch MobileNetV2 at width_mult 0.5, and a name
    the spec does not declare is refused by both commands (exit 2)."""
    torch = require("torch")
    from typer.testing import CliRunner  # noqa: PLC0415

    from convcost.cli import app  # noqa: PLC0415
    from tests.torch_families import mobilenet_v2  # noqa: PLC0415

    spec = str(SPECS / "mobilenet_v2_family.yaml")
    out = tmp_path / "net.py"
    runner = CliRunner()
    result = runner.invoke(
        app, ["export", spec, "--to", "pytorch", "-o", str(out), "--set", "width=0.5"]
    )
    assert result.exit_code == 0, result.output
    namespace: dict[str, object] = {}
    exec(compile(out.read_text(encoding="utf-8"), str(out), "exec"), namespace)
    exported = [
        value
        for name, value in namespace.items()
        if isinstance(value, type)
        and issubclass(value, torch.nn.Module)
        and name.lower().startswith("mobilenet")
    ]
    assert len(exported) == 1
    with torch.device("meta"):
        ours, reference = exported[0](), mobilenet_v2(0.5)
    assert sum(p.numel() for p in ours.parameters()) == sum(
        p.numel() for p in reference.parameters()
    )
    for command in (["export", spec, "--to", "pytorch"], ["report", spec]):
        refused = runner.invoke(app, [*command, "--set", "widht=0.5"])
        assert refused.exit_code == 2
        assert "cannot set 'widht'" in refused.output
