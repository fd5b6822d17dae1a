"""``convcost calibrate``: measure this machine on synthetic layers, write a device profile."""

from __future__ import annotations

import enum
import os
import time
from typing import Annotated

import typer

from convcost.cli.common import OutputOption, app, emit, fail, output_target, stderr
from convcost.errors import ConvcostError


class Backend(enum.StrEnum):
    NUMPY = "numpy"
    ONNXRUNTIME = "onnxruntime"


BackendOption = Annotated[
    Backend,
    typer.Option(
        "--backend",
        help="The runtime to measure: numpy (the --execute executor); onnxruntime once the "
        "ONNX Runtime backend is installed. The profile records it.",
    ),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option(
        "--threads",
        min=1,
        max=256,
        help="Threads the runtime may use (OPENBLAS_NUM_THREADS for numpy); default: its own "
        "choice. The profile records it.",
    ),
]
RepeatsOption = Annotated[
    int,
    typer.Option(
        "--repeat",
        min=1,
        max=100,
        help="Timed rounds, each running every synthetic network once (each layer's shortest "
        "time is kept); more is slower and steadier.",
    ),
]


QuickOption = Annotated[
    bool,
    typer.Option(
        "--quick",
        help="Every sixth shape of each grid only: a coarse profile in seconds (a smoke test); "
        "the full grids are what the estimate's validation used.",
    ),
]


@app.command()
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
    if backend is Backend.ONNXRUNTIME:
        fail(
            ConvcostError(
                "--backend onnxruntime: the ONNX Runtime backend is not part of this build; "
                "calibrate with --backend numpy (the profile records which backend it measured)"
            )
        )
    if threads is not None:  # read by the executor's BLAS set-up, before numpy is loaded
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(threads)
    from convcost.executor.blas import blas_threads
    from convcost.latency.calibrate import fit_profile, measure
    from convcost.latency.profile_text import profile_yaml
    from convcost.render.calibration import calibration_progress, residual_summary

    console = stderr()
    start = time.perf_counter()
    try:
        with calibration_progress(console) as progress:
            samples = measure(repeat=repeat, progress=progress, quick=quick)
            calibration = fit_profile(
                samples,
                device=f"this machine ({os.uname().nodename})",
                backend=backend.value,
                threads=threads or blas_threads(),
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
