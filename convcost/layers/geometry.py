"""Per-axis output-size rules, exactly as PyTorch computes them."""

from __future__ import annotations

import math

from convcost.layers.base import Drop, LayerShapeError, axis_names


def effective(kernel: int, dilation: int) -> int:
    """The span of a dilated kernel: k_eff = d·(k − 1) + 1."""
    return dilation * (kernel - 1) + 1


def spans(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """k_eff per axis; the kernel tuple itself when no axis is dilated (the common case)."""
    if dilation.count(1) == len(dilation):
        return kernel
    return tuple(effective(k, d) for k, d in zip(kernel, dilation, strict=True))


def same_padding(kernel: int, dilation: int) -> tuple[int, int]:
    """PyTorch's ``padding='same'``: total d·(k − 1), the extra pixel at the end."""
    total = dilation * (kernel - 1)
    return (total // 2, total - total // 2)


def conv_sizes(
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
) -> tuple[int, ...]:
    """H_out = ⌊(H_in + p_lo + p_hi − d·(k − 1) − 1) / s⌋ + 1 per axis; raises below 1."""
    out = []
    for axis, (size, k, s, (lo, hi), d) in enumerate(
        zip(sizes, kernel, stride, padding, dilation, strict=True)
    ):
        numerator = size + lo + hi - d * (k - 1) - 1
        result = numerator // s + 1
        if numerator < 0 or result < 1:
            raise LayerShapeError(
                "kernel",
                f"output size on axis {axis_names(len(sizes))[axis]} would be "
                f"⌊({size} + {lo + hi} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = {result}, below 1: "
                f"the input ({size}) plus padding ({lo + hi}) is smaller than the kernel's span ({effective(k, d)})",
            )
        out.append(result)
    return tuple(out)


def pool_sizes(
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    *,
    ceil_mode: bool,
) -> tuple[int, ...]:
    """PyTorch's ``pooling_output_shape``: with ceil mode, the last window must start inside
    the input or its left padding."""
    out = []
    names = axis_names(len(sizes))
    for axis, (size, k, s, p, d) in enumerate(
        zip(sizes, kernel, stride, padding, dilation, strict=True)
    ):
        numerator = size + 2 * p - d * (k - 1) - 1
        result = (numerator + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (result - 1) * s >= size + p:
            result -= 1
        if result < 1:  # as PyTorch: with ceil mode, a window wider than the input still fits once
            rounding = "⌈" if ceil_mode else "⌊"
            closing = "⌉" if ceil_mode else "⌋"
            raise LayerShapeError(
                "kernel",
                f"output size on axis {names[axis]} would be {rounding}({size} + 2·{p} − {d}·({k} − 1) − 1) / {s}"
                f"{closing} + 1 = {result}, below 1: the input is smaller than the window ({effective(k, d)})",
            )
        out.append(result)
    return tuple(out)


def transposed_sizes(
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    output_padding: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[int, ...]:
    """H_out = (H_in − 1)·s − 2·p + d·(k − 1) + output_padding + 1 per axis."""
    out = []
    names = axis_names(len(sizes))
    for axis, (size, k, s, p, op, d) in enumerate(
        zip(sizes, kernel, stride, padding, output_padding, dilation, strict=True)
    ):
        result = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        if result < 1:
            raise LayerShapeError(
                "padding",
                f"output size on axis {names[axis]} would be ({size} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {op} + 1 "
                f"= {result}, below 1",
            )
        out.append(result)
    return tuple(out)


def dropped_pixels(
    sizes: tuple[int, ...],
    spans: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
) -> tuple[Drop, ...]:
    """Input pixels that floor division leaves unread at the end of each axis.

    (size + p_lo + p_hi − k_eff) mod s positions are skipped at the end; the trailing padding
    is among them first, so only what is left over is real input. When the window is narrower
    than the stride (a 1×1 conv with stride 2), s − k_eff pixels are skipped between every two
    windows anyway: a tail no wider than that gap is the layer's normal subsampling, not a loss.
    """
    if stride.count(1) == len(stride):
        return ()  # with stride 1 every window start is used: the tail is -hi <= 0
    names = axis_names(len(sizes))
    drops = []
    for axis, (size, span, s, (lo, hi)) in enumerate(
        zip(sizes, spans, stride, padding, strict=True)
    ):
        real = (size + lo + hi - span) % s - hi
        if real > max(0, s - span):
            drops.append(Drop(names[axis], real))
    return tuple(drops)


def window_total(size: int, out: int) -> int:
    """Σ over the ``out`` adaptive windows of their lengths: ``size + out − gcd(size, out)``.

    Window ``i`` has length ``⌈(r + size)/out⌉`` with ``r = i·size mod out`` (write
    ``i·size = q·out + r``: it starts at ``q`` and ends at ``q + ⌈(r + size)/out⌉``); summing
    over ``i`` telescopes to ``size`` plus one for each window whose end is not a whole
    multiple, of which there are ``out − gcd(size, out)``. Closed form: a size of 10⁹ costs
    nothing to count (tests compare it with the window-by-window sum).
    """
    return size + out - math.gcd(size, out)


def widest_window(size: int, out: int) -> int:
    """The longest adaptive window, ``⌈(size + out − gcd(size, out))/out⌉``: the residues
    ``i·size mod out`` are the multiples of the gcd up to ``out − gcd``."""
    return -(-(size + out - math.gcd(size, out)) // out)
