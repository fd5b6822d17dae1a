"""Run hostile input under a bound on time and memory, and fail the test past it.

``run_cli`` runs ``python -m convcost`` on this tree through the attack suite's harness
(:mod:`tests.attacks.harness`: a launcher measures the command's own peak RSS and CPU time).
``within`` runs a call in-process under ``tracemalloc`` and a CPU-time alarm.
"""

from __future__ import annotations

import signal
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests.attacks import harness
from tests.attacks.harness import assert_bounded

ROOT = Path(__file__).resolve().parents[1]
MAX_SECONDS = 5.0
MAX_RSS = 300 * 2**20
T = TypeVar("T")


@dataclass(frozen=True)
class Finished:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int
    """Bytes."""


def run_cli(*args: str, cwd: Path) -> Finished:
    """``python -m convcost ARGS`` in ``cwd``, through the attack suite's launcher; fails the
    test past its bounds (5 CPU-s, 300 MiB, no traceback)."""
    run = harness.run_cli(args, cwd=cwd)
    assert_bounded(run)
    return Finished(
        exit_code=run.exit_code,
        stdout=run.stdout.decode("utf-8"),
        stderr=run.stderr,
        seconds=run.seconds,
        peak_rss=int(run.peak_mb * 2**20),
    )


def within(call: Callable[[], T], *, seconds: float, megabytes: float) -> T:
    """``call()``, failing the test if it takes more CPU time or allocates more at its peak.

    An exception from ``call`` propagates after the bounds are checked, so that
    ``pytest.raises(...)`` around ``within`` sees it only if it came in time.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise AssertionError(f"still running after {seconds} s of CPU")

    # a CPU-time alarm stops a runaway call (a regression must fail, not hang the run)
    previous = signal.signal(signal.SIGVTALRM, interrupt)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    tracemalloc.start()
    start = time.process_time()
    try:
        return call()
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)
        spent = time.process_time() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert spent < seconds, f"took {spent:.2f} s of CPU (bound {seconds} s)"
        assert peak < megabytes * 2**20, f"allocated {peak / 2**20:.1f} MiB (bound {megabytes})"
