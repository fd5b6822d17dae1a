"""``check``: specs against their budgets (and a baseline), one outcome per spec.

Pure: specs are loaded through the ``load`` callable the caller passes, and nothing is
printed. An invalid spec becomes an outcome with its error, so the others are still checked.
"""

from __future__ import annotations

import glob
import re
import time
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

from convcost.baseline import BaselineReport, Growth, LayerChange, changes_since, find
from convcost.budget import Budget, Budgeted, Limit, Result, budget_for, evaluate
from convcost.build import build
from convcost.engine import analyze_network
from convcost.errors import ConvcostError, ExitStatus, Location, SpecError
from convcost.latency.estimate import estimate
from convcost.latency.profile import DeviceProfile
from convcost.latency.quantities import parse_nanoseconds
from convcost.limits import MAX_INT
from convcost.spec import Spec
from convcost.units import UnitError, parse_bytes, parse_count, parse_percent
from convcost.valueclasses import dataclass, field, replace

SPEC_SUFFIXES = (".yaml", ".yml")
HOW_TO_BUDGET = (
    "add one to the spec, e.g. `budget: {params: 5M, macs: 600M}`, "
    "or pass --max-params/--max-macs/--max-peak-memory/… or --baseline"
)
NO_BUDGET = f"no budget to check: {HOW_TO_BUDGET}"
MAX_FLAG_LENGTH = 64
"""Characters in a limit flag's value (``--max-params``, ``--max-growth``, …)."""
MAX_AXES = 3
"""Values of ``--min-receptive-field``: one per spatial axis of a 1-D, 2-D or 3-D network."""
_AXES = re.compile(r" *([0-9]+) *(?:[x×,] *([0-9]+) *)?(?:[x×,] *([0-9]+) *)?")


def flag_limit(metric: Budgeted, text: str) -> Limit:
    """A limit given on the command line: ``5M``, ``32MiB``; ``224`` or ``224x192`` for the
    receptive field. Raises :class:`UnitError` (the caller names the flag)."""
    _check_length(text)
    if metric is Budgeted.RECEPTIVE_FIELD:
        match = _AXES.fullmatch(text)
        if match is None or any(part and int(part) < 1 for part in match.groups()):
            raise UnitError(
                "must be an integer >= 1, or one per spatial axis (at most "
                f"{MAX_AXES}) such as 224x224, got {text!r}"
            )
        value = tuple(int(part) for part in match.groups() if part)
    elif metric is Budgeted.LATENCY:
        value = (parse_nanoseconds(text),)
    else:
        value = (parse_bytes(text) if metric.is_bytes else parse_count(text),)
    if max(value) > MAX_INT:
        raise UnitError(f"must be at most {MAX_INT:,}, got {text!r}")
    return Limit(metric=metric, value=value)


def growth_limit(text: str) -> Fraction:
    """``--max-growth``: a percentage such as ``2%`` as a fraction. Raises :class:`UnitError`."""
    _check_length(text)
    return parse_percent(text)


def _check_length(text: str) -> None:
    # bounds the work of parsing: int() of a 5,000-digit text raises ValueError
    if len(text) > MAX_FLAG_LENGTH:
        raise UnitError(f"must be at most {MAX_FLAG_LENGTH} characters, got {len(text):,}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A spec to check, and whether the user named it (rather than a directory holding it)."""

    source: str
    explicit: bool = True
    problem: str | None = None
    """Why the argument gave no spec: an empty directory, a pattern that matches nothing."""


def expand(arguments: Iterable[str]) -> tuple[Target, ...]:
    """Files as given; directories → their ``*.yaml``/``*.yml`` (not recursive); globs expanded.

    A directory without spec files and a pattern that matches nothing are targets with a
    ``problem`` (an error outcome). Any other argument is kept as it is, so that loading it
    reports the error (or finds the bundled model of that name).
    """
    targets: list[Target] = []
    for argument in arguments:
        try:
            targets += _expand(argument)
        except OSError as exc:  # a name too long, a directory that cannot be listed
            problem = f"cannot read {argument!r}: {exc.strerror or exc}"
            targets.append(Target(source=argument, problem=problem))
    return tuple(targets)


def _expand(argument: str) -> list[Target]:
    path = Path(argument)
    if argument == "" or "\x00" in argument:
        problem = "an empty path" if argument == "" else "a path with a NUL character"
        return [Target(source=argument, problem=f"{argument!r} is {problem}")]
    if path.is_dir():
        found = [
            Target(source=str(found), explicit=False)
            for found in sorted(path.iterdir())
            if found.suffix in SPEC_SUFFIXES and found.is_file()
        ]
        empty = f"{argument}: no spec files (*.yaml, *.yml) in this directory"
        return found or [Target(source=argument, problem=empty)]
    if glob.has_magic(argument) and not path.exists():
        matches = sorted(glob.glob(argument, recursive=True))
        nothing = f"{argument}: no file matches this pattern"
        return [Target(source=match) for match in matches] or [
            Target(source=argument, problem=nothing)
        ]
    return [Target(source=argument)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    flags: Budget = field(default_factory=Budget)
    """Limits from the command line; they override the spec's."""
    batch: int = 1
    dtype: str = "float32"
    baseline: tuple[BaselineReport, ...] | None = None
    max_growth: Fraction = Fraction(0)
    skip_unbudgeted: bool = False
    """Skip specs without a budget even when named explicitly (the pre-commit hook's mode)."""
    convention: str | None = None
    """A peer's convention (``check --convention``): MACs and FLOPs budgets are checked
    against its figure (:func:`convcost.conventions.count.budget_report`)."""
    device: DeviceProfile | None = None
    """The profile a ``latency`` budget is estimated on (``--device``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What checking one spec found."""

    source: str
    name: str | None = None
    """The spec's name (``None`` when it could not be loaded)."""
    results: tuple[Result, ...] = ()
    growths: tuple[Growth, ...] = ()
    changes: tuple[tuple[str, tuple[LayerChange, ...]], ...] = ()
    """Per network name: the layers that differ from the baseline."""
    notes: tuple[str, ...] = ()
    """Informational: a spec skipped for lack of a budget, a network missing from the baseline."""
    error: ConvcostError | None = None
    skipped: bool = False
    seconds: float = 0.0
    """Wall time to load, build, analyse and check the spec."""
    network_seconds: tuple[tuple[str, float], ...] = ()
    """Per network name: wall time to build and analyse it."""

    @property
    def failed(self) -> bool:
        return any(not item.status.passed for item in self.results) or any(
            not item.status.passed for item in self.growths
        )


@dataclass(frozen=True, slots=True)
class CheckRun:
    outcomes: tuple[Outcome, ...]

    @property
    def exit_status(self) -> ExitStatus:
        """2 when a spec, a flag or the baseline is invalid; else 4 when a spec is past a
        resource bound (``--max-layers``); else 1 when anything exceeds its budget; else 0."""
        errors = [outcome.error.exit_status for outcome in self.outcomes if outcome.error]
        if errors:
            return ExitStatus.INVALID_INPUT if ExitStatus.INVALID_INPUT in errors else max(errors)
        if any(outcome.failed for outcome in self.outcomes):
            return ExitStatus.BUDGET_EXCEEDED
        return ExitStatus.OK


def check(
    targets: Iterable[Target],
    load: Callable[[str], Spec],
    options: Options,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> CheckRun:
    """Check every target; an error in one is recorded and the others are still checked."""
    outcomes = []
    for target in targets:
        start = clock()
        if target.problem is not None:
            outcome = Outcome(source=target.source, error=ConvcostError(target.problem))
        else:
            try:
                spec = load(target.source)
                outcome = check_spec(spec, options, explicit=target.explicit, clock=clock)
            except ConvcostError as error:
                outcome = Outcome(source=target.source, error=error)
        outcomes.append(replace(outcome, seconds=clock() - start))
    if not outcomes:
        problem = ConvcostError("no spec files to check")
        outcomes.append(Outcome(source="<none>", error=problem))
    elif all(outcome.skipped for outcome in outcomes) and not options.skip_unbudgeted:
        problem = ConvcostError(f"none of the {len(outcomes)} specs has a budget; {HOW_TO_BUDGET}")
        outcomes.append(Outcome(source="<all>", error=problem))
    return CheckRun(tuple(outcomes))


def check_spec(
    spec: Spec,
    options: Options,
    *,
    explicit: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> Outcome:
    """One spec's variants against their budgets and, with a baseline, against it.

    An error without a location (a flag that does not fit the network, a baseline made with
    other options) is given the spec's first line, so that its message names the spec.
    """
    try:
        return _check_spec(spec, options, explicit=explicit, clock=clock)
    except ConvcostError as error:
        if error.location is None:
            error.location = Location(spec.source, 1, 1)
        raise


def _check_spec(
    spec: Spec, options: Options, *, explicit: bool, clock: Callable[[], float]
) -> Outcome:
    budgets = [budget_for(spec, variant, options.flags) for variant in spec.variants]
    if not any(budgets) and options.baseline is None:
        if not explicit or options.skip_unbudgeted:
            return Outcome(
                source=spec.source, name=spec.name, skipped=True, notes=("skipped: no budget",)
            )
        raise SpecError(NO_BUDGET, location=Location(spec.source, 1, 1))
    results: list[Result] = []
    growths: list[Growth] = []
    changes: list[tuple[str, tuple[LayerChange, ...]]] = []
    notes: list[str] = []
    seconds: list[tuple[str, float]] = []
    for variant, budget in zip(spec.variants, budgets, strict=True):
        start = clock()
        network = build(spec, variant)
        report = analyze_network(
            network, batch=options.batch, dtype=options.dtype, source=spec.source
        )
        if options.convention is not None:  # check --convention: a peer's MACs figure
            from convcost.conventions import convention  # noqa: PLC0415 (only with the flag)
            from convcost.conventions.count import budget_report  # noqa: PLC0415

            report = budget_report(network, report, convention(options.convention))
        if not budget and options.baseline is None:
            notes.append(f"{report.name}: no budget")
        notes += [f"{report.name}: {note}" for note in report.notes]
        latency = None
        if options.device is not None and budget.get(Budgeted.LATENCY) is not None:
            latency = round(estimate(report, options.device).seconds * 1e9)
        results += evaluate(budget, report, latency)
        if options.baseline is not None:
            base = find(options.baseline, report)
            if base is None:
                notes.append(f"{report.name}: not in the baseline (new): no growth to check")
            else:
                grown, changed = changes_since(report, base, options.max_growth)
                growths += grown
                if changed:
                    changes.append((report.name, changed))
        seconds.append((report.name, clock() - start))
    return Outcome(
        source=spec.source,
        name=spec.name,
        results=tuple(results),
        growths=tuple(growths),
        changes=tuple(changes),
        notes=tuple(notes),
        network_seconds=tuple(seconds),
    )
