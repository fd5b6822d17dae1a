"""Reports as plain data: the JSON machine contract (see docs/json-format.md)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice
from json.encoder import encode_basestring_ascii
from typing import Any

from convcost.integers import unlimited_str_digits
from convcost.receptive import Coverage, ReceptiveField
from convcost.report import BlockReport, Cost, LayerReport, Report
from convcost.version import __version__

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
}
"""How the figures were counted; every JSON report carries it (docs/cost-model.md)."""


@dataclass(frozen=True, slots=True)
class Streamed:
    """A JSON array that :func:`chunks` writes a batch of elements at a time, so that a
    million-layer report is never a million dicts (nor one string) in memory."""

    items: Callable[[], Iterable[object]]
    """Yields the elements (plain JSON data), once per call."""


BATCH = 2_000
"""Elements of a :class:`Streamed` array encoded at a time."""


def chunks(data: object, *, indent: int | None = None) -> Iterator[str]:
    """:func:`dumps`'s text in pieces: ``data`` may hold :class:`Streamed` arrays, written
    :data:`BATCH` elements at a time (``"".join(chunks(data))`` is ``dumps`` of the same
    data with lists in their place)."""
    with unlimited_str_digits():
        yield from _chunks(data, indent, "\n")
        yield "\n"


def _chunks(value: object, indent: int | None, pad: str) -> Iterator[str]:
    if not _streams(value):
        yield _encoded(value, indent, pad)
        return
    inner = pad + " " * indent if indent is not None else ""
    comma, colon = ("," + inner, ": ") if indent is not None else (",", ":")
    close = pad if indent is not None else ""
    if isinstance(value, Streamed):
        items = iter(value.items())
        separator = "["
        while batch := list(islice(items, BATCH)):
            text = _encoded(batch, indent, pad)
            yield separator + text[1 : len(text) - 1 - len(close)]
            separator = ","
        yield "[]" if separator == "[" else close + "]"
        return
    if isinstance(value, dict):
        separator = "{" + inner
        for key, item in value.items():
            yield f"{separator}{encode_basestring_ascii(key)}{colon}"
            yield from _chunks(item, indent, inner)
            separator = comma
        yield close + "}"
        return
    assert isinstance(value, list | tuple)
    separator = "[" + inner
    for item in value:
        yield separator
        yield from _chunks(item, indent, inner)
        separator = comma
    yield close + "]"


def _streams(value: object) -> bool:
    """Whether ``value`` holds a :class:`Streamed` array (at any depth)."""
    if isinstance(value, Streamed):
        return True
    if isinstance(value, dict):
        return any(map(_streams, value.values()))
    if isinstance(value, list | tuple):
        return any(map(_streams, value))
    return False


def _encoded(value: object, indent: int | None, pad: str) -> str:
    """``value`` as JSON text, its nested lines starting with ``pad`` (a newline and spaces)."""
    if indent is None:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    try:
        return indented(value, indent, pad)
    except TypeError:  # a subclass (an IntEnum, a str enum): the stdlib's rules
        text = json.dumps(value, indent=indent, ensure_ascii=True)
        return text.replace("\n", pad)


def dumps(data: object, *, indent: int | None = None) -> str:
    """JSON text of ``data``, pure ASCII (``\\u00d7`` for ``×``, so any stdout encoding can
    carry it), every integer exact whatever its size (``str``'s 4,300-digit limit is lifted
    while writing), keys in the order given, ending in a newline.

    Compact (no spaces, one line) by default, written by the json module's C encoder; with
    ``indent``, the same text as ``json.dumps(data, indent=indent)`` from :func:`indented`.
    """
    with unlimited_str_digits():
        return _encoded(data, indent, "\n") + "\n"


def _float(value: float) -> str:
    """As the json module writes a float (``NaN`` and ``Infinity`` included)."""
    if math.isnan(value):
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


_SCALARS: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii,
    int: int.__repr__,
    float: _float,
    bool: lambda value: "true" if value else "false",
    type(None): lambda _: "null",
}


def indented(data: object, indent: int, pad: str = "\n") -> str:
    """``json.dumps(data, indent=indent, ensure_ascii=True)``, character for character, about
    twice as fast: the stdlib writes indented JSON with its pure-Python encoder, one generator
    step per value; here a list of scalars is one join and a scalar value one string.

    ``data`` holds dicts with string keys, lists, tuples, strings, ints, floats, booleans and
    None (what the ``*_to_dict`` functions build); anything else raises TypeError. ``pad``
    starts each nested line: ``"\\n"`` and the indentation of where ``data`` is nested.
    """
    step = " " * indent
    out: list[str] = []
    append = out.append
    scalar_of = _SCALARS.get

    def walk(value: object, pad: str) -> None:
        kind = type(value)
        if kind is dict:
            assert isinstance(value, dict)
            if not value:
                append("{}")
                return
            inner = pad + step
            separator, comma = "{" + inner, "," + inner
            for key, item in value.items():
                if type(key) is not str:
                    raise TypeError(f"JSON object keys here are strings, got {key!r}")
                scalar = scalar_of(type(item))
                if scalar is None:
                    append(f"{separator}{encode_basestring_ascii(key)}: ")
                    walk(item, inner)
                else:
                    append(f"{separator}{encode_basestring_ascii(key)}: {scalar(item)}")
                separator = comma
            append(pad + "}")
        elif kind is list or kind is tuple:
            assert isinstance(value, list | tuple)
            if not value:
                append("[]")
                return
            inner = pad + step
            kinds = set(map(type, value))
            scalar = scalar_of(kinds.pop()) if len(kinds) == 1 else None
            if scalar is not None:
                append(f"[{inner}{(',' + inner).join(map(scalar, value))}{pad}]")
                return
            separator = "[" + inner
            for item in value:
                append(separator)
                walk(item, inner)
                separator = "," + inner
            append(pad + "]")
        else:
            scalar = scalar_of(kind)
            if scalar is None:
                raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")
            append(scalar(value))

    walk(data, pad)
    return "".join(out)


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


def cost_json(cost: Cost, bytes_per_element: int) -> dict[str, int]:
    return {
        "params": cost.params,
        "weights": cost.weights,
        "biases": cost.biases,
        "macs": cost.macs,
        "flops": cost.flops,
        "ops": cost.ops,
        "activation_elements": cost.activation_elements,
        "activation_bytes": cost.activation_elements * bytes_per_element,
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
            "line": item.location.line if item.location else None,
        }


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as JSON data (docs/json-format.md)."""
    return _report_data(report, lambda items: list(items()))


def report_to_stream(report: Report) -> dict[str, Any]:
    """:func:`report_to_dict` with ``layers`` and ``blocks`` as :class:`Streamed` arrays, for
    :func:`chunks`: the same text, one batch of layers in memory at a time."""
    return _report_data(report, Streamed)


def _report_data(
    report: Report, array: Callable[[Callable[[], Iterable[object]]], object]
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
            "peak_activation_bytes": report.peak_activation_bytes,
            "peak_memory_bytes": report.peak_memory_bytes,
            "peak_at": report.peak_at,
        },
        "layers": array(lambda: _entries(report.layers, width)),
        "blocks": array(lambda: _entries(report.blocks, width)),
        "warnings": [
            {"path": w.path, "message": w.message, "line": w.location.line if w.location else None}
            for w in report.warnings
        ],
    }
