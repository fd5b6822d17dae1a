"""Decimal text of integers of any size, with integer arithmetic only.

Python refuses ``str(n)`` past 4,300 digits (``sys.get_int_max_str_digits``) and ``float(n)``
past ~1.8·10³⁰⁸; a cost computed from a hostile spec can be larger than both. These never
raise and never round through a float: :func:`digits` splits a huge integer into pieces that
``str`` accepts, :func:`scientific` finds the exponent by comparing with powers of ten.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

_STR_BITS = 10_000
"""Integers below 2**10000 (3,011 digits) are within ``str``'s default digit limit."""
_STR_BELOW = 2**_STR_BITS


def digits(value: int) -> str:
    """``str(value)`` for any size (``-`` for negatives, no separators)."""
    if -_STR_BELOW < value < _STR_BELOW:
        return str(value)
    if value < 0:
        return "-" + digits(-value)
    half = value.bit_length() * 3 // 20  # about half the decimal digits (log10 2 ≈ 3/10)
    high, low = divmod(value, 10**half)
    return digits(high) + digits(low).zfill(half)


def grouped(value: int) -> str:
    """``120,422,400``: thousands separators, for any size."""
    if -_STR_BELOW < value < _STR_BELOW:
        return f"{value:,}"
    text = digits(abs(value))
    head = len(text) % 3 or 3
    groups = [text[:head], *(text[i : i + 3] for i in range(head, len(text), 3))]
    return ("-" if value < 0 else "") + ",".join(groups)


def exponent(value: int) -> int:
    """⌊log10 |value|⌋ for a non-zero integer, exactly."""
    value = abs(value)
    assert value > 0, "exponent of 0"
    guess = (value.bit_length() - 1) * 30103 // 100000  # log10(2) ≈ 0.30103, never above
    while 10 ** (guess + 1) <= value:
        guess += 1
    while 10**guess > value:
        guess -= 1
    return guess


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded to the nearest integer, ties to
    even (as ``round``), in integer arithmetic."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def scientific(value: int | Fraction, *, decimals: int = 1) -> str:
    """``1.2e+60`` (as ``f"{x:.1e}"`` writes it), from exact arithmetic at any size."""
    if value == 0:
        return f"{0:.{decimals}e}"
    from fractions import Fraction  # noqa: PLC0415 (numbers past 10^15 only)

    sign = "-" if value < 0 else ""
    value = abs(Fraction(value))
    power = exponent(value.numerator) - exponent(value.denominator)
    if Fraction(10) ** power > value:
        power -= 1
    mantissa = round(value * Fraction(10) ** (decimals - power))
    if mantissa >= 10 ** (decimals + 1):  # 9.96 rounds to 10.0
        power += 1
        mantissa = round(value * Fraction(10) ** (decimals - power))
    text = digits(mantissa)
    head = text[0] + ("." + text[1:] if decimals else "")
    return f"{sign}{head}e{'+' if power >= 0 else '-'}{abs(power):02d}"


@contextlib.contextmanager
def unlimited_str_digits() -> Iterator[None]:
    """Lift ``str``'s digit limit for a block (``json.dumps`` writes every int with it)."""
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(previous)
