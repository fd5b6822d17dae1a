"""Regressions against a stored ``convcost analyze --format json`` output.

:func:`load_baseline` reads the file (one report object, or an array of them);
:func:`compare` measures how much params, MACs and peak memory grew and which layers were
added, removed or changed cost, by path.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from convcost.budget import Status
from convcost.errors import ConvcostError
from convcost.report import Report

GROWTH_METRICS = ("params", "macs", "peak_memory")
"""What ``--max-growth`` limits; the baseline keys are ``params``, ``macs``, ``peak_memory_bytes``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineLayer:
    kind: str
    params: int
    macs: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineReport:
    name: str
    source: str
    batch: int
    dtype: str
    totals: tuple[tuple[str, int | None], ...]
    """``params``, ``macs`` and ``peak_memory`` (``None`` in baselines older than peak memory)."""
    layers: tuple[tuple[str, BaselineLayer], ...]
    """Layers by path, in execution order."""

    def total(self, metric: str) -> int | None:
        return dict(self.totals)[metric]


def load_baseline(path: Path) -> tuple[BaselineReport, ...]:
    """The reports of a JSON baseline; a missing or malformed file is a :class:`ConvcostError`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConvcostError(f"no such baseline file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConvcostError(f"cannot read baseline file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConvcostError(
            f"{path}:{exc.lineno}:{exc.colno}: the baseline is not JSON: {exc.msg}"
        ) from None
    items = data if isinstance(data, list) else [data]
    try:
        return tuple(_report(item) for item in items)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConvcostError(
            f"{path}: not a `convcost analyze --format json` output (bad or missing {exc})"
        ) from None


def _report(item: dict[str, Any]) -> BaselineReport:
    totals = item["totals"]
    peak = totals.get("peak_memory_bytes")
    return BaselineReport(
        name=str(item["name"]),
        source=str(item.get("source", "")),
        batch=int(item["batch"]),
        dtype=str(item["dtype"]),
        totals=(
            ("params", int(totals["params"])),
            ("macs", int(totals["macs"])),
            ("peak_memory", None if peak is None else int(peak)),
        ),
        layers=tuple(
            (
                str(layer["path"]),
                BaselineLayer(
                    kind=str(layer["kind"]), params=int(layer["params"]), macs=int(layer["macs"])
                ),
            )
            for layer in item["layers"]
        ),
    )


def find(baselines: tuple[BaselineReport, ...], report: Report) -> BaselineReport | None:
    """The baseline report of the same name (of the same source too, when names repeat)."""
    named = [base for base in baselines if base.name == report.name]
    same_source = [base for base in named if base.source == report.source]
    candidates = same_source or named
    return candidates[0] if candidates else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Growth:
    """One total compared with its baseline."""

    report: str
    source: str
    metric: str
    baseline: int
    actual: int
    allowed: Fraction
    """The allowed growth, as a fraction (2% is 1/50)."""
    status: Status

    @property
    def limit(self) -> Fraction:
        """The largest value that passes: baseline · (1 + allowed)."""
        return self.baseline * (1 + self.allowed)

    @property
    def growth(self) -> Fraction | None:
        """(actual − baseline) / baseline; ``None`` when the baseline is 0."""
        return Fraction(self.actual - self.baseline, self.baseline) if self.baseline else None


class Change(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerChange:
    path: str
    change: Change
    before: BaselineLayer | None
    after: BaselineLayer | None


def actual_total(report: Report, metric: str) -> int:
    return {
        "params": report.totals.params,
        "macs": report.totals.macs,
        "peak_memory": report.peak_memory_bytes,
    }[metric]


def compare(
    report: Report, base: BaselineReport, allowed: Fraction
) -> tuple[tuple[Growth, ...], tuple[LayerChange, ...]]:
    """Growth of each total (metrics the baseline lacks are skipped) and the layer diff."""
    if (base.batch, base.dtype) != (report.batch, report.dtype):
        raise ConvcostError(
            f"the baseline of {report.name!r} was made with --batch {base.batch} --dtype "
            f"{base.dtype}; check with the same options (got --batch {report.batch} "
            f"--dtype {report.dtype})"
        )
    growths = []
    for metric in GROWTH_METRICS:
        before = base.total(metric)
        if before is None:
            continue
        after = actual_total(report, metric)
        passed = after <= before * (1 + allowed)
        growths.append(
            Growth(
                report=report.name,
                source=report.source,
                metric=metric,
                baseline=before,
                actual=after,
                allowed=allowed,
                status=Status.WITHIN if passed else Status.EXCEEDED,
            )
        )
    return tuple(growths), layer_changes(report, base)


def layer_changes(report: Report, base: BaselineReport) -> tuple[LayerChange, ...]:
    """Layers added, removed, or with other params or MACs than in the baseline, by path."""
    before = dict(base.layers)
    after = {
        layer.path: BaselineLayer(kind=layer.kind, params=layer.cost.params, macs=layer.cost.macs)
        for layer in report.layers
    }
    changes = []
    for path, now in after.items():
        old = before.get(path)
        if old is None:
            changes.append(LayerChange(path=path, change=Change.ADDED, before=None, after=now))
        elif old != now:
            changes.append(LayerChange(path=path, change=Change.CHANGED, before=old, after=now))
    changes += [
        LayerChange(path=path, change=Change.REMOVED, before=old, after=None)
        for path, old in before.items()
        if path not in after
    ]
    return tuple(changes)
