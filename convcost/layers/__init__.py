"""Layer kinds: one frozen dataclass each, owning its shape and cost arithmetic.

A kind's class is imported from its module on first use (``convcost.layers.Conv`` loads
:mod:`convcost.layers.conv`), as :data:`convcost.layers.registry.KINDS` loads a module when a
spec first names one of its kinds: ``analyze`` of a spec loads the modules of the kinds it uses
(issue 18, start-up). :mod:`convcost.layers.base` and :mod:`convcost.layers.window`, which every
kind uses, load with the package.
"""

import importlib
from typing import TYPE_CHECKING

from convcost.layers.base import Drop, Layer, LayerShapeError, Shape, elements
from convcost.layers.window import Context, Global, Untracked, Window

if TYPE_CHECKING:
    from convcost.layers.activation import Activation, Function
    from convcost.layers.batchnorm import BatchNorm
    from convcost.layers.conv import Conv, ConvTranspose
    from convcost.layers.linear import Linear
    from convcost.layers.pool import AdaptivePool, AvgPool, GlobalPool, MaxPool
    from convcost.layers.reshape import Dropout, Flatten, Identity
    from convcost.layers.separable import Separable
    from convcost.layers.shuffle import ChannelShuffle, Split

_MODULE_OF = {
    "Activation": "activation",
    "Function": "activation",
    "BatchNorm": "batchnorm",
    "Conv": "conv",
    "ConvTranspose": "conv",
    "Linear": "linear",
    "AdaptivePool": "pool",
    "AvgPool": "pool",
    "GlobalPool": "pool",
    "MaxPool": "pool",
    "Dropout": "reshape",
    "Flatten": "reshape",
    "Identity": "reshape",
    "Separable": "separable",
    "ChannelShuffle": "shuffle",
    "Split": "shuffle",
}
"""Each kind class exported here and the module under ``convcost.layers`` that defines it."""

__all__ = [
    "Activation",
    "AdaptivePool",
    "AvgPool",
    "BatchNorm",
    "ChannelShuffle",
    "Context",
    "Conv",
    "ConvTranspose",
    "Drop",
    "Dropout",
    "Flatten",
    "Function",
    "Global",
    "GlobalPool",
    "Identity",
    "Layer",
    "LayerShapeError",
    "Linear",
    "MaxPool",
    "Separable",
    "Shape",
    "Split",
    "Untracked",
    "Window",
    "elements",
]


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
