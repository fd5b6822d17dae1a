"""How big a page may grow: each part is bounded, so a spec of a million layers still makes a
page of a few megabytes that a browser opens (docs/report.md, "Huge networks").

- the per-layer charts draw at most :data:`MAX_BARS` bars (or points): past that, runs of
  consecutive layers share one bar, whose value is their sum (MACs, parameters) or their
  largest (live memory), and whose field is the run's last layer's;
- the structure diagram draws at most :data:`MAX_DIAGRAM_NODES` boxes, and nests blocks at most
  :data:`MAX_DIAGRAM_DEPTH` deep (a block deeper than that is one box with its totals);
- the layer table lists at most :data:`MAX_TABLE_ROWS` layers; the rest are counted in a note
  (the JSON and CSV reports list every one).
"""

from __future__ import annotations

MAX_BARS = 2000
MAX_DIAGRAM_NODES = 2000
MAX_DIAGRAM_DEPTH = 12
MAX_TABLE_ROWS = 2000
NOTEBOOK_BARS = 120
"""Bars of the short notebook view (``Report._repr_html_``)."""


def bins(count: int, limit: int) -> list[range]:
    """``range(count)`` cut into at most ``limit`` runs of consecutive indices of equal size
    (the last may be shorter); one run per index when ``count <= limit``."""
    size = max(1, -(-count // limit))
    return [range(start, min(start + size, count)) for start in range(0, count, size)]
