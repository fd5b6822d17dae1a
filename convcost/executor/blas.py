"""Matrix products for ``--execute``: one BLAS thread per product part, parts on a thread pool.

OpenBLAS's own threads synchronise by spinning on shared flags between every pair of blocks;
when the cores are shared with other busy processes a spinning thread waits for its partner to
be scheduled again, and a product that takes 0.5 ms on one thread took 12–56 ms on two
(measured on a 2-core host at load 8, docs/benchmarks.md). So each product runs here with
OpenBLAS limited to one thread in the calling thread (``openblas_set_num_threads_local``), and
a large product is cut into :func:`blas_threads` bands of rows or columns, one per thread of a
small pool whose workers sleep on a lock while they wait: the same cores when they are free,
and no spinning when they are not. The same pool runs the banded kernels (:func:`parallel`:
convs, elementwise layers, pools and merges by bands of positions, one band per thread at a
time, each band's products on one OpenBLAS thread).

Where numpy is not linked against OpenBLAS (or the library is too old to have a per-thread
thread count), products are plain ``np.matmul`` with the library's own threading.
"""

from __future__ import annotations

import ctypes
import glob
import itertools
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

SPLIT_MACS = 2**22
"""Products of at least this many multiply-accumulates (about 30 µs on one core) are cut into
bands (of rows, or of columns when there are more columns) across the pool; smaller ones run
whole on the calling thread."""


def blas_threads() -> int:
    """Threads the products run on: OPENBLAS_NUM_THREADS or OMP_NUM_THREADS, else the CPUs this
    process may use."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(variable, "")
        if value.isascii() and value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _openblas_local() -> Callable[[int], int] | None:
    """OpenBLAS's ``openblas_set_num_threads_local`` (0.3.27+: sets the calling thread's
    thread count, returns the previous one) from the library numpy loaded, or None."""
    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for path in sorted(glob.glob(str(libs / "*openblas*"))):
        try:
            library = ctypes.CDLL(path)
            function = library.openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        function.argtypes = [ctypes.c_int]
        function.restype = ctypes.c_int
        setter: Callable[[int], int] = function
        return setter
    return None


class _Products:
    """The thread-count switch and the pool, made on first use."""

    def __init__(self, threads: int | None = None) -> None:
        self.local = _openblas_local()
        self.threads = (threads or blas_threads()) if self.local is not None else 1
        """Threads the products and the banded kernels (:meth:`parallel`) run on."""
        self.pool: ThreadPoolExecutor | None = None

    def single(self) -> None:
        """A pool worker's initializer: one OpenBLAS thread for every product it runs."""
        if self.local is not None:
            self.local(1)

    def workers(self) -> ThreadPoolExecutor:
        if self.pool is None:
            self.pool = ThreadPoolExecutor(
                self.threads - 1, thread_name_prefix="convcost-blas", initializer=self.single
            )
        return self.pool

    def parallel(self, count: int, work: Callable[[int, int], None]) -> None:
        """``work(band, worker)`` for every band in ``range(count)``, the bands taken in turn by
        the calling thread (worker 0) and the pool's (1 …): whichever is free takes the next, so
        a thread the machine's load delays takes fewer. Each runs its products on one OpenBLAS
        thread."""
        workers = min(self.threads, count)
        if workers <= 1:
            previous = self.local(1) if self.local is not None else None
            try:
                for band in range(count):
                    work(band, 0)
            finally:
                if previous is not None and self.local is not None:
                    self.local(previous)
            return
        bands = iter(range(count))
        lock = threading.Lock()

        def loop(worker: int) -> None:
            while True:
                with lock:
                    band = next(bands, None)
                if band is None:
                    return
                work(band, worker)

        # the pool's workers run on one OpenBLAS thread from their start (single); the calling
        # thread's count is restored only once every worker is done: the library's count may
        # be one setting for the process, and restored while a worker's last product still ran
        # it let that product start OpenBLAS's own threads (their packing buffer is what the
        # memory estimate does not count for this mode: tests/test_memory_bound.py caught it)
        previous = self.local(1) if self.local is not None else None
        try:
            pending = [self.workers().submit(loop, worker) for worker in range(1, workers)]
            try:
                loop(0)
            finally:
                for future in pending:
                    future.result()
        finally:
            if previous is not None and self.local is not None:
                self.local(previous)

    def matmul(self, a: Array, b: Array, out: Array) -> None:
        """``out[...] = a @ b``: ``a`` is (…, rows, depth), ``b`` (…, depth, columns)."""
        if self.local is None:
            np.matmul(a, b, out=out)
            return
        previous = self.local(1)
        try:
            rows, columns = a.shape[-2], b.shape[-1]
            macs = math.prod(a.shape[:-1]) * a.shape[-1] * columns
            # cut the longer side: a conv's positions, a dense layer's outputs (so that each
            # thread reads only its share of a large weight matrix)
            by_rows = rows >= columns
            parts = _parts(rows if by_rows else columns, macs, self.threads)
            if parts <= 1:
                np.matmul(a, b, out=out)
                return
            length = rows if by_rows else columns
            bounds = [length * i // parts for i in range(parts + 1)]
            cuts = [slice(lo, hi) for lo, hi in itertools.pairwise(bounds)]
            jobs = [
                (a[..., cut, :], b, out[..., cut, :])
                if by_rows
                else (a, b[..., cut], out[..., cut])
                for cut in cuts
            ]
            pending: list[Future[Array]] = [
                self.workers().submit(np.matmul, x, y, out=z) for x, y, z in jobs[1:]
            ]
            try:
                x, y, z = jobs[0]
                np.matmul(x, y, out=z)
            finally:
                for future in pending:
                    future.result()
        finally:
            self.local(previous)


def _parts(length: int, macs: int, threads: int) -> int:
    """Bands a product of ``macs`` multiply-accumulates is cut into along a side of ``length``."""
    return min(threads, length, max(macs // SPLIT_MACS, 1))


def per_thread() -> bool:
    """Whether products run on one OpenBLAS thread per calling thread (OpenBLAS 0.3.27+)."""
    return _get().local is not None


_products: list[_Products] = []


def _get() -> _Products:
    if not _products:
        _products.append(_Products())
    return _products[0]


def use_threads(threads: int | None) -> None:
    """``--threads``: run the products on ``threads`` threads from now on (None: the default
    of :func:`blas_threads`). Where OpenBLAS has no per-thread count, products keep the
    library's own threading."""
    if _products and _products[0].pool is not None:
        _products[0].pool.shutdown()
    _products.clear()
    _products.append(_Products(threads))


def threads() -> int:
    """Threads the products and banded kernels of this run use (1 where products keep the
    BLAS library's own threading)."""
    return _get().threads


def parallel(count: int, work: Callable[[int, int], None]) -> None:
    """``work(band, worker)`` for each of ``count`` bands, on :func:`threads` threads (the
    calling one is worker 0); each band's products run on one OpenBLAS thread. Bands must not
    depend on which worker runs them: the result is the same on any number of threads."""
    _get().parallel(count, work)


def matmul_into(a: Array, b: Array, out: Array) -> None:
    """``out[...] = a @ b`` (see the module's note on threads)."""
    _get().matmul(a, b, out)


def matmul(a: Array, b: Array) -> Array:
    """``a @ b`` in ``a``'s dtype (see the module's note on threads)."""
    out = np.empty(
        (*np.broadcast_shapes(a.shape[:-2], b.shape[:-2]), a.shape[-2], b.shape[-1]),
        dtype=np.result_type(a, b),
    )
    _get().matmul(a, b, out)
    return out
