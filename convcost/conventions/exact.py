"""convcost's own count (the default, the only one called exact): multiply-accumulates of
conv, transposed conv, linear and attention products; every other piece of arithmetic is an
op, counted apart (docs/cost-model.md)."""

from __future__ import annotations

from convcost.conventions.rules import Convention, Rule, base_macs, parts
from convcost.layers.registry import KIND_NAMES

_MACS = Rule(
    "exact MACs: conv output elements × C_in/groups × ∏kernel, transposed conv input elements × "
    "C_out/groups × ∏kernel, linear in × out per position; other kinds 0 (their work is ops)",
    lambda site: parts(base_macs(site)),
)

CONVENTION = Convention(
    name="convcost",
    tool="convcost",
    figure="MACs (exact)",
    unit="MACs",
    rules=dict.fromkeys(sorted(KIND_NAMES), _MACS),
)
