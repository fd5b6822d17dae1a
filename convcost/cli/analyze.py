"""``convcost analyze`` (with ``--execute``) and ``convcost zoo``."""

from __future__ import annotations

import sys
from pathlib import Path

from convcost import zoo
from convcost.cli.common import (
    AllowUnsupportedOption,
    BatchOption,
    DepthOption,
    DTypeOption,
    ExactOption,
    ExecuteOption,
    Format,
    FormatOption,
    IndentOption,
    MaxLayersOption,
    MaxMemoryOption,
    ModelInputOption,
    OutputOption,
    RepeatOption,
    SeedOption,
    SetOption,
    SpecsArgument,
    app,
    check_dtype,
    draw,
    emit,
    execution_limit,
    fail,
    limits,
    model_input,
    output_target,
    print_warnings,
    resolve_spec,
    spec_params,
    stderr,
)
from convcost.engine import analyze_all
from convcost.errors import ConvcostError
from convcost.limits import DEFAULT_LIMITS, Limits
from convcost.report import Report
from convcost.spec import load_spec


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
    max_layers: MaxLayersOption = DEFAULT_LIMITS.max_layers,
    indent: IndentOption = None,
    input: ModelInputOption = None,
    allow_unsupported: AllowUnsupportedOption = False,
    set_: SetOption = None,
) -> None:
    """Report parameters, MACs, FLOPs, activations and receptive field, per layer and in total.

    Example:

        convcost analyze specs/quickstart.yaml

        convcost analyze resnet50 --depth 1 --format json -o resnet50.json

        convcost analyze specs/quickstart.yaml --execute --batch 2

        cat specs/quickstart.yaml | convcost analyze - --format csv

        convcost analyze resnet50.onnx --depth 1

        convcost analyze specs/mobilenet_v2_family.yaml --set alpha=0.5
    """
    from convcost.render import formats

    check_dtype(dtype)
    target = output_target(output, inputs=specs)
    bounds = limits(max_layers)
    params = spec_params(set_)
    try:
        shape = model_input(input)
    except ConvcostError as error:
        fail(error)
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
            params,
        )
        return
    try:
        reports = [
            report
            for source in specs
            for report in analyze_all(
                resolve_spec(
                    source,
                    limits=bounds,
                    input_shape=shape,
                    allow_unsupported=allow_unsupported,
                    params=params,
                ),
                batch=batch,
                dtype=dtype,
            )
        ]
    except ConvcostError as error:
        fail(error)
    print_warnings(reports)
    if format is Format.TABLE:
        from convcost.render.table import print_reports

        draw(target, lambda console: print_reports(console, reports, depth=depth, exact=exact))
    elif format is Format.JSON:
        emit(formats.json_chunks(reports, depth=depth, indent=indent), target)
    elif format is Format.CSV:
        emit(formats.to_csv(reports, depth=depth), target)
    else:
        emit(formats.to_markdown(reports, depth=depth, exact=exact), target)


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
    params: dict[str, str | int | float] | None,
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
                )
            ]
    except ConvcostError as error:
        fail(error)
    reports = [result.report for result in results]
    print_warnings(reports)
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


@app.command("zoo")
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
        from convcost.render.table import zoo_table

        draw(target, lambda console: console.print(zoo_table(reports, exact=exact)))
    elif format is Format.JSON:
        emit(formats.to_json(reports, indent=indent), target)
    elif format is Format.CSV:
        emit(formats.totals_csv(reports), target)
    else:
        emit(formats.totals_markdown(reports, exact=exact), target)


def _bundled(name: str) -> Report:
    path = zoo.find(name)
    assert path is not None, name
    return analyze_all(load_spec(path))[0]
