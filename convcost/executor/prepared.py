"""A network with its weights built: :func:`prepare` draws He-uniform weights for every layer in
the kernels' layout (setup, not timed), and :class:`Prepared` runs seeded inputs through it."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import numpy.random  # numpy 2 loads it lazily: on first use it would add ~5 MiB to a run

from convcost.errors import ExecutionError
from convcost.execution import Execution
from convcost.executor import kernels
from convcost.executor.fusion import fusions, prologues
from convcost.executor.memory import check_dtype, leaves
from convcost.executor.ops.base import Array, Initializer, PreparedLayer, ZeroInitializer
from convcost.executor.process import peak_rss_bytes
from convcost.executor.runner import Runner
from convcost.network import LayerNode, Network
from convcost.valueclasses import dataclass, field

Progress = Callable[[str, int, int], None]
"""Called after each layer with (path, layers done, layers in all)."""


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
        runner = Runner(self, batch, progress)
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
        runner = Runner(self, x.shape[0], None)
        y, _ = runner.run(kernels.to_channels_last(x.astype(self.dtype)), False)
        return np.ascontiguousarray(kernels.to_channels_first(y))
