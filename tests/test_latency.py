"""Device profiles, the roofline estimate, the fit, ``calibrate`` and ``--device`` (nothing
here is timed: calibration's fit runs on synthetic measurements made from known parameters)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.errors import ExitStatus, SpecError
from convcost.latency import calibrate as calibrating
from convcost.latency.estimate import Bound, estimate, im2col_elements
from convcost.latency.fit import Sample, fit_class, predict
from convcost.latency.kernels import KERNEL_OF, KernelClass, kernel_class
from convcost.latency.profile import (
    DeviceProfile,
    Efficiency,
    bundled_names,
    load_profile,
    parse_profile,
)
from convcost.latency.profile_text import profile_yaml
from convcost.latency.quantities import parse_nanoseconds, parse_rate, parse_seconds
from convcost.layers.registry import KIND_NAMES

PROFILE = """\
device: test device
peak_flops:
  float32: 1G
  float16: 2G
memory_bandwidth: 100M
overhead: 1us
efficiency:
  gemm: {compute: 0.5, memory: 1}
  elementwise: {memory: 0.5, overhead: 2us}
  sigmoid: {compute: 0.001, memory: 0.5}
"""

SPEC = """
name: small
input: [4, 10, 10]
layers:
  - conv: {out: 8, kernel: 3, padding: 1, bias: false}
  - relu: {}
  - sigmoid: {}
  - flatten: {}
"""


def test_every_kind_has_a_kernel_class() -> None:
    assert set(KIND_NAMES) - set(KERNEL_OF) == set()


def test_a_conv_with_one_channel_per_group_is_depthwise() -> None:
    spec = convcost.parse_spec(
        "input: [16, 8, 8]\nlayers:\n  - conv: {out: 16, kernel: 3, padding: 1, groups: 16}\n"
        "  - conv: {out: 16, kernel: 3, padding: 1, groups: 2}\n  - depthwise: {kernel: 3}\n"
    )
    report = convcost.analyze(spec)
    kinds = [kernel_class(layer) for layer in report.layers]
    assert kinds == [KernelClass.DEPTHWISE, KernelClass.GEMM, KernelClass.DEPTHWISE]


def test_estimate_by_hand() -> None:
    profile = parse_profile(PROFILE, source="test.yaml")
    report = convcost.analyze(convcost.parse_spec(SPEC))
    result = estimate(report, profile)
    conv, relu, sigmoid, flatten = result.layers
    # conv: MACs 10·10·8·4·9 = 28,800 → 57,600 FLOPs at 0.5 · 1 GFLOP/s = 115.2 µs;
    # traffic (400 + 288 + 800) · 4 B = 5,952 B at 100 MB/s = 59.52 µs: compute-bound;
    # plus the profile's 1 µs overhead
    assert conv.bound is Bound.COMPUTE
    assert conv.seconds == pytest.approx(1e-6 + 57_600 / 0.5e9)
    # relu: 800 ops at 1 GFLOP/s = 0.8 µs; 6,400 B at 0.5 · 100 MB/s = 128 µs: memory-bound,
    # with the elementwise class's own 2 µs overhead
    assert relu.bound is Bound.MEMORY
    assert relu.seconds == pytest.approx(2e-6 + 6_400 / 50e6)
    # sigmoid has its own entry: 800 ops at 0.001 · 1 GFLOP/s = 800 µs: compute-bound; the
    # overhead is its class's (2 µs)
    assert sigmoid.bound is Bound.COMPUTE
    assert sigmoid.seconds == pytest.approx(2e-6 + 800 / 1e6)
    # flatten is a view: only an overhead (the profile's, 1 µs)
    assert (flatten.bound, flatten.seconds) == (Bound.OVERHEAD, pytest.approx(1e-6))
    assert result.seconds == pytest.approx(sum(x.seconds for x in result.layers))


def test_estimate_refuses_a_dtype_the_profile_lacks() -> None:
    profile = parse_profile(PROFILE, source="test.yaml")
    report = convcost.analyze(convcost.parse_spec(SPEC), dtype="int8")
    with pytest.raises(SpecError, match=r"no peak FLOP/s for int8; it has float32, float16"):
        estimate(report, profile)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "peak_flops: {float32: 1G}\nmemory_bandwith: 1G\n",
            "t.yaml:2:1: unknown profile field 'memory_bandwith'; did you mean 'memory_bandwidth'?",
        ),
        (
            "peak_flops: {float32: 1G}\nmemory_bandwidth: fast\n",
            "t.yaml:2:19: field memory_bandwidth: must be a positive value: a number, or a "
            "number with K, M, G, T or P (powers of 1000), e.g. 19.5T, 1.2e12; got fast",
        ),
        (
            "peak_flops: {float33: 1G}\nmemory_bandwidth: 1G\n",
            "t.yaml:1:14: field peak_flops.float33: unknown dtype 'float33'; did you mean "
            "'float32'?",
        ),
        (
            "peak_flops: {float32: 1G}\nmemory_bandwidth: 1G\nefficiency: {gem: {compute: 1}}\n",
            "t.yaml:3:14: field efficiency.gem: unknown kernel class or layer kind 'gem'; "
            "did you mean 'gemm'?",
        ),
        (
            "peak_flops: {float32: 1G}\nmemory_bandwidth: 1G\nefficiency: {gemm: {compute: 9}}\n",
            "t.yaml:3:30: field efficiency.gemm.compute: must be a share of the peak",
        ),
        (
            "peak_flops: {float32: 1G}\nmemory_bandwidth: 1G\noverhead: -1us\n",
            "t.yaml:3:11: field overhead: must be a value >= 0",
        ),
        ("memory_bandwidth: 1G\n", "t.yaml:1:1: field peak_flops: a device profile needs"),
        (
            "calibrated: yes please\npeak_flops: {float32: 1G}\nmemory_bandwidth: 1G\n",
            "t.yaml:1:13",
        ),
    ],
)
def test_profile_errors_name_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_profile(text, source="t.yaml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_bundled_profiles_load_and_say_they_are_bounds() -> None:
    names = bundled_names()
    assert names == ["a100", "desktop-cpu", "jetson-nano", "raspberry-pi-4", "t4"]
    for name in names:
        profile = load_profile(name)
        assert (profile.calibrated, profile.overhead) == (False, 0)
        assert "roofline bound, not calibrated" in profile.device
        # the datasheet figures, read back: A100 FP32 19.5 TFLOPS and 1,555 GB/s
        if name == "a100":
            assert (profile.peak_flops["float32"], profile.memory_bandwidth) == (19.5e12, 1555e9)


def test_profile_text_round_trips() -> None:
    profile = DeviceProfile(
        name="x",
        device='a "quoted" device',
        calibrated=True,
        backend="numpy",
        threads=2,
        peak_flops={"float32": 4.6414373438e10, "float64": 2.3e10},
        memory_bandwidth=1.6742337251e10,
        overhead=1.25e-05,
        efficiency={
            "gemm": Efficiency(compute=0.299, memory=0.48, overhead=3.2e-05),
            "sigmoid": Efficiency(compute=0.0003, memory=0.0058, overhead=1e-5),
        },
    )
    assert parse_profile(profile_yaml(profile, comments=("hello",)), source="x") == profile


def test_quantities() -> None:
    assert parse_rate("19.5T") == 19.5e12
    assert parse_rate("1.2e12") == 1.2e12
    assert parse_rate("fast") is None
    assert parse_seconds("5ms") == pytest.approx(0.005)
    assert parse_seconds("20us") == pytest.approx(20e-6)
    assert parse_seconds(2) == 2.0
    assert parse_nanoseconds("5ms") == 5_000_000


def _samples(peak: float, bandwidth: float, c: float, m: float, o: float) -> list[Sample]:
    shapes = [(1e6, 1e5), (1e7, 2e5), (1e8, 1e6), (5e8, 1e6), (1e5, 1e6), (1e5, 1e7), (1e4, 1e4)]
    result = []
    for index, (work, traffic) in enumerate(shapes):
        probe = Sample(label=str(index), work=work, traffic=traffic, seconds=1.0)
        seconds = predict(probe, peak, bandwidth, c, m, o)
        result.append(Sample(label=str(index), work=work, traffic=traffic, seconds=seconds))
    return result


@pytest.mark.parametrize(("c", "m", "o"), [(0.3, 0.05, 2e-5), (0.8, 0.6, 0.0), (0.02, 1.5, 1e-4)])
def test_fit_recovers_known_parameters(c: float, m: float, o: float) -> None:
    # samples made by the model from known shares and overhead, with both bounds exercised
    fit = fit_class(_samples(1e11, 1e10, c, m, o), 1e11, 1e10)
    assert fit.compute == pytest.approx(c, rel=0.01)
    assert fit.memory == pytest.approx(m, rel=0.01)
    assert fit.overhead == pytest.approx(o, rel=0.01, abs=1e-9)
    assert fit.worst_error < 0.01


def test_calibrate_writes_the_fitted_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no timing: the measurement is replaced by samples made from known parameters
    def measured(**_: object) -> dict[KernelClass, list[Sample]]:
        return {
            KernelClass.GEMM: _samples(1e11, 1e10, 1.0, 0.5, 1e-5),
            KernelClass.ELEMENTWISE: _samples(1e11, 1e10, 0.1, 1.0, 5e-6),
            KernelClass.VIEW: [Sample(label="v", work=0, traffic=0, seconds=3e-6)],
        }

    monkeypatch.setattr(calibrating, "measure", measured)
    target = tmp_path / "this.yaml"
    result = CliRunner().invoke(app, ["calibrate", "-o", str(target)])
    assert result.exit_code == ExitStatus.OK, result.output
    profile = load_profile(str(target))
    assert (profile.calibrated, profile.backend) == (True, "numpy")
    # peak: the fastest GEMM sample, 5e8 FLOPs in 5e8/1e11 + 1e-5 s; bandwidth: the fastest
    # elementwise sample's bytes per second
    assert profile.peak_flops["float32"] == pytest.approx(5e8 / (5e8 / 1e11 + 1e-5))
    gemm = profile.efficiency["gemm"]
    # shares are relative to that peak: 1e11 / peak of it
    assert gemm.compute == pytest.approx(1e11 / profile.peak_flops["float32"], rel=0.02)
    assert gemm.overhead == pytest.approx(1e-5, rel=0.02)
    assert profile.efficiency["view"].overhead == pytest.approx(3e-6)
    assert "median err" in result.stderr


def test_a_bad_device_name_suggests_the_bundled_ones() -> None:
    result = CliRunner().invoke(app, ["analyze", "resnet18", "--device", "raspbery"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == (
        "error: --device 'raspbery': no bundled device profile of that name; did you mean "
        "'raspberry-pi-4'?; bundled: a100, desktop-cpu, jetson-nano, raspberry-pi-4, t4 (or "
        "give a profile file written by convcost calibrate)\n"
    )


def test_a_bad_profile_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("peak_flops: {float32: 1G}\nmemory_bandwidth: -3\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", "resnet18", "--device", str(path)])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr.startswith(f"error: {path}:2:19: field memory_bandwidth: must be")
    assert result.stderr.count("\n") == 1


def test_analyze_device_formats(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    runner = CliRunner()
    args = ["analyze", "-", "--device", str(profile)]
    data = json.loads(runner.invoke(app, [*args, "-f", "json"], input=SPEC).stdout)
    latency = data["latency"]
    assert [layer["bound"] for layer in latency["layers"]] == [
        "compute", "memory", "compute", "overhead"
    ]  # fmt: skip
    assert latency["seconds"] == pytest.approx(sum(x["seconds"] for x in latency["layers"]))
    assert latency["calibrated"] is False
    text = runner.invoke(app, [*args, "-f", "csv"], input=SPEC).stdout
    header, *rows = text.splitlines()
    assert header.endswith(",bound,estimated_seconds")
    assert rows[0].split(",")[-2] == "compute"
    # the conv by hand (test_estimate_by_hand): 1 µs + 115.2 µs
    assert float(rows[0].split(",")[-1]) == pytest.approx(116.2e-6)
    markdown = runner.invoke(app, [*args, "-f", "markdown"], input=SPEC).stdout
    assert "| bound | est. |" in markdown
    table = runner.invoke(app, args, input=SPEC).stdout
    assert "bound" in table
    assert "estimated" in table


def test_analyze_device_execute_shows_measured_and_error(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["analyze", "-", "--device", str(profile), "--execute", "-f", "json"], input=SPEC
    )
    assert result.exit_code == ExitStatus.OK, result.output
    latency = json.loads(result.stdout)["latency"]
    assert all("measured_seconds" in layer for layer in latency["layers"])
    measured = latency["measured_seconds"]
    assert latency["error"] == pytest.approx((latency["seconds"] - measured) / measured)


def test_a_measured_run_notes_the_drift_from_the_calibrated_probe(tmp_path: Path) -> None:
    # a profile claiming a probe of 1 PFLOP/s at calibration: no 2-core machine runs the
    # 1,024×256×256 product that fast, so the note must show a ratio below 1
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE + "probe: 1P\n", encoding="utf-8")
    args = ["analyze", "-", "--device", str(profile), "--execute", "-f", "json"]
    result = CliRunner().invoke(app, args, input=SPEC)
    assert result.exit_code == ExitStatus.OK, result.output
    (line,) = [line for line in result.stderr.splitlines() if "speed probe" in line]
    assert line.startswith("note: --device ")
    assert line.endswith(" GFLOP/s now, 1000000 at calibration (0.00×)")
    profile.write_text(PROFILE, encoding="utf-8")  # no probe: no note
    without = CliRunner().invoke(app, args, input=SPEC)
    assert without.exit_code == ExitStatus.OK, without.output
    assert "speed probe" not in without.stderr


def test_compare_device_adds_latency_ratios(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["compare", "specs/separable-vs-standard.yaml", "--device", str(profile), "-f", "json"],
    )
    assert result.exit_code == ExitStatus.OK, result.output
    entries = json.loads(result.stdout)["latency"]["entries"]
    assert [entry["name"] for entry in entries] == ["standard", "separable"]
    # MACs: 29,302,784 / 231,211,008 (the comparison's own ratio)
    assert entries[1]["macs_ratio"] == pytest.approx(29_302_784 / 231_211_008)
    assert entries[1]["latency_ratio"] == pytest.approx(
        entries[1]["estimated_seconds"] / entries[0]["estimated_seconds"]
    )


def test_check_latency_budget(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    # the SPEC's estimate by hand: conv 116.2 µs + relu 130 µs + sigmoid 802 µs + flatten
    # 1 µs = 1,049.2 µs
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC + "budget: {latency: 1ms}\n", encoding="utf-8")
    runner = CliRunner()
    over = runner.invoke(app, ["check", str(spec), "--device", str(profile), "-f", "json"])
    assert over.exit_code == ExitStatus.BUDGET_EXCEEDED, over.output
    (result,) = json.loads(over.stdout)["specs"][0]["results"]
    assert (result["actual"], result["limit"]) == (round(1_049.2e3), 1_000_000)
    within = runner.invoke(
        app, ["check", str(spec), "--device", str(profile), "--max-latency", "1.1ms"]
    )
    assert within.exit_code == ExitStatus.OK, within.output
    missing = runner.invoke(app, ["check", str(spec)])
    assert missing.exit_code == ExitStatus.INVALID_INPUT
    assert f"{spec}:" in missing.stderr
    assert "needs a device" in missing.stderr


def test_estimate_is_plain_arithmetic_on_the_report() -> None:
    # scaling the bandwidth 10× changes only memory-bound layers' memory term
    profile = parse_profile(PROFILE, source="t")
    faster = parse_profile(PROFILE.replace("100M", "1G"), source="t")
    report = convcost.analyze(convcost.parse_spec(SPEC))
    slow, fast = estimate(report, profile), estimate(report, faster)
    relu_slow, relu_fast = slow.layers[1], fast.layers[1]
    assert relu_slow.memory_seconds == pytest.approx(10 * relu_fast.memory_seconds)
    assert slow.layers[0].compute_seconds == fast.layers[0].compute_seconds
    assert math.isclose(slow.layers[3].seconds, fast.layers[3].seconds)


def test_calibration_chains_are_synthetic_and_cover_every_class() -> None:
    # every chain builds; none is a zoo model; together they give every class samples
    classes = set()
    for name, text in calibrating.CHAINS:
        spec = convcost.parse_spec(text, source=name)
        assert name not in convcost.zoo.names()
        classes |= {kernel_class(layer) for layer in convcost.analyze(spec).layers}
    # FUSED is no kind's class: the folded layers of the fusion chains and grid are its samples
    assert classes == set(KernelClass) - {KernelClass.FUSED}


def test_im2col_matrix_by_hand() -> None:
    spec = convcost.parse_spec(
        "input: [4, 10, 10]\nlayers:\n  - conv: {out: 8, kernel: 3, padding: 1}\n"
        "  - conv: {out: 6, kernel: 1}\n  - conv_transpose: {out: 2, kernel: 2, stride: 2}\n"
    )
    conv, pointwise, transposed = convcost.analyze(spec).layers
    # 3×3 conv on 4 channels: one row per output position (100), 4·9 = 36 columns
    assert im2col_elements(conv) == 100 * 36
    # a 1×1 conv multiplies the input in place: no window matrix
    assert im2col_elements(pointwise) == 0
    # transposed 2×2 conv, 6 → 2 channels: the product before col2im has one row per input
    # position (100) and 2·4 = 8 columns
    assert im2col_elements(transposed) == 100 * 8
    # a profile with im2col counts the matrix twice (written, then read) in the memory term
    profile = parse_profile(PROFILE + "im2col: true\n", source="t")
    plain = parse_profile(PROFILE, source="t")
    report = convcost.analyze(spec)
    with_copy, without = estimate(report, profile).layers[0], estimate(report, plain).layers[0]
    assert with_copy.memory_seconds - without.memory_seconds == pytest.approx(2 * 3_600 * 4 / 100e6)
