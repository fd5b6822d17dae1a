"""Live activation memory over execution order, from :func:`convcost.peak.live_elements`:
the peak walk itself, recorded at each allocation, so the chart's highest point is the
report's peak by construction and its name the report's ``peak_at``.
"""

from __future__ import annotations

from convcost.network import Network
from convcost.peak import live_elements
from convcost.report import Report


def live_bytes(network: Network, report: Report) -> list[int]:
    """Bytes alive while each of ``report.layers`` runs (its input, its output and every tensor
    kept for later), times the batch; a view (identity, flatten, …) allocates nothing and shows
    what is alive while it runs."""
    level, live_at = live_elements(network)
    scale = report.batch * report.bytes_per_element
    series = []
    for layer in report.layers:
        level = live_at.get(layer.path, level)
        series.append(level * scale)
    return series
