"""What ``--execute`` measures: plain values, importable without numpy (renderers use them)."""

from __future__ import annotations

from convcost.report import Report
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerRun:
    """One leaf layer, or a merge step, as it ran."""

    path: str
    shape: tuple[int, ...]
    """The real output shape per sample, channels first (equal to the prediction)."""
    seconds: float
    macs: int
    """Multiply-accumulates for the whole batch, counted by the kernels from the shapes of the
    operands they multiplied (rows × inner × columns of every matrix product; one per element
    of every depthwise product): independent of the engine's formulas, which tests compare."""
    params: int
    """Elements of the parameter arrays the executor allocated for this layer."""

    @property
    def gflops_per_second(self) -> float:
        """Achieved 2·MACs / seconds / 10⁹ (0 for layers without MACs)."""
        return 2 * self.macs / self.seconds / 1e9 if self.seconds > 0 and self.macs else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    layers: tuple[LayerRun, ...]
    """Leaf layers and merge steps, in execution order (as the report's layers)."""
    seconds: float
    """The whole forward pass (weights are built before it and not counted)."""
    batch: int
    dtype: str
    seed: int
    estimated_bytes: int
    """Pre-run estimate of the process's peak resident memory."""
    peak_rss_bytes: int
    """The measured peak resident memory of this run (VmHWM, reset when the run starts on
    Linux; elsewhere the process's peak so far)."""
    baseline_rss_bytes: int = 0
    """The process's resident memory when the run started (before its weights were built):
    the run's own growth is ``peak_rss_bytes − baseline_rss_bytes``."""
    repeat: int = 1
    """Forward passes timed; with more than one, every time is the median over them."""
    warm_up: bool = False
    """Whether an untimed pass ran first (the default of :func:`convcost.executor.execute`), so
    that the times are those of a warm forward pass."""
    backend: str = "numpy"
    """What ran the network: ``numpy`` (convcost's kernels) or ``onnxruntime``."""
    threads: int | None = None
    """``--threads``: the threads the backend was limited to (None: its default)."""

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def gflops_per_second(self) -> float:
        return 2 * self.macs / self.seconds / 1e9 if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Executed:
    """A report whose every shape was confirmed by running the network."""

    report: Report
    execution: Execution
