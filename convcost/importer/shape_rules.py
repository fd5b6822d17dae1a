"""Each ONNX operator's output shapes from its inputs' shapes, attributes and constant values:
the one place that knows them (`convcost.importer.shape_infer` runs them over a graph).

A rule gets a `Site` and returns its outputs' shapes, None for one it cannot tell (a value it
needs is not known before the model runs); an operator without a rule leaves its outputs'
shapes unknown. Shapes follow onnx.proto's operator definitions (opset 7 to 23).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from convcost.importer.onnx_proto import NodeProto

Shape = tuple[int, ...]
Value = tuple[float, ...]


class Site(NamedTuple):
    """One node as its rule sees it: input shapes and small constant values (None where
    unknown or absent), attributes, and the opset the model imports."""

    node: NodeProto
    shapes: Sequence[Shape | None]
    values: Sequence[Value | None]
    attrs: dict[str, object]
    opset: int

    def shape(self, index: int) -> Shape | None:
        return self.shapes[index] if index < len(self.shapes) else None

    def given(self, index: int) -> bool:
        """Whether optional input `index` is given (not left out, nor named ``""``)."""
        return index < len(self.node.input) and bool(self.node.input[index])

    def value(self, index: int) -> tuple[int, ...] | None:
        value = self.values[index] if index < len(self.values) else None
        return None if value is None else tuple(int(v) for v in value)

    def ints(self, name: str, default: Sequence[int] = ()) -> tuple[int, ...]:
        value = self.attrs.get(name)
        if value is None:
            return tuple(default)
        if isinstance(value, list) and all(isinstance(v, int) for v in value):
            return tuple(value)
        return ()  # another type of attribute: the rule finds no shape

    def integer(self, name: str, default: int) -> int:
        value = self.attrs.get(name, default)
        return value if isinstance(value, int) else default

    def axes(self, index: int, attr: str = "axes") -> tuple[int, ...] | None:
        """Axes from attribute `attr`, else from input `index` (None: that input unknown)."""
        if attr in self.attrs:
            return self.ints(attr)
        return self.value(index) if self.given(index) else ()


Rule = Callable[[Site], list[Shape | None]]


def broadcast(*shapes: Shape) -> Shape | None:
    """numpy's multidirectional broadcast of `shapes`, None where two sizes clash."""
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(rank):
        sizes = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def same(site: Site) -> list[Shape | None]:
    return [site.shape(0)]


def elementwise(site: Site) -> list[Shape | None]:
    shapes = [s for s in site.shapes if s is not None]
    if len(shapes) != len([t for t in site.node.input if t]):
        return [None]
    return [broadcast(*shapes)]


def _window_sizes(site: Site, sizes: Shape, kernel: Shape, *, ceil: bool) -> Shape | None:
    rank = len(sizes)
    strides = site.ints("strides", (1,) * rank)
    dilations = site.ints("dilations", (1,) * rank)
    pads = site.ints("pads", (0,) * 2 * rank)
    auto = site.attrs.get("auto_pad", "NOTSET")
    if not len(strides) == len(dilations) == len(kernel) == rank or len(pads) != 2 * rank:
        return None
    out = []
    for axis in range(rank):
        size, stride = sizes[axis], strides[axis]
        span = dilations[axis] * (kernel[axis] - 1) + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out.append(-(-size // stride))
            continue
        padded = size + (0 if auto == "VALID" else pads[axis] + pads[axis + rank])
        if ceil:
            positions = -(-(padded - span) // stride)
            if positions * stride >= size + pads[axis]:  # the last window starts in padding
                positions -= 1
        else:
            positions = (padded - span) // stride
        out.append(positions + 1)
    return tuple(out)


def conv(site: Site) -> list[Shape | None]:
    data, weight = site.shape(0), site.shape(1)
    if data is None or weight is None or len(data) < 3:
        return [None]
    kernel = site.ints("kernel_shape") or weight[2:]
    sizes = _window_sizes(site, data[2:], kernel, ceil=False)
    return [None if sizes is None else (data[0], weight[0], *sizes)]


def conv_transpose(site: Site) -> list[Shape | None]:
    data, weight = site.shape(0), site.shape(1)
    if data is None or weight is None or len(data) < 3:
        return [None]
    rank = len(data) - 2
    channels = weight[1] * site.integer("group", 1)
    if "output_shape" in site.attrs:
        return [(data[0], channels, *site.ints("output_shape")[-rank:])]
    kernel = site.ints("kernel_shape") or weight[2:]
    strides = site.ints("strides", (1,) * rank)
    dilations = site.ints("dilations", (1,) * rank)
    extra = site.ints("output_padding", (0,) * rank)
    pads = site.ints("pads", (0,) * 2 * rank)
    if site.attrs.get("auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER"):
        return [(data[0], channels, *(s * st for s, st in zip(data[2:], strides, strict=True)))]
    return [
        (
            data[0],
            channels,
            *(
                strides[a] * (data[2 + a] - 1)
                + extra[a]
                + dilations[a] * (kernel[a] - 1)
                + 1
                - pads[a]
                - pads[a + rank]
                for a in range(rank)
            ),
        )
    ]


def pool(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    if data is None or len(data) < 3:
        return [None]
    sizes = _window_sizes(
        site, data[2:], site.ints("kernel_shape"), ceil=bool(site.integer("ceil_mode", 0))
    )
    out = None if sizes is None else (*data[:2], *sizes)
    return [out] * len(site.node.output)  # MaxPool's indices, when asked for, too


def global_pool(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    return [None if data is None else (*data[:2], *(1,) * (len(data) - 2))]


def gemm(site: Site) -> list[Shape | None]:
    a, b = site.shape(0), site.shape(1)
    if a is None or b is None or len(a) != 2 or len(b) != 2:
        return [None]
    rows = a[1] if site.integer("transA", 0) else a[0]
    columns = b[0] if site.integer("transB", 0) else b[1]
    return [(rows, columns)]


def matmul(site: Site) -> list[Shape | None]:
    a, b = site.shape(0), site.shape(1)
    if a is None or b is None or not a or not b:
        return [None]
    left, right = (a if len(a) > 1 else (1, *a)), (b if len(b) > 1 else (*b, 1))
    batch = broadcast(left[:-2], right[:-2])
    if batch is None or left[-1] != right[-2]:
        return [None]
    out = (*batch, left[-2], right[-1])
    out = out[:-2] + out[-1:] if len(a) == 1 else out
    return [out[:-1] if len(b) == 1 else out]


def flatten(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    if data is None:
        return [None]
    axis = site.integer("axis", 1) % (len(data) + 1) if data else 0
    return [(math.prod(data[:axis]), math.prod(data[axis:]))]


def reshape(site: Site) -> list[Shape | None]:
    data, target = site.shape(0), site.value(1)
    if data is None or target is None:
        return [None]
    allow_zero = site.integer("allowzero", 0)
    out = [
        data[i] if d == 0 and not allow_zero and i < len(data) else d for i, d in enumerate(target)
    ]
    if out.count(-1) == 1:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or math.prod(data) % known:
            return [None]
        out[out.index(-1)] = math.prod(data) // known
    return [tuple(out) if min(out, default=0) >= 0 and math.prod(out) == math.prod(data) else None]


def transpose(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    if data is None:
        return [None]
    perm = site.ints("perm") or tuple(reversed(range(len(data))))
    if sorted(perm) != list(range(len(data))):
        return [None]
    return [tuple(data[p] for p in perm)]


def concat(site: Site) -> list[Shape | None]:
    shapes = [s for s in site.shapes if s is not None]
    if len(shapes) != len(site.shapes) or not shapes or not shapes[0]:
        return [None]
    axis = site.integer("axis", 0) % len(shapes[0])
    total = sum(s[axis] for s in shapes)
    return [(*shapes[0][:axis], total, *shapes[0][axis + 1 :])]


def split(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    count = len(site.node.output)
    if data is None or not data:
        return [None] * count
    axis = site.integer("axis", 0) % len(data)
    sizes = site.axes(1, "split")
    if sizes is None:
        return [None] * count
    if not sizes:
        chunk = -(-data[axis] // count)
        sizes = tuple(min(chunk, data[axis] - i * chunk) for i in range(count))
    if len(sizes) != count or sum(sizes) != data[axis]:
        return [None] * count
    return [(*data[:axis], size, *data[axis + 1 :]) for size in sizes]
