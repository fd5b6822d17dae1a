"""Regressions against a stored ``convcost analyze --format json`` output.

:func:`load_baseline` reads the file (one report object, or an array of them) and checks
every value it uses; :func:`find` picks the baseline report of a network by its identity
(name and spec path, docs/ci.md); :func:`changes_since` measures how much params, MACs and
peak memory grew since the baseline and which layers were added, removed or changed cost, by
path.
"""

from __future__ import annotations

import enum
import json
import re
import stat
from fractions import Fraction
from itertools import accumulate
from pathlib import Path
from typing import NoReturn

from convcost.budget import Status
from convcost.errors import ConvcostError, ResourceLimitError
from convcost.limits import MAX_BASELINE_BYTES, MAX_INT, MAX_NESTING
from convcost.report import DTYPE_BYTES, Report
from convcost.spec_bytes import BOM
from convcost.valueclasses import dataclass

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
    """The reports of a JSON baseline (one report object, or an array of them).

    A file that is missing, not a regular file, over :data:`MAX_BASELINE_BYTES`, not UTF-8,
    not JSON, nested deeper than :data:`MAX_NESTING` or holding a value that is not what
    ``analyze --format json`` writes is a :class:`ConvcostError` naming the file and the JSON
    path of the value (``.[0].totals.params``); a file over the size bound is a
    :class:`ResourceLimitError`.
    """
    data = _read(path)
    try:
        text = data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + len(data) - len(data.removeprefix(BOM))  # in the file
        raise ConvcostError(
            f"baseline file {path} is not UTF-8: byte 0x{data[offset]:02x} at offset {offset}"
        ) from None
    depth = _nesting(data)
    if depth > MAX_NESTING:
        raise ConvcostError(
            f"{path}: the baseline is nested {depth} levels deep, more than the "
            f"{MAX_NESTING} allowed; not a `convcost analyze --format json` output"
        )
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_Number, parse_constant=_Number)
    except json.JSONDecodeError as exc:
        raise ConvcostError(
            f"{path}:{exc.lineno}:{exc.colno}: the baseline is not JSON: {exc.msg}"
        ) from None
    return _Reader(path).reports(data)


def _read(path: Path) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConvcostError(f"no such baseline file: {path}") from None
    except OSError as exc:
        raise ConvcostError(f"cannot read baseline file {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConvcostError(f"{path} is a directory, not a baseline file")
    if not stat.S_ISREG(info.st_mode):
        raise ConvcostError(
            f"{path} is not a regular file (a FIFO, device or socket); write the baseline "
            "to a file first"
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BASELINE_BYTES + 1)
    except OSError as exc:
        raise ConvcostError(f"cannot read baseline file {path}: {exc.strerror}") from None
    if info.st_size > MAX_BASELINE_BYTES or len(data) > MAX_BASELINE_BYTES:
        raise ResourceLimitError(
            f"baseline file {path} is larger than {MAX_BASELINE_BYTES:,} bytes (64 MiB), "
            "the most convcost reads"
        )
    return data


_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_MARK = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _nesting(data: bytes) -> int:
    """The deepest nesting of arrays and objects, without recursion: escapes dropped, then
    every byte but quotes and brackets, then what lies between quotes (UTF-8 never encodes
    another character with these bytes)."""
    if b"\\" in data:
        data = _ESCAPE.sub(b"", data)
    marks = data.translate(None, _NOT_MARK)
    outside = b"".join(marks.split(b'"')[::2])
    return max(accumulate(map(_STEP.__getitem__, outside)), default=0)


class _Number(str):
    """A JSON number that is not a count, kept as written: ``1.7``, ``1e400``, ``NaN``."""

    __slots__ = ()


MAX_INT_DIGITS = len(str(MAX_INT))


def _integer(text: str) -> int | _Number:
    # past 19 digits it cannot be a valid count; int() of a 5,000-digit text raises
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else _Number(text)


def _shown(value: object) -> str:
    """A JSON value as the user wrote it (abridged), for messages."""
    match value:
        case _Number():
            text = str(value)
            return text if len(text) <= 24 else f"{text[:12]}… (a {len(text)}-character number)"
        case bool():
            return "true" if value else "false"
        case None:
            return "null"
        case int():
            return str(value)
        case str():
            return repr(value) if len(value) <= 40 else repr(value[:40]) + "…"
        case list():
            return "an array"
        case dict():
            return "an object"
    raise AssertionError(f"not a JSON value: {type(value).__name__}")


class _Reader:
    """Checks a parsed baseline value by value; errors name the file and the JSON path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> NoReturn:
        raise ConvcostError(f"{self.path}: {where}: {message}")

    def reports(self, data: object) -> tuple[BaselineReport, ...]:
        if isinstance(data, list):
            if not data:
                raise ConvcostError(f"{self.path}: the baseline is an empty array, no report")
            return tuple(self.report(item, f".[{i}]") for i, item in enumerate(data))
        if isinstance(data, dict):
            return (self.report(data, ""),)
        raise ConvcostError(
            f"{self.path}: the baseline must be a report object or an array of them "
            f"(`convcost analyze --format json`), got {_shown(data)}"
        )

    def report(self, item: object, where: str) -> BaselineReport:
        """One report, its values checked in the order ``analyze`` writes them."""
        item = self.mapping(item, where or ".")
        name = self.text(item, "name", where)
        source = self.text(item, "source", where)
        batch = self.count(item, "batch", where, minimum=1)
        dtype = self.text(item, "dtype", where)
        if dtype not in DTYPE_BYTES:
            self.fail(
                f"{where}.dtype", f"must be one of {', '.join(DTYPE_BYTES)}, got {_shown(dtype)}"
            )
        totals = self.mapping(self.get(item, "totals", where), f"{where}.totals")
        counts = [self.count(totals, key, f"{where}.totals") for key in ("params", "macs")]
        peak = None
        if totals.get("peak_memory_bytes") is not None:  # absent from older baselines
            peak = self.count(totals, "peak_memory_bytes", f"{where}.totals")
        layers = self.get(item, "layers", where)
        if not isinstance(layers, list):
            self.fail(f"{where}.layers", f"must be an array, got {_shown(layers)}")
        return BaselineReport(
            name=name,
            source=source,
            batch=batch,
            dtype=dtype,
            totals=(("params", counts[0]), ("macs", counts[1]), ("peak_memory", peak)),
            layers=tuple(
                self.layer(layer, f"{where}.layers[{i}]") for i, layer in enumerate(layers)
            ),
        )

    def layer(self, value: object, where: str) -> tuple[str, BaselineLayer]:
        layer = self.mapping(value, where)
        return self.text(layer, "path", where), BaselineLayer(
            kind=self.text(layer, "kind", where),
            params=self.count(layer, "params", where),
            macs=self.count(layer, "macs", where),
        )

    def mapping(self, value: object, where: str) -> dict[str, object]:
        if not isinstance(value, dict):
            self.fail(where, f"must be an object, got {_shown(value)}")
        return value

    def get(self, mapping: dict[str, object], key: str, where: str) -> object:
        if key not in mapping:
            self.fail(f"{where}.{key}", "missing; not a `convcost analyze --format json` output")
        return mapping[key]

    def count(self, mapping: dict[str, object], key: str, where: str, minimum: int = 0) -> int:
        value = self.get(mapping, key, where)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_INT:
            self.fail(
                f"{where}.{key}",
                f"must be an integer from {minimum} to {MAX_INT} (2**63 - 1), got {_shown(value)}",
            )
        return value

    def text(self, mapping: dict[str, object], key: str, where: str) -> str:
        value = self.get(mapping, key, where)
        if not isinstance(value, str) or isinstance(value, _Number):
            self.fail(f"{where}.{key}", f"must be a string, got {_shown(value)}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail(
                f"{where}.{key}", f"must be valid Unicode, got {_shown(value)} (a lone surrogate)"
            )
        return value


def find(baselines: tuple[BaselineReport, ...], report: Report) -> BaselineReport | None:
    """The baseline report that stands for ``report``, or ``None`` if it is new.

    The identity of a network is its name plus the path of its spec file, compared from the
    end: a baseline report matches when it has the same name and its ``source`` ends in the
    same file name, and among those the one sharing the most trailing path components wins
    (``/tmp/base/specs/a.yaml`` matches ``specs/a.yaml`` and ``/ci/pr/specs/a.yaml``, and
    ``specs/a.yaml`` is preferred to ``models/a.yaml``; ``specs/b.yaml`` never matches). So
    a baseline made in another checkout, a worktree or a temporary directory matches, and
    variant names repeated across specs never cross. A tie between different sources is
    ambiguous: a :class:`ConvcostError`.
    """
    mine = source_parts(report.source)
    best: list[BaselineReport] = []
    best_shared = 0
    for base in baselines:
        if base.name != report.name:
            continue
        shared = _shared_suffix(mine, source_parts(base.source))
        if shared > best_shared:
            best, best_shared = [base], shared
        elif shared == best_shared and shared > 0:
            best.append(base)
    sources = sorted({base.source for base in best})
    if len(sources) > 1:
        raise ConvcostError(
            f"network {report.name!r} matches {len(sources)} reports of the "
            f"baseline equally well (sources {', '.join(map(repr, sources))}); make the "
            "baseline from one copy of each spec"
        )
    return best[0] if best else None


def source_parts(source: str) -> tuple[str, ...]:
    """A spec path's components (``/`` or ``\\`` separated), without empty or ``.`` ones."""
    return tuple(part for part in re.split(r"[/\\]", source) if part not in ("", "."))


def _shared_suffix(first: tuple[str, ...], second: tuple[str, ...]) -> int:
    shared = 0
    for a, b in zip(reversed(first), reversed(second), strict=False):
        if a != b:
            break
        shared += 1
    return shared


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


def changes_since(
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
