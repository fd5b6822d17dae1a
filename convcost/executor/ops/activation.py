"""Elementwise activations on NumPy arrays, in place when the runner owns the input."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import assert_never

import numpy as np

from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.executor.stages import Stage, elementwise
from convcost.layers.activation import Activation, Function
from convcost.layers.base import Shape


def relu(x: Array, *, inplace: bool = False) -> Array:
    return np.maximum(x, 0, out=x if inplace else None)


def relu6(x: Array, *, inplace: bool = False) -> Array:
    return np.clip(x, 0, 6, out=x if inplace else None)


def sigmoid(x: Array, *, inplace: bool = False) -> Array:
    """1 / (1 + e^−|x|) for x ≥ 0 and e^−|x| / (1 + e^−|x|) below, so that nothing overflows;
    one temporary (e^−|x|) and a sign mask."""
    negative = x < 0
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)
    y = np.add(e, 1, out=x if inplace else None)
    np.reciprocal(y, out=y)
    np.multiply(y, e, out=y, where=negative)
    result: Array = y
    return result


def silu(x: Array, *, inplace: bool = False) -> Array:
    """swish / SiLU: x · sigmoid(x)."""
    gate = sigmoid(x)
    return np.multiply(x, gate, out=x if inplace else gate)


def tanh(x: Array, *, inplace: bool = False) -> Array:
    return np.tanh(x, out=x if inplace else None)


def hardsigmoid(x: Array, *, inplace: bool = False) -> Array:
    """relu6(x + 3) / 6, as PyTorch."""
    y = np.add(x, 3, out=x if inplace else None)
    np.clip(y, 0, 6, out=y)
    y /= 6
    return y


def hardswish(x: Array, *, inplace: bool = False) -> Array:
    """x · relu6(x + 3) / 6, as PyTorch."""
    gate = np.add(x, 3)
    np.clip(gate, 0, 6, out=gate)
    y = np.multiply(x, gate, out=x if inplace else gate)
    y /= 6
    result: Array = y
    return result


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def erf(x: Array) -> Array:
    """The error function in float64, to ~1e-16 relative accuracy, without SciPy.

    |x| < 3: erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)), a series of positive
    terms (no cancellation), 60 terms evaluated by Horner's rule.
    |x| ≥ 3: erfc(x) = e^(−x²)/√π / (x + ½/(x + 1/(x + 3/2/(x + …)))), the continued fraction,
    60 terms evaluated from the tail.
    """
    z = np.abs(np.asarray(x, dtype=np.float64))
    small = np.minimum(z, 3.0)
    t = 2 * small * small
    series = np.ones_like(small)
    for n in range(60, 0, -1):
        series = 1 + t / (2 * n + 1) * series
    low = _TWO_OVER_SQRT_PI * np.exp(-small * small) * small * series
    large = np.maximum(z, 3.0)
    fraction = large.copy()
    for k in range(60, 0, -1):
        fraction = large + (k / 2) / fraction
    high = 1 - np.exp(-large * large) / (math.sqrt(math.pi) * fraction)
    result: Array = np.copysign(np.where(z < 3.0, low, high), x)
    return result


_TAIL_SCALE = 0.3
"""t = 1/(1 + 0.3·a) in the normal tail's approximation (tests/bench/fit_gelu.py)."""
_TAIL_COEFFICIENTS = (
    0.11968671666884309,
    0.11957131776805008,
    0.11023934339116291,
    0.07837224470526828,
    0.09620484593997011,
    -0.07950900106362863,
    0.1918830793992932,
    -0.22828462027510252,
    0.1124647188383223,
    -0.020628647104933766,
)
"""c₀…c₉ of ½·erfc(a/√2)·e^(a²/2) ≈ t·Σ cₖ tᵏ on a ∈ [0, 15], largest relative error 3.5e-9
(a minimax fit by tests/bench/fit_gelu.py against the C library's erfc)."""
_TAIL_LIMIT = 15.0
"""Beyond 15, a·E(a) < 1e-49 rounds to zero in float32: ``a`` is clamped there (so ±inf work)."""
GELU_CHUNK = 16384
"""Elements per step of GELU's loop: its float64 temporaries stay in the CPU cache."""


def _gelu_float32(x: Array, y: Array, work: Array) -> None:
    """GELU(x) = relu(x) − a·E(a), a = |x|, E(a) = ½·erfc(a/√2) = e^(−a²/2)·R(a), in float64.

    R's fit is within 3.5e-9 of the exact value relative, and so is a·E; the subtraction for
    x > 0 cannot cancel (E ≤ ½), and the negative tail has no 1 + erf(…) to cancel either:
    the result is within one float32 ulp of the exact GELU everywhere (tests/test_execute_numpy.py
    checks it against math.erfc on a dense grid)."""
    a, t, e = work[0, : x.size], work[1, : x.size], work[2, : x.size]
    np.abs(x, out=a)
    np.minimum(a, _TAIL_LIMIT, out=a)
    np.multiply(a, _TAIL_SCALE, out=t)
    t += 1
    np.reciprocal(t, out=t)
    np.multiply(t, _TAIL_COEFFICIENTS[-1], out=e)
    for c in _TAIL_COEFFICIENTS[-2::-1]:
        e += c
        e *= t
    e *= a
    np.multiply(a, a, out=t)
    t *= -0.5
    np.exp(t, out=t)
    e *= t
    np.maximum(x, 0, out=a)
    a -= e
    y[...] = a


def _gelu_float64(x: Array, y: Array, work: Array) -> None:
    """Exact GELU for float64: x · ½ · (1 + erf(x / √2)) with :func:`erf` (to ~1e-16)."""
    y[...] = x * 0.5 * (1 + erf(x / math.sqrt(2)))


def gelu(x: Array, *, inplace: bool = False) -> Array:
    """Exact GELU (the erf form, not the tanh one), evaluated in float64 over chunks of
    :data:`GELU_CHUNK` elements: its workspace is a few hundred KiB, whatever the tensor."""
    source = np.ascontiguousarray(x).reshape(-1)
    y = x if inplace and x.flags.c_contiguous else np.empty(x.shape, dtype=x.dtype)
    step = _gelu_float32 if x.dtype == np.float32 else _gelu_float64
    target = y.reshape(-1)
    work = np.empty((3, GELU_CHUNK), dtype=np.float64)
    for start in range(0, source.size, GELU_CHUNK):
        step(source[start : start + GELU_CHUNK], target[start : start + GELU_CHUNK], work)
    return y


_TANH_SCALE = math.sqrt(2 / math.pi)


def gelu_tanh(x: Array, *, inplace: bool = False) -> Array:
    """0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as PyTorch's ``approximate='tanh'``; one
    temporary (the gate), written into the output unless in place."""
    gate = np.multiply(x, x)
    gate *= 0.044715
    gate += 1
    gate *= x
    gate *= _TANH_SCALE
    np.tanh(gate, out=gate)
    gate += 1
    y = np.multiply(x, gate, out=x if inplace else gate)
    y *= 0.5
    result: Array = y
    return result


def mish(x: Array, *, inplace: bool = False) -> Array:
    """x·tanh(softplus(x)), softplus(x) = log(1 + eˣ) as ``logaddexp(0, x)`` (no overflow); one
    temporary (the gate), written into the output unless in place."""
    gate = np.logaddexp(0, x)
    np.tanh(gate, out=gate)
    result: Array = np.multiply(x, gate, out=x if inplace else gate)
    return result


ACTIVATIONS: dict[Function, Callable[..., Array]] = {
    Function.RELU: relu,
    Function.RELU6: relu6,
    Function.SIGMOID: sigmoid,
    Function.SWISH: silu,
    Function.SILU: silu,
    Function.GELU: gelu,
    Function.GELU_TANH: gelu_tanh,
    Function.TANH: tanh,
    Function.HARDSWISH: hardswish,
    Function.HARDSIGMOID: hardsigmoid,
    Function.MISH: mish,
}


def mask(elements: int, width: int) -> int:
    """A boolean array of ``elements``, in elements of ``width`` bytes (rounded up)."""
    return -(-elements // width)


def _relu_stage(source: Array, target: Array) -> None:
    np.maximum(source, 0, out=target)


def _relu6_stage(source: Array, target: Array) -> None:
    np.clip(source, 0, 6, out=target)


def _tanh_stage(source: Array, target: Array) -> None:
    np.tanh(source, out=target)


def _hardsigmoid_stage(source: Array, target: Array) -> None:
    np.add(source, 3, out=target)
    np.clip(target, 0, 6, out=target)
    target /= 6


STAGES: dict[Function, Stage] = {
    Function.RELU: _relu_stage,
    Function.RELU6: _relu6_stage,
    Function.TANH: _tanh_stage,
    Function.HARDSIGMOID: _hardsigmoid_stage,
}
"""The activations that need no temporary, as :data:`~convcost.executor.stages.Stage`: they
run in bands on every thread, or fused into the conv before them."""


def _banded(stage: Stage) -> Callable[[Array, bool], tuple[Array, bool]]:
    def forward(x: Array, owned: bool) -> tuple[Array, bool]:
        if not x.flags.c_contiguous:
            y = x if owned else np.empty(x.shape, dtype=x.dtype)
            stage(x, y)
            return y, True
        y = x if owned else np.empty(x.shape, dtype=x.dtype)
        elementwise(x, y, (stage,))
        return y, True

    return forward


class ActivationOp(Op[Activation]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        stage = STAGES.get(self.layer.function)
        if stage is not None:
            fixed = stage
            return PreparedLayer(_banded(stage), stage=lambda: fixed)
        function = ACTIVATIONS[self.layer.function]
        return PreparedLayer(lambda x, owned: (function(x, inplace=owned), True))

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return not owned  # in place when the runner owns the input

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        outputs = math.prod(out)
        match self.layer.function:
            case Function.GELU:
                # three float64 rows of GELU_CHUNK elements (not per sample: an upper bound at
                # batch 1 and above)
                return 3 * GELU_CHUNK * 8 // width
            case Function.SIGMOID:
                return outputs + mask(outputs, width)  # e^−|x| and the sign mask
            case Function.SWISH | Function.SILU:
                # the gate (the output itself unless in place), e^−|x| and the sign mask
                return (outputs if owned else 0) + outputs + mask(outputs, width)
            case Function.HARDSWISH | Function.GELU_TANH | Function.MISH:
                return outputs if owned else 0  # the gate, written into the output otherwise
            case Function.RELU | Function.RELU6 | Function.TANH | Function.HARDSIGMOID:
                return 0
            case _:
                assert_never(self.layer.function)
