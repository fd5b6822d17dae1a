"""Layer kinds: one frozen dataclass each, owning its shape and cost arithmetic."""

from convcost.layers.activation import Activation, Function
from convcost.layers.base import Drop, Layer, LayerShapeError, Shape, elements
from convcost.layers.batchnorm import BatchNorm
from convcost.layers.conv import Conv, ConvTranspose
from convcost.layers.linear import Linear
from convcost.layers.pool import AdaptivePool, AvgPool, GlobalPool, MaxPool
from convcost.layers.reshape import Dropout, Flatten, Identity
from convcost.layers.separable import Separable
from convcost.layers.shuffle import ChannelShuffle, Split
from convcost.layers.window import Global, Untracked, Window

__all__ = [
    "Activation",
    "AdaptivePool",
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
