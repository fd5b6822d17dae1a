"""``custom``: a layer convcost does not know (a deformable conv, a vendor op), declared by its
output shape, parameters, MACs and ops as integer expressions of the input's dimensions.

An expression is an integer or a string in the language of ``${…}`` (:mod:`convcost.expr`:
integers, names, ``+ - * // %``, parentheses), evaluated over the input's dimensions: ``c``
(channels, or the features of a flat input), then ``l`` (1-D), ``h``, ``w`` (2-D) or ``d``,
``h``, ``w`` (3-D). ``$param`` and ``${…}`` templates inside it are substituted first, from the
block's parameters and the same dimensions. The receptive field is declared: ``same``
(unchanged, the default), ``local`` with ``kernel`` and ``stride``, or ``global``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from convcost.errors import SpecError
from convcost.expr import ExpressionError, evaluate
from convcost.fields import Args
from convcost.layers.base import Layer, LayerShapeError, Shape
from convcost.layers.kind import (
    STRIDE,
    ChoiceField,
    ExpressionField,
    ExpressionsField,
    FlagField,
    Kind,
    PerAxisField,
    TextField,
)
from convcost.layers.window import Global, Window, strided
from convcost.names import check_name
from convcost.tree import Scalar
from convcost.valueclasses import dataclass, replace

if TYPE_CHECKING:
    from convcost.executor.ops.custom import CustomOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField

DIMENSION_NAMES = {0: ("c",), 1: ("c", "l"), 2: ("c", "h", "w"), 3: ("c", "d", "h", "w")}
"""The names an expression of a custom layer sees, by the input's number of spatial axes."""


def dimensions(shape: Shape) -> dict[str, int]:
    """The input's dimensions by name: ``{"c": 64, "h": 28, "w": 28}``."""
    return dict(zip(DIMENSION_NAMES[len(shape) - 1], shape, strict=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class Custom(Layer):
    """A declared layer: every figure is an expression of the input's dimensions."""

    label: str | None
    shape: tuple[str, ...] | None
    """The output shape's expressions, channels first; ``None``: the input's shape."""
    params_expression: str
    macs_expression: str
    ops_expression: str
    field: str
    """``same``, ``local`` (with ``kernel`` and ``stride``) or ``global``."""
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    unknown: bool = False
    """A placeholder whose cost is unknown (an imported operator convcost has no layer for):
    its MACs and ops are not counted, and every report on the spec says so."""

    @property
    def kind(self) -> str:
        return "custom" if self.label is None else f"custom:{self.label}"

    def value(self, text: str, shape: Shape) -> int:
        """``text`` evaluated over the dimensions of ``shape``."""
        return evaluate(text, dimensions(shape))

    def output_shape(self, shape: Shape) -> Shape:
        if self.shape is None:
            return shape
        out = tuple(self.value(text, shape) for text in self.shape)
        for axis, (text, size) in enumerate(zip(self.shape, out, strict=True)):
            if size < 1:
                raise LayerShapeError(
                    "shape",
                    f"size {axis} of the output, {text!r}, is {size:,} for the input "
                    f"{list(shape)}: every size must be >= 1",
                )
        return out

    def weights(self, shape: Shape) -> int:
        return self.value(self.params_expression, shape)

    def macs(self, shape: Shape, out: Shape) -> int:
        return self.value(self.macs_expression, shape)

    def ops(self, shape: Shape, out: Shape) -> int:
        return self.value(self.ops_expression, shape)

    def window(self, shape: Shape) -> Window | Global | None:
        if self.field == "global":
            return Global()
        if self.field == "local":
            return Window(
                tuple(strided(0, k - 1, s) for k, s in zip(self.kernel, self.stride, strict=True))
            )
        return None

    def placeholder(self) -> str | None:
        return (self.label or "custom") if self.unknown else None

    def settings(self) -> str:
        parts = [f"declared: {self.label}" if self.label else "declared"]
        if self.unknown:
            parts.append("cost unknown")
        if self.field == "local":
            parts.append(f"field local, kernel {_axes(self.kernel)}, stride {_axes(self.stride)}")
        else:
            parts.append(f"field {self.field}")
        return ", ".join(parts)

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import field_steps, global_field, unchanged_field
        from convcost.explain.steps import Quantity, Step, activations

        bound = dimensions(shape)

        def declared(quantity: Quantity, text: str, value: int, symbol: str = "") -> Step:
            # the expression, then with the input's dimensions written in
            written = _NAME.sub(lambda name: str(bound[name.group()]), text)
            substituted = written if written != text else ""
            return Step(
                quantity=quantity, symbol=symbol, formula=text, substituted=substituted, value=value
            )

        steps: list[Step] = []
        if self.shape is not None:
            steps.append(declared(Quantity.OUTPUT_SIZE, self.shape[0], out[0], "C_out"))
        steps.append(declared(Quantity.PARAMS, self.params_expression, self.weights(shape)))
        macs = self.macs(shape, out)
        if macs:
            steps.append(declared(Quantity.MACS, self.macs_expression, macs))
        if not self.unknown:  # a placeholder's ops are unknown, not 0 (settings say so)
            steps.append(declared(Quantity.OPS, self.ops_expression, self.ops(shape, out)))
        steps.append(activations(out))
        if self.field == "global":
            global_steps, after = global_field()
            return [*steps, *global_steps], after
        if self.field == "local":
            local_steps, after = field_steps(field, self.window(shape))
            return [*steps, *local_steps], after
        return [*steps, unchanged_field(field)], field

    def op(self) -> CustomOp:
        from convcost.executor.ops.custom import CustomOp

        return CustomOp(self)


_NAME = re.compile(r"\b[cdhwl]\b")
"""A dimension's name inside an expression (every other name is refused by the parser)."""


def _axes(values: tuple[int, ...]) -> str:
    return "×".join(map(str, values))


LABEL = TextField(
    "label",
    "a name for the operation, shown as the kind: custom:LABEL",
    default_note="none: the kind reads custom",
)
SHAPE = ExpressionsField(
    "shape",
    "output shape, channels first: 1 to 4 integers or expressions of c, l / h, w / d, h, w",
    default_note="the input's shape",
)
PARAMS = ExpressionField("params", "parameters: an integer or an expression of the input's dims", 0)
MACS = ExpressionField("macs", "multiply-accumulates: an integer or an expression", 0)
OPS = ExpressionField("ops", "other elementwise ops: an integer or an expression", 0)
UNKNOWN = FlagField(
    "unknown",
    "a placeholder whose cost is unknown (an imported operator convcost has no layer for): "
    "its MACs and ops are not counted, and every report says so",
    False,
)
FIELD = ChoiceField(
    "field",
    "receptive field: same (unchanged), local (kernel and stride) or global",
    "same",
    choices=("same", "local", "global"),
)
FIELD_KERNEL = PerAxisField(
    "kernel", "with field local: the window each output reads", default_note="required with local"
)
FIELD_STRIDE = replace(STRIDE, description="with field local: the window's stride")


def _custom(args: Args, shape: Shape) -> Custom:
    bound = dimensions(shape)
    clash = sorted(set(bound) & set(args.scope.params))
    if clash:
        raise SpecError(
            f"block parameter {clash[0]!r} has the name of an input dimension that custom "
            f"expressions use ({', '.join(bound)}): rename the parameter",
            location=args.location,
            layer=args.layer,
        )
    saved = args.scope
    # `${…}` and `$name` inside the expressions see the input's dimensions too
    dims = {name: Scalar(size, args.location, str(size)) for name, size in bound.items()}
    args.scope = replace(saved, params={**saved.params, **dims})
    try:
        label = LABEL.read(args)
        out = SHAPE.read(args)
        texts = {field.name: field.read(args) for field in (PARAMS, MACS, OPS)}
    finally:
        args.scope = saved
    unknown = UNKNOWN.read(args)
    if unknown:
        for name in ("macs", "ops"):
            if args.has(name):
                raise args.error(name, f"a layer of unknown cost declares no {name}: remove it")
    field = FIELD.read(args)
    rank = len(shape) - 1
    kernel = FIELD_KERNEL.read_or(args, (1,) * rank)
    stride = FIELD_STRIDE.read(args)
    given = args.has("kernel") or any(s != 1 for s in stride)
    if label is not None:
        try:
            check_name(label, "custom label", location=args.location)
        except SpecError as exc:
            raise args.error("label", exc.message) from None
    for name, text in texts.items():
        value = _evaluated(args, name, text, bound)
        if value < 0:
            raise args.error(
                name, f"{text!r} is {value:,} for the input {list(shape)}: must be >= 0"
            )
    for text in out or ():
        _evaluated(args, "shape", text, bound)
    layer = Custom(
        label=label,
        shape=out,
        params_expression=texts["params"],
        macs_expression=texts["macs"],
        ops_expression=texts["ops"],
        field=field,
        kernel=kernel if field == "local" else (),
        stride=stride if field == "local" else (),
        unknown=unknown,
    )
    _check_field(args, layer, shape, given)
    return layer


def _evaluated(args: Args, name: str, text: str, bound: Mapping[str, int]) -> int:
    try:
        return evaluate(text, bound)
    except ExpressionError as exc:
        raise args.error(name, str(exc)) from None


def _check_field(args: Args, layer: Custom, shape: Shape, given: bool) -> None:
    out_rank = len(layer.output_shape(shape)) - 1
    rank = len(shape) - 1
    if layer.field == "local":
        if not args.has("kernel"):
            raise args.error("kernel", "`kernel` is required with `field: local`")
        if rank == 0 or out_rank != rank:
            raise args.error(
                "field",
                f"`field: local` needs the same spatial axes in and out, got {list(shape)} → "
                f"{list(layer.output_shape(shape))}",
            )
    elif given:
        raise args.error(
            "kernel" if args.has("kernel") else "stride",
            "`kernel` and `stride` describe a local field: add `field: local`",
        )
    if layer.field == "same" and out_rank not in (0, rank):
        raise args.error(
            "field",
            f"the output has other spatial axes than the input ({list(shape)} → "
            f"{list(layer.output_shape(shape))}): declare `field: global` (or `local`)",
        )


KINDS = (
    Kind(
        "custom",
        "a declared layer: shape, params, MACs and ops as expressions of the input's dimensions",
        (LABEL, SHAPE, PARAMS, MACS, OPS, UNKNOWN, FIELD, FIELD_KERNEL, FIELD_STRIDE),
        _custom,
    ),
)
