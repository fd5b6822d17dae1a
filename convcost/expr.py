"""Integer expressions in block bodies: ``${in_channels * 6}``, ``${(mid + 7) // 8 * 8}``.

Parsed with :mod:`ast` and evaluated by walking a whitelist of node types: integer
literals, names, ``+ - * // %`` and unary minus. Nothing is ever passed to ``eval``.

Every expression is bounded before it is parsed or computed (:mod:`convcost.limits`): its
length, the depth of its syntax tree, the bits of every intermediate integer (a product is
refused from its operands' sizes, before it is multiplied) and the size of its result.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from collections.abc import Callable, Mapping

from convcost.limits import (
    MAX_EXPRESSION_BITS,
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_LENGTH,
    MAX_INT,
)

_OPERATORS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
ALLOWED = "integers, parameter names, + - * // % and parentheses"
_FORBIDDEN = re.compile(r"[#\\\r\n]|[^\t\x20-\x7e]")
"""What Python's parser would accept but is not part of the expression language: a ``#``
comment, a line break or backslash continuation, and non-ASCII text (Python folds
``ｉｎ_channels`` into ``in_channels``)."""


class ExpressionError(ValueError):
    """The expression is malformed, too large, or names something that is not an integer."""


def evaluate(text: str, names: Mapping[str, object]) -> int:
    """Evaluate ``text`` over ``names``; every name it uses must hold an int.

    The result lies within ±:data:`~convcost.limits.MAX_INT`.
    """
    text = text.strip()
    value = _eval(_parse(text), text, names)
    if abs(value) > MAX_INT:
        raise ExpressionError(
            f"{text!r} is {value:,}, larger than the largest integer allowed, {MAX_INT:,} (2**63 - 1)"
        )
    return value


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> ast.expr:
    """The checked syntax tree of ``text`` (a block's body parses the same texts at every use)."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"the expression {_shown(text)} has {len(text):,} characters, more than {MAX_EXPRESSION_LENGTH}: compute it in steps with block parameters"
        )
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        raise ExpressionError(f"{bad.group()!r} is not allowed in {text!r}; allowed: {ALLOWED}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ExpressionError(f"cannot parse expression {text!r}; allowed: {ALLOWED}") from None
    depth = _depth(tree.body)
    if depth > MAX_EXPRESSION_DEPTH:
        raise ExpressionError(
            f"the expression {_shown(text)} nests {depth} levels deep, more than {MAX_EXPRESSION_DEPTH}: compute it in steps with block parameters"
        )
    return tree.body


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:40] + "…")


def _depth(root: ast.expr) -> int:
    """The number of nodes on the longest path from the root (iterative: no recursion)."""
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, ast.operator | ast.unaryop | ast.expr_context)
        )
    return deepest


def _eval(node: ast.expr, text: str, names: Mapping[str, object]) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return _bounded(node.value, text)
    if isinstance(node, ast.Name):
        if node.id not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ExpressionError(f"unknown name {node.id!r} in {text!r}; known: {known}")
        value = names[node.id]
        if type(value) is not int:
            raise ExpressionError(f"{node.id!r} is not an integer (it is {value!r}) in {text!r}")
        return _bounded(value, text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _eval(node.operand, text, names)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _eval(node.left, text, names), _eval(node.right, text, names)
        if isinstance(node.op, ast.FloorDiv | ast.Mod) and right == 0:
            raise ExpressionError(f"division by zero in {text!r}")
        if (
            isinstance(node.op, ast.Mult)
            and left.bit_length() + right.bit_length() > MAX_EXPRESSION_BITS + 1
        ):
            # a product has at least (bits of a) + (bits of b) - 1 bits: refuse it unmade
            raise _too_large(text)
        return _bounded(_OPERATORS[type(node.op)](left, right), text)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        raise ExpressionError(f"use // for integer division in {text!r}")
    raise ExpressionError(f"{ast.unparse(node)!r} is not allowed in {text!r}; allowed: {ALLOWED}")


def _bounded(value: int, text: str) -> int:
    if value.bit_length() > MAX_EXPRESSION_BITS:
        raise _too_large(text)
    return value


def _too_large(text: str) -> ExpressionError:
    return ExpressionError(
        f"{text!r} computes an integer of more than {MAX_EXPRESSION_BITS} bits (the limit for every step of an expression)"
    )
