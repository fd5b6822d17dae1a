"""Steps of merges (concat/add/multiply) and a separable conv's cost against a standard one."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from convcost.explain.field import unchanged_field
from convcost.explain.steps import (
    LayerExplanation,
    Number,
    Quantity,
    Step,
    elements,
    inline,
    kernel_symbols,
    no_ops,
    no_params,
    number,
    numbers,
    out_symbols,
    per_axis,
    product,
    shape_symbols,
)
from convcost.layers import Conv
from convcost.network import GroupNode, LayerNode, MergeKind, MergeNode
from convcost.receptive import Coverage, ReceptiveField


def merge_steps(
    node: MergeNode, fields: Sequence[ReceptiveField], merged: ReceptiveField
) -> tuple[Step, ...]:
    out = node.output_shape
    count = len(node.branches)
    steps: list[Step] = []
    if node.merge is MergeKind.CONCAT:
        channels = [branch.output_shape[0] for branch in node.branches]
        steps.append(
            Step(
                quantity=Quantity.OUTPUT_SIZE,
                symbol="C_out",
                formula=" + ".join(f"C_{b.name}" for b in node.branches),
                substituted=" + ".join(map(str, channels)),
                value=sum(channels),
            )
        )
        steps.append(no_ops("concatenation copies; no arithmetic"))
    else:
        symbol = "+" if node.merge is MergeKind.ADD else "×"
        steps.append(
            Step(
                quantity=Quantity.OPS,
                formula=product(["(n − 1)", *shape_symbols(out)]),
                substituted=numbers((count - 1, *out)),
                value=(count - 1) * math.prod(out),
                note=f"n = {count} branches joined by elementwise {symbol}",
            )
        )
    steps.insert(0, no_params())
    steps.append(elements(out))
    if merged.coverage is Coverage.LOCAL:
        rank = len(merged.size)
        local = [f for f in fields if f.coverage is Coverage.LOCAL]
        cases: list[tuple[str, Number]] = []
        for axis in range(rank):
            sizes = [f.size[axis] for f in local]
            listed = ", ".join(inline(size) for size in sizes)
            # windows that do not start together span more than the widest of them
            how = "max" if max(sizes) == merged.size[axis] else "hull of windows"
            cases.append((f"{how}({listed})", merged.size[axis]))
        notes = []
        if len(set(merged.jump)) == 1:
            notes.append(f"jump {number(merged.jump[0])}")
        if len(local) < len(fields):
            notes.append("a branch sees the whole input: global context, the field is the others'")
        steps += per_axis(
            Quantity.RECEPTIVE_FIELD,
            "r_{A}",
            "union of the branches' windows",
            cases,
            rank,
            combined="r",
            note="; ".join(notes),
        )
    else:
        steps.append(unchanged_field(merged))
    return tuple(steps)


def separable_summary(node: GroupNode) -> LayerExplanation:
    """A separable conv against the standard conv it replaces (same C_in, C_out, k, stride)."""
    depthwise, pointwise = node.children
    assert isinstance(depthwise, LayerNode)
    assert isinstance(pointwise, LayerNode)
    dw, pw = depthwise.layer, pointwise.layer
    assert isinstance(dw, Conv)
    assert isinstance(pw, Conv)
    shape, out = node.input_shape, node.output_shape
    rank = len(shape) - 1
    c_in, c_out, m = shape[0], pw.out, dw.out // shape[0]
    area = math.prod(out[1:])
    k = math.prod(dw.kernel)
    kernel = product(kernel_symbols(rank))
    outs = product(out_symbols(rank))
    standard = area * c_out * c_in * k
    separable = area * c_in * m * k + area * c_in * m * c_out
    ratio = Fraction(separable, standard)
    mult = "m·" if m != 1 else ""
    expected = m * (Fraction(1, c_out) + Fraction(1, k))
    assert ratio == expected
    std_params = k * c_in * c_out
    sep_params = k * c_in * m + c_in * m * c_out
    steps = (
        Step(
            quantity=Quantity.MACS,
            symbol="standard",
            formula=f"{outs}·C_out·C_in·{kernel}",
            substituted=f"{numbers(out[1:])}·{c_out}·{c_in}·{numbers(dw.kernel)}",
            value=standard,
            note="the standard conv it replaces",
        ),
        Step(
            quantity=Quantity.MACS,
            symbol="separable",
            formula=f"{outs}·C_in·{mult}{kernel} + {outs}·C_in·{mult}C_out",
            substituted=f"{number(area * c_in * m * k)} + {number(area * c_in * m * c_out)}",
            value=separable,
            note="depthwise + pointwise",
        ),
        Step(
            quantity=Quantity.RELATIVE_COST,
            symbol="separable / standard",
            formula=f"{mult}(1/C_out + 1/({kernel}))",
            substituted=f"{inline(m) + '·' if m != 1 else ''}(1/{c_out} + 1/{k})",
            value=ratio,
            note=f"{number(separable)} / {number(standard)} ≈ {float(ratio):.4f} in MACs; "
            f"weights {number(sep_params)} / {number(std_params)} ≈ {float(Fraction(sep_params, std_params)):.4f}",
        ),
    )
    return LayerExplanation(
        path=node.path,
        kind="separable",
        settings=f"depthwise {'×'.join(map(str, dw.kernel))} + pointwise 1×1 against a standard "
        f"{'×'.join(map(str, dw.kernel))} conv, {c_in} → {c_out}",
        input_shape=shape,
        output_shape=out,
        steps=steps,
        report=None,
    )
