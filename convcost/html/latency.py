"""The ``--device`` part of the report page: each layer's estimated time as bars, and the
estimate's totals (bound, device, whether the profile was calibrated).

The estimate is :func:`convcost.latency.estimate.estimate`'s, the same ``analyze --device``
prints; this module only draws it (docs/report.md, docs/latency.md).
"""

from __future__ import annotations

from convcost.html import charts
from convcost.html.bounds import MAX_BARS
from convcost.html.markup import text
from convcost.html.page import Analysis, Section
from convcost.latency.estimate import Bound, estimate
from convcost.latency.profile import DeviceProfile
from convcost.latency.quantities import seconds_text


def latency_section(profile: DeviceProfile) -> Section:
    """A :data:`~convcost.html.page.Section` that estimates each network on ``profile``."""

    def part(analysis: Analysis) -> str:
        report = analysis.report
        found = estimate(report, profile)
        nanoseconds = [round(layer.seconds * 1e9) for layer in found.layers]
        memory = sum(layer.seconds for layer in found.layers if layer.bound is Bound.MEMORY)
        share = memory / found.seconds if found.seconds > 0 else 0.0
        kind = "calibrated" if found.calibrated else "roofline bound, not calibrated"
        summary = (
            f'<p class="meta">Estimated on {text(found.device)} ({text(kind)}): '
            f"{text(seconds_text(found.seconds))} in all, {share:.0%} of it in memory-bound "
            "layers. Each bar is a layer's estimated time (docs/latency.md).</p>"
        )
        chart = charts.bar_chart(
            report,
            nanoseconds,
            title="Estimated time per layer",
            css="latency",
            unit=lambda ns: seconds_text(ns / 1e9),
            limit=MAX_BARS,
        )
        return f"<h3>Estimated time per layer</h3>{summary}{chart}"

    return part
