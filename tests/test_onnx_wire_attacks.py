"""Hostile ONNX files against convcost's own protobuf reader (convcost.importer.wire,
onnx_decode, onnx_file): each is one line ``error: m.onnx: …`` and exit 2, within the bounds of
tests/attacks/harness, never a traceback, a hang or a runaway allocation.

The model is written here byte by byte (a small protobuf encoder, no onnx package), so every
attack controls the exact bytes: truncation at every cut point, an 11-byte varint, a length
past the end, a declared length of 2**60, a wire type ONNX never writes, a field numbered 0,
submessages nested 100,000 deep, and 2,000 random byte flips.
"""

from __future__ import annotations

import random
import struct
import sys
import time
from pathlib import Path

import pytest

from convcost.errors import ConvcostError, ModelError
from convcost.importer import load_model
from convcost.importer.onnx_file import load
from convcost.importer.wire import WireError
from tests.attacks.harness import (
    Measured,
    assert_bounded,
    bounded,
    memory_guard,
    run_cli,
    time_guard,
)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _int(number: int, value: int) -> bytes:
    return _key(number, 0) + _varint(value)


def _bytes(number: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return _key(number, 2) + _varint(len(data)) + data


def _value_info(name: str, dims: list[int]) -> bytes:
    shape = b"".join(_bytes(1, _int(1, d)) for d in dims)  # TensorShapeProto.dim
    tensor_type = _int(1, 1) + _bytes(2, shape)  # elem_type FLOAT, shape
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))  # name, TypeProto.tensor_type


def _node(op: str, inputs: list[str], outputs: list[str], name: str, *attrs: bytes) -> bytes:
    fields = [_bytes(1, i) for i in inputs] + [_bytes(2, o) for o in outputs]
    return b"".join([*fields, _bytes(3, name), _bytes(4, op), *(_bytes(5, a) for a in attrs)])


def _ints_attribute(name: str, values: list[int]) -> bytes:
    return _bytes(1, name) + _int(20, 7) + b"".join(_int(8, v) for v in values)


def model(graph_extra: bytes = b"") -> bytes:
    """Conv (8 filters of 3×3 over 3 channels) and ReLU on a 1×3×8×8 input, opset 17."""
    weight = b"".join(_int(1, d) for d in (8, 3, 3, 3)) + _int(2, 1) + _bytes(8, "w")
    weight += _bytes(9, bytes(4 * 8 * 3 * 3 * 3))  # raw_data: zeros
    graph = b"".join(
        [
            _bytes(1, _node("Conv", ["x", "w"], ["c"], "conv", _ints_attribute("pads", [1] * 4))),
            _bytes(1, _node("Relu", ["c"], ["y"], "relu")),
            _bytes(2, "g"),
            _bytes(5, weight),
            _bytes(11, _value_info("x", [1, 3, 8, 8])),
            _bytes(12, _value_info("y", [1, 8, 8, 8])),
            graph_extra,
        ]
    )
    return _int(1, 8) + _bytes(7, graph) + _bytes(8, _bytes(1, "") + _int(2, 17))


def outcome(path: Path) -> str | None:
    """None when the file imports as a model; else the one-line error it is refused with."""
    try:
        load_model(path)
    except ConvcostError as error:
        message = str(error)
        assert "\n" not in message, message
        return message
    return None


def test_the_encoded_model_imports(tmp_path: Path) -> None:
    """The attacks' base model is a model: ONNX's own reader (the oracle) agrees, and convcost
    counts 8 filters of 3·3·3 on an 8×8 output: 8·8·8·27 = 13,824 MACs."""
    path = tmp_path / "m.onnx"
    path.write_bytes(model())
    onnx = pytest.importorskip("onnx")
    checked = onnx.load(str(path))
    onnx.checker.check_model(checked)
    assert [node.op_type for node in checked.graph.node] == ["Conv", "Relu"]
    from convcost.engine import analyze  # noqa: PLC0415

    spec = load_model(path)
    assert analyze(spec).totals.macs == 13_824


def test_truncated_at_every_cut_point(tmp_path: Path) -> None:
    """Every prefix of the file: an error naming it, or (cut between top-level fields) a
    model; never anything else, each within the harness's bounds."""
    data = model()
    path = tmp_path / "m.onnx"
    measured = Measured()
    errors = 0
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        message = bounded(lambda: outcome(path), measured)
        assert measured.seconds < 5, (cut, measured)
        assert measured.peak_mb < 100, (cut, measured)
        if message is not None:
            errors += 1
            assert message.startswith("m.onnx: "), (cut, message)
    assert errors >= len(data) - 4  # all but the cuts at the end of a top-level field


HOSTILE = {
    # an 11-byte varint: ten continuation bytes, then one more
    "long-varint": (_int(1, 8) + _key(7, 2) + b"\xff" * 10 + b"\x01", "a number longer than"),
    "length-past-end": (_int(1, 8) + _key(7, 2) + _varint(1000) + b"abc", "claims 1,000 bytes"),
    "length-2**60": (_int(1, 8) + _key(7, 2) + _varint(2**60) + b"abc", "claims 1,152,921,"),
    "wire-type-3": (_int(1, 8) + _key(9, 3), "wire type 3, not one of ONNX's"),
    "wire-type-7": (_int(1, 8) + _key(9, 7), "wire type 7, not one of ONNX's"),
    "field-0": (_int(1, 8) + _key(0, 0) + _varint(5), "a field numbered 0"),
    # the graph as a varint: a known field with the wrong wire type
    "graph-as-varint": (_int(1, 8) + _int(7, 1), "field 7 of the model has wire type 0"),
    "name-as-fixed32": (
        _int(1, 8) + _bytes(7, _key(2, 5) + b"abcd"),
        "field 2 of the graph has wire type 5",
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_bytes_in_process(tmp_path: Path, name: str) -> None:
    data, fragment = HOSTILE[name]
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    measured = Measured()
    with pytest.raises(ModelError) as raised:
        bounded(lambda: load_model(path), measured)
    message = str(raised.value)
    assert message.startswith("m.onnx: not an ONNX model, or a truncated one (protobuf: at byte ")
    assert fragment in message
    assert measured.peak_mb < 50, measured


def _nested(depth: int) -> bytes:
    """A subgraph holding a node whose attribute holds a subgraph …, ``depth`` levels deep
    (graph.node.attribute.g, each a length-delimited field inside the previous one)."""
    prefixes = []
    size = 0
    for _ in range(depth):
        for number in (6, 5, 1):  # attribute.g, node.attribute, graph.node
            prefix = _key(number, 2) + _varint(size)
            prefixes.append(prefix)
            size += len(prefix)
    return b"".join(reversed(prefixes))


def test_deeply_nested_submessages_are_skipped_by_length(tmp_path: Path) -> None:
    """100,000 levels of subgraphs inside an attribute: read in one pass over the bytes (a
    subgraph is not decoded), so no recursion limit is met and the model reads."""
    nest = _bytes(1, _node("Identity", ["y0"], ["y1"], "deep", _bytes(6, _nested(100_000))))
    path = tmp_path / "m.onnx"
    path.write_bytes(model(nest))
    measured = Measured()
    decoded = bounded(lambda: load(path), measured)
    assert decoded.graph is not None
    assert [node.name for node in decoded.graph.node] == ["conv", "relu", "deep"]
    assert measured.seconds < 5, measured


def test_data_longer_than_its_dims_is_not_copied(tmp_path: Path) -> None:
    """A scalar (dims []) whose raw_data holds 20 MB: its dims say it is small, its bytes say
    otherwise; they stay in the file (the reader's peak stays far below 20 MB)."""
    scalar = _int(2, 1) + _bytes(8, "liar") + _bytes(9, bytes(20 * 2**20))
    path = tmp_path / "m.onnx"
    path.write_bytes(model(_bytes(5, scalar)))
    measured = Measured()
    decoded = bounded(lambda: load(path), measured)
    assert decoded.graph is not None
    assert [(t.name, t.raw_data) for t in decoded.graph.initializer[1:]] == [("liar", b"")]
    assert measured.peak_mb < 5, measured


@pytest.mark.parametrize(("count", "onnx_installed"), [(2000, False), (200, True)])
def test_random_byte_flips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, onnx_installed: bool
) -> None:
    """Mutants of the model, each with 1 to 4 bytes replaced at random (seeded): each imports
    or is refused with one line naming the file; the whole run stays bounded. Without the
    onnx package (convcost's reader and inference alone), and with it (ONNX's shape
    inference asked where convcost's leaves a shape unknown)."""
    if onnx_installed:
        pytest.importorskip("onnx")
    else:
        monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    data = model()
    generator = random.Random(20261126 + count)
    path = tmp_path / "m.onnx"

    def run_all() -> int:
        refused = 0
        for _ in range(count):
            mutant = bytearray(data)
            for _ in range(generator.randint(1, 4)):
                mutant[generator.randrange(len(mutant))] = generator.randrange(256)
            path.write_bytes(bytes(mutant))
            message = outcome(path)
            if message is not None:
                refused += 1
                assert message.startswith("m.onnx: "), message
        return refused

    start = time.process_time()
    with memory_guard(), time_guard(60):  # (tracemalloc would triple the time: not traced)
        refused = run_all()
    assert refused > count // 20  # the mutants do reach the reader's checks
    print(f"{count} mutants, {refused} refused, {time.process_time() - start:.1f} s of CPU")


@pytest.mark.parametrize("name", ["long-varint", "length-2**60", "field-0"])
def test_hostile_bytes_through_the_cli(tmp_path: Path, name: str) -> None:
    data, fragment = HOSTILE[name]
    (tmp_path / "m.onnx").write_bytes(data)
    run = run_cli(["analyze", "m.onnx"], cwd=tmp_path)
    assert_bounded(run)
    assert run.exit_code == 2, run.describe()
    (line,) = run.stderr_lines
    assert line.startswith("error: m.onnx: not an ONNX model, or a truncated one (protobuf: ")
    assert fragment in line


def test_wire_error_is_a_value_error() -> None:
    """Callers of the wire module catch one exception type; a struct or index error never
    escapes it (packed floats of a length that is not a multiple of 4)."""
    from convcost.importer.wire import packed_fixed  # noqa: PLC0415

    with pytest.raises(WireError, match="not a whole number of values"):
        packed_fixed(b"abcde", 0, 5, "f")
    assert struct.calcsize("<f") == 4
