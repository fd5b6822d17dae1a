"""What torchinfo, fvcore, ptflops and thop report for the bundled models, next to convcost.

Run from the repository root in an environment that has torch and the peers installed
(they are not test dependencies):

    pip install torchinfo fvcore ptflops thop
    PYTHONPATH=. python tests/bench/peers.py resnet50 mobilenet_v2

Prints one Markdown table per model; docs/peers.md records the output.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings

import torch
import torchinfo
from fvcore.nn import FlopCountAnalysis, parameter_count
from ptflops import get_model_complexity_info
from thop import profile

import convcost
from convcost import zoo
from tests.torch_models import MODELS

INPUT = (1, 3, 224, 224)


def convcost_figures(name: str) -> dict[str, int]:
    path = zoo.find(name)
    assert path is not None
    totals = convcost.analyze(convcost.load_spec(path)).totals
    return {"params": totals.params, "macs": totals.macs, "flops": totals.flops, "ops": totals.ops}


def torchinfo_figures(model: torch.nn.Module) -> tuple[int, int]:
    stats = torchinfo.summary(model, INPUT, verbose=0)
    return stats.total_params, stats.total_mult_adds


def fvcore_figures(model: torch.nn.Module) -> tuple[int, int]:
    analysis = FlopCountAnalysis(model, torch.zeros(INPUT))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return parameter_count(model)[""], analysis.total()


def ptflops_figures(model: torch.nn.Module) -> tuple[int, int]:
    with contextlib.redirect_stdout(io.StringIO()):
        macs, params = get_model_complexity_info(
            model, INPUT[1:], as_strings=False, print_per_layer_stat=False, backend="pytorch"
        )
    return int(params), int(macs)


def thop_figures(model: torch.nn.Module) -> tuple[int, int]:
    with contextlib.redirect_stdout(io.StringIO()):
        macs, params = profile(model, inputs=(torch.zeros(INPUT),), verbose=False)
    return int(params), int(macs)


def main(names: list[str]) -> None:
    warnings.filterwarnings("ignore")
    for name in names:
        ours = convcost_figures(name)
        print(f"\n### {name}\n")
        print("| tool | parameters | reported MACs/FLOPs | − convcost MACs | ratio |")
        print("|---|---:|---:|---:|---:|")
        print(f"| convcost MACs | {ours['params']:,} | {ours['macs']:,} | 0 | 1.0000 |")
        print(
            f"| convcost MACs + ops | | {ours['macs'] + ours['ops']:,} | {ours['ops']:,} | {(ours['macs'] + ours['ops']) / ours['macs']:.4f} |"
        )
        for tool, figures in (
            ("torchinfo", torchinfo_figures),
            ("fvcore", fvcore_figures),
            ("ptflops (pytorch backend)", ptflops_figures),
            ("thop", thop_figures),
        ):
            params, count = figures(MODELS[name]().eval())
            print(
                f"| {tool} | {params:,} | {count:,} | {count - ours['macs']:+,} | {count / ours['macs']:.4f} |"
            )


if __name__ == "__main__":
    main(sys.argv[1:] or ["resnet50", "mobilenet_v2"])
