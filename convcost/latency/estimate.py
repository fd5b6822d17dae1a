"""The roofline estimate of a report on a device profile: per layer, the larger of its
arithmetic time and its memory time, plus a fixed overhead (docs/latency.md).

    t = overhead[class] + max(W · s / (peak[dtype] · compute[class]), B / (bandwidth · memory[class]))

W is the layer's FLOPs (2 · MACs) plus its elementwise ops, B its bytes read and written
(docs/cost-model.md, "Memory traffic"), the class its kernel class
(:mod:`convcost.latency.kernels`), s ≥ 1 the slowdown of a small product under the class's
half sizes (:mod:`convcost.latency.shape`; 1 for a datasheet profile). A layer of a kind the
profile's runtime folds into the conv before it (its ``fuses``, :mod:`convcost.latency.fusion`)
is bound ``fused``: 0 (the conv's own estimate stands for the fused kernel, as on ONNX Runtime),
or, when the profile has a ``fused`` entry (NumPy's executor runs the layer on each band of the
conv's output), the same formula at that entry's shares and overhead. Pure arithmetic: no
numpy, nothing measured.
"""

from __future__ import annotations

import enum

from convcost.errors import SpecError
from convcost.latency.fusion import fused_layers
from convcost.latency.kernels import KernelClass, kernel_class
from convcost.latency.profile import DeviceProfile
from convcost.latency.shape import im2col_elements, memory_seconds, product_dims, slowdown
from convcost.report import LayerReport, Report
from convcost.valueclasses import dataclass

__all__ = [
    "Bound",
    "Estimate",
    "LayerEstimate",
    "estimate",
    "im2col_elements",
    "layer_work",
    "peak",
]


class Bound(enum.StrEnum):
    COMPUTE = "compute"
    MEMORY = "memory"
    OVERHEAD = "overhead"
    """The layer moves and computes nothing (a view): only its fixed cost."""
    FUSED = "fused"
    """The runtime folds the layer into the conv before it (the profile's ``fuses``): 0, or
    priced by the profile's ``fused`` entry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerEstimate:
    path: str
    kernel: KernelClass
    bound: Bound
    seconds: float
    compute_seconds: float
    memory_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    device: str
    """The profile's name."""
    calibrated: bool
    backend: str | None
    layers: tuple[LayerEstimate, ...]
    """One per report layer, in the same order."""
    seconds: float

    def share(self, layer: LayerEstimate) -> float:
        return layer.seconds / self.seconds if self.seconds > 0 else 0.0


def peak(profile: DeviceProfile, dtype: str) -> float:
    """The profile's peak FLOP/s at ``dtype``; a :class:`SpecError` naming the dtypes it has."""
    rate = profile.peak_flops.get(dtype)
    if rate is None:
        known = ", ".join(profile.peak_flops)
        raise SpecError(
            f"--device {profile.name}: the profile gives no peak FLOP/s for {dtype}; it has "
            f"{known} (choose one with --dtype, or add {dtype} to the profile's peak_flops)"
        )
    return rate


def layer_work(layer: LayerReport, *, im2col: bool = False) -> tuple[int, int]:
    """(arithmetic, traffic): FLOPs plus ops, and elements moved (with ``im2col``, plus the
    window matrix of a k×k convolution, written and read once)."""
    cost = layer.cost
    moved = cost.traffic_elements
    if im2col:
        moved += 2 * im2col_elements(layer)
    return cost.flops + cost.ops, moved


def estimate(report: Report, profile: DeviceProfile) -> Estimate:
    rate = peak(profile, report.dtype)
    width = report.bytes_per_element
    bandwidth = profile.memory_bandwidth
    cache: dict[tuple[object, ...], LayerEstimate] = {}
    layers = []
    total = 0.0
    folded = fused_layers([layer.kind for layer in report.layers], profile.fuses)
    priced_fused = KernelClass.FUSED.value in profile.efficiency
    for layer, fused in zip(report.layers, folded, strict=True):
        kernel = kernel_class(layer)
        if fused and not priced_fused:
            layers.append(_fused(layer.path, kernel))
            continue
        priced = KernelClass.FUSED if fused else kernel
        work, moved = layer_work(layer, im2col=profile.im2col and kernel is KernelClass.GEMM)
        kind = layer.kind
        dims = product_dims(layer, priced)
        key = (kind, priced, work, moved, dims)
        known = cache.get(key)
        if known is None:
            share = profile.of(kind, priced)
            compute = work * slowdown(share.half, dims) / (rate * share.compute)
            weights = layer.cost.weights * width if kernel is KernelClass.GEMM else 0
            memory = memory_seconds(
                moved * width, weights, bandwidth, share.memory, share.cache, share.spill
            )
            if fused:
                bound = Bound.FUSED
            elif compute == 0 and memory == 0:
                bound = Bound.OVERHEAD
            else:
                bound = Bound.COMPUTE if compute >= memory else Bound.MEMORY
            seconds = profile.layer_overhead(kind, priced) + max(compute, memory)
            known = LayerEstimate(
                path="",
                kernel=kernel,
                bound=bound,
                seconds=seconds,
                compute_seconds=compute,
                memory_seconds=memory,
            )
            cache[key] = known
        layers.append(_at(known, layer.path))
        total += known.seconds
    return Estimate(
        device=profile.name,
        calibrated=profile.calibrated,
        backend=profile.backend,
        layers=tuple(layers),
        seconds=total,
    )


def _fused(path: str, kernel: KernelClass) -> LayerEstimate:
    return LayerEstimate(
        path=path,
        kernel=kernel,
        bound=Bound.FUSED,
        seconds=0.0,
        compute_seconds=0.0,
        memory_seconds=0.0,
    )


def _at(known: LayerEstimate, path: str) -> LayerEstimate:
    return LayerEstimate(
        path=path,
        kernel=known.kernel,
        bound=known.bound,
        seconds=known.seconds,
        compute_seconds=known.compute_seconds,
        memory_seconds=known.memory_seconds,
    )
