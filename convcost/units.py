"""Counts and byte sizes written the way people write them: ``5M``, ``1.2G``, ``64MiB``.

Counts take SI suffixes (``K``/``k``, ``M``, ``G``, ``T``: powers of 1000); byte sizes take
``KiB``/``MiB``/``GiB``/``TiB`` (powers of 1024), ``KB``/``MB``/``GB``/``TB`` (powers of 1000)
or ``B``. A decimal is accepted when the result is an exact integer (``1.2G`` is 1,200,000,000;
``1.5`` is not a count). Digits may be grouped with single underscores between them, as in
Python (``1_000_000``); ``1__0``, ``_1`` and ``1_`` are refused. No value may pass
:data:`~convcost.limits.MAX_INT`. Growth limits are percentages (``2%``).

The parsers raise :class:`UnitError`; the budget reader adds the file and line, the CLI the
flag name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from convcost.limits import MAX_INT

if TYPE_CHECKING:
    from fractions import Fraction

COUNT_SUFFIXES = {"": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BYTE_SUFFIXES = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
}
COUNT_FORMS = "an integer, or a number with K, M, G or T (powers of 1000), e.g. 5M, 1.2G"
BYTE_FORMS = (
    "a number of bytes, or a number with B, KiB, MiB, GiB, TiB (powers of 1024) "
    "or KB, MB, GB, TB (powers of 1000), e.g. 64MiB, 1.5GB"
)
PERCENT_FORMS = "a percentage such as 2% or 0.5% (the % may be left out)"

_DIGITS = r"[0-9](?:_?[0-9])*"
_NUMBER = rf"{_DIGITS}(?:\.{_DIGITS})?"
_MAX_DIGITS = 40
"""Digits (before the suffix) of the longest number read: MAX_INT has 19."""
COUNT_PATTERN = rf"^\s*{_NUMBER}\s*[KkMGT]?\s*$"
"""The string forms of a count, as a regular expression (used by ``convcost schema``)."""
BYTES_PATTERN = rf"^\s*{_NUMBER}\s*(?:[KMGT]i?B|B)?\s*$"
_SPLIT = re.compile(rf"\s*({_NUMBER})\s*([A-Za-z]*)\s*")


class UnitError(ValueError):
    """A value that is not a count, a size or a percentage; the message lists the forms."""


def parse_count(value: object) -> int:
    """An exact count >= 0 from an int or a string such as ``600M``."""
    return _parse(value, COUNT_SUFFIXES, COUNT_FORMS)


def parse_bytes(value: object) -> int:
    """Bytes >= 0 from an int or a string such as ``64MiB``."""
    return _parse(value, BYTE_SUFFIXES, BYTE_FORMS, hint=_bytes_hint)


def parse_percent(value: object) -> Fraction:
    """A non-negative percentage as a fraction: ``"2%"`` → 1/50."""
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    number = text.removesuffix("%").strip()
    if (
        isinstance(value, bool)
        or len(number) > _MAX_DIGITS
        or not re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", number)
    ):
        shown = _quoted(value) if isinstance(value, str) else repr(value)
        raise UnitError(f"must be {PERCENT_FORMS}, got {shown}")
    from fractions import Fraction  # noqa: PLC0415 (budgets in percent only)

    return Fraction(number) / 100


def _parse(
    value: object,
    suffixes: dict[str, int],
    forms: str,
    hint: Callable[[str], str] | None = None,
) -> int:
    if isinstance(value, bool):
        raise UnitError(f"must be {forms}, got {value} (a boolean)")
    if isinstance(value, int):
        if value < 0:
            raise UnitError(f"must be {forms}, got {value} (negative)")
        return _bounded(value, value)
    if not isinstance(value, str):
        # YAML's words, not Python's: `params: null` said "got NoneType"
        shown = "null" if value is None else f"{value!r}"
        raise UnitError(f"must be {forms}, got {shown}")
    match = _SPLIT.fullmatch(value)
    if match is None or match.group(2) not in suffixes:
        extra = hint(value) if hint is not None else ""
        raise UnitError(f"must be {forms}, got {_quoted(value)}{extra}")
    number, suffix = match.groups()
    digits = number.replace("_", "")
    if len(digits) > _MAX_DIGITS:
        raise UnitError(f"must be at most {MAX_INT:,}, got a number of {len(digits)} digits")
    if "." not in digits:  # whole digits: exact in integers
        return _bounded(int(digits) * suffixes[suffix], value)
    from fractions import Fraction  # noqa: PLC0415 (a decimal point: 1.5M)

    exact = Fraction(digits) * suffixes[suffix]
    if exact.denominator != 1:
        raise UnitError(f"must be a whole number, got {value!r} = {float(exact):g}")
    return _bounded(int(exact), value)


def _quoted(text: str) -> str:
    """``text`` as Python writes it, cut short past 40 characters."""
    return (
        repr(text)
        if len(text) <= _MAX_DIGITS
        else f"{text[:_MAX_DIGITS]!r}… ({len(text)} characters)"
    )


def _bounded(amount: int, value: object) -> int:
    if amount > MAX_INT:
        shown = f"{value!r}" if len(str(value)) <= _MAX_DIGITS else "a larger number"
        raise UnitError(f"must be at most {MAX_INT:,}, got {shown}")
    return amount


def _bytes_hint(value: str) -> str:
    match = _SPLIT.fullmatch(value)
    if match and match.group(2) in ("K", "k", "M", "G", "T"):
        unit = match.group(2).upper()
        return f" (write {unit}iB for powers of 1024 or {unit}B for powers of 1000)"
    return ""
