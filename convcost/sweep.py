"""Sweeps: a spec's ``params:`` over a grid or random samples, every point analyzed, and the
Pareto front of the points that fit a budget.

A point binds some of the spec's parameters (:data:`Point`); :func:`grid` makes the cartesian
product of :class:`Axis` values, :func:`sample` draws points from :class:`Range` and
:class:`Axis` values with a seeded generator. :func:`run` loads the spec text once per worker
process, analyzes every point with ``parse_spec(text, params=point)`` and the public engine,
checks each against a :class:`~convcost.budget.Budget` (the spec's own ``budget:`` overridden by
the caller's limits, as ``check`` does) and returns a :class:`Sweep`: one :class:`Evaluation`
per point, in the points' order whatever the number of processes, and the Pareto front over
the chosen :class:`Objective` values (:func:`pareto_front`).

Directions: every cost (params, MACs, FLOPs, activation and peak memory) is minimised, the
receptive field is maximised (its smallest axis; a global field is infinite); a parameter
(``max:width``) goes the way its prefix says.
"""

from __future__ import annotations

import enum
import gc
import itertools
import math
import multiprocessing
import os
import random
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction

from convcost.budget import Actual, Budget, Budgeted, Status, actual_value, budget_for, evaluate
from convcost.engine import analyze
from convcost.errors import ConvcostError, ExitStatus, SpecError
from convcost.limits import DEFAULT_LIMITS, Limits
from convcost.names import did_you_mean
from convcost.params import ParamValue, parse_value
from convcost.receptive import Coverage
from convcost.spec import Spec, parse_spec
from convcost.valueclasses import dataclass, field

Point = tuple[tuple[str, ParamValue], ...]
"""The parameters one point sets, in the sweep's axis order."""
FLOAT_DIGITS = 3
"""Decimals a float drawn from a range without a step is rounded to (so that it prints, and
``--set`` reproduces it, exactly)."""
MAX_POINTS = 100_000
"""The most points a sweep evaluates (about ten minutes of MobileNetV2 on two cores)."""

METRICS = tuple(metric for metric in Budgeted if metric is not Budgeted.LATENCY)
"""The metrics a point is measured by: every budget metric but latency, which needs a device
profile (``--device``) that a sweep does not take."""


class SweepError(SpecError):
    """A sweep that cannot run: an unknown parameter, a bad value, an empty grid (exit 2)."""


# -- points --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Axis:
    """A parameter and the values it takes (``--grid width=0.5,0.75,1.0``)."""

    name: str
    values: tuple[ParamValue, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Range:
    """A parameter drawn between two bounds, both included (``--range width=0.35:1.4``).

    Integer bounds draw integers; a decimal bound draws floats rounded to
    :data:`FLOAT_DIGITS` decimals; a step (``128:224:32``) draws from ``low, low + step, …``.
    """

    name: str
    low: int | float
    high: int | float
    step: int | float | None = None

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) for v in (self.low, self.high, self.step or 1))

    def draw(self, generator: random.Random) -> int | float:
        if self.step is not None:
            steps = int((self.high - self.low) / self.step + 1e-9)
            value = self.low + generator.randint(0, steps) * self.step
            return value if isinstance(value, int) else round(value, 12)
        if self.integer:
            return generator.randint(int(self.low), int(self.high))
        return round(generator.uniform(self.low, self.high), FLOAT_DIGITS)


def parse_axis(text: str) -> Axis:
    """``NAME=V1,V2,…`` (one ``--grid``) as an :class:`Axis`; values read as ``--set`` reads
    them (``0.75`` a float, ``224`` an integer)."""
    name, values = _assignment("--grid", text, "NAME=V1,V2,…, e.g. --grid width=0.5,0.75,1.0")
    parsed: list[ParamValue] = []
    for position, item in enumerate(values.split(","), start=1):
        if not item.strip():
            raise SweepError(f"--grid {text}: value {position} is empty")
        parsed.append(parse_value(item.strip()))
    if len(set(map(repr, parsed))) != len(parsed):
        raise SweepError(f"--grid {text}: a value is listed twice")
    return Axis(name=name, values=tuple(parsed))


def parse_range(text: str) -> Range:
    """``NAME=LOW:HIGH[:STEP]`` (one ``--range``) as a :class:`Range`."""
    example = "NAME=LOW:HIGH[:STEP], e.g. --range width=0.35:1.4"
    name, bounds = _assignment("--range", text, example)
    parts = [parse_value(part.strip()) for part in bounds.split(":")]
    numbers = [p for p in parts if isinstance(p, int | float) and not isinstance(p, bool)]
    if len(parts) not in (2, 3) or len(numbers) != len(parts):
        raise SweepError(f"--range {text}: expected {example}")
    low, high = numbers[0], numbers[1]
    step = numbers[2] if len(numbers) == 3 else None
    if low > high:
        raise SweepError(f"--range {text}: the low bound {low} is above the high bound {high}")
    if step is not None and step <= 0:
        raise SweepError(f"--range {text}: the step must be above 0, got {step}")
    return Range(name=name, low=low, high=high, step=step)


def _assignment(flag: str, text: str, example: str) -> tuple[str, str]:
    name, equals, values = text.partition("=")
    name = name.strip()
    if not equals or not name or not values.strip():
        raise SweepError(f"{flag} {text}: expected {example}")
    return name, values


def check_names(
    spec: Spec, axes: Sequence[Axis], ranges: Sequence[Range] = (), *, fixed: Sequence[str] = ()
) -> None:
    """Every swept name is a parameter ``spec`` declares, swept once and not also ``--set``;
    a value is a number where the parameter's default is one (true/false where it is)."""
    declared = {param.name: param.default for param in spec.params}
    seen: set[str] = set()
    for name in swept_names(axes, ranges):
        if name not in declared:
            listed = ", ".join(declared) if declared else "none (add a `params:` mapping)"
            raise SweepError(
                f"{spec.source}: cannot sweep {name!r}: the spec declares no such parameter"
                f"{did_you_mean(name, declared)}; its parameters: {listed}"
            )
        if name in seen:
            raise SweepError(f"parameter {name!r} is swept twice")
        if name in fixed:
            raise SweepError(f"parameter {name!r} is both swept and set with --set")
        seen.add(name)
    for axis in axes:
        default = declared[axis.name]
        for value in axis.values:
            if _kind(value) != _kind(default):
                raise SweepError(
                    f"--grid {axis.name}: {_shown(value)} is not {_kind(default)} "
                    f"(the default of {axis.name} is {_shown(default)})"
                )
    for range_ in ranges:
        default = declared[range_.name]
        if _kind(default) != "a number":
            raise SweepError(
                f"--range {range_.name}: the parameter is not a number "
                f"(its default is {_shown(default)})"
            )
        if isinstance(default, int) and not range_.integer:
            raise SweepError(
                f"--range {range_.name}: the default of {range_.name} is an integer "
                f"({default}): give integer bounds (and step), or decimal ones for a float"
            )


def _kind(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true or false"
    return "text" if isinstance(value, str) else "a number"


def _shown(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def grid(axes: Sequence[Axis]) -> tuple[Point, ...]:
    """Every combination of the axes' values, the last axis varying fastest."""
    if not axes:
        raise SweepError("nothing to sweep: give --grid NAME=V1,V2,… or --random N --range …")
    count = math.prod(len(axis.values) for axis in axes)
    if count > MAX_POINTS:
        raise SweepError(f"the grid has {count:,} points; a sweep takes at most {MAX_POINTS:,}")
    names = [axis.name for axis in axes]
    return tuple(
        tuple(zip(names, values, strict=True))
        for values in itertools.product(*(axis.values for axis in axes))
    )


def sample(
    count: int, ranges: Sequence[Range], axes: Sequence[Axis] = (), *, seed: int = 0
) -> tuple[Point, ...]:
    """``count`` points drawn with ``random.Random(seed)``: each range in turn, then one value
    of each axis; a point drawn twice is kept once (in the order first drawn)."""
    if not ranges and not axes:
        raise SweepError("--random needs at least one --range NAME=LOW:HIGH (or --grid)")
    if not 1 <= count <= MAX_POINTS:
        raise SweepError(f"--random takes 1 to {MAX_POINTS:,} points, got {count:,}")
    generator = random.Random(seed)
    points: dict[Point, None] = {}
    for _ in range(count):
        drawn: list[tuple[str, ParamValue]] = [(r.name, r.draw(generator)) for r in ranges]
        drawn += [(axis.name, generator.choice(axis.values)) for axis in axes]
        points.setdefault(tuple(drawn), None)
    return tuple(points)


# -- objectives and the Pareto front -------------------------------------------------------------


class Direction(enum.StrEnum):
    MIN = "min"
    MAX = "max"


@dataclass(frozen=True, slots=True, kw_only=True)
class Objective:
    """A metric (:class:`Budgeted`) or a swept parameter, and the direction that is better."""

    name: str
    direction: Direction
    metric: Budgeted | None = None
    """None for a parameter."""

    @property
    def label(self) -> str:
        default = self.metric is not None and self.direction is _default_direction(self.metric)
        return self.name if default else f"{self.direction}:{self.name}"


DEFAULT_OBJECTIVES = "macs,params,peak_memory"


def _default_direction(metric: Budgeted) -> Direction:
    return Direction.MAX if metric is Budgeted.RECEPTIVE_FIELD else Direction.MIN


def parse_objectives(text: str, swept: Sequence[str]) -> tuple[Objective, ...]:
    """``macs,params,peak_memory``; ``max:NAME``/``min:NAME`` for a swept parameter (or to turn
    a metric's direction)."""
    metrics = [metric.value for metric in METRICS]
    objectives: list[Objective] = []
    for item in (part.strip() for part in text.split(",")):
        prefix, colon, name = item.rpartition(":")
        if colon and prefix not in ("min", "max"):
            raise SweepError(f"--objectives {text}: {item!r}: the prefix is min: or max:")
        if name in metrics:
            metric = Budgeted(name)
            way = Direction(prefix) if colon else _default_direction(metric)
            objectives.append(Objective(name=name, direction=way, metric=metric))
        elif name in swept and colon:
            objectives.append(Objective(name=name, direction=Direction(prefix)))
        elif name in swept:
            raise SweepError(
                f"--objectives {text}: say whether more {name} is better: max:{name} or min:{name}"
            )
        else:
            known = [*metrics, *swept]
            raise SweepError(
                f"--objectives {text}: unknown objective {name!r}{did_you_mean(name, known)}; "
                f"metrics: {', '.join(metrics)}; swept parameters: {', '.join(swept) or 'none'}"
            )
    if len({o.name for o in objectives}) != len(objectives):
        raise SweepError(f"--objectives {text}: an objective is listed twice")
    return tuple(objectives)


Score = int | float | Fraction
"""An objective's value, made smaller-is-better (a maximised one is negated)."""


def pareto_front(scores: Sequence[Sequence[Score]]) -> tuple[int, ...]:
    """The indices of the vectors no other vector dominates (at most as large in every objective
    and smaller in one), smallest vector first (lexicographically; ties by index). Equal vectors
    do not dominate each other: both are on the front.

    Scanned in lexicographic order, a vector can only be dominated by one before it that is
    itself on the front, so each is compared with the front so far: O(n · front).
    """
    order = sorted(range(len(scores)), key=lambda i: (tuple(scores[i]), i))
    front: list[int] = []
    for index in order:
        vector = scores[index]
        if not any(_dominates(scores[kept], vector) for kept in front):
            front.append(index)
    return tuple(front)


def _dominates(a: Sequence[Score], b: Sequence[Score]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


# -- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """One point analyzed: its metrics and whether it fits the budget, or why it failed."""

    index: int
    """The point's position in the sweep (0-based)."""
    point: Point
    metrics: tuple[Actual, ...] = ()
    """One value per :class:`Budgeted` metric, in its order (empty when the point failed)."""
    exceeded: tuple[Budgeted, ...] = ()
    """The limits the point breaks (a receptive field that cannot be determined breaks a
    minimum)."""
    error: str | None = None
    """The one-line error that made the point fail (a shape that does not fit, a channel count
    that is not an integer)."""
    status: ExitStatus = ExitStatus.OK
    """The exit status of that error."""

    @property
    def fits(self) -> bool:
        return self.error is None and not self.exceeded

    def metric(self, metric: Budgeted) -> Actual:
        return self.metrics[METRICS.index(metric)]

    def value(self, objective: Objective) -> ParamValue | Actual:
        if objective.metric is not None:
            return self.metric(objective.metric)
        return dict(self.point)[objective.name]

    def score(self, objective: Objective) -> Score:
        value = self.value(objective)
        number = _number(value, objective.name)
        return -number if objective.direction is Direction.MAX else number


def _number(value: ParamValue | Actual, name: str) -> Score:
    if isinstance(value, Coverage):
        return math.inf if value is Coverage.GLOBAL else -math.inf
    if isinstance(value, tuple):
        return min(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SweepError(f"objective {name!r} needs numbers, got {_shown(value)}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Sweep:
    """Every point of a sweep, evaluated, and its Pareto front."""

    name: str
    source: str
    variant: str | None
    """The variant swept, for a ``variants:`` spec."""
    axes: tuple[str, ...]
    """The swept parameters, in the order each point lists them."""
    fixed: tuple[tuple[str, ParamValue], ...]
    """Parameters set for every point (``--set``)."""
    objectives: tuple[Objective, ...]
    budget: Budget
    evaluations: tuple[Evaluation, ...]
    front: tuple[int, ...]
    """Indices of the points on the Pareto front of those that fit, best first (see
    :func:`pareto_front`)."""

    @property
    def failed(self) -> tuple[Evaluation, ...]:
        return tuple(e for e in self.evaluations if e.error is not None)

    @property
    def fitting(self) -> tuple[Evaluation, ...]:
        return tuple(e for e in self.evaluations if e.fits)


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """What every point shares: the spec text and how each point is analyzed."""

    text: str
    source: str
    fixed: tuple[tuple[str, ParamValue], ...] = ()
    variant: str | None = None
    batch: int = 1
    dtype: str = "float32"
    flags: Budget = field(default_factory=Budget)
    limits: Limits = DEFAULT_LIMITS

    def spec(self, point: Point = ()) -> Spec:
        """The spec at ``point`` (and the fixed parameters)."""
        params: dict[str, str | int | float] = {**dict(self.fixed), **dict(point)}
        return parse_spec(self.text, source=self.source, limits=self.limits, params=params)


def evaluate_point(setting: Setting, index: int, point: Point) -> Evaluation:
    """Load the spec at ``point`` and analyze it; a point that fails keeps its error."""
    try:
        spec = setting.spec(point)
        report = analyze(spec, variant=setting.variant, batch=setting.batch, dtype=setting.dtype)
        chosen = spec.variants[0]
        if setting.variant is not None:
            chosen = next(v for v in spec.variants if v.name == setting.variant)
        results = evaluate(budget_for(spec, chosen, setting.flags), report)
    except ConvcostError as error:
        return Evaluation(index=index, point=point, error=str(error), status=error.exit_status)
    return Evaluation(
        index=index,
        point=point,
        metrics=tuple(actual_value(report, metric) for metric in METRICS),
        exceeded=tuple(r.metric for r in results if r.status is not Status.WITHIN),
    )


_WORKER: dict[str, Setting] = {}
"""The setting a worker process was started with, under ``"setting"`` (loaded once per
worker)."""


def _start_worker(setting: Setting) -> None:
    # Ctrl-C is the parent's to handle: it stops the pool, and no worker prints a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER["setting"] = setting
    gc.freeze()  # what the worker loaded stays out of every collection (convcost.cli.entry)
    gc.set_threshold(100_000, 50, 100)


def _evaluate_chunk(chunk: list[tuple[int, Point]]) -> list[Evaluation]:
    setting = _WORKER["setting"]
    return [evaluate_point(setting, index, point) for index, point in chunk]


def run(
    setting: Setting,
    points: Sequence[Point],
    objectives: Sequence[Objective],
    *,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Sweep:
    """Evaluate ``points`` of the spec ``setting.text`` in ``jobs`` processes (default: every
    core; 1 runs here) and find the Pareto front of those that fit.

    The points' parameters are checked first (:func:`check_names`). ``progress`` is called
    with the number of points finished after each batch. The result does not depend on
    ``jobs``.
    """
    if not points:
        raise SweepError("the sweep has no points")
    spec = setting.spec()
    swept = [
        Axis(name=name, values=tuple(dict(point)[name] for point in points))
        for name, _ in points[0]
    ]
    check_names(spec, swept, fixed=[name for name, _ in setting.fixed])
    variants = [v.name for v in spec.variants]
    if setting.variant is not None and setting.variant not in variants:
        raise SweepError(
            f"{spec.source}: no variant named {setting.variant!r}"
            f"{did_you_mean(setting.variant, variants)}; variants: {', '.join(variants)}"
        )
    chosen = spec.variants[variants.index(setting.variant) if setting.variant else 0]
    for objective in objectives:
        if objective.metric is None:
            for point in points:
                _number(dict(point)[objective.name], objective.name)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(points)))
    evaluations: list[Evaluation] = []
    for batch in _evaluations(setting, points, workers):
        evaluations += batch
        if progress is not None:
            progress(len(batch))
    fitting = [e for e in evaluations if e.fits]
    front = pareto_front([[e.score(o) for o in objectives] for e in fitting])
    axes = tuple(name for name, _ in points[0])
    return Sweep(
        name=spec.name,
        source=setting.source,
        variant=chosen.name if spec.has_variants else None,
        axes=axes,
        fixed=setting.fixed,
        objectives=tuple(objectives),
        budget=budget_for(spec, chosen, setting.flags),
        evaluations=tuple(evaluations),
        front=tuple(fitting[i].index for i in front),
    )


def _evaluations(
    setting: Setting, points: Sequence[Point], workers: int
) -> Iterator[list[Evaluation]]:
    indexed = list(enumerate(points))
    size = max(1, min(32, len(indexed) // (workers * 8)))
    chunks = [indexed[start : start + size] for start in range(0, len(indexed), size)]
    if workers == 1:
        for chunk in chunks:
            yield [evaluate_point(setting, index, point) for index, point in chunk]
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_start_worker, initargs=(setting,)) as pool:
        yield from pool.imap(_evaluate_chunk, chunks)  # in order, whatever finishes first


def swept_names(axes: Sequence[Axis], ranges: Sequence[Range]) -> tuple[str, ...]:
    return (*(r.name for r in ranges), *(a.name for a in axes))


def fixed_params(
    params: Mapping[str, str | int | float] | None,
) -> tuple[tuple[str, ParamValue], ...]:
    """``--set`` values as a setting's ``fixed`` (text read as ``--set`` reads it)."""
    return tuple(
        (name, parse_value(value) if isinstance(value, str) else value)
        for name, value in (params or {}).items()
    )
