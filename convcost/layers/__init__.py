"""Layer kinds: one frozen dataclass each, owning its shape and cost arithmetic."""

from convcost.layers.base import Drop, Layer, LayerShapeError, Shape, elements
from convcost.layers.conv import Conv, ConvTranspose, Separable
from convcost.layers.pool import AdaptivePool, AvgPool, GlobalPool, MaxPool
from convcost.layers.simple import (
    Activation,
    BatchNorm,
    ChannelShuffle,
    Dropout,
    Flatten,
    Function,
    Identity,
    Linear,
    Split,
)
from convcost.layers.window import Global, Untracked, Window

AnyLayer = (
    Conv
    | ConvTranspose
    | MaxPool
    | AvgPool
    | GlobalPool
    | AdaptivePool
    | BatchNorm
    | Activation
    | Identity
    | Dropout
    | Flatten
    | Linear
    | ChannelShuffle
    | Split
)
"""The closed union of leaf layer kinds: consumers ``match`` on it and end with ``assert_never``."""

__all__ = [
    "Activation",
    "AdaptivePool",
    "AnyLayer",
    "AvgPool",
    "BatchNorm",
    "ChannelShuffle",
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
