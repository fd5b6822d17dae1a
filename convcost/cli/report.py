"""``convcost report``: the self-contained HTML report of one or more networks."""

from __future__ import annotations

from convcost.cli.common import (
    AllowUnsupportedOption,
    BatchOption,
    DeviceOption,
    DTypeOption,
    MaxLayersOption,
    MaxSpecBytesOption,
    MaxYamlNodesOption,
    ModelInputOption,
    OutputOption,
    SetOption,
    SpecsArgument,
    check_dtype,
    device_profile,
    emit,
    fail,
    input_limits,
    limits,
    model_input,
    output_target,
    print_warnings,
    resolve_spec,
    spec_params,
)
from convcost.cli.declare import command
from convcost.errors import ConvcostError
from convcost.limits import DEFAULT_LIMITS


@command()
def report(
    specs: SpecsArgument,
    output: OutputOption = None,
    batch: BatchOption = 1,
    dtype: DTypeOption = "float32",
    max_layers: MaxLayersOption = DEFAULT_LIMITS.max_layers,
    max_spec_bytes: MaxSpecBytesOption = None,
    max_yaml_nodes: MaxYamlNodesOption = None,
    input: ModelInputOption = None,
    allow_unsupported: AllowUnsupportedOption = False,
    set_: SetOption = None,
    device: DeviceOption = None,
) -> None:
    """Write one self-contained HTML page (inline SVG and CSS, no script, nothing fetched):
    the structure, MACs and parameters per layer, receptive field and jump against depth,
    live memory with its peak, and the totals (docs/report.md).

    Example:

        convcost report resnet50 -o resnet50.html

        convcost report specs/one5x5-vs-two3x3.yaml -o variants.html

        convcost report densenet121 --batch 8 --dtype float16 -o densenet.html

        convcost report mobilenet_v2 --device raspberry-pi-4 -o mobilenet.html
    """
    from convcost.html.page import analyses, report_page

    check_dtype(dtype)
    target = output_target(output, inputs=specs)
    bounds = input_limits(limits(max_layers), max_spec_bytes, max_yaml_nodes)
    params = spec_params(set_)
    profile = device_profile(device)
    try:
        shape = model_input(input)
        found = [
            analysis
            for source in specs
            for analysis in analyses(
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
    print_warnings([analysis.report for analysis in found])
    extra = []
    if profile is not None:
        from convcost.html.latency import latency_section

        extra.append(latency_section(profile))
    emit(report_page(found, extra=extra), target)
