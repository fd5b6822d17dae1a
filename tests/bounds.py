"""Run hostile input under a bound on time and memory, and fail the test past it.

``run_cli`` runs ``python -m convcost`` on this tree in a child process and measures the
child's own peak RSS (``os.wait4``: the rusage of that one process, not of every child the
test run has had); ``within`` runs a call in-process under ``tracemalloc`` and a CPU clock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

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
    """``python -m convcost ARGS`` in ``cwd``; fails the test past 5 s or 300 MB."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "100"}
    out_path, err_path = cwd / ".stdout", cwd / ".stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "convcost", *args], stdout=out, stderr=err, cwd=cwd, env=env
        )
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > MAX_SECONDS:
                os.kill(process.pid, signal.SIGKILL)
                os.wait4(process.pid, 0)
                process.returncode = -signal.SIGKILL
                raise AssertionError(f"convcost {' '.join(args)} ran past {MAX_SECONDS} s")
            time.sleep(0.01)
    seconds = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    finished = Finished(
        exit_code=process.returncode,
        stdout=out_path.read_text(encoding="utf-8"),
        stderr=err_path.read_text(encoding="utf-8"),
        seconds=seconds,
        peak_rss=usage.ru_maxrss * 1024,  # Linux reports KiB
    )
    assert finished.seconds < MAX_SECONDS, finished
    assert finished.peak_rss < MAX_RSS, f"peak RSS {finished.peak_rss / 2**20:.0f} MiB"
    return finished


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
