"""Scalars' values as PyYAML's safe loader makes them (YAML 1.1), without importing PyYAML for
the forms specs are written in.

Importing PyYAML costs more than the rest of a small ``convcost analyze`` (its reader compiles
a large Unicode class: ~100 M instructions, 5-7 ms). The plain reader (:mod:`convcost.plainyaml`)
reads the bundled specs without it, and their scalars are resolved here, by the rules of
PyYAML's resolver (``yaml.resolver.Resolver``) restricted to a few forms:

- a quoted scalar is a string;
- a plain scalar whose first character no implicit resolver reads is a string (``conv``,
  ``b12``, ``$mid``, ``${c * 2}``: :data:`STRING_STARTS`);
- one that starts as a boolean or null word may (``yYnNtTfFoO~``): it is a boolean when it is
  one of :data:`BOOL_WORDS`, null when one of :data:`NULL_WORDS`, else a string (``features``);
- a decimal integer ``[-+]?(0|[1-9][0-9]*)`` is an integer, and a decimal with its point
  ``[-+]?[0-9]+\\.[0-9]*`` (an exponent ``e-6`` allowed) a float;
- one that starts as a number may, but it is a string when it holds a character no number
  reads (``60K``, ``512KiB``, ``9.7T``: :data:`NUMBER_CHARACTERS`) and is not a date.

Any other plain scalar (``1_000``, ``0x1F``, ``.5``, ``017``, ``1:30``, ``2024-01-01``, ``1e6``,
``<<``) is resolved by PyYAML's own resolver, imported then (:mod:`convcost.yaml_events`).
The value is then made from the tag by one function (:meth:`Scalars.value`) whichever way the
tag was found, numbers by :mod:`convcost.yaml_numbers`. ``tests/test_yaml_scalars.py`` checks
the constants against PyYAML's resolver and the values against ``yaml.safe_load``.
"""

from __future__ import annotations

from convcost.errors import Location, SpecError
from convcost.tree import ScalarValue, shown
from convcost.yaml_numbers import Trap, parse_float, parse_int

CORE = "tag:yaml.org,2002:"
SCALAR_TAGS = frozenset(CORE + name for name in ("str", "int", "float", "bool", "null"))
ALLOWED_TAGS = ("!!str", "!!int", "!!float", "!!bool", "!!null", "!!seq", "!!map")
"""The explicit tags a spec may use; any other (``!foo``, ``!!python/…``, ``!!set``) is refused."""

CLAIMED = "yYnNtTfFoO~0123456789+-.<=!&*"
"""The first characters PyYAML's implicit resolvers read (the keys of
``Resolver.yaml_implicit_resolvers``, the empty scalar's aside)."""
STRING_STARTS = frozenset(map(chr, range(33, 127))) - frozenset(CLAIMED)
"""First characters of a plain scalar that no implicit resolver reads: such a scalar is a
string without a look at the rest of it (a concat's 10,000 branch names)."""
WORD_STARTS = frozenset("yYnNtTfFoO~")
"""First characters that only the boolean and null resolvers read."""
NUMBER_STARTS = frozenset("0123456789+-.")
"""First characters that only the float, int and timestamp resolvers read."""
NUMBER_CHARACTERS = frozenset("0123456789_.+-:abcdefinxABCDEFIN\n")
"""Every character the float and int resolvers' expressions can match (``0x1F``, ``.inf``,
``.NaN``), and the line break their ``$`` may end before: a scalar with any other character is
a string, unless it may be a timestamp (``2001-12-14t21:59:43.10Z``: four digits and a ``-``
first)."""
BOOL_VALUES = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
"""``SafeConstructor.bool_values``: what ``!!bool`` reads, in any case."""
BOOL_WORDS = {
    spelling: value
    for word, value in BOOL_VALUES.items()
    for spelling in (word, word.capitalize(), word.upper())
}
"""The plain scalars the implicit resolver reads as booleans (``yes``, ``Yes``, ``YES``, …)."""
NULL_WORDS = frozenset(("~", "null", "Null", "NULL"))
"""The plain scalars the implicit resolver reads as null (the empty one aside)."""
NOWHERE = Location("", 0, 0)
"""The location of a scalar of the plain reader: its errors are reported by the event path."""
_UNSET = object()


def _digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits."""
    return text.isdecimal() and text.isascii()


def resolve_plain(text: str) -> str | None:
    """The core tag's name (``str``, ``int``, ``float``, ``bool``, ``null``) PyYAML's resolver
    gives the plain scalar ``text``, or ``None`` when ``text`` is outside the forms read here."""
    first = text[:1]
    if first in STRING_STARTS:
        return "str"
    if first in WORD_STARTS:
        return "bool" if text in BOOL_WORDS else "null" if text in NULL_WORDS else "str"
    if not text:
        return "null"
    whole, point, fraction = text.lstrip("+-").partition(".")
    if len(text) - len(whole) - len(point) - len(fraction) <= 1 and _digits(whole):
        # one sign at most, and digits before the point (`.5` and `-.5` differ)
        if not point:
            if whole[0] != "0" or whole == "0":  # 017 is octal
                return "int"
        else:
            mantissa, e, power = fraction.replace("E", "e").partition("e")
            if (not mantissa or _digits(mantissa)) and (
                not e or (power[:1] in ("+", "-") and _digits(power[1:]))
            ):
                return "float"
    if first in NUMBER_STARTS and text[4:5] != "-" and not NUMBER_CHARACTERS.issuperset(text):
        return "str"  # `60K`, `512KiB`, `9.7T`: no number resolver reads a K, a G or a T
    return None


def _resolve(text: str, implicit: tuple[bool, bool]) -> str:
    """The tag PyYAML's resolver gives an untagged scalar, without the core prefix."""
    if not implicit[0]:
        return "str"  # quoted
    name = resolve_plain(text)
    if name is None:
        from convcost.yaml_events import resolve  # noqa: PLC0415 (PyYAML: rare forms only)

        name = resolve(text, implicit).removeprefix(CORE)
    return name


class Scalars:
    """The values of a document's scalars, made once per text (a long stack repeats a few)."""

    __slots__ = ("cache",)

    def __init__(self) -> None:
        self.cache: dict[tuple[str | None, tuple[bool, bool], str], ScalarValue] = {}
        """Values by tag, implicitness and text."""

    def construct(self, text: str, plain: bool, is_key: bool) -> ScalarValue:
        """An untagged scalar's value, as from its event (:mod:`convcost.plainyaml`'s scalars)."""
        if not plain or text[:1] in STRING_STARTS:
            return text  # what the resolver's default tag, str, makes of it
        return self.value(None, (True, False), text, NOWHERE, is_key)

    def value(
        self,
        tag: str | None,
        implicit: tuple[bool, bool],
        text: str,
        location: Location,
        is_key: bool,
    ) -> ScalarValue:
        """A scalar's value from its event's tag (``None``: untagged), implicitness and text."""
        key = (tag, implicit, text)
        value = self.cache.get(key, _UNSET)
        if value is _UNSET or (is_key and value == "<<"):  # `<<` as a key may be a merge key
            value = _construct(tag, implicit, text, location, is_key)
            self.cache[key] = value
        return value  # type: ignore[return-value]


def _construct(
    tag: str | None,
    implicit: tuple[bool, bool],
    text: str,
    location: Location,
    is_key: bool,
) -> ScalarValue:
    if tag == "!":
        return text  # the non-specific tag: a string
    if tag is None:
        name = _resolve(text, implicit)
    elif tag in SCALAR_TAGS:
        name = tag.removeprefix(CORE)
    else:
        raise tag_error(tag, location)
    if name == "merge":
        if is_key:
            raise SpecError(
                "merge keys (<<) are not supported: write the fields out, "
                "or use a block with parameters",
                location=location,
            )
        return text
    try:
        if name == "int":
            return parse_int(text)
        if name == "float":
            return parse_float(text)
        if name == "bool":
            return _boolean(text)
    except ValueError:
        raise SpecError(f"cannot read {shown(text)} as !!{name}", location=location) from None
    except Trap as trap:
        raise SpecError(str(trap), location=location) from None
    if name == "null":
        return None
    return text  # str, and the implicit timestamp (2024-01-01) and value (=) tags


def tag_error(tag: str, location: Location) -> SpecError:
    shown = "!!" + tag.removeprefix(CORE) if tag.startswith(CORE) else tag
    return SpecError(
        f"the YAML tag {shown} is not allowed: a spec is plain data (allowed tags: "
        f"{', '.join(ALLOWED_TAGS)})",
        location=location,
    )


def _boolean(text: str) -> bool:
    if text.lower() not in BOOL_VALUES:
        raise ValueError(text)
    return BOOL_VALUES[text.lower()]
