"""``$name`` and ``${expr}`` in a block's body: the :class:`Scope` it sees and the substitution."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from convcost.errors import SpecError
from convcost.names import did_you_mean
from convcost.tree import Map, Scalar, Seq, Value, describe, plain
from convcost.valueclasses import dataclass, field, slot_setters

_NAME_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"


def template(text: str) -> tuple[str, str | None] | None:
    """``(expr, None)`` for a whole ``${expr}``, ``(name, name)`` for a whole ``$name``, or None
    (a whole ``\\$\\{([^}]*)\\}|\\$([A-Za-z_][A-Za-z0-9_]*)``, read with string methods rather
    than by compiling it at import, 0.8 M instructions; ``tests/test_substitution_template.py``
    checks both this and :func:`substitute_all` against it)."""
    if text.startswith("${") and text.endswith("}") and "}" not in text[2:-1]:
        return text[2:-1], None
    if text.startswith("$") and _is_name(text[1:]):
        return text[1:], text[1:]
    return None


def _is_name(text: str) -> bool:
    """``[A-Za-z_][A-Za-z0-9_]*`` (what ``isidentifier`` is for ASCII text)."""
    return text.isascii() and text.isidentifier()


def substitute_all(text: str, replace: Callable[[str], str]) -> str:
    """``text`` with every ``${expr}`` and ``$name`` in it (leftmost first, as
    ``re.sub`` finds them: ``${`` up to the first ``}``, or ``$`` and the longest name) replaced
    by ``replace`` of its text."""
    pieces: list[str] = []
    done = 0
    at = text.find("$")
    while at >= 0:
        end = -1
        if text.startswith("{", at + 1):
            end = text.find("}", at + 2) + 1 or -1
        if end < 0:
            rest = text[at + 1 :]
            run = len(rest) - len(rest.lstrip(_NAME_CHARACTERS))
            if run and not rest[0].isdigit():
                end = at + 1 + run
        if end < 0:
            at = text.find("$", at + 1)
            continue
        pieces += (text[done:at], replace(text[at:end]))
        done = end
        at = text.find("$", end)
    pieces.append(text[done:])
    return "".join(pieces)


@dataclass(frozen=True, slots=True)
class Scope:
    """What ``$name`` and ``${expr}`` can see: block parameters and ``in_channels``."""

    in_channels: int | None
    """The channels arriving at the entry; ``None`` where there are none (``input:``)."""
    params: Mapping[str, Value] = field(default_factory=dict)
    """Block parameters and the spec's ``params:`` (a block's own shadow the spec's)."""
    block: str | None = None
    """The block whose body is being read, for messages."""

    def names(self) -> dict[str, object]:
        names: dict[str, object] = {}
        if self.in_channels is not None:
            names["in_channels"] = self.in_channels
        for name, value in self.params.items():
            names[name] = value.value if isinstance(value, Scalar) else plain(value)
        return names


_SCOPE_SLOTS = slot_setters(Scope, "in_channels", "params", "block")


def scope_of(
    in_channels: int | None, params: Mapping[str, Value], block: str | None = None
) -> Scope:
    """``Scope(in_channels, params, block)`` through its slots: the builder makes one per
    block use and repetition, for which a value class would compile its ``__init__``."""
    scope = object.__new__(Scope)
    set_channels, set_params, set_block = _SCOPE_SLOTS
    set_channels(scope, in_channels)
    set_params(scope, params)
    set_block(scope, block)
    return scope


def resolve(
    value: Value, scope: Scope, *, layer: str | None = None, what: str | None = None
) -> Value:
    """Substitute a whole-value ``$name`` or ``${expr}``; other values come back unchanged."""
    if not isinstance(value, Scalar) or not isinstance(value.value, str) or "$" not in value.value:
        return value
    text = value.value
    whole = template(text)
    if whole is None:
        return Scalar(interpolate(value, scope, layer=layer, what=what), value.location, text)
    expression, name = whole
    if name is not None:
        if name == "in_channels" and scope.in_channels is not None:
            return Scalar(scope.in_channels, value.location, str(scope.in_channels))
        if name in scope.params:
            bound = scope.params[name]
            # keep the text the value was written as, so `yes` is shown as written
            return (
                Scalar(bound.value, value.location, bound.text)
                if isinstance(bound, Scalar)
                else bound
            )
        raise SpecError(
            f"${name} is not a parameter{_of_block(scope)}; known: {_known(scope)}"
            f"{did_you_mean(name, _names(scope))}",
            location=value.location,
            layer=layer,
            field=what,
        )
    from convcost.expr import ExpressionError, calculate  # noqa: PLC0415 (expressions only: the parser's ast module is heavy)

    try:
        result = calculate(expression, scope.names())
    except ExpressionError as exc:
        raise SpecError(str(exc), location=value.location, layer=layer, field=what) from None
    if isinstance(result, bool):  # shown as YAML writes it: `got true (a boolean)`
        return Scalar(result, value.location, "true" if result else "false")
    return Scalar(result, value.location, text)


def resolve_deep(
    value: Value, scope: Scope, *, layer: str | None = None, what: str | None = None
) -> Value:
    """:func:`resolve` applied to a value and everything inside it (block arguments)."""
    value = resolve(value, scope, layer=layer, what=what)
    if isinstance(value, Seq):
        return Seq(
            tuple(resolve_deep(item, scope, layer=layer, what=what) for item in value),
            value.location,
        )
    if isinstance(value, Map):
        entries = tuple(
            (key, resolve_deep(item, scope, layer=layer, what=what)) for key, item in value.entries
        )
        return Map(entries, value.location)
    return value


def interpolate(
    value: Scalar, scope: Scope, *, layer: str | None = None, what: str | None = None
) -> str:
    """Replace every ``$name`` / ``${expr}`` inside a string (used for names)."""

    def substitute(found: str) -> str:
        resolved = resolve(Scalar(found, value.location), scope, layer=layer, what=what)
        if (
            not isinstance(resolved, Scalar)
            or isinstance(resolved.value, bool)
            or resolved.value is None
        ):
            raise SpecError(
                f"{found} must be a number or a string inside text, got {describe(resolved)}",
                location=value.location,
                layer=layer,
                field=what,
            )
        return str(resolved.value)

    return substitute_all(str(value.value), substitute)


def _of_block(scope: Scope) -> str:
    return f" of block {scope.block!r}" if scope.block else ""


def _names(scope: Scope) -> list[str]:
    return [*scope.params, *([] if scope.in_channels is None else ["in_channels"])]


def _known(scope: Scope) -> str:
    return ", ".join(f"${name}" for name in _names(scope)) or "none"
