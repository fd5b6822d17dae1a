"""``--execute``: run a built network on random NumPy tensors and check every shape.

The only package that imports numpy. It checks the analytical engine rather than sharing its
shape code: outputs come from the kernels in :mod:`convcost.executor.kernels`, and each real
shape is compared with the engine's prediction.
"""

from convcost.executor.memory import EXECUTE_DTYPES
from convcost.executor.run import Execution, LayerRun, Prepared, estimate_bytes, execute, prepare

__all__ = [
    "EXECUTE_DTYPES",
    "Execution",
    "LayerRun",
    "Prepared",
    "estimate_bytes",
    "execute",
    "prepare",
]
