"""``convcost check`` output: table, JSON, Markdown, JUnit XML and GitHub annotations."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from convcost.baseline import BaselineLayer, Growth
from convcost.budget import Budgeted, Result
from convcost.check import CheckRun
from convcost.errors import ExitStatus
from convcost.jsontext import dumps
from convcost.receptive import Coverage, as_numbers
from convcost.render.check_rows import LimitRow, change_lines, limit_rows, status_text, summary_line
from convcost.render.escape import (
    annotation_message,
    annotation_property,
    markdown_code,
    markdown_text,
    printable,
)


def _table(spec_rows: list[LimitRow]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    width = min(max(len(printable(row.network)) for row in spec_rows), 24)
    table.add_column("network", min_width=width)
    for name in ("metric", "budget", "actual", "margin", "status"):
        justify = "left" if name in ("metric", "status") else "right"
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in spec_rows:
        style = "green" if row.status.passed else "bold red"
        table.add_row(
            Text(printable(row.network)),
            row.metric,
            row.budget,
            row.actual,
            row.margin,
            Text(status_text(row.status), style=style),
        )
    return table


def print_table(console: Console, run: CheckRun, *, exact: bool = False) -> None:
    """Per spec: its path, a table of its checks and the layers changed since the baseline;
    an invalid spec: its path and the error."""
    all_rows = limit_rows(run, exact)
    for outcome in run.outcomes:
        spec_rows = [row for row in all_rows if row.spec == outcome.source]
        lines = change_lines(outcome)
        if not spec_rows and not lines and outcome.error is None:
            continue
        # soft_wrap: user text is never broken across lines, so no line of it can begin with
        # `::` (a GitHub Actions workflow command) after a wrap
        console.print(Text(printable(outcome.source), style="bold"), soft_wrap=True)
        if outcome.error is not None:
            error = Text("ERROR ", style="bold red") + Text(printable(str(outcome.error)))
            console.print(error, soft_wrap=True)
            console.print()
        if spec_rows:
            console.print(_table(spec_rows))
            console.print()
        if lines:
            console.print("layers changed since the baseline:")
            for line in lines:
                console.print(f"  {printable(line)}", markup=False, highlight=False, soft_wrap=True)
            console.print()
    console.print(summary_line(run), markup=False, highlight=False)


def to_markdown(run: CheckRun, *, exact: bool = False) -> str:
    """A summary for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment."""
    status = run.exit_status
    icon = (
        "✅" if status is ExitStatus.OK else "❌" if status is ExitStatus.BUDGET_EXCEEDED else "⚠️"
    )
    lines = [f"### {icon} convcost check: {summary_line(run)}", ""]
    table = limit_rows(run, exact)
    invalid = [outcome for outcome in run.outcomes if outcome.error is not None]
    if table or invalid:
        lines += [
            "| spec | network | metric | budget | actual | margin | status |",
            "|---|---|---|--:|--:|--:|---|",
        ]
        for outcome in invalid:
            lines.append(f"| {markdown_code(outcome.source)} | — | — | — | — | — | ⚠️ **ERROR** |")
        for row in table:
            mark = "✅ ok" if row.status.passed else f"❌ **{status_text(row.status)}**"
            lines.append(
                f"| {markdown_code(row.spec)} | {markdown_text(row.network)} | {row.metric} | "
                f"{row.budget} | {row.actual} | {row.margin} | {mark} |"
            )
        lines.append("")
    for outcome in run.outcomes:
        source = markdown_code(outcome.source)
        if outcome.error is not None:
            lines.append(f"- ⚠️ {source}: invalid: {markdown_text(str(outcome.error))}")
        lines += [f"- {source}: {markdown_text(note)}" for note in outcome.notes]
        changes = change_lines(outcome)
        if changes:
            lines.append(f"- {source}: layers changed since the baseline:")
            lines += [f"  - {markdown_text(line)}" for line in changes]
    return "\n".join(lines).rstrip("\n") + "\n"


_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: control characters (``printable``) and the code points XML
    forbids written as ``\\uXXXX``; ElementTree escapes ``<&"`` itself."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", printable(text))


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def to_junit(run: CheckRun, *, exact: bool = False) -> str:
    """JUnit XML: a test suite per spec, a test case per network and checked metric.

    ``time`` is wall time in seconds: a suite's is the spec's (load, build, analyse, check);
    a network's analysis time is shared equally by its test cases.
    """
    suites = ET.Element("testsuites", name="convcost check")
    all_rows = limit_rows(run, exact)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_seconds = 0.0
    for outcome in run.outcomes:
        source = _xml(outcome.source)
        suite = ET.SubElement(suites, "testsuite", name=source)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        seconds = _seconds(outcome.seconds)
        if outcome.error is not None:
            case = ET.SubElement(
                suite, "testcase", classname=source, name="load spec", time=seconds
            )
            message = _xml(str(outcome.error))
            error = ET.SubElement(case, "error", message=message, type="invalid spec")
            error.text = message
            counts["tests"] += 1
            counts["errors"] += 1
        if outcome.skipped:
            case = ET.SubElement(suite, "testcase", classname=source, name="budget", time=seconds)
            ET.SubElement(case, "skipped", message=_xml("; ".join(outcome.notes)))
            counts["tests"] += 1
            counts["skipped"] += 1
        spec_rows = [row for row in all_rows if row.spec == outcome.source]
        per_network = dict(outcome.network_seconds)
        checks = {name: sum(row.network == name for row in spec_rows) for name in per_network}
        for row in spec_rows:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{source}.{_xml(row.network)}",
                name=row.check,
                file=source,
                line=str(row.line),
                time=_seconds(per_network.get(row.network, 0.0) / checks.get(row.network, 1)),
            )
            counts["tests"] += 1
            if not row.status.passed:
                failure = ET.SubElement(case, "failure", message=_xml(row.message), type="budget")
                detail = [f"budget {row.budget}, actual {row.actual}, margin {row.margin}"]
                failure.text = "\n".join(map(_xml, detail + change_lines(outcome)))
                counts["failures"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", seconds)
        total_seconds += outcome.seconds
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", _seconds(total_seconds))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _result_json(result: Result) -> dict[str, Any]:
    actual = result.actual
    return {
        "network": result.report,
        "metric": result.metric.value,
        "limit": list(result.limit.value)
        if result.metric is Budgeted.RECEPTIVE_FIELD
        else result.limit.value[0],
        "actual": actual.value
        if isinstance(actual, Coverage)
        else (actual if isinstance(actual, int) else as_numbers(actual)),
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


def to_json(run: CheckRun, *, indent: int | None = None) -> str:
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
    return dumps(data, indent=indent)  # ASCII, like every JSON convcost writes


def github_annotations(run: CheckRun) -> list[str]:
    """GitHub Actions ``::error`` workflow commands for violations and invalid specs.

    Every user text is escaped (``annotation_property``, ``annotation_message``), so no name
    or path can end the command or start another on a new line.
    """
    commands = []
    for outcome in run.outcomes:
        if outcome.error is not None:
            location = outcome.error.annotated_location  # a block use: the calling line
            file = location.file if location else outcome.source
            where = f"file={annotation_property(file)}"
            if location:
                where += f",line={location.line},col={location.column}"
            message = annotation_message(str(outcome.error))
            commands.append(f"::error {where},title=convcost invalid spec::{message}")
    for row in limit_rows(run):
        if not row.status.passed:
            column = "" if row.column is None else f",col={row.column}"
            commands.append(
                f"::error file={annotation_property(row.spec)},line={row.line}{column},"
                f"title=convcost over budget::{annotation_message(row.message)}"
            )
    return commands
