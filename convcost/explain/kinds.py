"""The steps of each leaf layer kind: output size, parameters, MACs, ops, receptive field."""

from __future__ import annotations

import math
from typing import assert_never

from convcost.explain.field import field_steps, span_steps
from convcost.explain.steps import (
    Number,
    Quantity,
    Step,
    activations,
    in_symbols,
    kernel_symbols,
    no_ops,
    numbers,
    out_symbols,
    per_axis,
    product,
)
from convcost.layers import (
    AnyLayer,
    Conv,
    ConvTranspose,
    Shape,
)
from convcost.layers.base import axes_text
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
        activations(out),
        *span_steps(layer.kernel, layer.dilation),
    ]
    rf_steps, after = field_steps(field, layer.spans(), layer.stride)
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
    spans = [d * (k - 1) + 1 for k, d in zip(layer.kernel, layer.dilation, strict=True)]
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
        activations(out),
        *span_steps(layer.kernel, layer.dilation),
    ]
    rf_steps, after = field_steps(field, spans, layer.stride, transposed=True)
    return steps + rf_steps, after


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
        case _:
            assert_never(layer)
