"""``convcost sweep``: a spec's ``params:`` over a grid or random samples, and the Pareto front."""

from __future__ import annotations

import contextlib
import enum
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, assert_never

from convcost.cli.common import (
    MAX_SEED,
    BatchOption,
    DTypeOption,
    ExactOption,
    IndentOption,
    MaxLayersOption,
    MaxSpecBytesOption,
    MaxYamlNodesOption,
    OutputOption,
    SetOption,
    check_dtype,
    diagnose,
    draw,
    emit,
    fail,
    input_limits,
    limits,
    output_target,
    resolve_spec,
    spec_params,
    stderr,
)
from convcost.cli.declare import Argument, Exit, Option, UsageError, command
from convcost.errors import ConvcostError, ExitStatus
from convcost.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from convcost.spec import Spec
    from convcost.sweep import Sweep


class SweepFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _limit(flag: str, what: str, metavar: str = "N", *aliases: str) -> Option:
    return Option(flag, *aliases, help=what, show_default=False, metavar=metavar)


@command("sweep")
def sweep_command(
    spec: Annotated[
        str,
        Argument(
            help="A spec with `params:` (a file, - for standard input, or a bundled model).",
            show_default=False,
        ),
    ],
    grid: Annotated[
        list[str] | None,
        Option(
            "--grid",
            metavar="NAME=V1,V2,…",
            help="Values of a parameter (repeatable): the sweep is every combination. With "
            "--random, one of them is drawn per point.",
            show_default=False,
        ),
    ] = None,
    random: Annotated[
        int | None,
        Option(
            "--random",
            metavar="N",
            min=1,
            help="Draw N points from the --range (and --grid) values instead of a grid "
            "(duplicates are evaluated once).",
            show_default=False,
        ),
    ] = None,
    range_: Annotated[
        list[str] | None,
        Option(
            "--range",
            metavar="NAME=LOW:HIGH[:STEP]",
            help="--random: draw a parameter between two bounds, both included (repeatable). "
            "Integer bounds draw integers, a decimal bound floats rounded to 3 decimals; STEP "
            "draws LOW, LOW+STEP, ….",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        Option(
            min=0,
            max=MAX_SEED,
            metavar="S",
            help="--random: the seed of the draws, 0 to 2**32-1 [default: 0].",
            show_default=False,
        ),
    ] = None,
    objectives: Annotated[
        str,
        Option(
            "--objectives",
            metavar="LIST",
            help="The metrics of the Pareto front, comma-separated: params, macs, flops, "
            "activation_memory, peak_memory (minimised), receptive_field (maximised); "
            "max:NAME or min:NAME for a swept parameter.",
        ),
    ] = "macs,params,peak_memory",
    max_params: Annotated[
        str | None, _limit("--max-params", "Keep points with at most this many parameters: 5M.")
    ] = None,
    max_macs: Annotated[
        str | None, _limit("--max-macs", "Keep points with at most this many MACs: 300M.")
    ] = None,
    max_flops: Annotated[
        str | None, _limit("--max-flops", "Keep points with at most this many FLOPs: 600M.")
    ] = None,
    max_activation_memory: Annotated[
        str | None,
        _limit(
            "--max-activation-memory",
            "Keep points whose layer outputs sum to at most: 64MiB.",
            "BYTES",
        ),
    ] = None,
    max_peak_memory: Annotated[
        str | None,
        _limit("--max-peak-memory", "Keep points of at most this peak memory: 32MiB.", "BYTES"),
    ] = None,
    min_receptive_field: Annotated[
        str | None,
        _limit(
            "--min-receptive-field",
            "Keep points whose receptive field is at least: 224, or 224x224 per axis.",
            "N",
            "--min-rf",
        ),
    ] = None,
    every: Annotated[
        bool,
        Option("--all", help="List every point (fits, front), not only the Pareto front."),
    ] = False,
    format: Annotated[
        SweepFormat, Option("--format", "-f", help="Output format.")
    ] = SweepFormat.TABLE,
    output: OutputOption = None,
    jobs: Annotated[
        int | None,
        Option(
            "--jobs",
            "-j",
            metavar="N",
            min=1,
            max=1024,
            help="Processes that evaluate points [default: every core].",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, Option("--quiet", "-q", help="No progress bar.")] = False,
    variant: Annotated[
        str | None,
        Option(
            metavar="NAME", help="The variant to sweep [default: the first].", show_default=False
        ),
    ] = None,
    set_: SetOption = None,
    batch: BatchOption = 1,
    dtype: DTypeOption = "float32",
    exact: ExactOption = False,
    indent: IndentOption = None,
    max_layers: MaxLayersOption = DEFAULT_LIMITS.max_layers,
    max_spec_bytes: MaxSpecBytesOption = None,
    max_yaml_nodes: MaxYamlNodesOption = None,
) -> None:
    """Evaluate a spec at many values of its `params:` and print the Pareto front.

    Every point is analyzed (in --jobs processes); points that break a limit (the spec's
    `budget:`, overridden by the --max-*/--min-* flags) are left out of the front. The front
    holds the points no other fitting point beats on every objective. The order of the output
    does not depend on --jobs. Exit 1 when no point fits the limits.

    Example:

        convcost sweep specs/mobilenet_v2_family.yaml --grid width=0.5,0.75,1.0 --grid depth=1,1.2 --grid resolution=160,192,224 --max-macs 300M

        convcost sweep specs/mobilenet_v2_family.yaml --random 50 --seed 1 --range width=0.35:1.4 --range resolution=128:224:32 -f csv
    """
    from convcost import sweep as sweeping
    from convcost.budget import Budget, Budgeted
    from convcost.check import flag_limit
    from convcost.units import UnitError

    check_dtype(dtype)
    target = output_target(output, inputs=[spec])
    if random is None and range_:
        _usage("--range draws points for --random N; a grid takes --grid NAME=V1,V2,…")
    if random is None and seed is not None:
        _usage("--seed is for --random N")
    flags = {
        Budgeted.PARAMS: max_params,
        Budgeted.MACS: max_macs,
        Budgeted.FLOPS: max_flops,
        Budgeted.ACTIVATION_MEMORY: max_activation_memory,
        Budgeted.PEAK_MEMORY: max_peak_memory,
        Budgeted.RECEPTIVE_FIELD: min_receptive_field,
    }
    flag_limits = []
    for metric, text in flags.items():
        if text is not None:
            try:
                flag_limits.append(flag_limit(metric, text))
            except UnitError as error:
                raise UsageError(str(error), param_hint=metric.flag) from None
    fixed = spec_params(set_)
    bounds = input_limits(limits(max_layers), max_spec_bytes, max_yaml_nodes)
    try:
        axes = [sweeping.parse_axis(text) for text in grid or ()]
        ranges = [sweeping.parse_range(text) for text in range_ or ()]
        loaded, text, source = _load(spec, bounds, fixed)
        names = sweeping.swept_names(axes, ranges)
        sweeping.check_names(loaded, axes, ranges, fixed=list(fixed or ()))
        chosen = sweeping.parse_objectives(objectives, names)
        if random is None:
            points = sweeping.grid(axes)
        else:
            points = sweeping.sample(random, ranges, axes, seed=seed or 0)
        setting = sweeping.Setting(
            text=text,
            source=source,
            fixed=sweeping.fixed_params(fixed),
            variant=variant,
            batch=batch,
            dtype=dtype,
            flags=Budget(tuple(flag_limits)),
            limits=bounds,
        )
        with _progress(len(points), enabled=not quiet) as advance:
            result = sweeping.run(setting, points, chosen, jobs=jobs, progress=advance)
    except ConvcostError as error:
        fail(error)
    _report(result, format, target, every=every, exact=exact, indent=indent)
    if not result.fitting:  # points were evaluated, and none is within the limits
        raise Exit(int(ExitStatus.BUDGET_EXCEEDED))


def _usage(message: str) -> NoReturn:
    fail(ConvcostError(message))


def _load(
    source: str, bounds: Limits, fixed: dict[str, str | int | float] | None
) -> tuple[Spec, str, str]:
    """The spec (loaded with the ``--set`` values, which checks them), its text and its name
    in messages: each worker parses the text again at its points."""
    from convcost import importer, zoo
    from convcost.spec import parse_spec
    from convcost.spec_bytes import decode, read_file, read_stream

    if source == "-":
        if sys.stdin is None:
            raise ConvcostError("standard input is closed")
        text = decode(read_stream(sys.stdin.buffer, "<stdin>", bounds), "<stdin>")
        return parse_spec(text, source="<stdin>", limits=bounds, params=fixed), text, "<stdin>"
    if importer.is_model_path(source):
        raise ConvcostError(f"{source}: sweep takes YAML specs with `params:`, not model files")
    spec = resolve_spec(source, limits=bounds, params=fixed)
    path = (
        Path(source)
        if source.endswith((".yaml", ".yml")) or "/" in source or os.sep in source
        else zoo.find(source)
    )
    assert path is not None  # resolve_spec found it
    return spec, decode(read_file(path, bounds), spec.source), spec.source


@contextlib.contextmanager
def _progress(total: int, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A function that advances a rich progress bar on standard error by the points done; the
    bar is drawn only when ``enabled`` and standard error is a terminal, and erased at the end."""
    if not enabled or sys.stderr is None or not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = ("sweep", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr(), transient=True) as bar:
        task = bar.add_task("sweep", total=total)
        yield lambda done: bar.advance(task, done)


def _report(
    result: Sweep,
    format: SweepFormat,
    output: Path | None,
    *,
    every: bool,
    exact: bool,
    indent: int | None,
) -> None:
    from convcost.render import sweep as render

    failed = result.failed
    if failed:
        first = failed[0]
        point = ", ".join(f"{name}={value}" for name, value in first.point)
        total = len(result.evaluations)
        if len(failed) == total:
            status = first.status if first.status is not ExitStatus.OK else ExitStatus.INVALID_INPUT
            error = ConvcostError(
                f"all {total:,} points failed; the first ({point}): {first.error}"
            )
            error.exit_status = status
            fail(error)
        diagnose(
            "warning",
            f"{len(failed):,} of {total:,} points failed; the first ({point}): {first.error}",
        )
    match format:
        case SweepFormat.TABLE:
            draw(
                output,
                lambda console: render.print_table(console, result, every=every, exact=exact),
            )
            return
        case SweepFormat.JSON:
            text = render.to_json(result, every=every, indent=indent)
        case SweepFormat.CSV:
            text = render.to_csv(result, every=every)
        case _:
            assert_never(format)
    emit(text, output)
