"""Small ONNX models written with onnx.helper, for the reader's tests (import where onnx is)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import onnx
import pytest

from convcost.errors import ModelError
from convcost.importer.onnx_reader import read_onnx

helper = onnx.helper
FLOAT, INT64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64


def weight(name: str, dims: Sequence[int]) -> Any:
    return helper.make_tensor(name, FLOAT, list(dims), [0.0] * math.prod(dims))


def ints(name: str, values: Sequence[int]) -> Any:
    return helper.make_tensor(name, INT64, [len(values)], list(values))


def floats(name: str, values: Sequence[float], dims: Sequence[int] | None = None) -> Any:
    return helper.make_tensor(
        name, FLOAT, list(dims if dims is not None else [len(values)]), list(values)
    )


def scalar(name: str, value: float) -> Any:
    return helper.make_tensor(name, FLOAT, [], [value])


def save(
    path: Path,
    nodes: list[Any],
    shape: Sequence[int | str],
    *,
    initializers: Sequence[Any] = (),
    output: str = "y",
    opset: int = 17,
    extra_inputs: Sequence[Any] = (),
) -> Path:
    """A one-input, one-output model; the input is ``x`` of `shape` (batch first)."""
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", FLOAT, list(shape)), *extra_inputs],
        [helper.make_tensor_value_info(output, FLOAT, None)],
        list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, str(path))
    return path


def inferred_output(path: Path) -> tuple[int, ...]:
    """ONNX's own shape inference: the output's shape without batch."""
    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)), strict_mode=True)
    dims = model.graph.output[0].type.tensor_type.shape.dim
    return tuple(d.dim_value for d in dims)[1:]


def layers(path: Path, **options: Any) -> list[object]:
    return [node.layer or node.merge for node in read_onnx(path, **options).nodes]


def unsupported(path: Path, label: str, node: str = "n") -> None:
    message = f'{path.name}: 1 node has no convcost layer: {label} ×1 (first: node "{node}")'
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)


def conv(inputs: list[str], output: str = "y", name: str = "n", **attrs: Any) -> Any:
    return helper.make_node("Conv", inputs, [output], name=name, **attrs)
