"""``check``: specs against their budgets (and a baseline), one outcome per spec.

Pure: specs are loaded through the ``load`` callable the caller passes, and nothing is
printed. An invalid spec becomes an outcome with its error, so the others are still checked.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from convcost.baseline import BaselineReport, Growth, LayerChange, compare, find
from convcost.budget import Budget, Result, budget_for, evaluate
from convcost.build import build
from convcost.engine import analyze_network
from convcost.errors import ConvcostError, ExitStatus, Location, SpecError
from convcost.spec import Spec

SPEC_SUFFIXES = (".yaml", ".yml")
HOW_TO_BUDGET = (
    "add one to the spec, e.g. `budget: {params: 5M, macs: 600M}`, "
    "or pass --max-params/--max-macs/--max-peak-memory/… or --baseline"
)
NO_BUDGET = f"no budget to check: {HOW_TO_BUDGET}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A spec to check, and whether the user named it (rather than a directory holding it)."""

    source: str
    explicit: bool = True


def expand(arguments: Iterable[str]) -> tuple[Target, ...]:
    """Files as given; directories → their ``*.yaml``/``*.yml`` (not recursive); globs expanded.

    An argument that matches nothing is kept as it is, so that loading it reports the error
    (or finds the bundled model of that name).
    """
    targets: list[Target] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            targets += [
                Target(source=str(found), explicit=False)
                for found in sorted(path.iterdir())
                if found.suffix in SPEC_SUFFIXES and found.is_file()
            ]
        elif glob.has_magic(argument) and not path.exists():
            matches = sorted(glob.glob(argument, recursive=True))
            targets += [Target(source=match) for match in matches] or [Target(source=argument)]
        else:
            targets.append(Target(source=argument))
    return tuple(targets)


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    flags: Budget = field(default_factory=Budget)
    """Limits from the command line; they override the spec's."""
    batch: int = 1
    dtype: str = "float32"
    baseline: tuple[BaselineReport, ...] | None = None
    max_growth: Fraction = Fraction(0)


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
        """2 when a spec is invalid, else 1 when anything exceeds its budget, else 0."""
        if any(outcome.error for outcome in self.outcomes):
            return ExitStatus.INVALID_INPUT
        if any(outcome.failed for outcome in self.outcomes):
            return ExitStatus.BUDGET_EXCEEDED
        return ExitStatus.OK


def check(targets: Iterable[Target], load: Callable[[str], Spec], options: Options) -> CheckRun:
    """Check every target; an error in one is recorded and the others are still checked."""
    outcomes = []
    for target in targets:
        try:
            outcomes.append(check_spec(load(target.source), options, explicit=target.explicit))
        except ConvcostError as error:
            outcomes.append(Outcome(source=target.source, error=error))
    if not outcomes:
        problem = ConvcostError("no spec files to check (a directory holds none?)")
        outcomes.append(Outcome(source="<none>", error=problem))
    elif all(outcome.skipped for outcome in outcomes):
        problem = ConvcostError(f"none of the {len(outcomes)} specs has a budget; {HOW_TO_BUDGET}")
        outcomes.append(Outcome(source="<all>", error=problem))
    return CheckRun(tuple(outcomes))


def check_spec(spec: Spec, options: Options, *, explicit: bool = True) -> Outcome:
    """One spec's variants against their budgets and, with a baseline, against it."""
    budgets = [budget_for(spec, variant, options.flags) for variant in spec.variants]
    if not any(budgets) and options.baseline is None:
        if not explicit:
            return Outcome(
                source=spec.source, name=spec.name, skipped=True, notes=("skipped: no budget",)
            )
        raise SpecError(NO_BUDGET, location=Location(spec.source, 1, 1))
    results: list[Result] = []
    growths: list[Growth] = []
    changes: list[tuple[str, tuple[LayerChange, ...]]] = []
    notes: list[str] = []
    for variant, budget in zip(spec.variants, budgets, strict=True):
        report = analyze_network(
            build(spec, variant), batch=options.batch, dtype=options.dtype, source=spec.source
        )
        if not budget and options.baseline is None:
            notes.append(f"{report.name}: no budget")
        results += evaluate(budget, report)
        if options.baseline is not None:
            base = find(options.baseline, report)
            if base is None:
                notes.append(f"{report.name}: not in the baseline (new)")
                continue
            grown, changed = compare(report, base, options.max_growth)
            growths += grown
            if changed:
                changes.append((report.name, changed))
    return Outcome(
        source=spec.source,
        name=spec.name,
        results=tuple(results),
        growths=tuple(growths),
        changes=tuple(changes),
        notes=tuple(notes),
    )
