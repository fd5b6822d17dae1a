"""The long mutation fuzz (nightly-style; not a test): the mutators of tests/test_fuzz.py, longer.

    PYTHONPATH=. python tests/bench/fuzz.py                          # 100,000 mutants, seed 0
    PYTHONPATH=. python tests/bench/fuzz.py --count 1000000 --seed 3 --workers 4
    PYTHONPATH=. python tests/bench/fuzz.py --seconds 3600 --failures /tmp/fuzz

Mutant ``i`` of seed ``s`` is the same on every machine, so ``--start i --count 1`` replays
one. Each failing mutant is written to ``--failures`` (default ``fuzz-failures/``) as
``<origin>-<seed>-<index>.yaml``, with ``.txt`` beside it holding the traceback and the command
that reproduces it. Exit status: 0 when no mutant failed, 1 otherwise. docs/robustness.md
records the results.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tests.attacks import mutate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="mutants (default 100,000)")
    parser.add_argument("--start", type=int, default=0, help="index of the first mutant")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=float, default=2.0, help="seconds allowed per mutant")
    parser.add_argument(
        "--table-every", type=int, default=10, help="render the rich table every N mutants"
    )
    parser.add_argument("--failures", type=Path, default=Path("fuzz-failures"))
    options = parser.parse_args(argv)

    corpus = mutate.Corpus.bundled()
    deadline = None if options.seconds is None else time.monotonic() + options.seconds
    tally = mutate.run_parallel(
        corpus,
        range(options.start, options.start + options.count),
        seed=options.seed,
        workers=options.workers,
        limit=options.limit,
        table_every=options.table_every,
        deadline=deadline,
    )
    slowest, at = tally.slowest
    print(
        f"seed {options.seed}: {tally.total:,} mutants in {tally.seconds:.1f} s "
        f"({tally.total / max(tally.seconds, 1e-9):,.0f}/s, {options.workers} workers): "
        f"{tally.ok:,} analysed, {tally.refused:,} refused with a ConvcostError, "
        f"{len(tally.failures):,} failed; slowest {slowest * 1000:.0f} ms (mutant {at})"
    )
    if not tally.failures:
        return 0
    paths = mutate.save(tally.failures, options.failures)
    print(f"failures by kind: {mutate.summary(tally.failures)}; saved in {options.failures}/")
    for failure, path in list(zip(tally.failures, paths, strict=True))[:20]:
        print(f"  {path.name}: {failure.details.splitlines()[0][:150]}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
