"""Table rows from a report, with ``--depth`` collapsing nested paths into their block."""

from __future__ import annotations

from convcost.layers import Shape
from convcost.receptive import ReceptiveField
from convcost.report import Cost, LayerReport, Report, total
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    path: str
    kind: str
    input_shape: Shape
    output_shape: Shape
    cost: Cost
    receptive_field: ReceptiveField
    collapsed: bool
    """True when the row sums layers hidden below ``--depth``."""


def rows(report: Report, depth: int | None = None) -> list[Row]:
    """One row per leaf layer, or per block/branch where ``depth`` cuts the path.

    A path's depth is its number of components (``layer1.0.conv1`` is 3 deep). Layers deeper
    than ``depth`` are summed into the row of their ancestor at that depth; descendants of a
    block are contiguous in execution order, so consecutive runs are grouped.
    """
    kinds = {block.path: block.kind for block in report.blocks}
    if depth is None:
        return [_row(layer.path, [layer], kinds) for layer in report.layers]
    result: list[Row] = []
    run: list[LayerReport] = []
    key = ""
    for layer in report.layers:
        path = layer.path
        layer_key = path if path.count(".") < depth else ".".join(path.split(".")[:depth])
        if run and layer_key != key:
            result.append(_row(key, run, kinds))
            run = []
        key = layer_key
        run.append(layer)
    if run:
        result.append(_row(key, run, kinds))
    return result


def _row(key: str, run: list[LayerReport], kinds: dict[str, str]) -> Row:
    last = run[-1]
    if len(run) == 1 and last.path == key:
        return Row(
            path=key,
            kind=last.kind,
            input_shape=last.input_shape,
            output_shape=last.output_shape,
            cost=last.cost,
            receptive_field=last.receptive_field,
            collapsed=False,
        )
    return Row(
        path=key,
        kind=kinds.get(key, "branch"),
        input_shape=run[0].input_shape,
        output_shape=last.output_shape,
        cost=total([layer.cost for layer in run]),
        receptive_field=last.receptive_field,
        collapsed=True,
    )
