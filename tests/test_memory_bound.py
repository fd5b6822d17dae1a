"""The memory estimate of ``--execute`` is an upper bound on the growth in resident memory a run
really causes, and not a loose one: for every layer kind, 0.7 ≤ measured / estimated ≤ 1.0.

Each kind is a one-layer spec (or one block) whose tensors are 15 to 70 MiB, so that they dwarf
the interpreter; each runs in a fresh process (two at a time), which reads the baseline after
resetting the kernel's high-water mark and the peak (VmHWM) after the run. The same table, and
the zoo models, are measured by tests/bench/bench_memory.py (docs/benchmarks.md).

Two zoo models at batch 8 run here too (about 25 s between them, VGG-16 also with 3 timed passes): ResNet-50 (residual blocks in
nested groups, arrays of 3 to 25 MiB, all from glibc's heap in the timed pass) and VGG-16 (a
735 MiB run whose peak is its first 224×224 conv, banded on every thread). Both once peaked
above the estimate: ResNet-50 by 0.1–0.3 MiB (each group's input was kept alive by the runner's
frames for the whole group), VGG-16 by 1.1–1.5 MiB (the input, a heap array in the timed pass,
left its freed pages resident at the peak).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from convcost import zoo

ROOT = Path(__file__).parent.parent

# (name, spec): one layer (or one block) on an input large enough to dominate the process
KINDS: dict[str, str] = {
    "conv 3×3": "input: [32, 256, 256]\nlayers:\n  - conv: {out: 64, kernel: 3, padding: 1}\n",
    "conv 1×1": "input: [64, 128, 128]\nlayers:\n  - conv: {out: 128, kernel: 1}\n",
    "conv 1×1 stride 2": "input: [64, 192, 192]\nlayers:\n  - conv: {out: 64, kernel: 1, stride: 2}\n",
    "conv grouped": "input: [64, 96, 96]\nlayers:\n  - conv: {out: 64, kernel: 3, padding: 1, groups: 4}\n",
    "conv 3×3 shifted": "input: [128, 192, 192]\nlayers:\n  - conv: {out: 32, kernel: 3, padding: 1}\n",
    "depthwise": "input: [64, 128, 128]\nlayers:\n  - depthwise: {kernel: 3, padding: 1}\n",
    "depthwise wide": "input: [128, 128, 128]\nlayers:\n  - depthwise: {kernel: 3, stride: 2, padding: 1}\n",
    "conv 3-D": "input: [16, 32, 64, 64]\nlayers:\n  - conv: {out: 16, kernel: 3, padding: 1}\n",
    "conv_transpose": "input: [64, 96, 96]\nlayers:\n  - conv_transpose: {out: 32, kernel: 2, stride: 2}\n",
    "conv_transpose padded": "input: [64, 96, 96]\nlayers:\n  - conv_transpose: {out: 32, kernel: 4, stride: 2, padding: 1}\n",
    "conv_transpose grouped": "input: [64, 96, 96]\nlayers:\n  - conv_transpose: {out: 32, kernel: 2, stride: 2, groups: 4}\n",
    "linear": "input: [1024, 2, 2]\nlayers:\n  - flatten: {}\n  - linear: {out: 4096}\n",
    "maxpool": "input: [64, 256, 256]\nlayers:\n  - maxpool: {kernel: 3, stride: 2, padding: 1}\n",
    "maxpool ceil": "input: [64, 255, 255]\nlayers:\n  - maxpool: {kernel: 2, ceil_mode: true}\n",
    "avgpool": "input: [64, 256, 256]\nlayers:\n  - avgpool: {kernel: 3, stride: 2, padding: 1}\n",
    "global_avgpool": "input: [64, 256, 256]\nlayers:\n  - global_avgpool: {}\n",
    "global_maxpool": "input: [64, 256, 256]\nlayers:\n  - global_maxpool: {}\n",
    "adaptive_avgpool down": "input: [64, 256, 256]\nlayers:\n  - adaptive_avgpool: {size: [7, 7]}\n",
    "adaptive_avgpool up": "input: [64, 96, 96]\nlayers:\n  - adaptive_avgpool: {size: [192, 192]}\n",
    "adaptive_maxpool up": "input: [64, 96, 96]\nlayers:\n  - adaptive_maxpool: {size: [192, 192]}\n",
    "batchnorm": "input: [64, 256, 256]\nlayers:\n  - batchnorm: {}\n",
    "layer_scale": "input: [64, 256, 256]\nlayers:\n  - layer_scale: {}\n",
    "layernorm": "input: [64, 256, 256]\nlayers:\n  - layernorm: {}\n",
    "layernorm all": "input: [64, 256, 256]\nlayers:\n  - layernorm: {over: all}\n",
    "groupnorm": "input: [64, 256, 256]\nlayers:\n  - groupnorm: {groups: 8}\n",
    "instancenorm": "input: [64, 256, 256]\nlayers:\n  - instancenorm: {}\n",
    **{
        function: f"input: [64, 256, 256]\nlayers:\n  - {function}: {{}}\n"
        for function in (
            "relu",
            "relu6",
            "sigmoid",
            "silu",
            "gelu",
            "tanh",
            "hardswish",
            "hardsigmoid",
        )
    },
    "leaky_relu": "input: [64, 256, 256]\nlayers:\n  - leaky_relu: {slope: 0.1}\n",
    "prelu": "input: [64, 256, 256]\nlayers:\n  - prelu: {}\n",
    "elu": "input: [64, 256, 256]\nlayers:\n  - elu: {}\n",
    "softmax": "input: [64, 256, 256]\nlayers:\n  - softmax: {}\n",
    "mish": "input: [64, 256, 256]\nlayers:\n  - mish: {}\n",
    "gelu tanh": "input: [64, 256, 256]\nlayers:\n  - gelu: {approximate: tanh}\n",
    "mish (copy)": "input: [64, 256, 256]\nlayers:\n  - add: {a: [{mish: {}}], b: []}\n",
    "prelu (copy)": "input: [64, 256, 256]\nlayers:\n  - add: {a: [{prelu: {}}], b: []}\n",
    "softmax (copy)": "input: [64, 256, 256]\nlayers:\n  - add: {a: [{softmax: {}}], b: []}\n",
    "flatten": "input: [64, 256, 256]\nlayers:\n  - flatten: {}\n",
    "dropout": "input: [64, 256, 256]\nlayers:\n  - dropout: {}\n",
    "channel_shuffle": "input: [64, 256, 256]\nlayers:\n  - channel_shuffle: {groups: 4}\n",
    "split": "input: [64, 256, 256]\nlayers:\n  - split: {parts: 2, index: 1}\n  - relu: {}\n",
    "upsample nearest": "input: [64, 128, 128]\nlayers:\n  - upsample: {scale: 2}\n",
    "upsample bilinear": "input: [32, 128, 128]\nlayers:\n  - upsample: {scale: 2, mode: bilinear}\n",
    "upsample bicubic size": "input: [8, 512, 512]\nlayers:\n  - upsample: {size: [700, 900], mode: bicubic}\n",
    "pixel_shuffle": "input: [256, 128, 128]\nlayers:\n  - pixel_shuffle: {factor: 4}\n",
    "pixel_unshuffle": "input: [16, 512, 512]\nlayers:\n  - pixel_unshuffle: {factor: 2}\n",
    "pad constant": "input: [64, 256, 256]\nlayers:\n  - pad: {padding: [[1, 2], 3]}\n",
    "pad reflect": "input: [64, 256, 256]\nlayers:\n  - pad: {padding: 4, mode: reflect}\n",
    "pad replicate 3-D": "input: [16, 32, 128, 128]\nlayers:\n  - pad: {padding: 2, mode: replicate}\n",
    "crop": "input: [64, 256, 256]\nlayers:\n  - crop: {size: 200}\n  - relu: {}\n",
    "upsample trilinear": "input: [16, 32, 64, 64]\nlayers:\n  - upsample: {scale: [1, 2, 2], mode: trilinear, align_corners: true}\n",
    "attention": "input: [64, 32, 32]\nlayers:\n  - attention: {heads: 4}\n",
    "attention relative": (
        "input: [64, 32, 32]\nlayers:\n  - attention: {heads: 4, relative_position: true, "
        "projection: false}\n"
    ),
    "custom (pass-through)": (
        "input: [64, 256, 256]\nlayers:\n  - custom: {params: '64 * 64 * 9'}\n  - relu: {}\n"
    ),
    "concat": "input: [32, 256, 256]\nlayers:\n  - concat: {a: [{relu: {}}], b: []}\n",
    "add (residual)": "input: [32, 256, 256]\nlayers:\n  - add: {body: [{relu: {}}], shortcut: []}\n",
    "multiply (gate)": "input: [32, 256, 256]\nlayers:\n  - multiply: {x: [], gate: [{global_avgpool: {}}, {sigmoid: {}}]}\n",
    "concat (named skip)": (
        "input: [32, 256, 256]\nlayers:\n  - relu: {}\n    name: a\n  - relu: {}\n"
        "  - relu: {}\n  - concat: [a, relu2]\n"
    ),
    "from (named input)": (
        "input: [32, 256, 256]\nlayers:\n  - relu: {}\n    name: a\n"
        "  - conv: {out: 64, kernel: 1}\n  - relu: {}\n    from: a\n  - add: [a, relu1]\n"
    ),
    "multiply (growing)": (
        "input: [32, 256, 256]\nlayers:\n  - multiply:\n"
        "      a: [{adaptive_avgpool: {size: [1, 256]}}]\n"
        "      b: [{adaptive_avgpool: {size: [256, 1]}}]\n"
    ),
}

ZOO: dict[str, tuple[str, int, int]] = {
    "resnet50 batch 8": ("resnet50", 8, 1),
    "vgg16 batch 8": ("vgg16", 8, 1),
    # the heap is not trimmed between timed passes: the second starts with every page the
    # first left, 28–34 MiB above a one-pass estimate here (memory.estimate_elements)
    "vgg16 batch 8, 3 timed passes": ("vgg16", 8, 3),
}
"""Zoo models, with the batch and the timed passes (``repeat``) they run with."""

PROBE = r"""
import json, sys
from convcost import build, load_spec, parse_spec
from convcost.executor import execute
from convcost.executor.memory import check_dtype, estimate_growth
source, text, batch, dtype, *rest = json.loads(sys.argv[1])
repeat = rest[0] if rest else 1
spec = parse_spec(text) if text else load_spec(source)
network = build(spec, spec.variants[0])
estimate = estimate_growth(network, batch=batch, width=check_dtype(dtype), passes=repeat)
run = execute(network, batch=batch, dtype=dtype, max_memory=2**62, repeat=repeat)
print(json.dumps({"estimate": estimate, "measured": run.peak_rss_bytes - run.baseline_rss_bytes}))
"""
"""Run in a fresh interpreter: argv[1] is JSON [spec path, spec text, batch, dtype] and,
optionally, the timed passes (``repeat``)."""

linux_only = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux's VmHWM reset"
)


def _probe(text: str, source: str = "", batch: int = 1, repeat: int = 1) -> tuple[int, int]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([source, text, batch, "float32", repeat])],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    data = json.loads(result.stdout)
    return int(data["measured"]), int(data["estimate"])


@pytest.fixture(scope="module")
def measured() -> dict[str, tuple[int, int]]:
    """(measured growth, estimated growth) per kind and zoo model, two processes at a time."""
    cases = []
    for name, batch, repeat in ZOO.values():  # the longest first
        path = zoo.find(name)
        assert path is not None
        cases.append(("", str(path), batch, repeat))
    cases += [(text, "", 1, 1) for text in KINDS.values()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda case: _probe(*case), cases)
        return dict(zip([*ZOO, *KINDS], results, strict=True))


@linux_only
@pytest.mark.parametrize("kind", [*KINDS, *ZOO])
def test_estimate_is_a_tight_upper_bound(kind: str, measured: dict[str, tuple[int, int]]) -> None:
    growth, estimate = measured[kind]
    assert growth <= estimate, f"{kind}: measured {growth / 2**20:.1f} MiB > estimated"
    assert growth >= 0.7 * estimate, f"{kind}: {growth / 2**20:.1f} of {estimate / 2**20:.1f} MiB"
