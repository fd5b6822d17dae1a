"""The ``convcost`` command: parse arguments, call the library, render, pick an exit code."""

from __future__ import annotations

import enum
import functools
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from convcost import zoo
from convcost.engine import analyze_all
from convcost.errors import ConvcostError, ExitStatus
from convcost.report import DTYPE_BYTES, Report
from convcost.spec import Spec, load_spec
from convcost.version import __version__

app = typer.Typer(
    name="convcost",
    help="Architecture cost calculator for convolutional networks: parameters, MACs, FLOPs, "
    "activation memory and receptive field from a YAML spec.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)

DType = enum.Enum("DType", {name: name for name in DTYPE_BYTES}, type=str)  # type: ignore[misc]


class Format(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"convcost {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Architecture cost calculator for convolutional networks."""


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(error: ConvcostError) -> NoReturn:
    stderr().print(f"error: {error}", markup=False)
    raise typer.Exit(int(error.exit_status))


def resolve_spec(source: str) -> Spec:
    """A spec file, or the name of a bundled model when no such file exists."""
    path = Path(source)
    if not path.exists():
        bundled = zoo.find(source)
        if bundled is not None:
            return load_spec(bundled)
        if path.suffix not in (".yaml", ".yml") and "/" not in source:
            raise ConvcostError(
                f"no spec file {source!r} and no bundled model of that name; bundled: {', '.join(zoo.names())}"
            )
    return load_spec(path)


def print_warnings(reports: list[Report]) -> None:
    console = stderr()
    for report in reports:
        for warning in report.warnings:
            console.print(f"warning: {warning}", markup=False)


def emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


SpecsArgument = Annotated[
    list[str],
    typer.Argument(help="Spec files (YAML), or names of bundled models (see `convcost zoo`)."),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file instead of standard output."),
]
BatchOption = Annotated[
    int, typer.Option(min=1, help="Batch size: multiplies MACs, FLOPs, ops and activations.")
]
DTypeOption = Annotated[
    str, typer.Option(help=f"Element type for activation bytes: {', '.join(DTYPE_BYTES)}.")
]
DepthOption = Annotated[
    int | None,
    typer.Option(min=1, help="Collapse layers nested deeper than this into their block's row."),
]
ExactOption = Annotated[bool, typer.Option("--exact", help="Print raw integers instead of 1.2 M.")]
ExecuteOption = Annotated[
    bool,
    typer.Option(
        "--execute",
        help="Also run the network on random NumPy tensors (float32 or float64), confirm every "
        "predicted shape, and measure time and GFLOP/s per layer.",
    ),
]
SeedOption = Annotated[int, typer.Option(help="--execute: seed of the random input and weights.")]
RepeatOption = Annotated[
    int,
    typer.Option(
        min=1,
        help="--execute: time this many forward passes and report medians "
        "(the first pass also pays one-time costs).",
    ),
]
MaxMemoryOption = Annotated[
    str | None,
    typer.Option(
        help="--execute: refuse to run above this estimated peak memory, e.g. 2GiB "
        "[default: half the available RAM]."
    ),
]


def _check_dtype(dtype: str) -> None:
    if dtype not in DTYPE_BYTES:
        raise typer.BadParameter(
            f"{dtype!r} is not one of {', '.join(DTYPE_BYTES)}", param_hint="--dtype"
        )


@app.command()
def analyze(
    specs: SpecsArgument,
    format: FormatOption = Format.TABLE,
    output: OutputOption = None,
    batch: BatchOption = 1,
    dtype: DTypeOption = "float32",
    depth: DepthOption = None,
    exact: ExactOption = False,
    execute: ExecuteOption = False,
    seed: SeedOption = 0,
    max_memory: MaxMemoryOption = None,
    repeat: RepeatOption = 1,
) -> None:
    """Report parameters, MACs, FLOPs, activations and receptive field, per layer and in total.

    Example:

        convcost analyze specs/googlenet-5x5-bottleneck.yaml

        convcost analyze resnet50 --depth 1 --format json -o resnet50.json

        convcost analyze resnet50 --execute --batch 2
    """
    from convcost.render import formats

    _check_dtype(dtype)
    if execute:
        _analyze_executed(
            specs, format, output, batch, dtype, depth, exact, seed, max_memory, repeat
        )
        return
    try:
        reports = [
            report
            for source in specs
            for report in analyze_all(resolve_spec(source), batch=batch, dtype=dtype)
        ]
    except ConvcostError as error:
        fail(error)
    print_warnings(reports)
    if format is Format.TABLE:
        from convcost.render.table import print_reports

        if output is None:
            print_reports(Console(highlight=False), reports, depth=depth, exact=exact)
        else:
            with output.open("w", encoding="utf-8") as handle:
                print_reports(
                    Console(file=handle, width=120, color_system=None),
                    reports,
                    depth=depth,
                    exact=exact,
                )
    elif format is Format.JSON:
        emit(formats.to_json(reports), output)
    elif format is Format.CSV:
        emit(formats.to_csv(reports, depth=depth), output)
    else:
        emit(formats.to_markdown(reports, depth=depth, exact=exact), output)


def _execution_limit(dtype: str, max_memory: str | None) -> int | None:
    """Check ``--dtype`` for ``--execute`` and read ``--max-memory`` (bytes; None: default)."""
    from convcost.executor import EXECUTE_DTYPES
    from convcost.units import UnitError, parse_bytes

    if dtype not in EXECUTE_DTYPES:
        raise typer.BadParameter(
            f"--execute runs in {' or '.join(EXECUTE_DTYPES)} only, got {dtype!r}",
            param_hint="--dtype",
        )
    try:
        return None if max_memory is None else parse_bytes(max_memory)
    except UnitError as error:
        raise typer.BadParameter(str(error), param_hint="--max-memory") from None


def _analyze_executed(
    specs: list[str],
    format: Format,
    output: Path | None,
    batch: int,
    dtype: str,
    depth: int | None,
    exact: bool,
    seed: int,
    max_memory: str | None,
    repeat: int,
) -> None:
    """``analyze --execute``: numpy is imported here only."""
    from convcost.executor import execute_all
    from convcost.render import execution, formats

    limit = _execution_limit(dtype, max_memory)
    try:
        with execution.progress_bar(stderr()) as progress:
            results = [
                result
                for source in specs
                for result in execute_all(
                    resolve_spec(source),
                    batch=batch,
                    dtype=dtype,
                    seed=seed,
                    max_memory=limit,
                    progress=progress,
                    repeat=repeat,
                )
            ]
    except ConvcostError as error:
        fail(error)
    reports = [result.report for result in results]
    print_warnings(reports)
    if format is Format.TABLE:
        # the timing columns need ~110 columns: pipes get 120 rather than rich's 80
        if output is None:
            console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
            execution.print_executed(console, results, depth=depth, exact=exact)
        else:
            with output.open("w", encoding="utf-8") as handle:
                console = Console(file=handle, width=120, color_system=None)
                execution.print_executed(console, results, depth=depth, exact=exact)
    elif format is Format.JSON:
        emit(execution.to_json(results), output)
    elif format is Format.CSV:
        emit(formats.to_csv(reports, depth=depth), output)
    else:
        emit(formats.to_markdown(reports, depth=depth, exact=exact), output)


@app.command("zoo")
def zoo_command(
    format: FormatOption = Format.TABLE,
    exact: ExactOption = False,
) -> None:
    """List the bundled models with their totals; analyze one by name.

    Example:

        convcost zoo

        convcost analyze resnet50 --depth 1
    """
    from convcost.render import formats

    try:
        reports = [_bundled(name) for name in zoo.names()]
    except ConvcostError as error:
        fail(error)
    if format is Format.TABLE:
        from convcost.render.table import zoo_table

        Console(highlight=False).print(zoo_table(reports, exact=exact))
    elif format is Format.JSON:
        emit(formats.to_json(reports), None)
    elif format is Format.CSV:
        emit(formats.totals_csv(reports), None)
    else:
        emit(formats.totals_markdown(reports, exact=exact), None)


InputOption = Annotated[
    list[str] | None,
    typer.Option(
        "--input",
        help="Analyze at this input shape instead of the spec's (CxHxW, e.g. 3x224x224); "
        "repeat it for one column per input size.",
    ),
]


@app.command()
def compare(
    specs: SpecsArgument,
    baseline: Annotated[
        str | None,
        typer.Option(help="The column the ratios are relative to (default: the first)."),
    ] = None,
    format: FormatOption = Format.TABLE,
    output: OutputOption = None,
    batch: BatchOption = 1,
    dtype: DTypeOption = "float32",
    exact: ExactOption = False,
    per_layer: Annotated[
        bool,
        typer.Option(
            "--per-layer",
            help="Also the layer tables, and a delta view of the layer paths variants share.",
        ),
    ] = False,
    input: InputOption = None,
    execute: ExecuteOption = False,
    seed: SeedOption = 0,
    max_memory: MaxMemoryOption = None,
    repeat: RepeatOption = 1,
) -> None:
    """Compare the variants of one spec, or several specs, side by side with ratios to a baseline.

    Example:

        convcost compare specs/googlenet-5x5-branch.yaml

        convcost compare a.yaml b.yaml --baseline b --format markdown

        convcost compare resnet50 --input 3x224x224 --input 3x320x320
    """
    from convcost import compare as comparing
    from convcost.render import comparison_formats

    _check_dtype(dtype)
    limit = _execution_limit(dtype, max_memory) if execute else None
    try:
        shapes = [comparing.parse_input(text) for text in input or ()]
        loaded = [resolve_spec(source) for source in specs]
        with ExitStack() as stack:
            run = None
            if execute:
                from convcost.executor import execute as executing
                from convcost.render.execution import progress_bar

                progress = stack.enter_context(progress_bar(stderr()))
                run = functools.partial(
                    executing,
                    batch=batch,
                    dtype=dtype,
                    seed=seed,
                    max_memory=limit,
                    progress=progress,
                    repeat=repeat,
                )
            entries = comparing.collect(loaded, inputs=shapes, batch=batch, dtype=dtype, run=run)
        result = comparing.compare(entries, baseline=baseline)
    except ConvcostError as error:
        fail(error)
    print_warnings([entry.report for entry in entries])
    console = stderr()
    for warning in result.warnings:
        console.print(f"warning: {warning}", markup=False)
    show_coverage = bool(input)
    if format is Format.TABLE:
        from convcost.render.comparison import print_comparison

        def draw(target: Console) -> None:
            print_comparison(
                target,
                result,
                exact=exact,
                per_layer=per_layer,
                show_coverage=show_coverage,
                name=loaded[0].name if len(loaded) == 1 else None,
            )

        if output is None:
            draw(Console(highlight=False))
        else:
            with output.open("w", encoding="utf-8") as handle:
                draw(Console(file=handle, width=120, color_system=None))
    elif format is Format.JSON:
        emit(comparison_formats.comparison_json(result, per_layer=per_layer), output)
    elif format is Format.CSV:
        if per_layer:
            from convcost.render import formats

            emit(formats.to_csv(comparison_formats.renamed(result.entries)), output)
        else:
            emit(comparison_formats.comparison_csv(result), output)
    else:
        text = comparison_formats.comparison_markdown(
            result, exact=exact, show_coverage=show_coverage
        )
        if per_layer:
            from convcost.render import formats

            layers = formats.to_markdown(comparison_formats.renamed(result.entries), exact=exact)
            text = f"{layers}\n{text}"
        emit(text, output)


@app.command()
def explain(
    spec: Annotated[str, typer.Argument(help="A spec file (YAML), or a bundled model's name.")],
    layer: Annotated[
        str | None,
        typer.Option(help="Only this layer (a path such as conv1, or a block's path)."),
    ] = None,
    variant: Annotated[
        str | None, typer.Option(help="Only this variant of a `variants:` spec.")
    ] = None,
) -> None:
    """Show each layer's formulas with its numbers substituted: output size, parameters, MACs,
    ops, receptive field and jump.

    Example:

        convcost explain specs/googlenet-5x5-branch.yaml --variant direct

        convcost explain specs/separable-vs-standard.yaml --layer separable1
    """
    from convcost.explain import explain as explaining
    from convcost.render.explain import print_explanations

    try:
        explanations = explaining(resolve_spec(spec), variant=variant, layer=layer)
    except ConvcostError as error:
        fail(error)
    print_explanations(Console(highlight=False, soft_wrap=True), explanations)


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

    if dtype not in DTYPE_BYTES:
        raise typer.BadParameter(
            f"{dtype!r} is not one of {', '.join(DTYPE_BYTES)}", param_hint="--dtype"
        )
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
        if output is None:
            render.print_table(Console(highlight=False), run, exact=exact)
        else:
            with output.open("w", encoding="utf-8") as handle:
                render.print_table(
                    Console(file=handle, width=120, color_system=None), run, exact=exact
                )
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


def _bundled(name: str) -> Report:
    path = zoo.find(name)
    assert path is not None, name
    return analyze_all(load_spec(path))[0]


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["ExitStatus", "app", "main"]
