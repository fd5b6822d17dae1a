"""Receptive-field steps: r = r_prev + (k_eff − 1)·j_prev and j = j_prev·s, per axis."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from convcost.explain.steps import Number, Quantity, Step, inline, per_axis
from convcost.layers.base import Exact, exact
from convcost.receptive import Coverage, ReceptiveField


def field_steps(
    field: ReceptiveField,
    spans: Sequence[int] | None,
    strides: Sequence[int],
    *,
    transposed: bool = False,
    span_formula: str = "(k_eff − 1)",
) -> tuple[list[Step], ReceptiveField]:
    """r = r_prev + (k_eff − 1)·j_prev and j = j_prev·s per axis (j_prev / s when transposed)."""
    rank = len(strides)
    if field.coverage is not Coverage.LOCAL:
        return [unchanged_field(field)], field
    assert spans is not None
    sizes: list[Exact] = []
    jumps: list[Exact] = []
    r_cases: list[tuple[str, Number]] = []
    j_cases: list[tuple[str, Number]] = []
    for r, j, span, s in zip(field.size, field.jump, spans, strides, strict=True):
        if transposed:
            extent = -(-span // s)
            new_r = exact(r + (extent - 1) * j)
            new_j = exact(Fraction(j) / s)
            r_cases.append((f"{inline(r)} + (⌈{span} / {s}⌉ − 1)·{inline(j)}", new_r))
            j_cases.append((f"{inline(j)} / {s}", new_j))
        else:
            new_r = exact(r + (span - 1) * j)
            new_j = exact(j * s)
            r_cases.append((f"{inline(r)} + ({span} − 1)·{inline(j)}", new_r))
            j_cases.append((f"{inline(j)}·{s}", new_j))
        sizes.append(new_r)
        jumps.append(new_j)
    r_formula = (
        "r_prev + (⌈k_eff / s⌉ − 1)·j_prev" if transposed else f"r_prev + {span_formula}·j_prev"
    )
    j_formula = "j_prev / s" if transposed else "j_prev·s"
    steps = [
        *per_axis(Quantity.RECEPTIVE_FIELD, "r_{A}", r_formula, r_cases, rank, combined="r"),
        *per_axis(Quantity.JUMP, "j_{A}", j_formula, j_cases, rank, combined="j"),
    ]
    return steps, ReceptiveField(Coverage.LOCAL, tuple(sizes), tuple(jumps))


def unchanged_field(field: ReceptiveField) -> Step:
    why = {
        Coverage.GLOBAL: "global: every output already sees the whole input",
        Coverage.UNKNOWN: "unknown: merged branches disagreed on the jump",
        Coverage.LOCAL: "unchanged: each output position sees the same position of the input",
    }[field.coverage]
    return Step(quantity=Quantity.RECEPTIVE_FIELD, note=why)


def global_field() -> tuple[list[Step], ReceptiveField]:
    step = Step(
        quantity=Quantity.RECEPTIVE_FIELD, note="global: each output depends on the whole input"
    )
    return [step], ReceptiveField(Coverage.GLOBAL)


def span_steps(kernel: Sequence[int], dilation: Sequence[int]) -> list[Step]:
    """k_eff = d·(k − 1) + 1, shown only when some axis is dilated."""
    if all(d == 1 for d in dilation):
        return []
    cases: list[tuple[str, Number]] = [
        (f"{d}·({k} − 1) + 1", d * (k - 1) + 1) for k, d in zip(kernel, dilation, strict=True)
    ]
    return per_axis(
        Quantity.KERNEL_SPAN, "k_eff,{A}", "d·(k − 1) + 1", cases, len(kernel), combined="k_eff"
    )
