"""The expression parser and evaluator behind :func:`convcost.expr.calculate`, for every text
its fast path leaves (anything beyond one ``+ - * //`` of two integers).

Parsed by Python's own parser into ``ast`` nodes (``_ast``, the C module behind :mod:`ast`:
``ast.py`` itself, its unparser, is loaded only to quote a refused expression) and evaluated by
walking a whitelist of node types; nothing is ever passed to ``eval``. Every expression is
bounded before it is parsed or computed (:mod:`convcost.limits`).
"""

from __future__ import annotations

import _ast as ast
import functools
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from convcost.expr import (
    ALLOWED,
    FUNCTIONS,
    ExpressionError,
    Number,
    Result,
)
from convcost.limits import MAX_EXPRESSION_BITS, MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH

_ARITHMETIC: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}

_FORBIDDEN = re.compile(r"[#\\\r\n]|[^\t\x20-\x7e]")
"""What Python's parser would accept but is not part of the expression language: a ``#``
comment, a line break or backslash continuation, and non-ASCII text (Python folds
``ｉｎ_channels`` into ``in_channels``)."""


def value_of(text: str, names: Mapping[str, object]) -> Result:
    """``text`` (stripped) evaluated over ``names``, before :func:`convcost.expr.calculate`'s
    final bound."""
    return _Evaluation(text, names).eval(_parse(text))


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
        tree = compile(text, "<unknown>", "eval", ast.PyCF_ONLY_AST)  # what ast.parse does
    except SyntaxError:
        raise ExpressionError(f"cannot parse expression {text!r}; allowed: {ALLOWED}") from None
    assert isinstance(tree, ast.Expression)  # mode "eval"
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
            for child in _children(node)
            if not isinstance(
                child, ast.operator | ast.unaryop | ast.expr_context | ast.cmpop | ast.boolop
            )
        )
    return deepest


def _children(node: ast.AST) -> Iterator[ast.AST]:
    """The direct child nodes of ``node``, in order (what ``ast.iter_child_nodes`` yields)."""
    for name in node._fields:
        field = getattr(node, name, None)
        if isinstance(field, ast.AST):
            yield field
        elif isinstance(field, list):
            yield from (item for item in field if isinstance(item, ast.AST))


def _unparsed(node: ast.AST) -> str:
    """``node`` as source text, for a message (loads :mod:`ast`'s unparser: errors only)."""
    import ast as python_ast  # noqa: PLC0415 (an error message only)

    return python_ast.unparse(node)


class _Evaluation:
    """One evaluation of one expression (the text, for messages, and the names it sees)."""

    __slots__ = ("names", "text")

    def __init__(self, text: str, names: Mapping[str, object]) -> None:
        self.text = text
        self.names = names

    def error(self, message: str) -> ExpressionError:
        return ExpressionError(f"{message} in {self.text!r}")

    def eval(self, node: ast.expr) -> Result:
        if isinstance(node, ast.Constant):
            return self._constant(node.value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            return self._binary(node)
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARISONS for op in node.ops):
            return self._compare(node)
        if isinstance(node, ast.BoolOp):
            return self._boolean(node)
        if isinstance(node, ast.IfExp):
            condition = self._truth(self.eval(node.test), "the condition of if/else")
            return self.eval(node.body if condition else node.orelse)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            return self._call(node.func.id, node)
        raise ExpressionError(
            f"{_unparsed(node)!r} is not allowed in {self.text!r}; allowed: {ALLOWED}"
        )

    def _constant(self, value: object) -> Result:
        result = self._result(value)
        if result is None:
            raise ExpressionError(f"{value!r} is not allowed in {self.text!r}; allowed: {ALLOWED}")
        return result

    def _name(self, name: str) -> Result:
        if name not in self.names:
            if name in FUNCTIONS:
                raise self.error(f"{name} is a function: call it, e.g. {name}(x)")
            known = ", ".join(sorted(self.names)) or "none"
            raise ExpressionError(f"unknown name {name!r} in {self.text!r}; known: {known}")
        value = self.names[name]
        result = self._result(value)
        if result is None:
            raise ExpressionError(f"{name!r} is not a number (it is {value!r}) in {self.text!r}")
        return result

    def _result(self, value: object) -> Result | None:
        """A literal's or a name's value, bounded; None when it is no number, boolean or
        string."""
        if isinstance(value, bool | str):
            return value
        if type(value) is int:
            return self._bounded(value)
        if type(value) is float:
            return self._finite(value)
        return None

    def _number(self, value: Result, what: str) -> Number:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{what} must be a number, got {value!r}")
        return value

    def _truth(self, value: Result, what: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(f"{what} must be true or false (a comparison), got {value!r}")
        return value

    def _unary(self, node: ast.UnaryOp) -> Result:
        operand = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return not self._truth(operand, "the operand of not")
        if isinstance(node.op, ast.USub):
            return -self._number(operand, "the operand of -")
        if isinstance(node.op, ast.UAdd):
            return self._number(operand, "the operand of +")
        raise ExpressionError(
            f"{_unparsed(node)!r} is not allowed in {self.text!r}; allowed: {ALLOWED}"
        )

    def _binary(self, node: ast.BinOp) -> Number:
        symbol = _SYMBOLS[type(node.op)]
        left = self._number(self.eval(node.left), f"the left operand of {symbol}")
        right = self._number(self.eval(node.right), f"the right operand of {symbol}")
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
            raise self.error("division by zero")
        if isinstance(node.op, ast.Pow):
            return self._power(left, right)
        if (
            isinstance(node.op, ast.Mult)
            and isinstance(left, int)
            and isinstance(right, int)
            and left.bit_length() + right.bit_length() > MAX_EXPRESSION_BITS + 1
        ):
            # a product has at least (bits of a) + (bits of b) - 1 bits: refuse it unmade
            raise self._too_large()
        try:
            result = _ARITHMETIC[type(node.op)](left, right)
        except OverflowError:
            raise self.error("a float overflows") from None
        return self._checked(result)

    def _power(self, base: Number, exponent: Number) -> Number:
        if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
            if abs(base) > 1 and (abs(base).bit_length() - 1) * exponent > MAX_EXPRESSION_BITS:
                raise self._too_large()  # |base| >= 2**(bits-1): the power has that many bits
            return self._bounded(base**exponent)
        if base == 0 and exponent < 0:
            raise self.error("division by zero")
        if base < 0 and not float(exponent).is_integer():
            raise self.error(f"{base!r} ** {exponent!r} is not a real number")
        try:
            result = float(base) ** float(exponent)
        except OverflowError:
            raise self.error("a float overflows") from None
        return self._finite(result)

    def _compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node)
            if not isinstance(op, ast.Eq | ast.NotEq):
                what = f"an operand of {_CMP_SYMBOLS[type(op)]}"
                self._number(left, what)
                self._number(right, what)
            if not _COMPARISONS[type(op)](left, right):
                return False
            left = right
        return True

    def _boolean(self, node: ast.BoolOp) -> bool:
        word = "and" if isinstance(node.op, ast.And) else "or"
        for item in node.values:
            truth = self._truth(self.eval(item), f"an operand of {word}")
            if truth is (word == "or"):
                return truth
        return word == "and"

    def _call(self, name: str, node: ast.Call) -> Number:
        function = FUNCTIONS.get(name)
        if function is None:
            raise ExpressionError(
                f"{_unparsed(node)!r} is not allowed in {self.text!r}; allowed: {ALLOWED}"
            )
        low, high, call = function
        if not low <= len(node.args) <= high:
            takes = str(low) if low == high else f"{low} to {high}"
            takes = "2 or more" if high > 16 else takes
            raise self.error(f"{name}() takes {takes} arguments, got {len(node.args)}")
        args = [self._number(self.eval(arg), f"an argument of {name}()") for arg in node.args]
        if name == "make_divisible" and args[1] <= 0:
            raise self.error(f"make_divisible()'s divisor must be > 0, got {args[1]!r}")
        try:
            result = call(*args)
        except (OverflowError, ValueError):
            raise self.error(f"{name}() of an infinite or too large value") from None
        return self._checked(result)

    def _checked(self, value: Number) -> Number:
        return self._bounded(value) if isinstance(value, int) else self._finite(value)

    def _bounded(self, value: int) -> int:
        if value.bit_length() > MAX_EXPRESSION_BITS:
            raise self._too_large()
        return value

    def _finite(self, value: float) -> float:
        if not math.isfinite(value):
            raise self.error("a float overflows")
        return value

    def _too_large(self) -> ExpressionError:
        return ExpressionError(
            f"{self.text!r} computes an integer of more than {MAX_EXPRESSION_BITS} bits (the limit for every step of an expression)"
        )


_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_CMP_SYMBOLS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
