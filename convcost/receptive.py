"""Receptive field and jump, per spatial axis.

The recurrence of Araujo, Norris & Sim ("Computing Receptive Fields of Convolutional
Neural Networks", Distill 2019), from the input (r = 1, j = 1) forward:
r ← r + (k_eff − 1)·j,  j ← j·s,  with k_eff = d·(k − 1) + 1.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from operator import add, mul

from convcost.layers import Global, Window
from convcost.layers.base import Exact, exact


class Coverage(enum.Enum):
    LOCAL = "local"
    """Each output sees a finite window: ``size`` and ``jump`` hold it."""
    GLOBAL = "global"
    """Each output sees the whole input (after global pooling or a linear layer)."""
    UNKNOWN = "unknown"
    """Merged branches disagreed on the jump: no single window describes the output."""


@dataclass(frozen=True, slots=True)
class ReceptiveField:
    coverage: Coverage
    size: tuple[Exact, ...] = ()
    jump: tuple[Exact, ...] = ()
    """Whole numbers are ``int`` (see :data:`~convcost.layers.base.Exact`)."""

    @classmethod
    def start(cls, rank: int) -> ReceptiveField:
        """An input pixel sees itself: r = 1, j = 1 on every spatial axis."""
        return cls(Coverage.LOCAL, (1,) * rank, (1,) * rank)

    def through(self, window: Window | Global | None) -> ReceptiveField:
        """r ← r + (k − 1)·j and j ← j·s per axis, with k the window's extent and s its stride."""
        if window is None or self.coverage is not Coverage.LOCAL:
            return self
        if isinstance(window, Global):
            return GLOBAL
        jump = self.jump
        if not window.whole or Fraction in map(type, jump):
            return self._through_fractions(window)
        # integer fast path: with whole jumps and strides every result is an int, or the sum
        # of an int and a fractional size, which stays fractional: none needs normalising
        size = tuple(map(add, self.size, map(mul, window.growth, jump)))
        if not window.unit:
            jump = tuple(map(mul, jump, window.stride))
        return ReceptiveField(Coverage.LOCAL, size, jump)

    def _through_fractions(self, window: Window) -> ReceptiveField:
        size = tuple(
            exact(r + g * j) for r, g, j in zip(self.size, window.growth, self.jump, strict=True)
        )
        jump = tuple(exact(j * s) for j, s in zip(self.jump, window.stride, strict=True))
        return ReceptiveField(Coverage.LOCAL, size, jump)


GLOBAL = ReceptiveField(Coverage.GLOBAL)
"""The field of every output after global pooling or a linear layer (one shared value)."""
UNKNOWN = ReceptiveField(Coverage.UNKNOWN)


def merge(fields: Sequence[ReceptiveField]) -> tuple[ReceptiveField, str | None]:
    """Branches joined by concat/add/multiply: the largest field per axis.

    Returns the merged field and a warning when the branches' jumps disagree (then the
    output has no single receptive field and is reported as unknown).
    """
    if any(f.coverage is Coverage.UNKNOWN for f in fields):
        return UNKNOWN, None
    if any(f.coverage is Coverage.GLOBAL for f in fields):
        return GLOBAL, None
    jumps = {f.jump for f in fields}
    if len(jumps) > 1:
        shown = " vs ".join(str([_plain(j) for j in jump]) for jump in sorted(jumps))
        return UNKNOWN, f"branches have different jumps ({shown}): receptive field unknown"
    size = tuple(max(axis) for axis in zip(*(f.size for f in fields), strict=True))
    return ReceptiveField(Coverage.LOCAL, size, fields[0].jump), None


def _plain(value: Exact) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


def plain(values: tuple[Exact, ...]) -> list[int | float]:
    """Integers where exact, floats otherwise (after transposed convs)."""
    return [_plain(value) for value in values]
