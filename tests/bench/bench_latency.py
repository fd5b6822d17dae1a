"""Benchmark: the latency estimate against measured NumPy runs (not a test; run by hand).

    PYTHONPATH=. python tests/bench/bench_latency.py [--profile FILE | --save-profile FILE]
        [--repeat 5] [--models resnet50,…] [--no-specs]

Without ``--profile`` it first calibrates this machine (``convcost calibrate``'s library call,
synthetic layers only) and uses that profile. Then, for every zoo model, it runs the network
through ``--execute``'s executor (one warm-up pass, then ``--repeat`` passes; each layer's
shortest time, as calibration measures it: a shared machine's load only adds to a time; the
per-layer medians, which ``analyze --device --execute`` shows, are printed too) and compares
with ``estimate``:

- the predicted total against the measured forward time: counts within ±10% and ±20%;
- Spearman's rank correlation of predicted and measured per-layer times, per model;

and for every spec in specs/ with variants (a design comparison): the MAC ratio, the predicted
and the measured latency ratio of each variant against the first, and whether the predicted
ranking of the variants equals the measured one. Prints Markdown tables (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from convcost import zoo
from convcost.build import build
from convcost.engine import analyze_network
from convcost.latency.calibrate import fit_profile, measure, time_network
from convcost.latency.estimate import estimate
from convcost.latency.profile import DeviceProfile, load_profile
from convcost.latency.profile_text import profile_yaml
from convcost.spec import load_spec

ROOT = Path(__file__).parent.parent.parent


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = math.sqrt(sum((x - ma) ** 2 for x in ra))
    vb = math.sqrt(sum((y - mb) ** 2 for y in rb))
    return cov / (va * vb) if va and vb else 0.0


def run(spec_path: Path, variant: int, profile: DeviceProfile, repeat: int) -> dict[str, object]:
    spec = load_spec(spec_path)
    network = build(spec, spec.variants[variant])
    report = analyze_network(network)
    predicted = estimate(report, profile)
    timing = time_network(network, repeat=repeat)
    return {
        "name": network.name,
        "macs": report.totals.macs,
        "predicted": predicted.seconds,
        # what the estimate sums, measured as calibration measures: each layer's shortest
        # time over the passes, summed (the medians' sum and the median whole pass beside)
        "measured": sum(timing.layers),
        "pass": timing.median_seconds,
        "median": sum(timing.median_layers),
        "spearman": spearman([layer.seconds for layer in predicted.layers], list(timing.layers)),
        "layers": len(report.layers),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--models", default="")
    parser.add_argument("--no-specs", action="store_true")
    parser.add_argument("--save-profile", help="write the profile calibrated here to this file")
    args = parser.parse_args()
    if args.profile:
        profile = load_profile(args.profile)
    else:
        start = time.perf_counter()
        profile = fit_profile(measure(), device="this machine", backend="numpy", threads=2).profile
        print(f"calibrated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        if args.save_profile:
            Path(args.save_profile).write_text(profile_yaml(profile), encoding="utf-8")
    names = args.models.split(",") if args.models else zoo.names()
    rows = []
    for name in names:
        path = zoo.find(name)
        assert path is not None, name
        result = run(path, 0, profile, args.repeat)
        error = (result["predicted"] - result["measured"]) / result["measured"]  # type: ignore[operator]
        rows.append((name, result, error))
        print(
            f"{name}: predicted {result['predicted']:.4f} s, measured {result['measured']:.4f} s "
            f"({error:+.1%}), per-layer medians {result['median']:.4f} s, whole pass "
            f"{result['pass']:.4f} s, Spearman {result['spearman']:.3f}",
            file=sys.stderr,
        )
    print(
        "| model | layers | predicted | measured (Σ layer minima) | error | Σ layer medians "
        "| error | Spearman |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for name, result, error in rows:
        print(
            f"| {name} | {result['layers']} | {result['predicted'] * 1e3:.1f} ms | "  # type: ignore[operator]
            f"{result['measured'] * 1e3:.1f} ms | {error:+.1%} | "  # type: ignore[operator]
            f"{result['median'] * 1e3:.1f} ms | "  # type: ignore[operator]
            f"{result['predicted'] / result['median'] - 1:+.1%} | "  # type: ignore[operator]
            f"{result['spearman']:.3f} |"
        )
    within10 = sum(abs(error) <= 0.10 for _, _, error in rows)
    within20 = sum(abs(error) <= 0.20 for _, _, error in rows)
    good_rank = sum(result["spearman"] >= 0.8 for _, result, _ in rows)  # type: ignore[operator]
    print(
        f"\nwithin ±10%: {within10} of {len(rows)}; within ±20%: {within20} of {len(rows)}; "
        f"Spearman ≥ 0.8: {good_rank} of {len(rows)}\n"
    )
    if args.no_specs:
        return
    print("| comparison | variant | MACs ratio | predicted ratio | measured ratio |")
    print("|---|---|--:|--:|--:|")
    right = 0
    specs = [p for p in sorted((ROOT / "specs").glob("*.yaml")) if len(load_spec(p).variants) > 1]
    for path in specs:
        spec = load_spec(path)
        results = [run(path, i, profile, args.repeat) for i in range(len(spec.variants))]
        base = results[0]
        for variant, result in zip(spec.variants, results, strict=True):
            print(
                f"| {path.stem} | {variant.name} | {result['macs'] / base['macs']:.3f} | "  # type: ignore[operator]
                f"{result['predicted'] / base['predicted']:.3f} | "  # type: ignore[operator]
                f"{result['measured'] / base['measured']:.3f} |"  # type: ignore[operator]
            )
        order_p = sorted(range(len(results)), key=lambda i: results[i]["predicted"])  # type: ignore[arg-type,return-value]
        order_m = sorted(range(len(results)), key=lambda i: results[i]["measured"])  # type: ignore[arg-type,return-value]
        right += order_p == order_m
        print(f"| {path.stem} | ranked {'right' if order_p == order_m else 'WRONG'} | | | |")
    print(f"\ncomparisons ranked right: {right} of {len(specs)}")


if __name__ == "__main__":
    main()
