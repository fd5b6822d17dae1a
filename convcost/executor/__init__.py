"""``--execute``: run a built network on random NumPy tensors and check every shape.

The only package that imports numpy. It checks the analytical engine rather than sharing its
shape code: outputs come from each kind's op (:mod:`convcost.executor.ops`) and its kernels,
and each real shape is compared with the engine's prediction.
"""

from convcost.execution import Executed, Execution, LayerRun
from convcost.executor.memory import EXECUTE_DTYPES
from convcost.executor.run import (
    Prepared,
    estimate_bytes,
    execute,
    execute_all,
    prepare,
    run_backend,
)

__all__ = [
    "EXECUTE_DTYPES",
    "Executed",
    "Execution",
    "LayerRun",
    "Prepared",
    "estimate_bytes",
    "execute",
    "execute_all",
    "prepare",
    "run_backend",
]
