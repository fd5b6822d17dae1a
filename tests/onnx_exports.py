"""ONNX files of the zoo's plain-torch references (tests/torch_models.py), exported with
``torch.onnx.export`` directly (not through convcost), each once per test session.

An export takes seconds (the dynamo exporter up to ~15 s of CPU for DenseNet-121), so the
session fixture ``onnx_exports`` (tests/conftest.py) hands out one :class:`Exports` whose
files every test shares. Import only where torch and onnx are importable.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Literal

import torch

from tests.torch_models import MODELS

Exporter = Literal["dynamo", "torchscript"]
EXPORTERS: tuple[Exporter, ...] = ("dynamo", "torchscript")

Mode = Literal["eval", "batchnorm"]
"""``eval``: eval mode, as a user exports for inference (both exporters fold a batchnorm into
the conv before it). ``batchnorm``: eval mode with ``training=TrainingMode.PRESERVE`` on the
TorchScript exporter, which keeps every BatchNormalization node (the dynamo exporter ignores
``training`` and folds them in its graph optimizer; ``optimize=False`` keeps them, but also
leaves its unoptimized Shape/Expand/CastLike plumbing, which no user ships)."""

INPUT_SHAPE = (3, 224, 224)


class Exports:
    """The exports of one session, in ``folder/NAME-EXPORTER-MODE/NAME.onnx``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.done: dict[tuple[str, Exporter, Mode], Path] = {}

    def path(self, name: str, exporter: Exporter = "dynamo", mode: Mode = "eval") -> Path:
        """The ONNX file of the zoo model ``name``, exported on first use."""
        key = (name, exporter, mode)
        if key not in self.done:
            folder = self.folder / f"{name}-{exporter}-{mode}"
            folder.mkdir()
            path = folder / f"{name}.onnx"
            export(MODELS[name](), path, exporter=exporter, mode=mode)
            self.done[key] = path
        return self.done[key]


def export(
    model: torch.nn.Module,
    path: Path,
    *,
    exporter: Exporter,
    mode: Mode = "eval",
    input_shape: tuple[int, ...] = INPUT_SHAPE,
) -> None:
    """``torch.onnx.export`` of ``model`` in eval mode on a zero batch of one."""
    options: dict[str, object] = {}
    if mode == "batchnorm":
        assert exporter == "torchscript", "only the TorchScript exporter keeps batchnorm"
        options["training"] = torch.onnx.TrainingMode.PRESERVE
    model.eval()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),  # the dynamo exporter's progress lines
        torch.no_grad(),
    ):
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation warning
        torch.onnx.export(
            model,
            (torch.zeros(1, *input_shape),),
            str(path),
            dynamo=exporter == "dynamo",
            **options,  # type: ignore[arg-type]
        )
