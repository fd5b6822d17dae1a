"""``calibrate --backend onnxruntime`` and operator fusion in the estimate (the profile's
``fuses``): the rule by hand, the field's errors, the calibration on tiny grids, the missing
extras."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.build import build
from convcost.cli import app
from convcost.errors import ExitStatus, SpecError
from convcost.executor.ort import execute_ort
from convcost.latency import calibrate as calibrating
from convcost.latency.estimate import Bound, estimate
from convcost.latency.fusion import fused_layers
from convcost.latency.profile import load_profile, parse_profile
from convcost.latency.profile_text import profile_yaml
from tests.conftest import require

PROFILE = """\
device: test device
backend: onnxruntime
peak_flops: {float32: 1G}
memory_bandwidth: 100M
overhead: 1us
fuses: [batchnorm, relu, add]
efficiency:
  gemm: {compute: 0.5, memory: 1}
  elementwise: {memory: 0.5, overhead: 2us}
"""

SPEC = """
name: fused
input: [4, 10, 10]
layers:
  - conv: {out: 8, kernel: 3, padding: 1, bias: false}
  - batchnorm: {}
  - relu: {}
  - sigmoid: {}
  - relu: {}
  - add:
      body: [{pointwise: {out: 8, bias: false}}, {batchnorm: {}}]
      shortcut: []
  - relu: {}
"""


def test_fused_layers_cost_nothing_and_the_rest_by_hand() -> None:
    profile = parse_profile(PROFILE, source="p.yaml")
    report = convcost.analyze(convcost.parse_spec(SPEC))
    result = estimate(report, profile)
    assert [layer.path.rsplit(".", 1)[-1] for layer in result.layers] == [
        "conv1", "batchnorm1", "relu1", "sigmoid1", "relu2",
        "pointwise1", "batchnorm1", "add1", "relu3",
    ]  # fmt: skip
    bounds = [layer.bound for layer in result.layers]
    # conv: 10·10·8·4·9 = 28,800 MACs → 57,600 FLOPs at 0.5 GFLOP/s = 115.2 µs (compute-bound:
    # 5,952 B at 100 MB/s is 59.52 µs), plus the 1 µs overhead
    conv = 1e-6 + 57_600 / 0.5e9
    # batchnorm and relu right after the conv: folded, 0
    # sigmoid (not in fuses): 800 ops at 1 GFLOP/s = 0.8 µs; 6,400 B at 50 MB/s = 128 µs,
    # plus the elementwise overhead 2 µs; the relu after it follows no conv: the same 130 µs
    flowing = 2e-6 + 6_400 / 50e6
    # the body's pointwise: 8·8·100 = 6,400 MACs → 12,800 FLOPs at 0.5 GFLOP/s = 25.6 µs;
    # (800 + 64 + 800) · 4 B = 6,656 B at 100 MB/s = 66.56 µs: memory-bound, plus 1 µs
    pointwise = 1e-6 + 6_656 / 100e6
    # its batchnorm, the add and the relu after: a chain folded into that pointwise conv
    expected = [conv, 0, 0, flowing, flowing, pointwise, 0, 0, 0]
    assert [layer.seconds for layer in result.layers] == pytest.approx(expected)
    assert bounds == [
        Bound.COMPUTE, Bound.FUSED, Bound.FUSED, Bound.MEMORY, Bound.MEMORY,
        Bound.MEMORY, Bound.FUSED, Bound.FUSED, Bound.FUSED,
    ]  # fmt: skip
    assert result.seconds == pytest.approx(conv + 2 * flowing + pointwise)


def test_without_fuses_every_layer_is_costed() -> None:
    profile = parse_profile(PROFILE.replace("fuses: [batchnorm, relu, add]\n", ""), source="p")
    result = estimate(convcost.analyze(convcost.parse_spec(SPEC)), profile)
    assert all(layer.seconds > 0 for layer in result.layers)
    assert Bound.FUSED not in {layer.bound for layer in result.layers}


@pytest.mark.parametrize(
    ("fuses", "message"),
    [
        (
            "relu",
            "t.yaml:3:8: field fuses: must be a list of layer kinds, e.g. [batchnorm, relu]; "
            "got 'relu'",
        ),
        ("[rleu]", "t.yaml:3:9: field fuses[0]: unknown layer kind 'rleu'; did you mean 'relu'?"),
        (
            "[relu, maxpool]",
            "t.yaml:3:15: field fuses[1]: only one-pass (elementwise) kinds fold into a conv; "
            "'maxpool' is pool",
        ),
        ("[relu, 3]", "t.yaml:3:15: field fuses[1]: must be a layer kind, got 3"),
        ("[relu, relu]", "t.yaml:3:15: field fuses[1]: 'relu' is listed twice"),
    ],
)
def test_fuses_errors_name_file_line_and_field(fuses: str, message: str) -> None:
    text = f"peak_flops: {{float32: 1G}}\nmemory_bandwidth: 1G\nfuses: {fuses}\n"
    with pytest.raises(SpecError) as caught:
        parse_profile(text, source="t.yaml")
    assert str(caught.value) == message


def test_fuses_round_trip_through_the_profile_text() -> None:
    profile = parse_profile(PROFILE, source="p.yaml")
    again = parse_profile(profile_yaml(profile), source="p.yaml")
    assert again.fuses == ("batchnorm", "relu", "add")
    assert parse_profile("peak_flops: {float32: 1G}\nmemory_bandwidth: 1G\n").fuses == ()


def test_calibrate_onnxruntime_on_tiny_grids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("onnxruntime")
    require("onnx")
    # tiny grids: two GEMM and one depthwise shape, and the relu and batchnorm flowing alone,
    # plus the fusion chain (a conv with a batchnorm and a relu after it, …)
    monkeypatch.setattr(calibrating, "CHAINS", ())
    gemm, depthwise, flowing = (
        calibrating.gemm_grid, calibrating.depthwise_grid, calibrating.flowing_grid
    )  # fmt: skip
    monkeypatch.setattr(calibrating, "gemm_grid", lambda: gemm()[:2])
    monkeypatch.setattr(calibrating, "depthwise_grid", lambda: depthwise()[:1])
    monkeypatch.setattr(calibrating, "flowing_grid", lambda: flowing()[:2])
    target = tmp_path / "ort.yaml"
    result = CliRunner().invoke(
        app,
        ["calibrate", "--backend", "onnxruntime", "--threads", "1", "--repeat", "2", "-o",
         str(target)],
    )  # fmt: skip
    assert result.exit_code == ExitStatus.OK, result.output
    text = target.read_text(encoding="utf-8")
    assert "`convcost calibrate --backend onnxruntime`" in text
    profile = load_profile(str(target))
    assert (profile.calibrated, profile.backend, profile.threads) == (True, "onnxruntime", 1)
    # ONNX Runtime's graph optimiser folds a BatchNormalization into the Conv before it and
    # fuses a Relu into the Conv (its documented Conv+BN and Conv+activation fusions)
    assert {"batchnorm", "relu"} <= set(profile.fuses)
    assert "gemm" in profile.efficiency
    assert "depthwise" in profile.efficiency


def test_calibrate_onnxruntime_without_the_extras_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "p.yaml"
    for module, line in (
        (
            "onnxruntime",
            "--backend onnxruntime needs the onnxruntime package: pip install 'convcost[ort]'",
        ),
        ("onnx", "exporting to ONNX needs the onnx package: pip install 'convcost[onnx]'"),
    ):
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, module, None)  # import raises ImportError
            result = CliRunner().invoke(
                app, ["calibrate", "--backend", "onnxruntime", "-o", str(target)]
            )
        assert result.exit_code == ExitStatus.INVALID_INPUT
        assert result.stderr == f"error: {line}\n"
        assert not target.exists()


def test_execute_onnxruntime_aligns_with_the_fused_estimate(tmp_path: Path) -> None:
    require("onnxruntime")
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE.replace("onnxruntime", "numpy", 1), encoding="utf-8")
    spec = (
        "input: [8, 16, 16]\nlayers:\n  - conv: {out: 16, kernel: 3}\n  - batchnorm: {}\n"
        "  - relu: {}\n"
    )
    result = CliRunner().invoke(
        app,
        ["analyze", "-", "--device", str(profile), "--execute", "--backend", "onnxruntime",
         "-f", "json"],
        input=spec,
    )  # fmt: skip
    assert result.exit_code == ExitStatus.OK, result.output
    # the profile says numpy: a one-line note
    assert (
        f"--device {profile} was calibrated on numpy; --execute measures --backend "
        "onnxruntime" in result.stderr
    )
    layers = json.loads(result.stdout)["latency"]["layers"]
    # ORT runs the three as one kernel: the conv carries it, the other two measure 0, and the
    # estimate gives them 0 too
    assert [layer["bound"] for layer in layers] == ["compute", "fused", "fused"]
    assert [layer["measured_seconds"] for layer in layers][1:] == [0, 0]
    assert [layer["seconds"] for layer in layers][1:] == [0, 0]
    assert layers[0]["measured_seconds"] > 0


def test_the_fusion_rule_on_kinds() -> None:
    fuses = ("batchnorm", "relu", "add")
    kinds = ["relu", "conv", "batchnorm", "relu", "maxpool", "relu", "linear", "relu", "add"]
    # relu first: nothing before it; batchnorm, relu after the conv: folded; maxpool is not in
    # fuses and breaks the chain, so the relu after it is costed; a linear hosts like a conv
    expected = [False, False, True, True, False, False, False, True, True]
    assert fused_layers(kinds, fuses) == expected
    assert fused_layers(kinds, ()) == [False] * len(kinds)


def test_onnxruntime_gemm_fused_with_its_relu_is_the_linear_layers_time() -> None:
    require("onnxruntime")
    spec = "input: [64, 1, 1]\nlayers:\n  - flatten: {}\n  - linear: {out: 256}\n  - relu: {}\n  - linear: {out: 8}\n"
    parsed = convcost.parse_spec(spec)
    network = build(parsed, parsed.variants[0])
    run = execute_ort(network, repeat=2, fastest=True)
    # ORT's Gemm+activation fusion names its kernel "fused linear1": the linear layer carries
    # it, the relu has no kernel of its own
    assert [layer.path for layer in run.layers] == ["flatten1", "linear1", "relu1", "linear2"]
    assert run.layers[1].seconds > 0
    assert run.layers[2].seconds == 0
