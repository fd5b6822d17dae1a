"""Every layer kind the spec format knows: one line per kind module, loaded on first use.

A kind module (``convcost/layers/<family>.py``) exports ``KINDS``, a tuple of
:class:`~convcost.layers.kind.Kind` declarations. The table below names each module's kinds so
that a spec loads only the modules of the kinds it uses (``analyze`` of a plain conv net never
imports attention, upsampling or the normalisations); tests/test_kinds.py checks that the table
and the modules' declarations agree. Its order is the order of the JSON schema and of
docs/spec-format.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from convcost.layers.kind import Kind

DECLARED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("conv", ("conv",)),
    ("separable", ("depthwise", "pointwise", "separable")),
    ("conv", ("conv_transpose",)),
    ("pool", ("maxpool", "avgpool", "global_avgpool", "global_maxpool")),
    ("pool", ("adaptive_avgpool", "adaptive_maxpool")),
    ("batchnorm", ("batchnorm",)),
    ("activation", ("relu", "relu6", "sigmoid", "swish", "silu", "gelu", "tanh")),
    ("activation", ("hardswish", "hardsigmoid", "mish")),
    ("reshape", ("identity", "dropout", "flatten")),
    ("linear", ("linear",)),
    ("shuffle", ("channel_shuffle", "split")),
    ("rectifiers", ("leaky_relu", "prelu", "elu")),
    ("softmax", ("softmax",)),
    ("upsample", ("upsample",)),
    ("pixel_shuffle", ("pixel_shuffle", "pixel_unshuffle")),
    ("border", ("pad", "crop")),
    ("attention", ("attention",)),
    ("custom", ("custom",)),
    ("layer_scale", ("layer_scale",)),
    ("normalization", ("layernorm", "groupnorm", "instancenorm")),
)
"""(module under ``convcost.layers``, the kinds it declares), in schema order."""

_MODULE_OF = {name: module for module, names in DECLARED for name in names}


def declared_by(*modules: str) -> tuple[str, ...]:
    """The kinds the given kind modules declare, in :data:`DECLARED` order: a family of kinds
    (``declared_by("pool")``) for a per-target table that treats the family alike."""
    return tuple(name for module, names in DECLARED if module in modules for name in names)


class _Kinds(Mapping[str, Kind]):
    """Spec kind name → declaration; a module is imported when one of its kinds is first
    looked up (iterating gives the names without importing anything)."""

    def __init__(self) -> None:
        self._loaded: dict[str, Kind] = {}

    def __getitem__(self, name: str) -> Kind:
        try:
            return self._loaded[name]
        except KeyError:
            module = _MODULE_OF[name]  # a KeyError for a name no module declares
            for kind in importlib.import_module(f"convcost.layers.{module}").KINDS:
                self._loaded[kind.name] = kind
            return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in _MODULE_OF

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULE_OF)

    def __len__(self) -> int:
        return len(_MODULE_OF)


KINDS: Mapping[str, Kind] = _Kinds()
"""Each spec kind name → its declaration."""

MERGE_KINDS = ("concat", "add", "multiply")
"""Kinds that join branches (built by :mod:`convcost.build`, not declared by a module)."""
KIND_NAMES = frozenset(_MODULE_OF) | frozenset(MERGE_KINDS)
