"""Mutation fuzz over the bundled specs: no mutant may end in anything but a report or a
:class:`convcost.ConvcostError` (issue 16's "Done when").

- ``test_mutants_in_process``: 10,000 seeded mutants through the library path of
  ``convcost analyze -f json`` (and the CSV, markdown and table renderers), each under a timer
  of 2 CPU seconds, in two forked workers. Failing mutants are saved as YAML files (with their traceback
  beside them) in ``$CONVCOST_FUZZ_FAILURES`` or the test's temporary directory.
- ``test_mutants_through_the_cli``: a sample through the real ``python -m convcost``: exit
  codes 0-4 only, no traceback.

``CONVCOST_FUZZ_MUTANTS``, ``CONVCOST_FUZZ_CLI`` and ``CONVCOST_FUZZ_SEED`` change the counts and
the seed; ``tests/bench/fuzz.py`` is the long run (docs/robustness.md).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import convcost
from tests.attacks import mutate
from tests.attacks.harness import Run, run_cli

MUTANTS = int(os.environ.get("CONVCOST_FUZZ_MUTANTS", "10000"))
CLI_SAMPLE = int(os.environ.get("CONVCOST_FUZZ_CLI", "200"))
SEED = int(os.environ.get("CONVCOST_FUZZ_SEED", "0"))
WORKERS = min(2, os.cpu_count() or 1)
CLI_OFFSET = 1_000_000
"""The CLI sample's mutant indices start here: other mutants than the in-process run's."""


@pytest.fixture(scope="module")
def corpus() -> mutate.Corpus:
    return mutate.Corpus.bundled()


def _failures_dir(tmp_path: Path) -> Path:
    configured = os.environ.get("CONVCOST_FUZZ_FAILURES")
    return Path(configured) if configured else tmp_path / "fuzz-failures"


def _report(failures: list[mutate.Failure], directory: Path, total: int) -> str:
    paths = mutate.save(failures, directory)
    lines = [f"{len(failures)} of {total} mutants failed: {mutate.summary(failures)}"]
    lines.append(f"saved in {directory} (each .yaml beside a .txt with its traceback)")
    for failure, path in list(zip(failures, paths, strict=True))[:15]:
        last = failure.details.strip().splitlines()[0][:160]
        lines.append(f"  {path.name} [{', '.join(failure.mutant.mutations)}]: {last}")
    return "\n".join(lines)


def test_corpus_is_every_bundled_spec(corpus: mutate.Corpus) -> None:
    zoo = {path.name for path in (mutate.ROOT / "convcost" / "zoo").glob("*.yaml")}
    examples = {path.name for path in (mutate.ROOT / "specs").glob("*.yaml")}
    assert set(corpus.names) == zoo | examples
    assert len(corpus.names) >= 20


def test_unmutated_corpus_passes(corpus: mutate.Corpus) -> None:
    """The oracle itself: every bundled spec, unmutated, is analysed and rendered."""
    for name, text in zip(corpus.names, corpus.texts, strict=True):
        assert mutate.exercise(text, name, table=True) == "ok", name


def test_mutants_are_deterministic_and_varied(corpus: mutate.Corpus) -> None:
    # 400: enough for seed 7 to draw from every bundled spec, the large ones at a quarter
    # of a small one's weight (200 stopped reaching them all when the zoo grew past 11 models)
    first = [mutate.mutant(corpus, 7, index) for index in range(400)]
    assert first == [mutate.mutant(corpus, 7, index) for index in range(400)]
    assert mutate.mutant(corpus, 8, 0) != first[0]
    changed = sum(item.text != corpus.texts[corpus.names.index(item.origin)] for item in first)
    assert changed >= 380, "most mutants must differ from their origin"
    assert {m for item in first for m in item.mutations} == {
        f.__name__.lstrip("_") for f in mutate.MUTATORS
    }
    assert len({item.origin for item in first}) == len(corpus.names)


def test_harness_reports_other_exceptions_and_timeouts(
    corpus: mutate.Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-ConvcostError and a slow mutant are failures; a ConvcostError is not."""
    monkeypatch.setattr(convcost, "parse_spec", lambda text, source: None)

    def crash(spec: None) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(convcost, "analyze_all", crash)
    tally = mutate.run(corpus, range(20), seed=SEED)
    assert [failure.kind for failure in tally.failures] == ["KeyError"] * 20

    def slow(spec: None) -> None:
        while True:  # CPU time is what the guard counts
            pass

    monkeypatch.setattr(convcost, "analyze_all", slow)
    tally = mutate.run(corpus, range(3), seed=SEED, limit=0.2)
    assert [failure.kind for failure in tally.failures] == ["timeout"] * 3
    assert tally.seconds < 10

    def refuse(spec: None) -> None:
        raise convcost.SpecError("refused", field="x")

    monkeypatch.setattr(convcost, "analyze_all", refuse)
    tally = mutate.run(corpus, range(20), seed=SEED)
    assert (tally.refused, tally.failures) == (20, [])

    def two_lines(spec: None) -> None:
        raise convcost.SpecError("first\nsecond")

    monkeypatch.setattr(convcost, "analyze_all", two_lines)
    tally = mutate.run(corpus, range(2), seed=SEED)
    assert [failure.kind for failure in tally.failures] == ["MessageNotOneLine"] * 2


def test_mutants_in_process(corpus: mutate.Corpus, tmp_path: Path) -> None:
    tally = mutate.run_parallel(corpus, range(MUTANTS), seed=SEED, workers=WORKERS)
    assert tally.total == MUTANTS
    assert tally.ok > MUTANTS // 20, "too few mutants survive: the fuzz tests only the parser"
    if tally.failures:
        counts = f"({tally.ok} analysed, {tally.refused} refused, in {tally.seconds:.0f} s)\n"
        pytest.fail(
            counts + _report(tally.failures, _failures_dir(tmp_path), MUTANTS), pytrace=False
        )


def _cli(item: mutate.Mutant, work: Path, fmt: str) -> tuple[mutate.Mutant, Run]:
    work.mkdir()
    (work / item.origin).write_text(item.text, encoding="utf-8", errors="surrogatepass")
    return item, run_cli(["analyze", item.origin, "-f", fmt], cwd=work)


def _last_line(run: Run) -> str:
    """The exception a traceback ends with (or the last line of standard error)."""
    lines = run.stderr_lines
    raised = [line for line in lines if re.match(r"[\w.]+(Error|Exception|Interrupt)\b", line)]
    last = (raised or lines or ["(no output)"])[-1].strip()[:160]
    return f"exit {run.exit_code}: {last}"


def test_mutants_through_the_cli(corpus: mutate.Corpus, tmp_path: Path) -> None:
    formats = ("json", "table", "csv", "markdown")
    items = [mutate.mutant(corpus, SEED, CLI_OFFSET + index) for index in range(CLI_SAMPLE)]
    with ThreadPoolExecutor(WORKERS) as pool:
        runs = list(
            pool.map(
                _cli,
                items,
                [tmp_path / f"m{index}" for index in range(CLI_SAMPLE)],
                [formats[index % len(formats)] for index in range(CLI_SAMPLE)],
            )
        )
    failures = [
        mutate.Failure(
            item, f"exit {run.exit_code}", f"{_last_line(run)}\n{run.describe()}\n\n{run.stderr}"
        )
        for item, run in runs
        if run.exit_code not in range(5) or "Traceback" in run.stderr or run.timed_out
    ]
    if failures:
        pytest.fail(_report(failures, _failures_dir(tmp_path), CLI_SAMPLE), pytrace=False)
    codes = {run.exit_code for _, run in runs}
    assert {0, 2} <= codes, f"the sample should hold valid and invalid mutants, got {codes}"
