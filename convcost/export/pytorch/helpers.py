"""The small modules PyTorch lacks that an exported file may need, as source text.

Each is defined at the top of the file only when one of its layers uses it (the kinds that do
are in :mod:`convcost.export.pytorch.kinds`); each matches the convcost kind it serves exactly
(tests/test_export_pytorch.py runs them against convcost's numbers).
"""

from __future__ import annotations

from collections.abc import Mapping

HELPERS: Mapping[str, str] = {
    "Split": '''
class Split(nn.Module):
    """Part ``index`` of ``parts`` equal slices of the channels (convcost's ``split``)."""

    def __init__(self, parts: int, index: int) -> None:
        super().__init__()
        self.parts, self.index = parts, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[1] // self.parts
        return x[:, self.index * size : (self.index + 1) * size]
''',
    "ChannelShuffle": '''
class ChannelShuffle(nn.Module):
    """Channels viewed as (groups, C / groups), transposed and flattened back."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        x = x.reshape(n, self.groups, c // self.groups, *x.shape[2:]).transpose(1, 2)
        return x.reshape(n, c, *x.shape[3:])
''',
    "Crop": '''
class Crop(nn.Module):
    """Drops (before, after) positions at the ends of each spatial axis."""

    def __init__(self, sides: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self.sides = sides

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = [slice(None), slice(None)]
        for size, (before, after) in zip(x.shape[2:], self.sides):
            index.append(slice(before, size - after))
        return x[tuple(index)]
''',
    "LayerScale": '''
class LayerScale(nn.Module):
    """A learned scale per channel, initialised to ``init`` (ConvNeXt's layer scale)."""

    def __init__(self, channels: int, init: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.reshape(-1, *[1] * (x.dim() - 2))
''',
    "ChannelLayerNorm": '''
class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels at each position of a [N, C, ...] map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)
''',
    "SelfAttention": '''
class SelfAttention(nn.Module):
    """Multi-head self-attention over the positions of a [N, C, ...] map (convcost's
    ``attention``): q, k, v projections in one matrix, softmax(q·kᵀ/√d_k)·v per head, the heads
    concatenated and, with ``out``, projected; ``relative`` (the spatial sizes) adds learned
    relative-position logits per axis (BoTNet)."""

    def __init__(
        self,
        channels: int,
        heads: int,
        key_dim: int,
        value_dim: int,
        out: int | None = None,
        bias: bool = True,
        relative: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        self.heads, self.key_dim, self.value_dim = heads, key_dim, value_dim
        self.qkv = nn.Parameter(torch.empty(heads * (2 * key_dim + value_dim), channels))
        nn.init.kaiming_uniform_(self.qkv, a=5**0.5)
        self.qkv_bias = nn.Parameter(torch.zeros(self.qkv.shape[0])) if bias else None
        self.tables = nn.ParameterList(
            nn.Parameter(torch.randn(2 * size - 1, key_dim) * key_dim**-0.5)
            for size in relative or ()
        )
        self.project = None if out is None else nn.Parameter(torch.empty(out, heads * value_dim))
        if self.project is not None:
            nn.init.kaiming_uniform_(self.project, a=5**0.5)
        self.project_bias = (
            nn.Parameter(torch.zeros(out)) if out is not None and bias else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, sizes = x.shape[0], x.shape[2:]
        tokens = x.flatten(2).transpose(1, 2)  # [N, P, C]
        packed = nn.functional.linear(tokens, self.qkv, self.qkv_bias)
        h, dk, dv = self.heads, self.key_dim, self.value_dim
        q, k, v = packed.split([h * dk, h * dk, h * dv], dim=-1)
        q = q.unflatten(-1, (h, dk)).transpose(1, 2) * dk**-0.5  # [N, h, P, d_k]
        k = k.unflatten(-1, (h, dk)).transpose(1, 2)
        v = v.unflatten(-1, (h, dv)).transpose(1, 2)
        logits = q @ k.transpose(-1, -2)  # [N, h, P, P]
        if len(self.tables):
            grid = logits.reshape(n, h, *sizes, *sizes)
            rank = len(sizes)
            for axis, (size, table) in enumerate(zip(sizes, self.tables)):
                scores = (q @ table.T).reshape(n, h, *sizes, 2 * size - 1)
                offsets = torch.arange(size)[None, :] - torch.arange(size)[:, None] + size - 1
                shape = [1, 1, *(size if a == axis else 1 for a in range(rank)), size]
                index = offsets.to(x.device).reshape(shape).expand(*scores.shape[:-1], size)
                gathered = scores.gather(-1, index)
                key_shape = [size if a == axis else 1 for a in range(rank)]
                grid = grid + gathered.reshape(n, h, *sizes, *key_shape)
            logits = grid.reshape(logits.shape)
        mixed = logits.softmax(-1) @ v  # [N, h, P, d_v]
        joined = mixed.transpose(1, 2).flatten(2)
        if self.project is not None:
            joined = nn.functional.linear(joined, self.project, self.project_bias)
        return joined.transpose(1, 2).reshape(n, -1, *sizes)
''',
}
"""Each helper's name → its class's source."""
