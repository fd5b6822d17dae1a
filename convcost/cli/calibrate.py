"""``convcost calibrate``: measure this machine on synthetic layers, write a device profile."""

from __future__ import annotations

import enum
import os
import time
from typing import Annotated

from convcost.cli.common import OutputOption, emit, fail, output_target, stderr
from convcost.cli.declare import Option, command
from convcost.errors import ConvcostError


class Backend(enum.StrEnum):
    NUMPY = "numpy"
    ONNXRUNTIME = "onnxruntime"


BackendOption = Annotated[
    Backend,
    Option(
        "--backend",
        help="The runtime to measure, as analyze --execute --backend runs it: numpy, or "
        "onnxruntime (needs the ort extra; the profile also records which layer kinds it "
        "folds into the conv before them). The profile records it.",
    ),
]
ThreadsOption = Annotated[
    int | None,
    Option(
        "--threads",
        min=1,
        max=256,
        help="Threads the runtime may use (OPENBLAS_NUM_THREADS for numpy, intra-op threads "
        "for onnxruntime); default: its own choice. The profile records it.",
    ),
]
RepeatsOption = Annotated[
    int,
    Option(
        "--repeat",
        min=1,
        max=100,
        help="Timed rounds, each running every synthetic network once (each layer's shortest "
        "time is kept); more is slower and steadier.",
    ),
]


QuickOption = Annotated[
    bool,
    Option(
        "--quick",
        help="Every sixth shape of each grid only: a coarse profile in seconds (a smoke test); "
        "the full grids are what the estimate's validation used.",
    ),
]


@command()
def calibrate(
    output: OutputOption = None,
    backend: BackendOption = Backend.NUMPY,
    threads: ThreadsOption = None,
    repeat: RepeatsOption = 7,
    quick: QuickOption = False,
) -> None:
    """Measure this machine on synthetic layers (never the zoo's models) and fit a device
    profile for --device: peak FLOP/s, bandwidth, each kernel class's share of them and its
    fixed cost per layer, and how much slower a small GEMM or depthwise product runs. Takes
    under a minute on a quiet machine; prints the fit's residuals on stderr.

    Example:

        convcost calibrate -o this-machine.yaml --quick --repeat 1

        convcost analyze mobilenet_v2 --device this-machine.yaml --execute --depth 1
    """
    target = output_target(output)
    if backend is Backend.ONNXRUNTIME:  # the extras first: a missing one is one line, exit 2
        try:
            _load_ort()
        except ConvcostError as error:
            fail(error)
    elif threads is not None:  # read by the executor's BLAS set-up, before numpy is loaded
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(threads)
    from convcost.latency.calibrate import fit_profile, measure
    from convcost.latency.probe import Probe
    from convcost.latency.profile_text import profile_yaml
    from convcost.render.calibration import calibration_progress, residual_summary

    console = stderr()
    start = time.perf_counter()
    try:
        probe = Probe()  # the machine's speed while measuring, kept in the profile
        with calibration_progress(console) as progress:
            samples = measure(
                repeat=repeat,
                progress=progress,
                quick=quick,
                backend=backend.value,
                threads=threads,
                probe=probe,
            )
            calibration = fit_profile(
                samples,
                device=f"this machine ({os.uname().nodename})",
                backend=backend.value,
                threads=threads or _default_threads(backend),
                probe=probe.rate,
            )
    except ConvcostError as error:
        fail(error)
    elapsed = time.perf_counter() - start
    comments = (
        f"Calibrated by `convcost calibrate --backend {backend.value}"
        f"{' --quick' if quick else ''}` in {elapsed:.0f} s on synthetic layers (docs/latency.md).",
        "Peak FLOP/s is the fastest synthetic GEMM's rate and bandwidth the fastest elementwise",
        "layer's; the efficiencies are each kernel class's (and kind's) fitted share of them.",
    )
    emit(profile_yaml(calibration.profile, comments=comments), target)
    console.print(residual_summary(calibration), markup=False, highlight=False)


def _load_ort() -> None:
    from convcost.executor.ort import load_onnxruntime
    from convcost.export.onnx_model import load_onnx

    load_onnxruntime()
    load_onnx()


def _default_threads(backend: Backend) -> int:
    """What the runtime uses when not told: OpenBLAS's threads, or one per core for ORT."""
    if backend is Backend.ONNXRUNTIME:
        return os.cpu_count() or 1
    from convcost.executor.blas import blas_threads

    return blas_threads()
