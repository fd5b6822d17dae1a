"""The documented bounds on what convcost reads: every hostile input meets one of these.

A spec, a flag or a baseline that goes past a bound is refused with one line and exit 2
(malformed: too deep, too long) or exit 4 (:class:`~convcost.errors.ResourceLimitError`:
too big to analyse within the limit, which a flag can raise). docs/limits.md lists them.
"""

from __future__ import annotations

from convcost.valueclasses import dataclass

MAX_INT = 2**63 - 1
"""The largest integer a spec, flag or baseline may write (PyTorch's sizes are int64)."""

MAX_NAME_LENGTH = 128
"""Characters in a spec, variant, block, branch or layer name."""

MAX_NESTING = 64
"""Depth of nested lists and mappings in a YAML document or a baseline JSON."""

MAX_EXPRESSION_LENGTH = 256
"""Characters in one ``${…}`` expression."""

MAX_EXPRESSION_DEPTH = 16
"""Nesting depth of an expression's syntax tree (``((a+b)*c)`` is 3)."""

MAX_EXPRESSION_BITS = 256
"""Bits of any intermediate integer while an expression is evaluated."""

MAX_BLOCK_DEPTH = 32
"""Blocks used inside blocks, from the top-level layer list to the innermost layer."""

MAX_INCLUDE_DEPTH = 16
"""Spec files including spec files (``include:``), from the spec given to the one read last."""

MAX_NETWORK_DEPTH = 100
"""Groups inside groups once blocks are expanded: block uses, ``repeat`` entries and merges on
the way from the top-level layer list to a layer (every tree walker recurses this deep)."""


MAX_ALIAS_NODES = 1_000_000
"""YAML nodes that aliases bring into a document (``*a`` counts every node it stands for),
whatever :attr:`Limits.max_yaml_nodes` allows: raising that bound admits a longer written
document (a literal million-layer stack), never a larger alias expansion, so the nodes stay
bounded by the bytes read. Like :data:`MAX_BASELINE_BYTES` it bounds work: exit 4."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """The bounds a caller may raise (the CLI's ``--max-layers``); the rest are constants."""

    max_layers: int = 1_000_000
    """Layers after blocks and repeats are expanded, per network: every layer of every branch,
    every merge, every use of a block and every ``repeat`` group counts one (the nodes of the
    built :class:`~convcost.network.Network`)."""
    max_spec_bytes: int = 16 * 2**20
    """Bytes read from one spec file or standard input."""
    max_yaml_nodes: int = 1_000_000
    """YAML nodes after aliases are expanded (``*a`` counts every node it stands for)."""


DEFAULT_LIMITS = Limits()

MAX_BASELINE_BYTES = 64 * 2**20
"""Bytes read from a ``check --baseline`` file: about 80,000 layers of
``analyze --format json`` output (0.8 KB per layer)."""
