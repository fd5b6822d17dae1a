"""Steps of merges (concat/add/multiply)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from convcost.explain.field import unchanged_field
from convcost.explain.steps import (
    Number,
    Quantity,
    Step,
    activations,
    inline,
    no_ops,
    no_params,
    number,
    numbers,
    per_axis,
    product,
    shape_symbols,
)
from convcost.network import MergeKind, MergeNode
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
    steps.append(activations(out))
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
