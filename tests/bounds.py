"""Run hostile input under a bound on time and memory, and fail the test past it.

``run_cli`` runs ``python -m convcost`` on this tree through the attack suite's harness
(:mod:`tests.attacks.harness`: a launcher measures the command's own peak RSS and CPU time).
``within`` runs a call in-process under the same harness's guards (CPU timer, address-space cap,
``tracemalloc``).
"""

from __future__ import annotations

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
    """``call()`` under the attack suite's in-process guards (:func:`harness.bounded`: a CPU
    timer and an address-space cap), failing the test if it took more CPU time or allocated
    more at its peak.

    An exception from ``call`` propagates after the bounds are checked, so that
    ``pytest.raises(...)`` around ``within`` sees it only if it came in time.
    """
    measured = harness.Measured()
    try:
        return harness.bounded(call, measured, seconds=seconds)
    finally:
        assert measured.seconds < seconds, (
            f"took {measured.seconds:.2f} s of CPU (bound {seconds} s)"
        )
        assert measured.peak_mb < megabytes, (
            f"allocated {measured.peak_mb:.1f} MiB (bound {megabytes})"
        )
