"""Transitional: the kinds not yet moved to their own modules reach explain and the executor
through the old central matches. Removed once every family owns its steps and op."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from convcost.layers.base import Layer, Shape

if TYPE_CHECKING:
    from convcost.executor.ops.base import Op
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


class Legacy(Layer):
    __slots__ = ()

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.kinds import layer_steps
        from convcost.layers import AnyLayer

        return layer_steps(cast(AnyLayer, self), shape, out, field)

    def settings(self) -> str:
        from convcost.explain.kinds import settings
        from convcost.layers import AnyLayer

        return settings(cast(AnyLayer, self))

    def op(self) -> Op[Any]:
        from convcost.executor.legacy import LegacyOp

        return LegacyOp(self)
