"""Every layer kind the spec format knows: one line per kind module.

A kind module (``convcost/layers/<family>.py``) exports ``KINDS``, a tuple of
:class:`~convcost.layers.kind.Kind` declarations; the order here is the order of the JSON
schema and of docs/spec-format.md.
"""

from __future__ import annotations

from convcost.layers import (
    activation,
    attention,
    batchnorm,
    border,
    conv,
    custom,
    linear,
    pixel_shuffle,
    pool,
    rectifiers,
    reshape,
    separable,
    shuffle,
    softmax,
    upsample,
)
from convcost.layers.kind import Kind


def _by_name(*modules: tuple[Kind, ...]) -> dict[str, Kind]:
    kinds = {kind.name: kind for declared in modules for kind in declared}
    assert len(kinds) == sum(map(len, modules)), "two kinds of the same name"
    return kinds


KINDS = _by_name(
    (conv.CONV, *separable.KINDS, conv.CONV_TRANSPOSE),  # conv, its shorthands, transposed
    pool.KINDS,
    batchnorm.KINDS,
    activation.KINDS,
    reshape.KINDS,
    linear.KINDS,
    shuffle.KINDS,
    rectifiers.KINDS,
    softmax.KINDS,
    upsample.KINDS,
    pixel_shuffle.KINDS,
    border.KINDS,
    attention.KINDS,
    custom.KINDS,
)
"""Each spec kind name → its declaration."""

MERGE_KINDS = ("concat", "add", "multiply")
"""Kinds that join branches (built by :mod:`convcost.build`, not declared by a module)."""
KIND_NAMES = frozenset(KINDS) | frozenset(MERGE_KINDS)
