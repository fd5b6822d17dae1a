"""Seeded mutation fuzzing of the bundled specs, in-process through the CLI's own path.

A mutant is a bundled spec (``convcost/zoo/*.yaml``, ``specs/*.yaml``) with one to three
mutations: byte flips, inserted syntax, line deletion/duplication/swap, a scalar swapped for a
hostile value, a key renamed, an indentation shift, a value nested deep, an anchor and alias,
a line spliced from another spec. Mutant ``i`` of seed ``s`` depends on ``(s, i)`` only, so one
failing mutant is reproduced without replaying the others.

:func:`exercise` takes a mutant through what ``convcost analyze -f json`` (and the table, CSV
and markdown renderers) do. The contract it checks: the mutant is analysed, or refused with a
:class:`convcost.ConvcostError` whose message is one printable line. Anything else (another
exception, a multi-line message, more than the time limit) is a failure, saved with its
traceback so that ``python -m convcost analyze <file>`` reproduces it.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import random
import re
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

import convcost
from convcost.explain import explain
from convcost.render import formats
from convcost.render.explain import explanations_json
from convcost.render.table import print_reports
from tests.attacks.harness import ROOT, OutOfTime, memory_guard, time_guard

CORPUS_FILES = tuple(sorted((ROOT / "convcost" / "zoo").glob("*.yaml"))) + tuple(
    sorted((ROOT / "specs").glob("*.yaml"))
)
SMALL_ORIGINS = tuple(
    path.name
    for path in sorted((ROOT / "specs").glob("*.yaml"))
    # the seeds' comparisons; the model families and an include of zoo blocks build networks
    # of zoo size, whose mutants are rendered as tables as rarely as the zoo's
    if path.stat().st_size < 2000 and "include:" not in path.read_text(encoding="utf-8")
)

HUGE = "1" + "0" * 5000
HOSTILE = (
    "0",
    "-1",
    "017",
    "1:30",
    "1e999",
    HUGE,
    "9223372036854775808",
    "1000000000",
    "''",
    '"[/]"',
    '"resnet[v2]"',
    '"\\e[31m"',
    '"x\\n::warning::y"',
    '"=1+2"',
    "'a|b'",
    "null",
    "~",
    "[]",
    "{}",
    "!!python/none ''",
    "!!python/name:os.system ''",
    "!foo 1",
    "!!float 4",
    "!!binary aGk=",
    "!!set {a}",
    "&a [*a]",
    "yes",
    "1.5",
    ".inf",
    "-0",
    "0x10",
    "same",
    "[1, 2, 3, 4, 5, 6, 7]",
    '"${8 # c}"',
    '"${in_channels * 99999999999}"',
    '"${(((((((((((((((((((1)))))))))))))))))))}"',
    '"${' + "+".join(["1"] * 300) + '}"',
    "$undefined",
    "[" * 70 + "1" + "]" * 70,
    "[" * 1000 + "]" * 1000,
    "{a: " * 300 + "1" + "}" * 300,
)
"""Values swapped in for a scalar: YAML 1.1 traps, integers past every bound, markup and
escapes, tags, recursive aliases, deep nesting, expressions past their bounds."""

KEYS = (
    "conv",
    "conv_transpose",
    "relu",
    "linear",
    "maxpool",
    "avgpool",
    "add",
    "concat",
    "multiply",
    "out",
    "kernel",
    "stride",
    "padding",
    "dilation",
    "groups",
    "bias",
    "ceil_mode",
    "name",
    "repeat",
    "input",
    "layers",
    "blocks",
    "variants",
    "params",
    "budget",
    "macs",
    "receptive_field",
    "min",
    "in_channels",
    "<<",
    "kernal",
    "''",
    '"a b"',
    '"[/]"',
    "? [a]",
    "1",
)
"""Keys a renamed key becomes: real ones in the wrong place, typos, the merge key, odd ones."""

SNIPPETS = (
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    ", ",
    "- ",
    "&a ",
    "*a",
    "!",
    "#",
    "'",
    '"',
    "${",
    "$",
    "\t",
    "\n",
    "|",
    ">",
    "%",
    "@",
    "`",
    "\\",
    "\x00",
    "\x1b",
    "\u202e",
    "\ufeff",
)

_SCALAR = re.compile(
    r"(?<=[\s\[{,:])(-?\d+|\$\{[^}\n]*\}|\$\w+|true|false|same|null|\"[^\"\n]*\"|[A-Za-z_][\w.-]*)(?=\s*[,\]}\n#])"
)
_KEY = re.compile(r"(?<=[\s{,])([A-Za-z_<][\w<-]*)(?=:\s)")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _byte_flip(rng: random.Random, text: str, corpus: list[str]) -> str:
    if not text:
        return text
    at = rng.randrange(len(text))
    new = rng.choice(SNIPPETS) if rng.random() < 0.7 else chr(rng.randrange(32, 127))
    return text[:at] + new + text[at + 1 :]


def _insert(rng: random.Random, text: str, corpus: list[str]) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(SNIPPETS) + text[at:]


def _delete_line(rng: random.Random, text: str, corpus: list[str]) -> str:
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def _duplicate_line(rng: random.Random, text: str, corpus: list[str]) -> str:
    lines = _lines(text)
    at = rng.randrange(len(lines))
    lines[at:at] = [lines[at]] * rng.choice((1, 1, 2, 5))
    return "\n".join(lines)


def _swap_lines(rng: random.Random, text: str, corpus: list[str]) -> str:
    lines = _lines(text)
    if len(lines) < 2:
        return text
    at = rng.randrange(len(lines) - 1)
    lines[at], lines[at + 1] = lines[at + 1], lines[at]
    return "\n".join(lines)


def _pick(rng: random.Random, pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    matches = list(pattern.finditer(text))
    return rng.choice(matches) if matches else None


def _swap_scalar(rng: random.Random, text: str, corpus: list[str]) -> str:
    match = _pick(rng, _SCALAR, text)
    if match is None:
        return text
    return text[: match.start()] + rng.choice(HOSTILE) + text[match.end() :]


def _rename_key(rng: random.Random, text: str, corpus: list[str]) -> str:
    match = _pick(rng, _KEY, text)
    if match is None:
        return text
    key = match.group()
    new = rng.choice(KEYS) if rng.random() < 0.8 else key[: rng.randrange(len(key))] + key[1:]
    return text[: match.start()] + new + text[match.end() :]


def _indent(rng: random.Random, text: str, corpus: list[str]) -> str:
    lines = _lines(text)
    start = rng.randrange(len(lines))
    stop = min(len(lines), start + rng.choice((1, 1, 3, 10)))
    shift = rng.choice((-4, -2, -1, 1, 2, 4))
    for index in range(start, stop):
        line = lines[index]
        lines[index] = (
            " " * shift + line
            if shift > 0
            else line[min(-shift, len(line) - len(line.lstrip(" "))) :]
        )
    return "\n".join(lines)


def _nest(rng: random.Random, text: str, corpus: list[str]) -> str:
    match = _pick(rng, _SCALAR, text)
    if match is None:
        return text
    depth = rng.choice((2, 65, 200, 1000))
    return text[: match.start()] + "[" * depth + match.group() + "]" * depth + text[match.end() :]


def _alias(rng: random.Random, text: str, corpus: list[str]) -> str:
    matches = list(_SCALAR.finditer(text))
    if len(matches) < 2:
        return text
    first, second = sorted(rng.sample(matches, 2), key=lambda m: m.start())
    if rng.random() < 0.5:  # alias a scalar
        return (
            text[: first.start()]
            + "&a "
            + first.group()
            + text[first.end() : second.start()]
            + "*a"
            + text[second.end() :]
        )
    lines = _lines(text)  # alias a whole flow collection (a layer's fields) elsewhere
    flows = [i for i, line in enumerate(lines) if "{" in line]
    if len(flows) < 2:
        return text
    source, target = rng.sample(flows, 2)
    lines[source] = lines[source].replace("{", "&b {", 1)
    lines[target] = re.sub(r"\{[^{}]*\}", "*b", lines[target], count=1)
    return "\n".join(lines)


def _splice(rng: random.Random, text: str, corpus: list[str]) -> str:
    lines = _lines(text)
    donor = _lines(rng.choice(corpus))
    start = rng.randrange(len(donor))
    piece = donor[start : start + rng.choice((1, 1, 2, 5))]
    at = rng.randrange(len(lines) + 1)
    lines[at:at] = piece
    return "\n".join(lines)


MUTATORS: tuple[Callable[[random.Random, str, list[str]], str], ...] = (
    _byte_flip,
    _insert,
    _delete_line,
    _duplicate_line,
    _swap_lines,
    _swap_scalar,
    _swap_scalar,
    _swap_scalar,
    _rename_key,
    _rename_key,
    _indent,
    _nest,
    _alias,
    _splice,
)
"""Scalar swaps and key renames are weighted up: they reach the field validators."""


@dataclass(frozen=True, slots=True)
class Corpus:
    names: tuple[str, ...]
    texts: tuple[str, ...]

    @classmethod
    def bundled(cls) -> Corpus:
        return cls(
            names=tuple(path.name for path in CORPUS_FILES),
            texts=tuple(path.read_text(encoding="utf-8") for path in CORPUS_FILES),
        )


@dataclass(frozen=True, slots=True)
class Mutant:
    seed: int
    index: int
    origin: str
    """The bundled spec it was made from."""
    mutations: tuple[str, ...]
    text: str


SMALL = 2000
"""Specs shorter than this (characters) are drawn four times as often as the zoo's: a zoo
mutant that survives costs ten times more to analyse and render."""


def mutant(corpus: Corpus, seed: int, index: int) -> Mutant:
    """Mutant ``index`` of ``seed``: a function of the two numbers and the corpus only."""
    rng = random.Random(f"convcost-fuzz:{seed}:{index}")
    # a short spec that includes zoo blocks builds a zoo-sized network: drawn as rarely
    weights = [4 if len(text) < SMALL and "include:" not in text else 1 for text in corpus.texts]
    # the first len(corpus) mutants start from each spec in turn, so every run of at least that
    # many covers the whole corpus however large it grows; the rest are drawn by weight
    which = (
        index if index < len(corpus.texts) else rng.choices(range(len(corpus.texts)), weights)[0]
    )
    text = corpus.texts[which]
    applied = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        mutator = rng.choice(MUTATORS)
        text = mutator(rng, text, list(corpus.texts))
        applied.append(mutator.__name__.lstrip("_"))
    return Mutant(seed, index, corpus.names[which], tuple(applied), text)


def exercise(text: str, source: str, *, table: bool) -> str:
    """What ``convcost analyze -f json`` does with a spec text (and the other renderers):
    returns ``ok`` or ``refused``; raises anything else."""
    try:
        spec = convcost.parse_spec(text, source=source)
        reports = list(convcost.analyze_all(spec))
    except convcost.ConvcostError as error:
        message = str(error)
        if "\n" in message or "\r" in message or "\x1b" in message:
            raise MessageNotOneLine(message) from error
        return "refused"
    json.loads(formats.to_json(reports))
    formats.to_csv(reports)
    formats.to_markdown(reports)
    if table:
        console = Console(file=io.StringIO(), width=100, color_system=None, highlight=False)
        print_reports(console, reports, depth=None, exact=False)
        # explain walks every layer with its own arithmetic (a 10⁹ adaptive pool once hung it)
        json.loads(explanations_json(explain(spec), source=source))
    return "ok"


class MessageNotOneLine(Exception):
    """A ConvcostError whose message would print as more than one line (or with an ESC)."""


@dataclass(slots=True)
class Tally:
    ok: int = 0
    refused: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    slowest: tuple[float, int] = (0.0, -1)

    @property
    def total(self) -> int:
        return self.ok + self.refused + len(self.failures)

    def add(self, other: Tally) -> None:
        self.ok += other.ok
        self.refused += other.refused
        self.failures += other.failures
        self.slowest = max(self.slowest, other.slowest)


@dataclass(frozen=True, slots=True)
class Failure:
    mutant: Mutant
    kind: str
    """The exception's type name, or ``timeout``."""
    details: str
    """A headline (``ValueError: …``), then the traceback or the run's output."""


def run(
    corpus: Corpus,
    indices: Iterator[int] | range,
    *,
    seed: int,
    limit: float = 2.0,
    table_every: int = 10,
    deadline: float | None = None,
) -> Tally:
    """Exercise mutants ``indices`` of ``seed``; the table renderer on every ``table_every``-th
    mutant of a small spec and every ``4 * table_every``-th of a zoo model (rich costs ten
    times the rest). Stops early at ``deadline`` (``time.monotonic()``)."""
    tally = Tally()
    start = time.monotonic()
    with memory_guard():
        for index in indices:
            if deadline is not None and time.monotonic() > deadline:
                break
            item = mutant(corpus, seed, index)
            began = time.process_time()
            try:
                every = table_every if item.origin.startswith(SMALL_ORIGINS) else 4 * table_every
                with time_guard(limit):
                    outcome = exercise(item.text, item.origin, table=index % every == 0)
            except OutOfTime:
                tally.failures.append(
                    Failure(item, "timeout", f"took more than {limit} s of CPU\n")
                )
                continue
            except Exception as error:  # any other exception is the finding itself
                headline = f"{type(error).__name__}: {str(error).strip()[:200]}".splitlines()[0]
                tally.failures.append(
                    Failure(item, type(error).__name__, f"{headline}\n\n{traceback.format_exc()}")
                )
                continue
            finally:
                took = time.process_time() - began
                if took > tally.slowest[0]:
                    tally.slowest = (took, index)
            if outcome == "ok":
                tally.ok += 1
            else:
                tally.refused += 1
    tally.seconds = time.monotonic() - start
    return tally


def _run_slice(job: tuple[Corpus, int, int, int, int, float, int, float | None]) -> Tally:
    corpus, seed, start, stop, step, limit, table_every, deadline = job
    return run(
        corpus,
        range(start, stop, step),
        seed=seed,
        limit=limit,
        table_every=table_every,
        deadline=deadline,
    )


def run_parallel(
    corpus: Corpus,
    indices: range,
    *,
    seed: int,
    workers: int,
    limit: float = 2.0,
    table_every: int = 10,
    deadline: float | None = None,
) -> Tally:
    """:func:`run` split over ``workers`` forked processes (interleaved slices of ``indices``)."""
    start = time.monotonic()
    if workers <= 1:
        tally = run(
            corpus, indices, seed=seed, limit=limit, table_every=table_every, deadline=deadline
        )
    else:
        context = multiprocessing.get_context("fork")
        jobs = [
            (
                corpus,
                seed,
                indices.start + k * indices.step,
                indices.stop,
                indices.step * workers,
                limit,
                table_every,
                deadline,
            )
            for k in range(workers)
        ]
        tally = Tally()
        with context.Pool(workers) as pool:
            for part in pool.map(_run_slice, jobs):
                tally.add(part)
    tally.seconds = time.monotonic() - start
    return tally


def save(failures: list[Failure], directory: Path) -> list[Path]:
    """Each failing mutant as ``<origin>-<seed>-<index>.yaml`` (its traceback as a comment
    at the end) so that ``convcost analyze`` on the file reproduces it."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for failure in failures:
        item, error = failure.mutant, failure.details
        path = directory / f"{Path(item.origin).stem}-{item.seed}-{item.index}.yaml"
        path.write_text(item.text, encoding="utf-8", errors="surrogatepass")
        (directory / f"{path.stem}.txt").write_text(
            f"origin: {item.origin}\nmutations: {', '.join(item.mutations)}\n"
            f"reproduce: python -m convcost analyze {path} -f json\n\n{error}",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def summary(failures: list[Failure]) -> dict[str, int]:
    """Failures counted by kind (exception type), most frequent first."""
    counts: dict[str, int] = {}
    for failure in failures:
        counts[failure.kind] = counts.get(failure.kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))
