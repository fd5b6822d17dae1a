"""Names in a spec: what a valid name is, and the nearest known name for a misspelt one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from convcost.errors import Location, SpecError
from convcost.limits import MAX_NAME_LENGTH
from convcost.tree import Map, Scalar, shown


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'kernel'?"`` when a close match exists, else ``""``."""
    import difflib  # noqa: PLC0415 (only a misspelt name needs it: 1.5 ms at start-up)

    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_key(key: Scalar, allowed: Sequence[str], what: str, *, field: str | None = None) -> None:
    """Refuse a mapping key that is not in ``allowed``: ``unknown {what} 'kye'; did you mean
    'key'?; allowed: …`` at the key; ``field`` (when given) is the mapping's, for the error."""
    name = str(key.value)
    if name not in allowed:
        raise SpecError(
            f"unknown {what} {shown(name)}{did_you_mean(name, allowed)}; allowed: {', '.join(allowed)}",
            location=key.location,
            field=None if field is None else f"{field}.{name}",
        )


def check_keys(
    mapping: Map, allowed: Sequence[str], what: str, *, field: str | None = None
) -> None:
    """:func:`check_key` for every key of ``mapping``, in order."""
    for key, _ in mapping.entries:
        check_key(key, allowed, what, field=field)


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


def plain_name(name: str) -> bool:
    """Whether ``name`` is an ASCII identifier of at most :data:`MAX_NAME_LENGTH` characters
    (``b12``): valid everywhere, so :func:`check_name` need not be called (a concat of
    thousands of branches)."""
    return len(name) <= MAX_NAME_LENGTH and name.isascii() and name.isidentifier()


def _name_problem(name: str, *, in_path: bool) -> str | None:
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"has {len(name)} characters; at most {MAX_NAME_LENGTH} are allowed"
    plain = name.isascii() and name.isprintable()  # the only whitespace then is " "
    if not plain:
        import unicodedata  # noqa: PLC0415 (names outside printable ASCII only)

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
        if (" " in name) if plain else any(character.isspace() for character in name):
            return f"{name!r} must not contain whitespace"
    elif name[0].isspace() or name[-1].isspace():
        return f"{name!r} must not start or end with whitespace"
    return None
