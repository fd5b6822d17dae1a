"""``convcost export``: a spec as a PyTorch source file or an ONNX model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

from convcost.cli.common import (
    MAX_SEED,
    MaxLayersOption,
    MaxSpecBytesOption,
    MaxYamlNodesOption,
    OutputOption,
    SetOption,
    emit,
    fail,
    input_limits,
    limits,
    output_target,
    resolve_spec,
    spec_params,
)
from convcost.cli.declare import Argument, Option, command
from convcost.errors import ConvcostError
from convcost.limits import DEFAULT_LIMITS

TARGETS = ("pytorch", "onnx")
"""What ``--to`` takes."""


@command("export")
def export_command(
    spec: Annotated[
        str,
        Argument(
            metavar="SPEC",
            help="The spec file (YAML; - reads standard input), or the name of a bundled model.",
            show_default=False,
        ),
    ],
    to: Annotated[
        str,
        Option(
            "--to",
            metavar="pytorch|onnx",
            help="pytorch: one Python file of nn.Module classes (imports only torch); "
            "onnx: an ONNX model (needs the onnx package: convcost[onnx]).",
            show_default=False,
        ),
    ],
    output: OutputOption = None,
    variant: Annotated[
        str | None,
        Option(
            metavar="NAME",
            help="Only this variant of a `variants:` spec [default: pytorch writes a class "
            "per variant; onnx the first variant].",
        ),
    ] = None,
    seed: Annotated[
        int,
        Option(
            min=0,
            max=MAX_SEED,
            metavar="N",
            help="onnx: seed of the random weights (0 to 2**32-1).",
        ),
    ] = 0,
    zeros: Annotated[bool, Option("--zeros", help="onnx: all weights zero.")] = False,
    max_layers: MaxLayersOption = DEFAULT_LIMITS.max_layers,
    max_spec_bytes: MaxSpecBytesOption = None,
    max_yaml_nodes: MaxYamlNodesOption = None,
    set_: SetOption = None,
) -> None:
    """Write a spec as code to train or deploy: a PyTorch file whose parameters, shapes and
    MACs are convcost's, or an ONNX model with the spec's layer names.

    Example:

        convcost export specs/quickstart.yaml --to pytorch -o quickstart.py

        convcost export resnet18 --to pytorch

        convcost export specs/conv3x3-vs-1x1.yaml --to pytorch --variant conv1x1
    """
    if to not in TARGETS:
        fail(ConvcostError(f"--to {to!r}: choose one of {', '.join(TARGETS)}"))
    target = output_target(output, inputs=[spec])
    params = spec_params(set_)
    if to == "onnx" and target is None and sys.stdout is not None and sys.stdout.isatty():
        fail(ConvcostError("--to onnx writes a binary file: give it with -o FILE.onnx"))
    try:
        loaded = resolve_spec(
            spec,
            limits=input_limits(limits(max_layers), max_spec_bytes, max_yaml_nodes),
            params=params,
        )
        if to == "pytorch":
            from convcost.export.pytorch import pytorch_source

            text = pytorch_source(loaded, variant=variant)
        else:
            from convcost.export.onnx_model import onnx_bytes

            data = onnx_bytes(loaded, variant=variant, seed=seed, zeros=zeros)
    except ConvcostError as error:
        fail(error)
    if to == "pytorch":
        emit(text, target)
    else:
        _write_bytes(data, target)


def _write_bytes(data: bytes, target: Path | None) -> None:
    """``data`` to standard output's binary stream, or atomically to the file ``target``."""
    if target is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from convcost.output import replace_atomically

    try:
        with replace_atomically(target) as handle:
            handle.flush()
            handle.buffer.write(data)
    except ConvcostError as error:
        fail(error)
