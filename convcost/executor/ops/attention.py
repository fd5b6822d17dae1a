"""``attention`` on channels-last arrays: projections, q·kᵀ, relative logits, softmax, ·v.

Every product goes through :func:`~convcost.executor.kernels.matmul`, which counts the MACs
from the operands really multiplied (the engine's figure is checked against that count).
Arrays: the q, k, v projections as one (C, h·(2·d_k + d_v)) matrix, columns [q | k | v] with
each head's features together (head-major, as ``nn.MultiheadAttention``'s ``in_proj_weight``
transposed), their bias, one (2n − 1, d_k) table per spatial axis with relative positions, then
the (h·d_v, out) output projection and its bias.
"""

from __future__ import annotations

import math

import numpy as np

from convcost.executor import kernels
from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer, present
from convcost.layers.attention import Attention
from convcost.layers.base import Shape


def attention(
    x: Array,
    qkv: Array,
    qkv_bias: Array | None,
    tables: tuple[Array, ...],
    heads: int,
    key_dim: int,
    projection: Array | None,
    projection_bias: Array | None,
) -> Array:
    """Self-attention of the positions of ``x`` (N, *spatial, C); returns (N, *spatial, out)."""
    n, sizes = x.shape[0], x.shape[1:-1]
    positions = math.prod(sizes)
    value_dim = (qkv.shape[1] // heads) - 2 * key_dim
    packed = kernels.matmul(x.reshape(n, positions, x.shape[-1]), qkv)
    if qkv_bias is not None:
        packed += qkv_bias
    q = np.ascontiguousarray(_head_block(packed, 0, heads, key_dim))
    q *= x.dtype.type(1 / math.sqrt(key_dim))
    k_t = np.ascontiguousarray(_head_block(packed, 1, heads, key_dim).swapaxes(-1, -2))
    v = np.ascontiguousarray(_head_block(packed, 2, heads, key_dim, value_dim))
    del packed
    logits = kernels.matmul(q, k_t)  # (N, h, P, P)
    del k_t
    if tables:
        _add_relative(logits, q, tables, sizes)
    del q
    _softmax(logits)
    mixed = kernels.matmul(logits, v)  # (N, h, P, d_v)
    del logits, v
    joined = np.ascontiguousarray(mixed.transpose(0, 2, 1, 3)).reshape(n, positions, -1)
    del mixed
    if projection is None:
        return joined.reshape(n, *sizes, joined.shape[-1])
    y = kernels.matmul(joined, projection)
    if projection_bias is not None:
        y += projection_bias
    return y.reshape(n, *sizes, y.shape[-1])


def _head_block(
    packed: Array, which: int, heads: int, key_dim: int, value_dim: int | None = None
) -> Array:
    """q (0), k (1) or v (2) of ``packed`` (N, P, h·(2·d_k + d_v)) as a (N, h, P, d) view."""
    n, positions, _ = packed.shape
    width = key_dim if value_dim is None else value_dim
    start = which * heads * key_dim
    block = packed[..., start : start + heads * width]
    return block.reshape(n, positions, heads, width).transpose(0, 2, 1, 3)


def _add_relative(logits: Array, q: Array, tables: tuple[Array, ...], sizes: Shape) -> None:
    """logits[…, query, key] += q·e_a[key_a − query_a + n_a − 1] for every spatial axis a."""
    n, heads = logits.shape[:2]
    rank = len(sizes)
    grid = logits.reshape(n, heads, *sizes, *sizes)
    for axis, (size, table) in enumerate(zip(sizes, tables, strict=True)):
        scores = kernels.matmul(q, np.ascontiguousarray(table.T))  # (N, h, P, 2n − 1)
        scores = scores.reshape(n, heads, *sizes, 2 * size - 1)
        offsets = np.arange(size)[None, :] - np.arange(size)[:, None] + size - 1  # [query, key]
        index = offsets.reshape((1, 1, *(size if a == axis else 1 for a in range(rank)), size))
        gathered = np.take_along_axis(scores, index, axis=-1)  # (N, h, *sizes, n_a)
        del scores
        key_shape = tuple(size if a == axis else 1 for a in range(rank))
        grid += gathered.reshape(n, heads, *sizes, *key_shape)
        del gathered


def _softmax(logits: Array) -> None:
    """Softmax over the last axis, in place (the largest logit subtracted first)."""
    largest = logits.max(axis=-1, keepdims=True)
    logits -= largest
    del largest
    np.exp(logits, out=logits)
    total = logits.sum(axis=-1, keepdims=True)
    logits /= total


class AttentionOp(Op[Attention]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        layer = self.layer
        channels, sizes = shape[0], shape[1:]
        h, dk, dv = layer.heads, layer.key_dim, layer.value_dim
        qkv = init.uniform((channels, h * (2 * dk + dv)), channels)
        qkv_bias = init.bias(h * (2 * dk + dv), layer.bias)
        tables = (
            tuple(init.uniform((2 * size - 1, dk), dk) for size in sizes) if layer.relative else ()
        )
        projection = None if layer.out is None else init.uniform((h * dv, layer.out), h * dv)
        projection_bias = None if layer.out is None else init.bias(layer.out, layer.bias)

        def forward(x: Array, owned: bool) -> tuple[Array, bool]:
            y = attention(x, qkv, qkv_bias, tables, h, dk, projection, projection_bias)
            return y, True

        arrays = present(qkv, qkv_bias, *tables, projection, projection_bias)
        return PreparedLayer(forward, arrays)

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        layer = self.layer
        sizes = shape[1:]
        positions = math.prod(sizes)
        h, dk, dv = layer.heads, layer.key_dim, layer.value_dim
        packed = positions * h * (2 * dk + dv)
        logits = h * positions * positions
        rows = h * positions
        steps = [
            2 * packed,  # the packed projections and their per-head copies q, kᵀ, v
            packed + logits,  # q, kᵀ, v and the logits
            rows * dv + logits + rows,  # v, the logits, softmax's row maxima or sums
            2 * rows * dv + logits,  # v, the attention weights and softmax·v
            rows * dv * (1 if layer.out is None else 2),  # softmax·v, its heads joined
        ]
        if layer.relative:
            # q, v, the logits, one axis's scores (2n − 1 per query) and their gathered n
            steps += [rows * (dk + dv) + logits + rows * (3 * size - 1) for size in sizes]
        return max(steps)

    def products(self, shape: Shape, out: Shape, batch: int) -> tuple[int, int, int]:
        layer = self.layer
        positions = math.prod(shape[1:])
        h, dk, dv = layer.heads, layer.key_dim, layer.value_dim
        candidates = [
            (batch * positions, shape[0], h * (2 * dk + dv)),
            (positions, dk, positions),
            (positions, positions, dv),
        ]
        if layer.out is not None:
            candidates.append((batch * positions, h * dv, layer.out))
        return max(candidates, key=lambda p: min(p[1], 512) * (min(p[2], 1024) + min(p[0], 256)))
