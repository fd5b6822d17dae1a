"""Benchmark: for every comparison in specs/ (the first variant against the second), the MAC
ratio next to the measured latency ratio on ONNX Runtime and on NumPy (not a test).

    PYTHONPATH=. python tests/bench/bench_compare_ort.py

Each design runs as ``compare --execute --backend B --threads 2 --repeat 20`` runs it
(``convcost.compare.collect`` with :func:`convcost.executor.run_backend`). Prints Markdown.
"""

from __future__ import annotations

import functools
import glob
import os

from convcost import compare as comparing
from convcost.executor import run_backend
from convcost.spec import load_spec

print(f"load {os.getloadavg()[0]:.1f}")
rows: list[list[str]] = []
row: list[str] = []
for path in sorted(glob.glob("specs/*.yaml")):
    spec = load_spec(path)
    if len(spec.variants) < 2:
        continue
    for backend in ("onnxruntime", "numpy"):
        run = functools.partial(run_backend, backend, threads=2, repeat=20)
        entries = comparing.collect([spec], run=run)
        base, other = entries[0], entries[1]
        assert base.execution is not None
        assert other.execution is not None
        mac = other.report.totals.macs / base.report.totals.macs
        lat = other.execution.seconds / base.execution.seconds
        if backend == "onnxruntime":
            seconds = f"{base.execution.seconds * 1e3:.2f} → {other.execution.seconds * 1e3:.2f} ms"
            row = [path.split("/")[-1], f"{other.name} / {base.name}", f"{mac:.2f}×"]
            row.append(f"{lat:.2f}× ({seconds})")
        else:
            row.append(f"{lat:.2f}×")
    rows.append(row)
print("| spec | ratio | MACs | ORT latency (baseline → other) | NumPy latency |")
print("|---|---|---:|---:|---:|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print(f"load {os.getloadavg()[0]:.1f}")
