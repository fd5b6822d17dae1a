"""How much memory a run may take: the pre-run estimate (the machine's limits and the measured
figures are in :mod:`convcost.executor.process`).

The estimate is an upper bound on the run's growth in resident memory (checked per layer kind
and per zoo model by tests/test_memory_bound.py and tests/bench/bench_memory.py). It follows
what :mod:`convcost.executor.runner` and each kind's op (:mod:`convcost.executor.ops`) allocate:

- every parameter array (drawn straight into the kernels' layout: no second copy), and a
  batchnorm's running statistics;
- the BLAS library's packing buffers, sized from the largest matrix product (:func:`blas_bytes`);
- at each layer, the arrays still referenced (a merge block's input, finished branch outputs),
  the layer's input, its output unless it runs in place or returns a view, and its temporaries
  (each kind's :meth:`~convcost.executor.ops.base.Op.workspace`), simulating which arrays
  the runner owns exactly as it does;
- in a DAG, each tensor read by name from when it is made until its last reader takes it
  (:mod:`convcost.dag`);
- glibc's heap: the freed pages below the most heap arrays alive at once stay resident, and an
  allowance for holes (:meth:`_Estimator.slack`).

Threads add nothing beyond their band buffers, which the calling thread allocates
(:class:`~convcost.executor.kernels.PaddedBands`): measured in /proc/self/smaps at VGG-16's
peak at batch 8, the pool worker's malloc arena held 39 KiB and its stack 23 KiB.
"""

from __future__ import annotations

import math
from typing import assert_never

from convcost.dag import Kept
from convcost.errors import SpecError
from convcost.executor import blas
from convcost.executor.blas import blas_threads
from convcost.layers import Shape
from convcost.network import GroupNode, LayerNode, MergeKind, MergeNode, Network, Node

EXECUTE_DTYPES = {"float32": 4, "float64": 8}
"""Element types ``--execute`` runs in, with their bytes per element."""

RUN_OVERHEAD_BYTES = 4 * 2**20
"""Code pages, allocator slack and small objects a first run touches (measured in a fresh
process: 0.3 MiB for one relu, 1.3 MiB for one conv, up to 2.4 MiB beyond the modelled arrays
for an adaptive pool)."""
BLAS_BUFFER_BYTES = 32 * 2**20
"""OpenBLAS's buffer per thread (BUFFER_SIZE on x86-64): no product touches more of it."""
BLAS_DEPTH = 512
"""The inner dimension of a packed panel (GEMM_Q: 384 for sgemm, 256 for dgemm on Haswell),
rounded up."""
BLAS_WIDTH = 1024
"""Columns of the second operand in one packed block (GEMM_P: 768 for sgemm, 512 for dgemm on
Haswell), rounded up."""
BLAS_PANEL_ROWS = 256
"""Rows of the first operand one single-threaded OpenBLAS call keeps packed at once (measured:
see :func:`blas_bytes`)."""


def check_dtype(dtype: str) -> int:
    """Bytes per element of an executable dtype; a :class:`SpecError` for any other."""
    if dtype not in EXECUTE_DTYPES:
        raise SpecError(
            f"--execute runs in {' or '.join(EXECUTE_DTYPES)} only, got --dtype {dtype} "
            "(the other dtypes are for the activation-memory figures)"
        )
    return EXECUTE_DTYPES[dtype]


def blas_bytes(products: list[tuple[int, int, int]], width: int, threads: int) -> int:
    """An upper bound on the resident memory OpenBLAS's buffers gain over a run's products, each
    of a (rows × depth) matrix by a (depth × columns) one; buffers are reused, so the largest
    product of each thread counts, and no thread touches more than its 32 MiB buffer.

    With one OpenBLAS thread per calling thread (:mod:`convcost.executor.blas`), a thread packs
    one block of the second operand (up to BLAS_DEPTH × BLAS_WIDTH) and a panel of
    BLAS_PANEL_ROWS rows of the first: measured 0.3–0.4 MiB for (16384 × 288)·(288 × 64) and
    (200000 × 64)·(64 × 64), 1.0 MiB for VGG-16's (8 × 25088)·(25088 × 4096); the calling
    thread runs every product, the pool's workers those cut into bands.

    With OpenBLAS's own threads (numpy on another BLAS build), the threads pack between them
    every row of a first operand, in panels up to BLAS_DEPTH deep, and each packs one block of a
    second operand: measured with 2 threads 7.3 MiB for the (12544 × 147)·(147 × 64) product of
    ResNet-50's stem (18.4 MiB for (16384 × 288)·(288 × 64))."""
    if not products:
        return 0
    if blas.per_thread():

        def packed(rows: int, depth: int, columns: int) -> int:
            depth = min(depth, BLAS_DEPTH)
            return depth * (min(columns, BLAS_WIDTH) + min(rows, BLAS_PANEL_ROWS))

        # any product may be cut into bands (the cut depends on the groups of a grouped conv
        # too): each worker counts the largest
        caller = max(packed(*product) for product in products)
        return min(threads * BLAS_BUFFER_BYTES, width * threads * caller)
    rows = max(r * min(d, BLAS_DEPTH) for r, d, _ in products)
    block = max(min(d, BLAS_DEPTH) * min(c, BLAS_WIDTH) for _, d, c in products)
    return min(threads * BLAS_BUFFER_BYTES, width * (rows + threads * block))


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


class _Estimator:
    """Walks the network as the runner does, in elements for the whole batch: ``held`` is what
    enclosing blocks keep alive, ``current`` the size of the array the next layer reads (0 when
    it is a view of something already counted)."""

    def __init__(self, batch: int, width: int) -> None:
        self.batch = batch
        self.width = width
        self.peak = 0
        self.heap_limit = MMAP_THRESHOLD_MAX // width
        """The largest array (in elements) glibc may serve from its heap (:meth:`heap`)."""
        self.heap_live = 0
        """Elements of the live arrays that come from the heap."""
        self.heap_high = 0
        """The most elements of heap arrays alive at once so far: the heap's resident extent."""
        self.freed = 0
        """The largest array freed so far from the heap in a first pass (see :meth:`slack`)."""
        self.threshold = MMAP_THRESHOLD_MIN // width
        """glibc's dynamic mmap threshold in a first pass, in elements: raised to the size of
        each mmapped array freed (up to :data:`MMAP_THRESHOLD_MAX`)."""
        self.kept: Kept[int] | None = None
        """The sizes of named tensors (a DAG's), until their last readers."""
        self.kept_live = 0
        """Elements of the named tensors alive (counted apart from ``held`` and ``current``)."""

    def batched(self, shape: Shape) -> int:
        """Elements of a tensor of per-sample ``shape`` for the whole batch."""
        return self.batch * math.prod(shape)

    def heap(self, elements: int) -> bool:
        """Whether an array comes from glibc's heap rather than its own mapping.

        glibc maps an allocation above its mmap threshold and unmaps it when it is freed; a
        smaller one comes from the heap, whose freed pages stay resident. The threshold starts
        at 128 KiB and rises to the size of each mapped array freed, up to
        :data:`MMAP_THRESHOLD_MAX`: after one pass (the warm-up, or an earlier run in the same
        process) every array of up to 32 MiB the run allocates has raised it past its own size,
        so in the timed pass all of them come from the heap (VGG-16 at batch 8: its 4.6 MiB
        input, mapped in the warm-up, is a heap array in the timed pass, and its freed pages
        were still resident at the peak, the first 224×224 conv: 1.5 MiB above an estimate
        that simulated the warm-up's threshold)."""
        return 0 < elements <= self.heap_limit

    def alloc(self, elements: int) -> None:
        if self.heap(elements):
            self.heap_live += elements
            self.heap_high = max(self.heap_high, self.heap_live)

    def free(self, elements: int) -> None:
        if self.heap(elements):
            self.heap_live -= elements
        if elements <= self.threshold:
            self.freed = max(self.freed, elements)
        elif elements * self.width <= MMAP_THRESHOLD_MAX:
            self.threshold = elements

    def slack(self) -> int:
        """Resident heap beyond the live arrays. The heap keeps the pages of the most heap
        arrays ever alive at once (glibc trims its top only past twice the threshold, 64 MiB),
        so those of the freed ones below that extent: ``heap_high − heap_live``. And twice the
        largest array freed from the heap under a first pass's threshold, for holes a larger
        array cannot reuse: an allowance measured on the zoo, not derived (beyond the modelled
        arrays ResNet-50 kept 1.7 MiB at batch 1, where its largest array is 3.1 MiB, and
        14.0 MiB at batch 4 (12.5 MiB); DenseNet-121 2.3 and 16.9 MiB). An array counts as a
        heap one there when it is no larger than the threshold when it is freed (at worst
        earlier than when it was allocated: more slack, never less)."""
        return self.heap_high - self.heap_live + 2 * self.freed

    def record(self, live: int) -> None:
        self.peak = max(self.peak, live + self.kept_live + self.slack())

    def sequence(
        self, nodes: tuple[Node, ...], held: int, current: int, owned: bool
    ) -> tuple[int, bool]:
        kept = self.kept
        if kept is None:
            for node in nodes:
                current, owned = self.node(node, held, current, owned)
            return current, owned
        for node in nodes:
            if node.source is not None:
                self.free(current)
                current, owned = self.take(node.source), False
            current, owned = self.node(node, held, current, owned)
            if self.hold(node.path, node.output_shape):
                current, owned = 0, False  # counted in kept_live from now on
        return current, owned

    def hold(self, key: str, shape: Shape) -> bool:
        """Count tensor ``key`` as kept if anything reads it by name."""
        assert self.kept is not None
        size = self.batched(shape)
        if not self.kept.keep(key, size):
            return False
        self.kept_live += size
        return True

    def take(self, key: str) -> int:
        """A read of tensor ``key``: its size when this reader is its last (it is then the
        reader's to free), else 0 (still counted as kept)."""
        assert self.kept is not None
        size, last = self.kept.take(key)
        if not last:
            return 0
        self.kept_live -= size
        return size

    def node(self, node: Node, held: int, current: int, owned: bool) -> tuple[int, bool]:
        match node:
            case LayerNode():
                op, shape, out = node.layer.op(), node.input_shape, node.output_shape
                new = self.batched(out) if op.allocates(shape, owned) else 0
                work = self.batch * op.workspace(shape, out, self.width, owned)
                work += op.columns(shape, out, self.batch, self.width)
                self.alloc(new)
                self.alloc(work)
                self.record(held + current + new + work)
                self.free(work)
                if new:
                    self.free(current)
                return (new if new else current), op.owns_output(owned)
            case GroupNode():
                return self.sequence(node.children, held, current, owned)
            case MergeNode():
                # the block input stays alive for every branch; finished outputs wait for the merge
                done: list[tuple[int, bool, Shape]] = []
                for branch in node.branches:
                    waiting = sum(size for size, _, _ in done)
                    start = 0 if branch.source is None else self.take(branch.source)
                    size, branch_owned = self.sequence(
                        branch.nodes, held + current + waiting, start, False
                    )
                    done.append((size, branch_owned, branch.output_shape))
                waiting = sum(size for size, _, _ in done)
                merged, survivor = self._merged(node, done)
                self.record(held + current + waiting + merged)
                if survivor is None or done[survivor][0]:
                    self.free(current)
                for index, (size, _, _) in enumerate(done):
                    if index != survivor:
                        self.free(size)
                return self.batched(node.output_shape), True
            case _:
                assert_never(node)

    def _merged(
        self, node: MergeNode, done: list[tuple[int, bool, Shape]]
    ) -> tuple[int, int | None]:
        """Elements the merge allocates, at their largest (as :func:`~convcost.executor.runner.merge`), and which
        branch output, if any, becomes the merge's output (a one-branch merge's, or the owned
        full-shape one an add or multiply accumulates into: it is not freed)."""
        out = node.output_shape
        if len(done) == 1:
            return 0, 0
        if node.merge is MergeKind.CONCAT:
            self.alloc(self.batched(out))
            return self.batched(out), None
        for index, (size, owned, shape) in enumerate(done):
            if owned and size and shape == out:
                return 0, index  # accumulated into an owned branch output of the full shape
        # a chain of new arrays: the first product, then each broadcast that grows
        peak, alive, shape = 0, 0, done[0][2]
        for _, _, other in done[1:]:
            grown = tuple(max(a, b) for a, b in zip(shape, other, strict=True))
            if alive and grown == shape:
                continue
            self.alloc(self.batched(grown))
            peak = max(peak, alive + self.batched(grown))
            self.free(alive)
            alive, shape = self.batched(grown), grown
        return peak, None


def estimate_elements(network: Network, batch: int, width: int, *, passes: int = 1) -> int:
    """Peak activation and workspace elements alive at once (weights and BLAS buffers apart),
    with the heap's slack, over ``passes`` forward passes run back to back. Each pass allocates
    the same arrays; the heap is a timed pass's, every array of up to 32 MiB from it
    (:meth:`_Estimator.heap`). Its free pages are returned after the warm-up, so one timed pass
    starts from an empty heap; a second one starts with every page the first left (glibc keeps
    them), which raised VGG-16's peak at batch 8 by 28–34 MiB with ``--repeat 3``. Two passes
    are simulated then: a third starts from the same heap as the second (measured on every
    kind and zoo model, tests/test_memory_bound.py and tests/bench/bench_memory.py)."""
    estimator = _Estimator(batch, width)
    for _ in range(min(passes, 2)):
        shape = network.input_shape
        current, owned = batch * math.prod(shape), True
        estimator.alloc(current)
        if network.reads:
            estimator.kept = Kept(network, 0)
            if estimator.hold("", shape):
                current, owned = 0, False
        current, _ = estimator.sequence(network.nodes, 0, current, owned)
        estimator.free(current)  # the output, dropped after the pass
    return estimator.peak


def parameter_elements(network: Network) -> int:
    """Elements of every array the executor allocates before the run: parameters, and the
    running statistics of each batchnorm (buffers, not parameters)."""
    total = 0
    for node in leaves(network.nodes):
        layer, shape = node.layer, node.input_shape
        total += layer.weights(shape) + layer.biases(shape) + layer.op().buffers(shape)
    return total


MMAP_THRESHOLD_MIN = 128 * 2**10
"""glibc's initial mmap threshold: larger arrays are mapped, and unmapped when freed."""
MMAP_THRESHOLD_MAX = 32 * 2**20
"""glibc's ceiling for its dynamic mmap threshold (64-bit): arrays below it may come from the
heap, where a freed one can leave a hole that stays resident."""


def estimate_growth(network: Network, *, batch: int, width: int, passes: int = 1) -> int:
    """Upper bound, in bytes, on the resident memory a run of ``passes`` timed passes (after a
    warm-up) adds to the process: parameters, BLAS buffers for the largest product, the peak of
    live tensors and temporaries (with the heap's slack, :func:`estimate_elements`) and
    :data:`RUN_OVERHEAD_BYTES`."""
    products = [
        node.layer.op().products(node.input_shape, node.output_shape, batch)
        for node in leaves(network.nodes)
    ]
    blas = blas_bytes([p for p in products if p[0]], width, blas_threads())
    peak = estimate_elements(network, batch, width, passes=passes)
    tensors = width * (parameter_elements(network) + peak)
    return RUN_OVERHEAD_BYTES + blas + tensors
