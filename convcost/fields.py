"""Typed readers for layer fields, with ``$param`` / ``${expr}`` substitution.

:class:`Args` wraps one layer's argument mapping. Each layer kind asks it for the fields it
knows (``args.int("out")``, ``args.per_axis("kernel")``); every problem becomes a
:class:`SpecError` at the value's line and column, naming the layer path and the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from convcost.errors import Location, SpecError
from convcost.int_values import int_value
from convcost.names import did_you_mean
from convcost.substitution import Scope, resolve
from convcost.tree import Map, Scalar, Seq, Value, describe

__all__ = ["Args", "MissingField", "Scope"]
"""``Scope`` is what :class:`Args` substitutes in (:mod:`convcost.substitution`)."""


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
