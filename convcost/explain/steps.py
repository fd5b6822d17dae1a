"""Typed steps of a worked example, and the notation helpers that write them."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from fractions import Fraction

from convcost.integers import digits, grouped, scientific
from convcost.layers import Shape
from convcost.layers.base import axis_names
from convcost.report import LayerReport
from convcost.valueclasses import dataclass


class Quantity(enum.Enum):
    """What a step computes; tests match each against the engine's figure of that name."""

    OUTPUT_SIZE = "output size"
    PARAMS = "parameters"
    MACS = "MACs"
    MACS_PART = "product MACs"
    """One matrix product of a layer with several (attention); the MACS step sums them."""
    OPS = "ops"
    ACTIVATIONS = "activations"
    KERNEL_SPAN = "kernel span"
    RECEPTIVE_FIELD = "receptive field"
    JUMP = "jump"
    RELATIVE_COST = "relative cost"
    TRAFFIC = "memory traffic"
    """Elements read plus written (docs/cost-model.md, "Memory traffic")."""
    INTENSITY = "intensity"
    """FLOPs per byte moved, at float32."""


Number = int | Fraction


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    quantity: Quantity
    symbol: str = ""
    """The left-hand side (``H_out``, ``r``, ``j``), or empty."""
    formula: str = ""
    """The right-hand side in the notation of docs/cost-model.md; empty when there is none."""
    substituted: str = ""
    """The formula with this layer's numbers."""
    value: Number | None = None
    axes: tuple[int, ...] = ()
    """The spatial axes (0-based) the step holds for; empty for whole-layer quantities."""
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerExplanation:
    path: str
    kind: str
    settings: str
    """The layer's fields in words: ``5×5, stride 1, padding 2 + 2 (same), …``."""
    input_shape: Shape
    output_shape: Shape
    steps: tuple[Step, ...]
    report: LayerReport | None
    """The engine's figures for this layer; ``None`` for a separable conv's cost summary."""


def number(value: Number) -> str:
    """``153,632``; ``1/2`` for a fraction."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return grouped(value.numerator)
        return f"{digits(value.numerator)}/{digits(value.denominator)}"
    return grouped(value)


def inline(value: Number) -> str:
    """A number inside a substituted formula: no thousands separators."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{digits(value.numerator)}/{digits(value.denominator)}"
    return digits(int(value))


def kernel_symbols(rank: int) -> list[str]:
    return ["k"] if rank == 1 else [f"k_{name.lower()}" for name in axis_names(rank)]


def product(symbols: Sequence[str]) -> str:
    return "·".join(symbols)


def numbers(values: Sequence[Number]) -> str:
    return "·".join(inline(v) for v in values)


def out_symbols(rank: int) -> list[str]:
    return [f"{name}_out" for name in axis_names(rank)]


def in_symbols(rank: int) -> list[str]:
    return [f"{name}_in" for name in axis_names(rank)]


def per_axis(
    quantity: Quantity,
    symbol: str,
    formula: str,
    cases: Sequence[tuple[str, Number]],
    rank: int,
    note: str = "",
    combined: str | None = None,
) -> list[Step]:
    """One step per spatial axis, or one for all when every axis has the same numbers.

    ``symbol`` and ``formula`` may hold ``{A}`` for the axis letter (``H``, ``W``). The
    single step is written with ``combined`` (``r``) when given, else with the first axis
    (``H_out``) and a note that the other axes are the same.
    """
    names = axis_names(rank)
    if len(set(cases)) == 1:
        others = [f"{symbol.format(A=n)}" for n in names[1:]]
        same = f"{', '.join(others)} the same" if others and combined is None else ""
        substituted, value = cases[0]
        return [
            Step(
                quantity=quantity,
                symbol=combined if combined is not None else symbol.format(A=names[0]),
                formula=formula.format(A=names[0]),
                substituted=substituted,
                value=value,
                axes=tuple(range(rank)),
                note="; ".join(part for part in (same, note) if part),
            )
        ]
    return [
        Step(
            quantity=quantity,
            symbol=symbol.format(A=name),
            formula=formula.format(A=name),
            substituted=substituted,
            value=value,
            axes=(axis,),
            note=note,
        )
        for axis, (name, (substituted, value)) in enumerate(zip(names, cases, strict=True))
    ]


def activations(shape: Shape, *, output: bool = True) -> Step:
    """The activations step: the layer's output elements."""
    rank = len(shape) - 1
    if rank == 0:
        formula = "F_out" if output else "F"
    else:
        formula = product(["C_out" if output else "C", *(out_symbols(rank))])
    return Step(
        quantity=Quantity.ACTIVATIONS,
        formula=formula,
        substituted=numbers(shape),
        value=math.prod(shape),
        note="output elements",
    )


def no_params() -> Step:
    return Step(quantity=Quantity.PARAMS, value=0, note="no parameters")


def no_ops(why: str) -> Step:
    return Step(quantity=Quantity.OPS, value=0, note=why)


def approximate(value: Fraction) -> str:
    """``0.1033`` (four significant digits); ``1.234e+400`` beyond a float's range."""
    if value != 0 and not Fraction(1, 10**300) < abs(value) < 10**300:
        return scientific(value, decimals=3)
    return f"{float(value):.4g}"


def step_text(step: Step) -> str:
    """``H_out = ⌊(H_in + …)⌋ + 1 = ⌊(28 + 4 − 4 − 1) / 1⌋ + 1 = 28``, then any note in brackets."""
    parts = [part for part in (step.symbol, step.formula, step.substituted) if part]
    if step.value is not None:
        shown = number(step.value)
        if isinstance(step.value, Fraction) and step.value.denominator != 1:
            shown += f" ≈ {approximate(step.value)}"
        if not parts or parts[-1] != shown:
            parts.append(shown)
    text = " = ".join(parts)
    if step.note:
        text = f"{text}  ({step.note})" if text else step.note
    return text


def shape_symbols(shape: Shape, *, output: bool = True) -> list[str]:
    rank = len(shape) - 1
    if rank == 0:
        return ["F"]
    return ["C", *(out_symbols(rank) if output else in_symbols(rank))]
