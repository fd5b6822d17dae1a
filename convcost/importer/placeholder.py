"""An ONNX node convcost has no layer for, imported with ``--allow-unsupported``: a ``custom``
layer labelled with its operator, its output shape from ONNX's shape inference, the elements
of its constant inputs as parameters, and ``unknown: true`` — its MACs and ops are not
counted, and every report on the spec says so (:func:`convcost.engine.placeholder_notes`).
"""

from __future__ import annotations

import math
import re

from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops_graph import Source
from convcost.importer.ops_result import Out

_NOT_IN_LABEL = re.compile(r"[^A-Za-z0-9_]+")
"""What a custom label cannot hold from an operator's name (a domain's dots)."""


def placeholder(source: Source, node: NodeProto) -> Out:
    """The placeholder of unknown cost standing for ``node``, on its first computed input.

    Raises `ModelError` naming the node where it has not exactly one output, reads no
    computed tensor, or ONNX cannot infer its output's shape.
    """
    if len(node.output) != 1:
        raise source.fail(
            node,
            f"has {len(node.output)} outputs: a placeholder of unknown cost stands for a node "
            "with one",
        )
    data = [str(t) for t in node.input if t and not _constant(source, str(t))]
    if not data:
        raise source.fail(node, "reads no computed tensor: a placeholder needs a data input")
    out = str(node.output[0])
    shape = source.shapes.get(out)
    if shape is None or len(shape) < 2 or any(size < 1 for size in shape):
        if source.hint:  # ONNX's inference was not there to ask
            raise source.fail(
                node,
                f"convcost infers no shape for its output {out!r}, which a placeholder of "
                "unknown cost needs: ONNX's shape inference may, with pip install "
                "'convcost[onnx]'",
            )
        raise source.fail(
            node,
            "ONNX cannot infer the shape of its output "
            f"{out!r}: a placeholder of unknown cost needs it",
        )
    params = sum(
        math.prod(int(size) for size in source.initializers[str(t)].dims)
        for t in node.input
        if t and str(t) in source.initializers
    )
    operator = f"{node.domain}.{node.op_type}" if _foreign(node) else str(node.op_type)
    fields: dict[str, object] = {
        "label": _NOT_IN_LABEL.sub("_", operator),
        "shape": list(shape[1:]),
    }
    if params:
        fields["params"] = params
    fields["unknown"] = True
    inp = source.shapes.get(data[0])
    if inp is None or len(inp) != len(shape) or tuple(inp[2:]) != tuple(shape[2:]):
        fields["field"] = "global"  # another map: each output may read the whole input
    return Out(out, (data[0],), layers=({"custom": fields},))


def _foreign(node: NodeProto) -> bool:
    return str(node.domain) not in ("", "ai.onnx")


def _constant(source: Source, tensor: str) -> bool:
    return tensor in source.initializers or tensor in source.constants
