"""Peer tools' counting conventions (``--convention NAME``): the number torchinfo, fvcore,
ptflops, thop, calflops or PyTorch's FlopCounterMode prints for a model, layer by layer, and
the rule behind each count (docs/peers.md).

One module per tool holds its rules as a table keyed by convcost kind name. Nothing here is
imported by a plain ``analyze``: a convention is computed next to a report, never inside it.
"""

from __future__ import annotations

import importlib

from convcost.conventions.rules import Convention

DEFAULT = "convcost"
"""convcost's own counting: exact MACs (the only convention called exact)."""

MODULES = {
    "convcost": "exact",
    "torchinfo": "torchinfo",
    "fvcore": "fvcore",
    "ptflops": "ptflops",
    "thop": "thop",
    "calflops": "calflops",
    "torch": "torch_flop_counter",
}
"""Each convention name → its module under ``convcost.conventions``."""

NAMES = tuple(MODULES)


def convention(name: str) -> Convention:
    """The convention called ``name`` (a :data:`NAMES` entry); ``KeyError`` otherwise."""
    module = importlib.import_module(f"convcost.conventions.{MODULES[name]}")
    found = module.CONVENTION
    assert isinstance(found, Convention)
    return found


def parse_names(text: str, *, several: bool = False) -> tuple[str, ...]:
    """``--convention`` text: one name, or with ``several`` a comma-separated list of them
    (each at most once). An unknown name is a :class:`~convcost.errors.SpecError` (exit 2)
    listing the known ones."""
    from convcost.errors import SpecError  # noqa: PLC0415

    names = tuple(part.strip() for part in text.split(",")) if several else (text.strip(),)
    for name in names:
        if name not in MODULES:
            raise SpecError(
                f"--convention: unknown convention {name!r}; choose one of {', '.join(NAMES)}"
                + (" (a comma-separated list)" if several else "")
            )
    if len(set(names)) != len(names):
        raise SpecError(f"--convention: {text!r} names a convention twice")
    return names
