"""Benchmark: `convcost analyze resnet50.onnx` against torchinfo on the same model, whole
processes (not a test; run it by hand; needs torch, onnx, onnxscript and torchinfo).

    PYTHONPATH=. python tests/bench/bench_import.py

ResNet-50 is tests/torch_models.torchvision_resnet50 (torchvision's ResNet class), exported once
by `torch.onnx.export` (dynamo, eval mode) into a temporary folder. The two commands, each a
fresh Python process, both print a per-layer table and the totals of that model:

- convcost: `python -m convcost analyze resnet50.onnx` (reads the .onnx, not its weights);
- torchinfo: `python -c "import torch, torchinfo, …; torchinfo.summary(resnet50(), (1, 3,
  224, 224))"`, which builds the module and runs it on a zero tensor, as a user of torchinfo
  does from a model definition.

The runs alternate (torchinfo, convcost, torchinfo, …) so that both meet the same load on the
shared machine; wall time and CPU time (user + system of the child) are reported as the best
and the median of N. Issue 10's target: convcost at least 10× faster (wall, best).
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

from tests.onnx_exports import trained_like
from tests.torch_models import torchvision_resnet50

ROOT = Path(__file__).resolve().parents[2]
RUNS = 7

TORCHINFO = (
    "import torch, torchinfo\n"
    "from tests.torch_models import torchvision_resnet50\n"
    "torchinfo.summary(torchvision_resnet50(), (1, 3, 224, 224), verbose=1)\n"
)


def export(folder: Path) -> Path:
    path = folder / "resnet50.onnx"
    model = trained_like(torchvision_resnet50()).eval()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=True)
    return path


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of ``command``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    assert process.stderr is not None
    error = process.stderr.read()
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, error
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        path = export(Path(folder))
        convcost = [sys.executable, "-m", "convcost", "analyze", str(path)]
        torchinfo = [sys.executable, "-c", TORCHINFO]
        timed(convcost, ROOT)  # warm the file cache and the bytecode of both
        timed(torchinfo, ROOT)
        runs: dict[str, list[tuple[float, float]]] = {"convcost": [], "torchinfo": []}
        for _ in range(RUNS):
            runs["torchinfo"].append(timed(torchinfo, ROOT))
            runs["convcost"].append(timed(convcost, ROOT))
        size = path.stat().st_size, path.with_suffix(".onnx.data").stat().st_size
    print(f"ResNet-50: {size[0]:,} bytes of graph, {size[1]:,} of weights (not read)\n")
    print("| what | wall, best | wall, median | CPU, best | CPU, median |")
    print("|---|---:|---:|---:|---:|")
    summary = {}
    for name, label in (
        ("convcost", "`convcost analyze resnet50.onnx`"),
        ("torchinfo", "`torchinfo.summary(resnet50, (1, 3, 224, 224))`"),
    ):
        walls = [wall for wall, _ in runs[name]]
        cpus = [cpu for _, cpu in runs[name]]
        summary[name] = (min(walls), statistics.median(walls), min(cpus), statistics.median(cpus))
        cells = " | ".join(f"{value * 1000:.0f} ms" for value in summary[name])
        print(f"| {label} | {cells} |")
    ratios = [t / c for t, c in zip(summary["torchinfo"], summary["convcost"], strict=True)]
    cells = " | ".join(f"**{ratio:.1f}×**" for ratio in ratios)
    print(f"| **torchinfo / convcost** (target ≥ 10×) | {cells} |")
    print(f"\npython {sys.version.split()[0]}; {RUNS} alternating runs of each, whole processes")


if __name__ == "__main__":
    main()
