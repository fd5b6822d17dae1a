"""Benchmark: the HTML report of DenseNet-121 (not a test; run by hand).

    PYTHONPATH=. python tests/bench/bench_report.py [--model densenet121] [--repeat 7]

In process: the spec is loaded, built and analysed once, outside the timings (``analyses``);
then, interleaved, ``repeat`` runs of each (CPU time, best and median; the machine is shared):

- ``report_page``: the whole page (structure, four charts, the totals and the layer table);
- the floor: ``analyze --format json``'s text for the same report (``formats.to_json``);
- analysis: ``analyses`` itself (load not included), for scale.

Also the whole command in a fresh process, alternating ``convcost report MODEL -o FILE`` with
its floor ``convcost analyze MODEL --format json -o FILE`` (wall time), and the page's size. Prints a Markdown table (docs/benchmarks.md, "report").
The targets (issue 15): the page renders in under 1 s and is under 2 MB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from convcost import zoo
from convcost.html.page import analyses, report_page
from convcost.render import formats
from convcost.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]


def cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="densenet121")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    path = zoo.find(args.model)
    assert path is not None, args.model
    spec = load_spec(path)
    found = analyses(spec)
    reports = [analysis.report for analysis in found]
    runs: dict[str, list[float]] = {"page": [], "json": [], "analysis": []}
    for _ in range(args.repeat):
        runs["page"].append(cpu(lambda: report_page(found)))
        runs["json"].append(cpu(lambda: formats.to_json(reports)))
        runs["analysis"].append(cpu(lambda: analyses(spec)))
    page = report_page(found)
    walls: dict[str, list[float]] = {"report": [], "analyze": []}
    commands = {
        "report": ["report", args.model, "-o"],
        "analyze": ["analyze", args.model, "--format", "json", "-o"],
    }
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "out")
        for _ in range(args.repeat):
            for key, command in commands.items():
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "convcost", *command, out], check=True, cwd=ROOT
                )
                walls[key].append(time.perf_counter() - start)
    ms = {key: (min(v) * 1000, statistics.median(v) * 1000) for key, v in runs.items()}
    print(f"{args.model}: {len(reports[0].layers)} layers, page {len(page.encode()):,} bytes")
    print()
    print("| what | CPU, best | CPU, median |")
    print("|---|---:|---:|")
    print(f"| `report_page` (the HTML) | {ms['page'][0]:.0f} ms | {ms['page'][1]:.0f} ms |")
    print(f"| `to_json` (the floor) | {ms['json'][0]:.0f} ms | {ms['json'][1]:.0f} ms |")
    print(
        f"| `analyses` (build and analyse) | {ms['analysis'][0]:.0f} ms | {ms['analysis'][1]:.0f} ms |"
    )
    print(
        f"| **page / JSON** | **{ms['page'][0] / ms['json'][0]:.1f}×** | **{ms['page'][1] / ms['json'][1]:.1f}×** |"
    )
    print()
    print("| whole process (wall) | best | median |")
    print("|---|---:|---:|")
    for key, command in commands.items():
        shown = " ".join(["convcost", *command, "FILE"])
        print(
            f"| `{shown}` | {min(walls[key]) * 1000:.0f} ms | {statistics.median(walls[key]) * 1000:.0f} ms |"
        )
    ratio = (
        min(walls["report"]) / min(walls["analyze"]),
        statistics.median(walls["report"]) / statistics.median(walls["analyze"]),
    )
    print(f"| **report / analyze --format json** | **{ratio[0]:.2f}×** | **{ratio[1]:.2f}×** |")


if __name__ == "__main__":
    main()
