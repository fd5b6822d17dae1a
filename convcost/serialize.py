"""Reports as plain data: the JSON machine contract (see docs/json-format.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any

from convcost.integers import round_half_even
from convcost.jsontext import Streamed
from convcost.layers import Shape
from convcost.receptive import Coverage, ReceptiveField
from convcost.report import BlockReport, Cost, LayerReport, Report, intensity_terms
from convcost.version import __version__

if TYPE_CHECKING:
    from fractions import Fraction

CONVENTION = {
    "name": "convcost-1",
    "macs": "conv: output elements × C_in/groups × ∏kernel; conv_transpose: input elements × "
    "C_out/groups × ∏kernel; linear: in × out; bias adds are not MACs",
    "flops": "2 × macs",
    "ops": "non-MAC elementwise work: bias adds, batchnorm (2/element), activations (1/element), "
    "pooling (1 per window element), add/multiply merges (1 per element per extra branch)",
    "params": "as PyTorch's sum(p.numel() for p in model.parameters()); batchnorm counts 2·C",
    "activations": "sum of every layer's output elements (input excluded), times batch",
    "batch": "multiplies macs, flops, ops and activations, not params",
    "peak_memory": "live activations at the peak of an inference in spec order (input counted, "
    "no in-place layers, views free, branch inputs held until their last reader) plus params, "
    "all at dtype",
    "memory_traffic": "each layer reads its input activations and parameters once and writes "
    "its output once, no cache reuse across layers; a view (identity, dropout, flatten, split, "
    "crop) moves nothing; a merge reads every branch output and writes its own (concat "
    "copies); bytes at dtype",
    "intensity": "flops / (bytes_read + bytes_written); null when nothing moves",
}
"""How the figures were counted; every JSON report carries it (docs/cost-model.md)."""


def quotient_json(numerator: int, denominator: int) -> int | float:
    """``fraction_json(Fraction(numerator, denominator))`` without making the fraction
    (``denominator`` > 0): ``int / int`` is correctly rounded, as the fraction's ``float`` is."""
    quotient, remainder = divmod(numerator, denominator)
    if not remainder:
        return quotient
    try:
        return numerator / denominator
    except OverflowError:
        return round_half_even(numerator, denominator)


def fraction_json(value: int | Fraction) -> int | float:
    """An integer where exact; otherwise the nearest float (the nearest integer past the
    float range, ~1.8e308, where no float holds it)."""
    if type(value) is int:
        return value
    if value.denominator == 1:
        return value.numerator
    try:
        return float(value)
    except OverflowError:
        return round(value)


def field_json(field: ReceptiveField) -> tuple[list[int | float] | None, list[int | float] | None]:
    """``receptive_field`` and ``jump`` lists, or ``None`` when global or unknown."""
    if field.coverage is not Coverage.LOCAL:
        return None, None
    return [fraction_json(v) for v in field.size], [fraction_json(v) for v in field.jump]


FieldJson = tuple[list[int | float] | None, list[int | float] | None]


def field_json_cached() -> Callable[[ReceptiveField], FieldJson]:
    """:func:`field_json`, converting a receptive field once while consecutive layers share
    it (a batchnorm and a relu keep their input's: a plain stack has a third as many fields
    as layers). Only the last field is remembered, so memory stays bounded; the lists are
    shared, so they are for encoding, not for changing."""
    last: list[tuple[ReceptiveField, FieldJson]] = []

    def converted(field: ReceptiveField) -> FieldJson:
        if last and last[0][0] is field:
            return last[0][1]
        lists = field_json(field)
        last[:] = [(field, lists)]
        return lists

    return converted


def cost_json(cost: Cost, bytes_per_element: int) -> dict[str, int | float | None]:
    terms = intensity_terms(cost, bytes_per_element)
    return {
        "params": cost.params,
        "weights": cost.weights,
        "biases": cost.biases,
        "macs": cost.macs,
        "flops": cost.flops,
        "ops": cost.ops,
        "activation_elements": cost.activation_elements,
        "activation_bytes": cost.activation_elements * bytes_per_element,
        "bytes_read": cost.read_elements * bytes_per_element,
        "bytes_written": cost.written_elements * bytes_per_element,
        "intensity": None if terms is None else quotient_json(*terms),
    }


def _entries(
    items: Sequence[LayerReport | BlockReport], bytes_per_element: int
) -> Iterator[dict[str, Any]]:
    """One entry per layer or block (each with its own lists)."""
    fields = field_json_cached()
    for item in items:
        size, jump = fields(item.receptive_field)
        yield {
            "path": item.path,
            "kind": item.kind,
            "input_shape": list(item.input_shape),
            "output_shape": list(item.output_shape),
            **cost_json(item.cost, bytes_per_element),
            "receptive_field": None if size is None else size.copy(),
            "jump": None if jump is None else jump.copy(),
            "receptive_field_coverage": item.receptive_field.coverage.value,
            "receptive_field_varies": item.receptive_field.varies,
            "global_context": item.receptive_field.global_context,
            "line": item.location.line if item.location else None,
        }


_TEMPLATES = 4096
"""Distinct (cost, kind, shapes) texts :func:`_entry_texts` keeps at a time."""


def _entry_texts(
    items: Sequence[LayerReport | BlockReport], bytes_per_element: int
) -> Iterator[str]:
    """:func:`_entries` as compact JSON texts, without a dict per layer: the text from ``kind``
    to ``intensity`` is encoded once per cost object (the engine shares one between equal
    layers on equal shapes), the receptive-field part once per field, and only the path and
    the line per layer. Each text is ``json.dumps(entry, separators=(",", ":"))`` of the same
    entry (the same encoder writes every part)."""
    encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), check_circular=False).encode
    path_text = encode_basestring_ascii
    middles: dict[int, tuple[Cost, str, Shape, Shape, str]] = {}
    field: ReceptiveField | None = None
    field_text = ""
    tails: dict[tuple[str, bool, bool], str] = {}
    for item in items:
        cost, kind, shape, out = item.cost, item.kind, item.input_shape, item.output_shape
        middle = middles.get(id(cost))
        if (
            middle is None
            or middle[0] is not cost
            or middle[1] != kind
            or middle[2] != shape
            or middle[3] != out
        ):
            text = encode(
                {
                    "kind": kind,
                    "input_shape": list(shape),
                    "output_shape": list(out),
                    **cost_json(cost, bytes_per_element),
                }
            )
            if len(middles) >= _TEMPLATES:
                middles.clear()
            middle = middles[id(cost)] = (cost, kind, shape, out, text[1:-1])
        if item.receptive_field is not field:
            field = item.receptive_field
            size, jump = field_json(field)
            flags = (field.coverage.value, field.varies, field.global_context)
            tail = tails.get(flags)
            if tail is None:
                tail = tails[flags] = encode(
                    {
                        "receptive_field_coverage": flags[0],
                        "receptive_field_varies": flags[1],
                        "global_context": flags[2],
                    }
                )[1:-1]
            size_text, jump_text = _int_list(size), _int_list(jump)
            if size_text is not None and jump_text is not None:
                lists = f'"receptive_field":{size_text},"jump":{jump_text}'
            else:
                lists = encode({"receptive_field": size, "jump": jump})[1:-1]
            field_text = f"{lists},{tail}"
        line = "null" if item.location is None else str(item.location.line)
        yield f'{{"path":{path_text(item.path)},{middle[4]},{field_text},"line":{line}}}'


def _int_list(values: list[int | float] | None) -> str | None:
    """A list of ints as JSON (``str`` writes an int as the encoder does); ``None`` otherwise."""
    if values is None or any(type(value) is not int for value in values):
        return None
    return f"[{','.join(map(str, values))}]"


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as JSON data (docs/json-format.md)."""
    return _report_data(report, lambda items, _: list(items()))


def report_to_stream(report: Report) -> dict[str, Any]:
    """:func:`report_to_dict` with ``layers`` and ``blocks`` as :class:`Streamed` arrays, for
    :func:`chunks`: the same text, one batch of layers in memory at a time."""
    return _report_data(report, Streamed)


def _report_data(
    report: Report,
    array: Callable[[Callable[[], Iterable[object]], Callable[[], Iterable[str]]], object],
) -> dict[str, Any]:
    size, jump = field_json(report.receptive_field)
    width = report.bytes_per_element
    return {
        "convcost_version": __version__,
        "convention": CONVENTION,
        "name": report.name,
        "source": report.source,
        "input_shape": list(report.input_shape),
        "output_shape": list(report.output_shape),
        "batch": report.batch,
        "dtype": report.dtype,
        "totals": {
            **cost_json(report.totals, width),
            "receptive_field": size,
            "jump": jump,
            "receptive_field_coverage": report.receptive_field.coverage.value,
            "receptive_field_varies": report.receptive_field.varies,
            "global_context": report.receptive_field.global_context,
            "peak_activation_bytes": report.peak_activation_bytes,
            "peak_memory_bytes": report.peak_memory_bytes,
            "peak_at": report.peak_at,
        },
        "layers": array(
            lambda: _entries(report.layers, width), lambda: _entry_texts(report.layers, width)
        ),
        "blocks": array(
            lambda: _entries(report.blocks, width), lambda: _entry_texts(report.blocks, width)
        ),
        "warnings": [
            {"path": w.path, "message": w.message, "line": w.location.line if w.location else None}
            for w in report.warnings
        ],
        # only when there are any: placeholder layers whose cost is unknown
        **({"notes": list(report.notes)} if report.notes else {}),
    }
