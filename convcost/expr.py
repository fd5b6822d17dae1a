"""Expressions in specs: ``${in_channels * 6}``, ``${make_divisible(32 * width, 8)}``, ``${n > 1}``.

Nothing is ever passed to ``eval``. The simplest forms, one integer or one ``+ - * //`` of two
(``${mid * 4}``, ``${blocks - 1}``, most expressions in the bundled models), are computed here
(:func:`_simple`); any other text is parsed by Python's own parser into ``ast`` nodes and
evaluated by walking a whitelist of node types (:mod:`convcost.expr_tree`, loaded on first
need). The language (docs/spec-format.md, *Expressions*):

- integers, decimals (``0.75``, ``1e-3``), ``True``/``False``, quoted strings, names;
- ``+ - * / // % **``, unary ``-``/``+``, comparisons (``< <= > >= == !=``, chained), ``and``,
  ``or``, ``not`` and ``a if cond else b``;
- the functions :data:`FUNCTIONS`: ``round``, ``floor``, ``ceil``, ``min``, ``max``, ``abs`` and
  ``make_divisible(v, divisor[, min_value])``, torchvision's ``_make_divisible``.

Integers stay exact; ``/`` and decimals give floats (IEEE doubles, as Python computes them). A
field that needs an integer takes a float result only when it is whole (``${32 * 0.75}`` is 24;
``${30 * 0.75}`` is refused and names ``round``/``floor``/``ceil``).

Every expression is bounded before it is parsed or computed (:mod:`convcost.limits`): its
length, the depth of its syntax tree, the bits of every intermediate integer (a product or a
power is refused from its operands' sizes, before it is computed), and every float must stay
finite. Evaluation is a walk of at most 256 characters' worth of nodes: it cannot take long.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from keyword import iskeyword

from convcost.limits import MAX_EXPRESSION_LENGTH, MAX_INT

Result = int | float | bool | str
"""What an expression computes: a number, a boolean (comparisons) or a string (a name bound to
one, or a quoted literal, for ``==``/``!=``)."""
Number = int | float

ALLOWED = (
    "numbers, names, + - * / // % **, comparisons, and/or/not, x if c else y, "
    "round floor ceil min max abs make_divisible"
)


class ExpressionError(ValueError):
    """The expression is malformed, too large, or computes something it may not."""


def make_divisible(value: Number, divisor: Number, min_value: Number | None = None) -> int:
    """torchvision's ``_make_divisible`` (from TensorFlow's MobileNet): ``value`` rounded to the
    nearest multiple of ``divisor`` (halves up), at least ``min_value`` (default ``divisor``),
    and one ``divisor`` more when rounding went down by more than 10 %."""
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return int(rounded)


def evaluate(text: str, names: Mapping[str, object]) -> int:
    """Evaluate ``text`` over ``names`` to an integer (a whole float counts), within
    ±:data:`~convcost.limits.MAX_INT`."""
    result = calculate(text, names)
    text = text.strip()
    if isinstance(result, bool) or not isinstance(result, int | float):
        raise ExpressionError(f"{text!r} is {result!r}, not a number")
    if isinstance(result, float):
        if not result.is_integer():
            raise ExpressionError(f"{text!r} is {result!r}{ROUNDING_HINT}")
        return int(result)
    return result


ROUNDING_HINT = " (not a whole number: round it with round(), floor(), ceil() or make_divisible())"


def calculate(text: str, names: Mapping[str, object]) -> Result:
    """Evaluate ``text`` over ``names``: a number, a boolean or a string.

    A whole float result comes back as an ``int``; a number's magnitude is at most
    :data:`~convcost.limits.MAX_INT`.
    """
    text = text.strip()
    value: Result | None = _simple(text, names)
    if value is None:
        from convcost.expr_tree import value_of  # noqa: PLC0415 (the parser: _ast's 100 classes)

        value = value_of(text, names)
    if isinstance(value, bool | str):
        return value
    if abs(value) > MAX_INT:
        shown = f"{value:,}" if isinstance(value, int) else f"{value:.6g}"
        raise ExpressionError(
            f"{text!r} is {shown}, larger than the largest integer allowed, {MAX_INT:,} (2**63 - 1)"
        )
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _split(text: str) -> tuple[str, str | None, str | None] | None:
    """``text`` as one operand, or two around one of ``+ - * //``: each a name or a decimal
    integer as Python writes one (no sign, no leading zero, no ``_``), with spaces between; or
    None. The groups of ``([A-Za-z_][A-Za-z0-9_]*|0|[1-9][0-9]*)(?: *(//|[-+*]) *(…same…))?``
    fully matched, found with string methods rather than by compiling that expression (1.6 M
    instructions, at the import of every command that reads a spec;
    ``tests/test_expr_split.py`` checks them against it)."""
    at = len(text) - len(text.lstrip(_WORD_OR_SPACE))  # the first other character
    if at == len(text):
        return (text, None, None) if _is_operand(text) else None
    symbol = "//" if text.startswith("//", at) else text[at]
    first, second = text[:at].rstrip(" "), text[at + len(symbol) :].lstrip(" ")
    if symbol not in ("+", "-", "*", "//") or not (_is_operand(first) and _is_operand(second)):
        return None
    return first, symbol, second


_WORD_OR_SPACE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_ "


def _is_operand(text: str) -> bool:
    """An ASCII name (``isidentifier`` is ``[A-Za-z_][A-Za-z0-9_]*`` for ASCII text) or a decimal
    integer without a leading zero."""
    return text.isascii() and (
        text.isidentifier() or text == "0" or (text.isdigit() and text[0] != "0")
    )


_OPERAND_BITS = 64
"""Operands the fast path takes: at most this many bits, so that no result nears
:data:`~convcost.limits.MAX_EXPRESSION_BITS` and its checks."""


def _simple(text: str, names: Mapping[str, object]) -> int | None:
    """``text``'s value if it is one of the simplest forms over integer operands, else ``None``
    (the parser then reads it, and words every error).

    The result is the parser's: Python's own ``+ - * //`` of two ints, which no bound refuses
    (operands of at most :data:`_OPERAND_BITS` bits; the magnitude is checked by
    :func:`calculate`). A name bound to anything but an ``int`` (a bool, a float, a string), an
    unknown name, a keyword and a division by zero are left to the parser.
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        return None
    found = _split(text)
    if found is None:
        return None
    first, symbol, second = found
    left = _operand(first, names)
    if left is None:
        return None
    if symbol is None or second is None:
        return left
    right = _operand(second, names)
    if right is None:
        return None
    if symbol == "+":
        return left + right
    if symbol == "-":
        return left - right
    if symbol == "*":
        return left * right
    return left // right if right else None


def _operand(text: str, names: Mapping[str, object]) -> int | None:
    if text[0].isdigit():
        value: object = int(text)
    elif iskeyword(text):
        return None  # True, None, and, not …: the parser's
    else:
        value = names.get(text)
    if type(value) is not int or value.bit_length() > _OPERAND_BITS:
        return None
    return value


def _to_int(function: Callable[[float], int]) -> Callable[[Number], int]:
    def call(value: Number) -> int:
        if isinstance(value, int):
            return value
        return function(value)

    return call


def _round(value: Number) -> int:
    return value if isinstance(value, int) else round(value)


_MANY = 64
"""At most this many arguments for ``min``/``max`` (an expression is 256 characters anyway)."""

FUNCTIONS: dict[str, tuple[int, int, Callable[..., Number]]] = {
    "round": (1, 1, _round),
    "floor": (1, 1, _to_int(math.floor)),
    "ceil": (1, 1, _to_int(math.ceil)),
    "abs": (1, 1, abs),
    "min": (2, _MANY, min),
    "max": (2, _MANY, max),
    "make_divisible": (2, 3, make_divisible),
}
"""The functions an expression may call: (fewest arguments, most, the function)."""
