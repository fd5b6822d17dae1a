"""How much memory a run may take: the pre-run estimate and the machine's limits.

The model follows what :mod:`convcost.executor.kernels` allocates: at each layer, the tensors
still needed later (block inputs and finished branch outputs) plus the layer's input, output
and temporary workspace (padded copy, im2col columns, col2im contributions).
"""

from __future__ import annotations

import math
import os
import resource
import sys
from typing import assert_never

from convcost.errors import SpecError
from convcost.layers import (
    Activation,
    AdaptivePool,
    AvgPool,
    Conv,
    ConvTranspose,
    Function,
    MaxPool,
    Shape,
)
from convcost.network import GroupNode, LayerNode, MergeKind, MergeNode, Network, Node

EXECUTE_DTYPES = {"float32": 4, "float64": 8}
"""Element types ``--execute`` runs in, with their bytes per element."""

BLAS_WORKSPACE_BYTES = 32 * 2**20
"""The matrix library's packing buffers, touched on the first large product (OpenBLAS, 2 threads:
27 MiB measured after one (100352 × 147) · (147 × 64) sgemm)."""


def check_dtype(dtype: str) -> int:
    """Bytes per element of an executable dtype; a :class:`SpecError` for any other."""
    if dtype not in EXECUTE_DTYPES:
        raise SpecError(
            f"--execute runs in {' or '.join(EXECUTE_DTYPES)} only, got --dtype {dtype} "
            "(the other dtypes are for the activation-memory figures)"
        )
    return EXECUTE_DTYPES[dtype]


def available_bytes() -> int:
    """MemAvailable from /proc/meminfo, or the physical memory where that is missing."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def current_rss_bytes() -> int:
    """The process's resident memory now (/proc/self/statm), or its peak so far elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far: VmHWM from /proc/self/status where there is
    one (ru_maxrss would carry over the parent's peak across fork and exec), else ru_maxrss
    (KiB on Linux, bytes on macOS)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def leaves(nodes: tuple[Node, ...]) -> list[LayerNode]:
    """Every leaf layer, in execution order."""
    found: list[LayerNode] = []
    for node in nodes:
        match node:
            case LayerNode():
                found.append(node)
            case GroupNode():
                found += leaves(node.children)
            case MergeNode():
                for branch in node.branches:
                    found += leaves(branch.nodes)
            case _:
                assert_never(node)
    return found


def _padded(shape: Shape, pads: tuple[tuple[int, int], ...]) -> int:
    if not any(lo or hi for lo, hi in pads):
        return 0
    return shape[0] * math.prod(s + lo + hi for s, (lo, hi) in zip(shape[1:], pads, strict=True))


def _workspace(node: LayerNode, width: int) -> int:
    """Elements of one sample's temporaries while the layer runs, beyond its input and output."""
    layer, shape, out = node.layer, node.input_shape, node.output_shape
    outputs = math.prod(out)
    match layer:
        case Conv():
            padded = _padded(shape, layer.padding)
            if layer.groups > 1 and shape[0] == layer.groups:
                return padded + outputs  # depthwise: the accumulator and one product
            if math.prod(layer.kernel) == 1 and layer.groups == 1 and not padded:
                return 0 if all(s == 1 for s in layer.stride) else shape[0] * math.prod(out[1:])
            columns = shape[0] * math.prod(layer.kernel) * math.prod(out[1:])
            return padded + columns + (outputs if layer.groups > 1 else 0)
        case ConvTranspose():
            contributions = layer.out * math.prod(layer.kernel) * math.prod(shape[1:])
            full = layer.out * math.prod(
                (size - 1) * s + d * (k - 1) + 1 + op
                for size, s, d, k, op in zip(
                    shape[1:],
                    layer.stride,
                    layer.dilation,
                    layer.kernel,
                    layer.output_padding,
                    strict=True,
                )
            )
            return contributions * (2 if layer.groups > 1 else 1) + full
        case MaxPool() | AvgPool():
            # the padded copy, at most one extra window per axis (ceil mode)
            return shape[0] * math.prod(
                size + 2 * p + k * d
                for size, p, k, d in zip(
                    shape[1:], layer.padding, layer.kernel, layer.dilation, strict=True
                )
            )
        case AdaptivePool():
            # the gathered table of the first axis: at most (L/out + 2) entries per output
            longest = -(-shape[1] // layer.size[0]) + 1
            return math.prod(shape) // shape[1] * layer.size[0] * longest * 2
        case Activation():
            if layer.function is Function.GELU:
                return outputs * 6 * 8 // width  # float64 temporaries of erf
            if layer.function in (
                Function.SIGMOID,
                Function.SWISH,
                Function.SILU,
                Function.HARDSWISH,
            ):
                return 2 * outputs
            return 0
        case _:
            return 0


class _Estimator:
    def __init__(self, batch: int, width: int) -> None:
        self.batch = batch
        self.width = width
        self.peak = 0

    def elements(self, shape: Shape) -> int:
        return self.batch * math.prod(shape)

    def sequence(self, nodes: tuple[Node, ...], held: int) -> None:
        for node in nodes:
            self.node(node, held)

    def node(self, node: Node, held: int) -> None:
        match node:
            case LayerNode():
                live = self.elements(node.input_shape) + self.elements(node.output_shape)
                self.peak = max(self.peak, held + live + self.batch * _workspace(node, self.width))
            case GroupNode():
                self.sequence(node.children, held)
            case MergeNode():
                # the block input stays alive for every branch; finished branch outputs wait for the merge
                block_input = self.elements(node.input_shape)
                done = 0
                for branch in node.branches:
                    self.sequence(branch.nodes, held + block_input + done)
                    done += self.elements(branch.output_shape)
                merged = self.elements(node.output_shape) if node.merge is MergeKind.CONCAT else 0
                self.peak = max(self.peak, held + block_input + done + merged)
            case _:
                assert_never(node)


def estimate_elements(network: Network, batch: int, width: int) -> int:
    """Peak activation and workspace elements alive at once (weights are added by the caller)."""
    estimator = _Estimator(batch, width)
    estimator.sequence(network.nodes, 0)
    return estimator.peak
