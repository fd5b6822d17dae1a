"""Receptive field and jump, per spatial axis, exact at every output position.

The field of a layer's output is a periodic map, per axis, from output positions to the
interval of network-input positions they depend on (:class:`AxisMap`), composed forward one
layer at a time with the layer's :class:`~convcost.layers.window.Window`. The receptive field is
the widest interval over the phases (the largest over output positions), the jump
``shift / period``. While every map has one phase (no transposed conv, adaptive pool or
upsampling yet) this is the recurrence of Araujo, Norris & Sim ("Computing Receptive Fields of
Convolutional Neural Networks", Distill 2019), r ← r + (k_eff − 1)·j, j ← j·s, kept in integers;
the maps also carry where each window starts, so merged branches take the union of windows.
Positions are on an unbounded input (padding is not clipped): the field is that of an output
far from the borders, as in the recurrence.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from operator import add, mul, sub

from convcost.layers.base import Exact, exact
from convcost.layers.window import (
    MAX_PHASES,
    MAX_WORK,
    AxisWindow,
    Context,
    Global,
    Untracked,
    Window,
)
from convcost.valueclasses import dataclass, replace, slot_setters


class Coverage(enum.Enum):
    LOCAL = "local"
    """Each output sees a finite window: ``size`` and ``jump`` hold it."""
    GLOBAL = "global"
    """Each output sees the whole input (after global pooling or a linear layer)."""
    UNKNOWN = "unknown"
    """Merged branches disagreed on the jump (or a map had too many phases): no single window
    describes the output."""


@dataclass(frozen=True, slots=True)
class AxisMap:
    """Output ``o = q·period + φ`` depends on the input positions ``lo[φ] + q·shift`` to
    ``hi[φ] + q·shift`` (on none when ``lo[φ] > hi[φ]``)."""

    period: int
    shift: int
    lo: tuple[int, ...]
    hi: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReceptiveField:
    coverage: Coverage
    size: tuple[int, ...] = ()
    """The widest window over output positions, per axis."""
    jump: tuple[Exact, ...] = ()
    """Input positions between neighbouring outputs; an ``int`` while whole (see
    :data:`~convcost.layers.base.Exact`)."""
    first: tuple[int, ...] = ()
    """The first input position output 0 depends on, per axis (when every map has one phase;
    else ``maps`` holds the whole map)."""
    maps: tuple[AxisMap, ...] | None = None
    global_context: bool = False
    """Some merged branch sees the whole input (a squeeze-and-excitation gate): the local
    field is ``size``, the spatial path's."""

    @property
    def varies(self) -> bool:
        """The window differs between output positions (``size`` is then the largest)."""
        maps = self.maps
        return maps is not None and any(
            len({max(0, hi - lo + 1) for lo, hi in zip(m.lo, m.hi, strict=True)}) > 1 for m in maps
        )

    @classmethod
    def start(cls, rank: int) -> ReceptiveField:
        """An input pixel sees itself: r = 1, j = 1 on every spatial axis."""
        return cls(Coverage.LOCAL, (1,) * rank, (1,) * rank, (0,) * rank)

    def through(self, window: Window | Global | Context | Untracked | None) -> ReceptiveField:
        """The field after a layer with this window."""
        if window is None or self.coverage is not _LOCAL:
            return self
        if type(window) is Window:
            if window.simple and self.maps is None:
                # integer fast path: r ← r + (last − first)·j, j ← j·s, first ← first + a·j;
                # written out for 2-D maps (3× faster than tuple(map(...)) on two axes)
                # one phase per axis: every jump is an int
                jump: tuple[int, ...] = self.jump  # type: ignore[assignment]
                if len(jump) == 2:
                    j0, j1 = jump
                    (a0, a1), (g0, g1) = window.first, window.growth
                    (f0, f1), (s0, s1) = self.first, self.size
                    first = (f0 + a0 * j0, f1 + a1 * j1)
                    size = (s0 + g0 * j0, s1 + g1 * j1)
                    if not window.unit:
                        t0, t1 = window.shift
                        jump = (j0 * t0, j1 * t1)
                    return _local(size, jump, first, self.global_context)
                first = tuple(map(add, self.first, map(mul, window.first, jump)))
                size = tuple(map(add, self.size, map(mul, window.growth, jump)))
                if not window.unit:
                    jump = tuple(map(mul, jump, window.shift))
                return _local(size, jump, first, self.global_context)
            return self._through_maps(window)
        if type(window) is Global:
            return GLOBAL
        if type(window) is Context:
            return self if self.global_context else replace(self, global_context=True)
        return ReceptiveField(Coverage.UNKNOWN, global_context=self.global_context)

    def axis_maps(self) -> tuple[AxisMap, ...]:
        """The per-axis maps, also when every one has a single phase."""
        if self.maps is not None:
            return self.maps
        return tuple(
            AxisMap(1, int(j), (f,), (f + int(r) - 1,))
            for r, j, f in zip(self.size, self.jump, self.first, strict=True)
        )

    def _through_maps(self, window: Window) -> ReceptiveField:
        composed = []
        for before, axis in zip(self.axis_maps(), window.axes, strict=True):
            after = _compose(before, axis)
            if after is None:
                return ReceptiveField(Coverage.UNKNOWN, global_context=self.global_context)
            composed.append(after)
        return from_maps(composed, self.global_context)


_LOCAL = Coverage.LOCAL
_SET_COVERAGE, _SET_SIZE, _SET_JUMP, _SET_FIRST, _SET_MAPS, _SET_CONTEXT = slot_setters(
    ReceptiveField, "coverage", "size", "jump", "first", "maps", "global_context"
)


def _local(
    size: tuple[int, ...],
    jump: tuple[Exact, ...],
    first: tuple[int, ...],
    context: bool,
    _new: Callable[[type[ReceptiveField]], ReceptiveField] = object.__new__,
) -> ReceptiveField:
    """``ReceptiveField(LOCAL, size, jump, first, global_context=context)`` through the slot
    setters (the engine makes one per layer; see :func:`convcost.report.layer_report`)."""
    field = _new(ReceptiveField)
    _SET_COVERAGE(field, _LOCAL)
    _SET_SIZE(field, size)
    _SET_JUMP(field, jump)
    _SET_FIRST(field, first)
    _SET_MAPS(field, None)
    _SET_CONTEXT(field, context)
    return field


UNTRACKED = (
    f"receptive field unknown from here: the windows repeat only after more than {MAX_PHASES:,} "
    "output positions"
)
"""The warning when a layer's map has too many phases to follow (see :data:`MAX_PHASES`)."""

GLOBAL = ReceptiveField(Coverage.GLOBAL, global_context=True)
"""The field of every output after global pooling or a linear layer (one shared value)."""
UNKNOWN = ReceptiveField(Coverage.UNKNOWN)


def _fraction(numerator: int, denominator: int) -> Exact:
    """``Fraction(numerator, denominator)``: :mod:`fractions` is loaded by the first map with
    several phases (a transposed conv, a resize, an adaptive pool that does not divide)."""
    from fractions import Fraction  # noqa: PLC0415

    return Fraction(numerator, denominator)


def from_maps(maps: Sequence[AxisMap], context: bool = False) -> ReceptiveField:
    """The field of these per-axis maps: one phase each goes back to the integer form (an
    axis whose outputs all read nothing keeps its map: no window can widen it)."""
    if all(m.period == 1 and m.lo[0] <= m.hi[0] for m in maps):
        return _local(
            tuple(m.hi[0] - m.lo[0] + 1 for m in maps),
            tuple(m.shift for m in maps),
            tuple(m.lo[0] for m in maps),
            context,
        )
    return ReceptiveField(
        Coverage.LOCAL,
        tuple(max(max(0, hi - lo + 1) for lo, hi in zip(m.lo, m.hi, strict=True)) for m in maps),
        tuple(exact(_fraction(m.shift, m.period)) for m in maps),
        (),
        tuple(maps),
        context,
    )


def _compose(before: AxisMap, window: AxisWindow) -> AxisMap | None:
    """The map of the layer's output: output ``o`` depends on the union of what the input
    positions it reads depend on. ``None`` past :data:`MAX_PHASES` phases.

    The result repeats once ``n`` layer periods move the input by a whole number of the earlier
    map's periods: ``n = P / gcd(s, P)``. Along one phase's progression of input positions
    (``step`` apart), positions ``lcm(step, P)`` apart have the same phase of the earlier map,
    the later one shifted right: the first ``P / gcd(step, P)`` positions hold the minimum,
    the last as many the maximum.
    """
    big_p, big_s = before.period, before.shift
    g = math.gcd(window.shift, big_p)
    repeats = big_p // g
    period = repeats * window.period
    if period > MAX_PHASES:
        return None
    reach_bound = max(
        min((b - a) // step + 1, big_p // math.gcd(step, big_p))
        for a, b, step in zip(window.first, window.last, window.step, strict=True)
    )
    if period * reach_bound > MAX_WORK:
        return None
    shift = window.shift // g * big_s
    lows, highs = before.lo, before.hi
    lo_out, hi_out = [], []
    for o in range(period):
        phase, q = o % window.period, o // window.period
        a, b, step = window.first[phase], window.last[phase], window.step[phase]
        if a > b:
            lo_out.append(0)
            hi_out.append(-1)
            continue
        a += q * window.shift
        count = (b - a + q * window.shift) // step + 1
        last = a + (count - 1) * step
        reach = min(count, big_p // math.gcd(step, big_p))
        low = high = None
        for k in range(reach):
            x = a + k * step
            r = x % big_p
            if lows[r] <= highs[r]:
                value = lows[r] + x // big_p * big_s
                low = value if low is None else min(low, value)
            x = last - k * step
            r = x % big_p
            if lows[r] <= highs[r]:
                value = highs[r] + x // big_p * big_s
                high = value if high is None else max(high, value)
        if low is None or high is None:
            lo_out.append(0)
            hi_out.append(-1)
        else:
            lo_out.append(low)
            hi_out.append(high)
    return _fewest_phases(AxisMap(period, shift, tuple(lo_out), tuple(hi_out)))


def _fewest_phases(m: AxisMap) -> AxisMap:
    """The same map with its shortest period (a divisor of ``period``)."""
    period, shift, lows, highs = m.period, m.shift, m.lo, m.hi
    for divisor in range(1, period):
        if period % divisor or (shift * divisor) % period:
            continue
        moved = shift * divisor // period
        if all(
            (lows[o] > highs[o] and lows[o - divisor] > highs[o - divisor])
            or (lows[o] == lows[o - divisor] + moved and highs[o] == highs[o - divisor] + moved)
            for o in range(divisor, period)
        ):
            return AxisMap(divisor, moved, lows[:divisor], highs[:divisor])
    return m


def merge(fields: Sequence[ReceptiveField]) -> tuple[ReceptiveField, str | None]:
    """Branches joined by concat/add/multiply: per axis, the union of their windows.

    Branches that see the whole input (a squeeze-and-excitation gate) leave the field to the
    others and set ``global_context``; the field is global only when every branch is. Returns
    the merged field and a warning when the local branches' jumps disagree (then the output
    has no single receptive field and is reported as unknown).
    """
    context, unknown = False, False
    local = []
    for f in fields:
        if f.coverage is _LOCAL:
            local.append(f)
        elif f.coverage is Coverage.UNKNOWN:
            unknown = True
        if f.global_context:
            context = True
    if unknown:
        return ReceptiveField(Coverage.UNKNOWN, global_context=context), None
    if not local:
        return GLOBAL, None
    context = context or len(local) < len(fields)
    jumps = {f.jump for f in local}
    if len(jumps) > 1:
        shown = " vs ".join(str(as_numbers(jump)) for jump in sorted(jumps))
        return (
            ReceptiveField(Coverage.UNKNOWN, global_context=context),
            f"branches have different jumps ({shown}): receptive field unknown",
        )
    if len(local) == 1 and local[0].global_context == context:
        return local[0], None
    if all(f.maps is None for f in local):
        # per axis, the earliest first position and the latest last one (C-level loops)
        firsts = list(zip(*(f.first for f in local), strict=True))
        sizes = zip(*(f.size for f in local), strict=True)
        first = tuple(map(min, firsts))
        ends = tuple(max(map(add, a, r)) for a, r in zip(firsts, sizes, strict=True))
        return _local(tuple(map(sub, ends, first)), local[0].jump, first, context), None
    united = []
    for maps in zip(*(f.axis_maps() for f in local), strict=True):
        axis = _union(maps)
        if axis is None:
            return ReceptiveField(Coverage.UNKNOWN, global_context=context), None
        united.append(axis)
    return from_maps(united, context), None


def _union(maps: Sequence[AxisMap]) -> AxisMap | None:
    """Per output position, the hull of the maps' intervals (their jumps are equal).
    ``None`` past :data:`MAX_PHASES` phases."""
    period = math.lcm(*(m.period for m in maps))
    if period > MAX_PHASES:
        return None
    shift = maps[0].shift * period // maps[0].period
    lo_out, hi_out = [], []
    for o in range(period):
        low = high = None
        for m in maps:
            lo, hi = m.lo[o % m.period], m.hi[o % m.period]
            if lo <= hi:
                moved = o // m.period * m.shift
                low = lo + moved if low is None else min(low, lo + moved)
                high = hi + moved if high is None else max(high, hi + moved)
        lo_out.append(0 if low is None else low)
        hi_out.append(-1 if high is None else high)
    return _fewest_phases(AxisMap(period, shift, tuple(lo_out), tuple(hi_out)))


def as_numbers(values: tuple[Exact, ...]) -> list[int | float]:
    """Integers where exact, floats otherwise (a jump after a transposed conv), for display."""
    return [value if type(value) is int else _number(value) for value in values]


def _number(value: Exact) -> int | float:
    return int(value) if value.denominator == 1 else float(value)
