"""Peer conventions on the terminal, in Markdown and CSV: a report's layers counted under one
convention (``analyze --convention``), several conventions' totals side by side
(``compare --convention a,b``) and a layer's rule next to convcost's count (``explain``)."""

from __future__ import annotations

import csv
import io

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from convcost.conventions.count import ConventionReport, LayerCount
from convcost.conventions.differences import Side, shown_families
from convcost.render import numbers
from convcost.render.escape import printable


def _value(value: int | None, *, exact: bool) -> str:
    return "not reproduced" if value is None else numbers.count(value, exact=exact)


def _signed(value: int, *, exact: bool) -> str:
    text = numbers.count(abs(value), exact=exact)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else "0"


def title(counted: ConventionReport) -> str:
    convention = counted.convention
    return (
        f"{counted.report.name} under the {convention.name} convention "
        f"({convention.tool}: {convention.figure})"
    )


def total_line(counted: ConventionReport, *, exact: bool) -> str:
    convention = counted.convention
    macs = counted.report.totals.macs
    line = (
        f"{convention.name} total: {numbers.count(counted.total, exact=exact)} "
        f"{convention.unit} (convcost, exact: {numbers.count(macs, exact=exact)} MACs)"
    )
    if counted.unsupported:
        line += f"; {len(counted.unsupported)} layer(s) not reproduced, left out: " + ", ".join(
            layer.path for layer in counted.unsupported
        )
    return line


def legend(counted: ConventionReport) -> list[tuple[str, str, str]]:
    """Each distinct rule once, in order of first use: its label (``r1``, ``r2``, …), the
    kinds it counted here and its text."""
    labels: dict[str, int] = {}
    kinds: dict[str, list[str]] = {}
    for layer in counted.layers:
        if layer.rule not in labels:
            labels[layer.rule] = len(labels) + 1
            kinds[layer.rule] = []
        if layer.kind not in kinds[layer.rule]:
            kinds[layer.rule].append(layer.kind)
    return [(f"r{labels[rule]}", ", ".join(kinds[rule]), rule) for rule in labels]


def layer_table(counted: ConventionReport, *, exact: bool) -> Table:
    """One row per layer: convcost's MACs, the convention's count and the label of the rule
    that produced it (:func:`legend` prints the rules under the table)."""
    convention = counted.convention
    label = {text: name for name, _, text in legend(counted)}
    table = Table(title=Text(printable(title(counted))), box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("layer", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("convcost MACs", justify="right", no_wrap=True)
    table.add_column(f"{convention.name} {convention.unit}", justify="right", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    for layer in counted.layers:
        table.add_row(
            Text(printable(layer.path)),
            Text(printable(layer.kind)),
            numbers.count(layer.macs, exact=exact),
            _value(layer.value, exact=exact),
            label[layer.rule],
        )
    return table


def print_counted(console: Console, reports: list[ConventionReport], *, exact: bool) -> None:
    for counted in reports:
        console.print(layer_table(counted, exact=exact))
        console.print(Text(total_line(counted, exact=exact)))
        console.print(Text("rules:"))
        for name, kinds, text in legend(counted):
            console.print(Text(f"  {name} ({printable(kinds)}): {text}"))
        console.print(Text(""))


def counted_markdown(reports: list[ConventionReport], *, exact: bool) -> str:
    lines: list[str] = []
    for counted in reports:
        convention = counted.convention
        lines += [
            f"### {_cell(title(counted))}",
            "",
            f"| layer | kind | convcost MACs | {convention.name} {convention.unit} | rule |",
            "|---|---|---:|---:|---|",
        ]
        lines += [
            f"| {_cell(layer.path)} | {_cell(layer.kind)} | {numbers.count(layer.macs, exact=exact)} "
            f"| {_value(layer.value, exact=exact)} | {_cell(layer.rule)} |"
            for layer in counted.layers
        ]
        lines += ["", total_line(counted, exact=exact), ""]
    return "\n".join(lines)


def counted_csv(reports: list[ConventionReport]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", "convention", "path", "kind", "convcost_macs", "count", "rule"])
    for counted in reports:
        for layer in counted.layers:
            writer.writerow(
                [
                    counted.report.name,
                    counted.convention.name,
                    layer.path,
                    layer.kind,
                    layer.macs,
                    "" if layer.value is None else layer.value,
                    layer.rule,
                ]
            )
    return out.getvalue()


def sides_table(name: str, sides: list[Side], *, exact: bool) -> Table:
    """One column per convention: its total, its difference from convcost's exact MACs (in
    its unit), and one row per rule family splitting that difference."""
    families = shown_families(sides)
    table = Table(
        title=Text.assemble((printable(name), "bold"), "  conventions side by side"),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("", no_wrap=True)
    for found in sides:
        table.add_column(found.name, justify="right", no_wrap=True)
    table.add_row("total", *(numbers.count(found.total, exact=exact) for found in sides))
    table.add_row(
        "unit", *(found.unit + (", exact" if found.name == "convcost" else "") for found in sides)
    )
    table.add_row("− exact", *(_signed(found.difference, exact=exact) for found in sides))
    for family in families:
        table.add_row(
            Text(f"  {family}"),
            *(_signed(found.families.get(family, 0), exact=exact) for found in sides),
        )
    return table


def sides_notes(sides: list[Side]) -> list[str]:
    notes = [
        "− exact: the total minus convcost's exact MACs in the same unit (2 × MACs for "
        "FLOPs); the per-family figures split that difference by the family of the rule that "
        "made it."
    ]
    notes += [
        f"{found.name}: not reproduced, left out: {', '.join(found.unsupported)}"
        for found in sides
        if found.unsupported
    ]
    return notes


def print_sides(console: Console, named: list[tuple[str, list[Side]]], *, exact: bool) -> None:
    for name, sides in named:
        console.print(sides_table(name, sides, exact=exact))
        for note in sides_notes(sides):
            console.print(Text(note))
        console.print(Text(""))


def sides_markdown(named: list[tuple[str, list[Side]]], *, exact: bool) -> str:
    lines: list[str] = []
    for name, sides in named:
        families = shown_families(sides)
        header = ["convention", "total", "unit", "− exact", *families]
        lines += [
            f"### {_cell(name)}",
            "",
            "| " + " | ".join(header) + " |",
            "|---|---:|---|" + "---:|" * (1 + len(families)),
        ]
        for found in sides:
            label = f"{found.name} (exact)" if found.name == "convcost" else found.name
            cells = [
                label,
                numbers.count(found.total, exact=exact),
                found.unit,
                _signed(found.difference, exact=exact),
                *(_signed(found.families.get(family, 0), exact=exact) for family in families),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", *sides_notes(sides), ""]
    return "\n".join(lines)


def sides_csv(named: list[tuple[str, list[Side]]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    families = shown_families([found for _, sides in named for found in sides])
    writer.writerow(["model", "convention", "unit", "total", "difference", *families])
    for name, sides in named:
        for found in sides:
            writer.writerow(
                [
                    name,
                    found.name,
                    found.unit,
                    found.total,
                    found.difference,
                    *(found.families.get(family, 0) for family in families),
                ]
            )
    return out.getvalue()


def explain_lines(counted: ConventionReport, layers: list[LayerCount], *, exact: bool) -> list[str]:
    """Each explained layer's rule under the convention, with its count next to convcost's."""
    convention = counted.convention
    lines = [f"under the {convention.name} convention ({convention.tool}, {convention.unit}):"]
    for layer in layers:
        if layer.value is None:
            lines.append(f"  {layer.path} ({layer.kind}): not reproduced: {layer.rule}")
            continue
        lines.append(
            f"  {layer.path} ({layer.kind}): {convention.name} {_value(layer.value, exact=exact)}"
            f" vs convcost {numbers.count(layer.macs, exact=exact)} MACs "
            f"({_signed(layer.value - layer.macs, exact=exact)})"
        )
        lines.append(f"    rule: {layer.rule}")
        lines += [f"    {part.family}: {_signed(part.value, exact=True)}" for part in layer.parts]
    return lines


def _cell(text: str) -> str:
    return printable(text).replace("|", "\\|")
