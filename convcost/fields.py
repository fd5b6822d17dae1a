"""Typed readers for layer fields, with ``$param`` / ``${expr}`` substitution.

:class:`Args` wraps one layer's argument mapping. Each layer kind asks it for the fields it
knows (``args.int("out")``, ``args.per_axis("kernel")``); every problem becomes a
:class:`SpecError` at the value's line and column, naming the layer path and the field.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from convcost.errors import Location, SpecError
from convcost.expr import ExpressionError, evaluate
from convcost.limits import MAX_NAME_LENGTH
from convcost.tree import Map, Scalar, Seq, Value, describe, plain

_TEMPLATE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'kernel'?"`` when a close match exists, else ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


_UNPRINTABLE = {
    "Cc": "a control character",
    "Cf": "a format character (such as a bidirectional override)",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Cs": "a surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
}
"""The Unicode categories a name may not hold (docs/spec-format.md, *Names*)."""


def check_name(
    name: str,
    what: str,
    *,
    location: Location,
    layer: str | None = None,
    in_path: bool = False,
) -> str:
    """``name`` if it is a valid name, else a :class:`SpecError` saying why.

    A name is 1 to :data:`MAX_NAME_LENGTH` printable characters without leading or trailing
    whitespace; with ``in_path`` (layer, branch and block names, which are joined into layer
    paths with dots) it holds no dot and no whitespace at all. ``what`` starts the message
    (``"branch name"``).
    """
    problem = _name_problem(name, in_path=in_path)
    if problem is None:
        return name
    raise SpecError(f"{what} {problem}", location=location, layer=layer)


def _name_problem(name: str, *, in_path: bool) -> str | None:
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"has {len(name)} characters; at most {MAX_NAME_LENGTH} are allowed"
    if not (name.isascii() and name.isprintable()):
        for character in name:
            category = unicodedata.category(character)
            if category in _UNPRINTABLE:
                return (
                    f"{name!r} contains U+{ord(character):04X}, {_UNPRINTABLE[category]}: "
                    "names hold printable characters only"
                )
    if in_path:
        if "." in name:
            return f"{name!r} must not contain dots (the separator of layer paths)"
        if any(character.isspace() for character in name):
            return f"{name!r} must not contain whitespace"
    elif name[0].isspace() or name[-1].isspace():
        return f"{name!r} must not start or end with whitespace"
    return None


@dataclass(frozen=True, slots=True)
class Scope:
    """What ``$name`` and ``${expr}`` can see: block parameters and ``in_channels``."""

    in_channels: int
    params: Mapping[str, Value] = field(default_factory=dict)
    block: str | None = None
    """The block whose body is being read, for messages."""

    def names(self) -> dict[str, object]:
        names: dict[str, object] = {"in_channels": self.in_channels}
        for name, value in self.params.items():
            names[name] = value.value if isinstance(value, Scalar) else plain(value)
        return names


def resolve(
    value: Value, scope: Scope, *, layer: str | None = None, what: str | None = None
) -> Value:
    """Substitute a whole-value ``$name`` or ``${expr}``; other values come back unchanged."""
    if not isinstance(value, Scalar) or not isinstance(value.value, str) or "$" not in value.value:
        return value
    text = value.value
    whole = _TEMPLATE.fullmatch(text)
    if whole is None:
        return Scalar(interpolate(value, scope, layer=layer, what=what), value.location, text)
    expression, name = whole.groups()
    if name is not None:
        if name == "in_channels":
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
            f"{did_you_mean(name, [*scope.params, 'in_channels'])}",
            location=value.location,
            layer=layer,
            field=what,
        )
    try:
        result = evaluate(expression, scope.names())
    except ExpressionError as exc:
        raise SpecError(str(exc), location=value.location, layer=layer, field=what) from None
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

    def substitute(match: re.Match[str]) -> str:
        resolved = resolve(Scalar(match.group(0), value.location), scope, layer=layer, what=what)
        if (
            not isinstance(resolved, Scalar)
            or isinstance(resolved.value, bool)
            or resolved.value is None
        ):
            raise SpecError(
                f"{match.group(0)} must be a number or a string inside text, got {describe(resolved)}",
                location=value.location,
                layer=layer,
                field=what,
            )
        return str(resolved.value)

    return _TEMPLATE.sub(substitute, str(value.value))


def _of_block(scope: Scope) -> str:
    return f" of block {scope.block!r}" if scope.block else ""


def _known(scope: Scope) -> str:
    return ", ".join(f"${name}" for name in [*scope.params, "in_channels"])


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
    if isinstance(raw, bool) or not isinstance(raw, int):
        return f"{expected}, got {describe(value)}{_string_hint(raw)}"
    if raw < minimum:
        return f"{expected}, got {raw}"
    return None


def _string_hint(raw: object) -> str:
    """Numbers YAML 1.1 reads as strings (``017`` and ``1:30`` are refused by the loader)."""
    if not isinstance(raw, str):
        return ""
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


class MissingField(SpecError):
    """A required layer field is absent (the builder first looks for a misspelt one)."""


class Args:
    """One layer's arguments, read field by field; unknown fields are reported by :meth:`finish`."""

    def __init__(
        self,
        mapping: Map | None,
        *,
        kind: str,
        scope: Scope,
        layer: str,
        location: Location,
        rank: int,
    ) -> None:
        self.kind = kind
        self.scope = scope
        self.layer = layer
        self.location = location
        self.rank = rank
        """Number of spatial axes of the layer's input (0 for a flat input)."""
        self._mapping = mapping
        self._read: list[str] = []

    def error(self, name: str, message: str) -> SpecError:
        """An error about field ``name`` at its value's location (or the layer's)."""
        value = self._mapping.get(name) if self._mapping else None
        location = value.location if value is not None else self.location
        return SpecError(message, location=location, layer=self.layer, field=f"{self.kind}.{name}")

    def raw(self, name: str) -> Value | None:
        """The substituted value of ``name``, or ``None`` when the field is absent."""
        self._read.append(name)
        if self._mapping is None:
            return None
        value = self._mapping.get(name)
        if value is None:
            return None
        return resolve(value, self.scope, layer=self.layer, what=self._what(name))

    def required(self, name: str, allowed: str) -> NoReturn:
        """A required field is absent: raise :class:`MissingField`."""
        error = self.error(name, f"`{name}` is required ({allowed})")
        raise MissingField(
            error.message, location=error.location, layer=error.layer, field=error.field
        )

    def _what(self, name: str) -> str:
        return f"{self.kind}.{name}"

    def has(self, name: str) -> bool:
        return self._mapping is not None and self._mapping.get(name) is not None

    def integer(self, name: str, default: int | None = None, *, minimum: int = 1) -> int:
        value = self.raw(name)
        if value is None or (isinstance(value, Scalar) and value.value is None):
            if default is None:
                self.required(name, f"an integer >= {minimum}")
            return default
        return int_value(value, minimum=minimum, layer=self.layer, what=self._what(name))

    def per_axis(
        self, name: str, default: int | None = None, *, minimum: int = 1
    ) -> tuple[int, ...]:
        """An int for every spatial axis, or a list with one value per axis."""
        value = self.raw(name)
        if value is None or (isinstance(value, Scalar) and value.value is None):
            if default is None:
                self.required(name, f"an integer >= {minimum}, or one per axis")
            return (default,) * self.rank
        if isinstance(value, Seq):
            self._check_axes(name, value)
            return tuple(self._axis_int(item, name, minimum) for item in value)
        return (
            int_value(value, minimum=minimum, layer=self.layer, what=self._what(name)),
        ) * self.rank

    def per_axis_or(
        self, name: str, fallback: tuple[int, ...], *, minimum: int = 1
    ) -> tuple[int, ...]:
        """Like :meth:`per_axis`, with another field's value as the default."""
        return (
            self.per_axis(name, minimum=minimum) if self.has(name) else self._skip(name, fallback)
        )

    def _skip(self, name: str, fallback: tuple[int, ...]) -> tuple[int, ...]:
        self._read.append(name)
        return fallback

    def _axis_int(self, item: Value, name: str, minimum: int) -> int:
        resolved = resolve(item, self.scope, layer=self.layer, what=self._what(name))
        return int_value(resolved, minimum=minimum, layer=self.layer, what=self._what(name))

    def _check_axes(self, name: str, value: Seq) -> None:
        if len(value) != self.rank:
            raise SpecError(
                f"needs one value per spatial axis ({self.rank} for a {self.rank}-D input), "
                f"got {len(value)}",
                location=value.location,
                layer=self.layer,
                field=self._what(name),
            )

    def padding(self, name: str = "padding", *, pairs: bool) -> str | tuple[tuple[int, int], ...]:
        """``same``/``valid``, an int, or one per axis; with ``pairs``, an axis may be [before, after]."""
        value = self.raw(name)
        if value is None:
            return ((0, 0),) * self.rank
        if isinstance(value, Scalar) and value.value in ("same", "valid"):
            return str(value.value)
        if isinstance(value, Map) or (isinstance(value, Scalar) and isinstance(value.value, str)):
            raise self.error(
                name,
                f"must be an integer >= 0, a list per axis, 'same' or 'valid', got {describe(value)}",
            )
        if isinstance(value, Seq):
            self._check_axes(name, value)
            return tuple(self._pad_axis(item, name, pairs) for item in value)
        amount = int_value(value, minimum=0, layer=self.layer, what=self._what(name))
        return ((amount, amount),) * self.rank

    def _pad_axis(self, item: Value, name: str, pairs: bool) -> tuple[int, int]:
        item = resolve(item, self.scope, layer=self.layer, what=self._what(name))
        if isinstance(item, Seq):
            if not pairs or len(item) != 2:
                allowed = "an integer or a [before, after] pair" if pairs else "an integer"
                raise SpecError(
                    f"each axis takes {allowed}, got {describe(item)}",
                    location=item.location,
                    layer=self.layer,
                    field=self._what(name),
                )
            before, after = (self._axis_int(v, name, 0) for v in item)
            return (before, after)
        amount = self._axis_int(item, name, 0)
        return (amount, amount)

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None or (isinstance(value, Scalar) and value.value is None):
            return default
        if not isinstance(value, Scalar) or not isinstance(value.value, bool):
            raise self.error(name, f"must be true or false, got {describe(value)}")
        return value.value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        value = self.raw(name)
        if value is None or (isinstance(value, Scalar) and value.value is None):
            return default
        raw = value.value if isinstance(value, Scalar) else None
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not low <= raw <= high:
            raise self.error(name, f"must be a number from {low} to {high}, got {describe(value)}")
        return float(raw)

    def choice(self, name: str, choices: Sequence[str], default: str) -> str:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, Scalar) or value.value not in choices:
            shown = describe(value)
            hint = did_you_mean(str(value.value), choices) if isinstance(value, Scalar) else ""
            raise self.error(name, f"must be one of {', '.join(choices)}, got {shown}{hint}")
        return str(value.value)

    def finish(self, known: Sequence[str] | None = None) -> None:
        """Report the first field this kind does not know (``known``: all of them, else those read)."""
        if self._mapping is None:
            return
        known = self._read if known is None else known
        for key, _ in self._mapping.entries:
            name = str(key.value)
            if name not in known:
                allowed = ", ".join(known) or "none"
                raise SpecError(
                    f"unknown field {name!r} for {self.kind}{did_you_mean(name, known)}; "
                    f"allowed: {allowed}",
                    location=key.location,
                    layer=self.layer,
                    field=f"{self.kind}.{name}",
                )
