"""``attention``: multi-head self-attention over the spatial positions of a [C, …] map.

The P = ∏spatial positions are the tokens and the C channels their features, as
``nn.MultiheadAttention`` on the flattened map or BoTNet's MHSA block: per head, a query and a
key of ``key_dim`` features and a value of ``value_dim`` (both per head, as Keras'
``MultiHeadAttention``), softmax(q·kᵀ / √d_k)·v, the heads concatenated and projected to
``out`` channels. With ``relative_position`` each spatial axis of n positions has a learned
table of 2n − 1 relative embeddings of d_k features (BoTNet's rel_h and rel_w), and the logit of
a query and a key gains q·e[k_a − q_a + n − 1] for every axis a.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import (
    Layer,
    Shape,
    axis_names,
    elements,
    require_spatial,
    spatial,
)
from convcost.layers.kind import FlagField, IntegerField, Kind
from convcost.layers.softmax import OPS_PER_ELEMENT
from convcost.layers.window import Global
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.attention import AttentionOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


@dataclass(frozen=True, slots=True)
class Product:
    """One matrix product of the layer: its name, the formula of its MACs and their factors."""

    name: str
    formula: str
    factors: tuple[int, ...]

    @property
    def macs(self) -> int:
        return math.prod(self.factors)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attention(Layer):
    """Multi-head self-attention over the positions of the map (output [out, …same spatial])."""

    heads: int
    key_dim: int
    """d_k: features of each head's query and key."""
    value_dim: int
    """d_v: features of each head's value."""
    out: int | None
    """Channels of the output projection; ``None`` without one (the heads' values concatenated,
    h·d_v channels, as BoTNet's MHSA)."""
    bias: bool
    """Biases in the query, key, value and output projections."""
    relative: bool
    """Learned relative-position logits (BoTNet): 2n − 1 embeddings of d_k per axis of n."""

    @property
    def kind(self) -> str:
        return "attention"

    def output_shape(self, shape: Shape) -> Shape:
        return (self.channels(), *spatial(shape))

    def channels(self) -> int:
        """Output channels: the projection's, or the heads' values concatenated."""
        return self.heads * self.value_dim if self.out is None else self.out

    def settings(self) -> str:
        parts = [
            f"{self.heads} head{'s' if self.heads > 1 else ''}",
            f"d_k {self.key_dim}",
            f"d_v {self.value_dim}",
            "no output projection" if self.out is None else f"out {self.out}",
            "bias" if self.bias else "no bias",
        ]
        if self.relative:
            parts.append("relative position")
        return ", ".join(parts)

    def products(self, shape: Shape) -> tuple[Product, ...]:
        """Every matrix product of a forward pass, in order (docs/cost-model.md, *attention*)."""
        channels, positions = shape[0], elements(spatial(shape))
        h, dk, dv = self.heads, self.key_dim, self.value_dim
        found = [
            Product("Q projection", "P·C·h·d_k", (positions, channels, h, dk)),
            Product("K projection", "P·C·h·d_k", (positions, channels, h, dk)),
            Product("V projection", "P·C·h·d_v", (positions, channels, h, dv)),
            Product("Q·Kᵀ", "h·P·P·d_k", (h, positions, positions, dk)),
        ]
        if self.relative:
            offsets = sum(2 * n - 1 for n in spatial(shape))
            found.append(
                Product("Q·Eᵀ (relative)", "h·P·Σ(2n − 1)·d_k", (h, positions, offsets, dk))
            )
        found.append(Product("softmax·V", "h·P·P·d_v", (h, positions, positions, dv)))
        if self.out is not None:
            found.append(
                Product("output projection", "P·h·d_v·C_out", (positions, h, dv, self.out))
            )
        return tuple(found)

    def weights(self, shape: Shape) -> int:
        h, dk, dv = self.heads, self.key_dim, self.value_dim
        total = shape[0] * h * (2 * dk + dv)
        if self.out is not None:
            total += h * dv * self.out
        if self.relative:
            total += sum(2 * n - 1 for n in spatial(shape)) * dk
        return total

    def biases(self, shape: Shape) -> int:
        if not self.bias:
            return 0
        return self.heads * (2 * self.key_dim + self.value_dim) + (self.out or 0)

    def macs(self, shape: Shape, out: Shape) -> int:
        return sum(product.macs for product in self.products(shape))

    def ops(self, shape: Shape, out: Shape) -> int:
        return sum(value for _, _, value in self.op_parts(shape))

    def op_parts(self, shape: Shape) -> tuple[tuple[str, str, int], ...]:
        """(what, formula, ops) of the elementwise work (docs/cost-model.md, *attention*)."""
        positions = elements(spatial(shape))
        h, dk, dv = self.heads, self.key_dim, self.value_dim
        parts = [
            ("scale q by 1/√d_k", "h·P·d_k", h * positions * dk),
            ("softmax: exp, sum, divide", "3·h·P·P", OPS_PER_ELEMENT * h * positions * positions),
        ]
        if self.relative:
            rank = len(shape) - 1
            parts.append(("add relative logits", "rank·h·P²", rank * h * positions * positions))
        if self.bias:
            parts.append(("q, k, v biases", "P·h·(2·d_k + d_v)", positions * h * (2 * dk + dv)))
            if self.out is not None:
                parts.append(("output bias", "P·C_out", positions * self.out))
        return tuple(parts)

    def window(self, shape: Shape) -> Global:
        return Global()  # every output position reads every input position

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import global_field
        from convcost.explain.steps import Quantity, Step, activations, inline, numbers, product

        positions = elements(spatial(shape))
        axes = product([f"{name}_in" for name in axis_names(len(shape) - 1)])
        where = f"P = {axes} = {numbers(spatial(shape))} = {positions:,} positions"
        steps: list[Step] = [
            Step(
                quantity=Quantity.OUTPUT_SIZE,
                symbol="C_out",
                formula="h·d_v" if self.out is None else "out",
                substituted=f"{self.heads}·{self.value_dim}" if self.out is None else "",
                value=out[0],
                note="the heads' values concatenated" if self.out is None else "",
            ),
            Step(
                quantity=Quantity.PARAMS,
                formula=self._params_formula(),
                value=self.weights(shape) + self.biases(shape),
                note=f"{self.weights(shape):,} weights + {self.biases(shape):,} biases",
            ),
        ]
        steps += [
            Step(
                quantity=Quantity.MACS_PART,
                symbol=part.name,
                formula=part.formula,
                substituted=numbers(part.factors),
                value=part.macs,
                note=where if index == 0 else "",
            )
            for index, part in enumerate(self.products(shape))
        ]
        steps.append(
            Step(
                quantity=Quantity.MACS,
                formula="sum of the products above",
                substituted=" + ".join(inline(part.macs) for part in self.products(shape)),
                value=self.macs(shape, out),
            )
        )
        parts = self.op_parts(shape)
        steps.append(
            Step(
                quantity=Quantity.OPS,
                formula=" + ".join(formula for _, formula, _ in parts),
                substituted=" + ".join(inline(value) for _, _, value in parts),
                value=self.ops(shape, out),
                note="; ".join(what for what, _, _ in parts),
            )
        )
        steps.append(activations(out))
        field_steps, after = global_field()
        return [*steps, *field_steps], after

    def _params_formula(self) -> str:
        terms = ["C·h·(2·d_k + d_v)"]
        if self.out is not None:
            terms.append("h·d_v·C_out")
        if self.relative:
            terms.append("Σ(2n − 1)·d_k")
        if self.bias:
            terms.append("h·(2·d_k + d_v)" + (" + C_out" if self.out is not None else ""))
        return " + ".join(terms)

    def op(self) -> AttentionOp:
        from convcost.executor.ops.attention import AttentionOp

        return AttentionOp(self)


HEADS = IntegerField("heads", "attention heads")
KEY_DIM = IntegerField(
    "key_dim", "features of each head's query and key (per head)", default_note="C / heads"
)
VALUE_DIM = IntegerField(
    "value_dim", "features of each head's value (per head)", default_note="key_dim"
)
ATTENTION_OUT = IntegerField(
    "out", "channels of the output projection", default_note="C, the input's channels"
)
PROJECTION = FlagField(
    "projection",
    "an output projection to `out` channels; false: the heads' values concatenated, "
    "heads·value_dim channels (BoTNet's MHSA)",
    True,
)
ATTENTION_BIAS = FlagField("bias", "biases in the query, key, value and output projections", True)
RELATIVE_POSITION = FlagField(
    "relative_position",
    "learned relative-position logits, 2n − 1 embeddings of key_dim per spatial axis of n "
    "(BoTNet's rel_h, rel_w)",
    False,
)


def _attention(args: Args, shape: Shape) -> Attention:
    heads = HEADS.read(args)
    require_spatial("attention", shape)
    channels = shape[0]
    if not args.has("key_dim") and channels % heads:
        raise args.error(
            "heads",
            f"channels ({channels}) must be divisible by heads ({heads}) when key_dim is not given",
        )
    key_dim = KEY_DIM.read_or(args, channels // heads)
    value_dim = VALUE_DIM.read_or(args, key_dim)
    projection = PROJECTION.read(args)
    if not projection and args.has("out"):
        raise args.error(
            "out",
            f"without a projection the output has heads·value_dim = {heads * value_dim} "
            "channels: drop `out` or set `projection: true`",
        )
    out = ATTENTION_OUT.read_or(args, channels)
    return Attention(
        heads=heads,
        key_dim=key_dim,
        value_dim=value_dim,
        out=out if projection else None,
        bias=ATTENTION_BIAS.read(args),
        relative=RELATIVE_POSITION.read(args),
    )


KINDS = (
    Kind(
        "attention",
        "multi-head self-attention over the spatial positions (nn.MultiheadAttention, BoTNet MHSA)",
        (HEADS, KEY_DIM, VALUE_DIM, ATTENTION_OUT, PROJECTION, ATTENTION_BIAS, RELATIVE_POSITION),
        _attention,
    ),
)
