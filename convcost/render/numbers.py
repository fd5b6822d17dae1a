"""Human-readable numbers, shapes and receptive fields, exact for integers of any size.

Counts above what the largest suffix can show (``999.9 T``, ``1023.9 TiB``) are written in
scientific notation (``1.2e+60``) computed from the integer, never through a float.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, TypeVar

from convcost.integers import grouped, round_half_even, scientific
from convcost.layers import Shape
from convcost.receptive import Coverage, ReceptiveField

if TYPE_CHECKING:
    from fractions import Fraction

_SI = ((10**3, "K"), (10**6, "M"), (10**9, "G"), (10**12, "T"))
_BINARY = ((2**10, "KiB"), (2**20, "MiB"), (2**30, "GiB"), (2**40, "TiB"))

COMPACT_BELOW = 10**15
"""Integers from here on are written ``1.0e+15`` where a short form is wanted (shapes,
receptive fields, ratios); counts and sizes switch where their largest suffix runs out."""


def _scaled(value: int, scales: tuple[tuple[int, str], ...], small: int) -> str | None:
    """``120.4 M``: one decimal, rounded half to even, in the first scale where it stays
    below 1000 (``999,950`` is ``1.0 M``, not ``1000.0 K``); None past the last scale."""
    magnitude = abs(value)
    sign = "-" if value < 0 else ""
    for scale, suffix in scales:
        tenths = round_half_even(magnitude * 10, scale)
        if tenths < 10 * small:
            return f"{sign}{tenths // 10}.{tenths % 10} {suffix}"
    return None


def count(value: int, *, exact: bool = False) -> str:
    """``120.4 M`` (SI, powers of 1000), or ``120,422,400`` when exact; small values as they
    are; ``1.2e+60`` past ``999.9 T``."""
    if exact or abs(value) < 1000:
        return grouped(value)
    return _scaled(value, _SI, 1000) or scientific(value)


def size(value: int, *, exact: bool = False) -> str:
    """Bytes in binary units: ``1.5 MiB``; exact prints ``1,572,864 B``; ``1.2e+60 B`` past
    ``1023.9 TiB``."""
    if exact or abs(value) < 1024:
        return f"{grouped(value)} B"
    return _scaled(value, _BINARY, 1024) or f"{scientific(value)} B"


def compact(value: int | Fraction) -> str:
    """An integer as it is below :data:`COMPACT_BELOW`, a fraction as ``%g``; else ``1.2e+60``."""
    if not isinstance(value, int):  # a Fraction
        if value.denominator == 1:
            value = value.numerator
        else:
            magnitude: Fraction = abs(value)
            if magnitude >= COMPACT_BELOW or magnitude * COMPACT_BELOW < 1:
                return scientific(value)
            return f"{float(value):g}"
    if -COMPACT_BELOW < value < COMPACT_BELOW:
        return str(value)
    return scientific(value)


def shape(value: Shape) -> str:
    return "×".join(compact(v) for v in value)


def _axes(values: tuple[int | Fraction, ...]) -> str:
    shown = [compact(v) for v in values]
    if len(set(shown)) == 1:
        return shown[0]
    return "×".join(shown)


def receptive(field: ReceptiveField) -> str:
    """``7`` (same on every axis), ``7×3``, ``global`` or ``?``; ``≤7`` when the field differs
    between output positions (the largest shown), ``7+g`` when a merged branch sees the whole
    input (global context: docs/cost-model.md)."""
    if field.coverage is Coverage.GLOBAL:
        return "global"
    if field.coverage is Coverage.UNKNOWN:
        return "?"
    text = _axes(field.size)
    if field.varies:
        text = "≤" + text
    if field.global_context:
        text += "+g"
    return text


def jump(field: ReceptiveField) -> str:
    if field.coverage is not Coverage.LOCAL:
        return "—"
    return _axes(field.jump)


def share(part: int, whole: int) -> str:
    if whole == 0:
        return "—"
    tenths = round_half_even(1000 * part, whole)
    return f"{'-' if tenths < 0 else ''}{abs(tenths) // 10}.{abs(tenths) % 10}%"


Value = TypeVar("Value")


def memoized(
    function: Callable[[Value], str], *, key: Callable[[Value], Hashable] | None = None
) -> Callable[[Value], str]:
    """``function`` with its results kept, for one table or document: a deep stack repeats
    its shapes and counts row after row. Values are their own keys, or ``key=id`` for values
    that are costly to hash (a receptive field's fractions) and stay alive meanwhile (a
    report's)."""
    results: dict[Hashable, str] = {}
    if key is None:

        def cached_by_value(value: Value) -> str:
            text = results.get(value)
            if text is None:
                text = results[value] = function(value)
            return text

        return cached_by_value
    keyed = key

    def cached(value: Value) -> str:
        name = keyed(value)
        text = results.get(name)
        if text is None:
            text = results[name] = function(value)
        return text

    return cached


def intensity(value: Fraction | None, *, exact: bool = False) -> str:
    """Arithmetic intensity in FLOPs per byte: ``12.3`` (``0.25`` below 1, ``—`` when
    nothing moves); ``exact`` (CSV) gives the nearest float's ``repr``, empty for nothing."""
    if value is None:
        return "" if exact else "—"
    if value >= COMPACT_BELOW:
        return scientific(value)
    if exact:
        return repr(float(value))
    return f"{float(value):.2f}" if value < 1 else f"{float(value):,.1f}"


def intensity_of(terms: tuple[int, int] | None) -> str:
    """:func:`intensity` of (FLOPs, bytes moved) (``report.intensity_terms``): the same text,
    without loading :mod:`fractions` below :data:`COMPACT_BELOW` (the summary of a table that
    no other number needs it for)."""
    if terms is None:
        return "—"
    flops, moved = terms
    if flops >= COMPACT_BELOW * moved:
        from fractions import Fraction  # noqa: PLC0415 (past 10^15 FLOPs per byte only)

        return scientific(Fraction(flops, moved))
    quotient = flops / moved  # correctly rounded: float(Fraction(flops, moved))
    return f"{quotient:.2f}" if flops < moved else f"{quotient:,.1f}"
