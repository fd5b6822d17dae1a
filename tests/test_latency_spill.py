"""A GEMM's weights beyond the cache (the ``gemm`` entry's ``cache`` and ``spill``): the memory
term by hand, the profile fields, and the fit recovering known values (nothing timed)."""

from __future__ import annotations

import math

import pytest

from convcost.build import build
from convcost.engine import analyze_network
from convcost.errors import SpecError
from convcost.latency.calibrate import seconds
from convcost.latency.estimate import Bound, estimate
from convcost.latency.fit import Sample
from convcost.latency.fit_spill import fit_spill
from convcost.latency.profile import DeviceProfile, Efficiency, parse_profile
from convcost.latency.profile_text import profile_yaml
from convcost.latency.shape import memory_seconds
from convcost.spec import parse_spec

BASE = "peak_flops: {float32: 1T}\nmemory_bandwidth: 1G\n"


def test_memory_seconds_by_hand() -> None:
    # 1 MB at 0.5 · 1 GB/s = 2 ms; of its 0.8 MB of weights, the 0.6 MB beyond a 0.2 MB cache
    # move at 0.1 · 1 GB/s instead: 0.6 MB · (1/100 MB/s − 1/500 MB/s) = 4.8 ms more
    assert memory_seconds(1e6, 8e5, 1e9, 0.5, 2e5, 0.1) == pytest.approx(6.8e-3)
    assert memory_seconds(1e6, 8e5, 1e9, 0.5, 0.0, 0.1) == pytest.approx(2e-3)  # no cache
    assert memory_seconds(1e6, 1e5, 1e9, 0.5, 2e5, 0.1) == pytest.approx(2e-3)  # all cached


def test_a_linear_layer_beyond_the_cache_by_hand() -> None:
    profile = parse_profile(
        BASE + "efficiency:\n  gemm: {compute: 1, memory: 1, cache: 1M, spill: 0.25}\n"
    )
    spec = parse_spec(
        "input: [1000, 1, 1]\nlayers:\n  - flatten: {}\n  - linear: {out: 500}\n", source="<t>"
    )
    report = analyze_network(build(spec, spec.variants[0]))
    linear = estimate(report, profile).layers[1]
    # 1000 in + 500,000 weights + 500 biases + 500 out = 502,000 floats, 2,008,000 B at 1 GB/s
    # = 2.008 ms; the 2,000,000 B of weights are 1,000,000 B beyond the 1 MB cache, which move
    # at 0.25 GB/s: 1e6 · (4 − 1) ns = 3 ms more; 1,000,500 FLOPs at 1 TFLOP/s = 1 µs
    assert linear.bound is Bound.MEMORY
    assert linear.seconds == pytest.approx(5.008e-3)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "relu: {cache: 1M}",
            "t.yaml:4:17: field efficiency.relu.cache: only the gemm class (and its kinds) reads "
            "weights; 'relu' is elementwise",
        ),
        ("gemm: {spill: 9}", "t.yaml:4:17: field efficiency.gemm.spill: must be a share"),
        ("gemm: {cache: lots}", "t.yaml:4:17: field efficiency.gemm.cache: must be a value >= 0"),
    ],
)
def test_bad_spill_fields_name_file_line_and_field(entry: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_profile(BASE + f"efficiency:\n  {entry}\n", source="t.yaml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_profile_text_round_trips_the_spill() -> None:
    profile = DeviceProfile(
        name="x",
        device="d",
        calibrated=True,
        backend="onnxruntime",
        threads=2,
        peak_flops={"float32": 3e11},
        memory_bandwidth=7e10,
        efficiency={
            "gemm": Efficiency(compute=0.6, memory=0.34, overhead=1e-5, cache=1.0058e8, spill=0.18)
        },
    )
    assert parse_profile(profile_yaml(profile), source="x") == profile


SIZES = (2e6, 4e6, 16e6, 37.7e6, 67e6, 151e6, 268e6)
"""Weight bytes of the calibration's linear layers (grid.LINEAR), roughly."""


def _linear_samples(cache: float, spill: float) -> list[Sample]:
    true = Efficiency(compute=0.5, memory=0.4, overhead=1e-5, cache=cache, spill=spill)
    result = []
    for index, weights in enumerate(SIZES):
        probe = Sample(
            label=f"l{index}",
            work=weights / 2,  # one multiply-add per 4-byte weight
            traffic=weights * 1.001,
            seconds=1.0,
            weight_bytes=weights,
        )
        made = seconds(probe, 1e11, 5e10, true, 1e-5)
        result.append(Sample(**{**_fields(probe), "seconds": made}))
    return result


def _fields(sample: Sample) -> dict[str, object]:
    return {name: getattr(sample, name) for name in Sample.__dataclass_fields__}


def test_fit_spill_recovers_a_known_cache_and_spill() -> None:
    # samples made by the model with weights beyond a cache between 67 and 151 MB moving at
    # 0.1 of the bandwidth (the others at 0.4): the fit finds that gap and that share
    cache = math.sqrt(67e6 * 151e6)
    share = Efficiency(compute=0.5, memory=0.4, overhead=1e-5)
    found_cache, spill = fit_spill(
        _linear_samples(cache, 0.1),
        share,
        lambda sample, entry: seconds(sample, 1e11, 5e10, entry, 1e-5),
    )
    assert found_cache == pytest.approx(cache)
    assert spill == pytest.approx(0.1, rel=0.01)


def test_fit_spill_adds_nothing_when_every_weight_moves_alike() -> None:
    share = Efficiency(compute=0.5, memory=0.4, overhead=1e-5)
    found = fit_spill(
        _linear_samples(0.0, 0.0),
        share,
        lambda sample, entry: seconds(sample, 1e11, 5e10, entry, 1e-5),
    )
    assert found == (0.0, 0.0)
