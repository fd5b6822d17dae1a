"""The machine-speed probe (the profile's ``probe`` field, its drift ratio, calibration running
it once per round) and the profile's ``fused`` entry (nothing here asserts a timing)."""

from __future__ import annotations

import pytest

from convcost.build import build
from convcost.engine import analyze_network
from convcost.errors import SpecError
from convcost.latency import calibrate as calibrating
from convcost.latency.estimate import Bound, estimate
from convcost.latency.fit import Sample
from convcost.latency.fusion import FUSIBLE, fused_layers
from convcost.latency.grid import FLOWING_SIZES, FUSION_CHAINS, fusion_grid
from convcost.latency.kernels import KernelClass
from convcost.latency.probe import PROBE_FLOPS, PROBE_SPEC, Probe, drift, drift_note
from convcost.latency.profile import DeviceProfile, Efficiency, parse_profile
from convcost.latency.profile_text import profile_yaml
from convcost.spec import parse_spec

BASE = "peak_flops: {float32: 1G}\nmemory_bandwidth: 1G\n"


def test_probe_field_reads_a_rate() -> None:
    assert parse_profile(BASE + "probe: 150G\n", source="t.yaml").probe == 150e9
    assert parse_profile(BASE + "probe: 1.2e11\n", source="t.yaml").probe == 1.2e11
    assert parse_profile(BASE + "probe: null\n", source="t.yaml").probe is None
    assert parse_profile(BASE, source="t.yaml").probe is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "probe: fast\n",
            "t.yaml:3:8: field probe: must be a positive value: a number, or a number with K, "
            "M, G, T or P (powers of 1000), e.g. 19.5T, 1.2e12; got fast",
        ),
        ("probe: 0\n", "t.yaml:3:8: field probe: must be a positive value"),
        ("probe: [1G]\n", "t.yaml:3:8: field probe: must be a single value"),
        ("prob: 1G\n", "t.yaml:3:1: unknown profile field 'prob'; did you mean 'probe'?"),
    ],
)
def test_a_bad_probe_names_file_line_and_field(line: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_profile(BASE + line, source="t.yaml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_profile_text_round_trips_the_probe() -> None:
    profile = DeviceProfile(
        name="x",
        device="d",
        calibrated=True,
        backend="numpy",
        threads=2,
        peak_flops={"float32": 1.1e11},
        memory_bandwidth=2.2e10,
        probe=1.8312345678e11,
        efficiency={"gemm": Efficiency(compute=0.5, memory=0.25)},
    )
    assert parse_profile(profile_yaml(profile), source="x") == profile


def test_probe_flops_are_the_engines() -> None:
    # by hand: a 1×1 conv from 256 to 256 channels on a 32×32 map is 1,024 positions ·
    # 256 · 256 = 67,108,864 MACs, 134,217,728 FLOPs
    spec = parse_spec(PROBE_SPEC, source="<probe>")
    report = analyze_network(build(spec, spec.variants[0]))
    probe = next(layer for layer in report.layers if layer.path == "probe")
    assert probe.cost.macs == 67_108_864
    assert PROBE_FLOPS == 134_217_728


def test_drift_is_now_over_the_calibrated_rate() -> None:
    assert drift(75e9, 150e9) == 0.5
    assert drift(150e9, None) is None
    assert drift(0.0, 150e9) is None
    assert drift_note(90e9, 180e9) == ("speed probe 90 GFLOP/s now, 180 at calibration (0.50×)")


class _Counting:
    def __init__(self) -> None:
        self.runs = 0

    def run(self) -> float:
        self.runs += 1
        return 1.0


def test_time_networks_runs_the_probe_once_a_round() -> None:
    spec = parse_spec("input: [4, 6, 6]\nlayers:\n  - relu: {}\n", source="<t>")
    networks = [build(spec, spec.variants[0])] * 2
    counting = _Counting()
    timings = calibrating.time_networks(networks, repeat=3, probe=counting)  # type: ignore[arg-type]
    assert counting.runs == 3
    assert [len(timing) for timing in timings] == [1, 1]


def test_fit_profile_keeps_the_probe() -> None:
    samples = {
        KernelClass.GEMM: [Sample(label="g", work=2e9, traffic=1e6, seconds=0.02)],
        KernelClass.VIEW: [Sample(label="v", work=0, traffic=0, seconds=3e-6)],
    }
    fitted = calibrating.fit_profile(
        samples, device="d", backend="numpy", threads=2, probe=1.5e11
    ).profile
    assert fitted.probe == 1.5e11
    unprobed = calibrating.fit_profile(samples, device="d", backend="numpy", threads=2).profile
    assert unprobed.probe is None


FUSED_PROFILE = """\
peak_flops: {float32: 1G}
memory_bandwidth: 100M
overhead: 1us
fuses: [batchnorm, relu]
efficiency:
  relu: {memory: 0.1}
  fused: {compute: 0.5, memory: 2, overhead: 3us}
"""
FUSED_SPEC = """
input: [4, 10, 10]
layers:
  - conv: {out: 8, kernel: 3, padding: 1, bias: false}
  - batchnorm: {}
  - relu: {}
  - sigmoid: {}
"""


def test_a_fused_entry_prices_the_layers_folded_into_a_conv() -> None:
    report = analyze_network(build(*_variant(FUSED_SPEC)))
    _, batchnorm, relu, sigmoid = estimate(report, parse_profile(FUSED_PROFILE)).layers
    # batchnorm on 8×10×10 = 800 outputs: a scale and a shift each, 1,600 ops at 0.5 · 1 G/s =
    # 3.2 µs; 800 in + 800 out + 8 scales + 8 shifts = 1,616 elements, 6,464 B at 2 · 100 MB/s
    # = 32.32 µs: the fused entry's 3 µs overhead + 32.32 µs
    assert batchnorm.bound is Bound.FUSED
    assert batchnorm.seconds == pytest.approx(3e-6 + 32.32e-6)
    # relu: 800 in + 800 out = 6,400 B at 200 MB/s = 32 µs; its own kind entry (memory 0.1)
    # is for a relu that runs alone, not for one folded into a conv
    assert relu.bound is Bound.FUSED
    assert relu.seconds == pytest.approx(3e-6 + 32e-6)
    # sigmoid is not in fuses: a layer of its own, at the full bandwidth (no elementwise
    # entry): 6,400 B at 100 MB/s = 64 µs plus the profile's 1 µs
    assert sigmoid.bound is Bound.MEMORY
    assert sigmoid.seconds == pytest.approx(1e-6 + 64e-6)
    # without the fused entry a folded layer costs nothing (ONNX Runtime's kernels)
    bare = parse_profile(FUSED_PROFILE.replace("  fused: {", "  tanh: {"))
    assert [layer.seconds for layer in estimate(report, bare).layers[1:3]] == [0.0, 0.0]


def test_a_fused_entry_has_no_shape() -> None:
    with pytest.raises(SpecError) as caught:
        parse_profile(BASE + "efficiency:\n  fused: {half_m: 4}\n", source="t.yaml")
    assert str(caught.value).startswith(
        "t.yaml:4:19: field efficiency.fused.half_m: only the gemm and depthwise classes"
    ), str(caught.value)


def test_fit_profile_fits_fused_samples_as_one_entry() -> None:
    # fused samples made from known parameters: 0.5 of the 1e11 FLOP/s, 2 × the 1e10 B/s,
    # 4 µs each; both bounds exercised
    shapes = [(1e6, 1e5), (1e5, 1e6), (2e5, 4e6), (1e4, 1e4), (3e6, 2e5), (1e5, 2e7)]
    fused = [
        Sample(
            label=f"f{index}",
            work=work,
            traffic=traffic,
            seconds=4e-6 + max(work / 0.5e11, traffic / 2e10),
            kind="relu" if index % 2 else "batchnorm",
        )
        for index, (work, traffic) in enumerate(shapes)
    ]
    samples = {
        KernelClass.GEMM: [Sample(label="g", work=1e11, traffic=1e6, seconds=1.0)],
        KernelClass.ELEMENTWISE: [
            Sample(label="e", work=1e6, traffic=1e10, seconds=1.0, kind="relu"),
            Sample(label="e2", work=1e6, traffic=2e10, seconds=2.0, kind="sigmoid"),
        ],
        KernelClass.FUSED: fused,
    }
    profile = calibrating.fit_profile(samples, device="d", backend="numpy", threads=2).profile
    assert profile.fuses == ("batchnorm", "relu")
    entry = profile.efficiency["fused"]
    # peak 1e11 (the one GEMM sample), bandwidth 1e10 (the fastest elementwise sample)
    assert entry.compute == pytest.approx(0.5, rel=0.02)
    assert entry.memory == pytest.approx(2.0, rel=0.02)
    assert entry.overhead == pytest.approx(4e-6, rel=0.02)
    assert "batchnorm" not in profile.efficiency  # no kind entries from folded samples


def _variant(text: str) -> tuple[object, object]:
    spec = parse_spec(text, source="<t>")
    return spec, spec.variants[0]


def test_the_fusion_networks_have_layers_folded_into_a_conv() -> None:
    # each fusion grid network is a conv, a batchnorm and an activation: the last two fold
    grid = fusion_grid()
    assert len(grid) == 2 * len(FLOWING_SIZES)
    for name, text in grid + FUSION_CHAINS:
        spec = parse_spec(text, source=name)
        kinds = [layer.kind for layer in analyze_network(build(spec, spec.variants[0])).layers]
        folded = fused_layers(kinds, FUSIBLE)
        assert sum(folded) >= 2, name
        if name.startswith("fused-"):
            assert folded == [False, True, True], name


def test_the_probe_rate_is_the_median_of_its_passes() -> None:
    probe = Probe()
    probe.reset()
    assert probe.rate == 0.0
    probe.rates.extend([3e9, 1e11, 5e10])  # one slow pass, one lucky one
    assert probe.rate == 5e10
    assert probe.run() > 0
    assert len(probe.rates) == 4
