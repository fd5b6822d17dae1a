"""Shape rules of the operators that move data rather than compute on it: slicing, gathering,
squeezing, padding, resizing, reducing and the shape arithmetic exporters write (Shape,
ConstantOfShape, Range, Expand). See `convcost.importer.shape_rules` for the `Site` they read.
"""

from __future__ import annotations

import math

from convcost.importer.ops_static import axis_indices
from convcost.importer.shape_rules import Shape, Site, broadcast


def _normal(axes: tuple[int, ...], rank: int) -> tuple[int, ...] | None:
    if any(not -rank <= a < rank for a in axes):
        return None
    return tuple(a % rank for a in axes)


def slice_(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    if data is None:
        return [None]
    if site.opset < 10:
        starts, ends = site.ints("starts"), site.ints("ends")
        axes: tuple[int, ...] | None = site.ints("axes") or tuple(range(len(starts)))
        steps: tuple[int, ...] | None = (1,) * len(starts)
    else:
        starts_, ends_ = site.value(1), site.value(2)
        if starts_ is None or ends_ is None:
            return [None]
        starts, ends = starts_, ends_
        axes = site.value(3) if site.given(3) else tuple(range(len(starts)))
        steps = site.value(4) if site.given(4) else (1,) * len(starts)
    if axes is None or steps is None or not len(starts) == len(ends) == len(axes) == len(steps):
        return [None]
    normal = _normal(axes, len(data))
    if normal is None or 0 in steps:
        return [None]
    out = list(data)
    for axis, start, end, step in zip(normal, starts, ends, steps, strict=True):
        out[axis] = len(axis_indices(data[axis], start, end, step))
    return [tuple(out)]


def gather(site: Site) -> list[Shape | None]:
    data, indices = site.shape(0), site.shape(1)
    if data is None or indices is None or not data:
        return [None]
    axis = site.integer("axis", 0) % len(data)
    return [(*data[:axis], *indices, *data[axis + 1 :])]


def squeeze(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    axes = site.axes(1)
    if data is None or axes is None:
        return [None]
    normal = _normal(axes, len(data)) if axes else tuple(i for i, d in enumerate(data) if d == 1)
    if normal is None or any(data[a] != 1 for a in normal):
        return [None]
    return [tuple(d for i, d in enumerate(data) if i not in normal)]


def unsqueeze(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    axes = site.axes(1)
    if data is None or not axes:
        return [None]
    rank = len(data) + len(axes)
    normal = _normal(axes, rank)
    if normal is None or len(set(normal)) != len(normal):
        return [None]
    rest = iter(data)
    return [tuple(1 if i in normal else next(rest) for i in range(rank))]


def shape(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    if data is None:
        return [None]
    rank = len(data)
    start, end = site.integer("start", 0), site.integer("end", rank)
    start, end = (min(max(v + rank if v < 0 else v, 0), rank) for v in (start, end))
    return [(max(end - start, 0),)]


def size(site: Site) -> list[Shape | None]:
    return [()]


def constant_of_shape(site: Site) -> list[Shape | None]:
    value = site.value(0)
    return [None if value is None or min(value, default=0) < 0 else value]


def range_(site: Site) -> list[Shape | None]:
    start, limit, delta = (site.values[i] if i < len(site.values) else None for i in range(3))
    if start is None or limit is None or delta is None or not delta[0]:
        return [None]
    return [(max(math.ceil((limit[0] - start[0]) / delta[0]), 0),)]


def expand(site: Site) -> list[Shape | None]:
    data, target = site.shape(0), site.value(1)
    if data is None or target is None:
        return [None]
    return [broadcast(data, target)]


def tile(site: Site) -> list[Shape | None]:
    data, repeats = site.shape(0), site.value(1)
    if data is None or repeats is None or len(repeats) != len(data):
        return [None]
    return [tuple(d * r for d, r in zip(data, repeats, strict=True))]


def pad(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    pads = site.ints("pads") if site.opset < 11 else site.value(1)
    if data is None or pads is None:
        return [None]
    axes = site.value(3) if site.given(3) else tuple(range(len(data)))
    if axes is None:
        return [None]
    normal = _normal(axes, len(data))
    if normal is None or len(pads) != 2 * len(normal):
        return [None]
    out = list(data)
    for i, axis in enumerate(normal):
        out[axis] += pads[i] + pads[i + len(normal)]
    return [tuple(out)]


def resize(site: Site) -> list[Shape | None]:
    """Resize (opset 10: scales as input 1; 11+: roi, scales, sizes) and Upsample."""
    data = site.shape(0)
    if data is None:
        return [None]
    node = site.node
    if node.op_type == "Upsample" and site.opset < 9:
        scales: tuple[float, ...] | None = tuple(float(v) for v in site.attrs.get("scales", ()))  # type: ignore[attr-defined]
    else:
        index = 1 if node.op_type == "Upsample" or site.opset < 11 else 2
        raw = site.values[index] if index < len(site.values) else None
        scales = raw if raw else None
    sizes = site.value(3) if site.given(3) else None
    axes = site.ints("axes") or tuple(range(len(data)))
    normal = _normal(axes, len(data))
    if normal is None:
        return [None]
    out = list(data)
    if sizes:
        if (
            len(sizes) != len(normal)
            or site.attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch"
        ):
            return [None]
        for axis, size in zip(normal, sizes, strict=True):
            out[axis] = size
    elif scales and len(scales) == len(normal):
        for axis, scale in zip(normal, scales, strict=True):
            out[axis] = math.floor(data[axis] * scale)
    else:
        return [None]
    return [tuple(out)]


def depth_to_space(site: Site) -> list[Shape | None]:
    data, block = site.shape(0), site.integer("blocksize", 0)
    if data is None or len(data) != 4 or block < 1 or data[1] % (block * block):
        return [None]
    n, c, h, w = data
    return [(n, c // (block * block), h * block, w * block)]


def space_to_depth(site: Site) -> list[Shape | None]:
    data, block = site.shape(0), site.integer("blocksize", 0)
    if data is None or len(data) != 4 or block < 1 or data[2] % block or data[3] % block:
        return [None]
    n, c, h, w = data
    return [(n, c * block * block, h // block, w // block)]


_AXES_AS_INPUT = {"ReduceSum": 13}
"""Reductions that take their axes as an input from this opset (the others: from 18)."""


def reduce(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    if data is None:
        return [None]
    from_input = site.opset >= _AXES_AS_INPUT.get(site.node.op_type, 18)
    axes = site.axes(1) if from_input else site.ints("axes")
    if axes is None:
        return [None]
    if not axes:
        if from_input and site.integer("noop_with_empty_axes", 0):
            return [data]
        axes = tuple(range(len(data)))
    normal = _normal(axes, len(data))
    if normal is None:
        return [None]
    keep = site.integer("keepdims", 1)
    return [tuple(1 if i in normal else d for i, d in enumerate(data) if keep or i not in normal)]


def arg_reduce(site: Site) -> list[Shape | None]:
    data = site.shape(0)
    if data is None or not data:
        return [None]
    axis = site.integer("axis", 0) % len(data)
    keep = site.integer("keepdims", 1)
    return [tuple(1 if i == axis else d for i, d in enumerate(data) if keep or i != axis)]
