"""The shape-dependent rate of GEMM and depthwise layers: product dimensions, the slowdown, its
fit, the profile fields and the calibration grids (nothing here is timed: fits run on samples
made from known parameters)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import convcost
from convcost.build import build
from convcost.cli import app
from convcost.engine import analyze_network
from convcost.errors import ExitStatus, SpecError
from convcost.latency import calibrate as calibrating
from convcost.latency.estimate import Bound, estimate
from convcost.latency.fit import Sample
from convcost.latency.fit_shape import Params, fit_shaped, predict_shaped
from convcost.latency.grid import depthwise_grid, flowing_grid, gemm_grid
from convcost.latency.kernels import KernelClass, kernel_class
from convcost.latency.profile import bundled_names, load_profile, parse_profile
from convcost.latency.profile_text import profile_yaml
from convcost.latency.shape import product_dims, slowdown
from convcost.spec import parse_spec
from convcost.zoo import names as zoo_names

INF = math.inf


def _layers(text: str, batch: int = 1) -> list[convcost.LayerReport]:
    spec = parse_spec(text, source="t.yaml")
    return list(analyze_network(build(spec, spec.variants[0]), batch=batch).layers)


def _dims(text: str, batch: int = 1) -> list[object]:
    return [product_dims(layer, kernel_class(layer)) for layer in _layers(text, batch)]


def test_product_dims_by_hand() -> None:
    text = """
input: [8, 10, 10]
layers:
  - conv: {out: 16, kernel: 3, padding: 1}     # M 100 positions, N 16, K 8·9, copies windows
  - conv: {out: 4, kernel: 1}                  # a 1×1 conv copies nothing
  - pointwise: {out: 32}
  - depthwise: {kernel: 3, stride: 2, padding: 1}   # 32 channels, 5×5 out, 9 taps
  - relu: {}
  - flatten: {}
  - linear: {out: 10}                          # M 1, N 10, K 32·25
"""
    assert _dims(text) == [
        (100.0, 16.0, 72.0, 16.0),
        (100.0, 4.0, 16.0, INF),
        (100.0, 32.0, 4.0, INF),
        (25.0, 32.0, 9.0, INF),
        None,
        None,
        (1.0, 10.0, 800.0, INF),
    ]
    # the batch multiplies the positions M (each sample's rows of the product)
    assert _dims(text, batch=3)[0] == (300.0, 16.0, 72.0, 16.0)


def test_slowdown_by_hand() -> None:
    # 1 + 10/100 + 20/16 + 30/72 + 40/16 = 1 + 0.1 + 1.25 + 0.41666… + 2.5
    assert slowdown((10, 20, 30, 40), (100, 16, 72, 16)) == pytest.approx(5.2666666667)
    assert slowdown((10, 20, 30, 40), (100, 16, 72, INF)) == pytest.approx(2.7666666667)
    assert slowdown((10, 20, 30, 40), None) == 1.0
    assert slowdown((0, 0, 0, 0), (1, 1, 1, 1)) == 1.0


sizes = st.floats(min_value=1, max_value=1e6)
halves = st.floats(min_value=0, max_value=1e4)


@given(
    st.tuples(halves, halves, halves, halves),
    st.tuples(sizes, sizes, sizes, sizes),
    st.integers(0, 3),
    st.floats(min_value=1, max_value=100),
)
def test_slowdown_is_at_least_one_and_falls_as_the_product_grows(
    half: tuple[float, float, float, float],
    dims: tuple[float, float, float, float],
    axis: int,
    factor: float,
) -> None:
    # a larger matrix is never slower per multiply-add: positive, monotonic in every dimension
    grown = tuple(size * factor if index == axis else size for index, size in enumerate(dims))
    before = slowdown(half, dims)
    after = slowdown(half, (grown[0], grown[1], grown[2], grown[3]))
    assert 1.0 <= after <= before


TRUE: Params = (0.9, 0.3, 2e-5, 12.0, 40.0, 10.0, 25.0)
"""(compute, memory, overhead, half_m, half_n, half_k, half_im2col) the samples are made from."""


def _grid(params: Params, *, copies: bool = True) -> list[Sample]:
    """Layers over a grid of (M, N, K), each with and without a window copy, timed by the
    model itself from ``params`` (peak 1e11 FLOP/s, bandwidth 2e10 B/s)."""
    samples = []
    shapes = itertools.product((49, 3136, 50176), (16, 128, 1024), (27, 576, 4608))
    for (m, n, k), copy in itertools.product(shapes, (False, True) if copies else (False,)):
        dims = (float(m), float(n), float(k), float(n) if copy else INF)
        work, traffic = 2.0 * m * n * k, 4.0 * (m * k + k * n + m * n)
        probe = Sample(label="", work=work, traffic=traffic, seconds=1.0, dims=dims)
        seconds = predict_shaped(probe, 1e11, 2e10, params)
        samples.append(Sample(label="", work=work, traffic=traffic, seconds=seconds, dims=dims))
    return samples


def test_fit_recovers_a_known_shape() -> None:
    fit = fit_shaped(_grid(TRUE), 1e11, 2e10)
    found = (fit.compute, fit.memory, fit.overhead, *fit.half)
    assert found == pytest.approx(TRUE, rel=0.01)
    # the fitted model returns the measured time at every grid point
    assert fit.worst_error < 0.001


def test_fit_keeps_a_dimension_no_sample_has_at_zero() -> None:
    # depthwise layers never copy their windows: half_im2col has nothing to fit and stays 0
    fit = fit_shaped(_grid((0.1, 0.05, 5e-5, 0.0, 100.0, 9.0, 0.0), copies=False), 1e11, 2e10)
    assert fit.half_im2col == 0.0
    assert (fit.compute, fit.half_n, fit.half_k) == pytest.approx((0.1, 100.0, 9.0), rel=0.01)


PROFILE = """\
device: shaped
peak_flops: {float32: 1G}
memory_bandwidth: 100M
overhead: 1us
efficiency:
  gemm: {compute: 0.5, half_m: 100, half_n: 8, half_k: 36, half_im2col: 16}
  depthwise: {compute: 0.1, half_n: 8, half_k: 9}
"""


def test_estimate_with_half_sizes_by_hand() -> None:
    report = convcost.analyze(
        convcost.parse_spec(
            """
input: [4, 10, 10]
layers:
  - conv: {out: 8, kernel: 3, padding: 1, bias: false}
  - depthwise: {kernel: 3, padding: 1, bias: false}
""",
            source="t.yaml",
        )
    )
    conv, depthwise = estimate(report, parse_profile(PROFILE, source="p.yaml")).layers
    # conv: M 100, N 8, K 36, copies: 1 + 100/100 + 8/8 + 36/36 + 16/8 = 6 times
    # 57,600 FLOPs at 0.5 GFLOP/s; memory (400 + 288 read, 800 written) · 4 B at 100 MB/s
    assert conv.compute_seconds == pytest.approx(6 * 57_600 / 0.5e9)
    assert conv.memory_seconds == pytest.approx(1_488 * 4 / 100e6)
    assert (conv.bound, conv.seconds) == (Bound.COMPUTE, pytest.approx(1e-6 + 691.2e-6))
    # depthwise: M 100, N 8 channels, K 9 taps: 1 + 8/8 + 9/9 = 3 times 14,400 FLOPs at 0.1
    assert depthwise.compute_seconds == pytest.approx(3 * 14_400 / 0.1e9)
    assert depthwise.seconds == pytest.approx(1e-6 + 432e-6)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{relu: {half_m: 4}}",
            "t.yaml:3:29: field efficiency.relu.half_m: only the gemm and depthwise classes "
            "(and their kinds) have a shape; 'relu' is elementwise",
        ),
        (
            "{gemm: {half_n: -3}}",
            "t.yaml:3:29: field efficiency.gemm.half_n: must be a value >= 0: a size, e.g. 16 "
            "(0: none); got -3",
        ),
        (
            "{gemm: {half_x: 3}}",
            "t.yaml:3:21: field efficiency.gemm.half_x: unknown efficiency field 'half_x'; did "
            "you mean 'half_n'?; allowed: compute, memory, overhead, half_m, half_n, half_k, "
            "half_im2col, cache, spill",
        ),
        (
            "{pool: {half_k: 9}}",
            "t.yaml:3:29: field efficiency.pool.half_k: only the gemm and depthwise classes "
            "(and their kinds) have a shape; 'pool' is pool",
        ),
    ],
)
def test_half_size_errors_name_file_line_and_field(entry: str, message: str) -> None:
    text = f"peak_flops: {{float32: 1G}}\nmemory_bandwidth: 1G\nefficiency: {entry}\n"
    with pytest.raises(SpecError) as caught:
        parse_profile(text, source="t.yaml")
    assert str(caught.value) == message


def test_half_sizes_round_trip_and_a_kind_of_a_shaped_class_may_have_them() -> None:
    text = PROFILE + "  linear: {compute: 0.3, half_k: 64}\n  conv: {half_im2col: 4}\n"
    profile = parse_profile(text, source="p.yaml")
    assert profile.efficiency["linear"].half == (0.0, 0.0, 64.0, 0.0)
    assert profile.efficiency["gemm"].half == (100.0, 8.0, 36.0, 16.0)
    assert parse_profile(profile_yaml(profile), source="p.yaml") == profile


def test_bundled_datasheet_profiles_are_roofline_bounds_without_a_shape() -> None:
    for name in bundled_names():
        profile = load_profile(name)
        assert not profile.calibrated
        assert all(share.half == (0.0, 0.0, 0.0, 0.0) for share in profile.efficiency.values())


def _grid_dims(grid: tuple[tuple[str, str], ...]) -> list[tuple[float, float, float, float]]:
    dims = []
    for _, text in grid:
        for layer in _layers(text):
            found = product_dims(layer, kernel_class(layer))
            if found is not None:
                dims.append(found)
    return dims


def test_calibration_grids_are_synthetic_and_span_real_networks() -> None:
    grids = gemm_grid() + depthwise_grid() + flowing_grid()
    zoo = set(zoo_names())
    assert not [name for name, _ in grids if name.partition(":")[0] in zoo]
    gemm = _grid_dims(gemm_grid())
    # M = output positions from 1 (a linear layer) to 50,176 (224×224), N = 16 … 4,096
    # output channels, K = 9 (a one-channel 3×3 stem) … 4,608 and beyond (VGG-16's deepest)
    assert (min(d[0] for d in gemm), max(d[0] for d in gemm)) == (1.0, 50_176.0)
    assert (min(d[1] for d in gemm), max(d[1] for d in gemm)) == (16.0, 4_096.0)
    assert min(d[2] for d in gemm) == 9.0
    assert max(d[2] for d in gemm) >= 4_608.0
    # VGG-16's big layers: 224×224 maps with 64 channels 3×3, 14×14 maps with K = 4,608
    assert (50_176.0, 64.0, 576.0, 64.0) in gemm
    assert any(d[0] == 196.0 and d[2] == 4_608.0 and d[1] >= 256 for d in gemm)
    depthwise = _grid_dims(depthwise_grid())
    assert {d[2] for d in depthwise} == {9.0, 25.0}
    assert (min(d[1] for d in depthwise), max(d[1] for d in depthwise)) == (16.0, 960.0)
    flowing = {kernel_class(layer) for _, text in flowing_grid() for layer in _layers(text)}
    assert flowing == {KernelClass.ELEMENTWISE, KernelClass.POOL}


def test_calibrate_writes_half_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no timing: the measurement is replaced by samples made from known parameters
    def measured(**_: object) -> dict[KernelClass, list[Sample]]:
        # and one elementwise layer moving 2e10 B/s, the bandwidth the GEMMs were made with
        flowing = Sample(label="relu", work=1e6, traffic=2e7, seconds=1e-3, kind="relu")
        return {KernelClass.GEMM: _grid(TRUE), KernelClass.ELEMENTWISE: [flowing]}

    monkeypatch.setattr(calibrating, "measure", measured)
    target = tmp_path / "this.yaml"
    result = CliRunner().invoke(app, ["calibrate", "-o", str(target)])
    assert result.exit_code == ExitStatus.OK, result.output
    profile = load_profile(str(target))
    gemm = profile.efficiency["gemm"]
    assert gemm.half == pytest.approx(TRUE[3:], rel=0.01)
    # the share is of the fastest sample's rate, which the known peak 1e11 exceeds
    assert gemm.compute * profile.peak_flops["float32"] == pytest.approx(0.9e11, rel=0.01)
    assert gemm.memory * profile.memory_bandwidth == pytest.approx(0.3 * 2e10, rel=0.01)
    assert not profile.im2col  # the window copy is the half_im2col term now


def test_a_calibrated_share_is_capped_at_what_a_profile_accepts() -> None:
    # GEMMs whose traffic never bounds them: nothing caps their fitted memory share but 4
    samples = {KernelClass.GEMM: _grid((0.9, 50.0, 2e-5, 12.0, 40.0, 10.0, 25.0))}
    profile = calibrating.fit_profile(samples, device="d", backend="numpy", threads=1).profile
    assert profile.efficiency["gemm"].memory <= 4
    written = parse_profile(profile_yaml(profile), source="p.yaml")
    assert written.efficiency == profile.efficiency


def test_measure_pairs_every_layer_but_the_feed_with_its_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # no timing: each round's networks "take" 1 ms per layer; what is checked is the pairing
    held: list[tuple[int, int]] = []

    def timed(
        networks: list[object], *, repeat: int, probe: object = None
    ) -> list[tuple[float, ...]]:
        reports = [analyze_network(network) for network in networks]  # type: ignore[arg-type]
        held.append((len(reports), sum(report.totals.weights for report in reports)))
        return [tuple(1e-3 for _ in report.layers) for report in reports]

    monkeypatch.setattr(calibrating, "time_networks", timed)
    samples = calibrating.measure(repeat=1, quick=True)
    every = [sample for found in samples.values() for sample in found]
    assert not [sample.label for sample in every if sample.label.endswith(":feed")]
    assert {kernel for kernel, found in samples.items() if found} == set(KernelClass)
    # every GEMM and depthwise sample has its product's shape; nothing else has one
    for kernel, found in samples.items():
        shaped = kernel in (KernelClass.GEMM, KernelClass.DEPTHWISE)
        assert all((sample.dims is not None) == shaped for sample in found if sample.work)
    # a round holds at most 16 M weights, unless one network alone has more
    assert all(weights <= calibrating.CHUNK_WEIGHTS or count == 1 for count, weights in held)
    assert len(samples[KernelClass.GEMM]) > len(gemm_grid()) // 6
