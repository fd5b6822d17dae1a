"""ONNX files of the zoo's plain-torch references (tests/torch_models.py and
tests/torch_models_modern.py), exported with
``torch.onnx.export`` directly (not through convcost), each once per test session.

An export takes seconds (the dynamo exporter up to ~15 s of CPU for DenseNet-121), so the
session fixture ``onnx_exports`` (tests/conftest.py) hands out one :class:`Exports` whose
files every test shares. Import only where torch and onnx are importable.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from tests.torch_models import MODELS, torchvision_resnet50
from tests.torch_models_modern import MODERN_MODELS

Exporter = Literal["dynamo", "torchscript"]
EXPORTERS: tuple[Exporter, ...] = ("dynamo", "torchscript")

Mode = Literal["eval", "batchnorm"]
"""``eval``: eval mode, as a user exports for inference (both exporters fold a batchnorm into
the conv before it). ``batchnorm``: eval mode with ``training=TrainingMode.PRESERVE`` on the
TorchScript exporter, which keeps every BatchNormalization node (the dynamo exporter ignores
``training`` and folds them in its graph optimizer; ``optimize=False`` keeps them, but also
leaves its unoptimized Shape/Expand/CastLike plumbing, which no user ships)."""

INPUT_SHAPE = (3, 224, 224)

EXPORT_SHAPES = {"unet": (1, 64, 64)}
"""Where a model is exported at another input than its zoo spec's: U-Net at 1×512×512 costs
~20 s of export (both exporters) and ~190 GMACs of hooked forward; any side divisible by 16 is
the same network."""


def reference(name: str) -> tuple[Callable[[], torch.nn.Module], tuple[int, ...]]:
    """The plain-torch reference of the zoo model ``name`` (tests/torch_models.py or
    tests/torch_models_modern.py) and the input it is exported at."""
    if name in MODELS:
        return MODELS[name], INPUT_SHAPE
    factory, shape = MODERN_MODELS[name]
    return factory, EXPORT_SHAPES.get(name, shape)


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
            factory, shape = reference(name)
            export(trained_like(factory()), path, exporter=exporter, mode=mode, input_shape=shape)
            self.done[key] = path
        return self.done[key]


def trained_like(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """``model`` with its batchnorms' running statistics and shifts set to random values, as
    training leaves them. Freshly initialised, they fold into all-zero conv biases, which the
    dynamo exporter's optimizer then removes (``RemoveOptionalBiasFromConv``): an export no
    trained model gives."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                for tensor in (module.running_mean, module.bias):
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) - 0.5)
                module.running_var.copy_(
                    torch.rand(module.running_var.shape, generator=generator) + 0.5
                )
    return model


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


def write_tiny_models(folder: Path) -> None:
    """Small ONNX files made with onnx.helper: a conv on a symbolic input, unsupported
    operators, a Reshape whose shape lives in a missing external-data file."""

    def model(name: str, dims: list[object], *extra: Any, inits: tuple[Any, ...] = ()) -> Any:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
        w = numpy_helper.from_array(np.zeros((8, 3, 3, 3), np.float32), "w")
        nodes = [
            helper.make_node("Conv", ["x", "w"], ["c"], name="conv_a", kernel_shape=[3, 3]),
            helper.make_node("Relu", ["c"], ["y" if not extra else "r"], name="relu_a"),
            *extra,
        ]
        graph = helper.make_graph(nodes, name, [x], [y], [w, *inits])
        made = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        onnx.save(made, str(folder / f"{name}.onnx"))
        return made

    model("dynamic", ["N", 3, "H", "W"])
    model(
        "unsupported",
        [1, 3, 16, 16],
        helper.make_node("Cos", ["r"], ["c1"], name="cos_a"),
        helper.make_node("Cos", ["c1"], ["c2"], name="cos_b"),
        helper.make_node("Sin", ["c2"], ["y"], name="sin_a"),
    )
    shape = numpy_helper.from_array(np.array([1, -1], np.int64), "shape")
    external = model(
        "external",
        [1, 3, 16, 16],
        helper.make_node("Reshape", ["r", "shape"], ["y"], name="flatten_a"),
        inits=(shape,),
    )
    onnx.save(
        external,
        str(folder / "external.onnx"),
        save_as_external_data=True,
        location="external.onnx.data",
        size_threshold=0,  # every tensor, the Reshape's shape too
    )
    (folder / "external.onnx.data").unlink()


def model_folder(folder: Path) -> None:
    """The files docs/import.md, README.md and ``--help`` examples name, in ``folder``:

    - ``resnet50.onnx`` (+ ``resnet50.onnx.data``): torchvision's ResNet class with its module
      names (tests/torch_models.torchvision_resnet50), exported by the dynamo exporter, as the
      docs tell the reader to export ``torchvision.models.resnet50()``;
    - ``model.onnx``: a conv and a ReLU on an input of symbolic height and width, and the
      other small models of :func:`write_tiny_models`;
    - ``selu_net.onnx``: a conv, an ``nn.SELU`` (no convcost layer) and a conv, for
      ``--allow-unsupported``;
    - ``torchvision/models.py``: torchvision is not installable here, so ``--torch
      torchvision.models:resnet50`` finds this stand-in, which returns the same reference.
    """
    export(trained_like(torchvision_resnet50()), folder / "resnet50.onnx", exporter="dynamo")
    write_tiny_models(folder)
    (folder / "dynamic.onnx").rename(folder / "model.onnx")
    # docs/import.md's --allow-unsupported example: SELU has no convcost layer
    selu = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1),
        torch.nn.SELU(),
        torch.nn.Conv2d(16, 32, 3, stride=2, padding=1),
    )
    export(selu, folder / "selu_net.onnx", exporter="torchscript", input_shape=(3, 32, 32))
    (folder / "torchvision").mkdir()
    (folder / "torchvision" / "__init__.py").write_text("")
    (folder / "torchvision" / "models.py").write_text(
        "from tests.torch_models import torchvision_resnet18 as resnet18  # noqa: F401\n"
        "from tests.torch_models import torchvision_resnet50 as resnet50  # noqa: F401\n"
    )
