"""Numbers as YAML 1.1 reads them, with its traps refused: integers within int64, floats, and
no octal (``017``) or base-60 (``1:30``) readings (a :class:`Trap` says what the text means).

The loader (:mod:`convcost.yaml_scalars`) calls these for the scalars tagged, or resolved
as, ``!!int`` and ``!!float``: the one place text becomes a number.
"""

from __future__ import annotations

import re

from convcost.limits import MAX_INT

_DIGITS = {2: 63, 10: 19, 16: 16}
"""The most digits (leading zeros aside) an integer within :data:`MAX_INT` can have."""
_BASE60 = r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
"""A YAML 1.1 base-60 number, checked for a message only (compiled then)."""


class Trap(Exception):
    """A scalar YAML 1.1 reads other than it looks, or out of range: the message says why."""


def parse_int(text: str) -> int:
    """An integer as YAML 1.1 writes it, within int64, refusing octal and base-60 forms."""
    body = text.replace("_", "")
    sign = -1 if body[:1] == "-" else 1
    body = body.lstrip("+-")
    if ":" in body:
        raise Trap(_base60(text))
    if body[:2] in ("0b", "0x"):
        base = 2 if body[1] == "b" else 16
        digits = body[2:].lstrip("0") or "0"
    elif len(body) > 1 and body[0] == "0":
        digits = body.lstrip("0") or "0"
        if len(digits) > _DIGITS[10] or not all(c in "01234567" for c in digits):
            raise ValueError(text)
        octal, decimal = sign * int(digits, 8), sign * int(digits)
        rewrite = f"{octal}" if octal == decimal else f"{octal}, or {decimal}"
        raise Trap(f"{text} is octal {octal} in YAML 1.1: write {rewrite}")
    else:
        base, digits = 10, body
    if len(digits) > _DIGITS[base] or abs(value := sign * int(digits, base)) > MAX_INT:
        shown = text if len(text) <= 30 else f"{text[:20]}… ({len(text)} characters)"
        raise Trap(f"the integer {shown} is too large: integers must be at most {MAX_INT}")
    return value


def parse_float(text: str) -> float:
    body = text.replace("_", "").lower()
    if ":" in body:
        raise Trap(_base60(text))
    if body.lstrip("+-") in (".inf", ".nan"):
        body = body.replace(".", "")
    return float(body)


def _base60(text: str) -> str:
    if len(text) > 30 or not re.fullmatch(_BASE60, text):
        return f"{text[:30]} is a base-60 number in YAML 1.1: quote it for text"
    sign = -1 if text.startswith("-") else 1
    total = 0.0 if "." in text else 0
    for part in text.replace("_", "").lstrip("+-").split(":"):
        total = total * 60 + (float(part) if "." in part else int(part))
    shown = f"{sign * total:g}" if isinstance(total, float) else f"{sign * total}"
    return (
        f"{text} is {shown} in YAML 1.1 (base 60, like a time): write {shown}, or quote it for text"
    )
