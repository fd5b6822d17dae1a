"""``convcost calibrate``'s progress bar and the summary of its fit's residuals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from convcost.latency.calibrate import Calibration, seconds
from convcost.latency.profile import HALF_KEYS, SHAPED
from convcost.latency.quantities import seconds_text


@contextmanager
def calibration_progress(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """A transient bar over the synthetic chains on ``console`` (stderr), on a terminal only."""
    if not console.is_terminal:
        yield lambda name, done, total: None
        return
    bar = Progress(
        TextColumn("calibrating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("", total=None)

    def update(name: str, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total, description=name)

    with bar:
        yield update


def residual_summary(calibration: Calibration) -> str:
    """Per kernel class: samples, fitted shares and overhead, and the errors of the final
    profile on its own samples (median and worst |predicted − measured| / measured)."""
    profile = calibration.profile
    rate = profile.peak_flops["float32"]
    lines = [
        f"peak {rate / 1e9:.1f} GFLOP/s (float32), bandwidth {profile.memory_bandwidth / 1e9:.1f} GB/s",
        f"{'class':<12} {'samples':>7} {'compute':>8} {'memory':>8} {'overhead':>9} "
        f"{'median err':>10} {'worst err':>9}",
    ]
    every: list[float] = []
    for kernel, samples in calibration.samples.items():
        if not samples:
            continue
        errors = []
        for sample in samples:
            predicted = seconds(
                sample,
                rate,
                profile.memory_bandwidth,
                profile.of(sample.kind, kernel),
                profile.layer_overhead(sample.kind, kernel),
            )
            errors.append(abs(predicted - sample.seconds) / sample.seconds)
        every += errors
        ordered = sorted(errors)
        own = profile.of(kernel.value, kernel)
        lines.append(
            f"{kernel.value:<12} {len(samples):>7} {own.compute:>8.3f} {own.memory:>8.3f} "
            f"{seconds_text(profile.layer_overhead(kernel.value, kernel)):>9} "
            f"{ordered[len(ordered) // 2]:>10.0%} {ordered[-1]:>9.0%}"
        )
    for kernel in SHAPED:
        half = profile.efficiency.get(kernel.value)
        if half is not None and any(half.half):
            sizes = ", ".join(
                f"{key.removeprefix('half_')} {value:.3g}"
                for key, value in zip(HALF_KEYS, half.half, strict=True)
            )
            lines.append(f"{kernel.value} half sizes: {sizes}")
    ordered = sorted(every)
    if ordered:
        lines.append(
            f"all {len(ordered)} samples: median error {ordered[len(ordered) // 2]:.0%}, "
            f"worst {ordered[-1]:.0%}"
        )
    return "\n".join(lines)
