"""Rates and durations as profiles and budgets write them: ``19.5T``, ``1.2e12``, ``5ms``."""

from __future__ import annotations

import math
import re

RATE_SUFFIXES = {"": 1.0, "K": 1e3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
TIME_SUFFIXES = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
RATE_FORMS = "a number, or a number with K, M, G, T or P (powers of 1000), e.g. 19.5T, 1.2e12"
TIME_FORMS = "a number of seconds, or a number with s, ms, us or ns, e.g. 5ms, 20us"

_NUMBER = r"(?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)"
_RATE = re.compile(_NUMBER + r"\s*(?P<suffix>[kKMGTP]?)")
_TIME = re.compile(_NUMBER + r"\s*(?P<suffix>s|ms|us|µs|ns)?")


def parse_rate(value: object) -> float | None:
    """A positive finite rate, or ``None`` when ``value`` is not one."""
    return _parse(value, _RATE, RATE_SUFFIXES, "")


def parse_seconds(value: object) -> float | None:
    """A duration in seconds (``5ms`` → 0.005; a bare number is seconds), or ``None``."""
    return _parse(value, _TIME, TIME_SUFFIXES, "s")


def _parse(
    value: object, pattern: re.Pattern[str], suffixes: dict[str, float], bare: str
) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and (match := pattern.fullmatch(value.strip())):
        number = float(match["number"]) * suffixes[match["suffix"] or bare]
    else:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def seconds_text(seconds: float) -> str:
    """``4.21 ms``, ``35.0 µs``, ``120 ms``, ``1.20 s``: three significant digits."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if seconds >= scale or unit == "ns":
            value = seconds / scale
            if value == 0:
                return "0 s"
            decimals = 2 if value < 10 else 1 if value < 100 else 0
            return f"{value:.{decimals}f} {unit}"
    raise AssertionError("unreachable")


TIME_PATTERN = (
    r"^ *([0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?) *(s|ms|us|µs|ns)? *$"
)
"""What :func:`parse_seconds` reads as text (for the JSON schema)."""


def parse_nanoseconds(value: object) -> int:
    """A duration as whole nanoseconds (``5ms`` → 5,000,000), for budgets; raises
    :class:`convcost.units.UnitError`."""
    from convcost.units import UnitError  # noqa: PLC0415 (units imports nothing of ours)

    seconds = parse_seconds(value)
    if seconds is None or seconds * 1e9 > 2**62:
        raise UnitError(f"must be {TIME_FORMS}; got {value!r}")
    return round(seconds * 1e9)
