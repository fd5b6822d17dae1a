"""PyTorch modules into ONNX files, with ``torch.onnx.export``, for the importer to read.

torch is optional and imported here only, on first use. Of PyTorch's two exporters the default
is ``dynamo`` (``torch.export``, the exporter ``torch.onnx.export`` uses by default since
PyTorch 2.9): the older ``torchscript`` tracer (``dynamo=False``) is deprecated. Both give the
same layers and numbers; docs/import.md shows how their graphs differ.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from convcost.errors import ConvcostError, ModelError

Exporter = Literal["dynamo", "torchscript"]
"""``torch.onnx.export``'s two exporters: ``dynamo=True`` (``torch.export``) or ``dynamo=False``."""

EXPORTERS: tuple[Exporter, ...] = ("dynamo", "torchscript")
DEFAULT_EXPORTER: Exporter = "dynamo"

ONNX_EXTRA = "pip install 'convcost[onnx]'"
"""What installs the ``onnx`` package, as the missing-extra message says it."""


def require(module: str, install: str, purpose: str) -> Any:  # a module: Any, not typed here
    """Import the optional ``module``; its absence is one :class:`ModelError` saying how to
    install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModelError(f"{purpose} needs the {module} package: {install}") from None


def export_torch(
    module: object, input_shape: tuple[int, ...], path: Path, *, exporter: Exporter
) -> None:
    """Write ``module`` (a ``torch.nn.Module``) to the ONNX file ``path`` (and, for dynamo, its
    weights to ``path.data``), traced in eval mode on one zero tensor of ``(1, *input_shape)``;
    the module is put back in the mode it was in. Raises :class:`ModelError` (exit 2)."""
    torch = require("torch", "pip install torch", "importing a PyTorch module")
    if not isinstance(module, torch.nn.Module):
        raise ModelError(f"expected a torch.nn.Module, got {type(module).__name__}")
    if exporter not in EXPORTERS:
        raise ModelError(f"unknown exporter {exporter!r}: {' or '.join(EXPORTERS)}")
    require("onnx", ONNX_EXTRA, "exporting a PyTorch module")
    if exporter == "dynamo":
        require("onnxscript", "pip install onnxscript", "torch.onnx.export(dynamo=True)")
    training = module.training
    module.eval()
    try:
        example = torch.zeros((1, *input_shape))
        # the exporters report progress on standard output and warn about deprecations:
        # standard output is where `convcost import` writes the spec
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            _quiet_logging("torch.onnx"),
            torch.no_grad(),
        ):
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (example,), str(path), dynamo=exporter == "dynamo")
    except ConvcostError:
        raise
    except Exception as exc:  # the exporter's own failure: one line, not its traceback
        raise ModelError(f"torch.onnx.export ({exporter}) failed: {_first_line(exc)}") from exc
    finally:
        module.train(training)


@contextlib.contextmanager
def _quiet_logging(prefix: str) -> Iterator[None]:
    """Only errors from the loggers under ``prefix`` (the dynamo exporter logs a warning per
    torchvision operator it cannot register when torchvision is not installed)."""
    loggers = [logging.getLogger(prefix)]
    loggers += [
        logger
        for name, logger in logging.root.manager.loggerDict.items()
        if name.startswith(prefix + ".") and isinstance(logger, logging.Logger)
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def load_factory(reference: str) -> object:
    """Call the factory ``package.module:function`` (imported with the current folder on the
    module path, as ``python -m`` would) and return what it returns: the module to import."""
    module_name, colon, attribute = reference.partition(":")
    if not colon or not module_name or not attribute:
        raise ModelError(
            f"--torch {reference!r}: write package.module:factory, a function that returns "
            "the torch.nn.Module"
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or whatever the module raises as it loads
        raise ModelError(
            f"--torch {reference!r}: cannot import {module_name}: {_first_line(exc)}"
        ) from exc
    factory: object = module
    for name in attribute.split("."):
        if not hasattr(factory, name):
            raise ModelError(f"--torch {reference!r}: {module_name} has no attribute {attribute!r}")
        factory = getattr(factory, name)
    if not callable(factory):
        raise ModelError(f"--torch {reference!r}: {attribute} is not callable")
    try:
        return factory()
    except Exception as exc:  # the user's code failed: one line naming it
        raise ModelError(f"--torch {reference!r}: {attribute}() raised {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text.splitlines()[0]}" if text else name
