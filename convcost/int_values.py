"""Integers in a spec: an integer field's value, and an input shape, with the YAML 1.1 hints."""

from __future__ import annotations

import re

from convcost.errors import SpecError
from convcost.tree import Scalar, Seq, Value, describe


def int_value(value: Value, *, minimum: int, layer: str | None, what: str) -> int:
    """An integer >= ``minimum``; rejects booleans, floats and strings."""
    problem = _int_problem(value, minimum)
    if problem:
        raise SpecError(problem, location=value.location, layer=layer, field=what)
    assert isinstance(value, Scalar)
    assert isinstance(value.value, int)
    return value.value


def _int_problem(value: Value, minimum: int) -> str | None:
    expected = f"must be an integer >= {minimum}"
    if not isinstance(value, Scalar):
        return f"{expected}, got {describe(value)}"
    raw = value.value
    if isinstance(raw, float) and value.text.startswith("${"):
        from convcost.expr import ROUNDING_HINT  # noqa: PLC0415 (expressions only: the parser's ast module is heavy)

        return f"{expected}, got {raw!r} from {value.text}{ROUNDING_HINT}"
    if isinstance(raw, bool) or not isinstance(raw, int):
        return f"{expected}, got {describe(value)}{_string_hint(raw, value.text)}"
    if raw < minimum:
        return f"{expected}, got {raw}"
    return None


def _string_hint(raw: object, text: str = "") -> str:
    """Numbers YAML 1.1 reads as strings (``017`` and ``1:30`` are refused by the loader), and
    an expression written without braces (``$in_channels * 4``)."""
    if not isinstance(raw, str):
        return ""
    outside = re.sub(r"\$\{[^}]*\}", "", text)  # the text around any ${…}
    if "$" in text and re.search(r"[-+*/%]", outside):
        expression = re.sub(r"\$\{([^}]*)\}", r"(\1)", text)
        expression = re.sub(r"\((\w+)\)", r"\1", expression).replace("$", "")
        return f" (to compute it, put the whole expression in braces: '${{{expression}}}')"
    if re.fullmatch(r"[-+]?[0-9.]+[eE][-+]?[0-9]+", raw):
        return " (YAML 1.1 reads 1e6 as a string: write the integer out)"
    if len(raw) <= 24 and re.fullmatch(r"[-+]?0o[0-7_]+", raw):
        octal = int(raw.replace("_", "").replace("0o", ""), 8)
        return f" (YAML 1.1 reads 0o octals as strings: write {octal})"
    return ""


def read_shape(value: Value, what: str) -> tuple[int, ...]:
    """An input shape: 2 to 4 positive integers, channels first."""
    if not isinstance(value, Seq) or not 2 <= len(value) <= 4:
        if isinstance(value, Seq):
            got = "1 value" if len(value) == 1 else f"{len(value)} values"
        else:
            got = describe(value)
        raise SpecError(
            f"must be [C, L], [C, H, W] or [C, D, H, W] (channels first, no batch; rank 2 to 4), got {got}",
            location=value.location,
            field=what,
        )
    return tuple(int_value(item, minimum=1, layer=None, what=what) for item in value)
