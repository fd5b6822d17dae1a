"""Run hostile inputs under a bound: the CLI in a subprocess, or the library in-process.

The contract (issue 16) every hostile input must meet: it ends within :data:`TIME_LIMIT`
seconds and :data:`MEMORY_LIMIT_MB` of peak memory, with exit 2 (4 for a resource bound), one
line ``error: …`` on standard error that names the place in the spec, no traceback, and no
existing file of the user's changed.

:func:`run_cli` measures a child's wall time and peak RSS itself (``os.wait4`` reports the
child's ``ru_maxrss``), kills it past a hard deadline, and caps its address space with
``RLIMIT_AS`` so an unfixed bomb fails the test instead of swapping the machine.
:func:`bounded` does the same for a library call: ``setitimer`` interrupts it after the time
limit, a lowered soft ``RLIMIT_AS`` turns a runaway allocation into ``MemoryError``, and
``tracemalloc`` measures its peak.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

ROOT = Path(__file__).resolve().parents[2]

TIME_LIMIT = 5.0
"""CPU seconds (user + system) a hostile input may take, start-up of the interpreter included.

CPU time, not wall time: on the shared 2-core machine, with eight test suites running, a
0.4 s command can take 3 s of wall time. Blocking (a FIFO without a writer) costs no CPU, so
:data:`WALL_LIMIT` bounds the wall time as well."""
WALL_LIMIT = 10.0
"""Wall seconds a hostile input may take (twice the CPU bound, for a loaded machine)."""
MEMORY_LIMIT_MB = 300
"""Peak resident memory (MiB) a hostile input may take."""
ADDRESS_SPACE = 2 * 2**30
"""RLIMIT_AS of a child: the safety net under the measured bound (numpy's threads reserve
virtual memory, so this is well above MEMORY_LIMIT_MB)."""
DEADLINE = WALL_LIMIT + 1
"""Seconds after which a child is killed (the test then fails on WALL_LIMIT)."""


@dataclass(frozen=True, slots=True)
class Run:
    """What a finished ``convcost`` process did."""

    args: tuple[str, ...]
    exit_code: int
    """The exit status, or ``-signal`` when a signal ended it (as :mod:`subprocess` reports)."""
    stdout: bytes
    stderr: str
    seconds: float
    """Wall time."""
    cpu_seconds: float
    """The command's user + system CPU time (0 when it was killed at the deadline)."""
    peak_mb: float
    """The command's own peak RSS in MiB (0 when it was killed at the deadline)."""
    timed_out: bool

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def describe(self) -> str:
        head = self.stderr.strip().splitlines()[:3]
        args = " ".join(arg if len(arg) < 40 else arg[:20] + "…" for arg in self.args)
        return (
            f"convcost {args}: exit {self.exit_code} in {self.seconds:.2f} s "
            f"({self.cpu_seconds:.2f} s CPU), "
            f"{self.peak_mb:.0f} MiB{' (killed at the deadline)' if self.timed_out else ''}; "
            f"stderr: {head!r}"
        )


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a CLI child runs in: this tree's code, no colour, 100 columns."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "GITHUB_", "FORCE_COLOR", "LC_", "CONVCOST"))
        and key not in ("LANG", "LANGUAGE", "CI", "COLUMNS", "LINES", "TERM")
    }
    env.update(
        PYTHONPATH=str(ROOT),
        NO_COLOR="1",
        COLUMNS="100",
        TERM="dumb",
        LANG="C.UTF-8",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra or {})
    return env


LAUNCHER = Path(__file__).with_name("launch.py")


def _command_cpu(launcher: int) -> float:
    """User + system CPU seconds of the command the launcher started (0 until it exists)."""
    try:
        children = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
        fields = Path(f"/proc/{children[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # fields[11], fields[12]: utime and stime in clock ticks (proc(5), counted after the ")")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _command(args: Sequence[str], *, rusage: Path, close_stdout: bool) -> list[str]:
    """``python -m convcost *args`` started by :mod:`tests.attacks.launch`, which caps its
    address space and reports its own ``ru_maxrss`` (measured with ``os.wait4`` there: a child
    forked from the test process would report the test process's size). Unlike
    ``preexec_fn``, this is safe to start from several threads."""
    launcher = [sys.executable, "-S", str(LAUNCHER), str(rusage), str(ADDRESS_SPACE)]
    launcher += ["1" if close_stdout else "0", "--"]
    return [*launcher, sys.executable, "-m", "convcost", *args]


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdout: IO[bytes] | None = None,
    close_stdout: bool = False,
    sigint_after: float | None = None,
    deadline: float = DEADLINE,
) -> Run:
    """``python -m convcost *args`` in ``cwd``; standard input is empty (``/dev/null``).

    ``stdout``: an open file to write to instead of capturing (``/dev/full``);
    ``close_stdout``: start with file descriptor 1 closed (the shell's ``>&-``);
    ``sigint_after``: send Ctrl-C once the command has used this many seconds of CPU (CPU,
    not wall time: on a loaded machine a wall-clock delay can land while Python itself is still
    starting, before any convcost code runs).
    """
    io_dir = cwd.parent / f".io-{cwd.name}"
    io_dir.mkdir(exist_ok=True)
    out_path, err_path = io_dir / "stdout", io_dir / "stderr"
    rusage = io_dir / "maxrss"
    rusage.unlink(missing_ok=True)
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.monotonic()
        process = subprocess.Popen(
            _command(args, rusage=rusage, close_stdout=close_stdout),
            cwd=cwd,
            env=cli_env(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else out,
            stderr=err,
            start_new_session=True,  # a process group: Ctrl-C and the kill reach the command
        )
        timed_out, interrupted = False, False
        while True:
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - start
            if (
                sigint_after is not None
                and not interrupted
                and _command_cpu(process.pid) >= sigint_after
            ):
                os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
                interrupted = True
            if elapsed > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pid, status, _ = os.wait4(process.pid, 0)
                timed_out = True
                break
            time.sleep(0.005)
        seconds = time.monotonic() - start
    exit_code = os.waitstatus_to_exitcode(status)
    process.returncode = exit_code  # reaped by wait4: keep Popen from waiting again
    maxrss, user, system = rusage.read_text().split() if rusage.exists() else ("0", "0", "0")
    return Run(
        args=tuple(args),
        exit_code=exit_code,
        stdout=out_path.read_bytes(),
        stderr=err_path.read_bytes().decode("utf-8", errors="replace"),
        seconds=seconds,
        cpu_seconds=float(user) + float(system),
        peak_mb=int(maxrss) / 1024,  # KiB on Linux
        timed_out=timed_out,
    )


def assert_bounded(run: Run) -> None:
    """The resource half of the contract: time and memory, no traceback."""
    assert not run.timed_out, run.describe()
    assert run.seconds <= WALL_LIMIT, run.describe()
    assert run.cpu_seconds <= TIME_LIMIT, run.describe()
    assert run.peak_mb <= MEMORY_LIMIT_MB, run.describe()
    assert "Traceback" not in run.stderr, run.describe()


class OutOfTime(BaseException):
    """Raised by the interval timer inside a call that ran past its time limit.

    A ``BaseException`` so that no ``except Exception`` in the library can swallow it.
    """


@dataclass(slots=True)
class Measured:
    seconds: float = 0.0
    """CPU seconds of this process (``time.process_time``)."""
    peak_mb: float = 0.0
    """Peak of the Python allocations traced by ``tracemalloc``."""


def _out_of_time(signum: int, frame: object) -> None:
    raise OutOfTime


@contextlib.contextmanager
def time_guard(seconds: float) -> Iterator[None]:
    """Raise :class:`OutOfTime` in the guarded block after ``seconds`` of this process's CPU
    time (``ITIMER_PROF``: a loaded machine does not trip it; main thread only)."""
    previous = signal.signal(signal.SIGPROF, _out_of_time)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _address_space_now() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


@contextlib.contextmanager
def memory_guard(headroom: int = 1024 * 2**20) -> Iterator[None]:
    """Lower this process's soft RLIMIT_AS to its current size plus ``headroom`` for the block,
    so a runaway allocation raises MemoryError instead of exhausting the shared machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space_now() + headroom
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


T = TypeVar("T")


def bounded(call: Callable[[], T], measured: Measured, *, seconds: float = TIME_LIMIT) -> T:
    """Run ``call`` in-process under the time and memory guards; fill ``measured``.

    Exceptions propagate (the caller asserts on them); ``measured`` is filled either way.
    """
    tracemalloc.start()
    start = time.process_time()
    try:
        with memory_guard(), time_guard(seconds):
            return call()
    finally:
        measured.seconds = time.process_time() - start
        measured.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
