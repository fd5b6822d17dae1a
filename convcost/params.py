"""A spec's ``params:``: named knobs with defaults, overridden by ``--set NAME=VALUE`` or the
``params=`` argument of :func:`~convcost.spec.load_spec`.

::

    params:
      width: 1.0
      depth: 1.0
      resolution: 224
      stem: "${make_divisible(32 * width, 8)}"   # a default may compute from earlier ones

Every ``$name`` and ``${…}`` of the spec sees them: ``input:``, layers, block bodies and block
arguments (a block's own parameter of the same name shadows one), ``repeat:`` and ``if:``.
Defaults are read in file order, each over the ones before it, after the overrides are
applied, so ``--set width=0.5`` also changes ``stem``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from convcost.errors import Location, SpecError
from convcost.limits import MAX_INT
from convcost.names import did_you_mean
from convcost.substitution import Scope, resolve
from convcost.tree import Map, Scalar, ScalarValue, Value, describe, shown
from convcost.valueclasses import dataclass

ParamValue = int | float | str | bool
"""What a parameter holds."""
Overrides = Mapping[str, "str | int | float"]
"""Values given from outside the spec: text as ``--set`` writes it, or numbers."""

_INT = r"[-+]?[0-9]+"
_FLOAT = r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?"
"""``--set`` and sweep values (compiled at their first use, by :func:`re.fullmatch`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """One declared parameter of a spec."""

    name: str
    default: ParamValue
    """The value the spec gives it (computed from the other defaults, when it is an
    expression)."""
    value: ParamValue
    """The value the spec was loaded with: the override, or the default."""
    location: Location
    """Where the parameter is declared."""


def parse_value(text: str) -> ParamValue:
    """``--set`` text as a value: an integer, a decimal, ``true``/``false``, else the text."""
    if re.fullmatch(_INT, text):
        number = int(text)
        if abs(number) > MAX_INT:
            raise SpecError(
                f"{shown(text)} is larger than the largest integer allowed, {MAX_INT:,}"
            )
        return number
    if re.fullmatch(_FLOAT, text):
        value = float(text)
        if not math.isfinite(value):
            raise SpecError(f"{shown(text)} is too large a number")
        return value
    if text in ("true", "false"):
        return text == "true"
    return text


def parse_assignment(text: str) -> tuple[str, ParamValue]:
    """``NAME=VALUE`` (one ``--set``) as a name and a value."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise SpecError(f"--set {shown(text)}: expected NAME=VALUE, e.g. --set width=0.75")
    return name, parse_value(value.strip())


def read_params(
    value: Value | None, overrides: Overrides | None, *, source: str, key: Location | None
) -> tuple[Param, ...]:
    """The ``params:`` mapping, its defaults computed in order with ``overrides`` applied."""
    declared = _declared(value)
    given = {name: _given(name, raw) for name, raw in (overrides or {}).items()}
    names = [name for name, _, _ in declared]
    for name in given:
        if name not in names:
            listed = ", ".join(names) if names else "none (add a `params:` mapping)"
            where = f"{source}: " if key is None else ""
            raise SpecError(
                f"{where}cannot set {shown(name)}: the spec declares no such parameter"
                f"{did_you_mean(name, names)}; its parameters: {listed}",
                location=key,
            )
    defaults = _computed(declared, {})
    values = _computed(declared, given) if given else defaults
    return tuple(
        Param(name=name, default=defaults[name], value=values[name], location=location)
        for name, _, location in declared
    )


def _computed(
    declared: list[tuple[str, Value, Location]], given: Mapping[str, ParamValue]
) -> dict[str, ParamValue]:
    """Each parameter's value: given, or its default over the values before it."""
    values: dict[str, ParamValue] = {}
    bound: dict[str, Value] = {}
    for name, raw, location in declared:
        if name in given:
            value = given[name]
        else:
            scope = Scope(in_channels=None, params=dict(bound))
            value = _scalar(resolve(raw, scope, what=f"params.{name}"), name)
        values[name] = value
        bound[name] = Scalar(value, location, _text(value))
    return values


def scope_values(params: tuple[Param, ...]) -> dict[str, Value]:
    """The parameters as the values ``$name`` substitutes."""
    return {param.name: Scalar(param.value, param.location, _text(param.value)) for param in params}


def _declared(value: Value | None) -> list[tuple[str, Value, Location]]:
    if value is None:
        return []
    if not isinstance(value, Map):
        raise SpecError(
            f"`params` must map names to defaults, e.g. `params: {{width: 1.0}}`, got {describe(value)}",
            location=value.location,
        )
    declared = []
    for key, default in value.entries:
        name = str(key.value)
        if not name.isidentifier():
            raise SpecError(
                f"parameter name {shown(name)} must be an identifier", location=key.location
            )
        if name == "in_channels":
            raise SpecError(
                "`in_channels` is provided by convcost (the channels arriving at each layer); "
                "it cannot be a parameter",
                location=key.location,
            )
        declared.append((name, default, key.location))
    return declared


def _scalar(value: Value, name: str) -> ParamValue:
    if not isinstance(value, Scalar) or value.value is None:
        raise SpecError(
            f"parameter {name!r} needs a number, a string or true/false as its default, "
            f"got {describe(value)}",
            location=value.location,
            field=f"params.{name}",
        )
    if isinstance(value.value, float) and not math.isfinite(value.value):
        raise SpecError(
            f"parameter {name!r} must be a finite number, got {describe(value)}",
            location=value.location,
            field=f"params.{name}",
        )
    result: ScalarValue = value.value
    assert result is not None
    return result


def _given(name: str, raw: object) -> ParamValue:
    if isinstance(raw, str):
        return parse_value(raw)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        if abs(raw) > MAX_INT:
            raise SpecError(f"parameter {name!r}: {raw} is larger than {MAX_INT:,}")
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise SpecError(f"parameter {name!r} must be a finite number, got {raw!r}")
        return raw
    raise SpecError(f"parameter {name!r} takes a string, an int or a float, got {raw!r}")


def _text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
