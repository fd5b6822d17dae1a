"""What every ``convcost`` command shares: options, spec lookup, errors, output.

Every command that writes goes through :func:`emit` (text) or :func:`draw` (rich), after
checking its ``--output`` with :func:`output_target` before any work: files are replaced
atomically (:mod:`convcost.output`), standard output that is closed, full or a broken pipe
ends in one line (or silence for a broken pipe) and exit 2, and a terminal or pipe that is not
UTF-8 gets ASCII stand-ins for the few symbols convcost prints (× → x, · → *).
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, NoReturn, TextIO

from convcost import zoo
from convcost.cli.declare import Argument, Exit, Option, UsageError
from convcost.cli.streams import degrade_to_ascii, failed_output
from convcost.errors import ConvcostError, ExitStatus
from convcost.file_paths import is_model_path, path_name, path_stem, path_text
from convcost.limits import DEFAULT_LIMITS, MAX_INT, Limits
from convcost.render.escape import quoted
from convcost.report import DTYPE_BYTES, Report
from convcost.spec import Spec, read_spec_file, read_spec_stream
from convcost.valueclasses import replace

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console  # imported where a console is made: JSON needs none

    from convcost.latency.profile import DeviceProfile

MAX_SEED = 2**32 - 1
"""The largest ``--seed`` (NumPy's legacy seeds are 32-bit)."""
MAX_REPEAT = 1000
"""The largest ``--repeat``: a thousand timed passes is already a benchmark."""


class Format(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


def stderr() -> Console:
    from rich.console import Console

    degrade_to_ascii(sys.stderr)
    return Console(stderr=True, highlight=False, soft_wrap=True)


def diagnose(kind: str, text: object) -> None:
    """One line on standard error (``error: …``, ``warning: …``), control characters escaped:
    messages quote names, paths and values from the user's files."""
    from convcost.render.escape import printable

    stderr().print(f"{kind}: {printable(str(text))}", markup=False)


def fail(error: ConvcostError) -> NoReturn:
    diagnose("error", error)
    raise Exit(int(error.exit_status))


# -- spec lookup -------------------------------------------------------------------------------


def resolve_spec(
    source: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    input_shape: tuple[int, ...] | None = None,
    allow_unsupported: bool = False,
    params: Mapping[str, str | int | float] | None = None,
) -> Spec:
    """``-`` (standard input), a spec file, a model file (``.onnx``, imported in memory at
    ``input_shape`` if given, unsupported nodes as placeholders if ``allow_unsupported``), or
    the name of a bundled model; ``params`` (``--set``) overrides a spec's ``params:``.

    A name that ends in ``.yaml``/``.yml`` or holds a path separator is a file, and only a
    file; any other name is a bundled model (write ``./name`` for a file without a suffix).
    """
    if is_model_path(source):
        from convcost import importer

        if params:
            raise ConvcostError(
                f"{quoted(source)}: --set is for YAML specs with `params:`, not model files"
            )
        model = importer.open_model(
            source, input_shape=input_shape, limits=limits, allow_unsupported=allow_unsupported
        )
        for note in model.notes:
            diagnose("note", f"{source}: {note}")
        return model.spec
    if input_shape is not None:
        raise ConvcostError(f"{quoted(source)}: --input is for a model file (.onnx) only")
    if source == "-":
        if sys.stdin is None:
            raise ConvcostError("standard input is closed")
        return read_spec_stream(sys.stdin.buffer, source="<stdin>", limits=limits, params=params)
    if source.endswith((".yaml", ".yml")) or "/" in source or os.sep in source:
        path = path_text(source)
        if not os.path.lexists(path):  # lexists: never raises (a name too long is "missing")
            stem = path_stem(path)
            bundled = zoo.spec_file(stem) if path_name(path) == source else None
            hint = f" (the bundled model is named {stem})" if bundled else ""
            raise ConvcostError(f"no such spec file: {quoted(source)}{hint}")
        # a file: text with a newline is still a name
        return read_spec_file(path, limits=limits, params=params)
    if source == "":
        raise ConvcostError("no spec file '': the name is empty")
    bundled = zoo.spec_file(source)
    if bundled is None:
        raise ConvcostError(
            f"no spec file {quoted(source)!r} and no bundled model of that name; "
            f"bundled: {', '.join(zoo.names())} (a file name ends in .yaml or .yml, or holds a /)"
        )
    return read_spec_file(bundled, limits=limits, params=params)


def spec_params(assignments: list[str] | None) -> dict[str, str | int | float] | None:
    """``--set NAME=VALUE`` options as ``load_spec``'s ``params`` (None when there are none);
    a malformed one fails in one line (exit 2)."""
    if not assignments:
        return None
    from convcost.params import parse_assignment

    params: dict[str, str | int | float] = {}
    try:
        for text in assignments:
            name, value = parse_assignment(text)
            params[name] = value
    except ConvcostError as error:
        fail(error)
    return params


def model_input(text: str | None) -> tuple[int, ...] | None:
    """``--input 3x224x224`` as a shape (None when not given)."""
    if text is None:
        return None
    from convcost.compare import parse_input

    return parse_input(text)


def print_warnings(reports: list[Report]) -> None:
    for report in reports:
        for warning in report.warnings:
            diagnose("warning", warning)
        for note in report.notes:
            diagnose("warning", f"{report.name}: {note}")


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
                        f"--output {quoted(str(output))}: is the spec "
                        f"{quoted(source)}; write the report to another file"
                    )
                )
    return path


def emit(text: str | Iterable[str], output: str | Path | None) -> None:
    """Write ``text`` (or its pieces as they come) to standard output, or atomically to the
    file ``output``."""
    with _stream(output) as stream:
        if isinstance(text, str):
            stream.write(text)
        else:
            for piece in text:
                stream.write(piece)


def draw(
    output: str | Path | None,
    paint: Callable[[Console], None],
    *,
    width: int | None = None,
    soft_wrap: bool = False,
    plain: Callable[[int], Iterable[str] | None] | None = None,
) -> None:
    """Render with rich to standard output (``width``: None follows the terminal), or to
    ``output`` as plain text 120 columns wide.

    ``plain``, given the console's width, writes the same text as ``paint`` where rich would
    draw no styles (a pipe, a file, ``TTY_COMPATIBLE=0``) without loading rich, or declines
    (None, before writing anything) and ``paint`` draws."""
    with _stream(output) as stream:
        if plain is not None:
            from convcost.render.plain_console import plain_width

            shown = plain_width(
                stream, width=width if output is None else 120, styles=output is None
            )
            pieces = None if shown is None else plain(shown)
            if pieces is not None:
                for piece in pieces:
                    stream.write(piece)
                return
        from rich.console import Console

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
    degrade_to_ascii(stream)
    try:
        yield stream
        stream.flush()
    except OSError as exc:
        _stdout_failed(stream, exc)


def _stdout_failed(stream: TextIO, exc: OSError) -> NoReturn:
    """Standard output failed: a broken pipe ends silently, anything else in one line; both
    exit 2."""
    message = failed_output(stream, exc)
    if message is None:
        raise Exit(int(ExitStatus.INVALID_INPUT))
    fail(ConvcostError(message))


# -- options ---------------------------------------------------------------------------------------

SpecsArgument = Annotated[
    list[str],
    Argument(
        help="Spec files (YAML; - reads standard input), or names of bundled models "
        "(see `convcost zoo`).",
        show_default=False,
    ),
]
FormatOption = Annotated[Format, Option("--format", "-f", help="Output format.")]
OutputOption = Annotated[
    str | None,
    Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to this file instead of standard output (replaced only once complete).",
    ),
]
ModelInputOption = Annotated[
    str | None,
    Option(
        "--input",
        metavar="CxHxW",
        help="A model file's (.onnx) input shape, channels first without batch, e.g. "
        "3x224x224: needed when its spatial sizes are symbolic.",
        show_default=False,
    ),
]
AllowUnsupportedOption = Annotated[
    bool,
    Option(
        "--allow-unsupported",
        help="A model file (.onnx): import a node convcost has no layer for as a placeholder "
        "of unknown cost (not counted; every report says so) instead of failing.",
    ),
]
SetOption = Annotated[
    list[str] | None,
    Option(
        "--set",
        metavar="NAME=VALUE",
        help="Override a parameter the spec declares under `params:` (repeatable), e.g. "
        "--set width=0.75 --set resolution=192.",
        show_default=False,
    ),
]
BatchOption = Annotated[
    int,
    Option(min=1, max=MAX_INT, help="Batch size: multiplies MACs, FLOPs, ops and activations."),
]
DTypeOption = Annotated[
    str, Option(help=f"Element type for activation bytes: {', '.join(DTYPE_BYTES)}.")
]
DepthOption = Annotated[
    int | None,
    Option(
        min=1,
        max=MAX_INT,
        help="Collapse layers nested deeper than this into their block's row.",
    ),
]
IndentOption = Annotated[
    int | None,
    Option(
        min=0,
        max=16,
        metavar="N",
        help="JSON: indent nested values by N spaces [default: compact, on one line].",
        show_default=False,
    ),
]
ExactOption = Annotated[bool, Option("--exact", help="Print raw integers instead of 1.2 M.")]
ExecuteOption = Annotated[
    bool,
    Option(
        "--execute",
        help="Also run the network on random NumPy tensors (float32 or float64), confirm every "
        "predicted shape, and measure time and GFLOP/s per layer.",
    ),
]
SeedOption = Annotated[
    int,
    Option(
        min=0, max=MAX_SEED, help="--execute: seed of the random input and weights (0 to 2**32-1)."
    ),
]
RepeatOption = Annotated[
    int,
    Option(
        min=1,
        max=MAX_REPEAT,
        help="--execute: time this many forward passes (at most 1000) and report medians "
        "(after one untimed warm-up pass).",
    ),
]
MaxMemoryOption = Annotated[
    str | None,
    Option(
        help="--execute: refuse to run above this estimated peak memory, e.g. 2GiB "
        "[default: half the available RAM]."
    ),
]


class Backend(enum.StrEnum):
    """``--backend``: what ``--execute`` runs the network on."""

    NUMPY = "numpy"
    ONNXRUNTIME = "onnxruntime"


BackendOption = Annotated[
    Backend,
    Option(
        help="--execute: run on convcost's NumPy kernels, or export to ONNX and run on ONNX "
        "Runtime (pip install 'convcost[ort]'), timing each layer with its profiler."
    ),
]
ThreadsOption = Annotated[
    int | None,
    Option(
        min=1,
        max=1024,
        help="--execute: threads the backend may use (NumPy's matrix products, ORT's "
        "intra-op pool) [default: the backend's, one per core].",
        show_default=False,
    ),
]
MaxLayersOption = Annotated[
    int,
    Option(
        min=1,
        max=MAX_INT,
        help="Refuse (exit 4) a spec that expands to more layers than this.",
    ),
]


def limits(max_layers: int) -> Limits:
    """The bounds for ``--max-layers``."""
    return replace(DEFAULT_LIMITS, max_layers=max_layers)


# ``--max-spec-bytes`` and ``--max-yaml-nodes``: the input bounds of every command that loads
# specs, raised on request (a literal million-layer stack is 28 MiB and 5.7 million YAML nodes,
# past the defaults; docs/limits.md)
MaxSpecBytesOption = Annotated[
    str | None,
    Option(
        metavar="SIZE",
        help="Refuse (exit 4) a spec file larger than SIZE (bytes, or 64MiB) [default: 16MiB].",
        show_default=False,
    ),
]
MaxYamlNodesOption = Annotated[
    int | None,
    Option(
        min=1,
        max=MAX_INT,
        help="Refuse (exit 4) a YAML document of more nodes than this, aliases expanded "
        "[default: 1000000].",
        show_default=False,
    ),
]


def input_limits(bounds: Limits, max_spec_bytes: str | None, max_yaml_nodes: int | None) -> Limits:
    """``bounds`` with the spec-size bounds the flags give (unchanged where a flag is absent)."""
    if max_spec_bytes is not None:
        from convcost.units import UnitError, parse_bytes  # the flag's units only

        try:
            size = parse_bytes(max_spec_bytes)
        except UnitError as error:
            raise UsageError(str(error), param_hint="--max-spec-bytes") from None
        if size < 1:
            raise UsageError("must be at least 1 byte", param_hint="--max-spec-bytes")
        bounds = replace(bounds, max_spec_bytes=size)
    if max_yaml_nodes is not None:
        bounds = replace(bounds, max_yaml_nodes=max_yaml_nodes)
    return bounds


def check_dtype(dtype: str) -> None:
    if dtype not in DTYPE_BYTES:
        raise UsageError(f"{dtype!r} is not one of {', '.join(DTYPE_BYTES)}", param_hint="--dtype")


def execution_limit(dtype: str, max_memory: str | None) -> int | None:
    """Check ``--dtype`` for ``--execute`` and read ``--max-memory`` (bytes; None: default)."""
    from convcost.executor import EXECUTE_DTYPES
    from convcost.units import UnitError, parse_bytes

    if dtype not in EXECUTE_DTYPES:
        raise UsageError(
            f"--execute runs in {' or '.join(EXECUTE_DTYPES)} only, got {dtype!r}",
            param_hint="--dtype",
        )
    try:
        return None if max_memory is None else parse_bytes(max_memory)
    except UnitError as error:
        raise UsageError(str(error), param_hint="--max-memory") from None


ConventionOption = Annotated[
    str | None,
    Option(
        "--convention",
        metavar="NAME",
        help="Count as a peer tool does: torchinfo, fvcore, ptflops, thop, calflops or torch "
        "(FlopCounterMode); each layer's count and the rule behind it (docs/peers.md). "
        "convcost, the default, is the only exact one.",
        show_default=False,
    ),
]
DeviceOption = Annotated[
    str | None,
    Option(
        "--device",
        metavar="NAME|FILE",
        help="Estimate latency on a device profile: a bundled one (a100, t4, jetson-nano, "
        "raspberry-pi-4, desktop-cpu) or a file written by `convcost calibrate` "
        "(docs/latency.md).",
    ),
]


def device_profile(device: str | None) -> DeviceProfile | None:
    """The :class:`~convcost.latency.profile.DeviceProfile` ``--device`` names, or ``None``;
    a bad name or file fails with one line (exit 2)."""
    if device is None:
        return None
    from convcost.latency.profile import load_profile

    try:
        return load_profile(device)
    except ConvcostError as error:
        fail(error)
