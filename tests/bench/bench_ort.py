"""Benchmark: ``--execute --backend onnxruntime`` against PyTorch eager, and ONNX export time
(not a test; run by hand).

    PYTHONPATH=. python tests/bench/bench_ort.py [--passes 10]

In one run, on 2 threads each (``torch.set_num_threads(2)``; ORT's ``intra_op_num_threads``):

- ResNet-50 at batch 1 and 8: the median warm forward time of convcost's ORT backend
  (:func:`convcost.executor.ort.execute_ort`, ``--passes`` timed passes after one warm-up) and
  of the plain-torch reference model (``tests/torch_models.py``, eval mode, ``no_grad``), in
  alternating blocks; the ratio is ORT / torch;
- ``onnx_bytes`` for DenseNet-121 (weights drawn, graph written, serialized), best of 3, and
  its size; against ``torch.onnx.export`` (TorchScript exporter) of the torch reference in the
  same run as the peer floor.

Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import torch  # noqa: E402
import torch_models  # noqa: E402

from convcost import zoo  # noqa: E402
from convcost.build import build  # noqa: E402
from convcost.executor.ort import execute_ort  # noqa: E402
from convcost.export.onnx_model import onnx_bytes  # noqa: E402
from convcost.spec import load_spec  # noqa: E402

THREADS = 2


def _torch_pass(model: torch.nn.Module, x: torch.Tensor, passes: int) -> list[float]:
    times = []
    with torch.no_grad():
        model(x)  # warm-up
        for _ in range(passes):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    print(f"load average at the start: {os.getloadavg()[0]:.2f}\n")
    network = build(load_spec(zoo.ZOO_DIR / "resnet50.yaml"))
    reference = torch_models.resnet50().eval()
    print(
        f"ResNet-50, {THREADS} threads, median of {args.passes} warm passes per block, 2 blocks\n"
    )
    print("| batch | convcost ORT backend | torch eager | ORT / torch |")
    print("|---|---|---|---|")
    for batch in (1, 8):
        ort_times: list[float] = []
        torch_times: list[float] = []
        x = torch.randn(batch, 3, 224, 224)
        for _ in range(2):
            run = execute_ort(network, batch=batch, threads=THREADS, repeat=args.passes)
            ort_times.append(run.seconds)
            torch_times.append(statistics.median(_torch_pass(reference, x, args.passes)))
        a, b = statistics.median(ort_times), statistics.median(torch_times)
        print(f"| {batch} | {a * 1e3:.1f} ms | {b * 1e3:.1f} ms | {a / b:.2f}× |")

    spec = load_spec(zoo.ZOO_DIR / "densenet121.yaml")
    export_times, size = [], 0
    for _ in range(3):
        start = time.perf_counter()
        size = len(onnx_bytes(spec))
        export_times.append(time.perf_counter() - start)
    dense = torch_models.densenet121().eval()
    torch_times = []
    for _ in range(3):
        buffer = io.BytesIO()
        start = time.perf_counter()
        torch.onnx.export(dense, (torch.randn(1, 3, 224, 224),), buffer, dynamo=False)
        torch_times.append(time.perf_counter() - start)
    print("\nDenseNet-121 to ONNX, best of 3\n")
    print("| exporter | time | size |")
    print("|---|---|---|")
    print(f"| convcost `onnx_bytes` | {min(export_times):.2f} s | {size / 2**20:.1f} MiB |")
    print(
        f"| torch.onnx.export (TorchScript) | {min(torch_times):.2f} s | "
        f"{len(buffer.getvalue()) / 2**20:.1f} MiB |"
    )
    print(f"\nratio convcost / torch: {min(export_times) / min(torch_times):.2f}×")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
