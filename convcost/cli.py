"""The ``convcost`` command: parse arguments, call the library, render, pick an exit code."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated, NoReturn

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

    if dtype not in DTYPE_BYTES:
        raise typer.BadParameter(
            f"{dtype!r} is not one of {', '.join(DTYPE_BYTES)}", param_hint="--dtype"
        )
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
    from convcost.execution import parse_size
    from convcost.executor import EXECUTE_DTYPES, execute_all
    from convcost.render import execution, formats

    if dtype not in EXECUTE_DTYPES:
        raise typer.BadParameter(
            f"--execute runs in {' or '.join(EXECUTE_DTYPES)} only, got {dtype!r}",
            param_hint="--dtype",
        )
    try:
        limit = None if max_memory is None else parse_size(max_memory)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--max-memory") from None
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


def _bundled(name: str) -> Report:
    path = zoo.find(name)
    assert path is not None, name
    return analyze_all(load_spec(path))[0]


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["ExitStatus", "app", "main"]
