"""``--device`` as JSON, CSV and Markdown: the ``latency`` object of ``analyze`` and
``compare``, the ``bound`` and ``estimated_seconds`` columns, the estimate's line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from convcost.jsontext import dumps
from convcost.latency.quantities import seconds_text
from convcost.render import formats, numbers
from convcost.render.latency_rows import (
    ComparedLatency,
    Predicted,
    error,
    measured_total,
    ratio_text,
    row_times,
)
from convcost.serialize import report_to_dict


def latency_json(item: Predicted, depth: int | None = None) -> dict[str, Any]:
    estimate = item.estimate
    data: dict[str, Any] = {
        "device": estimate.device,
        "calibrated": estimate.calibrated,
        "backend": estimate.backend,
        "seconds": estimate.seconds,
        "layers": [
            {
                "path": layer.path,
                "kernel": layer.kernel.value,
                "bound": layer.bound.value,
                "seconds": layer.seconds,
                "share": estimate.share(layer),
            }
            for layer in estimate.layers
        ],
    }
    if item.execution is not None:
        measured = measured_total(item.execution)
        data["measured_seconds"] = measured
        data["error"] = (estimate.seconds - measured) / measured if measured > 0 else None
        for entry, run in zip(data["layers"], item.execution.layers, strict=True):
            entry["measured_seconds"] = run.seconds
    return data


def to_json(
    items: Sequence[Predicted], *, depth: int | None = None, indent: int | None = None
) -> str:
    """Each report as :func:`convcost.render.formats.to_json` writes it (with ``depth`` and
    ``rows`` under ``--depth``) plus a ``latency`` object; compact unless ``indent``."""
    data = [
        {
            **report_to_dict(item.report),
            **formats.depth_json(item.report, depth),
            "latency": latency_json(item),
        }
        for item in items
    ]
    return dumps(data[0] if len(data) == 1 else data, indent=indent)


def to_csv(items: Sequence[Predicted], *, depth: int | None = None) -> str:
    """:func:`convcost.render.formats.to_csv` with ``bound`` and ``estimated_seconds`` (and
    ``measured_seconds`` with ``--execute``) per row."""
    table = list(csv.reader(io.StringIO(formats.to_csv([i.report for i in items], depth=depth))))
    executed = any(item.execution is not None for item in items)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [*table[0], "bound", "estimated_seconds", *(["measured_seconds"] if executed else [])]
    )
    times = [t for item in items for t in row_times(item, depth)]
    for cells, t in zip(table[1:], times, strict=True):
        measured = [repr(t.measured) if t.measured is not None else ""] if executed else []
        writer.writerow([*cells, t.bound, repr(t.estimated), *measured])
    return out.getvalue()


def to_markdown(
    items: Sequence[Predicted], *, depth: int | None = None, exact: bool = False
) -> str:
    """:func:`convcost.render.formats.to_markdown` with ``bound``, ``est.`` (and ``measured``)
    columns and the estimate's line under each table."""
    out: list[str] = []
    for item in items:
        lines = formats.to_markdown([item.report], depth=depth, exact=exact).split("\n")
        times = row_times(item, depth)
        executed = item.execution is not None
        start = next(i for i, line in enumerate(lines) if line.startswith("|"))
        out += lines[:start]
        out.append(lines[start] + (" bound | est. | measured |" if executed else " bound | est. |"))
        out.append(lines[start + 1] + ("---|--:|--:|" if executed else "---|--:|"))
        for offset, t in enumerate(times, start=start + 2):
            measured = f" {seconds_text(t.measured or 0.0)} |" if executed else ""
            out.append(f"{lines[offset]} {t.bound} | {seconds_text(t.estimated)} |{measured}")
        total = start + 2 + len(times)
        measured_cell = (
            f" **{seconds_text(measured_total(item.execution))}** |" if item.execution else ""
        )
        out.append(f"{lines[total]} | **{seconds_text(item.estimate.seconds)}** |{measured_cell}")
        out += lines[total + 1 :]
        how = "calibrated" if item.estimate.calibrated else "roofline bound, not calibrated"
        line = f"Estimated on {item.estimate.device} ({how}): {seconds_text(item.estimate.seconds)}"
        if item.execution is not None:
            total_measured = measured_total(item.execution)
            line += (
                f"; measured {seconds_text(total_measured)} "
                f"({error(item.estimate.seconds, total_measured)})"
            )
        out += [line + ".", ""]
    return "\n".join(out)


def compared_markdown(entries: Sequence[ComparedLatency]) -> str:
    first = entries[0].estimate
    how = "calibrated" if first.calibrated else "roofline bound, not calibrated"
    executed = any(entry.measured is not None for entry in entries)
    lines = [
        f"Latency on {first.device} ({how}):",
        "",
        "| | MACs ratio | traffic | estimated | latency ratio | memory-bound |"
        + (" measured | measured ratio |" if executed else ""),
        "|---|--:|--:|--:|--:|--:|" + ("--:|--:|" if executed else ""),
    ]
    for entry in entries:
        measured = (
            f" {seconds_text(entry.measured or 0.0)} | {ratio_text(entry.measured_ratio)} |"
            if executed
            else ""
        )
        lines.append(
            f"| {entry.name} | {ratio_text(entry.macs_ratio)} | {numbers.size(entry.traffic_bytes)} | "
            f"{seconds_text(entry.estimate.seconds)} | {ratio_text(entry.latency_ratio)} | "
            f"{entry.memory_bound_share:.0%} |{measured}"
        )
    return "\n".join(lines) + "\n"


def compared_json(entries: Sequence[ComparedLatency]) -> dict[str, Any]:
    first = entries[0].estimate
    return {
        "device": first.device,
        "calibrated": first.calibrated,
        "backend": first.backend,
        "entries": [
            {
                "name": entry.name,
                "macs_ratio": entry.macs_ratio,
                "traffic_bytes": entry.traffic_bytes,
                "estimated_seconds": entry.estimate.seconds,
                "latency_ratio": entry.latency_ratio,
                "memory_bound_share": entry.memory_bound_share,
                "measured_seconds": entry.measured,
                "measured_ratio": entry.measured_ratio,
            }
            for entry in entries
        ],
    }


def compared_csv(text: str, entries: Sequence[ComparedLatency]) -> str:
    """The comparison CSV with ``estimated_seconds`` and ``latency_ratio`` columns."""
    table = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*table[0], "estimated_seconds", "latency_ratio"])
    for cells, entry in zip(table[1:], entries, strict=True):
        ratio = "" if entry.latency_ratio is None else repr(entry.latency_ratio)
        writer.writerow([*cells, repr(entry.estimate.seconds), ratio])
    return out.getvalue()


def with_latency_json(text: str, entries: Sequence[ComparedLatency], *, indent: int | None) -> str:
    """The comparison JSON text with a ``latency`` object added."""
    data = json.loads(text)
    data["latency"] = compared_json(entries)
    return dumps(data, indent=indent)
