"""``convcost compare`` and ``convcost explain``."""

from __future__ import annotations

import enum
import functools
from contextlib import ExitStack
from typing import Annotated

import typer
from rich.console import Console

from convcost.cli.common import (
    AllowUnsupportedOption,
    BatchOption,
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
    diagnose,
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
from convcost.errors import ConvcostError
from convcost.importer import is_model_path
from convcost.limits import DEFAULT_LIMITS

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
    max_layers: MaxLayersOption = DEFAULT_LIMITS.max_layers,
    indent: IndentOption = None,
    allow_unsupported: AllowUnsupportedOption = False,
    set_: SetOption = None,
) -> None:
    """Compare the variants of one spec, or several specs, side by side with ratios to a baseline.

    Example:

        convcost compare specs/googlenet-5x5-branch.yaml

        convcost compare specs/one5x5-vs-two3x3.yaml --baseline two3x3

        convcost compare resnet18 resnet50 --format markdown

        convcost compare resnet50 --input 3x224x224 --input 3x320x320

        convcost compare resnet50.onnx resnet50 --per-layer
    """
    from convcost import compare as comparing
    from convcost.render import comparison_formats

    check_dtype(dtype)
    target = output_target(output, inputs=specs)
    limit = execution_limit(dtype, max_memory) if execute else None
    params = spec_params(set_)
    try:
        shapes = [comparing.parse_input(text) for text in input or ()]
        # a model file is imported at the first --input (needed when its sizes are symbolic)
        first = shapes[0] if shapes else None
        loaded = [
            resolve_spec(
                source,
                limits=limits(max_layers),
                input_shape=first if is_model_path(source) else None,
                allow_unsupported=allow_unsupported,
                params=params,
            )
            for source in specs
        ]
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
    for warning in result.warnings:
        diagnose("warning", warning)
    show_coverage = bool(input)
    if format is Format.TABLE:
        from convcost.render.comparison import print_comparison

        def paint(console: Console) -> None:
            print_comparison(
                console,
                result,
                exact=exact,
                per_layer=per_layer,
                show_coverage=show_coverage,
                name=loaded[0].name if len(loaded) == 1 else None,
            )

        draw(target, paint)
    elif format is Format.JSON:
        emit(comparison_formats.comparison_json(result, per_layer=per_layer, indent=indent), target)
    elif format is Format.CSV:
        if per_layer:
            from convcost.render import formats

            emit(formats.to_csv(comparison_formats.renamed(result.entries)), target)
        else:
            emit(comparison_formats.comparison_csv(result), target)
    else:
        text = comparison_formats.comparison_markdown(
            result, exact=exact, show_coverage=show_coverage
        )
        if per_layer:
            from convcost.render import formats

            layers = formats.to_markdown(comparison_formats.renamed(result.entries), exact=exact)
            text = f"{layers}\n{text}"
        emit(text, target)


class ExplainFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


@app.command()
def explain(
    spec: Annotated[
        str,
        typer.Argument(
            help="A spec file (YAML; - reads standard input), or a bundled model's name.",
            show_default=False,
        ),
    ],
    layer: Annotated[
        str | None,
        typer.Option(help="Only this layer (a path such as conv1, or a block's path)."),
    ] = None,
    variant: Annotated[
        str | None, typer.Option(help="Only this variant of a `variants:` spec.")
    ] = None,
    format: Annotated[
        ExplainFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output format: the worked example as text (table), JSON or Markdown.",
        ),
    ] = ExplainFormat.TABLE,
    output: OutputOption = None,
    max_layers: MaxLayersOption = DEFAULT_LIMITS.max_layers,
    indent: IndentOption = None,
    input: ModelInputOption = None,
    allow_unsupported: AllowUnsupportedOption = False,
    set_: SetOption = None,
) -> None:
    """Show each layer's formulas with its numbers substituted: output size, parameters, MACs,
    ops, receptive field and jump.

    Example:

        convcost explain specs/googlenet-5x5-branch.yaml --variant direct

        convcost explain specs/separable-vs-standard.yaml --layer separable1

        convcost explain specs/quickstart.yaml --layer stem --format json

        convcost explain resnet18 --layer layer1 -o resnet18-layer1.txt

        convcost explain resnet50.onnx --layer fc
    """
    from convcost.explain import explain as explaining
    from convcost.render import explain as rendering

    target = output_target(output, inputs=[spec])
    try:
        loaded = resolve_spec(
            spec,
            limits=limits(max_layers),
            input_shape=model_input(input),
            allow_unsupported=allow_unsupported,
            params=spec_params(set_),
        )
        explanations = explaining(loaded, variant=variant, layer=layer)
    except ConvcostError as error:
        fail(error)
    if format is ExplainFormat.JSON:
        emit(rendering.explanations_json(explanations, source=loaded.source, indent=indent), target)
    elif format is ExplainFormat.MARKDOWN:
        emit(rendering.explanations_markdown(explanations), target)
    else:
        draw(
            target,
            lambda console: rendering.print_explanations(console, explanations),
            soft_wrap=True,
        )
