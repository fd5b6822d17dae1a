"""``convcost compare`` and ``convcost explain``."""

from __future__ import annotations

import enum
import functools
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from rich.console import Console

from convcost.cli.common import (
    AllowUnsupportedOption,
    Backend,
    BackendOption,
    BatchOption,
    ConventionOption,
    DeviceOption,
    DTypeOption,
    ExactOption,
    ExecuteOption,
    Format,
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
from convcost.cli.declare import Argument, Option, UsageError, command
from convcost.errors import ConvcostError
from convcost.importer import is_model_path
from convcost.limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcost.compare import Comparison, Metric
    from convcost.latency.profile import DeviceProfile
    from convcost.render.latency_rows import ComparedLatency
    from convcost.spec import Spec


class CompareFormat(enum.StrEnum):
    """``compare``'s formats: analyze's, and a self-contained HTML page with a scatter."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"


ScatterOption = Annotated[
    str | None,
    Option(
        metavar="METRIC",
        help="--format html: the scatter's axis: params, macs, flops, ops, activation_bytes or "
        "time_ns (with --execute) [default: macs across, params up].",
        show_default=False,
    ),
]

ConventionsOption = Annotated[
    str | None,
    Option(
        "--convention",
        metavar="A,B,…",
        help="Instead of the comparison: the totals of these conventions side by side (convcost, "
        "torchinfo, fvcore, ptflops, thop, calflops, torch), each difference from convcost's exact "
        "MACs split by rule family (docs/peers.md).",
        show_default=False,
    ),
]
InputOption = Annotated[
    list[str] | None,
    Option(
        "--input",
        help="Analyze at this input shape instead of the spec's (CxHxW, e.g. 3x224x224); "
        "repeat it for one column per input size.",
    ),
]


@command()
def compare(
    specs: SpecsArgument,
    baseline: Annotated[
        str | None,
        Option(help="The column the ratios are relative to (default: the first)."),
    ] = None,
    format: Annotated[
        CompareFormat, Option("--format", "-f", help="Output format.")
    ] = CompareFormat.TABLE,
    output: OutputOption = None,
    batch: BatchOption = 1,
    dtype: DTypeOption = "float32",
    exact: ExactOption = False,
    per_layer: Annotated[
        bool,
        Option(
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
    max_spec_bytes: MaxSpecBytesOption = None,
    max_yaml_nodes: MaxYamlNodesOption = None,
    indent: IndentOption = None,
    allow_unsupported: AllowUnsupportedOption = False,
    scatter_x: ScatterOption = None,
    scatter_y: ScatterOption = None,
    convention: ConventionsOption = None,
    backend: BackendOption = Backend.NUMPY,
    threads: ThreadsOption = None,
    device: DeviceOption = None,
    set_: SetOption = None,
) -> None:
    """Compare the variants of one spec, or several specs, side by side with ratios to a baseline.

    Example:

        convcost compare specs/googlenet-5x5-branch.yaml

        convcost compare specs/one5x5-vs-two3x3.yaml --baseline two3x3

        convcost compare resnet18 resnet50 --format markdown

        convcost compare resnet50 --input 3x224x224 --input 3x320x320

        convcost compare resnet50.onnx resnet50 --per-layer

        convcost compare resnet18 resnet50 mobilenet_v2 --format html -o models.html

        convcost compare unet --convention convcost,torchinfo,thop,fvcore

        convcost compare specs/separable-vs-standard.yaml --execute --backend onnxruntime

        convcost compare specs/separable-vs-standard.yaml --device raspberry-pi-4
    """
    from convcost import compare as comparing

    check_dtype(dtype)
    axes = _scatter_axes(scatter_x, scatter_y, execute=execute)
    target = output_target(output, inputs=specs)
    params = spec_params(set_)
    if convention is not None and _by_convention(
        specs,
        convention,
        format,
        target,
        (batch, dtype, exact, indent),
        functools.partial(
            resolve_spec,
            limits=input_limits(limits(max_layers), max_spec_bytes, max_yaml_nodes),
            allow_unsupported=allow_unsupported,
            params=params,
        ),
    ):
        return
    profile = device_profile(device)
    limit = execution_limit(dtype, max_memory) if execute else None
    try:
        shapes = [comparing.parse_input(text) for text in input or ()]
        # a model file is imported at the first --input (needed when its sizes are symbolic)
        first = shapes[0] if shapes else None
        loaded = [
            resolve_spec(
                source,
                limits=input_limits(limits(max_layers), max_spec_bytes, max_yaml_nodes),
                input_shape=first if is_model_path(source) else None,
                allow_unsupported=allow_unsupported,
                params=params,
            )
            for source in specs
        ]
        with ExitStack() as stack:
            run = None
            if execute:
                from convcost.executor import run_backend
                from convcost.render.execution import progress_bar

                progress = stack.enter_context(progress_bar(stderr()))
                run = functools.partial(
                    run_backend,
                    backend.value,
                    batch=batch,
                    dtype=dtype,
                    seed=seed,
                    max_memory=limit,
                    progress=progress,
                    repeat=repeat,
                    threads=threads,
                )
            entries = comparing.collect(loaded, inputs=shapes, batch=batch, dtype=dtype, run=run)
        result = comparing.compare(entries, baseline=baseline)
        on_device = _on_device(result, profile) if profile is not None else None
    except ConvcostError as error:
        fail(error)
    print_warnings([entry.report for entry in entries])
    for warning in result.warnings:
        diagnose("warning", warning)
    _write(
        result,
        format,
        target,
        axes=axes,
        options=(exact, per_layer, bool(input), indent),
        name=loaded[0].name if len(loaded) == 1 else None,
        on_device=on_device,
    )


def _write(
    result: Comparison,
    format: CompareFormat,
    target: Path | None,
    *,
    axes: tuple[Metric, Metric],
    options: tuple[bool, bool, bool, int | None],
    name: str | None,
    on_device: list[ComparedLatency] | None,
) -> None:
    """The comparison in ``format`` to ``target``; ``options``: exact, per layer, show the
    receptive-field coverage (several ``--input``), JSON indent."""
    from convcost.render import comparison_formats

    exact, per_layer, show_coverage, indent = options
    if format is CompareFormat.HTML:
        from convcost.html.comparison import comparison_page

        page = comparison_page(
            result,
            x_metric=axes[0],
            y_metric=axes[1],
            exact=exact,
            show_coverage=show_coverage,
            title=name,
        )
        emit(page, target)
    elif format is CompareFormat.TABLE:
        from convcost.render.comparison import print_comparison

        def paint(console: Console) -> None:
            print_comparison(
                console,
                result,
                exact=exact,
                per_layer=per_layer,
                show_coverage=show_coverage,
                name=name,
            )
            if on_device is not None:
                from convcost.render.latency import compared_table

                console.print(compared_table(on_device))

        draw(target, paint)
    elif format is CompareFormat.JSON:
        text = comparison_formats.comparison_json(result, per_layer=per_layer, indent=indent)
        if on_device is not None:
            from convcost.render.latency_formats import with_latency_json

            text = with_latency_json(text, on_device, indent=indent)
        emit(text, target)
    elif format is CompareFormat.CSV:
        if per_layer:
            from convcost.render import formats

            emit(formats.to_csv(comparison_formats.renamed(result.entries)), target)
        else:
            text = comparison_formats.comparison_csv(result)
            if on_device is not None:
                from convcost.render.latency_formats import compared_csv

                text = compared_csv(text, on_device)
            emit(text, target)
    else:
        text = comparison_formats.comparison_markdown(
            result, exact=exact, show_coverage=show_coverage
        )
        if per_layer:
            from convcost.render import formats

            layers = formats.to_markdown(comparison_formats.renamed(result.entries), exact=exact)
            text = f"{layers}\n{text}"
        if on_device is not None:
            from convcost.render.latency_formats import compared_markdown

            text = f"{text}\n{compared_markdown(on_device)}"
        emit(text, target)


def _by_convention(
    specs: list[str],
    convention: str,
    format: CompareFormat,
    target: Path | None,
    options: tuple[int, str, bool, int | None],
    loader: Callable[[str], Spec],
) -> bool:
    """``--convention A,B,…``: the conventions side by side instead of the comparison (False
    when it names only convcost's own, and the usual comparison runs)."""
    from convcost.cli import conventions

    if format is CompareFormat.HTML:
        if conventions.chosen(convention, several=True):
            raise UsageError(
                "the conventions side by side are a table, json, csv or markdown, not html",
                param_hint="--format",
            )
        return False
    return conventions.compare_command(
        specs, convention, loader, Format(format.value), target, options
    )


def _scatter_axes(x: str | None, y: str | None, *, execute: bool) -> tuple[Metric, Metric]:
    """``--scatter-x``/``--scatter-y`` as metrics (a usage error, exit 2, for an unknown one,
    or for ``time_ns`` without ``--execute``)."""
    from convcost.compare import Metric
    from convcost.html.comparison import DEFAULT_AXES

    chosen = []
    for option, value, default in (
        ("--scatter-x", x, DEFAULT_AXES[0]),
        ("--scatter-y", y, DEFAULT_AXES[1]),
    ):
        names = [metric.value for metric in Metric]
        if value is None:
            chosen.append(default)
            continue
        if value not in names:
            raise UsageError(f"{value!r} is not one of {', '.join(names)}", param_hint=option)
        if value == Metric.TIME.value and not execute:
            raise UsageError("time_ns is measured by --execute: add it", param_hint=option)
        chosen.append(Metric(value))
    return chosen[0], chosen[1]


def _on_device(result: Comparison, profile: DeviceProfile) -> list[ComparedLatency]:
    """Each compared entry's estimate on ``profile``, with ratios to the baseline."""
    from convcost.latency.estimate import estimate
    from convcost.render.latency_rows import compared_latency

    entries = result.entries
    return compared_latency(
        [(entry.name, entry.report, entry.execution) for entry in entries],
        result.baseline_name,
        [estimate(entry.report, profile) for entry in entries],
    )


class ExplainFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


@command()
def explain(
    spec: Annotated[
        str,
        Argument(
            help="A spec file (YAML; - reads standard input), or a bundled model's name.",
            show_default=False,
        ),
    ],
    layer: Annotated[
        str | None,
        Option(help="Only this layer (a path such as conv1, or a block's path)."),
    ] = None,
    variant: Annotated[str | None, Option(help="Only this variant of a `variants:` spec.")] = None,
    format: Annotated[
        ExplainFormat,
        Option(
            "--format",
            "-f",
            help="Output format: the worked example as text (table), JSON or Markdown.",
        ),
    ] = ExplainFormat.TABLE,
    output: OutputOption = None,
    max_layers: MaxLayersOption = DEFAULT_LIMITS.max_layers,
    max_spec_bytes: MaxSpecBytesOption = None,
    max_yaml_nodes: MaxYamlNodesOption = None,
    indent: IndentOption = None,
    input: ModelInputOption = None,
    allow_unsupported: AllowUnsupportedOption = False,
    convention: ConventionOption = None,
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

        convcost explain unet --layer cat1.down.up1 --convention thop
    """
    from convcost.explain import explain as explaining
    from convcost.render import explain as rendering

    target = output_target(output, inputs=[spec])
    try:
        loaded = resolve_spec(
            spec,
            limits=input_limits(limits(max_layers), max_spec_bytes, max_yaml_nodes),
            input_shape=model_input(input),
            allow_unsupported=allow_unsupported,
            params=spec_params(set_),
        )
        explanations = explaining(loaded, variant=variant, layer=layer)
    except ConvcostError as error:
        fail(error)
    found = None
    if convention is not None:
        from convcost.cli import conventions

        names = conventions.chosen(convention)
        if names:
            found = conventions.explained(loaded, names[0], variant=variant, layer=layer)
    if format is ExplainFormat.JSON:
        text = rendering.explanations_json(explanations, source=loaded.source, indent=indent)
        emit(text if found is None else conventions.explain_json(text, found, indent), target)
    elif format is ExplainFormat.MARKDOWN:
        text = rendering.explanations_markdown(explanations)
        if found is not None:
            text += "\n```text\n" + "\n".join(conventions.explain_text(found)).strip() + "\n```\n"
        emit(text, target)
    else:

        def paint(console: Console) -> None:
            rendering.print_explanations(console, explanations)
            if found is not None:
                conventions.print_lines(console, conventions.explain_text(found))

        draw(target, paint, soft_wrap=True)
