"""Run hostile input under a bound on time and memory, and fail the test past it.

``run_cli`` runs ``python -m convcost`` on this tree in a child process and measures the
child's own peak RSS: ``VmHWM`` of its address space, written at exit by a ``sitecustomize``
put on its path. (The rusage ``ru_maxrss`` of a child is no use here: Linux starts it from the
parent's high-water mark when the forked child execs, so every child of a pytest that has
loaded torch "peaks" at hundreds of MB.) ``within`` runs a call in-process under
``tracemalloc`` and a CPU-time alarm.
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
PEAK_FILE = "CONVCOST_TEST_PEAK_FILE"
SITECUSTOMIZE = f"""
import atexit, os

def _peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["{PEAK_FILE}"], "w") as out:
        out.write(peak)  # KiB

if os.environ.get("{PEAK_FILE}"):
    atexit.register(_peak)
"""


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
    hook = cwd / ".peak-hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    peak_path = cwd / ".peak"
    peak_path.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": f"{hook}{os.pathsep}{ROOT}",
        PEAK_FILE: str(peak_path),
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }
    start = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "convcost", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=cwd,
            env=env,
            timeout=MAX_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"convcost {' '.join(args)} ran past {MAX_SECONDS} s") from None
    finished = Finished(
        exit_code=result.returncode,
        stdout=result.stdout,
        stderr=result.stderr,
        seconds=time.monotonic() - start,
        peak_rss=int(peak_path.read_text(encoding="utf-8")) * 1024,
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
