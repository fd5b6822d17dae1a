"""Budgets: limits on a network's costs, read from a spec's ``budget:`` and from flags.

A spec's top-level ``budget`` applies to every variant; a variant's own ``budget`` overrides
it metric by metric; command-line flags override both. :func:`evaluate` compares a budget
with a :class:`Report` and returns one typed :class:`Result` per limit.

The loader reads every budget of a spec with :func:`read_budget` as it loads it, so a bad
budget is an error for every command, not only for ``check``.
"""

from __future__ import annotations

import enum
import functools
import re
from typing import TYPE_CHECKING, TypeAlias

from convcost.errors import Location, SpecError
from convcost.int_values import int_value
from convcost.names import check_key, check_keys
from convcost.receptive import Coverage
from convcost.report import Report
from convcost.tree import Map, Scalar, Seq, Value, describe
from convcost.units import BYTE_FORMS, COUNT_FORMS, UnitError, parse_bytes, parse_count
from convcost.valueclasses import dataclass

if TYPE_CHECKING:  # the loader imports this module to read budgets at load
    from fractions import Fraction

    from convcost.spec import Spec, Variant


class Budgeted(enum.StrEnum):
    """A budgeted quantity; the value is its key under ``budget:``."""

    PARAMS = "params"
    MACS = "macs"
    FLOPS = "flops"
    ACTIVATION_MEMORY = "activation_memory"
    PEAK_MEMORY = "peak_memory"
    RECEPTIVE_FIELD = "receptive_field"
    LATENCY = "latency"
    """Estimated on ``--device`` (docs/latency.md); limits are whole nanoseconds."""

    @property
    def flag(self) -> str:
        """The command-line flag that sets it."""
        if self is Budgeted.RECEPTIVE_FIELD:
            return "--min-receptive-field"
        return "--max-" + self.value.replace("_", "-")

    @property
    def is_bytes(self) -> bool:
        return self in (Budgeted.ACTIVATION_MEMORY, Budgeted.PEAK_MEMORY)

    @property
    def description(self) -> str:
        return _descriptions()[self]


@functools.cache
def _descriptions() -> dict[Budgeted, str]:
    """Each quantity's description (``--help``, the JSON schema); made on first use, as the
    latency forms come from :mod:`convcost.latency.quantities`, which ``analyze`` never loads."""
    from convcost.latency.quantities import TIME_FORMS  # noqa: PLC0415

    return {
        Budgeted.PARAMS: f"Maximum parameters: {COUNT_FORMS}.",
        Budgeted.MACS: f"Maximum multiply-accumulates (at the checked batch): {COUNT_FORMS}.",
        Budgeted.FLOPS: f"Maximum FLOPs (2 × MACs): {COUNT_FORMS}.",
        Budgeted.ACTIVATION_MEMORY: "Maximum sum of every layer's output, in bytes at the checked "
        f"--dtype and batch: {BYTE_FORMS}.",
        Budgeted.PEAK_MEMORY: "Maximum peak inference memory (live activations + parameters, "
        f"docs/cost-model.md): {BYTE_FORMS}.",
        Budgeted.RECEPTIVE_FIELD: "Minimum receptive field of the output: {min: N} (every axis) or "
        "{min: [H, W]} (per axis).",
        Budgeted.LATENCY: "Maximum estimated latency on the --device profile (docs/latency.md): "
        f"{TIME_FORMS}.",
    }


RECEPTIVE_KEYS = ("min",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    metric: Budgeted
    value: tuple[int, ...]
    """One value; for the receptive field one per axis, or one for every axis."""
    location: Location | None = None
    """The budget entry in the spec; ``None`` when the limit came from a flag."""

    @property
    def origin(self) -> str:
        return str(self.location) if self.location else self.metric.flag


@dataclass(frozen=True, slots=True)
class Budget:
    limits: tuple[Limit, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.limits)

    def get(self, metric: Budgeted) -> Limit | None:
        for limit in self.limits:
            if limit.metric is metric:
                return limit
        return None

    def overridden_by(self, other: Budget) -> Budget:
        """This budget with ``other``'s limits replacing or adding to it, in metric order."""
        merged = {limit.metric: limit for limit in self.limits}
        merged.update({limit.metric: limit for limit in other.limits})
        return Budget(tuple(merged[m] for m in Budgeted if m in merged))


def read_budget(mapping: Map | None, *, where: str = "budget") -> Budget:
    """The limits of a spec's ``budget:`` mapping; ``where`` prefixes field names in errors."""
    if mapping is None:
        return Budget()
    names = [metric.value for metric in Budgeted]
    limits = []
    for key, value in mapping.entries:
        check_key(key, names, "budget", field=where)
        name = str(key.value)
        metric = Budgeted(name)
        limits.append(
            Limit(
                metric=metric,
                value=_limit_value(metric, value, f"{where}.{name}"),
                location=key.location,
            )
        )
    return Budget(()).overridden_by(Budget(tuple(limits)))


def _limit_value(metric: Budgeted, value: Value, what: str) -> tuple[int, ...]:
    if metric is Budgeted.RECEPTIVE_FIELD:
        return _receptive_limit(value, what)
    problem = _scalar_problem(value)
    if problem is not None:
        raise SpecError(
            f"must be {_forms(metric)}, got {problem}", location=value.location, field=what
        )
    assert isinstance(value, Scalar)
    raw = value.value
    if isinstance(raw, float):
        raw = value.text  # exact: 1.5 is checked as the decimal the user wrote
    try:
        return (_amount(metric, raw),)
    except UnitError as exc:
        raise SpecError(str(exc), location=value.location, field=what) from None


def _forms(metric: Budgeted) -> str:
    if metric is Budgeted.LATENCY:
        from convcost.latency.quantities import TIME_FORMS  # noqa: PLC0415 (a latency budget)

        return TIME_FORMS
    return BYTE_FORMS if metric.is_bytes else COUNT_FORMS


def _amount(metric: Budgeted, raw: object) -> int:
    """A count or a size from an int or text, at most :data:`MAX_INT` (:mod:`convcost.units`
    bounds it), or a latency in nanoseconds; raises :class:`UnitError`."""
    if metric is Budgeted.LATENCY:
        from convcost.latency.quantities import parse_nanoseconds  # noqa: PLC0415 (as above)

        return parse_nanoseconds(raw)
    return parse_bytes(raw) if metric.is_bytes else parse_count(raw)


def _scalar_problem(value: Value) -> str | None:
    """What makes ``value`` no count or size at all (as it reads in a message), if anything."""
    if not isinstance(value, Scalar) or value.value is None or isinstance(value.value, bool):
        return describe(value)
    raw, text = value.value, value.text
    if isinstance(raw, int) and text and not re.fullmatch(r"[-+]?[0-9][0-9_]*", text):
        return f"{text}, which YAML 1.1 reads as {raw}: write the number in decimal digits"
    return None


def _receptive_limit(value: Value, what: str) -> tuple[int, ...]:
    if not isinstance(value, Map):
        raise SpecError(
            f"must be a mapping {{min: N}} or {{min: [H, W]}}, got {describe(value)}",
            location=value.location,
            field=what,
        )
    check_keys(value, RECEPTIVE_KEYS, "key", field=what)
    minimum = value.get("min")
    if minimum is None:
        raise SpecError(
            "needs `min`: the smallest receptive field allowed, e.g. {min: 224}",
            location=value.location,
            field=what,
        )
    if isinstance(minimum, Seq):
        if len(minimum) == 0:
            raise SpecError(
                "needs one value per spatial axis", location=minimum.location, field=f"{what}.min"
            )
        return tuple(int_value(item, minimum=1, layer=None, what=f"{what}.min") for item in minimum)
    return (int_value(minimum, minimum=1, layer=None, what=f"{what}.min"),)


def budget_for(spec: Spec, variant: Variant, flags: Budget = Budget()) -> Budget:
    """The budget that applies to one variant: spec, then the variant's own, then flags."""
    top = read_budget(spec.budget)
    own = read_budget(variant.budget, where=f"variants.{variant.name}.budget")
    return top.overridden_by(own).overridden_by(flags)


class Status(enum.StrEnum):
    WITHIN = "within"
    EXCEEDED = "exceeded"
    UNKNOWN = "unknown"
    """The receptive field could not be determined (branches with different jumps)."""

    @property
    def passed(self) -> bool:
        return self is Status.WITHIN


Actual: TypeAlias = "int | tuple[int | Fraction, ...] | Coverage"
"""A count or bytes; a receptive field per axis; or GLOBAL/UNKNOWN coverage."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """One limit checked against one report."""

    report: str
    """The network's name (the variant's, for a ``variants:`` spec)."""
    source: str
    limit: Limit
    actual: Actual
    margin: float | None
    """Headroom in percent of the limit: 25.0 is 25 % below a maximum (or above a minimum);
    negative when exceeded; ``None`` when it has no meaning (a limit of 0, a global field)."""
    status: Status

    @property
    def metric(self) -> Budgeted:
        return self.limit.metric


def actual_value(report: Report, metric: Budgeted, latency: int | None = None) -> Actual:
    """The figure of ``report`` that ``metric`` limits (at the report's batch and dtype);
    ``latency`` is the report's estimate on the device, in nanoseconds."""
    match metric:
        case Budgeted.LATENCY:
            if latency is None:
                raise SpecError(
                    "a latency budget needs a device to estimate on: give --device NAME|FILE "
                    "(docs/latency.md)"
                )
            return latency
        case Budgeted.PARAMS:
            return report.totals.params
        case Budgeted.MACS:
            return report.totals.macs
        case Budgeted.FLOPS:
            return report.totals.flops
        case Budgeted.ACTIVATION_MEMORY:
            return report.activation_bytes
        case Budgeted.PEAK_MEMORY:
            return report.peak_memory_bytes
        case Budgeted.RECEPTIVE_FIELD:
            field = report.receptive_field
            return field.size if field.coverage is Coverage.LOCAL else field.coverage


def evaluate(budget: Budget, report: Report, latency: int | None = None) -> tuple[Result, ...]:
    """Every limit of ``budget`` against ``report``, in metric order (``latency``: the
    report's estimated latency in nanoseconds, when a device was given)."""
    return tuple(_check(limit, report, latency) for limit in budget.limits)


def _check(limit: Limit, report: Report, latency: int | None = None) -> Result:
    try:
        actual = actual_value(report, limit.metric, latency)
    except SpecError as error:
        error.location = limit.location
        error.field = "budget.latency" if limit.location else None
        raise
    if isinstance(actual, int):
        bound = limit.value[0]
        margin = 100 * (bound - actual) / bound if bound else None
        status = Status.WITHIN if actual <= bound else Status.EXCEEDED
    elif isinstance(actual, Coverage):
        margin = None
        status = Status.WITHIN if actual is Coverage.GLOBAL else Status.UNKNOWN
    else:
        minimum = _per_axis(limit, len(actual))
        margin = min(100 * float((a - m) / m) for a, m in zip(actual, minimum, strict=True))
        passed = all(a >= m for a, m in zip(actual, minimum, strict=True))
        status = Status.WITHIN if passed else Status.EXCEEDED
    return Result(
        report=report.name,
        source=report.source,
        limit=limit,
        actual=actual,
        margin=margin,
        status=status,
    )


def _per_axis(limit: Limit, rank: int) -> tuple[int, ...]:
    if len(limit.value) == 1:
        return limit.value * rank
    if len(limit.value) != rank:
        # name where the limit came from: the spec's budget, or the flag
        name = "receptive_field.min" if limit.location else limit.metric.flag
        raise SpecError(
            f"{name} has {len(limit.value)} values but the network has {rank} spatial axes",
            location=limit.location,
            field="budget.receptive_field.min" if limit.location else None,
        )
    return limit.value
