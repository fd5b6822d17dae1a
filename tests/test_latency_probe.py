"""The machine-speed probe: the profile's ``probe`` field, its drift ratio, and that calibration
runs the probe once per round (nothing here asserts a timing)."""

from __future__ import annotations

import pytest

from convcost.build import build
from convcost.engine import analyze_network
from convcost.errors import SpecError
from convcost.latency import calibrate as calibrating
from convcost.latency.fit import Sample
from convcost.latency.kernels import KernelClass
from convcost.latency.probe import PROBE_FLOPS, PROBE_SPEC, drift, drift_note
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
