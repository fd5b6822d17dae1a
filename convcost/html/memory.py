"""Live activation memory over execution order: convcost/peak.py's walk, recorded.

The walk is :func:`convcost.peak.peak_activations`'s (the same buffers, references and order);
this records the live elements at each allocation, so the chart's highest point is the
report's peak by construction and its name the report's ``peak_at``.
"""

from __future__ import annotations

from convcost.layers import elements
from convcost.network import LayerNode, Network
from convcost.peak import _Tracker
from convcost.report import Report


class _Recorder(_Tracker):
    """The peak walk, keeping the live elements right after each path's allocation."""

    def __init__(self) -> None:
        super().__init__()
        self.live_at: dict[str, int] = {}

    def allocate(self, size: int, path: str) -> int:
        buffer = super().allocate(size, path)
        self.live_at[path] = self.live
        return buffer

    def layer(self, node: LayerNode, buffer: int) -> int:
        if node.layer.view:  # allocates nothing: what is alive when it runs
            self.live_at[node.path] = self.live
        return super().layer(node, buffer)


def live_elements(network: Network) -> tuple[int, dict[str, int]]:
    """Live activation elements per sample: at the start (the input alone), and right after
    each layer or merge step allocates its output, or when a view runs (by path)."""
    recorder = _Recorder()
    buffer = recorder.allocate(elements(network.input_shape), "input")
    recorder.sequence(network.nodes, buffer)
    return recorder.live_at["input"], recorder.live_at


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
