"""The memory estimator's per-layer workspace, against hand-computed element counts, and the
arrays the kernels really allocate (tracemalloc sees every NumPy buffer) against it.

Counts are in elements at batch 1; the walk adds a layer's input, its output (when it is a new
array) and its workspace. Nothing is freed before these single layers run, so there is no heap
slack, and the sizes stay far below glibc's mmap threshold.
"""

from __future__ import annotations

import tracemalloc
import weakref
from typing import Any

import numpy as np
import pytest

import convcost
from convcost.build import build
from convcost.executor import Prepared, prepare
from convcost.executor.memory import estimate_elements, parameter_elements


def _network(layer: str, shape: str) -> convcost.Network:
    spec = convcost.parse_spec(f"input: {shape}\nlayers:\n  - {layer}\n")
    return build(spec, spec.variants[0])


CASES = [
    # conv_transpose on [4, 5, 5], out 6, kernel 3, stride 2: full size (5 − 1)·2 + 3 = 11.
    # input 100; col2im contributions 6·9·25 = 1350; no padding, so the full-size sum is the
    # output itself, 6·11·11 = 726: 100 + 1350 + 726
    ("conv_transpose: {out: 6, kernel: 3, stride: 2}", "[4, 5, 5]", 2176),
    # padding 1 crops 11 to 9: output 6·9·9 = 486, plus the full-size sum 726 it is cut from:
    # 100 + 1350 + 726 + 486
    ("conv_transpose: {out: 6, kernel: 3, stride: 2, padding: 1}", "[4, 5, 5]", 2662),
    # groups 2: the grouped input made contiguous (100), the product and its regrouped copy
    # (2·1350), output 726: 100 + 100 + 2700 + 726
    ("conv_transpose: {out: 6, kernel: 3, stride: 2, groups: 2}", "[4, 5, 5]", 3626),
    # maxpool on [3, 7, 7], kernel 3, stride 2, padding 1: out (7 + 2 − 3)//2 + 1 = 4; the
    # padded copy is 3·9·9 = 243 (right pad max(1, 3·2 + 3 − 7 − 1) = 1): 147 + 243 + 3·16
    ("maxpool: {kernel: 3, stride: 2, padding: 1}", "[3, 7, 7]", 438),
    # ceil mode on [3, 6, 6], kernel 3, stride 2: out 3, the last window reads one column past
    # the input, so a 3·7·7 = 147 padded copy: 108 + 147 + 27
    ("maxpool: {kernel: 3, stride: 2, ceil_mode: true}", "[3, 6, 6]", 282),
    # no padding, no ceil: the windows are views of the input, no copy: 192 + 48
    ("maxpool: {kernel: 2}", "[3, 8, 8]", 240),
    # avgpool as the padded maxpool, plus its divisor table: int64 counts per output position
    # and their float copy, 4 elements per position (16): 438 + 64
    ("avgpool: {kernel: 3, stride: 2, padding: 1}", "[3, 7, 7]", 502),
]


@pytest.mark.parametrize(("layer", "shape", "expected"), CASES)
def test_workspace_by_hand(layer: str, shape: str, expected: int) -> None:
    assert estimate_elements(_network(layer, shape), 1, 4) == expected


# The same layers, large enough (2 to 8 MiB) that NumPy's arrays dwarf the fixed costs.
TRACED = [
    ("conv_transpose: {out: 16, kernel: 3, stride: 2}", "[32, 48, 48]"),
    ("conv_transpose: {out: 16, kernel: 3, stride: 2, padding: 1}", "[32, 48, 48]"),
    ("conv_transpose: {out: 16, kernel: 3, stride: 2, groups: 4}", "[32, 48, 48]"),
    ("maxpool: {kernel: 3, stride: 2, padding: 1}", "[32, 127, 127]"),
    ("maxpool: {kernel: 3, stride: 2, ceil_mode: true}", "[32, 128, 128]"),
    ("avgpool: {kernel: 3, stride: 2, padding: 1}", "[32, 127, 127]"),
    # a shifted product (kernels_conv.shifts): no padded copy, a product band per thread
    ("conv: {out: 8, kernel: 3, padding: 1}", "[32, 48, 48]"),
    ("conv: {out: 4, kernel: [3, 2], dilation: 2, padding: [2, 0]}", "[16, 150, 150]"),
    # im2col and a depthwise conv on padded slabs of input rows (kernels.PaddedBands)
    ("conv: {out: 32, kernel: 3, stride: 2, padding: 1}", "[32, 96, 96]"),
    ("depthwise: {kernel: 3, padding: 1}", "[64, 96, 96]"),  # a product per offset
    ("depthwise: {kernel: 3, stride: 2, padding: 1}", "[96, 96, 96]"),  # einsum
    ("depthwise: {kernel: 3}", "[32, 128, 128]"),  # unpadded: windows of the input itself
]
FIXED = 256 * 2**10
"""Python's own objects and NumPy's iteration buffers (8,192 elements per operand of a strided
in-place add, as col2im's): covered by RUN_OVERHEAD_BYTES in the full estimate."""


@pytest.mark.parametrize(("layer", "shape"), TRACED)
def test_kernels_allocate_at_most_the_estimate(layer: str, shape: str) -> None:
    """tracemalloc's peak over one forward pass (the input is drawn inside it; the weights are
    built before tracing starts) against the estimate: an upper bound (up to :data:`FIXED`),
    within 10%."""
    network = _network(layer, shape)
    prepared = prepare(network)
    tracemalloc.start()
    try:
        prepared.forward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = 4 * estimate_elements(network, 1, 4)
    assert 0.9 * estimate <= peak <= estimate + FIXED
    assert parameter_elements(network) == sum(step.params for step in prepared.steps.values())


def test_no_frame_keeps_an_array_after_its_last_reader() -> None:
    """The network input enters a group (``repeat: 3``): once the group's first conv has made
    its output, nothing may hold the input, though the group runs on (the estimator frees it
    there). The runner's frames once kept every group's input alive for all of the group
    (ResNet-50 at batch 8 grew 211 MiB against an estimate of 210.8, tests/test_memory_bound.py),
    and ``run`` the network input for the whole pass."""
    spec = convcost.parse_spec(
        "input: [8, 16, 16]\nlayers:\n  - conv: {out: 8, kernel: 1}\n    repeat: 3\n"
    )
    network = build(spec, spec.variants[0])
    prepared = prepare(network)
    drawn: list[weakref.ref[np.ndarray[Any, Any]]] = []
    original = Prepared._input

    def traced(self: Prepared, batch: int) -> np.ndarray[Any, Any]:
        x = original(self, batch)
        drawn.append(weakref.ref(x))
        return x

    alive: dict[str, bool] = {}

    def progress(path: str, done: int, total: int) -> None:
        alive[path] = drawn[0]() is not None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Prepared, "_input", traced)
        prepared.forward(progress=progress)
    # conv1.0 reports while its own frame still holds its input; after it, no one does
    assert alive == {"conv1.0": True, "conv1.1": False, "conv1.2": False}
