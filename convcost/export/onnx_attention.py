"""``attention`` as ONNX nodes (see :mod:`convcost.export.onnx_kinds`): self-attention over the
positions in plain operators, as :mod:`convcost.executor.ops.attention` computes it."""

from __future__ import annotations

import math
from typing import Any

from convcost.export.onnx_graph import Graph
from convcost.layers.attention import Attention
from convcost.network import LayerNode


def attention(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    """Self-attention over the positions, as the executor computes it: the packed q|k|v
    projection (head-major), q scaled by 1/√d_k, softmax(q·kᵀ + relative logits)·v, the heads
    joined, then the output projection. The relative logits of axis a are
    q·e_a[k_a − q_a + n_a − 1]: the scores q·e_aᵀ of every embedding, picked per (query, key)
    pair by an Einsum with a constant one-hot (n_a, 2n_a − 1, n_a) table."""
    layer = node.layer
    assert isinstance(layer, Attention)
    p, shape = node.path, node.input_shape
    channels, sizes = shape[0], shape[1:]
    positions = math.prod(sizes)
    h, dk, dv = layer.heads, layer.key_dim, layer.value_dim
    rest = list(arrays)
    qkv = rest.pop(0)
    qkv_bias = rest.pop(0) if layer.bias else None
    tables = [rest.pop(0) for _ in sizes] if layer.relative else []
    projection = rest.pop(0) if layer.out is not None else None
    projection_bias = rest.pop(0) if layer.out is not None and layer.bias else None

    def op(kind: str, inputs: list[str], what: str, **attributes: Any) -> str:
        return g.op(kind, inputs, f"{p}/{what}", name=f"{p}/{what}", **attributes)

    flat = op("Reshape", [x, g.ints(f"{p}/flat_shape", [0, channels, positions])], "flat")
    rows = op("Transpose", [flat], "rows", perm=[0, 2, 1])  # (N, P, C)
    packed = op("MatMul", [rows, g.array(f"{p}.in_proj.weight", qkv)], "packed")
    if qkv_bias is not None:
        packed = op("Add", [packed, g.array(f"{p}.in_proj.bias", qkv_bias)], "packed_bias")

    def heads(which: int, width: int, name: str) -> str:
        start = which * h * dk
        piece = op(
            "Slice",
            [
                packed,
                g.ints(f"{p}/{name}_start", [start]),
                g.ints(f"{p}/{name}_end", [start + h * width]),
                g.ints(f"{p}/{name}_axis", [2]),
            ],
            f"{name}_packed",
        )
        split = g.ints(f"{p}/{name}_shape", [0, positions, h, width])
        grouped = op("Reshape", [piece, split], f"{name}_grouped")
        return op("Transpose", [grouped], name, perm=[0, 2, 1, 3])  # (N, h, P, width)

    q = heads(0, dk, "q")
    q = op("Mul", [q, g.floats(f"{p}/scale", [1 / math.sqrt(dk)], [])], "q_scaled")
    k = heads(1, dk, "k")
    v = heads(2, dv, "v")
    k_t = op("Transpose", [k], "k_t", perm=[0, 1, 3, 2])
    logits = op("MatMul", [q, k_t], "logits")  # (N, h, P, P)
    if tables:
        logits = _relative(g, p, q, logits, tables, sizes, h)
    weights = op("Softmax", [logits], "weights", axis=-1)
    mixed = op("MatMul", [weights, v], "mixed")  # (N, h, P, d_v)
    joined = op("Transpose", [mixed], "joined_heads", perm=[0, 2, 1, 3])
    joined = op("Reshape", [joined, g.ints(f"{p}/joined_shape", [0, positions, h * dv])], "joined")
    if projection is not None:
        joined = op("MatMul", [joined, g.array(f"{p}.out_proj.weight", projection)], "projected")
        if projection_bias is not None:
            joined = op(
                "Add", [joined, g.array(f"{p}.out_proj.bias", projection_bias)], "projected_bias"
            )
    out = node.output_shape[0]
    back = op("Transpose", [joined], "channels_first", perm=[0, 2, 1])
    return g.op("Reshape", [back, g.ints(f"{p}/shape", [0, out, *sizes])], p, name=p)


def _relative(
    g: Graph, p: str, q: str, logits: str, tables: list[Any], sizes: tuple[int, ...], h: int
) -> str:
    """``logits`` (N, h, P, P) plus q·e_a[k_a − q_a + n_a − 1] for every axis a."""
    rank, positions = len(sizes), math.prod(sizes)

    def op(kind: str, inputs: list[str], what: str, **attributes: Any) -> str:
        return g.op(kind, inputs, f"{p}/{what}", name=f"{p}/{what}", **attributes)

    grid_shape = g.ints(f"{p}/grid_shape", [0, h, *sizes, *sizes])
    grid = op("Reshape", [logits, grid_shape], "grid")
    letters = "ijkl"[:rank]
    for axis, (size, table) in enumerate(zip(sizes, tables, strict=True)):
        embeddings = g.array(f"{p}.relative.{axis}", table.T)  # (d_k, 2n − 1)
        scores = op("MatMul", [q, embeddings], f"scores{axis}")
        scores = op(
            "Reshape",
            [scores, g.ints(f"{p}/scores{axis}_shape", [0, h, *sizes, 2 * size - 1])],
            f"scores{axis}_grid",
        )
        onehot = [
            1.0 if e == key - query + size - 1 else 0.0
            for query in range(size)
            for e in range(2 * size - 1)
            for key in range(size)
        ]
        pick = g.floats(f"{p}/pick{axis}", onehot, [size, 2 * size - 1, size])
        equation = f"bh{letters}e,{letters[axis]}ez->bh{letters}z"
        picked = op("Einsum", [scores, pick], f"relative{axis}", equation=equation)
        key_shape = [size if a == axis else 1 for a in range(rank)]
        picked = op(
            "Reshape",
            [picked, g.ints(f"{p}/relative{axis}_shape", [0, h, *sizes, *key_shape])],
            f"relative{axis}_grid",
        )
        grid = op("Add", [grid, picked], f"grid{axis}")
    shape = g.ints(f"{p}/logits_shape", [0, h, positions, positions])
    return op("Reshape", [grid, shape], "biased")
