"""The memory-traffic and arithmetic-intensity steps every explained layer ends with.

Built from the engine's figures and the layer's shapes (not from the layer classes: the
convention is one rule for every kind, in docs/cost-model.md "Memory traffic"): a layer reads
its input and its parameters once and writes its output once; a view moves nothing; a merge
reads each branch's output and writes its own. For a 1×1 convolution without bias this is
ShuffleNet V2's memory access cost, MAC = h·w·(c₁ + c₂) + c₁·c₂ (Ma et al. 2018, G1).
"""

from __future__ import annotations

import math
from fractions import Fraction

from convcost.explain.steps import Quantity, Step, inline
from convcost.layers import Shape
from convcost.report import DTYPE_BYTES, LayerReport

EXPLAIN_DTYPE = "float32"
"""``explain`` counts at float32 (it has no ``--dtype``)."""


def traffic_steps(
    report: LayerReport, *, branches: tuple[Shape, ...] | None = None, batch: int = 1
) -> tuple[Step, ...]:
    """The traffic step (in elements) and the intensity step (FLOPs per byte at float32)
    of one layer; ``branches`` are a merge's branch output shapes."""
    cost = report.cost
    moved = cost.traffic_elements
    width = DTYPE_BYTES[EXPLAIN_DTYPE]
    if moved == 0:
        return (
            Step(quantity=Quantity.TRAFFIC, value=0, note="a view: nothing is read or written"),
        )
    if branches is not None:
        parts = [*(math.prod(shape) for shape in branches), math.prod(report.output_shape)]
        traffic = Step(
            quantity=Quantity.TRAFFIC,
            formula="Σ branch outputs + output",
            substituted=" + ".join(inline(part * batch) for part in parts),
            value=moved,
            note="elements: each branch output read once, the merged output written once",
        )
    else:
        traffic = _layer_traffic(report, batch)
    if cost.flops == 0:
        return (traffic,)
    flops = Fraction(cost.flops, moved * width)
    intensity = Step(
        quantity=Quantity.INTENSITY,
        formula=f"FLOPs / ({width} B · traffic)",
        substituted=f"{inline(cost.flops)} / ({width}·{inline(moved)})",
        value=flops,
        note="FLOPs per byte at float32",
    )
    return traffic, intensity


def _layer_traffic(report: LayerReport, batch: int) -> Step:
    cost = report.cost
    source, out = report.input_shape, report.output_shape
    params = cost.params
    c1, c2 = source[0], out[0]
    spatial = source[1:]
    if (
        len(source) == 3
        and spatial == out[1:]
        and cost.biases in (0, c2)
        and cost.weights == c1 * c2
        and cost.macs == math.prod(spatial) * c1 * c2 * batch
    ):
        h, w = spatial
        n = f"{batch}·" if batch != 1 else ""
        bias, biased = (" + c₂", f" + {c2}") if cost.biases else ("", "")
        return Step(
            quantity=Quantity.TRAFFIC,
            symbol="MAC",
            formula=f"{'n·' if n else ''}h·w·(c₁ + c₂) + c₁·c₂{bias}",
            substituted=f"{n}{h}·{w}·({c1} + {c2}) + {c1}·{c2}{biased}",
            value=cost.traffic_elements,
            note="elements: ShuffleNet V2's memory access cost of a 1×1 conv"
            + (", plus the bias" if cost.biases else ""),
        )
    return Step(
        quantity=Quantity.TRAFFIC,
        formula="input + params + output",
        substituted=f"{inline(math.prod(source) * batch)} + {inline(params)} + "
        f"{inline(math.prod(out) * batch)}",
        value=cost.traffic_elements,
        note="elements, each read or written once",
    )
