"""``--convention`` on analyze, compare and explain: the peer presets' output paths.

The default (``convcost``) never reaches this module: its output stays the usual report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from convcost.cli.common import Format, draw, emit, fail, print_warnings
from convcost.conventions import convention, parse_names
from convcost.conventions.count import ConventionReport, LayerCount, count_spec
from convcost.errors import ConvcostError, SpecError
from convcost.spec import Spec


def chosen(text: str | None, *, several: bool = False) -> tuple[str, ...]:
    """The conventions ``--convention`` names (empty for none or ``convcost`` alone, the
    default path); a bad name fails with one line, exit 2."""
    if text is None:
        return ()
    try:
        names = parse_names(text, several=several)
    except ConvcostError as error:
        fail(error)
    return () if names == ("convcost",) else names


def counted_specs(
    specs: list[Spec], name: str, *, batch: int, dtype: str, variant: str | None = None
) -> list[ConventionReport]:
    rules = convention(name)
    try:
        return [
            count_spec(spec, rules, variant=chosen_variant, batch=batch, dtype=dtype)
            for spec in specs
            for chosen_variant in (
                [variant] if variant is not None else [v.name for v in spec.variants]
            )
        ]
    except ConvcostError as error:
        fail(error)


def analyze_output(
    reports: list[ConventionReport],
    format: Format,
    target: Path | None,
    *,
    exact: bool,
    indent: int | None,
) -> None:
    """``analyze --convention NAME``: each layer's count and rule, and the tool's total."""
    from convcost.conventions.data import report_json
    from convcost.render import conventions as rendering

    if format is Format.TABLE:
        draw(target, lambda console: rendering.print_counted(console, reports, exact=exact))
    elif format is Format.JSON:
        data = [report_json(counted) for counted in reports]
        emit(_json(data[0] if len(data) == 1 else data, indent), target)
    elif format is Format.CSV:
        emit(rendering.counted_csv(reports), target)
    else:
        emit(rendering.counted_markdown(reports, exact=exact), target)


def compare_output(
    specs: list[Spec],
    names: tuple[str, ...],
    format: Format,
    target: Path | None,
    *,
    batch: int,
    dtype: str,
    exact: bool,
    indent: int | None,
) -> None:
    """``compare --convention a,b,…``: per model, each convention's total and its difference
    from convcost's exact MACs split by rule family."""
    from convcost.conventions.data import side_json
    from convcost.conventions.differences import side
    from convcost.render import conventions as rendering

    per_name = [counted_specs(specs, name, batch=batch, dtype=dtype) for name in names]
    named = [
        (counted[0].report.name, [side(c) for c in counted])
        for counted in zip(*per_name, strict=True)
    ]
    if format is Format.TABLE:
        draw(target, lambda console: rendering.print_sides(console, named, exact=exact))
    elif format is Format.JSON:
        data = [
            {"name": name, "conventions": [side_json(found) for found in sides]}
            for name, sides in named
        ]
        emit(_json(data[0] if len(data) == 1 else data, indent), target)
    elif format is Format.CSV:
        emit(rendering.sides_csv(named), target)
    else:
        emit(rendering.sides_markdown(named, exact=exact), target)


def analyze_command(
    sources: list[str],
    text: str,
    load: Callable[[str], Spec],
    format: Format,
    target: Path | None,
    options: tuple[int, str, bool, int | None],
    execute: bool,
) -> bool:
    """``analyze --convention TEXT``: False when it names the default (the usual report),
    else each report counted under the convention. ``options``: batch, dtype, exact, indent."""
    batch, dtype, exact, indent = options
    names = chosen(text)
    if not names:
        return False
    if execute:
        fail(
            SpecError(
                "--convention counts as a peer tool does, --execute runs the network: use one at a time"
            )
        )
    try:
        specs = [load(source) for source in sources]
    except ConvcostError as error:
        fail(error)
    counted = counted_specs(specs, names[0], batch=batch, dtype=dtype)
    print_warnings([found.report for found in counted])
    analyze_output(counted, format, target, exact=exact, indent=indent)
    return True


def compare_command(
    sources: list[str],
    text: str,
    load: Callable[[str], Spec],
    format: Format,
    target: Path | None,
    options: tuple[int, str, bool, int | None],
) -> bool:
    """``compare --convention TEXT``: False when it names only the default (the usual
    comparison runs), else the conventions side by side. ``options``: batch, dtype, exact,
    indent."""
    batch, dtype, exact, indent = options
    names = chosen(text, several=True)
    if not names:
        return False
    try:
        specs = [load(source) for source in sources]
    except ConvcostError as error:
        fail(error)
    compare_output(
        specs, names, format, target, batch=batch, dtype=dtype, exact=exact, indent=indent
    )
    return True


def explained(
    spec: Spec, name: str, *, variant: str | None, layer: str | None
) -> list[tuple[ConventionReport, list[LayerCount]]]:
    """``explain --convention NAME``: each explained variant counted, with the layers shown
    (``layer`` and the layers inside it, as ``explain --layer``)."""
    found: list[tuple[ConventionReport, list[LayerCount]]] = []
    for counted in counted_specs([spec], name, batch=1, dtype="float32", variant=variant):
        shown = [
            item
            for item in counted.layers
            if layer is None or item.path == layer or item.path.startswith(f"{layer}.")
        ]
        if shown:
            found.append((counted, shown))
    return found


def explain_text(found: list[tuple[ConventionReport, list[LayerCount]]]) -> list[str]:
    from convcost.render import conventions as rendering

    lines: list[str] = []
    for counted, shown in found:
        lines += ["", *rendering.explain_lines(counted, shown, exact=True)]
    return lines


def explain_json(
    text: str, found: list[tuple[ConventionReport, list[LayerCount]]], indent: int | None
) -> str:
    """The explanations' JSON with a ``convention`` object: the convention and, per variant,
    each shown layer's count, convcost's MACs, the rule and its parts by family."""
    from convcost.conventions.data import convention_json

    data = json.loads(text)
    counted = found[0][0] if found else None
    data["convention"] = {
        **(convention_json(counted) if counted is not None else {}),
        "variants": [
            {
                "name": report.report.name,
                "layers": [
                    {
                        "path": item.path,
                        "kind": item.kind,
                        "count": item.value,
                        "macs": item.macs,
                        "rule": item.rule,
                        "parts": {part.family: part.value for part in item.parts},
                    }
                    for item in shown
                ],
            }
            for report, shown in found
        ],
    }
    return _json(data, indent)


def print_lines(console: Console, lines: list[str]) -> None:
    console.print(Text(""))
    for line in lines:
        console.print(Text(line))


def _json(data: object, indent: int | None) -> str:
    return json.dumps(data, indent=indent, ensure_ascii=False) + "\n"
