"""Benchmark: ``--execute`` against PyTorch eager on four zoo models (not a test; run by hand).

    PYTHONPATH=. python tests/bench/bench_execute.py [--blocks 3] [--runs 2] [--models vgg16,…]
    PYTHONPATH=. python tests/bench/bench_execute.py --activations

Both libraries run on 2 threads (``--threads N`` for another count): OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS and MKL_NUM_THREADS are set before numpy is imported, and
``torch.set_num_threads(2)``. For ResNet-50, MobileNetV2
(depthwise), DenseNet-121 (concat) and VGG-16 (big dense layers), at batch 1 and 8, in one run:

- weight set-up: convcost's ``prepare`` (every weight drawn in the kernels' layout) against the
  construction of the plain-torch reference model (``tests/torch_models.py``, torch's own init);
- warm forward time: blocks of convcost passes and of torch passes, alternating (``--blocks``
  of each, ``--runs`` timed passes per block after one untimed warm-up pass); the ratio is of
  the medians over every timed pass. Blocks, not alternate passes: a BLAS's worker threads spin
  for a while after a call and would take the cores from the other library's;
- achieved GFLOP/s per layer kind (k×k conv, 1×1 conv, depthwise, linear; MACs counted by the
  kernels) against NumPy's float32 sgemm peak (best of 2048² products) measured before the
  first model and after the last, and the depthwise convs' bytes (input read, output
  written) per second against NumPy's memory bandwidth (best of ``np.add`` over 64 MiB
  arrays, three arrays' bytes) measured alongside;
- time per layer kind against torch's: torch's convs and linears timed by forward hooks in
  one more block of passes after the timed ones (``other`` is the rest of each pass: norms,
  activations, pools, merges, torch.cat), convcost's from its per-layer times (a fused
  batchnorm or activation is filed under ``other`` with its share of its conv's time);
- peak resident memory against the pre-run estimate, in a fresh ``python -m convcost analyze
  MODEL --execute --batch B -f json`` process (no torch loaded).

Prints Markdown tables. ``--activations`` only times GELU (exact, erf form) against ReLU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
"""2 by default; ``--threads N`` (read here, before numpy is imported) for both libraries."""
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(THREADS)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # this checkout's convcost and tests.torch_models

import math  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from convcost import zoo  # noqa: E402
from convcost.build import build  # noqa: E402
from convcost.executor import Execution, Prepared, prepare  # noqa: E402
from convcost.executor.memory import leaves  # noqa: E402
from convcost.executor.ops import activation  # noqa: E402
from convcost.layers import Conv, Linear  # noqa: E402
from convcost.network import Network  # noqa: E402
from convcost.spec import load_spec  # noqa: E402
from tests import torch_models  # noqa: E402

MODELS = ("resnet50", "mobilenet_v2", "densenet121", "vgg16")
BATCHES = (1, 8)
KINDS = ("conv k×k", "conv 1×1", "depthwise", "linear", "other")


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sgemm_peak(size: int = 2048, repeat: int = 5) -> float:
    """Best-of-``repeat`` float32 ``size``² products through np.matmul, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    c = np.empty_like(a)
    np.matmul(a, b, out=c)
    best = min(_timed(lambda: np.matmul(a, b, out=c)) for _ in range(repeat))
    return 2 * size**3 / best / 1e9


def bandwidth(megabytes: int = 64, repeat: int = 5) -> float:
    """Best-of-``repeat`` ``np.add(a, b, out=c)`` over float32 arrays of ``megabytes`` MiB, in
    GB/s (two arrays read, one written; pages touched before the clock starts)."""
    size = megabytes * 2**20 // 4
    a = np.ones(size, dtype=np.float32)
    b = np.ones(size, dtype=np.float32)
    c = np.zeros(size, dtype=np.float32)
    np.add(a, b, out=c)
    best = min(_timed(lambda: np.add(a, b, out=c)) for _ in range(repeat))
    return 3 * a.nbytes / best / 1e9


def depthwise_bytes(network: Network, batch: int) -> int:
    """Bytes a pass's depthwise convs must at least move: each one's input read and output
    written once (float32)."""
    total = 0
    for node in leaves(network.nodes):
        layer, channels = node.layer, node.input_shape[0]
        if isinstance(layer, Conv) and layer.groups > 1 and channels == layer.groups:
            total += 4 * batch * (math.prod(node.input_shape) + math.prod(node.output_shape))
    return total


def torch_kind(module: torch.nn.Module) -> str | None:
    """The kind a torch leaf module's time is filed under (None: ``other``)."""
    if isinstance(module, torch.nn.Conv2d):
        if module.groups > 1 and module.groups == module.in_channels:
            return "depthwise"
        return "conv 1×1" if module.kernel_size == (1, 1) else "conv k×k"
    if isinstance(module, torch.nn.Linear):
        return "linear"
    return None


def torch_per_kind(model: torch.nn.Module, x: torch.Tensor, runs: int) -> dict[str, float]:
    """Kind → median seconds over ``runs`` hooked passes (after one untimed); ``other`` is each
    pass's time outside the convs and linears."""
    spent: dict[str, float] = defaultdict(float)
    started: dict[torch.nn.Module, float] = {}
    handles = []
    for module in model.modules():
        kind = torch_kind(module)
        if kind is None:
            continue

        def before(m: torch.nn.Module, _: object) -> None:
            started[m] = time.perf_counter()

        def after(m: torch.nn.Module, _: object, __: object, kind: str = kind) -> None:
            spent[kind] += time.perf_counter() - started[m]

        handles += [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    seconds: dict[str, list[float]] = defaultdict(list)
    try:
        with torch.no_grad():
            model(x)
            for _ in range(runs):
                spent.clear()
                whole = _timed(lambda: model(x))
                for kind in KINDS[:-1]:
                    seconds[kind].append(spent[kind])
                seconds["other"].append(whole - sum(spent.values()))
    finally:
        for handle in handles:
            handle.remove()
    return {kind: statistics.median(seconds[kind]) for kind in KINDS}


def kinds(network: Network) -> dict[str, str]:
    """Layer path → the kind its time is filed under."""
    found = {}
    for node in leaves(network.nodes):
        layer, channels = node.layer, node.input_shape[0]
        if isinstance(layer, Conv):
            if layer.groups > 1 and channels == layer.groups:
                found[node.path] = "depthwise"
            elif math.prod(layer.kernel) == 1:
                found[node.path] = "conv 1×1"
            else:
                found[node.path] = "conv k×k"
        elif isinstance(layer, Linear):
            found[node.path] = "linear"
    return found


def per_kind(runs: list[Execution], by_path: dict[str, str]) -> dict[str, tuple[float, int]]:
    """Kind → (median seconds over the runs, MACs of one run)."""
    seconds: dict[str, list[float]] = defaultdict(list)
    macs: dict[str, int] = defaultdict(int)
    for index, run in enumerate(runs):
        total: dict[str, float] = defaultdict(float)
        for layer in run.layers:
            kind = by_path.get(layer.path, "other")
            total[kind] += layer.seconds
            if index == 0:
                macs[kind] += layer.macs
        for kind in KINDS:
            seconds[kind].append(total[kind])
    return {kind: (statistics.median(seconds[kind]), macs[kind]) for kind in KINDS}


def compare(
    prepared: Prepared, model: torch.nn.Module, batch: int, blocks: int, runs: int
) -> tuple[list[Execution], list[float]]:
    """Alternating blocks: (convcost's timed runs, torch's timed seconds)."""
    ours: list[Execution] = []
    theirs: list[float] = []
    x = torch.randn(batch, *prepared.network.input_shape)
    with torch.no_grad():
        for _ in range(blocks):
            time.sleep(0.5)
            prepared.forward(batch=batch)  # warm-up
            ours += [prepared.forward(batch=batch) for _ in range(runs)]
            time.sleep(0.5)
            model(x)  # warm-up
            theirs += [_timed(lambda: model(x)) for _ in range(runs)]
    return ours, theirs


def memory(name: str, batch: int) -> tuple[float, float]:
    """(peak RSS, estimate) in MiB of a fresh CLI process without torch."""
    command = [sys.executable, "-m", "convcost", "analyze", name, "--execute"]
    command += ["--batch", str(batch), "-f", "json"]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    execution = json.loads(result.stdout)["execution"]
    return execution["peak_rss_bytes"] / 2**20, execution["estimated_bytes"] / 2**20


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


class Tables:
    """The Markdown rows, one list per table."""

    def __init__(self) -> None:
        self.timing: list[str] = []
        self.kinds: list[str] = []
        self.versus: list[str] = []
        self.bandwidth = 0.0
        """GB/s of :func:`bandwidth` measured before the first model."""
        self.setup: list[str] = []
        self.memory: list[str] = []

    def model(self, name: str, batches: list[int], blocks: int, runs: int) -> None:
        path = zoo.find(name)
        assert path is not None
        spec = load_spec(path)
        network = build(spec, spec.variants[0])
        setup = _timed(lambda: prepare(network))
        prepared = prepare(network)
        build_torch = _timed(getattr(torch_models, name))
        model = getattr(torch_models, name)().eval()
        self.setup.append(
            f"| {name} | {ms(setup)} | {ms(build_torch)} | {setup / build_torch:.2f}× |"
        )
        by_path = kinds(network)
        for batch in batches:
            ours, theirs = compare(prepared, model, batch, blocks, runs)
            mine = statistics.median(run.seconds for run in ours)
            torch_time = statistics.median(theirs)
            self.timing.append(
                f"| {name} | {batch} | {ms(mine)} ({ms(min(r.seconds for r in ours))}) | "
                f"{ms(torch_time)} ({ms(min(theirs))}) | **{mine / torch_time:.2f}×** |"
            )
            cells = []
            mine_by_kind = per_kind(ours, by_path)
            for kind, (seconds, macs) in mine_by_kind.items():
                rate = 2 * macs / seconds / 1e9 if macs and seconds else 0.0
                cell = f"{ms(seconds)} · {rate:.0f}" if macs else ms(seconds)
                if kind == "depthwise" and macs and seconds:
                    moved = depthwise_bytes(network, batch)
                    cell += f" ({moved / seconds / 1e9:.1f} GB/s, floor {ms(moved / self.bandwidth / 1e9)})"
                cells.append(cell)
            self.kinds.append(f"| {name} | {batch} | " + " | ".join(cells) + " |")
            x = torch.randn(batch, *prepared.network.input_shape)
            theirs_by_kind = torch_per_kind(model, x, runs * blocks)
            cells = []
            for kind in KINDS:
                own, other = mine_by_kind[kind][0], theirs_by_kind[kind]
                if own or other > 5e-5:
                    ratio = f" (**{own / other:.2f}×**)" if other > 5e-5 else ""
                    cells.append(f"{ms(own)} / {ms(other)}{ratio}")
                else:
                    cells.append("—")
            self.versus.append(f"| {name} | {batch} | " + " | ".join(cells) + " |")
            peak_rss, estimate = memory(name, batch)
            self.memory.append(
                f"| {name} | {batch} | {peak_rss:,.1f} | {estimate:,.1f} | {peak_rss / estimate:.2f} |"
            )
            print(self.timing[-1], flush=True)

    def print(self) -> None:
        print(
            "\n| model | batch | convcost warm forward, median (min) | torch eager, median (min) | ratio |"
        )
        print("|---|---:|---:|---:|---:|")
        print("\n".join(self.timing))
        print("\nPer layer kind, convcost: median time · GFLOP/s (2 × MACs / time)")
        print("\n| model | batch | " + " | ".join(KINDS) + " |")
        print("|---|---:|" + "---:|" * len(KINDS))
        print("\n".join(self.kinds))
        print("\nPer layer kind: convcost / torch (convs and linears by forward hooks), medians")
        print("\n| model | batch | " + " | ".join(KINDS) + " |")
        print("|---|---:|" + "---:|" * len(KINDS))
        print("\n".join(self.versus))
        print("\n| model | convcost weight set-up | torch model construction | ratio |")
        print("|---|---:|---:|---:|")
        print("\n".join(self.setup))
        print("\n| model | batch | peak RSS MiB | estimate MiB | ratio |")
        print("|---|---:|---:|---:|---:|")
        print("\n".join(self.memory))


def load() -> str:
    with open("/proc/loadavg", encoding="ascii") as handle:
        return handle.read().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=3, help="alternating blocks per library")
    parser.add_argument("--runs", type=int, default=2, help="timed passes per block")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument("--activations", action="store_true", help="only GELU against ReLU")
    parser.add_argument("--threads", type=int, default=2, help="for both libraries")
    arguments = parser.parse_args()
    if arguments.activations:
        print_activations(20)
        return
    torch.set_num_threads(THREADS)
    print(f"numpy {np.__version__}, torch {torch.__version__}; {THREADS} threads each")
    print(f"load average at the start: {load()}")
    peak_before = sgemm_peak()
    tables = Tables()
    tables.bandwidth = bandwidth_before = bandwidth()
    for name in arguments.models.split(","):
        tables.model(
            name, [int(b) for b in arguments.batches.split(",")], arguments.blocks, arguments.runs
        )
    peak_after = sgemm_peak()
    bandwidth_after = bandwidth()
    print(f"\nsgemm 2048² peak: {peak_before:.1f} GFLOP/s before, {peak_after:.1f} after")
    print(
        f"np.add bandwidth: {bandwidth_before:.1f} GB/s before, {bandwidth_after:.1f} after "
        "(the depthwise floor uses the first)"
    )
    tables.print()
    print(f"\nload average at the end: {load()}")


def activation_times(rounds: int) -> tuple[float, float]:
    """Median seconds of activation.gelu and activation.relu, in place, on a fresh copy of the same
    1×56×56×1024 (channels last) standard normal float32 tensor each round (the copy untimed)."""
    x = np.random.default_rng(0).standard_normal((1, 56, 56, 1024), dtype=np.float32)
    times: dict[str, list[float]] = {"gelu": [], "relu": []}
    for _ in range(rounds + 1):
        for name, function in (("gelu", activation.gelu), ("relu", activation.relu)):
            y = x.copy()
            times[name].append(_timed(lambda y=y, f=function: f(y, inplace=True)))
    # the first round warms the pages and the code paths
    return statistics.median(times["gelu"][1:]), statistics.median(times["relu"][1:])


def print_activations(rounds: int) -> None:
    gelu, relu = activation_times(rounds)
    print(
        f"GELU (exact) {gelu * 1e3:.2f} ms, ReLU {relu * 1e3:.2f} ms on 1×1024×56×56 float32, "
        f"in place, median of {rounds}: ratio {gelu / relu:.1f}×"
    )


if __name__ == "__main__":
    main()
