"""``compare``: several reports side by side, with exact ratios to a baseline.

Pure: reports in, a :class:`Comparison` out. Cost rows (parameters, MACs, FLOPs, ops,
activation bytes) carry exact :class:`~fractions.Fraction` ratios to the baseline and the
names of the cheapest entries. Shape rows (output shape, receptive field, jump) carry no
ratio and no "best": a larger receptive field is not better in itself (it should match the
objects to recognise), so differences there are reported as comparability warnings instead.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from fractions import Fraction

from convcost.build import build
from convcost.engine import analyze_network
from convcost.errors import ConvcostError, Location
from convcost.execution import Execution
from convcost.layers import Shape
from convcost.limits import MAX_INT
from convcost.names import did_you_mean
from convcost.network import Network
from convcost.receptive import Coverage, ReceptiveField
from convcost.report import Report
from convcost.spec import Spec, Variant
from convcost.valueclasses import dataclass


class Metric(enum.Enum):
    """A cost row of the comparison; the value is its JSON and CSV key."""

    PARAMS = "params"
    MACS = "macs"
    FLOPS = "flops"
    OPS = "ops"
    ACTIVATION_BYTES = "activation_bytes"
    TIME = "time_ns"
    """Measured forward time in nanoseconds; a row only when every entry was executed."""

    def of(self, entry: Entry) -> int:
        report = entry.report
        totals = report.totals
        match self:
            case Metric.PARAMS:
                return totals.params
            case Metric.MACS:
                return totals.macs
            case Metric.FLOPS:
                return totals.flops
            case Metric.OPS:
                return totals.ops
            case Metric.ACTIVATION_BYTES:
                return report.activation_bytes
            case Metric.TIME:
                assert entry.execution is not None, entry.name
                return round(entry.execution.seconds * 1e9)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One column: a variant, a whole file, or one design at one input size."""

    name: str
    """Unique among the entries; what ``--baseline`` names."""
    report: Report
    execution: Execution | None = None
    """The ``--execute`` run that confirmed the report's shapes, when there was one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricRow:
    metric: Metric
    values: tuple[int, ...]
    """One per entry, in entry order."""
    ratios: tuple[Fraction | None, ...]
    """value / baseline value, exact; ``None`` when the baseline is 0 and the value is not."""
    best: tuple[int, ...]
    """Indices of the entries with the lowest value; empty when every entry is equal."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Oversized:
    """Layers of one entry whose receptive field already covers the whole input."""

    entry: str
    first: str
    """Path of the first such layer (every later layer in its chain also exceeds it)."""
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerDelta:
    """A layer path that two entries share: its figures in both."""

    path: str
    kinds: tuple[str, str]
    output_shapes: tuple[Shape, Shape]
    params: tuple[int, int]
    macs: tuple[int, int]
    receptive_fields: tuple[ReceptiveField, ReceptiveField]


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    entries: tuple[Entry, ...]
    baseline: int
    """Index of the baseline entry."""
    rows: tuple[MetricRow, ...]
    warnings: tuple[str, ...]
    """Why some entries are not like for like (different input, output shape, receptive field)."""
    oversized: tuple[Oversized, ...]

    @property
    def baseline_name(self) -> str:
        return self.entries[self.baseline].name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.entries)

    def row(self, metric: Metric) -> MetricRow:
        return next(row for row in self.rows if row.metric is metric)

    def ratio(self, name: str, metric: Metric) -> Fraction | None:
        return self.row(metric).ratios[self.names.index(name)]

    def _repr_html_(self) -> str:
        """Jupyter's view: the comparison table and parameters against MACs."""
        from convcost.html.notebook import comparison_snippet  # noqa: PLC0415  (lazy)

        return comparison_snippet(self)


def compare(entries: Sequence[Entry], *, baseline: str | None = None) -> Comparison:
    """Compare ``entries`` against the one named ``baseline`` (the first when ``None``).

    Raises :class:`ConvcostError` (exit 2) for an unknown baseline or duplicate names.
    """
    if not entries:
        raise ConvcostError("nothing to compare")
    names = [entry.name for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConvcostError(f"duplicate names to compare: {', '.join(duplicates)}")
    if baseline is None:
        index = 0
    elif baseline in names:
        index = names.index(baseline)
    else:
        raise ConvcostError(
            f"unknown baseline {baseline!r}{did_you_mean(baseline, names)}; "
            f"choose one of: {', '.join(names)}"
        )
    executed = all(entry.execution is not None for entry in entries)
    rows = tuple(
        _metric_row(metric, entries, index)
        for metric in Metric
        if metric is not Metric.TIME or executed
    )
    return Comparison(
        entries=tuple(entries),
        baseline=index,
        rows=rows,
        warnings=comparability(entries),
        oversized=tuple(found for entry in entries if (found := oversized(entry)) is not None),
    )


def _metric_row(metric: Metric, entries: Sequence[Entry], baseline: int) -> MetricRow:
    values = tuple(metric.of(entry) for entry in entries)
    base = values[baseline]
    ratios = tuple(
        Fraction(value, base) if base else (Fraction(1) if value == 0 else None) for value in values
    )
    lowest = min(values)
    best = () if lowest == max(values) else tuple(i for i, v in enumerate(values) if v == lowest)
    return MetricRow(metric=metric, values=values, ratios=ratios, best=best)


def _shape(shape: Shape) -> str:
    return "×".join(map(str, shape))


def describe_field(field: ReceptiveField) -> str:
    """``7×7 (jump 1×1)``, ``global`` or ``unknown``."""
    if field.coverage is not Coverage.LOCAL:
        return str(field.coverage.value)
    size = "×".join(_fraction(v) for v in field.size)
    jump = "×".join(_fraction(v) for v in field.jump)
    return f"{size} (jump {jump})"


def _fraction(value: int | Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(value)


def comparability(entries: Sequence[Entry]) -> tuple[str, ...]:
    """One warning per property on which the entries differ; they are still compared."""
    checks: tuple[tuple[str, Callable[[Report], str], str], ...] = (
        ("different inputs", lambda r: _shape(r.input_shape), "the costs are for different data"),
        (
            "different output shapes",
            lambda r: _shape(r.output_shape),
            "the costs buy different outputs",
        ),
        (
            "different receptive fields",
            lambda r: describe_field(r.receptive_field),
            "each output sees a different window",
        ),
    )
    warnings = []
    for what, show, why in checks:
        groups: dict[str, list[str]] = {}
        for entry in entries:
            groups.setdefault(show(entry.report), []).append(entry.name)
        if len(groups) > 1:
            warnings.append(f"not like for like: {what} ({_listing(groups)}); {why}")
    return tuple(warnings)


def _listing(groups: dict[str, list[str]]) -> str:
    """``a 5, b 7`` when every value is one entry's; else ``5: a, c; 7: b`` (at most 4 names
    per value, then ``+N more``)."""
    if all(len(names) == 1 for names in groups.values()):
        return ", ".join(f"{names[0]} {value}" for value, names in groups.items())
    parts = []
    for value, names in groups.items():
        shown = ", ".join(names[:4]) + (f" +{len(names) - 4} more" if len(names) > 4 else "")
        parts.append(f"{value}: {shown}")
    return "; ".join(parts)


def exceeds_input(field: ReceptiveField, input_shape: Shape) -> bool:
    """True when the field covers at least the whole input on every spatial axis (or is global)."""
    if field.coverage is Coverage.GLOBAL:
        return True
    if field.coverage is Coverage.UNKNOWN or len(input_shape) < 2:
        return False
    return all(r >= size for r, size in zip(field.size, input_shape[1:], strict=True))


def oversized(entry: Entry) -> Oversized | None:
    """Layers whose (local) receptive field already exceeds the input; global layers are not
    counted, since pooling or a linear layer over everything is the point of them."""
    report = entry.report
    hits = [
        layer.path
        for layer in report.layers
        if layer.receptive_field.coverage is Coverage.LOCAL
        and exceeds_input(layer.receptive_field, report.input_shape)
    ]
    if not hits:
        return None
    return Oversized(entry=entry.name, first=hits[0], count=len(hits))


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldCoverage:
    """How much of the input one output sees: receptive field / input size per axis."""

    ratios: tuple[Fraction, ...]
    path: str | None
    """``None`` for the network's output; else the last layer whose field is still local
    (when the network ends in global pooling or a linear layer)."""


def coverage(report: Report) -> FieldCoverage | None:
    """At the output, or at the last layer with a local field; ``None`` when there is none."""
    if len(report.input_shape) < 2:
        return None
    field, path = report.receptive_field, None
    if field.coverage is not Coverage.LOCAL:
        local = [
            layer for layer in report.layers if layer.receptive_field.coverage is Coverage.LOCAL
        ]
        if not local or report.receptive_field.coverage is Coverage.UNKNOWN:
            return None
        field, path = local[-1].receptive_field, local[-1].path
    sizes = report.input_shape[1:]
    return FieldCoverage(
        ratios=tuple(Fraction(r) / size for r, size in zip(field.size, sizes, strict=True)),
        path=path,
    )


def layer_deltas(first: Report, second: Report) -> tuple[LayerDelta, ...]:
    """The layer paths present in both reports, in ``first``'s order."""
    others = {layer.path: layer for layer in second.layers}
    deltas = []
    for layer in first.layers:
        other = others.get(layer.path)
        if other is None:
            continue
        deltas.append(
            LayerDelta(
                path=layer.path,
                kinds=(layer.kind, other.kind),
                output_shapes=(layer.output_shape, other.output_shape),
                params=(layer.cost.params, other.cost.params),
                macs=(layer.cost.macs, other.cost.macs),
                receptive_fields=(layer.receptive_field, other.receptive_field),
            )
        )
    return tuple(deltas)


def parse_input(text: str, *, location: Location | None = None) -> Shape:
    """``3x224x224`` (or ``3×224×224``, ``3,224,224``) → ``(3, 224, 224)``: channels and one to
    three sizes (1-D, 2-D or 3-D), each from 1 to ``MAX_INT``."""
    parts = text.replace("×", "x").replace(",", "x").lower().split("x")
    shape: tuple[int, ...] = ()
    if len(parts) <= 4 and all(re.fullmatch(r"[0-9]{1,19}", part) for part in parts):
        shape = tuple(int(part) for part in parts)
    if not 2 <= len(shape) <= 4 or any(not 1 <= size <= MAX_INT for size in shape):
        shown = text if len(text) <= 40 else f"{text[:40]}…"
        raise ConvcostError(
            f"--input {shown!r}: write channels and one to three sizes as positive integers "
            f"(at most 2**63-1), e.g. 3x224x224",
            location=location,
        )
    return shape


def shape_label(shape: Shape) -> str:
    """``3x224x224``: how ``--input`` is written, and how an input size names a column."""
    return "x".join(map(str, shape))


def collect(
    specs: Sequence[Spec],
    *,
    inputs: Sequence[Shape] = (),
    batch: int = 1,
    dtype: str = "float32",
    run: Callable[[Network], Execution] | None = None,
) -> tuple[Entry, ...]:
    """The entries to compare: every variant of every spec, at each input size; with ``run``
    (``--execute``), each network is also run and its shapes confirmed.

    Names: the variant name for one spec with variants; the spec name for a plain spec; and
    ``spec:variant`` for a variant when several files are compared. With several ``inputs``
    each design gets one column per input, named by the input (``3x224x224``) for a single
    design and ``design@3x224x224`` otherwise. Duplicate names get ``~2``, ``~3``, … appended.
    """
    designs: list[tuple[str, Spec, Variant]] = []
    for spec in specs:
        for variant in spec.variants:
            if not spec.has_variants:
                name = spec.name
            elif len(specs) == 1:
                name = variant.name
            else:
                name = f"{spec.name}:{variant.name}"
            designs.append((name, spec, variant))
    sizes: Sequence[Shape | None] = inputs or (None,)
    named: list[tuple[str, Spec, Variant, Shape | None]] = []
    for name, spec, variant in designs:
        for shape in sizes:
            if len(sizes) == 1 or shape is None:
                label = name
            elif len(designs) == 1:
                label = shape_label(shape)
            else:
                label = f"{name}@{shape_label(shape)}"
            named.append((label, spec, variant, shape))
    result = []
    seen: dict[str, int] = {}
    for label, spec, variant, shape in named:
        seen[label] = seen.get(label, 0) + 1
        unique = label if seen[label] == 1 else f"{label}~{seen[label]}"
        network = build(spec, variant, input_shape=shape)
        report = analyze_network(network, batch=batch, dtype=dtype, source=spec.source)
        execution = None if run is None else run(network)
        result.append(Entry(name=unique, report=report, execution=execution))
    return tuple(result)
