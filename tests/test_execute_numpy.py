"""Executor kernels checked without torch (these run everywhere): the error function and GELU
against the C library's math.erf/math.erfc on dense grids, tails included; matrix products cut
into bands against a brute-force sum."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convcost.executor import blas
from convcost.executor.ops import activation

# a dense grid on [-16, 16], the seam of erf's series and continued fraction (|x| = 3), and
# logarithmic grids down to 1e-30 on both sides (tiny inputs, where GELU(x) ≈ x/2)
GRID = np.concatenate(
    [
        np.linspace(-16, 16, 200_001),
        [2.999999999, 3.0, 3.000000001, 1e-300, -1e-20],
        np.logspace(-30, 1.2, 2000),
        -np.logspace(-30, 1.2, 2000),
    ]
)


def gelu_reference(x: float) -> float:
    """x·Φ(x) with Φ(x) = ½·erfc(−x/√2): erfc keeps the negative tail's relative accuracy
    (1 + erf(x/√2) would cancel)."""
    return x * 0.5 * math.erfc(-x / math.sqrt(2))


def test_erf_is_exact_to_double_precision() -> None:
    """Against math.erf (the C library's) on a dense grid and at the series/fraction seam."""
    expected = np.array([math.erf(v) for v in GRID])
    np.testing.assert_allclose(activation.erf(GRID), expected, rtol=2e-15, atol=2e-16)


def test_gelu_float32_is_within_one_ulp_of_the_exact_value() -> None:
    x = GRID.astype(np.float32)
    expected = np.array([gelu_reference(float(v)) for v in x])
    got = activation.gelu(x).astype(np.float64)
    normal = np.abs(expected) >= np.finfo(np.float32).tiny
    # one unit in the last place of the float32 nearest the exact value
    ulp = np.spacing(np.abs(expected[normal]).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got[normal] - expected[normal]) / ulp) <= 1.0
    # below float32's normal range (x < -13.2): the nearest subnormal, within one step
    tiny = float(np.finfo(np.float32).smallest_subnormal)
    assert np.max(np.abs(got[~normal] - expected[~normal])) <= tiny


def test_gelu_float64_matches_erf_to_1e_12() -> None:
    """float64 runs use x·½·(1 + erf(x/√2)) with :func:`activation.erf`: relative 1e-12, plus in
    the negative tail, where 1 + erf(…) cancels, |x|/2 times erf's absolute error (2e-15, as
    test_erf_is_exact_to_double_precision pins) — as PyTorch's float64 GELU computes it."""
    expected = np.array([gelu_reference(float(v)) for v in GRID])
    error = np.abs(activation.gelu(GRID) - expected)
    assert np.all(error <= 1e-12 * np.abs(expected) + 1e-15 * np.abs(GRID))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_in_place_and_on_views(dtype: str) -> None:
    """In place on a contiguous array; a strided view (a channel split) is never written through
    a temporary copy, and the input is left alone when not in place."""
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 8)).astype(dtype)
    expected = np.vectorize(gelu_reference)(x.astype(np.float64))
    original = x.copy()
    out = activation.gelu(x)
    np.testing.assert_array_equal(x, original)
    np.testing.assert_allclose(out, expected, rtol=2e-7)
    inplace = activation.gelu(x, inplace=True)
    assert inplace is x
    np.testing.assert_allclose(x, expected, rtol=2e-7)
    view = original[..., 4:]
    got = activation.gelu(view, inplace=True)
    np.testing.assert_allclose(got, expected[..., 4:], rtol=2e-7)
    assert got.dtype == np.dtype(dtype)


def test_gelu_keeps_special_values() -> None:
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0], dtype=np.float32)
    got = activation.gelu(x)
    assert got[0] == np.inf
    assert got[1] == 0.0
    assert np.isnan(got[2])
    assert got[3] == 0.0
    assert got[4] == 0.0


@pytest.mark.parametrize(
    "shapes",
    [
        ((7, 5), (5, 3)),  # more rows: cut into row bands
        ((2, 5), (5, 9)),  # more columns: cut into column bands
        ((3, 7, 4), (3, 4, 2)),  # a batched (grouped) product, rows
        ((1, 6), (6, 11)),  # one row: columns
    ],
)
def test_products_cut_into_bands_equal_a_brute_force_sum(
    monkeypatch: pytest.MonkeyPatch, shapes: tuple[tuple[int, ...], tuple[int, ...]]
) -> None:
    """blas.matmul with every product cut (1 MAC is enough to cut) and 3 threads, against the
    sum over the inner index written out (float64, so the order of the additions is moot at
    this size)."""
    monkeypatch.setattr(blas, "SPLIT_MACS", 1)
    monkeypatch.setattr(blas, "_products", [])
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    rng = np.random.default_rng(len(shapes[0]))
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    expected = np.zeros((*a.shape[:-1], b.shape[-1]))
    for k in range(a.shape[-1]):
        expected += a[..., :, k : k + 1] * b[..., k : k + 1, :]
    np.testing.assert_allclose(blas.matmul(a, b), expected, rtol=1e-12, atol=1e-12)
