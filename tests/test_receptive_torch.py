"""Receptive fields against the gradient support of torch models.

Every drawn stack (1-D or 2-D, one channel) is built twice: as convcost layers, whose windows
:mod:`convcost.receptive` composes, and as a torch function with random positive weights in
float64, so that no two paths to an input cancel. The model is linear, so its Jacobian column
for input position ``n`` is the output for the one-hot input at ``n``: one batched forward pass
gives the whole Jacobian (on a 2-D map, the indicator of row ``h`` gives the rows' supports, as
every layer acts on the two axes separately). Max pooling's gradient is a single tap, so its
windows are checked through an average pool (or a ones-kernel conv when dilated) of the same
geometry.

Output position ``m``'s support is the set of inputs with a nonzero Jacobian entry; its extent
is ``max − min + 1``. Assertions, per axis:

1. the largest extent over the output positions equals convcost's receptive field, exactly;
2. every position's support lies inside the window convcost's map gives it (the borders can
   only clip a window: padding, a transposed conv's crop and the clamp of interpolation all
   read positions inside the unclipped window or nothing);
3. for every phase of the map, some output position of that phase has exactly the map's
   window (first and last position); phases the map says read nothing read nothing.

The input is large enough when the output holds at least 2 periods of the map plus 8
positions and the field is at most a third of the input: the size starts small and doubles
until it is (a stack that needs more than the cap is rejected, rarely). Adaptive pools and resizes to
a size are drawn as ratios of the current size whose windows repeat within at most 4 outputs,
so that a larger input has more of every phase; ``align_corners=True`` (whose windows repeat
only once over the whole axis) and resizing by ratios that are not powers of two (whose
source coordinates PyTorch rounds) are checked one layer at a time in
``test_upsample_geometry``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest

from convcost import parse_spec
from convcost.build import build
from convcost.layers.window import Untracked, Window, upsample_axis
from convcost.network import LayerNode
from convcost.receptive import Coverage, ReceptiveField
from tests.conftest import require, run

torch = require("torch")
require("hypothesis")
import torch.nn.functional as F  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

Sizes = tuple[int, ...]


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    """Small float64 convolutions: torch's thread pool costs more than it gains (30× on a
    shared 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@dataclass(frozen=True)
class Drawn:
    """One layer: its kind and settings per axis (``ratio`` for adaptive pools and resizes)."""

    kind: str
    kernel: Sizes = ()
    stride: Sizes = ()
    padding: tuple[tuple[int, int], ...] = ()
    dilation: Sizes = ()
    output_padding: Sizes = ()
    ceil_mode: bool = False
    ratio: tuple[tuple[int, int], ...] = ()
    mode: str = ""
    scale: int | None = None


def _listed(values: Sizes) -> str:
    return "[" + ", ".join(map(str, values)) + "]"


@st.composite
def drawn_layer(draw: st.DrawFn, rank: int, upsampling: bool) -> Drawn:
    kinds = ["conv", "avgpool", "maxpool", "conv_transpose", "adaptive_avgpool"]
    kind = draw(st.sampled_from([*kinds, "upsample"] if upsampling else kinds))
    axes = range(rank)
    if kind == "conv":
        return Drawn(
            kind,
            kernel=tuple(draw(st.integers(1, 4)) for _ in axes),
            stride=tuple(draw(st.integers(1, 3)) for _ in axes),
            padding=tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in axes),
            dilation=tuple(draw(st.integers(1, 3)) for _ in axes),
        )
    if kind in ("avgpool", "maxpool"):
        kernel = tuple(draw(st.integers(1, 4)) for _ in axes)
        ceil_mode = draw(st.booleans())
        dilated = kind == "maxpool" and not ceil_mode and draw(st.booleans())
        return Drawn(
            kind,
            kernel=kernel,
            stride=tuple(draw(st.integers(1, 3)) for _ in axes),
            padding=tuple((p, p) for p in (draw(st.integers(0, k // 2)) for k in kernel)),
            dilation=tuple(draw(st.integers(1, 3)) if dilated else 1 for _ in axes),
            ceil_mode=ceil_mode,
        )
    if kind == "conv_transpose":
        stride = tuple(draw(st.integers(1, 3)) for _ in axes)
        dilation = tuple(draw(st.integers(1, 2)) for _ in axes)
        return Drawn(
            kind,
            kernel=tuple(draw(st.integers(1, 4)) for _ in axes),
            stride=stride,
            padding=tuple((p, p) for p in (draw(st.integers(0, 2)) for _ in axes)),
            dilation=dilation,
            output_padding=tuple(
                draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
            ),
        )
    ratio = tuple((draw(st.integers(1, 4)), draw(st.integers(1, 3))) for _ in axes)
    if kind == "adaptive_avgpool":
        return Drawn(kind, ratio=ratio)
    # resizing by powers of two only: PyTorch computes source coordinates in floating point,
    # exact for these; other ratios are checked one layer at a time in test_upsample_geometry
    modes = ["nearest", "linear"] + (["cubic"] if rank == 2 else [])
    mode = draw(st.sampled_from(modes))
    if draw(st.booleans()):
        return Drawn(kind, mode=mode, scale=draw(st.sampled_from([1, 2, 4])))
    powers = st.sampled_from([1, 2, 4])
    return Drawn(kind, mode=mode, ratio=tuple((draw(powers), draw(powers)) for _ in axes))


def _resized(size: int, ratio: tuple[int, int]) -> int:
    """``size·a/b`` when ``b`` divides ``size``, else ``size·a``: windows repeat within a ≤ 4."""
    a, b = ratio
    return size // b * a if size % b == 0 else size * a


def out_sizes(layer: Drawn, sizes: Sizes) -> Sizes | None:
    """PyTorch's output sizes, or ``None`` when the layer does not fit."""
    rank = len(sizes)
    if layer.kind in ("adaptive_avgpool", "upsample"):
        if layer.scale is not None:
            return tuple(n * layer.scale for n in sizes)
        out = tuple(_resized(n, r) for n, r in zip(sizes, layer.ratio, strict=True))
        return None if layer.kind == "adaptive_avgpool" and max(out) == 1 else out
    result = []
    for axis in range(rank):
        n, k, s = sizes[axis], layer.kernel[axis], layer.stride[axis]
        (lo, hi), d = layer.padding[axis], layer.dilation[axis]
        if layer.kind == "conv_transpose":
            m = (n - 1) * s - 2 * lo + d * (k - 1) + layer.output_padding[axis] + 1
        else:
            numerator = n + lo + hi - d * (k - 1) - 1
            if numerator < 0:
                return None
            m = (numerator + (s - 1 if layer.ceil_mode else 0)) // s + 1
            if layer.ceil_mode and (m - 1) * s >= n + lo:
                m -= 1
        if m < 1:
            return None
        result.append(m)
    return tuple(result)


def yaml_of(layer: Drawn, sizes: Sizes) -> str:
    kernel, stride, dilation = map(_listed, (layer.kernel, layer.stride, layer.dilation))
    if layer.kind == "conv":
        padding = "[" + ", ".join(f"[{lo}, {hi}]" for lo, hi in layer.padding) + "]"
        return (
            f"conv: {{out: 1, kernel: {kernel}, stride: {stride}, padding: {padding}, "
            f"dilation: {dilation}}}"
        )
    padding = _listed(tuple(lo for lo, _ in layer.padding))
    if layer.kind == "conv_transpose":
        return (
            f"conv_transpose: {{out: 1, kernel: {kernel}, stride: {stride}, padding: {padding}, "
            f"dilation: {dilation}, output_padding: {_listed(layer.output_padding)}}}"
        )
    if layer.kind == "adaptive_avgpool":
        return f"adaptive_avgpool: {{size: {_listed(out_sizes(layer, sizes) or ())}}}"
    text = f"{layer.kind}: {{kernel: {kernel}, stride: {stride}, padding: {padding}"
    if layer.kind == "maxpool":
        text += f", dilation: {dilation}"
    return text + f", ceil_mode: {str(layer.ceil_mode).lower()}}}"


def windows_of(layers: list[Drawn], sizes: Sizes) -> list[Window]:
    """Each layer's window as convcost computes it: spec layers from one spec per run of them
    (built as the engine builds it), resizing (not a spec kind on this branch) from
    :func:`upsample_axis`."""
    windows: list[Window] = []
    run_start, shape = 0, sizes
    shapes = [sizes]
    for layer in layers:
        shapes.append(out_sizes(layer, shapes[-1]) or ())
    for index, layer in enumerate([*layers, None]):
        if layer is not None and layer.kind != "upsample":
            continue
        if run_start < index:
            shape = shapes[run_start]
            text = f"input: [1, {', '.join(map(str, shape))}]\nlayers:\n" + "".join(
                f"  - {yaml_of(drawn, shapes[run_start + i])}\n"
                for i, drawn in enumerate(layers[run_start:index])
            )
            spec = parse_spec(text)
            for node in build(spec, spec.variants[0]).nodes:
                assert isinstance(node, LayerNode)
                window = node.layer.window(node.input_shape)
                assert isinstance(window, Window)
                windows.append(window)
        if layer is not None:
            outs = shapes[index + 1]
            axes = [
                upsample_axis(n, m, layer.mode, scale=layer.scale)
                for n, m in zip(shapes[index], outs, strict=True)
            ]
            assert not any(isinstance(axis, Untracked) for axis in axes)
            windows.append(Window(tuple(a for a in axes if not isinstance(a, Untracked))))
        run_start = index + 1
    return windows


def forward(layer: Drawn, x: Any, sizes: Sizes, generator: Any) -> Any:
    """The layer in torch on a batch of one-channel maps, with positive weights."""
    rank = len(sizes)
    n = rank
    if layer.kind == "conv":
        pads = [p for lo, hi in reversed(layer.padding) for p in (lo, hi)]
        weight = torch.rand((1, 1, *layer.kernel), generator=generator, dtype=torch.float64)
        conv = F.conv1d if n == 1 else F.conv2d
        return conv(F.pad(x, pads), weight + 0.5, stride=layer.stride, dilation=layer.dilation)
    if layer.kind == "conv_transpose":
        weight = torch.rand((1, 1, *layer.kernel), generator=generator, dtype=torch.float64)
        transposed = F.conv_transpose1d if n == 1 else F.conv_transpose2d
        return transposed(
            x,
            weight + 0.5,
            stride=layer.stride,
            padding=tuple(lo for lo, _ in layer.padding),
            output_padding=layer.output_padding,
            dilation=layer.dilation,
        )
    if layer.kind in ("avgpool", "maxpool"):
        padding = tuple(lo for lo, _ in layer.padding)
        if any(d > 1 for d in layer.dilation):  # the windows of a dilated maxpool
            ones = torch.ones((1, 1, *layer.kernel), dtype=torch.float64)
            conv = F.conv1d if n == 1 else F.conv2d
            return conv(x, ones, stride=layer.stride, padding=padding, dilation=layer.dilation)
        pool = F.avg_pool1d if n == 1 else F.avg_pool2d
        return pool(x, layer.kernel, layer.stride, padding, ceil_mode=layer.ceil_mode)
    outs = out_sizes(layer, sizes)
    if layer.kind == "adaptive_avgpool":
        pool = F.adaptive_avg_pool1d if n == 1 else F.adaptive_avg_pool2d
        return pool(x, outs)
    mode = {"nearest": "nearest", "linear": ("linear", "bilinear")[n - 1], "cubic": "bicubic"}
    if layer.scale is not None:
        return F.interpolate(x, scale_factor=float(layer.scale), mode=mode[layer.mode])
    return F.interpolate(x, size=outs, mode=mode[layer.mode])


def supports(layers: list[Drawn], sizes: Sizes, seed: int) -> list[list[tuple[int, int] | None]]:
    """Per axis and output position, the first and last input position with a nonzero
    Jacobian entry (``None`` for none)."""
    generator = torch.Generator().manual_seed(seed)
    rank = len(sizes)
    if rank == 1:
        x = torch.eye(sizes[0], dtype=torch.float64).reshape(sizes[0], 1, sizes[0])
    else:
        h, w = sizes
        rows = torch.eye(h, dtype=torch.float64)[:, :, None].expand(h, h, w)
        columns = torch.eye(w, dtype=torch.float64)[:, None, :].expand(w, h, w)
        x = torch.cat([rows, columns]).reshape(h + w, 1, h, w)
    current = sizes
    for layer in layers:
        x = forward(layer, x, current, generator)
        current = tuple(x.shape[2:])
    result = []
    for axis in range(rank):
        if rank == 1:
            nonzero = x[:, 0, :] != 0  # [input, output]
        else:
            block = x[: sizes[0]] if axis == 0 else x[sizes[0] :]
            # input row h reaches output row m when some output column of row m is nonzero
            nonzero = (block[:, 0] != 0).any(dim=2 if axis == 0 else 1)
        hit = nonzero.any(dim=0).tolist()
        # argmax returns the first of equal maxima: the first and (flipped) last nonzero row
        firsts = nonzero.to(torch.int8).argmax(dim=0).tolist()
        lasts = (nonzero.shape[0] - 1 - nonzero.flip(0).to(torch.int8).argmax(dim=0)).tolist()
        result.append([(f, la) if h else None for h, f, la in zip(hit, firsts, lasts, strict=True)])
    return result


def composed(layers: list[Drawn], sizes: Sizes) -> tuple[ReceptiveField, list[Sizes]] | None:
    """convcost's field after the stack, and the sizes after each layer (``None``: misfit)."""
    shapes = [sizes]
    for layer in layers:
        out = out_sizes(layer, shapes[-1])
        if out is None:
            return None
        shapes.append(out)
    field = ReceptiveField.start(len(sizes))
    for window in windows_of(layers, sizes):
        field = field.through(window)
    return field, shapes


@st.composite
def stacks(draw: st.DrawFn, upsampling: bool) -> tuple[int, list[Drawn], int]:
    rank = draw(st.integers(1, 2))
    layers = [draw(drawn_layer(rank, upsampling)) for _ in range(draw(st.integers(1, 5)))]
    return rank, layers, draw(st.integers(0, 2**31))


def check(rank: int, layers: list[Drawn], seed: int) -> tuple[ReceptiveField, Sizes]:
    size, cap = (16, 384) if rank == 1 else (8, 48)
    while True:
        sizes = (size,) * rank
        result = composed(layers, sizes)
        assume(result is not None)
        assert result is not None
        field, shapes = result
        assert field.coverage is Coverage.LOCAL
        maps = field.axis_maps()
        roomy = all(
            2 * m.period + 8 <= out and 3 * r <= size
            for m, out, r in zip(maps, shapes[-1], field.size, strict=True)
        )
        if roomy:
            break
        size *= 2
        assume(size <= cap)
    got = supports(layers, sizes, seed)
    if 0 in field.size:
        # on some axis no output reads anything (a transposed conv's empty phases, then a
        # stride that picks only those): the output does not depend on the input at all
        assert all(support is None for per_output in got for support in per_output)
        return field, sizes
    for axis, (m, per_output) in enumerate(zip(maps, got, strict=True)):
        extents = [hi - lo + 1 for lo, hi in filter(None, per_output)]
        assert max(extents) == field.size[axis], (axis, layers, sizes)
        exact_somewhere = set()
        for o, support in enumerate(per_output):
            phase, q = o % m.period, o // m.period
            lo, hi = m.lo[phase] + q * m.shift, m.hi[phase] + q * m.shift
            if support is None:
                continue
            assert lo <= support[0], (axis, o, layers, sizes)
            assert support[1] <= hi, (axis, o, layers, sizes)
            if support == (lo, hi):
                exact_somewhere.add(phase)
        nonempty = {phase for phase in range(m.period) if m.lo[phase] <= m.hi[phase]}
        assert exact_somewhere == nonempty, (axis, layers, sizes)
    return field, sizes


@settings(max_examples=350, deadline=None)
@given(stacks(upsampling=False))
def test_field_equals_the_gradient_support(case: tuple[int, list[Drawn], int]) -> None:
    rank, layers, seed = case
    field, sizes = check(rank, layers, seed)
    # the engine on the whole spec gives the same field as the layers' windows composed here
    text = f"input: [1, {', '.join(map(str, sizes))}]\nlayers:\n"
    shape = sizes
    for layer in layers:
        text += f"  - {yaml_of(layer, shape)}\n"
        shape = out_sizes(layer, shape) or ()
    final = run(text).layers[-1].receptive_field
    assert (final.size, final.jump, final.varies) == (field.size, field.jump, field.varies)


@settings(max_examples=150, deadline=None)
@given(stacks(upsampling=True))
def test_field_through_upsampling_equals_the_gradient_support(
    case: tuple[int, list[Drawn], int],
) -> None:
    check(*case)


def test_the_issue_examples_against_torch() -> None:
    # issue 17: 4 and 2 at every output position, where the old recurrence said 5 and 3
    pool = Drawn("avgpool", kernel=(2, 2), stride=(2, 2), padding=((0, 0),) * 2, dilation=(1, 1))
    up = Drawn(
        "conv_transpose",
        kernel=(2, 2),
        stride=(2, 2),
        padding=((0, 0),) * 2,
        dilation=(1, 1),
        output_padding=(0, 0),
    )
    conv = Drawn("conv", kernel=(3, 3), stride=(1, 1), padding=((0, 0),) * 2, dilation=(1, 1))
    for layers, expected in (([pool, up, conv, pool], 4), ([pool, up, pool], 2)):
        got = supports(layers, (32, 32), seed=0)
        for per_output in got:
            assert {hi - lo + 1 for lo, hi in filter(None, per_output)} == {expected}
        field, _ = check(2, layers, seed=0)
        assert field.size == (expected, expected)


@st.composite
def resizes(draw: st.DrawFn) -> tuple[int, int, str, bool, int | None]:
    size = draw(st.integers(1, 40))
    mode = draw(st.sampled_from(["nearest", "linear", "cubic"]))
    align = mode != "nearest" and draw(st.booleans())
    if draw(st.booleans()):
        scale = draw(st.integers(1, 5))
        return size, size * scale, mode, align, scale
    return size, draw(st.integers(1, 90)), mode, align, None


@settings(max_examples=300, deadline=None)
@given(resizes())
def test_upsample_geometry(case: tuple[int, int, str, bool, int | None]) -> None:
    """:func:`upsample_axis` against ``F.interpolate``'s Jacobian on one axis: exact at every
    output whose window lies inside the input (interpolation clamps the others to the
    border), and never outside its window."""
    size, out, mode, align, scale = case
    axis = upsample_axis(size, out, mode, align_corners=align, scale=scale)
    assert not isinstance(axis, Untracked)
    torch_mode = {"nearest": "nearest", "linear": "bilinear", "cubic": "bicubic"}[mode]
    options: dict[str, Any] = {"mode": torch_mode}
    if mode != "nearest":
        options["align_corners"] = align
    if scale is not None:
        options["scale_factor"] = float(scale)
    else:
        options["size"] = (1, out)
    # one-hot inputs along W of a 1×size map, in float64
    x = torch.eye(size, dtype=torch.float64).reshape(size, 1, 1, size)
    y = F.interpolate(x, **options)[:, 0, 0, :]  # [input, output]
    assert y.shape[1] == out
    reach = {"nearest": (1, 0), "linear": (1, 1), "cubic": (2, 2)}[mode]
    for o in range(out):
        phase, q = o % axis.period, o // axis.period
        lo, hi = axis.first[phase] + q * axis.shift, axis.last[phase] + q * axis.shift
        hits = torch.nonzero(y[:, o]).flatten().tolist()
        assert hits, o
        if lo == hi and lo >= 0 and (hits[0], hits[-1]) != (lo, hi):
            # a whole source coordinate, which PyTorch computes in floating point (nearest
            # in float32): rounded an ulp off, it reads the neighbours too, with weights of
            # that size (nearest: the position before). convcost counts the exact taps.
            assert lo - reach[0] <= hits[0], (o, hits, (lo, hi))
            assert hits[-1] <= hi + reach[1], (o, hits, (lo, hi))
            continue
        assert lo <= hits[0], (o, hits, (lo, hi))
        assert hits[-1] <= hi, (o, hits, (lo, hi))
        if lo >= 0 and hi < size:
            # inside the input every listed tap has a nonzero weight
            assert (hits[0], hits[-1], len(hits)) == (lo, hi, hi - lo + 1), (o, hits, (lo, hi))


def test_upsample_odd_scale_at_exact_coordinates() -> None:
    # bilinear ×3, align_corners false: output o samples (o + ½)/3 − ½, a whole number at
    # o = 1, 4, 7, …: one tap there (weight 1, the other 0), two elsewhere
    axis = upsample_axis(8, 24, "linear", scale=3)
    assert not isinstance(axis, Untracked)
    assert (axis.period, axis.shift) == (3, 1)
    # o = 0: −1/3 → taps −1, 0; o = 1: 0 exactly → tap 0; o = 2: 1/3 → taps 0, 1
    assert (axis.first, axis.last) == ((-1, 0, 0), (0, 0, 1))
    assert math.gcd(axis.period, axis.shift) == 1


def test_a_padded_unet_level_against_torch() -> None:
    # conv 3 (padding 1) → concat(identity, [maxpool 2, conv 3 (padding 1), conv_transpose
    # k2 s2]) → conv 3 (padding 1): the skip's window and the up path's phased one, united
    text = (
        "input: [1, 64, 64]\nlayers:\n"
        "  - conv: {out: 1, kernel: 3, padding: 1}\n"
        "  - concat:\n"
        "      skip: []\n"
        "      down: [{maxpool: {kernel: 2}}, {conv: {out: 1, kernel: 3, padding: 1}},"
        " {conv_transpose: {out: 1, kernel: 2, stride: 2}}]\n"
        "  - conv: {out: 1, kernel: 3, padding: 1}\n"
    )
    field = run(text).layers[-1].receptive_field
    generator = torch.Generator().manual_seed(0)

    def weight(channels: int) -> Any:
        return torch.rand((1, channels, 3, 3), generator=generator, dtype=torch.float64) + 0.5

    size = 64
    rows = torch.eye(size, dtype=torch.float64)[:, :, None].expand(size, size, size)
    x = rows.reshape(size, 1, size, size)  # row h set: the H axis's supports
    a = F.conv2d(x, weight(1), padding=1)
    down = F.conv2d(F.avg_pool2d(a, 2), weight(1), padding=1)  # maxpool's windows
    up = F.conv_transpose2d(
        down, torch.rand((1, 1, 2, 2), generator=generator, dtype=torch.float64) + 0.5, stride=2
    )
    y = F.conv2d(torch.cat([a, up], dim=1), weight(2), padding=1)
    nonzero = (y[:, 0] != 0).any(dim=2)  # [input row, output row]
    extents = []
    for m in range(size):
        hits = torch.nonzero(nonzero[:, m]).flatten().tolist()
        extents.append(hits[-1] - hits[0] + 1)
    # rows read: first conv x → x − 1 … x + 1; maxpool y → 2y − 1 … 2y + 2; conv z → 2z − 3 …
    # 2z + 4; transposed u (z = ⌊u/2⌋) → 2⌊u/2⌋ − 3 … 2⌊u/2⌋ + 4, which holds the skip's
    # u − 1 … u + 1; last conv o (u = o − 1 … o + 1) → 2⌊(o−1)/2⌋ − 3 … 2⌊(o+1)/2⌋ + 4:
    # 10 wide for even and odd o alike
    assert max(extents) == field.size[0] == 10
    assert (field.jump, field.varies) == ((1, 1), False)
