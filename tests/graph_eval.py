"""Evaluate an imported `Graph` layer by layer with convcost's own analysis, for the tests.

Each node's layer is analysed alone (a one-layer spec on the shape its inputs give), so the
reader's output is checked without the structurer that turns a Graph into a nested spec.
Merges follow the spec's rules: concat adds channels, add keeps the shape, multiply broadcasts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from convcost.importer.graph import INPUT, Graph
from tests.conftest import run


@dataclass(frozen=True, slots=True)
class Evaluated:
    output_shape: tuple[int, ...]
    macs: int
    params: int


def _layer(shape: tuple[int, ...], layer: object) -> Evaluated:
    entry = json.dumps(layer)  # JSON is YAML flow syntax
    if len(shape) == 1:  # a flat input: spec inputs have rank >= 2, so flatten [n, 1] first
        report = run(f"input: [{shape[0]}, 1]\nlayers:\n  - flatten: {{}}\n  - {entry}\n")
    else:
        report = run(f"input: {list(shape)}\nlayers:\n  - {entry}\n")
    last = report.layers[-1]
    return Evaluated(tuple(last.output_shape), last.cost.macs, last.cost.weights + last.cost.biases)


def evaluate(graph: Graph) -> dict[str, Evaluated]:
    """Every node's output shape (without batch), MACs and parameters."""
    results = {INPUT: Evaluated(graph.input_shape, 0, 0)}
    for node in graph.nodes:
        shapes = [results[name].output_shape for name in node.inputs]
        if node.merge == "concat":
            assert all(s[1:] == shapes[0][1:] for s in shapes), (node.name, shapes)
            results[node.name] = Evaluated((sum(s[0] for s in shapes), *shapes[0][1:]), 0, 0)
        elif node.merge == "add":
            assert all(s == shapes[0] for s in shapes), (node.name, shapes)
            results[node.name] = Evaluated(shapes[0], 0, 0)
        elif node.merge == "multiply":
            assert len({len(s) for s in shapes}) == 1, (node.name, shapes)
            results[node.name] = Evaluated(
                tuple(max(sizes) for sizes in zip(*shapes, strict=True)), 0, 0
            )
        else:
            assert len(shapes) == 1, (node.name, shapes)
            results[node.name] = _layer(shapes[0], node.layer)
    del results[INPUT]
    return results


def kinds(graph: Graph) -> list[str]:
    """Each node's layer kind or merge, in order."""
    return [node.merge or next(iter(node.layer or {})) for node in graph.nodes]
