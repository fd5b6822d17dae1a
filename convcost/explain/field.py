"""Receptive-field steps: r = r_prev + (k_eff − 1)·j_prev and j = j_prev·s per axis, or the
largest window of the composed map after a transposed conv, adaptive pool or upsampling."""

from __future__ import annotations

from collections.abc import Sequence

from convcost.explain.steps import Number, Quantity, Step, inline, per_axis
from convcost.layers.base import axis_names
from convcost.layers.window import MAX_PHASES, Global, Untracked, Window
from convcost.receptive import GLOBAL, Coverage, ReceptiveField


def field_steps(
    field: ReceptiveField,
    window: Window | Global | Untracked | None,
    *,
    span_formula: str = "(k_eff − 1)",
) -> tuple[list[Step], ReceptiveField]:
    """The field after ``window`` with the engine's own composition (:meth:`ReceptiveField.
    through`), written as r = r_prev + (last − first)·j_prev and j = j_prev·s while every map
    has one phase, else as the largest window over the composed map's phases."""
    after = field.through(window)
    if field.coverage is not Coverage.LOCAL or window is None:
        return [unchanged_field(field)], field
    if isinstance(window, Global):
        return global_field()
    if isinstance(window, Untracked):
        note = f"unknown: the windows repeat only every {window.phases} outputs"
        return [Step(quantity=Quantity.RECEPTIVE_FIELD, note=note)], after
    rank = len(window.axes)
    dead = [
        f"{name}: {axis.dead} tap{'s' if axis.dead > 1 else ''} read only padding, left out"
        for name, axis in zip(axis_names(rank), window.axes, strict=True)
        if axis.dead
    ]
    if window.simple and field.maps is None and after.coverage is Coverage.LOCAL:
        r_cases: list[tuple[str, Number]] = [
            (f"{inline(r)} + ({g + 1} − 1)·{inline(j)}", new_r)
            for r, j, g, new_r in zip(
                field.size, field.jump, window.growth, after.size, strict=True
            )
        ]
        j_cases: list[tuple[str, Number]] = [
            (f"{inline(j)}·{s}", new_j)
            for j, s, new_j in zip(field.jump, window.shift, after.jump, strict=True)
        ]
        formula = (
            f"r_prev + {span_formula}·j_prev" if not dead else "r_prev + (live span − 1)·j_prev"
        )
        steps = [
            *per_axis(
                Quantity.RECEPTIVE_FIELD, "r_{A}", formula, r_cases, rank, "; ".join(dead), "r"
            ),
            *per_axis(Quantity.JUMP, "j_{A}", "j_prev·s", j_cases, rank, combined="j"),
        ]
        return steps, after
    if after.coverage is not Coverage.LOCAL:
        note = f"unknown: the composed map repeats only after more than {MAX_PHASES} outputs"
        return [Step(quantity=Quantity.RECEPTIVE_FIELD, note=note)], after
    r_cases = []
    j_cases = []
    for axis, m in enumerate(after.axis_maps()):
        extents = [max(0, hi - lo + 1) for lo, hi in zip(m.lo, m.hi, strict=True)]
        shown = ", ".join(map(str, extents[:8])) + (", …" if len(extents) > 8 else "")
        r_cases.append((f"max({shown})", after.size[axis]))
        j_cases.append((f"{m.shift} / {m.period}", after.jump[axis]))
    note = "the window differs between output positions: the largest" if after.varies else ""
    steps = [
        *per_axis(
            Quantity.RECEPTIVE_FIELD,
            "r_{A}",
            "max over phases (last − first + 1)",
            r_cases,
            rank,
            "; ".join([*dead, note] if note else dead),
            "r",
        ),
        *per_axis(Quantity.JUMP, "j_{A}", "shift / period", j_cases, rank, combined="j"),
    ]
    return steps, after


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
    return [step], GLOBAL


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
