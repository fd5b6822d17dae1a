"""``convcost sweep`` end to end: every point of a MobileNetV2 family sweep against plain PyTorch
(tests/torch_models) and individually analyzed points, and its Pareto front against a brute
force over those independent numbers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import convcost
from convcost import sweep
from convcost.budget import Budget, Budgeted
from convcost.check import flag_limit
from tests.conftest import require
from tests.test_sweep import FAMILY, brute_front

torch = require("torch")
from torch import nn  # noqa: E402

from tests.torch_models import (  # noqa: E402
    InvertedResidual,
    _conv_bn_relu6,
    _make_divisible,
    count_conv_linear,
)

ROOT = Path(__file__).parent.parent


def torch_family(width: float, depth: float) -> Any:
    """torchvision's MobileNetV2(width_mult=width), each stage of n >= 2 blocks with
    ceil(n · depth) of them (the family spec's depth rule)."""
    channels = _make_divisible(32 * width)
    layers: list[Any] = _conv_bn_relu6(3, channels, 3, 2)
    for t, c, n, s in (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ):
        out = _make_divisible(c * width)
        for i in range(math.ceil(n * depth) if n >= 2 else n):
            layers.append(InvertedResidual(channels, out, s if i == 0 else 1, t))
            channels = out
    last = _make_divisible(1280 * max(1.0, width))
    layers += _conv_bn_relu6(channels, last)
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(last, 1000)
    )


def test_a_sweep_matches_pytorch_and_individual_analyses_and_its_front_the_brute_force() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two cores shared: torch's thread pool only contends
    try:
        check_sweep()
    finally:
        torch.set_num_threads(threads)


def check_sweep() -> None:
    text = (ROOT / FAMILY).read_text()
    axes = [
        sweep.parse_axis("width=0.35,0.5,1.0,1.4"),
        sweep.parse_axis("depth=1,1.3"),
        sweep.parse_axis("resolution=64,96"),
    ]
    points = sweep.grid(axes)
    limit = 30_000_000
    setting = sweep.Setting(
        text=text, source=FAMILY, flags=Budget((flag_limit(Budgeted.MACS, "30M"),))
    )
    objectives = sweep.parse_objectives(
        "macs,params,peak_memory,max:resolution", ["width", "depth", "resolution"]
    )
    result = sweep.run(setting, points, objectives, jobs=2)

    assert [e.point for e in result.evaluations] == list(points)
    oracle = []
    for evaluation in result.evaluations:
        values = dict(evaluation.point)
        with torch.device("meta"):  # no weight initialisation: its values are not needed
            model = torch_family(float(values["width"]), float(values["depth"]))
        model = model.to_empty(device="cpu")
        counted = count_conv_linear(model, (3, values["resolution"], values["resolution"]))
        params = sum(p.numel() for p in model.parameters())
        assert evaluation.metric(Budgeted.PARAMS) == params
        assert evaluation.metric(Budgeted.MACS) == counted.macs
        alone = convcost.analyze(convcost.load_spec(ROOT / FAMILY, params=values))
        assert evaluation.metric(Budgeted.PEAK_MEMORY) == alone.peak_memory_bytes
        assert evaluation.fits == (counted.macs <= limit)
        oracle.append((counted.macs, params, alone.peak_memory_bytes, -values["resolution"]))
    fitting = [i for i, vector in enumerate(oracle) if vector[0] <= limit]
    assert 0 < len(fitting) < len(points)  # the limit cuts the grid
    expected = brute_front([oracle[i] for i in fitting])
    assert set(result.front) == {fitting[i] for i in expected}
    assert len(result.front) > 1
