"""Derive the coefficients of the float32 GELU kernel (not a test; run it by hand).

    python tests/bench/fit_gelu.py

GELU(x) = x·Φ(x) = relu(x) − a·E(a) with a = |x| and E(a) = ½·erfc(a/√2), the normal tail.
Write E(a) = e^(−a²/2)·R(a): R is smooth and positive (½ at 0, ~0.4/a far out), and with
t = 1/(1 + P·a) it is close to t times a polynomial in t. This script fits R(a) ≈ t·Σ cₖ tᵏ,
k = 0…9, minimising the largest *relative* error over a in [0, 15] (beyond 15, a·E(a) is
below float32's smallest subnormal), by Lawson's iteratively reweighted least squares on 6,000
Chebyshev nodes in t. The reference is ½·erfc(a/√2)·e^(a²/2) from the C library's erfc
(math.erfc, correctly rounded to within an ulp), in float64. It prints the constants that
convcost/executor/ops/activation.py holds, and the relative error reached.
"""

from __future__ import annotations

import math

import numpy as np

P = 0.30
"""The scale of t = 1/(1 + P·a): chosen by scanning 0.20…0.40 in steps of 0.02 for the smallest error."""
DEGREE = 9
LIMIT = 15.0
NODES = 6000


def reference(a: np.ndarray) -> np.ndarray:
    return np.array([0.5 * math.erfc(v / math.sqrt(2)) * math.exp(v * v / 2) for v in a])


def fit() -> tuple[np.ndarray, float]:
    low = 1 / (1 + P * LIMIT)
    t = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES) * 0.5 * (1 - low) + 0.5 * (1 + low)
    target = reference((1 / t - 1) / P)
    # relative error of t·Σ cₖ tᵏ against R: rows scaled by 1/R
    matrix = np.vander(t, DEGREE + 1, increasing=True) * (t / target)[:, None]
    weights = np.ones(NODES)
    for _ in range(400):
        root = np.sqrt(weights)
        coefficients, *_ = np.linalg.lstsq(matrix * root[:, None], root, rcond=None)
        error = np.abs(matrix @ coefficients - 1)
        weights *= error
        weights /= weights.sum()
    return coefficients, float(error.max())


def main() -> None:
    coefficients, error = fit()
    print(f"P = {P}")
    print("coefficients (c0 … c9):")
    for value in coefficients:
        print(f"    {float(value)!r},")
    print(f"largest relative error of R on [0, {LIMIT}]: {error:.2e}")


if __name__ == "__main__":
    main()
