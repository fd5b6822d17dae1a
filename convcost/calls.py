"""Where a block was used, for errors inside its body: ``(in block 'body' at net.yaml:4:3, used
at net.yaml:20:5 with mid=64, stride=1)``.

An error in a block's body is located at the body's line, which every use of the block shares;
the builder adds the use (the line that passed the values that failed, and those values) as the
error leaves each block, innermost first, so the message names the whole chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from convcost.errors import Location, SpecError
from convcost.tree import Map, Seq, Value, describe

if TYPE_CHECKING:
    from convcost.spec import BlockDef

_SHOWN_USES = 4
"""Uses an error lists: the innermost ones and the outermost, ``…`` between."""
_SHOWN_PARAMS = 8
"""Parameters a use lists before it writes ``…``."""
_SHOWN_VALUE = 24
"""Characters of a parameter's value a use shows."""


def called_from(
    error: SpecError, block: BlockDef, site: Location, params: Mapping[str, Value]
) -> None:
    """Add the use of ``block`` at ``site`` with ``params`` to ``error`` (in place)."""
    if error.names_chain:
        return  # a cycle or a nesting bound: its message is about the chain already
    use = f"in block {block.name!r} at {block.location}, used at {site}{_with(params)}"
    if not error.call_sites:
        error.base_message = error.message
    error.call_sites.append(site)
    error.uses.append(use)
    uses = error.uses
    if len(uses) > _SHOWN_USES:
        uses = [*uses[: _SHOWN_USES - 1], f"… {len(uses) - _SHOWN_USES} more", uses[-1]]
    error.message = f"{error.base_message} ({'; '.join(uses)})"


def _with(params: Mapping[str, Value]) -> str:
    if not params:
        return ""
    shown = [f"{name}={_value(value)}" for name, value in list(params.items())[:_SHOWN_PARAMS]]
    if len(params) > _SHOWN_PARAMS:
        shown.append("…")
    return " with " + ", ".join(shown)


def _value(value: Value) -> str:
    text = _text(value)
    return text if len(text) <= _SHOWN_VALUE else text[: _SHOWN_VALUE - 1] + "…"


def _text(value: Value) -> str:
    """The value as YAML's flow style writes it: ``64``, ``true``, ``'same'``, ``[3, 3]``."""
    if isinstance(value, Seq):
        return "[" + ", ".join(_text(item) for item in value.items[:_SHOWN_VALUE]) + "]"
    if isinstance(value, Map):
        return "{…}"
    raw = value.value
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None or isinstance(raw, str):
        return describe(value)
    return value.text if value.text and not value.text.startswith("$") else str(raw)
