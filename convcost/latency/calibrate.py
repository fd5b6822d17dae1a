"""``convcost calibrate``: time synthetic layers on this machine and fit a device profile.

Only synthetic networks are measured (never the zoo's models, which validate the fit):
chains of convolutions across shapes (GEMM-like), depthwise convolutions, elementwise layers
and pooling over several tensor sizes, and tiny layers that show the fixed cost per layer.
Each chain runs through the same executor as ``analyze --execute`` (:mod:`convcost.executor`,
one untimed warm-up pass, then the shortest of ``repeat`` timed passes per layer: a shared
machine's load only ever adds to a time), and each layer's time is paired with its arithmetic and traffic from the engine. Per kernel class,
:func:`convcost.latency.fit.fit_class` then fits the shares of peak and the overhead.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

from convcost.engine import analyze_network
from convcost.latency.estimate import layer_work
from convcost.latency.fit import Fit, Sample, fit_class, kind_factor
from convcost.latency.kernels import KernelClass, kernel_class
from convcost.latency.profile import DeviceProfile, Efficiency
from convcost.network import Network
from convcost.report import DTYPE_BYTES
from convcost.spec import parse_spec
from convcost.valueclasses import dataclass

CHAINS: tuple[tuple[str, str], ...] = (
    (
        "convolutions",
        """
input: [64, 56, 56]
layers:
  - conv: {out: 64, kernel: 3, padding: 1, bias: false}
  - pointwise: {out: 256, bias: false}
  - pointwise: {out: 64, bias: false}
  - conv: {out: 128, kernel: 3, stride: 2, padding: 1, bias: false}
  - conv: {out: 128, kernel: 3, padding: 1, bias: false}
  - pointwise: {out: 512, bias: false}
  - conv: {out: 256, kernel: 3, stride: 2, padding: 1, bias: false}
  - conv: {out: 256, kernel: 3, padding: 1, bias: false}
  - pointwise: {out: 1024, bias: false}
  - conv: {out: 512, kernel: 3, stride: 2, padding: 1, bias: false}
  - conv: {out: 512, kernel: 3, padding: 1, bias: false}
  - conv: {out: 384, kernel: 5, padding: 2, groups: 4}
  - global_avgpool: {}
  - flatten: {}
  - linear: {out: 1000}
""",
    ),
    (
        "stem",
        """
input: [3, 224, 224]
layers:
  - conv: {out: 64, kernel: 7, stride: 2, padding: 3, bias: false}
  - maxpool: {kernel: 3, stride: 2, padding: 1}
  - conv: {out: 192, kernel: 3, padding: 1}
  - conv: {out: 32, kernel: 5, padding: 2}
""",
    ),
    (
        "depthwise",
        """
input: [3, 224, 224]
layers:
  - conv: {out: 32, kernel: 3, stride: 2, padding: 1, bias: false}
  - depthwise: {kernel: 3, padding: 1, bias: false}
  - pointwise: {out: 16, bias: false}
  - pointwise: {out: 96, bias: false}
  - depthwise: {kernel: 3, stride: 2, padding: 1, bias: false}
  - pointwise: {out: 24, bias: false}
  - pointwise: {out: 144, bias: false}
  - depthwise: {kernel: 5, padding: 2, bias: false}
  - depthwise: {kernel: 3, stride: 2, padding: 1, bias: false}
  - pointwise: {out: 384, bias: false}
  - depthwise: {kernel: 3, padding: 1, bias: false}
  - depthwise: {kernel: 3, stride: 2, padding: 1, bias: false}
  - pointwise: {out: 960, bias: false}
  - depthwise: {kernel: 3, padding: 1, bias: false}
  - depthwise: {kernel: 5, padding: 2, bias: false}
""",
    ),
    (
        "elementwise",
        """
input: [64, 112, 112]
layers:
  - batchnorm: {}
  - relu: {}
  - add:
      body: [{sigmoid: {}}]
      shortcut: []
  - hardswish: {}
  - maxpool: {kernel: 3, stride: 2, padding: 1}
  - batchnorm: {}
  - relu6: {}
  - multiply:
      identity: []
      gate: [{global_avgpool: {}}, {sigmoid: {}}]
  - concat:
      a: [{relu: {}}]
      b: []
  - avgpool: {kernel: 2, stride: 2}
  - batchnorm: {}
  - silu: {}
  - maxpool: {kernel: 2, stride: 2}
  - relu: {}
  - global_avgpool: {}
""",
    ),
    (
        "dense",
        """
input: [8192, 1, 1]
layers:
  - flatten: {}
  - linear: {out: 2048}
  - relu: {}
  - linear: {out: 4096}
  - linear: {out: 512}
""",
    ),
    (
        "activations",
        """
input: [96, 56, 56]
layers:
  - layernorm: {over: channels, eps: 1.0e-6}
  - gelu: {}
  - layer_scale: {init: 1.0e-6}
  - hardsigmoid: {}
  - tanh: {}
  - channel_shuffle: {groups: 2}
  - split: {parts: 2, index: 0}
  - swish: {}
  - softmax: {}
  - upsample: {scale: 2, mode: bilinear, align_corners: false}
  - conv_transpose: {out: 32, kernel: 2, stride: 2}
  - pixel_unshuffle: {factor: 2}
  - adaptive_avgpool: {size: 7}
  - leaky_relu: {}
""",
    ),
    (
        "small",
        """
input: [32, 8, 8]
layers:
  - relu: {}
  - batchnorm: {}
  - pointwise: {out: 32}
  - depthwise: {kernel: 3, padding: 1}
  - add:
      body: [{relu: {}}]
      shortcut: []
  - maxpool: {kernel: 2, stride: 2}
  - dropout: {}
  - flatten: {}
  - linear: {out: 10}
""",
    ),
)
"""Synthetic chains, named; their layers are the calibration's samples."""

Progress = Callable[[str, int, int], None]

KIND_FACTOR = 1.2
"""A kind whose samples ran more than this factor slower or faster than its class's fit gets
its own efficiency entry (a sigmoid's exp in NumPy costs several relus)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    profile: DeviceProfile
    fits: dict[KernelClass, Fit]
    samples: dict[KernelClass, list[Sample]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    """The fastest of several warm passes, per layer and in total."""

    layers: tuple[float, ...]
    """Each layer's shortest time over the passes (in the report's order)."""
    seconds: float
    """The shortest whole forward pass."""
    median_layers: tuple[float, ...]
    median_seconds: float


def time_network(network: Network, *, repeat: int) -> Timing:
    """Run ``network`` once untimed, then ``repeat`` times, keeping per layer the shortest
    time (a shared machine's load only ever adds to a time, so the minimum is the steadiest
    estimate of the unloaded one) and the median."""
    # numpy is loaded only when something is measured (an estimate never needs it)
    from convcost.executor import prepare  # noqa: PLC0415

    prepared = prepare(network)
    prepared.forward()  # warm-up: page faults, BLAS start-up, first calls
    runs = [prepared.forward() for _ in range(repeat)]
    per_layer = list(
        zip(*(tuple(layer.seconds for layer in run.layers) for run in runs), strict=True)
    )
    return Timing(
        layers=tuple(min(times) for times in per_layer),
        seconds=min(run.seconds for run in runs),
        median_layers=tuple(statistics.median(times) for times in per_layer),
        median_seconds=statistics.median(run.seconds for run in runs),
    )


def measure(
    *, repeat: int = 7, progress: Progress | None = None
) -> dict[KernelClass, list[Sample]]:
    """Run every chain of :data:`CHAINS` (float32, batch 1) and pair each layer's shortest
    time over ``repeat`` warm passes with its work and traffic (with the im2col matrix of a
    k×k conv, which the NumPy executor builds)."""
    from convcost.build import build  # noqa: PLC0415

    width = DTYPE_BYTES["float32"]
    samples: dict[KernelClass, list[Sample]] = {kernel: [] for kernel in KernelClass}
    for index, (name, text) in enumerate(CHAINS):
        if progress is not None:
            progress(name, index, len(CHAINS))
        spec = parse_spec(text, source=f"<calibration {name}>")
        network = build(spec, spec.variants[0])
        report = analyze_network(network)
        timing = time_network(network, repeat=repeat)
        for layer, seconds in zip(report.layers, timing.layers, strict=True):
            kernel = kernel_class(layer)
            work, moved = layer_work(layer, im2col=kernel is KernelClass.GEMM)
            samples[kernel].append(
                Sample(
                    label=f"{name}:{layer.path}",
                    work=float(work),
                    traffic=float(moved * width),
                    seconds=max(seconds, 1e-9),
                    kind=layer.kind,
                )
            )
    if progress is not None:
        progress("fit", len(CHAINS), len(CHAINS))
    return samples


def fit_profile(
    samples: dict[KernelClass, list[Sample]],
    *,
    device: str,
    backend: str,
    threads: int,
) -> Calibration:
    """The profile that best explains ``samples``: peak FLOP/s is the fastest GEMM sample's
    rate and bandwidth the fastest elementwise sample's, so a share of 1 is what this runtime
    reached at best; each class's shares and overhead are then fitted."""
    gemm = samples.get(KernelClass.GEMM, [])
    flowing = [
        s for kernel in (KernelClass.ELEMENTWISE, KernelClass.POOL) for s in samples.get(kernel, [])
    ]
    peak = max((s.work / s.seconds for s in gemm if s.work), default=1e9)
    bandwidth = max((s.traffic / s.seconds for s in flowing if s.traffic), default=1e9)
    fits: dict[KernelClass, Fit] = {
        kernel: fit_class(found, peak, bandwidth)
        for kernel, found in samples.items()
        if found and kernel is not KernelClass.VIEW
    }
    views = samples.get(KernelClass.VIEW, [])
    view_overhead = sorted(s.seconds for s in views)[len(views) // 2] if views else 0.0
    efficiency = {
        kernel.value: Efficiency(compute=fit.compute, memory=fit.memory, overhead=fit.overhead)
        for kernel, fit in fits.items()
    }
    efficiency[KernelClass.VIEW.value] = Efficiency(overhead=view_overhead)
    for kernel, fit in fits.items():
        kinds: dict[str, list[Sample]] = {}
        for sample in samples[kernel]:
            kinds.setdefault(sample.kind, []).append(sample)
        for kind, found in sorted(kinds.items()):
            factor = kind_factor(found, peak, bandwidth, fit)
            if abs(math.log(factor)) > math.log(KIND_FACTOR):
                efficiency[kind] = Efficiency(
                    compute=fit.compute / factor, memory=fit.memory / factor, overhead=fit.overhead
                )
    profile = DeviceProfile(
        name=device,
        device=device,
        calibrated=True,
        backend=backend,
        threads=threads,
        peak_flops={"float32": peak, "float64": peak / 2},
        memory_bandwidth=bandwidth,
        im2col=True,
        overhead=min((f.overhead for f in fits.values()), default=0.0),
        efficiency=efficiency,
    )
    return Calibration(profile=profile, fits=fits, samples=samples)
