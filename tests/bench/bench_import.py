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

For scale, the same run times ``convcost analyze resnet50`` (the bundled YAML spec of the
same network): the import's own share is the difference. The runs alternate (torchinfo,
convcost, YAML, torchinfo, …) so that all meet the same load on the shared machine; wall
time and CPU time (user + system of the child) are reported as the best and the median of N. Issue 10's target: convcost at least 10× faster (wall, best).

Then the importer's own part, in one process (best of N after a first run): reading the file
(convcost.importer.onnx_file), the whole import in memory (``open_model``: read, shape
inference, conversion, structure, the spec built and checked), and, for scale, what the
``onnx`` package alone costs: ``import onnx`` in a fresh process and ``onnx.load`` of the file.
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


IN_PROCESS = """
import sys, time
from pathlib import Path
import convcost.build, convcost.engine, convcost.spec  # what analyze of a YAML spec imports
start = time.perf_counter()
import convcost.importer.onnx_reader, convcost.importer.structure
imported = time.perf_counter() - start
from convcost.importer import onnx_file, open_model
path = Path(sys.argv[1])
def best(call):
    call()
    times = []
    for _ in range({runs}):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)
print(imported, best(lambda: onnx_file.load(path)), best(lambda: open_model(path)))
"""

ONNX_PACKAGE = """
import sys, time
start = time.perf_counter()
import onnx
imported = time.perf_counter() - start
start = time.perf_counter()
onnx.load(sys.argv[1], load_external_data=False)
print(imported, time.perf_counter() - start)
"""


def in_process(path: Path) -> None:
    """The importer's part, and the onnx package's, each in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ours = subprocess.run(
        [sys.executable, "-c", IN_PROCESS.format(runs=20), str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    theirs = subprocess.run(
        [sys.executable, "-c", ONNX_PACKAGE, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    imported, read, whole = (float(v) * 1000 for v in ours)
    onnx_import, onnx_load = (float(v) * 1000 for v in theirs)
    print("\n| in one process | ms |")
    print("|---|---:|")
    print(f"| import the importer's own modules (beyond a YAML analyze's) | {imported:.0f} |")
    print(f"| read resnet50.onnx (convcost.importer.onnx_file.load), best of 20 | {read:.1f} |")
    print(f"| the whole import in memory (open_model), best of 20 | {whole:.1f} |")
    print(f"| for scale: `import onnx` (numpy, protobuf), fresh process | {onnx_import:.0f} |")
    print(f"| for scale: `onnx.load(resnet50.onnx, load_external_data=False)` | {onnx_load:.1f} |")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        path = export(Path(folder))
        convcost = [sys.executable, "-m", "convcost", "analyze", str(path)]
        torchinfo = [sys.executable, "-c", TORCHINFO]
        yaml = [sys.executable, "-m", "convcost", "analyze", "resnet50"]  # the bundled spec
        # bytecode of convcost as an installed package has it (PYTHONDONTWRITEBYTECODE, set
        # in some shells, would otherwise recompile every changed module in every run)
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(ROOT / "convcost")], check=True
        )
        timed(convcost, ROOT)  # warm the file cache and the bytecode of both
        timed(torchinfo, ROOT)
        runs: dict[str, list[tuple[float, float]]] = {"convcost": [], "torchinfo": [], "yaml": []}
        for _ in range(RUNS):
            runs["torchinfo"].append(timed(torchinfo, ROOT))
            runs["convcost"].append(timed(convcost, ROOT))
            runs["yaml"].append(timed(yaml, ROOT))
        size = path.stat().st_size, path.with_suffix(".onnx.data").stat().st_size
        in_process_table = io.StringIO()
        with contextlib.redirect_stdout(in_process_table):
            in_process(path)
    print(f"ResNet-50: {size[0]:,} bytes of graph, {size[1]:,} of weights (not read)\n")
    print("| what | wall, best | wall, median | CPU, best | CPU, median |")
    print("|---|---:|---:|---:|---:|")
    summary = {}
    for name, label in (
        ("convcost", "`convcost analyze resnet50.onnx`"),
        ("torchinfo", "`torchinfo.summary(resnet50, (1, 3, 224, 224))`"),
        ("yaml", "for scale: `convcost analyze resnet50` (the bundled YAML spec)"),
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
    print(in_process_table.getvalue(), end="")
    print(f"\nload average while it ran: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
