"""Run the peer tools for real: each function returns the figure a convention reproduces.

Import only after ``require``-ing the tool (tests/conftest.py). calflops 0.3.2's package
``__init__`` imports its Hugging Face helpers (transformers, accelerate, huggingface_hub);
:func:`calflops_module` loads its ``flops_counter`` module without them, through a bare
package entry whose ``__path__`` is calflops' folder, so ``__init__`` never runs.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import sys
import types
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn


def calflops_module() -> types.ModuleType:
    """``calflops.flops_counter``, imported without running ``calflops/__init__.py``."""
    loaded = sys.modules.get("calflops")
    if loaded is None or not hasattr(loaded, "__path__"):
        spec = importlib.util.find_spec("calflops")
        if spec is None or spec.origin is None:
            raise ImportError("calflops is not installed")
        package = types.ModuleType("calflops")
        package.__path__ = [str(Path(spec.origin).parent)]
        sys.modules["calflops"] = package
    return importlib.import_module("calflops.flops_counter")


def _quiet(run: Callable[[], object]) -> object:
    with (
        contextlib.redirect_stdout(io.StringIO()),
        warnings.catch_warnings(),
        torch.no_grad(),
    ):
        warnings.simplefilter("ignore")
        return run()


def torchinfo_total(model: nn.Module, shape: tuple[int, ...]) -> int:
    import torchinfo  # noqa: PLC0415

    return int(torchinfo.summary(model, shape, verbose=0).total_mult_adds)


def fvcore_total(model: nn.Module, shape: tuple[int, ...]) -> int:
    from fvcore.nn import FlopCountAnalysis  # noqa: PLC0415

    def run() -> object:
        analysis = FlopCountAnalysis(model, torch.zeros(shape))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return analysis.total()

    return int(_quiet(run))  # type: ignore[call-overload]


def ptflops_total(model: nn.Module, shape: tuple[int, ...]) -> int:
    from ptflops import get_model_complexity_info  # noqa: PLC0415

    macs, _ = _quiet(  # type: ignore[misc]
        lambda: get_model_complexity_info(
            model,
            shape[1:],
            as_strings=False,
            print_per_layer_stat=False,
            backend="pytorch",
        )
    )
    return int(macs)


def thop_total(model: nn.Module, shape: tuple[int, ...]) -> int:
    from thop import profile  # noqa: PLC0415

    macs, _ = _quiet(lambda: profile(model, inputs=(torch.zeros(shape),), verbose=False))  # type: ignore[misc]
    total = float(macs)
    assert total == int(total)
    return int(total)


def calflops_total(model: nn.Module, shape: tuple[int, ...]) -> int:
    calculate_flops = calflops_module().calculate_flops
    flops, _, _ = _quiet(  # type: ignore[misc]
        lambda: calculate_flops(
            model,
            input_shape=shape,
            output_as_string=False,
            print_results=False,
            print_detailed=False,
        )
    )
    return int(flops)


def torch_total(model: nn.Module, shape: tuple[int, ...]) -> int:
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415

    def run() -> object:
        with FlopCounterMode(display=False) as mode:
            model(torch.zeros(shape))
        return mode.get_total_flops()

    return int(_quiet(run))  # type: ignore[call-overload]


TOOLS: dict[str, tuple[str, Callable[[nn.Module, tuple[int, ...]], int]]] = {
    "torchinfo": ("torchinfo", torchinfo_total),
    "fvcore": ("fvcore.nn", fvcore_total),
    "ptflops": ("ptflops", ptflops_total),
    "thop": ("thop", thop_total),
    "calflops": ("calflops.flops_counter", calflops_total),
    "torch": ("torch.utils.flop_counter", torch_total),
}
"""Convention name → (the module to ``require``, the function that runs the tool)."""
