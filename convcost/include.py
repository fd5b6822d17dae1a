"""``include:``: blocks from other spec files and from the bundled models.

::

    include:
      - common/blocks.yaml              # every block of a file (relative to this spec)
      - zoo:deeplabv3_resnet50#stage    # one block of a bundled model, with the blocks it uses
      - zoo:deeplabv3_resnet50#aspp

An item is a path (relative to the including file's folder; to the working directory for a
spec read from a string or standard input) or ``zoo:NAME``, optionally followed by ``#BLOCK``
to take that block and the blocks it uses rather than all of them. An included file may
include others; a file that includes itself, directly or through others, is refused with the
chain named, and includes nest at most :data:`MAX_INCLUDE_DEPTH` deep. Only ``blocks:`` (and
its own ``include:``) of an included file are read: its layers, input and budget are not, and
its blocks see the including spec's ``params:``. A block name defined twice (here and in an
included file, or in two included files) is an error naming both places.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from convcost import zoo
from convcost.errors import ConvcostError, SpecError
from convcost.file_paths import path_join, path_parent
from convcost.limits import MAX_INCLUDE_DEPTH
from convcost.names import did_you_mean
from convcost.tree import Map, Scalar, Seq, Value, describe, shown
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.spec import BlockDef

ZOO_PREFIX = "zoo:"


@dataclass(frozen=True, slots=True)
class Include:
    """One item of ``include:``, resolved."""

    path: str
    """The file, as ``str(Path(…))`` spells it."""
    shown: str
    """How the chain of includes names the file in messages (as written)."""
    block: str | None
    item: Scalar


Library = Callable[[str, str, tuple[str, ...]], tuple["BlockDef", ...]]
"""Reads an included file's blocks: (path, its name in messages, the chain so far)."""


def included_blocks(
    value: Value | None, source: str, chain: tuple[str, ...], library: Library
) -> tuple[BlockDef, ...]:
    """The blocks ``include:`` brings into the spec ``source`` (``chain``: the files that led
    here, ``source`` last)."""
    if value is None:
        return ()
    if not isinstance(value, Seq):
        raise SpecError(
            f"`include` must be a list of spec files or zoo:NAME, optionally with #BLOCK, got {describe(value)}",
            location=value.location,
        )
    blocks: list[BlockDef] = []
    for item in value:
        include = _resolve(item, source)
        if include.shown in chain or _same_file(include.path, chain):
            cycle = " → ".join([*chain, include.shown])
            raise SpecError(f"include cycle: {cycle}", location=include.item.location)
        if len(chain) >= MAX_INCLUDE_DEPTH:
            raise SpecError(
                f"includes nest more than {MAX_INCLUDE_DEPTH} deep here: {' → '.join([*chain[:2], '…', include.shown])}",
                location=include.item.location,
            )
        try:
            found = library(include.path, include.shown, (*chain, include.shown))
        except ConvcostError as error:
            if error.location is not None:
                raise
            raise type(error)(
                f"include {shown(str(include.item.value))}: {error.message}",
                location=include.item.location,
            ) from None
        blocks.extend(_selected(found, include))
    return tuple(blocks)


def merge_blocks(own: tuple[BlockDef, ...], included: tuple[BlockDef, ...]) -> tuple[BlockDef, ...]:
    """The spec's blocks and the included ones; a name defined in two places is an error."""
    seen: dict[str, BlockDef] = {}
    for block in (*own, *included):
        other = seen.get(block.name)
        if other is not None and other is not block:
            if other.location == block.location:
                continue  # the same block, included twice (by two #names that use it)
            raise SpecError(
                f"block {block.name!r} is defined twice: at {other.location} and at "
                f"{block.location} (include one block with #NAME to leave the other out)",
                location=block.location,
            )
        seen[block.name] = block
    return tuple(seen.values())


def _resolve(item: Value, source: str) -> Include:
    if not isinstance(item, Scalar) or not isinstance(item.value, str) or not item.value:
        raise SpecError(
            f"an include is a spec file or zoo:NAME, optionally with #BLOCK, got {describe(item)}",
            location=item.location,
        )
    text = item.value
    target, _, block = text.partition("#")
    if "#" in text and not block:
        raise SpecError(
            f"{shown(text)}: name a block after #, or leave out the #", location=item.location
        )
    if target.startswith(ZOO_PREFIX):
        name = target.removeprefix(ZOO_PREFIX)
        found = zoo.spec_file(name)
        if found is None:
            raise SpecError(
                f"no bundled model {shown(name)} to include; bundled: {', '.join(zoo.names())}",
                location=item.location,
            )
        return Include(found, target, block or None, item)
    base = path_parent(source) if source not in ("<string>", "<stdin>") else "."
    path = path_join(base, target)
    return Include(path, path, block or None, item)


def _same_file(path: str, chain: tuple[str, ...]) -> bool:
    try:
        resolved = _resolved(path)
        return any(_resolved(name) == resolved for name in chain if not name.startswith("<"))
    except OSError:
        return False


def _resolved(path: str) -> str:
    """``path`` absolute, without symbolic links, compared as ``Path`` objects compare."""
    return os.path.normcase(os.path.realpath(path))


def _selected(blocks: tuple[BlockDef, ...], include: Include) -> tuple[BlockDef, ...]:
    """All of ``blocks``, or ``include.block`` and the blocks it uses (transitively)."""
    if include.block is None:
        return blocks
    by_name = {block.name: block for block in blocks}
    if include.block not in by_name:
        names = ", ".join(by_name) or "none"
        raise SpecError(
            f"{include.shown} has no block {shown(include.block)}"
            f"{did_you_mean(include.block, list(by_name))}; its blocks: {names}",
            location=include.item.location,
        )
    wanted = [include.block]
    chosen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in chosen:
            continue
        chosen.add(name)
        wanted.extend(key for key in _keys(by_name[name].layers) if key in by_name)
    return tuple(block for block in blocks if block.name in chosen)


def _keys(value: Value) -> set[str]:
    """Every mapping key inside ``value`` (a superset of the block names its layers use)."""
    keys: set[str] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Map):
            for key, item in node.entries:
                keys.add(str(key.value))
                stack.append(item)
        elif isinstance(node, Seq):
            stack.extend(node.items)
    return keys
