"""Each peer tool's figure on every bundled model next to its ``--convention`` preset.

Run from the repository root with torch and the pinned peers installed (.ci/peers.txt,
``pip install --no-deps -r .ci/peers.txt``):

    PYTHONPATH=. python tests/bench/conventions.py            # every zoo model
    PYTHONPATH=. python tests/bench/conventions.py unet       # some

Prints a Markdown table per model (docs/peers.md records the output): what the tool printed
on the plain-torch reference (tests/torch_models.py, tests/torch_models_modern.py), what the
preset computes from the spec alone, and whether they are equal.
"""

from __future__ import annotations

import sys
import warnings

import torch

import convcost
from convcost import zoo
from convcost.conventions import convention
from convcost.conventions.count import count_spec
from tests import peer_tools
from tests.torch_models import MODELS
from tests.torch_models_modern import MODERN_MODELS


def main(names: list[str]) -> None:
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)  # tiny passes: spinning worker threads cost more than they save
    peer_tools.calflops_module()
    print("| model | tool | unit | tool's figure | preset | equal | − convcost MACs |")
    print("|---|---|---|---:|---:|---|---:|")
    for name in names or zoo.names():
        make, shape = (MODELS[name], (3, 224, 224)) if name in MODELS else MODERN_MODELS[name]
        model = make().eval()
        spec = convcost.load_spec(zoo.find(name))  # type: ignore[arg-type]
        for tool, (_, run) in peer_tools.TOOLS.items():
            rules = convention(tool)
            figure = run(model, (1, *shape))
            counted = count_spec(spec, rules)
            factor = 2 if rules.unit == "FLOPs" else 1
            difference = figure - factor * counted.report.totals.macs
            print(
                f"| {name} | {tool} | {rules.unit} | {figure:,} | {counted.total:,} | "
                f"{'yes' if figure == counted.total else 'NO'} | {difference:+,} |"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
