"""The steps of each leaf layer kind: output size, parameters, MACs, ops, receptive field."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import assert_never

from convcost.explain.field import field_steps, global_field, span_steps, unchanged_field
from convcost.explain.steps import (
    Number,
    Quantity,
    Step,
    elements,
    in_symbols,
    kernel_symbols,
    no_ops,
    no_params,
    numbers,
    out_symbols,
    per_axis,
    product,
    shape_symbols,
)
from convcost.layers import (
    Activation,
    AdaptivePool,
    AnyLayer,
    AvgPool,
    BatchNorm,
    ChannelShuffle,
    Conv,
    ConvTranspose,
    Dropout,
    Flatten,
    GlobalPool,
    Identity,
    Linear,
    MaxPool,
    Shape,
    Split,
)
from convcost.layers.base import axis_names
from convcost.layers.pool import window_total
from convcost.receptive import ReceptiveField


def layer_steps(
    layer: AnyLayer, shape: Shape, out: Shape, field: ReceptiveField
) -> tuple[tuple[Step, ...], ReceptiveField]:
    """The steps of one leaf layer and the receptive field after it."""
    match layer:
        case Conv():
            steps, after = _conv(layer, shape, out, field)
        case ConvTranspose():
            steps, after = _conv_transpose(layer, shape, out, field)
        case MaxPool() | AvgPool():
            steps, after = _window_pool(layer, shape, out, field)
        case GlobalPool():
            rank = len(shape) - 1
            steps = [
                Step(
                    quantity=Quantity.OUTPUT_SIZE,
                    symbol=product(out_symbols(rank)),
                    substituted="",
                    value=1,
                    axes=tuple(range(rank)),
                    note="one value per channel",
                ),
                no_params(),
                Step(
                    quantity=Quantity.OPS,
                    formula=product(["C", *in_symbols(rank)]),
                    substituted=numbers(shape),
                    value=math.prod(shape),
                    note=f"every input element read once (global {layer.op} pool)",
                ),
                elements(out),
            ]
            rf_steps, after = global_field()
            steps += rf_steps
        case AdaptivePool():
            steps, after = _adaptive_pool(layer, shape, out, field)
        case BatchNorm():
            steps = [
                Step(
                    quantity=Quantity.PARAMS,
                    formula="2·C",
                    substituted=f"2·{shape[0]}",
                    value=2 * shape[0],
                    note="scale γ and shift β per channel; running mean and variance are buffers",
                ),
                Step(
                    quantity=Quantity.OPS,
                    formula=product(["2", *shape_symbols(out)]),
                    substituted=numbers((2, *out)),
                    value=2 * math.prod(out),
                    note="inference form y = a·x + b: a multiply and an add per element",
                ),
                elements(out),
                unchanged_field(field),
            ]
            after = field
        case Activation():
            steps = [
                no_params(),
                Step(
                    quantity=Quantity.OPS,
                    formula=product(shape_symbols(out)),
                    substituted=numbers(out),
                    value=math.prod(out),
                    note=f"one {layer.kind} per element",
                ),
                elements(out),
                unchanged_field(field),
            ]
            after = field
        case Identity() | Dropout() | ChannelShuffle():
            why = {
                "identity": "passes its input through",
                "dropout": "identity at inference",
                "channel_shuffle": "a permutation of channels",
            }[layer.kind]
            steps = [no_params(), no_ops(why), elements(out), unchanged_field(field)]
            after = field
        case Flatten():
            steps = [
                Step(
                    quantity=Quantity.OUTPUT_SIZE,
                    symbol="F",
                    formula=product(shape_symbols(shape, output=False)),
                    substituted=numbers(shape),
                    value=out[0],
                ),
                no_params(),
                no_ops("a reshape"),
                elements(out),
                unchanged_field(field),
            ]
            after = field
        case Split():
            steps = [
                Step(
                    quantity=Quantity.OUTPUT_SIZE,
                    symbol="C_out",
                    formula="C_in / parts",
                    substituted=f"{shape[0]} / {layer.parts}",
                    value=out[0],
                    note=f"part {layer.index}",
                ),
                no_params(),
                no_ops("a view of some channels"),
                elements(out),
                unchanged_field(field),
            ]
            after = field
        case Linear():
            steps, after = _linear(layer, shape, out)
        case _:
            assert_never(layer)
    return tuple(steps), after


def _conv(
    layer: Conv, shape: Shape, out: Shape, field: ReceptiveField
) -> tuple[list[Step], ReceptiveField]:
    rank = len(shape) - 1
    c_in, c_out, g = shape[0], layer.out, layer.groups
    symmetric = all(lo == hi for lo, hi in layer.padding)
    if symmetric:
        formula = "⌊({A}_in + 2·p − d·(k − 1) − 1) / s⌋ + 1"
    else:
        formula = "⌊({A}_in + p_begin + p_end − d·(k − 1) − 1) / s⌋ + 1"
    cases: list[tuple[str, Number]] = []
    for size, k, s, (lo, hi), d in zip(
        shape[1:], layer.kernel, layer.stride, layer.padding, layer.dilation, strict=True
    ):
        pad = f"{lo + hi}" if symmetric else f"{lo} + {hi}"
        cases.append(
            (
                f"⌊({size} + {pad} − {d * (k - 1)} − 1) / {s}⌋ + 1",
                (size + lo + hi - d * (k - 1) - 1) // s + 1,
            )
        )
    kernel = product(kernel_symbols(rank))
    bias = " + C_out" if layer.bias else ""
    bias_numbers = f" + {c_out}" if layer.bias else ""
    steps = [
        *per_axis(Quantity.OUTPUT_SIZE, "{A}_out", formula, cases, rank),
        Step(
            quantity=Quantity.PARAMS,
            formula=f"{kernel}·(C_in/g)·C_out{bias}",
            substituted=f"{numbers(layer.kernel)}·({c_in}/{g})·{c_out}{bias_numbers}",
            value=math.prod(layer.kernel) * (c_in // g) * c_out + (c_out if layer.bias else 0),
            note="" if layer.bias else "no bias",
        ),
        Step(
            quantity=Quantity.MACS,
            formula=f"{product(out_symbols(rank))}·C_out·(C_in/g)·{kernel}",
            substituted=f"{numbers(out[1:])}·{c_out}·({c_in}/{g})·{numbers(layer.kernel)}",
            value=math.prod(out[1:]) * c_out * (c_in // g) * math.prod(layer.kernel),
        ),
        _bias_ops(layer.bias, out),
        elements(out),
        *span_steps(layer.kernel, layer.dilation),
    ]
    rf_steps, after = field_steps(field, layer.window(shape))
    return steps + rf_steps, after


def _bias_ops(bias: bool, out: Shape) -> Step:
    if not bias:
        return no_ops("no bias")
    return Step(
        quantity=Quantity.OPS,
        formula=product(["C_out", *out_symbols(len(out) - 1)]),
        substituted=numbers(out),
        value=math.prod(out),
        note="one bias add per output",
    )


def _conv_transpose(
    layer: ConvTranspose, shape: Shape, out: Shape, field: ReceptiveField
) -> tuple[list[Step], ReceptiveField]:
    rank = len(shape) - 1
    c_in, c_out, g = shape[0], layer.out, layer.groups
    formula = "({A}_in − 1)·s − 2·p + d·(k − 1) + output_padding + 1"
    cases: list[tuple[str, Number]] = [
        (
            f"({size} − 1)·{s} − {2 * p} + {d * (k - 1)} + {op} + 1",
            (size - 1) * s - 2 * p + d * (k - 1) + op + 1,
        )
        for size, k, s, p, op, d in zip(
            shape[1:],
            layer.kernel,
            layer.stride,
            layer.padding,
            layer.output_padding,
            layer.dilation,
            strict=True,
        )
    ]
    kernel = product(kernel_symbols(rank))
    bias = " + C_out" if layer.bias else ""
    bias_numbers = f" + {c_out}" if layer.bias else ""
    steps = [
        *per_axis(Quantity.OUTPUT_SIZE, "{A}_out", formula, cases, rank),
        Step(
            quantity=Quantity.PARAMS,
            formula=f"C_in·(C_out/g)·{kernel}{bias}",
            substituted=f"{c_in}·({c_out}/{g})·{numbers(layer.kernel)}{bias_numbers}",
            value=c_in * (c_out // g) * math.prod(layer.kernel) + (c_out if layer.bias else 0),
            note="" if layer.bias else "no bias",
        ),
        Step(
            quantity=Quantity.MACS,
            formula=f"C_in·{product(in_symbols(rank))}·(C_out/g)·{kernel}",
            substituted=f"{numbers(shape)}·({c_out}/{g})·{numbers(layer.kernel)}",
            value=math.prod(shape) * (c_out // g) * math.prod(layer.kernel),
            note="every input element is multiplied into C_out/g·∏k outputs",
        ),
        _bias_ops(layer.bias, out),
        elements(out),
        *span_steps(layer.kernel, layer.dilation),
    ]
    rf_steps, after = field_steps(field, layer.window(shape))
    return steps + rf_steps, after


def _window_pool(
    layer: MaxPool | AvgPool, shape: Shape, out: Shape, field: ReceptiveField
) -> tuple[list[Step], ReceptiveField]:
    rank = len(shape) - 1
    if layer.ceil_mode:
        formula = "⌈({A}_in + 2·p − d·(k − 1) − 1) / s⌉ + 1"
    else:
        formula = "⌊({A}_in + 2·p − d·(k − 1) − 1) / s⌋ + 1"
    cases: list[tuple[str, Number]] = []
    notes = []
    for name, size, k, s, p, d in zip(
        axis_names(rank),
        shape[1:],
        layer.kernel,
        layer.stride,
        layer.padding,
        layer.dilation,
        strict=True,
    ):
        numerator = size + 2 * p - d * (k - 1) - 1
        if layer.ceil_mode:
            text = f"⌈({size} + {2 * p} − {d * (k - 1)} − 1) / {s}⌉ + 1"
            value = -(-numerator // s) + 1
            if (value - 1) * s >= size + p:
                value -= 1
                text += " − 1"
                notes.append(
                    f"{name}: − 1 because the last window would start in the right padding "
                    "(PyTorch drops it)"
                )
        else:
            text = f"⌊({size} + {2 * p} − {d * (k - 1)} − 1) / {s}⌋ + 1"
            value = numerator // s + 1
        cases.append((text, value))
    what = "comparison" if isinstance(layer, MaxPool) else "addition"
    steps = [
        *per_axis(Quantity.OUTPUT_SIZE, "{A}_out", formula, cases, rank, note="; ".join(notes)),
        no_params(),
        Step(
            quantity=Quantity.OPS,
            formula=product(["C", *out_symbols(rank), *kernel_symbols(rank)]),
            substituted=numbers((*out, *layer.kernel)),
            value=math.prod(out) * math.prod(layer.kernel),
            note=f"one {what} per window element",
        ),
        elements(out),
        *span_steps(layer.kernel, layer.dilation),
    ]
    rf_steps, after = field_steps(field, layer.window(shape))
    return steps + rf_steps, after


def _adaptive_pool(
    layer: AdaptivePool, shape: Shape, out: Shape, field: ReceptiveField
) -> tuple[list[Step], ReceptiveField]:
    rank = len(shape) - 1
    # PyTorch's window i: [⌊i·in/out⌋, ⌈(i+1)·in/out⌉); its lengths in closed form
    axes = list(zip(shape[1:], layer.size, strict=True))
    sums = [window_total(size, n) for size, n in axes]
    names = axis_names(rank)
    steps = [
        *per_axis(
            Quantity.OUTPUT_SIZE,
            "{A}_out",
            "",
            [("", n) for n in layer.size],
            rank,
            note="as given",
        ),
        no_params(),
        Step(
            quantity=Quantity.OPS,
            formula="C·" + "·".join(f"Σ window_{name}" for name in names),
            substituted=f"{shape[0]}·" + "·".join(str(s) for s in sums),
            value=shape[0] * math.prod(sums),
            note="window i spans [⌊i·in/out⌋, ⌈(i+1)·in/out⌉): one read per window element",
        ),
        elements(out),
    ]
    rf_steps, after = field_steps(field, layer.window(shape))
    return steps + rf_steps, after


def _linear(layer: Linear, shape: Shape, out: Shape) -> tuple[list[Step], ReceptiveField]:
    f_in, f_out = shape[0], layer.out
    steps = [
        Step(
            quantity=Quantity.PARAMS,
            formula="F_in·F_out" + (" + F_out" if layer.bias else ""),
            substituted=f"{f_in}·{f_out}" + (f" + {f_out}" if layer.bias else ""),
            value=f_in * f_out + (f_out if layer.bias else 0),
            note="" if layer.bias else "no bias",
        ),
        Step(
            quantity=Quantity.MACS,
            formula="F_in·F_out",
            substituted=f"{f_in}·{f_out}",
            value=f_in * f_out,
        ),
        Step(
            quantity=Quantity.OPS,
            formula="F_out",
            substituted=str(f_out),
            value=f_out,
            note="bias adds",
        )
        if layer.bias
        else no_ops("no bias"),
        elements(out),
    ]
    rf_steps, after = global_field()
    return steps + rf_steps, after


def axes_text(values: Sequence[int]) -> str:
    shown = [str(v) for v in values]
    return shown[0] if len(set(shown)) == 1 else "×".join(shown)


def settings(layer: AnyLayer) -> str:
    """The fields that enter the formulas, in words."""
    match layer:
        case Conv():
            if all(lo == hi for lo, hi in layer.padding):
                pad = axes_text([lo for lo, _ in layer.padding])
            else:
                pad = ", ".join(f"{lo} + {hi}" for lo, hi in layer.padding)
            mode = f" ({layer.padding_mode})" if layer.padding_mode != "explicit" else ""
            return (
                f"kernel {'×'.join(map(str, layer.kernel))}, stride {axes_text(layer.stride)}, "
                f"padding {pad}{mode}, dilation {axes_text(layer.dilation)}, "
                f"groups {layer.groups}, {'bias' if layer.bias else 'no bias'}"
            )
        case ConvTranspose():
            return (
                f"kernel {'×'.join(map(str, layer.kernel))}, stride {axes_text(layer.stride)}, "
                f"padding {axes_text(layer.padding)}, output_padding {axes_text(layer.output_padding)}, "
                f"dilation {axes_text(layer.dilation)}, groups {layer.groups}, "
                f"{'bias' if layer.bias else 'no bias'}"
            )
        case MaxPool() | AvgPool():
            return (
                f"kernel {'×'.join(map(str, layer.kernel))}, stride {axes_text(layer.stride)}, "
                f"padding {axes_text(layer.padding)}, dilation {axes_text(layer.dilation)}"
                + (", ceil mode" if layer.ceil_mode else "")
            )
        case AdaptivePool():
            return f"output size {'×'.join(map(str, layer.size))}"
        case Linear():
            return f"out {layer.out}, {'bias' if layer.bias else 'no bias'}"
        case Split():
            return f"parts {layer.parts}, index {layer.index}"
        case ChannelShuffle():
            return f"groups {layer.groups}"
        case Dropout():
            return f"p {layer.p}"
        case GlobalPool() | BatchNorm() | Activation() | Identity() | Flatten():
            return ""
        case _:
            assert_never(layer)
