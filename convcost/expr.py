"""Integer expressions in block bodies: ``${in_channels * 6}``, ``${(mid + 7) // 8 * 8}``.

Parsed with :mod:`ast` and evaluated by walking a whitelist of node types: integer
literals, names, ``+ - * // %`` and unary minus. Nothing is ever passed to ``eval``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping

_OPERATORS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
ALLOWED = "integers, parameter names, + - * // % and parentheses"


class ExpressionError(ValueError):
    """The expression is malformed or names something that is not an integer parameter."""


def evaluate(text: str, names: Mapping[str, object]) -> int:
    """Evaluate ``text`` over ``names``; every name it uses must hold an int."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ExpressionError(f"cannot parse expression {text!r}; allowed: {ALLOWED}") from None
    return _eval(tree.body, text, names)


def _eval(node: ast.expr, text: str, names: Mapping[str, object]) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ExpressionError(f"unknown name {node.id!r} in {text!r}; known: {known}")
        value = names[node.id]
        if type(value) is not int:
            raise ExpressionError(f"{node.id!r} is not an integer (it is {value!r}) in {text!r}")
        return value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _eval(node.operand, text, names)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _eval(node.left, text, names), _eval(node.right, text, names)
        if isinstance(node.op, ast.FloorDiv | ast.Mod) and right == 0:
            raise ExpressionError(f"division by zero in {text!r}")
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        raise ExpressionError(f"use // for integer division in {text!r}")
    raise ExpressionError(f"{ast.unparse(node)!r} is not allowed in {text!r}; allowed: {ALLOWED}")
