"""``convcost check`` (budgets in CI) and ``convcost schema``."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, assert_never

from convcost.cli.common import (
    AllowUnsupportedOption,
    BatchOption,
    ConventionOption,
    DeviceOption,
    DTypeOption,
    ExactOption,
    IndentOption,
    MaxLayersOption,
    MaxSpecBytesOption,
    MaxYamlNodesOption,
    ModelInputOption,
    OutputOption,
    SetOption,
    check_dtype,
    device_profile,
    draw,
    emit,
    fail,
    input_limits,
    limits,
    model_input,
    output_target,
    resolve_spec,
    spec_params,
    stderr,
)
from convcost.cli.declare import Argument, Exit, Option, UsageError, command
from convcost.errors import ConvcostError
from convcost.limits import DEFAULT_LIMITS, MAX_INT
from convcost.spec import Spec

if TYPE_CHECKING:
    from convcost.check import CheckRun

T = TypeVar("T")


class CheckFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    JUNIT = "junit"


def _limit_option(metric: str, what: str, metavar: str = "N") -> Any:
    return Option(f"--{metric}", help=what, show_default=False, metavar=metavar)


@command("check")
def check_command(
    specs: Annotated[
        list[str],
        Argument(
            help="Spec files, globs ('models/**/*.yaml'), directories (their *.yaml) or bundled model names."
        ),
    ],
    format: Annotated[
        CheckFormat, Option("--format", "-f", help="Output format.")
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
    max_latency: Annotated[
        str | None,
        _limit_option("max-latency", "Maximum estimated latency on --device: 5ms, 800us.", "TIME"),
    ] = None,
    device: DeviceOption = None,
    baseline: Annotated[
        str | None,
        Option(
            help="A `convcost analyze --format json` output to compare against.", metavar="FILE"
        ),
    ] = None,
    max_growth: Annotated[
        str,
        Option(
            help="Allowed growth of params, MACs and peak memory over --baseline.", metavar="PCT"
        ),
    ] = "0%",
    skip_unbudgeted: Annotated[
        bool,
        Option(
            "--skip-unbudgeted",
            help="Skip specs without a budget even when named explicitly (as in a directory); "
            "the pre-commit hook's mode.",
        ),
    ] = False,
    max_layers: MaxLayersOption = DEFAULT_LIMITS.max_layers,
    max_spec_bytes: MaxSpecBytesOption = None,
    max_yaml_nodes: MaxYamlNodesOption = None,
    indent: IndentOption = None,
    batch: BatchOption = 1,
    dtype: DTypeOption = "float32",
    exact: ExactOption = False,
    input: ModelInputOption = None,
    allow_unsupported: AllowUnsupportedOption = False,
    convention: ConventionOption = None,
    set_: SetOption = None,
) -> None:
    """Check specs against their budgets: exit 0 within, 1 exceeded, 2 invalid, 4 too big.

    Limits come from the spec's `budget:` (and a variant's own), overridden by the flags.
    Specs found in a directory that have no budget are skipped; a spec named explicitly
    without a budget is an error (skipped too with --skip-unbudgeted). An invalid spec is
    reported as an error and the others are still checked. Under GITHUB_ACTIONS=true,
    violations are also printed as ::error annotations (on standard error).

    Example:

        convcost check specs/

        convcost check specs/quickstart.yaml --max-params 5M --max-peak-memory 32MiB -f markdown

        convcost analyze specs/quickstart.yaml -f json -o baseline.json

        convcost check specs/quickstart.yaml --baseline baseline.json --max-growth 2%

        convcost check resnet50.onnx --max-macs 4.2G

        convcost check convnext_tiny --max-macs 4.5G --convention fvcore

        convcost check resnet50 --device desktop-cpu --max-latency 50ms
    """
    from convcost import check as checking
    from convcost.baseline import load_baseline
    from convcost.budget import Budget, Budgeted

    check_dtype(dtype)
    if batch > MAX_INT:
        raise UsageError(f"must be at most {MAX_INT:,}", param_hint="--batch")
    target = output_target(output, inputs=specs)
    if baseline == "":  # Path("") would be the current directory
        raise UsageError("is an empty path", param_hint="--baseline")
    flags = {
        Budgeted.PARAMS: max_params,
        Budgeted.MACS: max_macs,
        Budgeted.FLOPS: max_flops,
        Budgeted.ACTIVATION_MEMORY: max_activation_memory,
        Budgeted.PEAK_MEMORY: max_peak_memory,
        Budgeted.RECEPTIVE_FIELD: min_receptive_field,
        Budgeted.LATENCY: max_latency,
    }
    flag_limits = tuple(
        _flag(metric.flag, partial(checking.flag_limit, metric, text))
        for metric, text in flags.items()
        if text is not None
    )
    growth = _flag("--max-growth", partial(checking.growth_limit, max_growth))
    try:
        baselines = None if baseline is None else load_baseline(Path(baseline))
    except ConvcostError as error:
        fail(error)
    named = None
    if convention is not None:
        from convcost.cli.conventions import chosen

        names = chosen(convention)
        if names and baseline is not None:
            raise UsageError(
                "a baseline holds convcost's own figures: not with --convention",
                param_hint="--convention",
            )
        named = names[0] if names else None
    options = checking.Options(
        flags=Budget(flag_limits),
        convention=named,
        batch=batch,
        dtype=dtype,
        baseline=baselines,
        max_growth=growth,
        skip_unbudgeted=skip_unbudgeted,
        device=device_profile(device),
    )
    bounds = input_limits(limits(max_layers), max_spec_bytes, max_yaml_nodes)
    params = spec_params(set_)
    try:
        shape = model_input(input)
    except ConvcostError as error:
        fail(error)

    def load(source: str) -> Spec:
        return resolve_spec(
            source,
            limits=bounds,
            input_shape=shape,
            allow_unsupported=allow_unsupported,
            params=params,
        )

    run = checking.check(checking.expand(specs), load, options)
    _report(run, format, target, exact=exact, indent=indent)
    raise Exit(int(run.exit_status))


def _flag(flag: str, parse: Callable[[], T]) -> T:
    """A flag's value parsed by ``parse``; a bad one is a usage error naming the flag."""
    from convcost.units import UnitError

    try:
        return parse()
    except UnitError as exc:
        raise UsageError(str(exc), param_hint=flag) from None


def _report(
    run: CheckRun, format: CheckFormat, output: Path | None, *, exact: bool, indent: int | None
) -> None:
    """Errors and notes on standard error (and annotations on GitHub); the report to
    standard output or, atomically, to ``output``."""
    from convcost.render import check as render
    from convcost.render.escape import printable

    console = stderr()
    for outcome in run.outcomes:
        if outcome.error is not None:
            console.print(f"error: {printable(str(outcome.error))}", markup=False)
        for note in outcome.notes:
            console.print(f"note: {printable(outcome.source)}: {printable(note)}", markup=False)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for command in render.github_annotations(run):
            console.print(command, markup=False, highlight=False, soft_wrap=True)
    match format:
        case CheckFormat.TABLE:
            draw(output, lambda console: render.print_table(console, run, exact=exact))
            return
        case CheckFormat.JSON:
            text = render.to_json(run, indent=indent)
        case CheckFormat.MARKDOWN:
            text = render.to_markdown(run, exact=exact)
        case CheckFormat.JUNIT:
            text = render.to_junit(run, exact=exact)
        case _:
            assert_never(format)
    emit(text, output)


@command("schema")
def schema_command(output: OutputOption = None) -> None:
    """Print the JSON Schema of the spec format, for editor completion and validation.

    Example:

        convcost schema -o convcost.schema.json
    """
    import json

    from convcost.schema import spec_schema

    emit(json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n", output)
