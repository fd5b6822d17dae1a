"""``convcost check`` results as text: a :class:`LimitRow` per checked limit or growth, the
summary line and the layer changes, the same in every format of :mod:`convcost.render.check`."""

from __future__ import annotations

from convcost.baseline import BaselineLayer, Growth
from convcost.budget import Actual, Budgeted, Result, Status
from convcost.check import CheckRun, Outcome
from convcost.latency.quantities import seconds_text
from convcost.receptive import Coverage, as_numbers
from convcost.render import numbers
from convcost.valueclasses import dataclass

MAX_CHANGES_SHOWN = 20
"""Layer changes listed per network in the table and Markdown (JSON lists them all)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitRow:
    """One checked limit as text: the same cells in the table and the Markdown."""

    spec: str
    network: str
    metric: str
    check: str
    """The check's name in JUnit: ``params``, ``params growth``."""
    budget: str
    actual: str
    margin: str
    status: Status
    message: str
    """One sentence for annotations and JUnit failures."""
    line: int
    column: int | None = None
    """The budget entry's column; ``None`` for a limit from a flag (reported on line 1)."""


def _amount(value: int, metric: Budgeted | str, exact: bool) -> str:
    if metric is Budgeted.LATENCY:
        return seconds_text(value / 1e9)
    is_bytes = metric in (Budgeted.PEAK_MEMORY, Budgeted.ACTIVATION_MEMORY, "peak_memory")
    return numbers.size(value, exact=exact) if is_bytes else numbers.count(value, exact=exact)


def _field(actual: Actual) -> str:
    if isinstance(actual, Coverage):
        return "global" if actual is Coverage.GLOBAL else "unknown"
    if isinstance(actual, int):
        return str(actual)
    shown = [str(v) for v in as_numbers(actual)]
    return shown[0] if len(set(shown)) == 1 else "×".join(shown)


def _margin(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}%"


def result_row(outcome: Outcome, result: Result, exact: bool = False) -> LimitRow:
    metric = result.metric
    limit = result.limit
    line = limit.location.line if limit.location else 1
    column = limit.location.column if limit.location else None
    where = f" (budget from {limit.origin})"
    if metric is Budgeted.RECEPTIVE_FIELD:
        budget = "≥ " + "×".join(map(str, limit.value))
        actual = _field(result.actual)
        if result.status is Status.UNKNOWN:
            message = (
                f"{result.report}: receptive field unknown (branches with different jumps), "
                f"cannot check the minimum {budget[2:]}{where}"
            )
        else:
            message = f"{result.report}: receptive field {actual} is below the minimum {budget[2:]}{where}"
    else:
        assert isinstance(result.actual, int)
        budget = "≤ " + _amount(limit.value[0], metric, exact)
        actual = _amount(result.actual, metric, exact)
        shown, bound = (
            (actual, budget[2:])
            if metric is Budgeted.LATENCY
            else (f"{result.actual:,}", f"{limit.value[0]:,}")
        )
        message = (
            f"{result.report}: {metric.value} {shown} exceeds the budget "
            f"{bound} by {-(result.margin or 0):.1f}%{where}"
        )
    return LimitRow(
        spec=outcome.source,
        network=result.report,
        metric=metric.value.replace("_", " "),
        check=metric.value,
        budget=budget,
        actual=actual,
        margin=_margin(result.margin),
        status=result.status,
        message=message,
        line=line,
        column=column,
    )


def growth_row(outcome: Outcome, growth: Growth, exact: bool = False) -> LimitRow:
    allowed = float(growth.allowed * 100)
    base = _amount(growth.baseline, growth.metric, exact)
    change = growth.growth
    grew = "+∞" if change is None else f"{float(change * 100):+.1f}%"
    limit = growth.limit
    margin = float((limit - growth.actual) / limit * 100) if limit else None
    return LimitRow(
        spec=outcome.source,
        network=growth.report,
        metric=f"Δ {growth.metric.replace('_', ' ')}",
        check=f"{growth.metric} growth",
        budget=f"{base} +{allowed:g}%",
        actual=f"{_amount(growth.actual, growth.metric, exact)} ({grew})",
        margin=_margin(margin),
        status=growth.status,
        message=f"{growth.report}: {growth.metric} grew {grew} against the baseline "
        f"({growth.baseline:,} → {growth.actual:,}), more than the allowed +{allowed:g}%",
        line=1,
    )


def limit_rows(run: CheckRun, exact: bool = False) -> list[LimitRow]:
    return [
        row
        for outcome in run.outcomes
        for row in (
            *(result_row(outcome, r, exact) for r in outcome.results),
            *(growth_row(outcome, g, exact) for g in outcome.growths),
        )
    ]


def status_text(status: Status) -> str:
    return {Status.WITHIN: "ok", Status.EXCEEDED: "OVER", Status.UNKNOWN: "UNKNOWN"}[status]


def summary_line(run: CheckRun) -> str:
    all_rows = limit_rows(run)
    failed = sum(not row.status.passed for row in all_rows)
    invalid = sum(outcome.error is not None for outcome in run.outcomes)
    skipped = sum(outcome.skipped for outcome in run.outcomes)
    parts = [f"{len(all_rows) - failed} within budget", f"{failed} exceeded"]
    if any(outcome.growths for outcome in run.outcomes):
        parts.append("Δ: growth over the baseline")
    if invalid:
        parts.append(f"{invalid} invalid spec{'s' if invalid != 1 else ''}")
    if skipped:
        parts.append(f"{skipped} skipped (no budget)")
    return ", ".join(parts)


def _layer(layer: BaselineLayer) -> str:
    return f"{layer.kind}, {layer.params:,} params, {layer.macs:,} MACs"


def _difference(before: BaselineLayer, after: BaselineLayer) -> str:
    parts = [f"{before.kind} → {after.kind}"] if before.kind != after.kind else []
    if before.params != after.params:
        parts.append(f"params {before.params:,} → {after.params:,}")
    if before.macs != after.macs:
        parts.append(f"MACs {before.macs:,} → {after.macs:,}")
    return ", ".join(parts)


def change_lines(outcome: Outcome) -> list[str]:
    """``network: path changed: params 3,088 → 3,860, …``, at most MAX_CHANGES_SHOWN each."""
    lines = []
    for network, changes in outcome.changes:
        for change in changes[:MAX_CHANGES_SHOWN]:
            before, after = change.before, change.after
            if before is None:
                assert after is not None
                detail = _layer(after)
            elif after is None:
                detail = _layer(before)
            else:
                detail = _difference(before, after)
            lines.append(f"{network}: {change.path} {change.change.value}: {detail}")
        if len(changes) > MAX_CHANGES_SHOWN:
            lines.append(f"{network}: … and {len(changes) - MAX_CHANGES_SHOWN} more")
    return lines
