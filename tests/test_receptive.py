"""The receptive-field recurrence's integer fast path against an all-``Fraction`` brute force.

The engine keeps sizes and jumps as ``int`` while they are whole and falls back to ``Fraction``
only after a transposed conv or an adaptive pool that does not divide its input
(:data:`convcost.layers.base.Exact`). The oracle here recomputes the recurrence of
docs/cost-model.md from each layer's own fields with ``Fraction`` everywhere, and finds an
adaptive pool's widest window by listing every window (PyTorch's start ⌊i·n/o⌋ and end
⌈(i+1)·n/o⌉), not by the engine's closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from convcost.receptive import Coverage, ReceptiveField
from tests.conftest import require, run

require("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

Field = tuple[Coverage, tuple[Fraction, ...], tuple[Fraction, ...]]
"""Coverage, sizes and jumps."""


@dataclass(frozen=True)
class Drawn:
    """One layer as YAML and as the numbers the oracle needs, per axis."""

    yaml: str
    kind: str
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    sizes_in: tuple[int, ...] = ()
    sizes_out: tuple[int, ...] = ()


def _listed(values: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


@st.composite
def layer(draw: st.DrawFn, sizes: tuple[int, ...]) -> Drawn:
    """A layer that fits ``sizes`` (PyTorch's output-size rules, written out here)."""
    kinds = ["conv", "maxpool", "avgpool", "conv_transpose", "adaptive_avgpool", "relu"]
    if max(sizes) > 60:  # keep maps small: no more upsampling
        kinds = ["conv", "maxpool", "avgpool", "adaptive_avgpool", "relu"]
    kind = draw(st.sampled_from(kinds))
    rank = len(sizes)
    if kind == "relu":
        return Drawn("relu: {}", kind, sizes_in=sizes, sizes_out=sizes)
    if kind == "adaptive_avgpool":
        out = tuple(draw(st.integers(1, n + 3)) for n in sizes)
        return Drawn(
            f"adaptive_avgpool: {{size: {_listed(out)}}}", kind, sizes_in=sizes, sizes_out=out
        )
    if kind == "conv_transpose":
        kernel = tuple(draw(st.integers(1, 5)) for _ in range(rank))
        stride = tuple(draw(st.integers(1, 4)) for _ in range(rank))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
        out = tuple(
            (n - 1) * s + d * (k - 1) + 1
            for n, k, s, d in zip(sizes, kernel, stride, dilation, strict=True)
        )
        text = (
            f"conv_transpose: {{out: 1, kernel: {_listed(kernel)}, stride: {_listed(stride)}, "
            f"dilation: {_listed(dilation)}}}"
        )
        return Drawn(text, kind, kernel, stride, dilation, sizes, out)
    pooling = kind != "conv"
    kernel = tuple(draw(st.integers(1, min(n, 4))) for n in sizes)
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = (1,) * rank if pooling else tuple(draw(st.integers(1, 2)) for _ in range(rank))
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    if any(span > n for span, n in zip(spans, sizes, strict=True)):
        dilation = (1,) * rank
        spans = kernel
    out = tuple((n - span) // s + 1 for n, span, s in zip(sizes, spans, stride, strict=True))
    text = f"kernel: {_listed(kernel)}, stride: {_listed(stride)}"
    if pooling:
        return Drawn(f"{kind}: {{{text}}}", kind, kernel, stride, dilation, sizes, out)
    text = f"conv: {{out: 1, {text}, dilation: {_listed(dilation)}}}"
    return Drawn(text, kind, kernel, stride, dilation, sizes, out)


@st.composite
def stack(draw: st.DrawFn) -> tuple[tuple[int, ...], list[Drawn]]:
    rank = draw(st.integers(1, 2))
    sizes = tuple(draw(st.integers(1, 24)) for _ in range(rank))
    start = sizes
    layers = []
    for _ in range(draw(st.integers(1, 12))):
        drawn = draw(layer(sizes))
        layers.append(drawn)
        sizes = drawn.sizes_out
    return start, layers


def widest_adaptive_window(n: int, out: int) -> int:
    """Every window of PyTorch's adaptive pool, listed: [⌊i·n/o⌋, ⌈(i+1)·n/o⌉)."""
    return max(-(-(i + 1) * n // out) - (i * n // out) for i in range(out))


def oracle(layers: list[Drawn], rank: int) -> list[Field]:
    """(coverage, sizes, jumps) after each layer, in ``Fraction`` arithmetic throughout."""
    size = [Fraction(1)] * rank
    jump = [Fraction(1)] * rank
    coverage = Coverage.LOCAL
    fields: list[Field] = []
    for drawn in layers:
        if coverage is Coverage.LOCAL and drawn.kind == "adaptive_avgpool":
            if all(o == 1 for o in drawn.sizes_out):
                coverage = Coverage.GLOBAL
            else:
                for axis, (n, o) in enumerate(zip(drawn.sizes_in, drawn.sizes_out, strict=True)):
                    size[axis] += (widest_adaptive_window(n, o) - 1) * jump[axis]
                    jump[axis] *= Fraction(n, o)
        elif coverage is Coverage.LOCAL and drawn.kind != "relu":
            for axis, (k, s, d) in enumerate(
                zip(drawn.kernel, drawn.stride, drawn.dilation, strict=True)
            ):
                span = Fraction(d * (k - 1) + 1)
                if drawn.kind == "conv_transpose":
                    # an output is reached from ⌈k_eff / s⌉ inputs, 1/s apart (cost-model.md)
                    size[axis] += (math.ceil(span / s) - 1) * jump[axis]
                    jump[axis] /= s
                else:
                    size[axis] += (span - 1) * jump[axis]
                    jump[axis] *= s
        if coverage is Coverage.LOCAL:
            fields.append((coverage, tuple(size), tuple(jump)))
        else:
            fields.append((coverage, (), ()))
    return fields


def assert_exact(values: tuple[int | Fraction, ...], expected: tuple[Fraction, ...]) -> None:
    """Equal values, each an ``int`` exactly when it is whole."""
    assert values == expected
    assert [type(v) for v in values] == [
        int if e.denominator == 1 else Fraction for e in expected
    ], (values, expected)


@settings(max_examples=300, deadline=None)
@given(stack())
def test_integer_fast_path_equals_the_fraction_recurrence(
    case: tuple[tuple[int, ...], list[Drawn]],
) -> None:
    sizes, layers = case
    text = f"input: [1, {', '.join(map(str, sizes))}]\nlayers:\n" + "".join(
        f"  - {drawn.yaml}\n" for drawn in layers
    )
    report = run(text)
    assert [layer.output_shape[1:] for layer in report.layers] == [d.sizes_out for d in layers]
    expected = oracle(layers, len(sizes))
    for got, (coverage, size, jump) in zip(report.layers, expected, strict=True):
        field = got.receptive_field
        assert field.coverage is coverage, text
        if coverage is Coverage.LOCAL:
            assert_exact(field.size, size)
            assert_exact(field.jump, jump)


def test_jump_returns_to_int_after_a_transposed_conv_is_undone() -> None:
    # conv stride 2: r = 2, j = 2; transposed k=2 s=2: r = 2 + (⌈2/2⌉ − 1)·2 = 2, j = 2/2 = 1;
    # transposed k=3 s=2: r = 2 + (⌈3/2⌉ − 1)·1 = 3, j = 1/2; conv k=3 s=2: r = 3 + 2·1/2 = 4, j = 1
    report = run(
        "input: [1, 8]\nlayers:\n"
        "  - conv: {out: 1, kernel: 2, stride: 2}\n"
        "  - conv_transpose: {out: 1, kernel: 2, stride: 2}\n"
        "  - conv_transpose: {out: 1, kernel: 3, stride: 2}\n"
        "  - conv: {out: 1, kernel: 3, stride: 2}\n"
    )
    fields = [(layer.receptive_field.size, layer.receptive_field.jump) for layer in report.layers]
    assert fields == [((2,), (2,)), ((2,), (1,)), ((3,), (Fraction(1, 2),)), ((4,), (1,))]
    assert [type(size[0]) for size, _ in fields] == [int, int, int, int]
    assert [type(jump[0]) for _, jump in fields] == [int, int, Fraction, int]


def test_adaptive_pool_that_does_not_divide_makes_the_jump_fractional() -> None:
    # 7 → 3: windows [0, 3), [2, 5), [4, 7), the widest 3 wide; outputs 7/3 apart;
    # then 3 → 1 on one axis and 3 → 3 on the other: [0, 3) is 3 wide, r = 3 + 2·7/3 = 23/3
    report = run(
        "input: [1, 7, 7]\nlayers:\n"
        "  - adaptive_avgpool: {size: 3}\n"
        "  - adaptive_avgpool: {size: [1, 3]}\n"
    )
    first, second = (layer.receptive_field for layer in report.layers)
    assert first == ReceptiveField(Coverage.LOCAL, (3, 3), (Fraction(7, 3), Fraction(7, 3)))
    assert second.size == (Fraction(23, 3), 3)
    assert second.jump == (Fraction(7), Fraction(7, 3))
    assert type(second.jump[0]) is int
