"""``custom`` under ``--execute``: an identity when it keeps its input's shape, else refused.

convcost cannot compute what a declared layer does; a layer that keeps the shape runs as a
pass-through (its declared parameters are allocated, as zeros, so that the run's parameter and
memory figures stay those of the report), so the rest of the network still runs.
"""

from __future__ import annotations

from convcost.errors import ExecutionError
from convcost.executor.ops.base import Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.custom import Custom


class CustomOp(Op[Custom]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        out = self.layer.output_shape(shape)
        if out != shape:
            raise ExecutionError(
                f"--execute cannot run {self.layer.kind}: it declares the output {list(out)} "
                f"for the input {list(shape)}, and only a custom layer that keeps its input's "
                "shape runs (as a pass-through)"
            )
        weights = self.layer.weights(shape)
        arrays = (init.zeros(weights),) if weights else ()
        return PreparedLayer(lambda x, owned: (x, owned), arrays)

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return False  # its input, passed through

    def owns_output(self, owned: bool) -> bool:
        return owned
