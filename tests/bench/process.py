"""Whole-process measurements for the benchmarks: wall time, CPU time and peak RSS of a command,
and interleaved rounds of several commands with their medians.

Not a benchmark itself: ``bench_startup.py``, ``bench_scale.py`` and ``bench_torchinfo.py``
use it. The peak RSS is the child's ``ru_maxrss`` from ``os.wait4``. Linux keeps a
high-water mark across ``execve``, so a child reports at least the resident size of the
process that started it: keep the benchmark process small (generate big specs in a child, as
``bench_scale.py`` does); :func:`own_peak_mib` says how small it was.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ENTRY = "from convcost.__main__ import main; main()"
"""What the ``convcost`` console script runs (``[project.scripts] convcost =
"convcost.__main__:main"``), as a ``python -c`` program."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One finished process."""

    wall: float
    """Seconds from start to exit."""
    cpu: float
    """User + system CPU seconds of the process (its children included)."""
    peak_mib: float
    """Peak resident memory (``ru_maxrss``), MiB."""


@dataclass(frozen=True, slots=True)
class Summary:
    """The medians of a command's samples."""

    wall: float
    cpu: float
    peak_mib: float
    runs: int

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Summary:
        return cls(
            wall=statistics.median(s.wall for s in samples),
            cpu=statistics.median(s.cpu for s in samples),
            peak_mib=statistics.median(s.peak_mib for s in samples),
            runs=len(samples),
        )


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment, running this tree's code, without colour."""
    env = dict(os.environ)
    env.update(PYTHONPATH=str(ROOT), NO_COLOR="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a run without .pyc files measures the compiler
    env.update(extra or {})
    return env


@contextlib.contextmanager
def isolated_python(isolated: bool = True) -> Iterator[str]:
    """A Python to run the measured commands with: by default this one in a throwaway virtual
    environment that finds this tree (``PYTHONPATH``, as :func:`child_env` sets it) and this
    environment's installed packages (one path line in a ``.pth`` file), and runs no ``.pth``
    code at start-up; ``isolated=False``: this interpreter as it is.

    Why: convcost is installed in development mode (``pip install -e .``), and setuptools'
    editable finder, which that ``.pth`` file imports into every Python start-up, loads
    :mod:`pathlib`, :mod:`re`, :mod:`urllib.parse` and :mod:`ipaddress` first (about 50 M
    instructions, 10 ms). A user who installed convcost from a wheel pays none of it, and it
    would hide what convcost itself imports. The floor and the peers run in the same
    environment, so every ratio compares like with like."""
    if not isolated:
        yield sys.executable
        return
    with tempfile.TemporaryDirectory(prefix="convcost-bench-") as folder:
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--without-pip", folder], check=True)
        python = str(Path(folder, "bin", "python"))
        packages = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        outer = dict.fromkeys(sysconfig.get_path(name) for name in ("purelib", "platlib"))
        Path(packages, "outer-environment.pth").write_text("".join(f"{p}\n" for p in outer))
        yield python


def measure(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path = ROOT
) -> Sample:
    """Run ``argv`` (standard output and input to /dev/null, standard error captured) and
    measure it; a non-zero exit raises with its standard error."""
    start = time.perf_counter()
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    errors = process.stderr.read()  # never fills the pipe: a few lines at most
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)}: exit {process.returncode}: {errors.decode(errors='replace')}"
        )
    return Sample(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_mib=usage.ru_maxrss / 1024)


def interleaved(
    commands: Mapping[str, Sequence[str]],
    *,
    rounds: int,
    warmup: int = 1,
    env: Mapping[str, str] | None = None,
    seed: int = 0,
) -> dict[str, Summary]:
    """Run every command once per round, in a shuffled order each round (so that no command
    always follows the same neighbour), after ``warmup`` uncounted rounds; the medians."""
    order = list(commands)
    shuffle = random.Random(seed).shuffle
    samples: dict[str, list[Sample]] = {name: [] for name in order}
    for round_number in range(warmup + rounds):
        shuffle(order)
        for name in order:
            sample = measure(commands[name], env=env)
            if round_number >= warmup:
                samples[name].append(sample)
    return {name: Summary.of(samples[name]) for name in commands}


def own_peak_mib() -> float:
    """This process's peak RSS (MiB): a floor under every child's figure."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def python_version() -> str:
    return sys.version.split()[0]


_REFS = re.compile(r"I\s+refs:\s+([0-9,]+)")


def instructions(argv: Sequence[str]) -> int:
    """The instructions ``argv`` executes in user space, counted by valgrind's cachegrind."""
    process = subprocess.run(
        [
            *("valgrind", "--tool=cachegrind", "--cache-sim=no"),
            "--cachegrind-out-file=/dev/null",
            *argv,
        ],
        cwd=ROOT,
        env=child_env({"PYTHONHASHSEED": "0"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    match = _REFS.search(process.stderr)
    assert match is not None, process.stderr[-2000:]
    return int(match[1].replace(",", ""))
