"""Operator fusion in the estimate: the layer kinds a runtime folds into the conv before them.

ONNX Runtime runs a conv with the batchnorm and activation after it (and, with its NCHWc
layout, a residual add and the activation after that), and a linear layer with its
activation, as one kernel: those layers cost
nothing of their own there, and the conv's time carries them. A device profile says which
kinds its runtime folds in its ``fuses`` list (``convcost calibrate --backend onnxruntime``
writes the kinds it saw folded); the estimate then gives each such layer that comes right
after a conv, or after a layer folded into one, 0 seconds (:func:`fused_layers`).

"Right after" is report order: a layer's predecessor in the report is the layer before it in
its branch, or a branch's last layer before a merge.
"""

from __future__ import annotations

from collections.abc import Sequence

from convcost.errors import SpecError
from convcost.latency.kernels import KERNEL_OF, KernelClass
from convcost.names import did_you_mean
from convcost.tree import Scalar, Seq, Value, describe, shown

CONV_KINDS = frozenset({"conv", "pointwise", "depthwise", "linear"})
"""The kinds a runtime runs as one product kernel (ONNX ``Conv`` and ``Gemm``: ORT fuses a
Gemm with the activation after it too): what a fused kind folds into."""


def fusible(kind: str) -> bool:
    """Only a one-pass kind (an activation, a normalisation, a merge) folds into a conv."""
    return KERNEL_OF.get(kind) is KernelClass.ELEMENTWISE


FUSIBLE = frozenset(kind for kind in KERNEL_OF if fusible(kind))
"""Every kind a runtime might fold into a conv: what calibration watches."""


def fused_layers(kinds: Sequence[str], fuses: frozenset[str] | tuple[str, ...]) -> list[bool]:
    """For each layer kind in report order, whether the layer is folded into the conv before
    it: its kind is in ``fuses`` and the layer before it is a conv or folded itself."""
    result: list[bool] = []
    carrying = False  # the previous layer is a conv or folded into one
    for kind in kinds:
        folded = carrying and kind in fuses
        result.append(folded)
        carrying = folded or kind in CONV_KINDS
    return result


def parse_fuses(value: Value | None) -> tuple[str, ...]:
    """A profile's ``fuses``: a list of distinct one-pass layer kinds (or null: none)."""
    if value is None or (isinstance(value, Scalar) and value.value is None):
        return ()
    if not isinstance(value, Seq):
        raise SpecError(
            f"must be a list of layer kinds, e.g. [batchnorm, relu]; got {describe(value)}",
            location=value.location,
            field="fuses",
        )
    kinds: list[str] = []
    known = sorted(FUSIBLE)
    for index, item in enumerate(value.items):
        where = f"fuses[{index}]"
        if not isinstance(item, Scalar) or not isinstance(item.value, str):
            raise SpecError(
                f"must be a layer kind, got {describe(item)}", location=item.location, field=where
            )
        kind = item.value
        if kind not in KERNEL_OF:
            raise SpecError(
                f"unknown layer kind {shown(kind)}{did_you_mean(kind, known)}",
                location=item.location,
                field=where,
            )
        if not fusible(kind):
            raise SpecError(
                f"only one-pass (elementwise) kinds fold into a conv; {kind!r} is "
                f"{KERNEL_OF[kind].value}",
                location=item.location,
                field=where,
            )
        if kind in kinds:
            raise SpecError(f"{kind!r} is listed twice", location=item.location, field=where)
        kinds.append(kind)
    return tuple(kinds)
