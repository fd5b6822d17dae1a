"""What every ``convcost`` command shares: the typer app, options, spec lookup, errors, output."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from convcost import zoo
from convcost.errors import ConvcostError
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


def check_dtype(dtype: str) -> None:
    if dtype not in DTYPE_BYTES:
        raise typer.BadParameter(
            f"{dtype!r} is not one of {', '.join(DTYPE_BYTES)}", param_hint="--dtype"
        )


def execution_limit(dtype: str, max_memory: str | None) -> int | None:
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


def draw(
    output: Path | None, paint: Callable[[Console], None], *, width: int | None = None
) -> None:
    """Render with rich to standard output (``width``: None follows the terminal), or to
    ``output`` as plain text 120 columns wide."""
    if output is None:
        paint(Console(highlight=False, width=width))
    else:
        with output.open("w", encoding="utf-8") as handle:
            paint(Console(file=handle, width=120, color_system=None))


def main() -> None:
    """Console-script entry point."""
    app()
