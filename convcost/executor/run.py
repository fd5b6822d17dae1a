"""Walk a built network, run every layer on NumPy arrays, and check each real shape.

Two phases: :func:`prepare` allocates He-uniform weights for every layer in the kernels' layout
(setup, not timed), then :meth:`Prepared.forward` runs a seeded random input through the network,
timing each layer and comparing each real output shape with the engine's prediction.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from typing import assert_never

import numpy as np
import numpy.random  # numpy 2 loads it lazily: on first use it would add ~5 MiB to a run

from convcost.build import build
from convcost.dag import Kept, branch_input
from convcost.engine import analyze_network
from convcost.errors import ExecutionError, ResourceLimitError, SpecError
from convcost.execution import Executed, Execution, LayerRun
from convcost.executor import blas, kernels
from convcost.executor.memory import (
    check_dtype,
    current_rss_bytes,
    default_limit,
    estimate_growth,
    leaves,
    peak_rss_bytes,
    release_free_heap,
    reset_peak,
)
from convcost.executor.ops.base import Array, Initializer, PreparedLayer, ZeroInitializer
from convcost.executor.stages import Epilogue, Stage, combine_into, concatenate
from convcost.network import GroupNode, LayerNode, MergeKind, MergeNode, Network, Node
from convcost.spec import Spec
from convcost.valueclasses import dataclass, field

Progress = Callable[[str, int, int], None]
"""Called after each layer with (path, layers done, layers in all)."""


def estimate_bytes(network: Network, *, batch: int = 1, dtype: str = "float32") -> int:
    """The process's expected peak resident memory: what it holds now plus
    :func:`~convcost.executor.memory.estimate_growth` (weights, BLAS buffers, the largest set of
    tensors and temporaries alive at once)."""
    return current_rss_bytes() + estimate_growth(network, batch=batch, width=check_dtype(dtype))


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
    ``max_memory`` (default: :func:`~convcost.executor.memory.default_limit`, half the available
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
    estimate = estimate_bytes(network, batch=batch, dtype=dtype)
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


def prepare(
    network: Network,
    *,
    dtype: str = "float32",
    seed: int = 0,
    zeros: bool = False,
    fuse: bool = True,
) -> Prepared:
    """Allocate every layer's weights (He-uniform for conv and linear) in the kernels' layout;
    every parameter 0 with ``zeros``. With ``fuse``, the elementwise layers right after a conv
    (batchnorm, ReLU…) run fused into it (:func:`fusions`)."""
    check_dtype(dtype)
    rng = np.random.default_rng(seed)
    init = (ZeroInitializer if zeros else Initializer)(rng, np.dtype(dtype))
    steps = {node.path: _prepared(node, init) for node in leaves(network.nodes)}
    return Prepared(
        network=network,
        steps=steps,
        rng=rng,
        dtype=dtype,
        seed=seed,
        fusions=fusions(network, steps) if fuse else {},
        prologues=prologues(network, steps) if fuse else {},
    )


def fusions(network: Network, steps: dict[str, PreparedLayer]) -> dict[str, tuple[LayerNode, ...]]:
    """Producer path → the layers fused into it: the run of layers right after a layer that
    can take an epilogue (:attr:`PreparedLayer.fused`) in the same sequence, each an
    elementwise stage (:attr:`PreparedLayer.stage`) reading the one before it, none of whose
    inputs anything else reads by name (only the last output may be a named tensor)."""
    reads = set(network.reads)
    found: dict[str, tuple[LayerNode, ...]] = {}

    def walk(nodes: tuple[Node, ...]) -> None:
        for index, node in enumerate(nodes):
            match node:
                case LayerNode():
                    if steps[node.path].fused is None or node.path in reads:
                        continue
                    chain: list[LayerNode] = []
                    for after in nodes[index + 1 :]:
                        if (
                            not isinstance(after, LayerNode)
                            or after.source is not None
                            or steps[after.path].stage is None
                        ):
                            break
                        chain.append(after)
                        if after.path in reads:
                            break
                    if chain:
                        found[node.path] = tuple(chain)
                case GroupNode():
                    walk(node.children)
                case MergeNode():
                    for branch in node.branches:
                        walk(branch.nodes)
                case _:
                    assert_never(node)

    walk(network.nodes)
    return found


def prologues(
    network: Network, steps: dict[str, PreparedLayer]
) -> dict[str, tuple[tuple[LayerNode, ...], LayerNode]]:
    """First layer's path → (the elementwise layers, the 1×1 conv) for each run of elementwise
    stages right before a conv that applies them to its input bands
    (:attr:`PreparedLayer.prologue`) and not already fused after a conv (:func:`fusions`):
    DenseNet's batchnorm and ReLU before each 1×1 conv. The run's outputs are never
    materialised, so none may be read by name, and only its first layer may read one."""
    reads = set(network.reads)
    after = {node.path for chain in fusions(network, steps).values() for node in chain}
    found: dict[str, tuple[tuple[LayerNode, ...], LayerNode]] = {}

    def stage(node: Node) -> bool:
        return (
            isinstance(node, LayerNode)
            and steps[node.path].stage is not None
            and node.path not in after
            and node.path not in reads
        )

    def walk(nodes: tuple[Node, ...]) -> None:
        index = 0
        while index < len(nodes):
            node = nodes[index]
            match node:
                case LayerNode():
                    end = index
                    while end < len(nodes) and stage(nodes[end]):
                        end += 1
                        if end < len(nodes) and nodes[end].source is not None:
                            break
                    conv = nodes[end] if end < len(nodes) else None
                    if (
                        end > index
                        and isinstance(conv, LayerNode)
                        and conv.source is None
                        and steps[conv.path].prologue
                    ):
                        run = tuple(n for n in nodes[index:end] if isinstance(n, LayerNode))
                        found[node.path] = (run, conv)
                    index = max(end, index + 1)
                    continue
                case GroupNode():
                    walk(node.children)
                case MergeNode():
                    for branch in node.branches:
                        walk(branch.nodes)
                case _:
                    assert_never(node)
            index += 1

    walk(network.nodes)
    return found


def _prepared(node: LayerNode, init: Initializer) -> PreparedLayer:
    try:
        return node.layer.op().prepare(node.input_shape, init)
    except ExecutionError as exc:  # an op that cannot run its layer (a custom shape change)
        raise ExecutionError(exc.message, location=node.location, layer=node.path) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A network with its weights built, ready to run (repeatedly, for benchmarks)."""

    network: Network
    steps: dict[str, PreparedLayer]
    rng: np.random.Generator
    dtype: str
    seed: int
    fusions: dict[str, tuple[LayerNode, ...]] = field(default_factory=dict)
    """Producer path → the elementwise layers that run fused into it (:func:`fusions`)."""
    prologues: dict[str, tuple[tuple[LayerNode, ...], LayerNode]] = field(default_factory=dict)
    """First layer's path → the elementwise layers a 1×1 conv applies to its input bands, and
    the conv (:func:`prologues`)."""

    def forward(
        self,
        *,
        batch: int = 1,
        progress: Progress | None = None,
        estimated_bytes: int = 0,
        baseline_rss_bytes: int = 0,
    ) -> Execution:
        """Run a seeded random input of ``batch`` samples; time and check every layer."""
        runner = _Runner(self, batch, progress)
        # drawn before the clock starts, and not kept here: the first layer may free it
        drawn = [self._input(batch)]
        start = time.perf_counter()
        runner.run(drawn.pop(), True)
        seconds = time.perf_counter() - start
        return Execution(
            layers=tuple(runner.runs),
            seconds=seconds,
            batch=batch,
            dtype=self.dtype,
            seed=self.seed,
            estimated_bytes=estimated_bytes,
            peak_rss_bytes=peak_rss_bytes(),
            baseline_rss_bytes=baseline_rss_bytes,
        )

    def _input(self, batch: int) -> Array:
        """A seeded standard normal input in the run's dtype, channels last."""
        shape = self.network.input_shape
        return self.rng.standard_normal(
            (batch, *shape[1:], shape[0]) if len(shape) > 1 else (batch, *shape),
            dtype=np.dtype(self.dtype),
        )

    def output(self, x: Array) -> Array:
        """The network's output for ``x`` (channels first, as PyTorch), every shape checked."""
        runner = _Runner(self, x.shape[0], None)
        y, _ = runner.run(kernels.to_channels_last(x.astype(self.dtype)), False)
        return np.ascontiguousarray(kernels.to_channels_first(y))


class _Runner:
    def __init__(self, prepared: Prepared, batch: int, progress: Progress | None) -> None:
        self.steps = prepared.steps
        self.batch = batch
        self.total = len(prepared.steps) + _merges(prepared.network.nodes)
        self.progress = progress
        self.runs: list[LayerRun] = []
        self.network = prepared.network
        self.fusions = prepared.fusions
        self.prologues = prepared.prologues
        self.kept: Kept[Array] | None = None
        """The arrays of named tensors (a DAG's), each dropped after its last reader."""

    def run(self, x: Array, owned: bool) -> tuple[Array, bool]:
        network = self.network
        if network.reads:
            self.kept = Kept(network, x)
            owned = owned and not self.kept.readers[""]
        box = [x]
        del x  # the first layer may free it
        return self.sequence(network.nodes, box, owned)

    def sequence(
        self, nodes: tuple[Node, ...], box: list[Array], owned: bool
    ) -> tuple[Array, bool]:
        """Run ``nodes`` on the array in ``box``, taken out of it: a caller's frame must not
        keep an array alive after the layer that reads it last (a group's input, held by the
        frames around the group for all of it, kept ResNet-50's block inputs alive: 22 MiB
        above the estimate at batch 8)."""
        x = box.pop()
        kept = self.kept
        index = 0
        while index < len(nodes):
            node = nodes[index]
            if kept is not None and node.source is not None:
                # a named tensor: read, never overwritten, unless this is its last reader
                x, owned = kept.take(node.source)[0], False
            before = self.prologues.get(node.path) if isinstance(node, LayerNode) else None
            chain = self.fusions.get(node.path) if isinstance(node, LayerNode) else None
            if before is not None:
                run, conv = before
                after = self.fusions.get(conv.path, ())
                x, owned = self.fused(conv, after, x, owned, run)
                last: Node = after[-1] if after else conv
                index += len(run) + 1 + len(after)
            elif chain is not None and isinstance(node, LayerNode):
                x, owned = self.fused(node, chain, x, owned)
                last = chain[-1]
                index += 1 + len(chain)
            else:
                box.append(x)
                del x  # a group takes it out of the box (see above)
                x, owned = self.node(node, box, owned)
                last = node
                index += 1
            if kept is not None and kept.keep(last.path, x):
                owned = False  # the readers to come need it as it is
        return x, owned

    def fused(
        self,
        node: LayerNode,
        chain: tuple[LayerNode, ...],
        x: Array,
        owned: bool,
        before: tuple[LayerNode, ...] = (),
    ) -> tuple[Array, bool]:
        """``node`` with the stages of ``before`` applied to each band of its input and those
        of ``chain`` to each band of its output; its wall time is divided among them in
        proportion to the thread time each part took, and every layer's shape is checked (the
        layers before on the input, which they do not reshape)."""
        step = self.steps[node.path]
        assert step.fused is not None
        epilogue = Epilogue(
            [self._stage(after) for after in chain],
            node.output_shape[0],
            [self._stage(earlier) for earlier in before],
        )
        kernels.take_macs()
        start = time.perf_counter()
        y, owned = step.fused(x, owned, epilogue)
        seconds = time.perf_counter() - start
        macs = kernels.take_macs()
        shares = iter(epilogue.shares())
        for earlier in before:
            share = seconds * next(shares)
            self.check(earlier, earlier.output_shape, x, share, 0, self._params(earlier))
        self.check(node, node.output_shape, y, seconds * next(shares), macs, step.params)
        for after in chain:
            share = seconds * next(shares)
            self.check(after, after.output_shape, y, share, 0, self._params(after))
        return y, owned

    def _stage(self, node: LayerNode) -> Stage:
        factory = self.steps[node.path].stage
        assert factory is not None
        return factory()

    def _params(self, node: LayerNode) -> int:
        return self.steps[node.path].params

    def node(self, node: Node, box: list[Array], owned: bool) -> tuple[Array, bool]:
        """Run ``node`` on the array in ``box`` (a group passes the box on: see
        :meth:`sequence`)."""
        match node:
            case LayerNode():
                x = box.pop()
                step = self.steps[node.path]
                kernels.take_macs()
                start = time.perf_counter()
                y, owned = step.forward(x, owned)
                seconds = time.perf_counter() - start
                self.check(node, node.output_shape, y, seconds, kernels.take_macs(), step.params)
                return y, owned
            case GroupNode():
                return self.sequence(node.children, box, owned)
            case MergeNode():
                x = box.pop()
                # branches read the block input: none of them may overwrite it
                outputs = [
                    self.sequence(branch.nodes, [branch_input(self.kept, branch, x)], False)
                    for branch in node.branches
                ]
                start = time.perf_counter()
                y, owned = _merge(node.merge, outputs)
                self.check(node, node.output_shape, y, time.perf_counter() - start, 0, 0)
                return y, owned
            case _:
                assert_never(node)

    def check(
        self,
        node: LayerNode | MergeNode,
        predicted: tuple[int, ...],
        y: Array,
        seconds: float,
        macs: int,
        params: int,
    ) -> None:
        actual = kernels.sample_shape(y)
        if actual != predicted:
            raise ExecutionError(
                f"the real output shape {list(actual)} differs from the predicted {list(predicted)}",
                location=node.location,
                layer=node.path,
            )
        self.runs.append(
            LayerRun(path=node.path, shape=actual, seconds=seconds, macs=macs, params=params)
        )
        if self.progress is not None:
            self.progress(node.path, len(self.runs), self.total)


def _merges(nodes: tuple[Node, ...]) -> int:
    count = 0
    for node in nodes:
        match node:
            case LayerNode():
                pass
            case GroupNode():
                count += _merges(node.children)
            case MergeNode():
                count += 1 + sum(_merges(branch.nodes) for branch in node.branches)
            case _:
                assert_never(node)
    return count


def _merge(merge: MergeKind, outputs: list[tuple[Array, bool]]) -> tuple[Array, bool]:
    """The merged array, and whether the caller owns it."""
    arrays = [array for array, _ in outputs]
    match merge:
        case MergeKind.CONCAT:
            return concatenate(arrays), True
        case MergeKind.ADD | MergeKind.MULTIPLY:
            if len(arrays) == 1:
                return outputs[0]
            shape = np.broadcast_shapes(*(array.shape for array in arrays))
            combine = np.add if merge is MergeKind.ADD else np.multiply
            # accumulate into a branch output the branch owns and that has the full shape
            owner = next(
                (i for i, (array, owned) in enumerate(outputs) if owned and array.shape == shape),
                None,
            )
            if owner is None:
                result, owned = arrays[0], False
                rest = arrays[1:]
            else:
                result, owned = arrays[owner], True
                rest = arrays[:owner] + arrays[owner + 1 :]
            for other in rest:
                if owned and np.broadcast_shapes(result.shape, other.shape) == result.shape:
                    combine_into(combine, result, other)
                else:
                    # a new array: the first product of borrowed inputs, or a broadcast that
                    # grows (a [C,1,W] and a [C,H,1] make a [C,H,W])
                    result, owned = combine(result, other), True
            return result, True
        case _:
            assert_never(merge)


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
