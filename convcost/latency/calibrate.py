"""``convcost calibrate``: time synthetic layers on this machine and fit a device profile.

Only synthetic networks are measured (never the zoo's models, which validate the fit,
:mod:`convcost.latency.grid`): chains of every kind of layer over several tensor sizes, tiny
layers that show the fixed cost per layer, and grids of one-layer GEMM and depthwise networks
spanning the product shapes real networks use. Each runs through the same executor as
``analyze --execute`` (:mod:`convcost.executor`; one untimed warm-up pass, then the shortest of
``repeat`` timed passes per layer: a shared machine's load only ever adds to a time), and each
layer's time is paired with its arithmetic, traffic and product shape from the engine. Per
kernel class, :func:`convcost.latency.fit.fit_class` (or, for GEMM and depthwise,
:func:`convcost.latency.fit_shape.fit_shaped`) then fits the shares of peak and the overhead.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence

from convcost.engine import analyze_network
from convcost.latency.estimate import layer_work
from convcost.latency.fit import Fit, Sample, fit_class, kind_factor
from convcost.latency.fit_shape import ShapedFit, fit_shaped
from convcost.latency.fit_spill import fit_spill
from convcost.latency.fusion import FUSIBLE, fused_layers
from convcost.latency.grid import (
    CHAINS,
    FUSION_CHAINS,
    depthwise_grid,
    flowing_grid,
    fusion_grid,
    gemm_grid,
)
from convcost.latency.kernels import KernelClass, kernel_class
from convcost.latency.probe import Probe
from convcost.latency.profile import MAX_SHARE, SHAPED, DeviceProfile, Efficiency
from convcost.latency.shape import memory_seconds, product_dims, slowdown
from convcost.network import Network
from convcost.report import DTYPE_BYTES, Report
from convcost.spec import parse_spec
from convcost.valueclasses import dataclass, replace

__all__ = ["CHAINS", "Calibration", "fit_profile", "measure", "seconds", "time_network"]

Progress = Callable[[str, int, int], None]
_Named = tuple[str, Network, Report]

KIND_FACTOR = 1.05
"""A kind whose samples ran more than this factor slower or faster than its class's fit gets
its own efficiency entry (a sigmoid's exp in NumPy costs several relus)."""
SAME_KERNEL = frozenset({"conv", "pointwise", "depthwise"})
"""Kinds that run their class's own kernel (its half sizes tell them apart): never their own
entry, so a 1×1 ``conv`` and a ``pointwise`` get the same estimate."""


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
    return timing_of([(run.seconds, [layer.seconds for layer in run.layers]) for run in runs])


def timing_of(passes: Sequence[tuple[float, Sequence[float]]]) -> Timing:
    """The :class:`Timing` of timed passes, each ``(seconds, per-layer seconds)``: per layer and
    in total the shortest and the median."""
    per_layer = list(zip(*(layers for _, layers in passes), strict=True))
    return Timing(
        layers=tuple(min(times) for times in per_layer),
        seconds=min(seconds for seconds, _ in passes),
        median_layers=tuple(statistics.median(times) for times in per_layer),
        median_seconds=statistics.median(seconds for seconds, _ in passes),
    )


def measure(
    *,
    repeat: int = 7,
    progress: Progress | None = None,
    quick: bool = False,
    backend: str = "numpy",
    threads: int | None = None,
    probe: Probe | None = None,
    between: Callable[[int, int], None] | None = None,
) -> dict[KernelClass, list[Sample]]:
    """Run every chain of :data:`CHAINS` and :data:`FUSION_CHAINS` and every network of the
    shape and fusion grids (:mod:`convcost.latency.grid`), float32 at batch 1, and pair each layer's shortest time
    over ``repeat`` warm passes with its work, traffic and product shape. The networks run in
    rounds, a few at a time (up to :data:`CHUNK_WEIGHTS` weights held at once): each round runs
    each network once, so a burst of load on a shared machine costs one pass of several
    networks rather than every pass of one. ``quick``: every :data:`QUICK_STEP`-th shape of
    each grid only (a coarse profile in seconds, for a smoke test).

    ``backend="onnxruntime"``: each network through ``--execute --backend onnxruntime``
    (:func:`convcost.executor.ort.execute_ort`, each layer's shortest of ``repeat`` passes) with
    ``threads`` intra-op threads; a layer that ORT folded into the
    conv before it (0 s of its own, :func:`fused_layers`) is kept as a 0-second sample, which
    :func:`fit_profile` turns into the profile's ``fuses`` rather than fitting.

    NumPy's executor runs some one-pass layers inside the conv before them too (an epilogue on
    each band, its time a share of the band's, :func:`_executor_fusions`): those layers'
    samples are :attr:`KernelClass.FUSED`, whose kinds become ``fuses`` and whose fit prices
    them; a layer it runs on a 1×1 conv's input bands (a prologue) is not a sample, nor is one
    where the executor and the estimate's rule (:func:`fused_layers`) disagree.

    ``probe``: the speed probe (:mod:`convcost.latency.probe`) runs once in every round (with
    ONNX Runtime, after every network), so its median rate is the machine's typical speed while
    the samples were taken (``fit_profile(probe=probe.rate)`` writes it in the profile).

    ``between(index, count)`` is called before each of the ``count`` rounds of networks (a
    validation runs its model's passes there, spread over the calibration's time, so that both
    meet the same machine)."""
    from convcost.build import build  # noqa: PLC0415

    width = DTYPE_BYTES["float32"]
    samples: dict[KernelClass, list[Sample]] = {kernel: [] for kernel in KernelClass}
    onnxruntime = backend == "onnxruntime"
    step = QUICK_STEP if quick else 1
    named = list(CHAINS) + list(FUSION_CHAINS) + list(fusion_grid())
    for grid in (gemm_grid, depthwise_grid, flowing_grid):
        named += grid()[::step]
    networks = []
    for name, text in named:
        fed = text.replace("layers:\n", FEED, 1)
        spec = parse_spec(fed, source=f"<calibration {name}>")
        network = build(spec, spec.variants[0])
        networks.append((name, network, analyze_network(network)))
    executor = {} if onnxruntime else _executor_fusions(networks)
    folds = frozenset(kind for epilogue, _ in executor.values() for kind in epilogue.values())
    done = 0
    chunks = _chunks(networks)
    for index, chunk in enumerate(chunks):
        if between is not None:
            between(index, len(chunks))
        if progress is not None:
            progress(chunk[0][0], done, len(networks))
        chunk_networks = [network for _, network, _ in chunk]
        if onnxruntime:
            timings = time_networks_ort(chunk_networks, repeat=repeat, threads=threads, probe=probe)
        else:
            timings = time_networks(chunk_networks, repeat=repeat, probe=probe)
        for (name, _, report), timing in zip(chunk, timings, strict=True):
            kinds = [layer.kind for layer in report.layers]
            watched = fused_layers(kinds, FUSIBLE)
            epilogue, prologue = executor.get(name, ({}, frozenset()))
            folded = fused_layers(kinds, folds)
            for layer, seconds, candidate, fold in zip(
                report.layers, timing, watched, folded, strict=True
            ):
                if layer.path == "feed" or (onnxruntime and not seconds and not candidate):
                    continue  # ORT attributed no kernel to it (a node it renamed): unmeasured
                if not onnxruntime and (layer.path in prologue or fold != (layer.path in epilogue)):
                    continue  # run on a conv's input bands, or folded where the rule says not
                kernel = KernelClass.FUSED if fold else kernel_class(layer)
                work, moved = layer_work(layer)
                samples[kernel].append(
                    Sample(
                        label=f"{name}:{layer.path}",
                        work=float(work),
                        traffic=float(moved * width),
                        seconds=0.0
                        if onnxruntime and candidate and not seconds
                        else max(seconds, 1e-9),
                        kind=layer.kind,
                        dims=product_dims(layer, kernel),
                        weight_bytes=float(layer.cost.weights * width)
                        if kernel is KernelClass.GEMM
                        else 0.0,
                    )
                )
        done += len(chunk)
    if progress is not None:
        progress("fit", len(networks), len(networks))
    return samples


def _executor_fusions(
    networks: list[_Named],
) -> dict[str, tuple[dict[str, str], frozenset[str]]]:
    """Per network of more than one layer after its feed: the layers NumPy's executor runs
    inside the conv before them (path → kind) and those it runs on a 1×1 conv's input bands
    (paths), as :func:`convcost.executor.prepare` plans them."""
    from convcost.executor import prepare  # noqa: PLC0415

    found = {}
    for name, network, report in networks:
        if len(report.layers) <= 2:  # the feed and one layer: nothing to fold
            continue
        kinds = {layer.path: layer.kind for layer in report.layers}
        prepared = prepare(network)
        epilogue = {
            node.path: kinds[node.path] for chain in prepared.fusions.values() for node in chain
        }
        prologue = frozenset(node.path for run, _ in prepared.prologues.values() for node in run)
        found[name] = (epilogue, prologue)
    return found


QUICK_STEP = 6
"""``calibrate --quick`` measures every sixth shape of each grid."""

FEED = "layers:\n  - relu: {}\n    name: feed\n"
"""A relu before every measured network, not itself a sample: the first layer of a forward
pass runs slower than the same layer later on (its input was drawn, not computed, and it
cannot work in place), and a network's layers are nearly all later ones."""

CHUNK_WEIGHTS = 16_000_000
"""The most weights (elements) the networks of one round hold at once (64 MB at float32)."""


def _chunks(networks: list[_Named]) -> list[list[_Named]]:
    chunks: list[list[_Named]] = [[]]
    held = 0
    for entry in networks:
        weights = entry[2].totals.weights
        if chunks[-1] and held + weights > CHUNK_WEIGHTS:
            chunks.append([])
            held = 0
        chunks[-1].append(entry)
        held += weights
    return chunks


def time_networks(
    networks: list[Network], *, repeat: int, probe: Probe | None = None
) -> list[tuple[float, ...]]:
    """Each layer's shortest time over ``repeat`` rounds (after one untimed warm-up round),
    each round running every network once, in a shuffled order (a fixed seed), and the
    ``probe`` once."""
    from convcost.executor import prepare  # noqa: PLC0415

    prepared = [prepare(network) for network in networks]
    best: list[tuple[float, ...]] = [
        tuple(math.inf for _ in each.forward().layers) for each in prepared
    ]  # the untimed warm-up round gives each network's layer count
    order = random.Random(0)
    indices = list(range(len(prepared)))
    for _ in range(repeat):
        order.shuffle(indices)
        if probe is not None:
            probe.run()
        for index in indices:
            run = prepared[index].forward()
            best[index] = tuple(
                min(a, layer.seconds) for a, layer in zip(best[index], run.layers, strict=True)
            )
    return best


def time_networks_ort(
    networks: list[Network], *, repeat: int, threads: int | None, probe: Probe | None = None
) -> list[tuple[float, ...]]:
    """Each layer's shortest time over ``repeat`` passes on ONNX Runtime, network by network
    (the ``probe`` once after each)."""
    from convcost.executor.ort import execute_ort  # noqa: PLC0415

    timings = []
    for network in networks:
        run = execute_ort(network, threads=threads, repeat=repeat, fastest=True)
        timings.append(tuple(layer.seconds for layer in run.layers))
        if probe is not None:
            probe.run()
    return timings


def fit_profile(
    samples: dict[KernelClass, list[Sample]],
    *,
    device: str,
    backend: str,
    threads: int,
    probe: float | None = None,
) -> Calibration:
    """The profile that best explains ``samples``: peak FLOP/s is the fastest GEMM sample's
    rate and bandwidth the fastest elementwise sample's, so a share of 1 is what this runtime
    reached at best; each class's shares and overhead are then fitted (with half sizes for a
    GEMM and a depthwise conv, :mod:`convcost.latency.fit_shape`). The kinds of 0-second
    samples (layers ORT folded into a conv, :func:`measure`) become ``fuses`` and are not fitted.
    ``probe``: the speed probe's median rate while measuring, kept as the profile's ``probe``."""
    fuses = tuple(
        sorted(
            {s.kind for found in samples.values() for s in found if not s.seconds}
            | {s.kind for s in samples.get(KernelClass.FUSED, [])}
        )
    )
    samples = {kernel: [s for s in found if s.seconds] for kernel, found in samples.items()}
    gemm = samples.get(KernelClass.GEMM, [])
    flowing = [
        s for kernel in (KernelClass.ELEMENTWISE, KernelClass.POOL) for s in samples.get(kernel, [])
    ]
    peak = max((s.work / s.seconds for s in gemm if s.work), default=1e9)
    bandwidth = max((s.traffic / s.seconds for s in flowing if s.traffic), default=1e9)
    fits: dict[KernelClass, Fit] = {
        kernel: (fit_shaped if kernel in SHAPED else fit_class)(found, peak, bandwidth)
        for kernel, found in samples.items()
        if found and kernel is not KernelClass.VIEW
    }
    views = samples.get(KernelClass.VIEW, [])
    view_overhead = sorted(s.seconds for s in views)[len(views) // 2] if views else 0.0
    efficiency = {kernel.value: _efficiency(fit) for kernel, fit in fits.items()}
    gemm_share = efficiency.get(KernelClass.GEMM.value)
    if gemm_share is not None:  # where its weights leave the cache (fully connected layers)
        cache, spill = fit_spill(
            samples[KernelClass.GEMM],
            gemm_share,
            lambda sample, share: seconds(sample, peak, bandwidth, share, share.overhead or 0.0),
        )
        if cache:
            efficiency[KernelClass.GEMM.value] = replace(gemm_share, cache=cache, spill=spill)
    efficiency[KernelClass.VIEW.value] = Efficiency(overhead=view_overhead)
    for kernel, fit in fits.items():
        own = efficiency[kernel.value]
        kinds: dict[str, list[Sample]] = {}
        for sample in samples[kernel]:
            kinds.setdefault(sample.kind, []).append(sample)
        for kind, found in sorted(kinds.items()):
            if not kind or kind in SAME_KERNEL or kernel is KernelClass.FUSED:
                continue
            factor = kind_factor(found, fit.overhead, _roofline(peak, bandwidth, own))
            if abs(math.log(factor)) > math.log(KIND_FACTOR):
                efficiency[kind] = replace(
                    own,
                    compute=min(own.compute / factor, MAX_SHARE),
                    memory=min(own.memory / factor, MAX_SHARE),
                    spill=min(own.spill / factor, MAX_SHARE),
                )
    profile = DeviceProfile(
        name=device,
        device=device,
        calibrated=True,
        backend=backend,
        threads=threads,
        peak_flops={"float32": peak, "float64": peak / 2},
        memory_bandwidth=bandwidth,
        im2col=False,  # a conv's window copy is its class's half_im2col term instead
        fuses=fuses,
        probe=probe or None,
        overhead=min((f.overhead for f in fits.values()), default=0.0),
        efficiency=efficiency,
    )
    return Calibration(profile=profile, fits=fits, samples=samples)


def _efficiency(fit: Fit) -> Efficiency:
    """A fit as a profile entry, its shares capped at what a profile accepts (4: a fit that
    goes further has too few samples of that bound to say more)."""
    compute, memory = min(fit.compute, MAX_SHARE), min(fit.memory, MAX_SHARE)
    if isinstance(fit, ShapedFit):
        half_m, half_n, half_k, half_im2col = fit.half
        return Efficiency(
            compute=compute,
            memory=memory,
            overhead=fit.overhead,
            half_m=half_m,
            half_n=half_n,
            half_k=half_k,
            half_im2col=half_im2col,
        )
    return Efficiency(compute=compute, memory=memory, overhead=fit.overhead)


def _roofline(peak: float, bandwidth: float, share: Efficiency) -> Callable[[Sample], float]:
    return lambda sample: seconds(sample, peak, bandwidth, share, 0.0)


def seconds(
    sample: Sample, peak: float, bandwidth: float, share: Efficiency, overhead: float
) -> float:
    """The time ``share`` predicts for a measured sample (as the estimate does for a layer)."""
    compute = sample.work * slowdown(share.half, sample.dims) / (peak * share.compute)
    memory = memory_seconds(
        sample.traffic, sample.weight_bytes, bandwidth, share.memory, share.cache, share.spill
    )
    return overhead + max(compute, memory)
