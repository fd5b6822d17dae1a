"""Conventions as JSON data: the ``convention`` object of a report counted under a peer's
convention, each layer's count and rule, and the ``compare --convention`` sides."""

from __future__ import annotations

from typing import Any

from convcost.conventions.count import ConventionReport
from convcost.conventions.differences import Side
from convcost.serialize import report_to_dict


def convention_json(counted: ConventionReport) -> dict[str, Any]:
    convention = counted.convention
    return {
        "name": convention.name,
        "exact": False,
        "tool": convention.tool,
        "figure": convention.figure,
        "unit": convention.unit,
        "total": counted.total,
        "unsupported": [
            {"path": layer.path, "kind": layer.kind, "reason": layer.rule}
            for layer in counted.unsupported
        ],
    }


def report_json(counted: ConventionReport) -> dict[str, Any]:
    """The report's usual JSON (docs/json-format.md) with ``convention`` naming the peer's
    convention and each layer's ``convention_count`` (``null`` where not reproduced) and
    ``convention_rule``."""
    data = report_to_dict(counted.report)
    data["convention"] = convention_json(counted)
    for entry, layer in zip(data["layers"], counted.layers, strict=True):
        assert entry["path"] == layer.path
        entry["convention_count"] = layer.value
        entry["convention_rule"] = layer.rule
    return data


def side_json(found: Side) -> dict[str, Any]:
    return {
        "name": found.name,
        "exact": found.name == "convcost",
        "unit": found.unit,
        "total": found.total,
        "exact_macs": found.exact_macs,
        "difference": found.difference,
        "families": found.families,
        "unsupported": list(found.unsupported),
    }
