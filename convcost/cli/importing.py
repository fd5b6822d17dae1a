"""``convcost import``: an ONNX file or a PyTorch module as a spec a person can read and edit."""

from __future__ import annotations

import enum
from typing import Annotated

from convcost.cli.common import (
    AllowUnsupportedOption,
    ModelInputOption,
    OutputOption,
    emit,
    fail,
    model_input,
    output_target,
)
from convcost.cli.declare import Argument, Option, command
from convcost.errors import ConvcostError


class ExporterChoice(enum.StrEnum):
    DYNAMO = "dynamo"
    TORCHSCRIPT = "torchscript"


DEFAULT_TORCH_INPUT = (3, 224, 224)
"""The input ``--torch`` traces a module on without ``--input``: an ImageNet image."""


@command("import")
def import_command(
    model: Annotated[
        str | None,
        Argument(
            metavar="MODEL", help="The ONNX file to import (or use --torch).", show_default=False
        ),
    ] = None,
    output: OutputOption = None,
    input: ModelInputOption = None,
    flat: Annotated[
        bool,
        Option(
            "--flat",
            help="Write every layer out, instead of reusable blocks for repeated subgraphs.",
        ),
    ] = False,
    torch: Annotated[
        str | None,
        Option(
            "--torch",
            metavar="MODULE:FACTORY",
            help="Import the torch.nn.Module that this function returns (package.module:function, "
            "imported from the current folder), exported with torch.onnx.export.",
        ),
    ] = None,
    exporter: Annotated[
        ExporterChoice,
        Option(help="--torch: torch.onnx.export's exporter (dynamo is torch.export)."),
    ] = ExporterChoice.DYNAMO,
    allow_unsupported: AllowUnsupportedOption = False,
) -> None:
    """Write a convcost spec for an ONNX model or a PyTorch module; analyze, compare, check and
    explain also take a .onnx file directly.

    Example:

        convcost import resnet50.onnx -o resnet50.yaml

        convcost import model.onnx --input 3x224x224 --flat

        convcost import --torch torchvision.models:resnet50 --input 3x224x224 -o resnet50.yaml
    """
    from convcost import importer
    from convcost.importer import torch_export

    if (model is None) == (torch is None):
        fail(ConvcostError("convcost import takes one ONNX file, or --torch MODULE:FACTORY"))
    target = output_target(output, inputs=[model] if model is not None else [])
    try:
        shape = model_input(input)
        if model is not None:
            text = importer.import_model(
                model, input_shape=shape, flat=flat, allow_unsupported=allow_unsupported
            )
        else:
            assert torch is not None
            module = torch_export.load_factory(torch)
            text = importer.import_torch(
                module,
                shape or DEFAULT_TORCH_INPUT,
                name=torch.rpartition(":")[2].rpartition(".")[2],
                flat=flat,
                exporter="dynamo" if exporter is ExporterChoice.DYNAMO else "torchscript",
                allow_unsupported=allow_unsupported,
            )
    except ConvcostError as error:
        fail(error)
    emit(text, target)
