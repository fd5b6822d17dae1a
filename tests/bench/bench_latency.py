"""Benchmark: the latency estimate against measured runs (not a test; run by hand).

    PYTHONPATH=. python tests/bench/bench_latency.py [--profile FILE | --save-profile FILE]
        [--repeat 5] [--calibration-repeat 7] [--models resnet50,…] [--no-specs]
        [--backend numpy|onnxruntime] [--threads N] [--calibrate interleave|drift|each|once]
        [--drift 0.15]
        [--dump layers.tsv] [--comparison-repeat 30]

``--backend onnxruntime`` calibrates on and measures with ``--execute --backend onnxruntime``
(:func:`convcost.executor.ort.execute_ort`: the layers ORT folds into a conv at 0 and the conv
carrying them), each layer's shortest time over ``--repeat`` passes as with NumPy, and the
medians from a second run of ``--repeat`` passes.

Without ``--profile`` it first calibrates this machine (``convcost calibrate``'s library call,
synthetic layers only) and uses that profile. A shared machine's speed drifts (another busy
process on one of 2 cores halves a 2-thread product's rate within minutes), and a prediction
holds only for the speed the profile was calibrated at; so the speed probe
(:mod:`convcost.latency.probe`) runs beside every calibration and every model's passes.
``--calibrate interleave`` (the default) calibrates once per model, with the model's
``--repeat`` passes spread evenly between the calibration's rounds of synthetic networks
(:func:`measure`'s ``between``), so the profile and the measurement meet the same machine;
``drift`` calibrates again before a model whenever the probe's median rate over a few passes
is more than ``--drift`` (15%) off the profile's; ``each`` calibrates right before every
model, ``once`` only at the start. Each model's row shows the probe
at its calibration and during its passes (the median of each; their ratio is the drift it was
measured under). Predictions come from the profile alone: the probe only decides when to
calibrate again, it never scales an estimate.

Then, for every zoo model, it runs the network
through ``--execute``'s executor (one warm-up pass, then ``--repeat`` passes; each layer's
shortest time, as calibration measures it: a shared machine's load only adds to a time; the
per-layer medians, which ``analyze --device --execute`` shows, are printed too) and compares
with ``estimate``:

- the predicted total against the measured forward time: counts within ±10% and ±20%;
- Spearman's rank correlation of predicted and measured per-layer times, per model;

and for every spec in specs/ with variants (a design comparison): the MAC ratio, the predicted
and the measured latency ratio of each variant against the first, and whether the predicted
ranking of the variants equals the measured one. A comparison is measured as a user would
time the alternatives: whole forward passes (the shortest of ``--repeat`` interleaved rounds;
with ORT each variant's shortest ``session.run``), not the sum of per-layer minima, which on a
network of one to three layers is dominated by where the per-layer clock stops (the sum is
printed beside it). Prints Markdown tables (docs/benchmarks.md),
then the verdict on issue 13's targets (its 11 models: at least 9 within ±20%, Spearman ≥ 0.8
for each; every design comparison ranked right); the load average goes to stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from convcost import zoo
from convcost.build import build
from convcost.engine import analyze_network
from convcost.latency.calibrate import Timing, fit_profile, measure, timing_of
from convcost.latency.estimate import estimate
from convcost.latency.probe import Probe
from convcost.latency.profile import DeviceProfile, load_profile
from convcost.latency.profile_text import profile_yaml
from convcost.network import Network
from convcost.spec import load_spec

ROOT = Path(__file__).parent.parent.parent

ISSUE_MODELS = (
    "alexnet",
    "densenet121",
    "googlenet",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "resnet18",
    "resnet50",
    "resnet50_v1",
    "shufflenet_v2_x1_0",
    "squeezenet1_0",
    "vgg16",
)
"""The 11 zoo models issue 13's target names (the zoo before ConvNeXt-Tiny, U-Net, DeepLabV3
and ESPCN joined it): at least 9 within ±20%."""


def load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


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


BACKEND: dict[str, object] = {"name": "numpy", "threads": None}
"""The runtime measured (``--backend``, ``--threads``)."""


class Calibrator:
    """The profile in use, and when to calibrate again (``--calibrate``, ``--drift``)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.probe = Probe()
        self.model_probe = Probe()
        self.profile: DeviceProfile | None = load_profile(args.profile) if args.profile else None
        self.calibrations = 0
        self.seconds = 0.0

    def calibrate(self, between: Callable[[int, int], None] | None = None) -> DeviceProfile:
        args = self.args
        start = time.perf_counter()
        self.probe.reset()
        samples = measure(
            repeat=args.calibration_repeat,
            backend=args.backend,
            threads=args.threads,
            probe=self.probe,
            between=between,
        )
        profile = fit_profile(
            samples,
            device="this machine",
            backend=args.backend,
            threads=args.threads or 2,
            probe=self.probe.rate,
        ).profile
        elapsed = time.perf_counter() - start
        self.calibrations += 1
        self.seconds += elapsed
        print(
            f"calibration {self.calibrations} in {elapsed:.1f} s, probe "
            f"{self.probe.rate / 1e9:.0f} GFLOP/s ({load()})",
            file=sys.stderr,
        )
        if args.save_profile:
            Path(args.save_profile).write_text(profile_yaml(profile), encoding="utf-8")
        self.profile = profile
        return profile

    def current(self) -> DeviceProfile:
        """The profile to predict the next model (or comparison) with: calibrated again first
        when the mode says so (``each``; ``drift``: the probe now is more than ``--drift`` off
        the profile's); ``interleave`` keeps the last model's for the comparisons (a ranking
        within one spec, measured in interleaved rounds, does not need a fresh one)."""
        mode = self.args.calibrate
        if self.profile is None or mode == "each":
            return self.calibrate()
        if mode == "drift" and self.profile.probe:
            self.probe.reset()
            for _ in range(7):
                self.probe.run()
            if abs(math.log(self.probe.rate / self.profile.probe)) > math.log1p(self.args.drift):
                print(
                    f"probe {self.probe.rate / 1e9:.0f} GFLOP/s against the profile's "
                    f"{self.profile.probe / 1e9:.0f}: calibrating again",
                    file=sys.stderr,
                )
                return self.calibrate()
        return self.profile


def run(spec_path: Path, variant: int, calibrator: Calibrator, repeat: int) -> dict[str, object]:
    spec = load_spec(spec_path)
    network = build(spec, spec.variants[variant])
    report = analyze_network(network)
    if calibrator.args.calibrate == "interleave":
        profile, timing, rate = interleaved(network, calibrator, repeat)
    else:
        profile = calibrator.current()
        calibrator.probe.reset()
        timing = time_network_on(network, repeat=repeat, probe=calibrator.probe)
        rate = calibrator.probe.rate
    predicted = estimate(report, profile)
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
        "probe_calibrated": profile.probe or 0.0,
        "probe_measured": rate,
        "per_layer": [
            f"{network.name}\t{layer.path}\t{layer.kind}\t{guess.bound}\t{guess.seconds:.3e}\t"
            f"{seconds:.3e}"
            for layer, guess, seconds in zip(
                report.layers, predicted.layers, timing.layers, strict=True
            )
        ],
    }


def time_network_on(network: Network, *, repeat: int, probe: Probe) -> Timing:
    """:func:`time_network` on the chosen backend, the probe between passes (ORT: one run
    keeping each layer's shortest time, as calibration does, and one keeping medians, as
    ``analyze --execute`` shows; the probe before, between and after them)."""
    if BACKEND["name"] != "onnxruntime":
        from convcost.executor import prepare  # noqa: PLC0415

        prepared = prepare(network)
        prepared.forward()  # warm-up
        runs = []
        for _ in range(repeat):
            probe.run()
            runs.append(prepared.forward())
        probe.run()
        return timing_of([(run.seconds, [layer.seconds for layer in run.layers]) for run in runs])
    from convcost.executor.ort import execute_ort  # noqa: PLC0415

    threads = BACKEND["threads"]
    threads = threads if isinstance(threads, int) else None
    for _ in range(3):
        probe.run()
    fast = execute_ort(network, repeat=repeat, threads=threads, fastest=True)
    for _ in range(3):
        probe.run()
    median = execute_ort(network, repeat=repeat, threads=threads)
    for _ in range(3):
        probe.run()
    return Timing(
        layers=tuple(layer.seconds for layer in fast.layers),
        seconds=fast.seconds,
        median_layers=tuple(layer.seconds for layer in median.layers),
        median_seconds=median.seconds,
    )


def interleaved(
    network: Network, calibrator: Calibrator, repeat: int
) -> tuple[DeviceProfile, Timing, float]:
    """A calibration with the model's ``repeat`` passes spread evenly between its rounds of
    synthetic networks (the probe after each pass), so that the profile and the measurement
    meet the same machine: (the profile, the model's timing, the probe's median rate over its
    passes). The profile is fitted on the synthetic samples alone."""
    one_pass = _pass_runner(network)
    runs: list[tuple[float, tuple[float, ...]]] = []
    model_probe = calibrator.model_probe
    model_probe.reset()

    def between(index: int, count: int) -> None:
        for _ in range((index + 1) * repeat // count - index * repeat // count):
            runs.append(one_pass())
            model_probe.run()

    profile = calibrator.calibrate(between)
    while len(runs) < repeat:  # fewer rounds than passes: the rest at the end
        runs.append(one_pass())
        model_probe.run()
    return profile, timing_of(runs), model_probe.rate


def _pass_runner(network: Network) -> Callable[[], tuple[float, tuple[float, ...]]]:
    """One timed pass of ``network`` on the chosen backend: (seconds, per-layer seconds). NumPy:
    prepared once and warmed up; ORT: each pass exported and warmed up afresh (its sessions
    cannot be held across the calibration's own)."""
    if BACKEND["name"] == "onnxruntime":
        from convcost.executor.ort import execute_ort  # noqa: PLC0415

        threads = BACKEND["threads"]

        def ort_pass() -> tuple[float, tuple[float, ...]]:
            run = execute_ort(
                network, repeat=1, threads=threads if isinstance(threads, int) else None
            )
            return run.seconds, tuple(layer.seconds for layer in run.layers)

        return ort_pass
    from convcost.executor import prepare  # noqa: PLC0415

    prepared = prepare(network)
    prepared.forward()  # warm-up

    def numpy_pass() -> tuple[float, tuple[float, ...]]:
        run = prepared.forward()
        return run.seconds, tuple(layer.seconds for layer in run.layers)

    return numpy_pass


def time_variants(networks: list[Network], *, repeat: int) -> list[tuple[float, tuple[float, ...]]]:
    """Per variant: its shortest whole forward pass, and each layer's shortest time. NumPy:
    ``repeat`` rounds after a warm-up one, each running every variant once (interleaved, so
    the machine's load weighs on them alike); ORT: each variant's passes in one session."""
    if BACKEND["name"] == "onnxruntime":
        from convcost.executor.ort import execute_ort  # noqa: PLC0415

        threads = BACKEND["threads"]
        runs = [
            execute_ort(
                network,
                repeat=repeat,
                threads=threads if isinstance(threads, int) else None,
                fastest=True,
            )
            for network in networks
        ]
        return [(run.seconds, tuple(layer.seconds for layer in run.layers)) for run in runs]
    from convcost.executor import prepare  # noqa: PLC0415

    prepared = [prepare(network) for network in networks]
    best = []
    for each in prepared:
        warm = each.forward()
        best.append([math.inf] + [math.inf for _ in warm.layers])
    for _ in range(repeat):
        for index, each in enumerate(prepared):
            run = each.forward()
            times = [run.seconds] + [layer.seconds for layer in run.layers]
            best[index] = [min(a, b) for a, b in zip(best[index], times, strict=True)]
    return [(times[0], tuple(times[1:])) for times in best]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--models", default="")
    parser.add_argument("--no-specs", action="store_true")
    parser.add_argument("--save-profile", help="write the (last) profile calibrated to this file")
    parser.add_argument("--calibration-repeat", type=int, default=7)
    parser.add_argument(
        "--comparison-repeat",
        type=int,
        default=30,
        help="interleaved rounds per design comparison (its networks are small: a pass is ms)",
    )
    parser.add_argument("--backend", choices=("numpy", "onnxruntime"), default="numpy")
    parser.add_argument("--threads", type=int)
    parser.add_argument(
        "--calibrate", choices=("interleave", "drift", "each", "once"), default="interleave"
    )
    parser.add_argument("--drift", type=float, default=0.15)
    parser.add_argument("--dump", help="write each layer's predicted and measured time here")
    args = parser.parse_args()
    if args.threads and args.backend == "numpy":  # read by the executor's BLAS set-up
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(args.threads)
    BACKEND.update(name=args.backend, threads=args.threads)
    print(f"start: {load()}; backend {args.backend}", file=sys.stderr)
    calibrator = Calibrator(args)
    names = args.models.split(",") if args.models else zoo.names()
    rows = []
    for name in names:
        path = zoo.find(name)
        assert path is not None, name
        result = run(path, 0, calibrator, args.repeat)
        error = (result["predicted"] - result["measured"]) / result["measured"]  # type: ignore[operator]
        rows.append((name, result, error))
        print(
            f"{name}: predicted {result['predicted']:.4f} s, measured {result['measured']:.4f} s "
            f"({error:+.1%}), per-layer medians {result['median']:.4f} s, whole pass "
            f"{result['pass']:.4f} s, Spearman {result['spearman']:.3f}, probe "
            f"{drift_text(result)} ({load()})",
            file=sys.stderr,
        )
    print(
        "| model | layers | predicted | measured (Σ layer minima) | error | Σ layer medians "
        "| error | Spearman | probe GFLOP/s, calibration → passes |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for name, result, error in rows:
        print(
            f"| {name} | {result['layers']} | {result['predicted'] * 1e3:.1f} ms | "  # type: ignore[operator]
            f"{result['measured'] * 1e3:.1f} ms | {error:+.1%} | "  # type: ignore[operator]
            f"{result['median'] * 1e3:.1f} ms | "  # type: ignore[operator]
            f"{result['predicted'] / result['median'] - 1:+.1%} | "  # type: ignore[operator]
            f"{result['spearman']:.3f} | {drift_text(result)} |"
        )
    within10 = sum(abs(error) <= 0.10 for _, _, error in rows)
    within20 = sum(abs(error) <= 0.20 for _, _, error in rows)
    good_rank = sum(result["spearman"] >= 0.8 for _, result, _ in rows)  # type: ignore[operator]
    print(
        f"\nwithin ±10%: {within10} of {len(rows)}; within ±20%: {within20} of {len(rows)}; "
        f"Spearman ≥ 0.8: {good_rank} of {len(rows)}\n"
    )
    verdict = issue_verdict(rows, args.drift)
    if not args.no_specs:
        verdict.append(comparisons(calibrator, args.comparison_repeat))
    verdict.append(
        f"calibrations: {calibrator.calibrations} ({args.calibrate}), "
        f"{calibrator.seconds:.0f} s in all"
    )
    if args.dump:
        lines = [line for _, result, _ in rows for line in result["per_layer"]]  # type: ignore[attr-defined]
        Path(args.dump).write_text(
            "model\tlayer\tkind\tbound\tpredicted\tmeasured\n" + "\n".join(lines) + "\n",
            encoding="utf-8",
        )
    print(f"end: {load()}", file=sys.stderr)
    print("\n".join(verdict))


def probes(result: dict[str, object]) -> tuple[float, float]:
    """The probe's rate at the model's calibration and during its passes."""
    calibrated, measured = result["probe_calibrated"], result["probe_measured"]
    assert isinstance(calibrated, float)
    assert isinstance(measured, float)
    return calibrated, measured


def drift_text(result: dict[str, object]) -> str:
    calibrated, measured = probes(result)
    if not calibrated:
        return f"{measured / 1e9:.0f}"
    return f"{calibrated / 1e9:.0f} → {measured / 1e9:.0f} ({measured / calibrated:.2f}×)"


def issue_verdict(rows: list[tuple[str, dict[str, object], float]], tolerance: float) -> list[str]:
    """The issue's target on its 11 models (those of ``rows`` that are among them); a miss
    measured while the probe was more than ``tolerance`` off its calibration's is marked."""
    named = [(name, result, error) for name, result, error in rows if name in ISSUE_MODELS]
    if not named:
        return []
    within10 = sum(abs(error) <= 0.10 for _, _, error in named)
    within20 = sum(abs(error) <= 0.20 for _, _, error in named)
    ranks = [float(result["spearman"]) for _, result, _ in named]  # type: ignore[arg-type]

    def drifted(result: dict[str, object]) -> str:
        calibrated, measured = probes(result)
        if calibrated and abs(math.log(measured / calibrated)) > math.log1p(tolerance):
            return f" (probe {measured / calibrated:.2f}× its calibration's)"
        return ""

    misses = ", ".join(
        f"{name} {error:+.1%}{drifted(result)}"
        for name, result, error in named
        if abs(error) > 0.20
    )
    met = within20 >= 9 and min(ranks) >= 0.8
    steady = [(name, error) for name, result, error in named if not drifted(result)]
    return [
        f"of them measured within ±{tolerance:.0%} of their calibration's probe rate: "
        f"{len(steady)}, {sum(abs(error) <= 0.20 for _, error in steady)} of them within ±20% "
        f"(not the target: a diagnostic of how much of a miss is the machine's)",
        f"issue 13, its {len(named)} models: within ±20%: {within20} of {len(named)} "
        f"(target ≥ 9: {'MET' if within20 >= 9 else 'MISSED'}); within ±10%: {within10} of "
        f"{len(named)}; Spearman {min(ranks):.2f}–{max(ranks):.2f} "
        f"(≥ 0.8 for each: {'MET' if min(ranks) >= 0.8 else 'MISSED'})"
        + (f"; outside ±20%: {misses}" if misses else ""),
        f"target (models): {'MET' if met else 'MISSED'}",
    ]


def comparisons(calibrator: Calibrator, repeat: int) -> str:
    """Every design comparison in specs/: a Markdown table, and the verdict line. Measured
    ratios are of whole forward passes (:func:`time_variants`); the ratio of the sums of
    per-layer minima is beside them. Variants the estimate cannot tell apart (within 1%: the
    same arithmetic and traffic, such as two spellings of one network) are a predicted tie,
    not a ranking."""
    print(
        "\n| comparison | variant | MACs ratio | predicted ratio | measured ratio (whole pass) "
        "| Σ layer minima ratio |"
    )
    print("|---|---|--:|--:|--:|--:|")
    right = ties = 0
    specs = [p for p in sorted((ROOT / "specs").glob("*.yaml")) if len(load_spec(p).variants) > 1]
    for path in specs:
        spec = load_spec(path)
        networks = [build(spec, variant) for variant in spec.variants]
        reports = [analyze_network(network) for network in networks]
        profile = calibrator.current()
        predicted = [estimate(report, profile).seconds for report in reports]
        timed = time_variants(networks, repeat=repeat)
        measured = [whole for whole, _ in timed]
        layered = [sum(layers) for _, layers in timed]
        for variant, report, p_time, m_time, l_time in zip(
            spec.variants, reports, predicted, measured, layered, strict=True
        ):
            print(
                f"| {path.stem} | {variant.name} | "
                f"{report.totals.macs / reports[0].totals.macs:.3f} | "
                f"{p_time / predicted[0]:.3f} | {m_time / measured[0]:.3f} | "
                f"{l_time / layered[0]:.3f} |"
            )
        if max(predicted) <= 1.01 * min(predicted):
            ties += 1
            verdict = "a predicted tie (same arithmetic and traffic)"
        else:
            order_p = sorted(range(len(predicted)), key=predicted.__getitem__)
            order_m = sorted(range(len(measured)), key=measured.__getitem__)
            right += order_p == order_m
            verdict = "ranked right" if order_p == order_m else "ranked WRONG"
        print(f"| {path.stem} | {verdict} | | | | |")
    ranked = len(specs) - ties
    return (
        f"design comparisons in specs/ ranked right: {right} of {ranked} "
        f"(and {ties} predicted ties; target: all: {'MET' if right == ranked else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
