"""``convcost check`` output: table, JSON, Markdown, JUnit XML and GitHub annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from convcost.baseline import BaselineLayer, Growth
from convcost.budget import Actual, Metric, Result, Status
from convcost.check import CheckRun, Outcome
from convcost.receptive import Coverage, plain
from convcost.render import numbers

MAX_CHANGES_SHOWN = 20
"""Layer changes listed per network in the table and Markdown (JSON lists them all)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
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


def _amount(value: int, metric: Metric | str, exact: bool) -> str:
    is_bytes = metric in (Metric.PEAK_MEMORY, Metric.ACTIVATION_MEMORY, "peak_memory")
    return numbers.size(value, exact=exact) if is_bytes else numbers.count(value, exact=exact)


def _field(actual: Actual) -> str:
    if isinstance(actual, Coverage):
        return "global" if actual is Coverage.GLOBAL else "unknown"
    if isinstance(actual, int):
        return str(actual)
    shown = [str(v) for v in plain(actual)]
    return shown[0] if len(set(shown)) == 1 else "×".join(shown)


def _margin(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}%"


def result_row(outcome: Outcome, result: Result, exact: bool = False) -> Row:
    metric = result.metric
    limit = result.limit
    line = limit.location.line if limit.location else 1
    where = f" (budget from {limit.origin})"
    if metric is Metric.RECEPTIVE_FIELD:
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
        message = (
            f"{result.report}: {metric.value} {result.actual:,} exceeds the budget "
            f"{limit.value[0]:,} by {-(result.margin or 0):.1f}%{where}"
        )
    return Row(
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
    )


def growth_row(outcome: Outcome, growth: Growth, exact: bool = False) -> Row:
    allowed = float(growth.allowed * 100)
    base = _amount(growth.baseline, growth.metric, exact)
    change = growth.growth
    grew = "+∞" if change is None else f"{float(change * 100):+.1f}%"
    limit = growth.limit
    margin = float((limit - growth.actual) / limit * 100) if limit else None
    return Row(
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


def rows(run: CheckRun, exact: bool = False) -> list[Row]:
    return [
        row
        for outcome in run.outcomes
        for row in (
            *(result_row(outcome, r, exact) for r in outcome.results),
            *(growth_row(outcome, g, exact) for g in outcome.growths),
        )
    ]


def _status_text(status: Status) -> str:
    return {Status.WITHIN: "ok", Status.EXCEEDED: "OVER", Status.UNKNOWN: "UNKNOWN"}[status]


def summary(run: CheckRun) -> str:
    all_rows = rows(run)
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


def _table(spec_rows: list[Row]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("network", min_width=min(max(len(row.network) for row in spec_rows), 24))
    for name in ("metric", "budget", "actual", "margin", "status"):
        justify = "left" if name in ("metric", "status") else "right"
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in spec_rows:
        style = "green" if row.status.passed else "bold red"
        table.add_row(
            row.network,
            row.metric,
            row.budget,
            row.actual,
            row.margin,
            Text(_status_text(row.status), style=style),
        )
    return table


def print_table(console: Console, run: CheckRun, *, exact: bool = False) -> None:
    """Per spec: its path, a table of its checks and the layers changed since the baseline."""
    all_rows = rows(run, exact)
    for outcome in run.outcomes:
        spec_rows = [row for row in all_rows if row.spec == outcome.source]
        lines = change_lines(outcome)
        if not spec_rows and not lines:
            continue
        console.print(Text(outcome.source, style="bold"))
        if spec_rows:
            console.print(_table(spec_rows))
            console.print()
        if lines:
            console.print("layers changed since the baseline:")
            for line in lines:
                console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
            console.print()
    console.print(summary(run), markup=False, highlight=False)


def to_markdown(run: CheckRun, *, exact: bool = False) -> str:
    """A summary for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment."""
    status = run.exit_status
    icon = {0: "✅", 1: "❌", 2: "⚠️"}[int(status)]
    lines = [f"### {icon} convcost check: {summary(run)}", ""]
    table = rows(run, exact)
    if table:
        lines += [
            "| spec | network | metric | budget | actual | margin | status |",
            "|---|---|---|--:|--:|--:|---|",
        ]
        for row in table:
            mark = "✅ ok" if row.status.passed else f"❌ **{_status_text(row.status)}**"
            lines.append(
                f"| `{row.spec}` | {row.network} | {row.metric} | {row.budget} | {row.actual} | "
                f"{row.margin} | {mark} |"
            )
        lines.append("")
    for outcome in run.outcomes:
        if outcome.error is not None:
            lines.append(f"- ⚠️ `{outcome.source}`: invalid: {outcome.error}")
        lines += [f"- `{outcome.source}`: {note}" for note in outcome.notes]
        changes = change_lines(outcome)
        if changes:
            lines.append(f"- `{outcome.source}`: layers changed since the baseline:")
            lines += [f"  - {line}" for line in changes]
    return "\n".join(lines).rstrip("\n") + "\n"


def to_junit(run: CheckRun, *, exact: bool = False) -> str:
    """JUnit XML: a test suite per spec, a test case per network and checked metric."""
    suites = ET.Element("testsuites", name="convcost check")
    all_rows = rows(run, exact)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for outcome in run.outcomes:
        suite = ET.SubElement(suites, "testsuite", name=outcome.source)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if outcome.error is not None:
            case = ET.SubElement(suite, "testcase", classname=outcome.source, name="load spec")
            error = ET.SubElement(case, "error", message=str(outcome.error), type="invalid spec")
            error.text = str(outcome.error)
            counts["tests"] += 1
            counts["errors"] += 1
        if outcome.skipped:
            case = ET.SubElement(suite, "testcase", classname=outcome.source, name="budget")
            ET.SubElement(case, "skipped", message="; ".join(outcome.notes))
            counts["tests"] += 1
            counts["skipped"] += 1
        for row in (r for r in all_rows if r.spec == outcome.source):
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{outcome.source}.{row.network}",
                name=row.check,
                file=outcome.source,
                line=str(row.line),
            )
            counts["tests"] += 1
            if not row.status.passed:
                failure = ET.SubElement(case, "failure", message=row.message, type="budget")
                failure.text = (
                    f"budget {row.budget}, actual {row.actual}, margin {row.margin}\n"
                    + "\n".join(change_lines(outcome))
                ).rstrip("\n")
                counts["failures"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _result_json(result: Result) -> dict[str, Any]:
    actual = result.actual
    return {
        "network": result.report,
        "metric": result.metric.value,
        "limit": list(result.limit.value)
        if result.metric is Metric.RECEPTIVE_FIELD
        else result.limit.value[0],
        "actual": actual.value
        if isinstance(actual, Coverage)
        else (actual if isinstance(actual, int) else plain(actual)),
        "margin_percent": result.margin,
        "status": result.status.value,
        "origin": result.limit.origin,
        "line": result.limit.location.line if result.limit.location else None,
    }


def _growth_json(growth: Growth) -> dict[str, Any]:
    change = growth.growth
    return {
        "network": growth.report,
        "metric": growth.metric,
        "baseline": growth.baseline,
        "actual": growth.actual,
        "growth_percent": None if change is None else float(change * 100),
        "allowed_percent": float(growth.allowed * 100),
        "status": growth.status.value,
    }


def _layer_json(layer: BaselineLayer | None) -> dict[str, Any] | None:
    if layer is None:
        return None
    return {"kind": layer.kind, "params": layer.params, "macs": layer.macs}


def to_json(run: CheckRun) -> str:
    data = {
        "exit_status": int(run.exit_status),
        "specs": [
            {
                "source": outcome.source,
                "name": outcome.name,
                "error": str(outcome.error) if outcome.error else None,
                "skipped": outcome.skipped,
                "notes": list(outcome.notes),
                "results": [_result_json(result) for result in outcome.results],
                "growth": [_growth_json(growth) for growth in outcome.growths],
                "layer_changes": [
                    {
                        "network": network,
                        "path": change.path,
                        "change": change.change.value,
                        "before": _layer_json(change.before),
                        "after": _layer_json(change.after),
                    }
                    for network, changes in outcome.changes
                    for change in changes
                ],
            }
            for outcome in run.outcomes
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _escape(text: str, *, property: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github_annotations(run: CheckRun) -> list[str]:
    """GitHub Actions ``::error`` workflow commands for violations and invalid specs."""
    commands = []
    for outcome in run.outcomes:
        if outcome.error is not None:
            location = outcome.error.location
            file = location.file if location else outcome.source
            where = f"file={_escape(file, property=True)}"
            if location:
                where += f",line={location.line},col={location.column}"
            commands.append(
                f"::error {where},title=convcost invalid spec::{_escape(str(outcome.error))}"
            )
    for row in rows(run):
        if not row.status.passed:
            commands.append(
                f"::error file={_escape(row.spec, property=True)},line={row.line},"
                f"title=convcost over budget::{_escape(row.message)}"
            )
    return commands
