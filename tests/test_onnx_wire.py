"""convcost's own ONNX reader and shape inference against the onnx package, the oracle.

On every zoo reference's export (both exporters, and the TorchScript one with batchnorm kept),
the pure-Python reader (convcost.importer.onnx_file) must decode the same nodes, attributes,
initializer names, dims, types and data locations, and the same values of every small
constant, as ``onnx.load``; and convcost's shape inference (convcost.importer.shape_infer)
must give every tensor the shape ``onnx.shape_inference.infer_shapes`` gives it, and know the
shape of every tensor computed at run time (so ONNX's inference is never needed on them).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from convcost.importer import onnx_file
from convcost.importer.onnx_proto import AttributeProto, TensorProto
from convcost.importer.onnx_reader import index
from convcost.importer.ops_graph import MAX_CONSTANT_ELEMENTS
from convcost.importer.shape_infer import gaps, infer
from tests.conftest import require

onnx = require("onnx")
require("torch")

from onnx import numpy_helper  # noqa: E402

from tests.onnx_exports import EXPORTERS, Exports  # noqa: E402
from tests.torch_models import MODELS  # noqa: E402
from tests.torch_models_modern import MODERN_MODELS  # noqa: E402

NAMES = [*MODELS, *MODERN_MODELS]
CASES = [
    *((name, exporter, "eval") for name in NAMES for exporter in EXPORTERS),
    *((name, "torchscript", "batchnorm") for name in NAMES),
]


def _tensor(ours: TensorProto, theirs: Any) -> None:
    assert ours.name == theirs.name
    assert ours.dims == tuple(theirs.dims), ours.name
    assert ours.data_type == theirs.data_type, ours.name
    assert ours.data_location == theirs.data_location, ours.name
    assert [(e.key, e.value) for e in ours.external_data] == [
        (e.key, e.value) for e in theirs.external_data
    ], ours.name
    count = math.prod(ours.dims)
    if count <= MAX_CONSTANT_ELEMENTS and theirs.data_location == 0:
        expected = numpy_helper.to_array(theirs).ravel().tolist()
        assert _values(ours) == expected, ours.name
    elif count > MAX_CONSTANT_ELEMENTS:  # a weight: never copied out of the file
        assert ours.raw_data == b"", ours.name
        assert not ours.float_data, ours.name


def _values(tensor: TensorProto) -> list[object]:
    """A small tensor's values, decoded with numpy from convcost's fields (the oracle's own
    decoding of the same bytes is ``numpy_helper.to_array``)."""
    rebuilt = onnx.helper.make_tensor(
        tensor.name,
        tensor.data_type,
        list(tensor.dims),
        tensor.raw_data
        or list(tensor.float_data or tensor.int64_data or tensor.int32_data or tensor.double_data),
        raw=bool(tensor.raw_data),
    )
    return list(numpy_helper.to_array(rebuilt).ravel().tolist())


def _attribute(ours: AttributeProto, theirs: Any) -> None:
    assert (ours.name, ours.type) == (theirs.name, theirs.type)
    assert ours.i == theirs.i, ours.name
    assert ours.s == theirs.s, ours.name
    assert ours.f == pytest.approx(theirs.f, rel=0, abs=0) or math.isnan(theirs.f), ours.name
    assert list(ours.ints) == list(theirs.ints), ours.name
    assert list(ours.floats) == list(theirs.floats), ours.name
    assert list(ours.strings) == list(theirs.strings), ours.name
    assert (ours.t is None) == (not theirs.HasField("t")), ours.name
    if ours.t is not None:
        _tensor(ours.t, theirs.t)


@pytest.mark.parametrize(("name", "exporter", "mode"), CASES)
def test_reader_and_shapes_equal_onnx(
    onnx_exports: Exports, name: str, exporter: str, mode: str
) -> None:
    path: Path = onnx_exports.path(name, exporter, mode)  # type: ignore[arg-type]
    ours = onnx_file.load(path)
    theirs = onnx.load(str(path), load_external_data=False)
    assert ours.ir_version == theirs.ir_version
    assert [(o.domain, o.version) for o in ours.opset_import] == [
        (o.domain, o.version) for o in theirs.opset_import
    ]
    graph = ours.graph
    assert graph is not None
    assert graph.name == theirs.graph.name
    assert len(graph.node) == len(theirs.graph.node)
    for node, expected in zip(graph.node, theirs.graph.node, strict=True):
        assert (node.name, node.op_type, node.domain) == (
            expected.name,
            expected.op_type,
            expected.domain,
        )
        assert (list(node.input), list(node.output)) == (
            list(expected.input),
            list(expected.output),
        )
        assert [(p.key, p.value) for p in node.metadata_props] == [
            (p.key, p.value) for p in expected.metadata_props
        ]
        assert len(node.attribute) == len(expected.attribute), node.name
        for attribute, wanted in zip(node.attribute, expected.attribute, strict=True):
            _attribute(attribute, wanted)
    assert len(graph.initializer) == len(theirs.graph.initializer)
    for tensor, wanted in zip(graph.initializer, theirs.graph.initializer, strict=True):
        _tensor(tensor, wanted)
    for values, wanted_values in (
        (graph.input, theirs.graph.input),
        (graph.output, theirs.graph.output),
    ):
        assert [(v.name, v.elem_type, v.shape) for v in values] == [
            (
                v.name,
                v.type.tensor_type.elem_type,
                tuple(
                    d.dim_value if d.HasField("dim_value") else d.dim_param
                    for d in v.type.tensor_type.shape.dim
                ),
            )
            for v in wanted_values
        ]

    # shapes: convcost's inference against onnx's on the whole model (weights not loaded)
    source = index(ours, file=path.name, directory=path.parent)
    first = graph.input[0]
    static = infer(source, first.name, tuple(int(d) for d in first.shape or ()))
    assert [node.name for node in gaps(source, static)] == []
    # onnx's inference on the graph without its weights (typed inputs instead): a weight's
    # bytes do not change a shape, and copying VGG-16's 528 MB into onnx's C++ takes seconds
    weights = [t for t in theirs.graph.initializer if math.prod(t.dims) > MAX_CONSTANT_ELEMENTS]
    kept = [t for t in theirs.graph.initializer if math.prod(t.dims) <= MAX_CONSTANT_ELEMENTS]
    del theirs.graph.initializer[:]
    theirs.graph.initializer.extend(kept)
    theirs.graph.input.extend(
        onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in weights
    )
    inferred = onnx.shape_inference.infer_shapes(theirs, strict_mode=True, data_prop=True)
    compared = 0
    for value in (*inferred.graph.value_info, *inferred.graph.output):
        dims = value.type.tensor_type.shape.dim
        if value.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            assert source.shapes.get(value.name) == tuple(d.dim_value for d in dims), value.name
            compared += 1
    assert compared >= len(graph.node) // 2  # onnx inferred most tensors: the check is real
