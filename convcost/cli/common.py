"""What every ``convcost`` command shares: the typer app, options, spec lookup, errors, output.

Every command that writes goes through :func:`emit` (text) or :func:`draw` (rich), after
checking its ``--output`` with :func:`output_target` before any work: files are replaced
atomically (:mod:`convcost.output`), standard output that is closed, full or a broken pipe
ends in one line (or silence for a broken pipe) and exit 2, and a terminal or pipe that is not
UTF-8 gets ASCII stand-ins for the few symbols convcost prints (× → x, · → *).
"""

from __future__ import annotations

import codecs
import contextlib
import enum
import errno
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer
from rich.console import Console

from convcost import zoo
from convcost.errors import ConvcostError, ExitStatus
from convcost.limits import DEFAULT_LIMITS, MAX_INT, Limits
from convcost.report import DTYPE_BYTES, Report
from convcost.spec import Spec, load_spec, read_spec_stream
from convcost.version import __version__

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="convcost",
    help="Architecture cost calculator for convolutional networks: parameters, MACs, FLOPs, "
    "activation memory and receptive field from a YAML spec.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=True,
    rich_markup_mode=None,
    context_settings=HELP_OPTIONS,
)

MAX_SEED = 2**32 - 1
"""The largest ``--seed`` (NumPy's legacy seeds are 32-bit)."""
MAX_REPEAT = 1000
"""The largest ``--repeat``: a thousand timed passes is already a benchmark."""


class Format(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


def _version(value: bool) -> None:
    if value:
        emit(f"convcost {__version__}\n", None)
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
    _degrade_to_ascii(sys.stderr)
    return Console(stderr=True, highlight=False, soft_wrap=True)


def diagnose(kind: str, text: object) -> None:
    """One line on standard error (``error: …``, ``warning: …``), control characters escaped:
    messages quote names, paths and values from the user's files."""
    from convcost.render.escape import printable

    stderr().print(f"{kind}: {printable(str(text))}", markup=False)


def fail(error: ConvcostError) -> NoReturn:
    diagnose("error", error)
    raise typer.Exit(int(error.exit_status))


# -- spec lookup -------------------------------------------------------------------------------


def resolve_spec(source: str, *, limits: Limits = DEFAULT_LIMITS) -> Spec:
    """``-`` (standard input), a spec file, or the name of a bundled model.

    A name that ends in ``.yaml``/``.yml`` or holds a path separator is a file, and only a
    file; any other name is a bundled model (write ``./name`` for a file without a suffix).
    """
    if source == "-":
        if sys.stdin is None:
            raise ConvcostError("standard input is closed")
        return read_spec_stream(sys.stdin.buffer, source="<stdin>", limits=limits)
    if source.endswith((".yaml", ".yml")) or "/" in source or os.sep in source:
        path = Path(source)
        if not os.path.lexists(path):  # lexists: never raises (a name too long is "missing")
            bundled = zoo.find(path.stem) if path.name == source else None
            hint = f" (the bundled model is named {path.stem})" if bundled else ""
            raise ConvcostError(f"no such spec file: {_printable(source)}{hint}")
        return load_spec(path, limits=limits)  # a Path: text with a newline is still a name
    if source == "":
        raise ConvcostError("no spec file '': the name is empty")
    bundled = zoo.find(source)
    if bundled is None:
        raise ConvcostError(
            f"no spec file {_printable(source)!r} and no bundled model of that name; "
            f"bundled: {', '.join(zoo.names())} (a file name ends in .yaml or .yml, or holds a /)"
        )
    return load_spec(bundled, limits=limits)


def _printable(text: str) -> str:
    """A name or path from the command line as a message quotes it: escaped, and cut past
    200 characters so that the message stays one readable line."""
    from convcost.render.escape import printable

    if len(text) > 200:
        return f"{printable(text[:180])}… ({len(text)} characters)"
    return printable(text)


def print_warnings(reports: list[Report]) -> None:
    for report in reports:
        for warning in report.warnings:
            diagnose("warning", warning)


# -- output --------------------------------------------------------------------------------------


def output_target(output: str | Path | None, *, inputs: Sequence[str] = ()) -> Path | None:
    """Check ``--output`` (or standard output when None) before any work; fail in one line.

    ``inputs`` are the command's spec arguments: writing over one of them is refused.
    """
    if output is None:
        if sys.stdout is None:
            fail(ConvcostError("standard output is closed"))
        return None
    from convcost.output import check_writable

    try:
        path = check_writable(str(output))
    except ConvcostError as error:
        fail(error)
    for source in inputs:
        with contextlib.suppress(OSError):
            if path.exists() and os.path.samefile(path, source):
                fail(
                    ConvcostError(
                        f"--output {_printable(str(output))}: is the spec "
                        f"{_printable(source)}; write the report to another file"
                    )
                )
    return path


def emit(text: str, output: str | Path | None) -> None:
    """Write ``text`` to standard output, or atomically to the file ``output``."""
    with _stream(output) as stream:
        stream.write(text)


def draw(
    output: str | Path | None,
    paint: Callable[[Console], None],
    *,
    width: int | None = None,
    soft_wrap: bool = False,
) -> None:
    """Render with rich to standard output (``width``: None follows the terminal), or to
    ``output`` as plain text 120 columns wide."""
    with _stream(output) as stream:
        if output is None:
            paint(Console(file=stream, highlight=False, width=width, soft_wrap=soft_wrap))
        else:
            paint(Console(file=stream, width=120, color_system=None, soft_wrap=soft_wrap))


@contextlib.contextmanager
def _stream(output: str | Path | None) -> Iterator[TextIO]:
    if output is not None:
        from convcost.output import replace_atomically

        path = output_target(output)
        assert path is not None
        try:
            with replace_atomically(path) as handle:
                yield handle
        except ConvcostError as error:
            fail(error)
        return
    stream = sys.stdout
    if stream is None:
        fail(ConvcostError("standard output is closed"))
    _degrade_to_ascii(stream)
    try:
        yield stream
        stream.flush()
    except OSError as exc:
        _stdout_failed(stream, exc)


def _stdout_failed(stream: TextIO, exc: OSError) -> NoReturn:
    """Standard output failed: a broken pipe ends silently, anything else in one line; both
    exit 2."""
    _silence(stream)
    if exc.errno == errno.EPIPE:
        raise typer.Exit(int(ExitStatus.INVALID_INPUT))
    fail(ConvcostError(f"cannot write to standard output: {exc.strerror}"))


def _silence(stream: TextIO) -> None:
    """Send what is still buffered for ``stream`` to /dev/null, so that the flush at exit
    does not fail a second time (and print "Exception ignored")."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


_ASCII = {
    # one character for one where tables use them, so that columns stay aligned
    "×": "x",
    "·": "*",
    "…": ".",
    "—": "-",
    "–": "-",
    "−": "-",
    "→": "->",
    "←": "<-",
    "≤": "<=",
    "≥": ">=",
    "≈": "~",
    "±": "+-",
    "√": "sqrt",
    "²": "^2",
    "³": "^3",
    "⌈": "ceil(",
    "⌉": ")",
    "⌊": "floor(",
    "⌋": ")",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "━": "-",
    "─": "-",
    "│": "|",
}


def _ascii_fallback(error: UnicodeError) -> tuple[str, int]:
    """Stand-ins for what an output encoding cannot hold: ASCII look-alikes for convcost's own
    symbols, ``\\uXXXX`` for anything else (valid inside a JSON string, too)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    parts = []
    for char in error.object[error.start : error.end]:
        if char in _ASCII:
            parts.append(_ASCII[char])
        else:
            code = ord(char)
            if code > 0xFFFF:  # a surrogate pair, as JSON writes it
                code -= 0x10000
                parts.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                parts.append(f"\\u{code:04x}")
    return "".join(parts), error.end


codecs.register_error("convcost-ascii", _ascii_fallback)


def _degrade_to_ascii(stream: TextIO | None) -> None:
    """On a stream whose encoding is not UTF-8, write stand-ins instead of failing."""
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
    if stream is None or encoding in ("utf-8", "utf8"):
        return
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and getattr(stream, "errors", None) != "convcost-ascii":
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="convcost-ascii")


# -- options ---------------------------------------------------------------------------------------

SpecsArgument = Annotated[
    list[str],
    typer.Argument(
        help="Spec files (YAML; - reads standard input), or names of bundled models "
        "(see `convcost zoo`).",
        show_default=False,
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to this file instead of standard output (replaced only once complete).",
    ),
]
BatchOption = Annotated[
    int,
    typer.Option(
        min=1, max=MAX_INT, help="Batch size: multiplies MACs, FLOPs, ops and activations."
    ),
]
DTypeOption = Annotated[
    str, typer.Option(help=f"Element type for activation bytes: {', '.join(DTYPE_BYTES)}.")
]
DepthOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=MAX_INT,
        help="Collapse layers nested deeper than this into their block's row.",
    ),
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
SeedOption = Annotated[
    int,
    typer.Option(
        min=0, max=MAX_SEED, help="--execute: seed of the random input and weights (0 to 2**32-1)."
    ),
]
RepeatOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=MAX_REPEAT,
        help="--execute: time this many forward passes (at most 1000) and report medians "
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
MaxLayersOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=MAX_INT,
        help="Refuse (exit 4) a spec that expands to more layers than this.",
    ),
]


def limits(max_layers: int) -> Limits:
    """The bounds for ``--max-layers``."""
    return replace(DEFAULT_LIMITS, max_layers=max_layers)


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


# -- entry point -----------------------------------------------------------------------------------


def main() -> NoReturn:
    """Console-script entry point (via :func:`convcost.__main__.main`): no traceback for a
    user error, Ctrl-C (exit 130), memory exhaustion (exit 4) or a failing standard output
    (exit 2; silent for a broken pipe)."""
    _degrade_to_ascii(sys.stdout)
    _degrade_to_ascii(sys.stderr)
    try:
        try:
            status = _run()
            if status == 130:  # typer turns Ctrl-C during a command into exit 130
                interrupted()
            sys.exit(status)
        finally:
            if sys.stdout is not None:
                sys.stdout.flush()
    except SystemExit as exit:
        if _caused_by(exit, KeyboardInterrupt):
            interrupted()
        if _caused_by(
            exit, BrokenPipeError
        ):  # typer's own handler exits 1: that means "over budget"
            sys.exit(int(ExitStatus.INVALID_INPUT))
        raise
    except KeyboardInterrupt:
        interrupted()
    except ConvcostError as error:
        _say(f"error: {error}")
        sys.exit(int(error.exit_status))
    except MemoryError:
        _say("error: out of memory")
        sys.exit(int(ExitStatus.RESOURCE_LIMIT))
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRORS:
            raise
        if sys.stdout is not None:
            _silence(sys.stdout)
        if exc.errno != errno.EPIPE:
            _say(f"error: cannot write to standard output: {exc.strerror}")
        sys.exit(int(ExitStatus.INVALID_INPUT))


def _run() -> int:
    """Run the app; its exit status. A usage error (an unknown option, a bad value) is one line
    naming the command, not click's usage block: every error convcost prints is one line."""
    # typer vendors click (and older typers use click itself): its classes via typer's own
    click_error = _click_class("ClickException")
    usage_error = _click_class("UsageError")
    try:
        status = app(prog_name="convcost", standalone_mode=False)
    except usage_error as error:
        context = getattr(error, "ctx", None)
        if context is None or type(error).__name__ == "NoArgsIsHelpError":
            error.show()  # `convcost` alone prints the help
            return int(ExitStatus.INVALID_INPUT)
        from convcost.render.escape import printable

        command = context.command_path
        message = printable(" ".join(error.format_message().split()))
        _say(f"error: {command}: {message} (see '{command} -h')")
        return int(ExitStatus.INVALID_INPUT)
    except click_error as error:
        _say(f"error: {error}")
        return int(ExitStatus.INVALID_INPUT)
    except typer.Abort:
        interrupted()
    return status if isinstance(status, int) else int(ExitStatus.OK)


def _click_class(name: str) -> Any:  # a click exception class: Any, as click is not typed here
    return next(kind for kind in typer.BadParameter.__mro__ if kind.__name__ == name)


_OUTPUT_ERRORS = (errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EBADF)
"""The errors of a failing standard output (help text, the flush at the end)."""


def _caused_by(exit: SystemExit, kind: type[BaseException]) -> bool:
    """Whether typer turned an exception of this kind into this exit."""
    cause: BaseException | None = exit
    while cause is not None:
        if isinstance(cause, kind):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def interrupted() -> NoReturn:
    _say("error: interrupted")
    sys.exit(130)


def _say(line: str) -> None:
    if sys.stderr is not None:
        with contextlib.suppress(OSError):
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
