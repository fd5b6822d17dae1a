"""What a convention is made of: one rule per layer kind, each with a short text for users.

A rule counts one layer (or merge step) of a built network the way a peer tool would count the
PyTorch module (or function) that runs it. :class:`Site` carries what the rule may read: the
layer object with its settings, the shapes per sample and the batch. Rules never change a
:class:`~convcost.report.Report`; a convention is computed next to it (see
:mod:`convcost.conventions.count`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from convcost.layers import Layer, Shape
from convcost.layers.registry import declared_by
from convcost.valueclasses import dataclass

FAMILIES = (
    "conv and linear",
    "bias adds",
    "normalisation",
    "pooling",
    "activations",
    "transposed conv",
    "channels-last linear",
    "double counts",
    "upsampling",
    "other",
)
"""Rule families that :mod:`convcost.conventions.differences` attributes differences to, in
display order. "conv and linear" is the MAC count every tool shares with convcost."""


@dataclass(frozen=True, slots=True)
class Site:
    """One layer or merge step as a rule sees it."""

    path: str
    kind: str
    layer: Layer | None
    """``None`` for a merge step (``concat``, ``add``, ``multiply``)."""
    input_shape: Shape
    """Per sample, channels first; a merge's block input."""
    output_shape: Shape
    batch: int
    macs: int
    """convcost's MACs of this layer (batch included): the shared base of most rules."""
    weights: int = 0
    biases: int = 0
    following: str = ""
    """The kind of the layer that runs next in the same sequence (``""`` at the end)."""
    channels_last: bool = False
    """A ``pointwise`` (or activation) inside a channels-last run: after a ``layernorm`` over
    the channels that feeds a pointwise layer, torchvision's ConvNeXt permutes the map to
    channels-last and runs ``nn.LayerNorm``, ``nn.Linear``, ``nn.GELU``, ``nn.Linear``
    (:func:`starts_channels_last`); the run ends at the first other kind."""

    @property
    def inputs(self) -> int:
        """Input elements, batch included."""
        return self.batch * math.prod(self.input_shape)

    @property
    def outputs(self) -> int:
        """Output elements, batch included."""
        return self.batch * math.prod(self.output_shape)

    @property
    def channels(self) -> int:
        return self.input_shape[0]

    def setting(self, name: str, default: object = None) -> object:
        """A setting of the layer (``bias``, ``affine``, ``mode``), or ``default``."""
        return getattr(self.layer, name, default)

    def per_axis(self, name: str) -> tuple[int, ...]:
        """A per-axis integer setting (``kernel``, ``stride``, ``dilation``, ``padding``)."""
        value = self.setting(name, ())
        assert isinstance(value, tuple)
        return tuple(int(v) for v in value)

    def integer(self, name: str, default: int) -> int:
        value = self.setting(name, default)
        assert isinstance(value, int)
        return value


@dataclass(frozen=True, slots=True)
class Part:
    """A share of a rule's count, in one family (a ptflops ReLU is one activation part and one
    double-count part)."""

    family: str
    value: int


Count = Callable[[Site], tuple[Part, ...]]


@dataclass(frozen=True, slots=True)
class Rule:
    """How a tool counts one kind: ``text`` is shown to users (``explain``, ``--convention``
    tables), ``count`` returns the parts that sum to the tool's figure for the layer."""

    text: str
    count: Count

    def value(self, site: Site) -> int:
        return sum(part.value for part in self.count(site))


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A kind the preset does not reproduce, and why (the tool cannot run it, or its figure
    depends on a PyTorch realization convcost cannot know)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Convention:
    """A peer tool's counting rules, keyed by convcost kind name."""

    name: str
    tool: str
    """The tool and the pinned version the rules were read from and tested against."""
    figure: str
    """What the total is (``Mult-Adds``, ``FLOPs``) and how the tool is called."""
    unit: str
    """``MACs`` or ``FLOPs``: what one counted unit is."""
    rules: dict[str, Rule | Unsupported]


def parts(*items: tuple[str, int]) -> tuple[Part, ...]:
    """The non-zero parts of a count."""
    return tuple(Part(family, value) for family, value in items if value)


def zero(text: str) -> Rule:
    """A rule that counts nothing."""
    return Rule(text, lambda site: ())


def base_macs(site: Site) -> tuple[str, int]:
    """convcost's MACs as the "conv and linear" part."""
    return ("conv and linear", site.macs)


def has_bias(site: Site) -> bool:
    return bool(site.setting("bias", False))


def spatial_outputs(site: Site) -> int:
    """Batch × the output's spatial size (no channels)."""
    return site.batch * math.prod(site.output_shape[1:])


def channels_last_linear(site: Site) -> bool:
    """A linear layer on a feature map (run per position, channels last in PyTorch)."""
    return len(site.input_shape) > 1


UNSUPPORTED_ATTENTION = Unsupported(
    "convcost's attention stands for several PyTorch realizations (nn.MultiheadAttention, "
    "timm's Attention, F.scaled_dot_product_attention), which the tool counts differently"
)
UNSUPPORTED_CUSTOM = Unsupported(
    "a placeholder of unknown cost: no PyTorch module to count, so no figure to reproduce"
)

SEPARABLE = Rule(
    "a group: its depthwise and pointwise layers are counted, each by its own rule",
    lambda site: (),
)


def zeros(text: str, *kinds: str) -> dict[str, Rule | Unsupported]:
    """The same zero rule for several kinds."""
    rule = zero(text)
    return dict.fromkeys(kinds, rule)


SHAPE_ONLY = (
    "identity",
    "dropout",
    "flatten",
    "channel_shuffle",
    "split",
    "pixel_shuffle",
    "pixel_unshuffle",
    "pad",
    "crop",
)
"""Kinds that move or copy elements: no peer counts them."""
MERGES = ("concat", "add", "multiply")
"""Merge steps: PyTorch's ``torch.cat``, ``x + y`` and ``x * y`` operators."""

POOLS = declared_by("pool")
ACTIVATIONS = declared_by("activation", "rectifiers", "softmax")
WEIGHTLESS_ACTIVATIONS = tuple(kind for kind in ACTIVATIONS if kind != "prelu")
"""The activations without a parameter (``prelu`` learns its slopes)."""
CONVS = ("conv", "depthwise", "pointwise")


CHANNELS_LAST_RUN = frozenset(("pointwise", "linear", "dropout", "identity", *ACTIVATIONS))
"""Kinds that keep a channels-last run going (see :attr:`Site.channels_last`)."""


def starts_channels_last(kind: str, over: object, rank: int, following: str) -> bool:
    """A ``layernorm`` over a feature map's channels that feeds a pointwise or linear layer:
    torchvision's ConvNeXt block, run channels-last."""
    return (
        kind == "layernorm"
        and over == "channels"
        and rank > 1
        and following in ("pointwise", "linear")
    )


def layernorm2d(site: Site) -> bool:
    """A ``layernorm`` over the channels of a feature map outside a channels-last run:
    torchvision writes it as ``LayerNorm2d``, a subclass of ``nn.LayerNorm`` that tools keyed
    by exact module type (ptflops, thop) do not know; inside ConvNeXt's blocks it is a plain
    ``nn.LayerNorm`` on the channels-last map."""
    return (
        site.setting("over", "channels") == "channels"
        and len(site.input_shape) > 1
        and not site.channels_last
    )


def affine(site: Site) -> bool:
    """Whether a normalisation has a learned scale and shift (batchnorm always does)."""
    return site.kind == "batchnorm" or bool(site.setting("affine", False))
