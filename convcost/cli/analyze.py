"""``convcost analyze`` (with ``--execute``) and ``convcost zoo``."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Annotated

from convcost import zoo
from convcost.cli.common import (
    AllowUnsupportedOption,
    Backend,
    BackendOption,
    BatchOption,
    ConventionOption,
    DepthOption,
    DeviceOption,
    DTypeOption,
    ExactOption,
    ExecuteOption,
    Format,
    FormatOption,
    IndentOption,
    MaxLayersOption,
    MaxMemoryOption,
    MaxSpecBytesOption,
    MaxYamlNodesOption,
    ModelInputOption,
    OutputOption,
    RepeatOption,
    SeedOption,
    SetOption,
    SpecsArgument,
    ThreadsOption,
    check_dtype,
    device_profile,
    diagnose,
    draw,
    emit,
    execution_limit,
    fail,
    input_limits,
    limits,
    model_input,
    output_target,
    print_warnings,
    resolve_spec,
    spec_params,
    stderr,
)
from convcost.cli.declare import Option, UsageError, command
from convcost.engine import analyze_all, analyze_loaded
from convcost.errors import ConvcostError
from convcost.limits import DEFAULT_LIMITS, Limits
from convcost.report import Report
from convcost.spec import read_spec_file

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from convcost.execution import Execution
    from convcost.latency.profile import DeviceProfile


@command()
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
    max_layers: MaxLayersOption = DEFAULT_LIMITS.max_layers,
    max_spec_bytes: MaxSpecBytesOption = None,
    max_yaml_nodes: MaxYamlNodesOption = None,
    indent: IndentOption = None,
    input: ModelInputOption = None,
    allow_unsupported: AllowUnsupportedOption = False,
    mermaid: Annotated[
        bool,
        Option(
            "--mermaid",
            help="--format markdown: add a mermaid flowchart of each network's top level "
            "(GitHub draws it).",
        ),
    ] = False,
    convention: ConventionOption = None,
    backend: BackendOption = Backend.NUMPY,
    threads: ThreadsOption = None,
    device: DeviceOption = None,
    set_: SetOption = None,
) -> None:
    """Report parameters, MACs, FLOPs, activations and receptive field, per layer and in total.

    Example:

        convcost analyze specs/quickstart.yaml

        convcost analyze resnet50 --depth 1 --format json -o resnet50.json

        convcost analyze specs/quickstart.yaml --execute --batch 2

        convcost analyze specs/quickstart.yaml --execute --backend onnxruntime --threads 2

        cat specs/quickstart.yaml | convcost analyze - --format csv

        convcost analyze resnet50.onnx --depth 1

        convcost analyze resnet18 --format markdown --mermaid

        convcost analyze convnext_tiny --convention torchinfo

        convcost analyze mobilenet_v2 --device desktop-cpu --depth 1

        convcost analyze specs/mobilenet_v2_family.yaml --set width=0.5
    """
    check_dtype(dtype)
    if mermaid and (format is not Format.MARKDOWN or execute):
        raise UsageError(
            "a flowchart goes with --format markdown, without --execute", param_hint="--mermaid"
        )
    target = output_target(output, inputs=specs)
    profile = device_profile(device)
    bounds = input_limits(limits(max_layers), max_spec_bytes, max_yaml_nodes)
    params = spec_params(set_)
    try:
        shape = model_input(input)
    except ConvcostError as error:
        fail(error)
    if convention is not None:
        from convcost.cli import conventions

        loader = functools.partial(
            resolve_spec,
            limits=bounds,
            input_shape=shape,
            allow_unsupported=allow_unsupported,
            params=params,
        )
        options = (batch, dtype, exact, indent)
        if conventions.analyze_command(specs, convention, loader, format, target, options, execute):
            return
    if execute:
        _analyze_executed(
            specs,
            format,
            target,
            batch,
            dtype,
            depth,
            exact,
            seed,
            max_memory,
            repeat,
            bounds,
            shape,
            allow_unsupported,
            backend,
            threads,
            profile,
            params,
        )
        return
    load = functools.partial(
        resolve_spec,
        limits=bounds,
        input_shape=shape,
        allow_unsupported=allow_unsupported,
        params=params,
    )
    try:
        if mermaid:  # the flowcharts read the specs
            loaded = [load(source) for source in specs]
            reports = [
                report for spec in loaded for report in analyze_all(spec, batch=batch, dtype=dtype)
            ]
        else:  # each spec dropped once built (a million layers fit in less memory)
            reports = [
                report
                for source in specs
                for report in analyze_loaded(
                    functools.partial(load, source), batch=batch, dtype=dtype
                )
            ]
    except ConvcostError as error:
        fail(error)
    print_warnings(reports)
    if profile is not None:
        _analyze_on_device(
            reports, profile, [None] * len(reports), format, target, depth, exact, indent
        )
        return
    if format is Format.TABLE:

        def plain(width: int) -> Iterable[str] | None:
            from convcost.render.plain_report import plain_reports

            return plain_reports(reports, depth=depth, exact=exact, width=width)

        def paint(console: Console) -> None:
            from convcost.render.table import print_reports

            print_reports(console, reports, depth=depth, exact=exact)

        draw(target, paint, plain=plain)
        return
    from convcost.render import formats  # JSON, CSV, Markdown: the table needs none of it

    if format is Format.JSON:
        emit(formats.json_chunks(reports, depth=depth, indent=indent), target)
    elif format is Format.CSV:
        emit(formats.to_csv(reports, depth=depth), target)
    else:
        text = formats.to_markdown(reports, depth=depth, exact=exact)
        if mermaid:
            from convcost.html.mermaid import flowcharts

            text += flowcharts(loaded, batch=batch, dtype=dtype)
        emit(text, target)


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
    bounds: Limits,
    shape: tuple[int, ...] | None,
    allow_unsupported: bool,
    backend: Backend = Backend.NUMPY,
    threads: int | None = None,
    profile: DeviceProfile | None = None,
    params: dict[str, str | int | float] | None = None,
) -> None:
    """``analyze --execute``: numpy is imported here only."""
    from convcost.executor import execute_all
    from convcost.render import execution

    limit = execution_limit(dtype, max_memory)
    try:
        with execution.progress_bar(stderr()) as progress:
            results = [
                result
                for source in specs
                for result in execute_all(
                    resolve_spec(
                        source,
                        limits=bounds,
                        input_shape=shape,
                        allow_unsupported=allow_unsupported,
                        params=params,
                    ),
                    batch=batch,
                    dtype=dtype,
                    seed=seed,
                    max_memory=limit,
                    progress=progress,
                    repeat=repeat,
                    threads=threads,
                    backend=backend.value,
                )
            ]
    except ConvcostError as error:
        fail(error)
    reports = [result.report for result in results]
    print_warnings(reports)
    if profile is not None:
        if profile.backend not in (None, backend.value):
            stderr().print(
                f"warning: --device {profile.name} was calibrated on {profile.backend}; "
                f"--execute measures --backend {backend.value}",
                markup=False,
                highlight=False,
            )
        executions = [result.execution for result in results]
        _note_drift(profile)
        _analyze_on_device(reports, profile, executions, format, output, depth, exact, None)
        return
    if format is Format.TABLE:
        # the timing columns need ~110 columns: pipes get 120 rather than rich's 80
        width = None if sys.stdout is not None and sys.stdout.isatty() else 120
        draw(
            output,
            lambda console: execution.print_executed(console, results, depth=depth, exact=exact),
            width=width,
        )
    elif format is Format.JSON:
        emit(execution.to_json(results), output)
    elif format is Format.CSV:
        emit(execution.to_csv(results, depth=depth), output)
    else:
        emit(execution.to_markdown(results, depth=depth, exact=exact), output)


def _note_drift(profile: DeviceProfile) -> None:
    """After a measured run against a calibrated profile, one line on standard error with the
    machine's speed now against its speed at calibration (the profile's ``probe``): a miss
    that the machine's drift explains is told from one of the model (docs/latency.md)."""
    if profile.probe is None:
        return
    from convcost.latency.probe import drift_note, probe_rate

    note = drift_note(probe_rate(), profile.probe)
    if note is not None:
        diagnose("note", f"--device {profile.name}: {note}")


def _analyze_on_device(
    reports: list[Report],
    profile: DeviceProfile,
    executions: Sequence[Execution | None],
    format: Format,
    output: Path | None,
    depth: int | None,
    exact: bool,
    indent: int | None,
) -> None:
    """``analyze --device``: each report's roofline estimate (and its measured run)."""
    from convcost.latency.estimate import estimate
    from convcost.render.latency_rows import Predicted

    try:
        items = [
            Predicted(report, estimate(report, profile), execution)
            for report, execution in zip(reports, executions, strict=True)
        ]
    except ConvcostError as error:
        fail(error)
    if format is Format.TABLE:
        # the latency columns need ~170 columns with deep paths: a pipe gets 200 (no path
        # wraps, and each row is drawn on the fast path) rather than rich's 80
        width = None if sys.stdout is not None and sys.stdout.isatty() else 200
        from convcost.render import latency

        draw(
            output,
            lambda console: latency.print_predicted(console, items, depth=depth, exact=exact),
            width=width,
        )
        return
    from convcost.render import latency_formats  # the table needs none of them (nor csv)

    if format is Format.JSON:
        emit(latency_formats.to_json(items, depth=depth, indent=indent), output)
    elif format is Format.CSV:
        emit(latency_formats.to_csv(items, depth=depth), output)
    else:
        emit(latency_formats.to_markdown(items, depth=depth, exact=exact), output)


@command("zoo")
def zoo_command(
    format: FormatOption = Format.TABLE,
    output: OutputOption = None,
    exact: ExactOption = False,
    indent: IndentOption = None,
) -> None:
    """List the bundled models with their totals; analyze one by name.

    Example:

        convcost zoo

        convcost zoo --format csv -o zoo.csv

        convcost analyze resnet50 --depth 1
    """
    from convcost.render import formats

    target = output_target(output)
    try:
        reports = [_bundled(name) for name in zoo.names()]
    except ConvcostError as error:
        fail(error)
    if format is Format.TABLE:
        from convcost.render.table import print_zoo

        draw(target, lambda console: print_zoo(console, reports, exact=exact))
    elif format is Format.JSON:
        emit(formats.to_json(reports, indent=indent), target)
    elif format is Format.CSV:
        emit(formats.totals_csv(reports), target)
    else:
        emit(formats.totals_markdown(reports, exact=exact), target)


def _bundled(name: str) -> Report:
    path = zoo.spec_file(name)
    assert path is not None, name
    return analyze_all(read_spec_file(path))[0]
