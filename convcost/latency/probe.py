"""The machine-speed probe: the rate of one reference product, measured beside calibration and
beside every validation, so a drift of the machine's speed between the two is visible.

A shared machine does not keep one speed: another process on a core, a frequency change or a
noisy neighbour halves a 2-thread GEMM's rate within minutes. A profile fits the machine as it
was while calibrating, so its prediction only holds while the machine runs at that speed. The
probe is a 1×1 convolution, 256 → 256 channels on a 32×32 map (a 1,024 × 256 × 256 float32
product, 134,217,728 FLOPs), through the same NumPy executor as ``--execute``, after a relu
that feeds it (a pass's first layer runs slower, :data:`convcost.latency.calibrate.FEED`). It
runs between the passes of a window of work (calibration, or one model's measurement), and the
window's rate is the *median* of its passes: the machine's typical speed over the window, which
does not depend on how long the window was (the fastest pass would: a long calibration sees
more lucky moments than a short check). ``calibrate`` writes it as the profile's ``probe``
(FLOP/s); :func:`drift` is the ratio of a later window's rate to it.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcost.executor import Prepared

PROBE_SPEC = """input: [256, 32, 32]
layers:
  - relu: {}
    name: feed
  - pointwise: {out: 256, bias: false}
    name: probe
"""
PROBE_FLOPS = 2 * 32 * 32 * 256 * 256
"""The probe's FLOPs: 2 · positions · C_in · C_out = 2 · 1,024 · 256 · 256 = 134,217,728."""


class Probe:
    """The probe network, prepared once; :meth:`run` times one pass and keeps its rate."""

    def __init__(self) -> None:
        from convcost.build import build  # noqa: PLC0415
        from convcost.executor import prepare  # noqa: PLC0415
        from convcost.spec import parse_spec  # noqa: PLC0415

        spec = parse_spec(PROBE_SPEC, source="<speed probe>")
        self._prepared: Prepared = prepare(build(spec, spec.variants[0]))
        self._prepared.forward()  # warm-up: page faults, BLAS start-up
        self.rates: list[float] = []
        """Every pass's rate (FLOP/s), in order."""

    def run(self) -> float:
        """One timed pass; its rate in FLOP/s (also appended to :attr:`rates`)."""
        seconds = self._prepared.forward().layers[-1].seconds
        rate = PROBE_FLOPS / max(seconds, 1e-9)
        self.rates.append(rate)
        return rate

    @property
    def rate(self) -> float:
        """The median rate of the passes since :meth:`reset` (0 before any pass)."""
        return statistics.median(self.rates) if self.rates else 0.0

    def reset(self) -> None:
        """Forget the rates seen (a new window of work)."""
        self.rates.clear()


def probe_rate(passes: int = 9) -> float:
    """The probe's median rate over ``passes`` back-to-back passes, in FLOP/s."""
    probe = Probe()
    for _ in range(passes):
        probe.run()
    return probe.rate


def drift(now: float, calibrated: float | None) -> float | None:
    """``now`` over the profile's ``probe`` rate (1.0: the machine runs as when calibrated;
    0.5: at half the speed, so a prediction from that profile is about 2× short); ``None``
    when the profile has no probe."""
    if not calibrated or now <= 0:
        return None
    return now / calibrated


def drift_note(now: float, calibrated: float | None) -> str | None:
    """One line for a validation: the probe now and at calibration, and their ratio."""
    ratio = drift(now, calibrated)
    if ratio is None or calibrated is None:
        return None
    return (
        f"speed probe {now / 1e9:.0f} GFLOP/s now, {calibrated / 1e9:.0f} at calibration "
        f"({ratio:.2f}×)"
    )
