"""Normalisations whose statistics come from the sample itself, at inference too: ``layernorm``,
``groupnorm``, ``instancenorm``.

Each normalises groups of elements by their own mean and (biased) variance, then applies an
optional affine γ·x̂ + β. They differ only in how the map is cut into groups and in the shape of
γ and β. (``batchnorm`` uses running statistics instead: an affine per channel at inference.)

Receptive field: the value at a position passes through a per-position map (subtract, scale),
so the local field is unchanged (:meth:`Layer.window` is ``None``); when a group spans
positions (``layernorm`` over ``all``, ``groupnorm``, ``instancenorm``) every output also depends on the whole map through the
group's statistics, the way a squeeze-and-excitation gate does: that is global context, not a
wider local field (docs/cost-model.md, "Receptive field and jump").
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from convcost.fields import Args
from convcost.layers.base import Layer, LayerShapeError, Shape, elements, require_spatial
from convcost.layers.batchnorm import EPS  # the same field: added to the variance
from convcost.layers.kind import ChoiceField, FlagField, IntegerField, Kind
from convcost.layers.window import Context
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.normalization import GroupNormOp, InstanceNormOp, LayerNormOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField

STATISTICS_OPS = 5
"""Ops per element to standardise it: its share of the mean (1: n − 1 adds and a divide per n
elements, counted as n, as an average pool counts its window), centring (1), its share of the
variance (2: square, then sum and divide), and the multiply by 1/√(var + ε) (1)."""
GROUP_OPS = 2
"""Ops per group: add ε, then one reciprocal square root."""
AFFINE_OPS = 2
"""Ops per element of the affine γ·x̂ + β (as batchnorm's inference form)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Normalization(Layer):
    """Standardise each group of elements by its own statistics, then γ·x̂ + β if ``affine``."""

    eps: float = 1e-5
    """Added to the variance; used by ``--execute`` only."""
    affine: bool = True

    @abstractmethod
    def statistics(self, shape: Shape) -> int:
        """Groups normalised apart, each by its own mean and variance, per sample."""

    @abstractmethod
    def affine_size(self, shape: Shape) -> int:
        """Elements of γ (and of β)."""

    @abstractmethod
    def spans_positions(self, shape: Shape) -> bool:
        """A group holds more than one spatial position: its statistics mix the map."""

    def weights(self, shape: Shape) -> int:
        return self.affine_size(shape) if self.affine else 0

    def biases(self, shape: Shape) -> int:
        return self.affine_size(shape) if self.affine else 0

    def ops(self, shape: Shape, out: Shape) -> int:
        """5 per element and 2 per group to standardise, and 2 per element for the affine
        (docs/cost-model.md)."""
        per_element = STATISTICS_OPS + (AFFINE_OPS if self.affine else 0)
        return per_element * elements(out) + GROUP_OPS * self.statistics(shape)

    def settings(self) -> str:
        return f"eps {self.eps:g}, {'affine' if self.affine else 'no affine'}"

    def window(self, shape: Shape) -> Context | None:
        """Statistics over more than one position give every output global context."""
        return Context() if self.spans_positions(shape) and len(shape) > 1 else None

    @abstractmethod
    def group_words(self, shape: Shape) -> tuple[str, str]:
        """(the groups' count as a formula, what one group is), for ``explain``."""

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import unchanged_field
        from convcost.explain.steps import (
            Quantity,
            Step,
            activations,
            no_params,
            numbers,
            product,
            shape_symbols,
        )

        size = self.affine_size(shape)
        symbols = shape_symbols(shape, output=False)
        per_element = STATISTICS_OPS + (AFFINE_OPS if self.affine else 0)
        count, group = self.group_words(shape)
        params = (
            Step(
                quantity=Quantity.PARAMS,
                formula=f"2·{symbols[0] if size == shape[0] else product(symbols)}",
                substituted=f"2·{size if size == shape[0] else numbers(shape)}",
                value=self.weights(shape) + self.biases(shape),
                note="scale γ and shift β",
            )
            if self.affine
            else no_params()
        )
        ops = Step(
            quantity=Quantity.OPS,
            formula=f"{per_element}·{product(shape_symbols(out))} + {GROUP_OPS}·{count}",
            substituted=f"{per_element}·{numbers(out)} + {GROUP_OPS}·{self.statistics(shape)}",
            value=self.ops(shape, out),
            note=f"statistics over {group}: 5 per element and 2 per group"
            + (", affine 2 per element" if self.affine else ""),
        )
        context = (
            Step(
                quantity=Quantity.RECEPTIVE_FIELD,
                note="local field unchanged; every output also depends on the whole map "
                f"through the statistics over {group} (global context)",
            )
            if self.spans_positions(shape) and len(shape) > 1
            else unchanged_field(field)
        )
        return [params, ops, activations(out), context], field.through(self.window(shape))


Over = Literal["channels", "all"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerNorm(Normalization):
    """``over: channels`` normalises the C values at each position (ConvNeXt's LayerNorm2d;
    ``nn.LayerNorm(F)`` on a flat [F]); ``over: all`` the whole [C, …] map
    (``nn.LayerNorm([C, H, W])``, γ and β of the map's shape)."""

    over: Over = "channels"

    @property
    def kind(self) -> str:
        return "layernorm"

    def settings(self) -> str:
        return f"over {self.over}, {Normalization.settings(self)}"

    def statistics(self, shape: Shape) -> int:
        return elements(shape[1:]) if self.over == "channels" else 1

    def affine_size(self, shape: Shape) -> int:
        return shape[0] if self.over == "channels" else elements(shape)

    def spans_positions(self, shape: Shape) -> bool:
        return self.over == "all"

    def group_words(self, shape: Shape) -> tuple[str, str]:
        if self.over == "all":
            return "1", "the whole map"
        if len(shape) == 1:
            return "1", "the F features"
        from convcost.explain.steps import out_symbols, product

        return product(out_symbols(len(shape) - 1)), "the C channels at each position"

    def op(self) -> LayerNormOp:
        from convcost.executor.ops.normalization import LayerNormOp

        return LayerNormOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupNorm(Normalization):
    """``nn.GroupNorm(groups, C)``: the channels in ``groups`` equal groups, each normalised
    over its channels at every position; γ and β per channel."""

    groups: int

    @property
    def kind(self) -> str:
        return "groupnorm"

    def output_shape(self, shape: Shape) -> Shape:
        if shape[0] % self.groups:
            raise LayerShapeError(
                "groups",
                f"channels ({shape[0]}) must be divisible by groups ({self.groups})",
            )
        return shape

    def settings(self) -> str:
        return f"groups {self.groups}, {Normalization.settings(self)}"

    def statistics(self, shape: Shape) -> int:
        return self.groups

    def affine_size(self, shape: Shape) -> int:
        return shape[0]

    def spans_positions(self, shape: Shape) -> bool:
        return True

    def group_words(self, shape: Shape) -> tuple[str, str]:
        return "groups", "each group's channels at every position"

    def op(self) -> GroupNormOp:
        from convcost.executor.ops.normalization import GroupNormOp

        return GroupNormOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceNorm(Normalization):
    """``nn.InstanceNorm1d/2d/3d(C)`` with its defaults: each channel normalised over its own
    map; no affine unless asked (then γ and β per channel); running statistics off, so the
    statistics are the sample's at inference too."""

    affine: bool = False

    @property
    def kind(self) -> str:
        return "instancenorm"

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial("instancenorm", shape)
        if elements(shape[1:]) == 1:
            # PyTorch refuses it too ("Expected more than 1 spatial element"): a lone value
            # would normalise to 0
            raise LayerShapeError(
                None, f"instancenorm needs more than one spatial position, got {list(shape)}"
            )
        return shape

    def statistics(self, shape: Shape) -> int:
        return shape[0]

    def affine_size(self, shape: Shape) -> int:
        return shape[0]

    def spans_positions(self, shape: Shape) -> bool:
        return True

    def group_words(self, shape: Shape) -> tuple[str, str]:
        return "C", "each channel's map"

    def op(self) -> InstanceNormOp:
        from convcost.executor.ops.normalization import InstanceNormOp

        return InstanceNormOp(self)


AFFINE = FlagField("affine", "learnable scale γ and shift β", True)
OVER = ChoiceField(
    "over",
    "channels: the C values at each position (LayerNorm2d); all: the whole [C, ...] map",
    "channels",
    choices=("channels", "all"),
)


NORM_GROUPS = IntegerField("groups", "number of channel groups; channels must divide by it")


def _groupnorm(args: Args, shape: Shape) -> GroupNorm:
    return GroupNorm(groups=NORM_GROUPS.read(args), eps=EPS.read(args), affine=AFFINE.read(args))


INSTANCE_AFFINE = FlagField("affine", "learnable scale γ and shift β per channel", False)


def _instancenorm(args: Args, shape: Shape) -> InstanceNorm:
    return InstanceNorm(eps=EPS.read(args), affine=INSTANCE_AFFINE.read(args))


def _layernorm(args: Args, shape: Shape) -> LayerNorm:
    over: Over = "all" if OVER.read(args) == "all" else "channels"
    return LayerNorm(over=over, eps=EPS.read(args), affine=AFFINE.read(args))


KINDS = (
    Kind(
        "layernorm",
        "layer normalisation over the channels at each position, or over the whole map",
        (OVER, EPS, AFFINE),
        _layernorm,
    ),
    Kind(
        "groupnorm",
        "group normalisation: statistics per group of channels over the whole map, 2·C parameters",
        (NORM_GROUPS, EPS, AFFINE),
        _groupnorm,
    ),
    Kind(
        "instancenorm",
        "instance normalisation: statistics per channel over its map; no affine by default",
        (EPS, INSTANCE_AFFINE),
        _instancenorm,
    ),
)
