"""``--execute``: estimate the memory a run needs, then run a prepared network: one untimed
warm-up pass and the timed ones, their times as medians; :func:`run_backend` picks NumPy or
ONNX Runtime.

The pieces: :mod:`convcost.executor.prepared` (weights, :class:`Prepared`),
:mod:`convcost.executor.fusion` (which layers run fused), :mod:`convcost.executor.runner`
(one forward pass), :mod:`convcost.executor.memory` (the estimate).
"""

from __future__ import annotations

import statistics

from convcost.build import build
from convcost.engine import analyze_network
from convcost.errors import ResourceLimitError, SpecError
from convcost.execution import Executed, Execution
from convcost.executor import blas
from convcost.executor.memory import check_dtype, estimate_growth
from convcost.executor.prepared import Prepared, Progress, prepare
from convcost.executor.process import (
    current_rss_bytes,
    default_limit,
    release_free_heap,
    reset_peak,
)
from convcost.network import Network
from convcost.spec import Spec
from convcost.valueclasses import replace

__all__ = [
    "Prepared",
    "Progress",
    "estimate_bytes",
    "execute",
    "execute_all",
    "prepare",
    "run_backend",
]


def estimate_bytes(
    network: Network, *, batch: int = 1, dtype: str = "float32", repeat: int = 1
) -> int:
    """The process's expected peak resident memory for :func:`execute` with ``repeat`` timed
    passes: what it holds now plus :func:`~convcost.executor.memory.estimate_growth` (weights,
    BLAS buffers, the largest set of tensors and temporaries alive at once, the heap's slack)."""
    growth = estimate_growth(network, batch=batch, width=check_dtype(dtype), passes=repeat)
    return current_rss_bytes() + growth


def execute(
    network: Network,
    *,
    batch: int = 1,
    dtype: str = "float32",
    seed: int = 0,
    max_memory: int | None = None,
    progress: Progress | None = None,
    repeat: int = 1,
    warm_up: bool = True,
    threads: int | None = None,
) -> Execution:
    """Run ``network`` on a seeded random input with He-uniform weights: one untimed warm-up
    pass (unless ``warm_up`` is false), then ``repeat`` timed passes (the times reported are
    medians). The warm-up pays the one-time costs a first pass meets (page faults on fresh
    buffers, BLAS and thread-pool start-up, first calls into each kernel): without it a single
    ResNet-50 pass reported 4–12× the time of the passes after it.

    Raises :class:`ResourceLimitError` before allocating anything when the estimate exceeds
    ``max_memory`` (default: :func:`~convcost.executor.process.default_limit`, half the available
    RAM or what the address-space limit leaves), or when an allocation fails all the same, and
    :class:`ExecutionError` when a layer's real output shape differs from the predicted one.

    ``threads`` (``--threads``) limits the matrix products to that many threads for this run
    (:func:`~convcost.executor.blas.use_threads`).

    The peak reported is this run's own: the kernel's high-water mark is reset before it starts
    (Linux; elsewhere it is the process's peak so far).
    """
    if threads is not None:
        blas.use_threads(threads)  # first: the estimate counts a buffer per thread
    try:
        return _execute(
            network,
            batch=batch,
            dtype=dtype,
            seed=seed,
            max_memory=max_memory,
            progress=progress,
            repeat=repeat,
            warm_up=warm_up,
            threads=threads,
        )
    finally:
        if threads is not None:
            blas.use_threads(None)  # back to the default for the next run in this process


def _execute(
    network: Network,
    *,
    batch: int,
    dtype: str,
    seed: int,
    max_memory: int | None,
    progress: Progress | None,
    repeat: int,
    warm_up: bool,
    threads: int | None,
) -> Execution:
    estimate = estimate_bytes(network, batch=batch, dtype=dtype, repeat=repeat)
    limit, reason = (max_memory, "the limit") if max_memory is not None else default_limit()
    if estimate > limit:
        raise ResourceLimitError(
            f"--execute would need about {_mib(estimate)} of resident memory at its peak (this "
            f"process, BLAS buffers, weights, live activations and workspace at batch {batch}, "
            f"{dtype}), above {reason} of {_mib(limit)}: "
            "lower --batch or the input size, or raise --max-memory"
        )
    reset_peak()
    baseline = current_rss_bytes()
    try:
        prepared = prepare(network, dtype=dtype, seed=seed)
        passes = repeat + warm_up
        runs = []
        for index in range(passes):
            runs.append(
                prepared.forward(
                    batch=batch,
                    progress=_shifted(progress, index, passes),
                    estimated_bytes=estimate,
                    baseline_rss_bytes=baseline,
                )
            )
            if index == 0 and warm_up:
                runs.clear()
                release_free_heap()
    except MemoryError:
        raise ResourceLimitError(
            f"--execute ran out of memory (estimated {_mib(estimate)} at its peak, batch "
            f"{batch}, {dtype}): lower --batch or the input size, or raise the process's "
            "memory limit (ulimit -v)"
        ) from None
    return replace(_median(runs), warm_up=warm_up, threads=threads)


def _shifted(progress: Progress | None, index: int, repeat: int) -> Progress | None:
    """Progress over ``repeat`` passes: pass ``index`` counts from index · total."""
    if progress is None or repeat == 1:
        return progress
    report = progress
    return lambda path, done, total: report(path, index * total + done, repeat * total)


def _median(runs: list[Execution]) -> Execution:
    """Per-layer and total times as medians over the passes; the rest from the last pass."""
    if len(runs) == 1:
        return runs[0]
    last = runs[-1]
    layers = tuple(
        replace(layer, seconds=statistics.median(run.layers[i].seconds for run in runs))
        for i, layer in enumerate(last.layers)
    )
    return replace(
        last,
        layers=layers,
        seconds=statistics.median(run.seconds for run in runs),
        repeat=len(runs),
    )


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def execute_all(
    spec: Spec,
    *,
    batch: int = 1,
    dtype: str = "float32",
    seed: int = 0,
    max_memory: int | None = None,
    progress: Progress | None = None,
    repeat: int = 1,
    warm_up: bool = True,
    threads: int | None = None,
    backend: str = "numpy",
) -> tuple[Executed, ...]:
    """Analyze every variant of ``spec`` and confirm its shapes by running it on ``backend``
    (see :func:`execute` and :func:`run_backend`)."""
    results = []
    for variant in spec.variants:
        network = build(spec, variant)
        report = analyze_network(network, batch=batch, dtype=dtype, source=spec.source)
        execution = run_backend(
            backend,
            network,
            batch=batch,
            dtype=dtype,
            seed=seed,
            max_memory=max_memory,
            progress=progress,
            repeat=repeat,
            warm_up=warm_up,
            threads=threads,
        )
        results.append(Executed(report=report, execution=execution))
    return tuple(results)


def run_backend(
    backend: str,
    network: Network,
    *,
    batch: int = 1,
    dtype: str = "float32",
    seed: int = 0,
    max_memory: int | None = None,
    progress: Progress | None = None,
    repeat: int = 1,
    warm_up: bool = True,
    threads: int | None = None,
) -> Execution:
    """:func:`execute` on ``numpy``, or :func:`convcost.executor.ort.execute_ort` on
    ``onnxruntime`` (which always runs a warm-up pass and has no memory estimate)."""
    if backend == "numpy":
        return execute(
            network,
            batch=batch,
            dtype=dtype,
            seed=seed,
            max_memory=max_memory,
            progress=progress,
            repeat=repeat,
            warm_up=warm_up,
            threads=threads,
        )
    if backend == "onnxruntime":
        from convcost.executor.ort import execute_ort  # noqa: PLC0415  (imports onnx lazily)

        return execute_ort(
            network,
            batch=batch,
            dtype=dtype,
            seed=seed,
            threads=threads,
            repeat=repeat,
            progress=progress,
        )
    raise SpecError(f"unknown backend {backend!r}; backends: numpy, onnxruntime")
