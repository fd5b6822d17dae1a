"""What an analysis produces: immutable per-layer, per-block and total figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from convcost.errors import Location
from convcost.layers import Shape
from convcost.receptive import ReceptiveField
from convcost.valueclasses import dataclass, slot_setters

if TYPE_CHECKING:
    from fractions import Fraction

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
"""Bytes per element for ``--dtype``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cost:
    """Exact integer costs; ``macs``, ``ops`` and activations already include the batch."""

    weights: int = 0
    biases: int = 0
    macs: int = 0
    ops: int = 0
    """Elementwise work that is not a MAC: bias adds, batchnorm, activations, pooling, merges."""
    activation_elements: int = 0
    """Elements of the outputs (the input tensor is not included)."""
    read_elements: int = 0
    """Memory traffic in: the input activations (times batch) plus every parameter, each read
    once; nothing for a view or a layer that moves no data (docs/cost-model.md, "Memory
    traffic")."""
    written_elements: int = 0
    """Memory traffic out: the output (times batch), written once; nothing for a view."""

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def flops(self) -> int:
        """FLOPs = 2 · MACs (one multiply and one add each)."""
        return 2 * self.macs

    @property
    def traffic_elements(self) -> int:
        """Elements read plus elements written."""
        return self.read_elements + self.written_elements

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            weights=self.weights + other.weights,
            biases=self.biases + other.biases,
            macs=self.macs + other.macs,
            ops=self.ops + other.ops,
            activation_elements=self.activation_elements + other.activation_elements,
            read_elements=self.read_elements + other.read_elements,
            written_elements=self.written_elements + other.written_elements,
        )


def intensity(cost: Cost, bytes_per_element: int) -> Fraction | None:
    """Arithmetic intensity: FLOPs (2 · MACs) per byte of memory traffic at the dtype's width,
    exact; ``None`` when the layer moves nothing (a view)."""
    terms = intensity_terms(cost, bytes_per_element)
    if terms is None:
        return None
    from fractions import Fraction  # noqa: PLC0415 (JSON writes the terms' quotient: no Fraction)

    return Fraction(*terms)


def intensity_terms(cost: Cost, bytes_per_element: int) -> tuple[int, int] | None:
    """:func:`intensity` as (FLOPs, bytes moved), or ``None`` when nothing moves."""
    moved = cost.traffic_elements * bytes_per_element
    return (cost.flops, moved) if moved else None


def total(costs: list[Cost] | tuple[Cost, ...]) -> Cost:
    result = Cost()
    for cost in costs:
        result = result + cost
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerReport:
    """One leaf layer, or the merge step of a concat/add/multiply block (at the block's path)."""

    path: str
    kind: str
    input_shape: Shape
    output_shape: Shape
    cost: Cost
    receptive_field: ReceptiveField
    """After this layer."""
    location: Location | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockReport:
    """A merge block, a reusable block's use, a repeat group or a separable conv, summed."""

    path: str
    kind: str
    input_shape: Shape
    output_shape: Shape
    cost: Cost
    receptive_field: ReceptiveField
    location: Location | None = None


_COST_SLOTS = slot_setters(
    Cost,
    "weights",
    "biases",
    "macs",
    "ops",
    "activation_elements",
    "read_elements",
    "written_elements",
)


_REPORT_FIELDS = (
    "path",
    "kind",
    "input_shape",
    "output_shape",
    "cost",
    "receptive_field",
    "location",
)
_REPORT_SLOTS = {kind: slot_setters(kind, *_REPORT_FIELDS) for kind in (LayerReport, BlockReport)}
"""The slot setters of :class:`LayerReport`'s and :class:`BlockReport`'s fields (the same)."""

_R = TypeVar("_R", LayerReport, BlockReport)


def layer_report(
    path: str,
    kind: str,
    input_shape: Shape,
    output_shape: Shape,
    cost: Cost,
    receptive_field: ReceptiveField,
    location: Location | None,
) -> LayerReport:
    """``LayerReport(path=path, kind=kind, …)``, 2.5× faster, for the engine's one per layer.

    A frozen dataclass's generated ``__init__`` sets every field through ``object.__setattr__``
    (a generic attribute lookup each); this fills the slots through their descriptors. The
    result is the same frozen value (``==``, ``hash`` and ``dataclasses.replace`` as usual).
    """
    return _report(
        LayerReport, path, kind, input_shape, output_shape, cost, receptive_field, location
    )


def block_report(
    path: str,
    kind: str,
    input_shape: Shape,
    output_shape: Shape,
    cost: Cost,
    receptive_field: ReceptiveField,
    location: Location | None,
) -> BlockReport:
    """``BlockReport(path=path, kind=kind, …)`` through its slots, as :func:`layer_report`."""
    return _report(
        BlockReport, path, kind, input_shape, output_shape, cost, receptive_field, location
    )


def _report(
    kind_of_report: type[_R],
    path: str,
    kind: str,
    input_shape: Shape,
    output_shape: Shape,
    cost: Cost,
    receptive_field: ReceptiveField,
    location: Location | None,
) -> _R:
    report = object.__new__(kind_of_report)
    set_path, set_kind, set_input, set_output, set_cost, set_field, set_location = _REPORT_SLOTS[
        kind_of_report
    ]
    set_path(report, path)
    set_kind(report, kind)
    set_input(report, input_shape)
    set_output(report, output_shape)
    set_cost(report, cost)
    set_field(report, receptive_field)
    set_location(report, location)
    return report


def cost_of(
    *,
    weights: int,
    biases: int,
    macs: int,
    ops: int,
    activation_elements: int,
    read_elements: int,
    written_elements: int,
) -> Cost:
    """``Cost(weights=weights, biases=biases, …)`` through its slots, as :func:`layer_report`
    (the engine's per block and per distinct layer: a value class compiles its ``__init__``
    past its first few objects, which costs more than these do)."""
    cost = object.__new__(Cost)
    set_weights, set_biases, set_macs, set_ops, set_activation, set_read, set_written = _COST_SLOTS
    set_weights(cost, weights)
    set_biases(cost, biases)
    set_macs(cost, macs)
    set_ops(cost, ops)
    set_activation(cost, activation_elements)
    set_read(cost, read_elements)
    set_written(cost, written_elements)
    return cost


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """A warning about a layer; it never changes the exit code."""

    path: str
    message: str
    location: Location | None = None
    used_at: Location | None = None
    """For a layer inside a block: where the outermost block around it is used (the line
    that passed the values; ``location`` is the line of the block's body)."""
    block: str | None = None
    """That outermost block's name."""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        used = f" (in block {self.block!r} used at {self.used_at})" if self.used_at else ""
        return f"{where}layer {self.path}: {self.message}{used}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    name: str
    source: str
    input_shape: Shape
    output_shape: Shape
    batch: int
    dtype: str
    layers: tuple[LayerReport, ...]
    """Leaf layers (and merge steps) in execution order; they sum to ``totals``."""
    blocks: tuple[BlockReport, ...]
    totals: Cost
    receptive_field: ReceptiveField
    warnings: tuple[Diagnostic, ...] = ()
    notes: tuple[str, ...] = ()
    """Facts about the whole report: placeholder layers whose cost is unknown."""
    peak_activation_elements: int = 0
    """Activation elements alive at the same time at the peak, times batch (convcost/peak.py)."""
    peak_at: str = ""
    """The layer whose output allocation reached the peak (``input`` for the input tensor)."""

    @property
    def bytes_per_element(self) -> int:
        return DTYPE_BYTES[self.dtype]

    @property
    def peak_activation_bytes(self) -> int:
        return self.peak_activation_elements * self.bytes_per_element

    @property
    def parameter_bytes(self) -> int:
        return self.totals.params * self.bytes_per_element

    @property
    def peak_memory_bytes(self) -> int:
        """Peak inference memory: the live activations at the peak plus every parameter."""
        return self.peak_activation_bytes + self.parameter_bytes

    @property
    def activation_bytes(self) -> int:
        return self.totals.activation_elements * self.bytes_per_element

    def _repr_html_(self) -> str:
        """Jupyter's view: the totals and the MACs per layer, a few kilobytes."""
        from convcost.html.notebook import report_snippet  # noqa: PLC0415  (analyze loads no html)

        return report_snippet(self)

    def to_dataframe(self) -> Any:
        """A pandas DataFrame, one row per layer, the JSON report's layer fields as columns;
        needs pandas (``pip install 'convcost[pandas]'``; else a :class:`ConvcostError`)."""
        from convcost.dataframe import report_dataframe  # noqa: PLC0415  (pandas is optional)

        return report_dataframe(self)
