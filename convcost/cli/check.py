"""``convcost check`` (budgets in CI) and ``convcost schema``."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from convcost.cli.common import (
    BatchOption,
    DTypeOption,
    ExactOption,
    OutputOption,
    app,
    check_dtype,
    draw,
    emit,
    fail,
    resolve_spec,
    stderr,
)
from convcost.errors import ConvcostError


class CheckFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    JUNIT = "junit"


def _limit_option(metric: str, what: str, metavar: str = "N") -> Any:
    return typer.Option(f"--{metric}", help=what, show_default=False, metavar=metavar)


@app.command("check")
def check_command(
    specs: Annotated[
        list[str],
        typer.Argument(
            help="Spec files, globs ('models/**/*.yaml'), directories (their *.yaml) or bundled model names."
        ),
    ],
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.TABLE,
    output: OutputOption = None,
    max_params: Annotated[
        str | None, _limit_option("max-params", "Maximum parameters: 5M, 1.2G, 250000.")
    ] = None,
    max_macs: Annotated[str | None, _limit_option("max-macs", "Maximum MACs: 600M.")] = None,
    max_flops: Annotated[str | None, _limit_option("max-flops", "Maximum FLOPs: 1.2G.")] = None,
    max_activation_memory: Annotated[
        str | None,
        _limit_option(
            "max-activation-memory", "Maximum sum of layer outputs: 64MiB, 100MB.", "BYTES"
        ),
    ] = None,
    max_peak_memory: Annotated[
        str | None,
        _limit_option("max-peak-memory", "Maximum peak inference memory: 32MiB.", "BYTES"),
    ] = None,
    min_receptive_field: Annotated[
        str | None,
        _limit_option("min-receptive-field", "Minimum receptive field: 224, or 224x224 per axis."),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="A `convcost analyze --format json` output to compare against.", metavar="FILE"
        ),
    ] = None,
    max_growth: Annotated[
        str,
        typer.Option(
            help="Allowed growth of params, MACs and peak memory over --baseline.", metavar="PCT"
        ),
    ] = "0%",
    batch: BatchOption = 1,
    dtype: DTypeOption = "float32",
    exact: ExactOption = False,
) -> None:
    """Check specs against their budgets: exit 0 within, 1 exceeded, 2 invalid.

    Limits come from the spec's `budget:` (and a variant's own), overridden by the flags.
    Specs found in a directory that have no budget are skipped; a spec named explicitly
    without a budget is an error. Under GITHUB_ACTIONS=true, violations are also printed as
    ::error annotations (on standard error).

    Example:

        convcost check specs/

        convcost check net.yaml --max-params 5M --max-peak-memory 32MiB -f markdown

        convcost check net.yaml --baseline baseline.json --max-growth 2%
    """
    from convcost import check as checking
    from convcost.baseline import load_baseline
    from convcost.budget import Budget, Metric, limit_from_text
    from convcost.render import check as render
    from convcost.units import UnitError, parse_percent

    check_dtype(dtype)
    flags = {
        Metric.PARAMS: max_params,
        Metric.MACS: max_macs,
        Metric.FLOPS: max_flops,
        Metric.ACTIVATION_MEMORY: max_activation_memory,
        Metric.PEAK_MEMORY: max_peak_memory,
        Metric.RECEPTIVE_FIELD: min_receptive_field,
    }
    limits = []
    for metric, text in flags.items():
        if text is None:
            continue
        try:
            limits.append(limit_from_text(metric, text))
        except UnitError as exc:
            raise typer.BadParameter(str(exc), param_hint=metric.flag) from None
    try:
        growth = parse_percent(max_growth)
    except UnitError as exc:
        raise typer.BadParameter(str(exc), param_hint="--max-growth") from None
    try:
        baselines = load_baseline(baseline) if baseline is not None else None
    except ConvcostError as error:
        fail(error)
    options = checking.Options(
        flags=Budget(tuple(limits)), batch=batch, dtype=dtype, baseline=baselines, max_growth=growth
    )
    run = checking.check(checking.expand(specs), resolve_spec, options)
    console = stderr()
    for outcome in run.outcomes:
        if outcome.error is not None:
            console.print(f"error: {outcome.error}", markup=False)
        for note in outcome.notes:
            console.print(f"note: {outcome.source}: {note}", markup=False)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for command in render.github_annotations(run):
            console.print(command, markup=False)
    if format is CheckFormat.TABLE:
        draw(output, lambda console: render.print_table(console, run, exact=exact))
    elif format is CheckFormat.JSON:
        emit(render.to_json(run), output)
    elif format is CheckFormat.MARKDOWN:
        emit(render.to_markdown(run, exact=exact), output)
    else:
        emit(render.to_junit(run, exact=exact), output)
    raise typer.Exit(int(run.exit_status))


@app.command("schema")
def schema_command(output: OutputOption = None) -> None:
    """Print the JSON Schema of the spec format, for editor completion and validation.

    Example:

        convcost schema -o convcost.schema.json
    """
    import json

    from convcost.schema import spec_schema

    emit(json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n", output)
