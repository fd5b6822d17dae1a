"""Receptive-field geometry of one layer: the input positions each output position reads.

Per spatial axis a layer is an :class:`AxisWindow`, a periodic map: output ``o = q·period + φ``
reads the input positions ``first[φ] + q·shift``, then every ``step[φ]``-th one, up to
``last[φ] + q·shift`` (nothing when ``first[φ] > last[φ]``). Positions are on an unbounded
axis: ``−1`` is the first position of the left padding. A conv is one phase; a transposed conv,
an adaptive pool or an upsampling has several. :mod:`convcost.receptive` composes these maps.
"""

from __future__ import annotations

import math

from convcost.valueclasses import dataclass, field, made, slot_setters

MAX_PHASES = 1024
"""Phases a map may have before the receptive field is given up as unknown (a pathological
adaptive pool or resampling whose windows repeat only every 10⁹ outputs)."""

MAX_WORK = 1 << 16
"""Phases × positions :mod:`convcost.receptive` may visit to compose one layer's map: beyond,
the field is unknown (a hostile spec cannot make the walk slow; real networks stay far below)."""


@dataclass(frozen=True, slots=True)
class AxisWindow:
    """Output ``o = q·period + φ`` reads ``first[φ] + q·shift``, every ``step[φ]``-th position
    up to ``last[φ] + q·shift``; the phase reads nothing when ``first[φ] > last[φ]``."""

    period: int
    shift: int
    first: tuple[int, ...]
    last: tuple[int, ...]
    step: tuple[int, ...]
    dead: int = 0
    """Kernel taps left out because they read only padding at every output position."""
    taps: int = 0
    """The kernel's taps on this axis (0 for a window that is not a kernel's)."""


@dataclass(frozen=True, slots=True)
class Window:
    """How one layer maps output positions to input positions, per spatial axis."""

    axes: tuple[AxisWindow, ...]
    simple: bool = field(init=False, repr=False, compare=False)
    """Every axis has one phase: the receptive field may stay in integer arithmetic."""
    first: tuple[int, ...] = field(init=False, repr=False, compare=False)
    """Per axis, the first input position output 0 reads (when ``simple``)."""
    growth: tuple[int, ...] = field(init=False, repr=False, compare=False)
    """Per axis, ``last − first`` (when ``simple``): what the field grows by, in jumps."""
    shift: tuple[int, ...] = field(init=False, repr=False, compare=False)
    unit: bool = field(init=False, repr=False, compare=False)
    """Every shift is 1 (when ``simple``): the jump is unchanged."""

    def __post_init__(self) -> None:
        # derived once per window: the engine computes one window per distinct layer and shape
        axes = self.axes
        object.__setattr__(self, "simple", all(a.period == 1 for a in axes))
        object.__setattr__(self, "first", tuple(a.first[0] for a in axes))
        object.__setattr__(self, "growth", tuple(a.last[0] - a.first[0] for a in axes))
        object.__setattr__(self, "shift", tuple(a.shift for a in axes))
        object.__setattr__(self, "unit", all(a.shift == 1 and a.period == 1 for a in axes))


@dataclass(frozen=True, slots=True)
class Global:
    """Every output depends on the whole input (global pooling, a linear layer)."""


@dataclass(frozen=True, slots=True)
class Context:
    """Each output reads its own position, and through statistics over the whole map (a
    groupnorm, an instance norm, a layernorm over every position) it also depends on every input
    position: the local field is unchanged and the output has global context."""


@dataclass(frozen=True, slots=True)
class Untracked:
    """A window whose pattern repeats only after more than :data:`MAX_PHASES` outputs."""

    phases: int


_AXIS_SLOTS = slot_setters(AxisWindow, "period", "shift", "first", "last", "step", "dead", "taps")


def strided(first: int, last: int, stride: int, step: int = 1) -> AxisWindow:
    """One phase: output ``o`` reads ``first + o·stride`` … ``last + o·stride``, ``step`` apart."""
    return AxisWindow(1, stride, (first,), (last,), (step,))


def kernel_axis(
    size: int, out: int, kernel: int, stride: int, before: int, dilation: int
) -> AxisWindow:
    """A conv's or a pool's taps ``o·s − p_before + t·d`` (t < k), without the taps that read
    only padding at every one of the ``out`` output positions of an input ``size`` long.

    Tap ``t`` is left of the input everywhere when even the last output's is, ``(out − 1)·s −
    p + t·d < 0``; right of it everywhere when even the first output's is, ``t·d − p ≥ size``.
    (A tap that skips over the whole input between two outputs, possible only when the stride
    exceeds the input, is kept.) When no tap would be left, none is dropped.
    """
    lead = max(0, -((-(before - (out - 1) * stride)) // dilation))
    trail = max(0, kernel - -(-(size + before) // dilation))
    if lead + trail >= kernel:
        lead = trail = 0
    first = lead * dilation - before
    last = (kernel - 1 - trail) * dilation - before
    # AxisWindow(1, stride, (first,), (last,), (dilation,), lead + trail, kernel), through its
    # slots: a network has a few dozen, for which a value class would compile its __init__
    axis = object.__new__(AxisWindow)
    for set_field, value in zip(
        _AXIS_SLOTS,
        (1, stride, (first,), (last,), (dilation,), lead + trail, kernel),
        strict=True,
    ):
        set_field(axis, value)
    return axis


_KERNEL_WINDOWS: dict[tuple[tuple[int, ...], ...], Window] = {}
"""The windows :func:`kernel_window` made, by their geometry: a network's convolutions and
pools repeat a few (every 1×1 conv of a stage has the same), and a window is costly to make."""

_KERNEL_WINDOWS_KEPT = 4096


def kernel_window(
    sizes: tuple[int, ...],
    outs: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    before: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Window:
    """The window of a conv's or a pool's taps (:func:`kernel_axis` on each axis)."""
    key = (sizes, outs, kernel, stride, before, dilation)
    window = _KERNEL_WINDOWS.get(key)
    if window is None:
        axes = tuple(map(kernel_axis, sizes, outs, kernel, stride, before, dilation))
        window = made(Window, axes=axes)
        if len(_KERNEL_WINDOWS) >= _KERNEL_WINDOWS_KEPT:
            _KERNEL_WINDOWS.clear()
        _KERNEL_WINDOWS[key] = window
    return window


def transposed_axis(
    kernel: int, stride: int, padding: int, dilation: int
) -> AxisWindow | Untracked:
    """A transposed conv: input ``i`` with tap ``t`` writes the full output ``i·s + t·d``, of
    which the first ``p`` are cropped, so output ``o`` reads every ``i`` with ``o + p − i·s`` in
    ``{0, d, …, (k − 1)·d}``. Per phase ``φ = o mod s`` these ``i`` are an arithmetic
    progression ``d/g`` apart (``g = gcd(d, s)``), or none (a kernel shorter than the stride)."""
    if stride > MAX_PHASES:
        return Untracked(stride)
    g = math.gcd(dilation, stride)
    cycle = stride // g  # taps t ≡ t0 (mod cycle) solve t·d ≡ u (mod s)
    firsts, lasts = [], []
    for phase in range(stride):
        u = phase + padding
        if u % g:
            firsts.append(0)
            lasts.append(-1)
            continue
        t0 = (u // g) * pow(dilation // g, -1, cycle) % cycle if cycle > 1 else 0
        if t0 > kernel - 1:
            firsts.append(0)
            lasts.append(-1)
            continue
        t1 = t0 + (kernel - 1 - t0) // cycle * cycle
        firsts.append((u - t1 * dilation) // stride)
        lasts.append((u - t0 * dilation) // stride)
    return _reduced(AxisWindow(stride, 1, tuple(firsts), tuple(lasts), (dilation // g,) * stride))


def adaptive_axis(size: int, out: int) -> AxisWindow | Untracked:
    """PyTorch's adaptive window ``i``: ``[⌊i·size/out⌋, ⌈(i+1)·size/out⌉)``; it repeats every
    ``out/g`` outputs, ``size/g`` inputs further (``g = gcd(size, out)``)."""
    g = math.gcd(size, out)
    period, shift = out // g, size // g
    if period > MAX_PHASES:
        return Untracked(period)
    firsts = tuple(i * size // out for i in range(period))
    lasts = tuple(-(-(i + 1) * size // out) - 1 for i in range(period))
    return AxisWindow(period, shift, firsts, lasts, (1,) * period)


def upsample_axis(
    size: int, out: int, mode: str, *, align_corners: bool = False, scale: int | None = None
) -> AxisWindow | Untracked:
    """``F.interpolate`` from ``size`` to ``out`` positions on one axis, taps whose weight is
    zero left out. ``mode`` is ``nearest``, ``linear`` (also each axis of bilinear and
    trilinear) or ``cubic`` (each axis of bicubic); ``scale`` is the integer ``scale_factor``
    when one was given (PyTorch then maps with 1/scale rather than size/out; equal here, as the
    output is size·scale).

    The source coordinate of output ``o`` (PyTorch's ``area_pixel_compute_source_index``) is
    ``o·(size − 1)/(out − 1)`` with ``align_corners``, else ``(o + ½)·size/out − ½``
    (``o·size/out`` rounded down for nearest). Linear reads ``⌊x⌋`` and ``⌊x⌋ + 1``, cubic
    ``⌊x⌋ − 1 … ⌊x⌋ + 2``; at a whole ``x`` every weight but ``⌊x⌋``'s is zero. Borders (the
    clamp to the input) are not modelled: an interior output reads what is listed.

    Coordinates are exact rationals. PyTorch computes them in floating point (nearest in
    float32), so a whole coordinate can come out an ulp off, and then it also reads the
    neighbours with weights of that size (or, for nearest, the position before): those are
    not counted here (tests/test_receptive_torch.py checks both against ``F.interpolate``).
    """
    from fractions import Fraction  # a resize's ratio: the only fractions a window holds

    if mode not in ("nearest", "linear", "cubic"):
        raise ValueError(f"unknown upsampling mode {mode!r}")
    if align_corners and mode != "nearest":
        ratio = Fraction(size - 1, out - 1) if out > 1 else Fraction(0)
        offset = Fraction(0)
    else:
        ratio = Fraction(1, scale) if scale is not None else Fraction(size, out)
        offset = Fraction(0) if mode == "nearest" else ratio / 2 - Fraction(1, 2)
    period, shift = ratio.denominator, ratio.numerator
    if period > MAX_PHASES:
        return Untracked(period)
    reach = {"nearest": (0, 0), "linear": (0, 1), "cubic": (-1, 2)}[mode]
    firsts, lasts = [], []
    for phase in range(period):
        x = phase * ratio + offset
        whole = math.floor(x)
        if x == whole:
            firsts.append(whole)
            lasts.append(whole)
        else:
            firsts.append(whole + reach[0])
            lasts.append(whole + reach[1])
    return _reduced(AxisWindow(period, shift, tuple(firsts), tuple(lasts), (1,) * period))


def _reduced(window: AxisWindow) -> AxisWindow:
    """The same map with the fewest phases (a transposed conv whose phases all read alike)."""
    period, shift = window.period, window.shift
    for divisor in range(1, period):
        if period % divisor or (shift * divisor) % period:
            continue
        moved = shift * divisor // period
        if all(_same(window, phase, phase - divisor, moved) for phase in range(divisor, period)):
            return AxisWindow(
                divisor,
                moved,
                window.first[:divisor],
                window.last[:divisor],
                window.step[:divisor],
                window.dead,
            )
    return window


def _same(window: AxisWindow, phase: int, earlier: int, moved: int) -> bool:
    first, last = window.first, window.last
    if first[phase] > last[phase] or first[earlier] > last[earlier]:
        return first[phase] > last[phase] and first[earlier] > last[earlier]
    return (
        first[phase] == first[earlier] + moved
        and last[phase] == last[earlier] + moved
        and (first[phase] == last[phase] or window.step[phase] == window.step[earlier])
    )
