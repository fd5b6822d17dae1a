"""read_onnx on whole files: inputs and outputs, and every way a file can be wrong."""

from __future__ import annotations

import os
import re
import struct
import sys
from pathlib import Path

import pytest

from convcost.errors import ModelError
from convcost.importer.onnx_reader import read_onnx
from tests.conftest import require

onnx = require("onnx")

from convcost.importer.graph import INPUT  # noqa: E402
from tests.onnx_graphs import (  # noqa: E402
    FLOAT,
    conv,
    helper,
    ints,
    layers,
    save,
    unsupported,
    weight,
)

# ---- inputs and files --------------------------------------------------------------------


def test_two_inputs(tmp_path: Path) -> None:
    node = helper.make_node("Add", ["x", "z"], ["y"], name="n")
    extra = [helper.make_tensor_value_info("z", FLOAT, [1, 3, 4, 4])]
    path = save(tmp_path / "m.onnx", [node], [1, 3, 4, 4], extra_inputs=extra)
    with pytest.raises(
        ModelError,
        match=r"^m\.onnx: the graph has 2 inputs \('x', 'z'\); convcost reads models with one$",
    ):
        read_onnx(path)


def test_output_is_the_input(tmp_path: Path) -> None:
    path = save(
        tmp_path / "m.onnx", [helper.make_node("Identity", ["x"], ["y"], name="n")], [1, 3, 4, 4]
    )
    with pytest.raises(
        ModelError, match=r"^m\.onnx: the graph's output 'y' is not computed from its input$"
    ):
        read_onnx(path)


def test_batch_of_eight_is_dropped(tmp_path: Path) -> None:
    path = save(
        tmp_path / "m.onnx", [helper.make_node("Relu", ["x"], ["y"], name="n")], [8, 3, 4, 4]
    )
    assert read_onnx(path).input_shape == (3, 4, 4)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"input: [3, 8, 8]\nlayers: []\n",
            r"^spec\.onnx: not an ONNX model, or a truncated one \(protobuf: ",
        ),
        (b"", r"^spec\.onnx: not an ONNX model, or an empty one: it holds no graph nodes$"),
    ],
)
def test_not_a_model(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "spec.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        read_onnx(path)


def test_truncated_model(tmp_path: Path) -> None:
    path = save(
        tmp_path / "m.onnx",
        [conv(["x", "w"], kernel_shape=[3, 3])],
        [1, 3, 8, 8],
        initializers=[weight("w", [64, 3, 3, 3])],
    )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ModelError, match=r"^m\.onnx: not an ONNX model, or a truncated one \(protobuf: .+\)$"
    ):
        read_onnx(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nope\.onnx: cannot read the model: no such file$"):
        read_onnx(tmp_path / "nope.onnx")
    with pytest.raises(ModelError, match=r" is a directory, not an ONNX file$"):
        read_onnx(tmp_path)


def test_reading_needs_no_onnx_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nodes = [
        conv(["x", "w"], "c", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["y"], name="r"),
    ]
    path = save(tmp_path / "m.onnx", nodes, [1, 3, 8, 8], initializers=[weight("w", [8, 3, 3, 3])])
    with_onnx = read_onnx(path)
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    assert read_onnx(path) == with_onnx
    # a vendor operator: convcost has no shape rule for it, and ONNX's inference is absent
    fancy = helper.make_node("Fancy", ["c"], ["y"], name="f", domain="com.vendor")
    vendor = tmp_path / "v.onnx"
    monkeypatch.delitem(sys.modules, "onnx")
    save(vendor, [nodes[0], fancy], [1, 3, 8, 8], initializers=[weight("w", [8, 3, 3, 3])])
    monkeypatch.setitem(sys.modules, "onnx", None)
    message = (
        "v.onnx: node \"f\" (Fancy): convcost infers no shape for its output 'y', which a "
        "placeholder of unknown cost needs: ONNX's shape inference may, with pip install "
        "'convcost[onnx]'"
    )
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(vendor, allow_unsupported=True)


def test_missing_external_data_for_a_needed_constant(tmp_path: Path) -> None:
    node = helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", FLOAT, None)],
        [  # raw bytes: only those are moved to external data
            helper.make_tensor("lo", FLOAT, [], struct.pack("<f", 0.0), raw=True),
            helper.make_tensor("hi", FLOAT, [], struct.pack("<f", 6.0), raw=True),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path), save_as_external_data=True, location="m.data", size_threshold=0)
    assert layers(path) == [{"relu6": {}}]  # the bounds read from m.data by offset and length
    (tmp_path / "m.data").unlink()
    message = "m.onnx: node \"clip\" (Clip): cannot read external data 'm.data': No such file or directory"
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)


def test_custom_domain_operator(tmp_path: Path) -> None:
    node = helper.make_node("FusedConv", ["x"], ["y"], name="n", domain="com.microsoft")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", FLOAT, [1, 3, 4, 4])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=opsets), str(path))
    unsupported(path, "com.microsoft.FusedConv")


def test_too_large_a_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.onnx"
    with path.open("wb") as stream:  # a sparse file: 2 GiB long, nothing written
        stream.truncate(2**31)
    message = (
        "big.onnx: the file has 2,147,483,648 bytes, more than protobuf can parse (2 GiB): "
        "save the model with its weights as external data "
        "(onnx.save(model, path, save_as_external_data=True))"
    )
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "pipe.onnx"
    os.mkfifo(path)  # no writer: reading it would block forever
    with pytest.raises(
        ModelError, match=r"pipe\.onnx is not a regular file: convcost reads ONNX files$"
    ):
        read_onnx(path)


def test_external_data_outside_the_folder(tmp_path: Path) -> None:
    lo = helper.make_tensor("lo", FLOAT, [], struct.pack("<f", 0.0), raw=True)
    hi = helper.make_tensor("hi", FLOAT, [], struct.pack("<f", 6.0), raw=True)
    hi.data_location = onnx.TensorProto.EXTERNAL
    hi.ClearField("raw_data")
    entry = hi.external_data.add()
    entry.key, entry.value = "location", "../secret.bin"
    node = helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", FLOAT, None)],
        [lo, hi],
    )
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(struct.pack("<f", 6.0))
    path = folder / "m.onnx"
    path.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    )
    message = "m.onnx: node \"clip\" (Clip): external data location '../secret.bin' is outside the model's folder"
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)


def test_node_without_its_inputs(tmp_path: Path) -> None:
    path = save(tmp_path / "m.onnx", [conv(["x"], kernel_shape=[3, 3])], [1, 3, 8, 8])  # no weight
    message = 'm.onnx: node "n" (Conv): has fewer inputs or outputs than its operator needs'
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)


def _channels_last_model(tmp_path: Path, shape: list[int | str]) -> Path:
    """As tf2onnx writes a Keras CNN: an NHWC input through one Transpose, a flatten of the
    channels-last features before the dense layer (MatMul + Add)."""
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], name="to_nchw", perm=[0, 3, 1, 2]),
        conv(["t", "w", "b"], "c", name="conv2d", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Transpose", ["r"], ["back"], name="to_nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["back", "flat"], ["f"], name="flatten"),
        helper.make_node("MatMul", ["f", "dense"], ["m"], name="dense"),
        helper.make_node("Add", ["m", "bias"], ["y"], name="dense_bias"),
    ]
    inits = [
        weight("w", [8, 3, 3, 3]),
        weight("b", [8]),
        ints("flat", [-1, 8 * 6 * 5]),
        weight("dense", [8 * 6 * 5, 10]),
        weight("bias", [10]),
    ]
    return save(tmp_path / "keras.onnx", nodes, shape, initializers=inits)


def test_channels_last_input(tmp_path: Path) -> None:
    graph = read_onnx(_channels_last_model(tmp_path, ["unk__0", 6, 5, 3]))
    assert graph.input_shape == (3, 6, 5)  # channels first, as convcost reads it
    assert [(n.name, n.inputs, n.layer) for n in graph.nodes] == [
        ("conv2d", (INPUT,), {"conv": {"out": 8, "kernel": 3, "padding": 1}}),
        ("relu", ("conv2d",), {"relu": {}}),
        ("flatten", ("relu",), {"flatten": {}}),  # the same 240 features, channels last
        ("dense", ("flatten",), {"linear": {"out": 10}}),
    ]


def test_channels_last_symbolic_sizes(tmp_path: Path) -> None:
    path = _channels_last_model(tmp_path, ["N", "h", "w", 3])
    message = (
        'keras.onnx: input "x" is [N, h, w, 3], with symbolic sizes (h, w): '
        "give the input shape without batch, e.g. --input 3x224x224"
    )
    with pytest.raises(ModelError, match=f"^{re.escape(message)}$"):
        read_onnx(path)
    assert read_onnx(path, input_shape=(3, 6, 5)).input_shape == (3, 6, 5)


def test_huge_node_name(tmp_path: Path) -> None:
    name = "/" + "/".join(f"m{i}" for i in range(20_000)) + "/Relu"  # 20,000 scopes deep
    path = save(
        tmp_path / "m.onnx", [helper.make_node("Relu", ["x"], ["y"], name=name)], [1, 3, 4, 4]
    )
    graph = read_onnx(path)
    assert len(graph.nodes[0].name) <= 128
    assert graph.nodes[0].name.startswith("m0.m1.m2.")
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", graph.nodes[0].name)
