"""The spec loader in front of hostile input: every bound of convcost/limits.py it enforces.

Each refusal is one line with its exact message. Inputs that used to take gigabytes, block
or recurse run the real CLI in a subprocess (``python -m convcost analyze``) with a bound on
its wall time and its peak RSS (from ``os.wait4``); the rest go through typer's CliRunner and
the Python API, as in tests/test_spec.py.
"""

from __future__ import annotations

import io
import os
import time
import tracemalloc
from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import convcost
import convcost.limits as limits_module
from convcost.cli import app
from convcost.errors import ConvcostError, ExitStatus, ResourceLimitError, SpecError
from convcost.limits import MAX_INT, MAX_NAME_LENGTH, MAX_NESTING, Limits
from convcost.spec import read_spec_stream
from convcost.tree import Seq
from tests.attacks import harness
from tests.attacks.harness import Run, assert_bounded

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> Run:
    """``python -m convcost ARGS`` in the current directory (the attack suite's harness)."""
    return harness.run_cli(args, cwd=Path.cwd())


def assert_refused(run: Run, status: ExitStatus, message: str) -> None:
    """One line, the exact message, the exit code; within 5 CPU-s and 300 MiB (issue 16)."""
    assert_bounded(run)
    assert (run.exit_code, run.stderr) == (status, f"error: {message}\n")
    assert run.stdout == b""


def cli_error(text: str, status: ExitStatus = ExitStatus.INVALID_INPUT) -> str:
    """``convcost analyze net.yaml`` (CliRunner) on ``text`` in the current directory."""
    Path("net.yaml").write_text(text, encoding="utf-8")
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"}).invoke(app, ["analyze", "net.yaml"])
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.exit_code == status, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.removeprefix("error: ").removesuffix("\n")


def api_error(text: str, limits: Limits | None = None) -> str:
    def load_and_analyze() -> None:
        convcost.analyze_all(
            convcost.parse_spec(text, source="net.yaml", limits=limits or Limits())
        )

    with pytest.raises(ConvcostError) as caught:
        load_and_analyze()
    return str(caught.value)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------------------------------------
# Reading the file: size, kind, encoding


def test_a_file_past_the_size_limit_is_refused_before_it_is_read(in_tmp: Path) -> None:
    with open("big.yaml", "wb") as file:  # sparse: 16 MiB + 1 of zeros, never read
        file.truncate(Limits().max_spec_bytes + 1)
    assert_refused(
        run_cli("analyze", "big.yaml"),
        ExitStatus.RESOURCE_LIMIT,
        "big.yaml is 16777217 bytes; a spec may have at most 16777216 bytes (Limits.max_spec_bytes)",
    )


def test_the_size_limit_is_the_callers(in_tmp: Path) -> None:
    Path("net.yaml").write_text("input: [3, 8, 8]\nlayers: []\n", encoding="utf-8")  # 28 bytes
    assert convcost.load_spec("net.yaml", limits=Limits(max_spec_bytes=28)).input_shape == (3, 8, 8)
    with pytest.raises(ResourceLimitError) as caught:
        convcost.load_spec("net.yaml", limits=Limits(max_spec_bytes=27))
    assert str(caught.value) == (
        "net.yaml is 28 bytes; a spec may have at most 27 bytes (Limits.max_spec_bytes)"
    )
    assert caught.value.exit_status == ExitStatus.RESOURCE_LIMIT


def test_a_stream_is_read_with_the_same_bound() -> None:
    text = b"input: [3, 8, 8]\nlayers: []\n"
    spec = read_spec_stream(io.BytesIO(text), limits=Limits(max_spec_bytes=28))
    assert (spec.source, spec.input_shape) == ("<stdin>", (3, 8, 8))

    class Endless(io.RawIOBase):
        """/dev/zero as a pipe: the loader must stop after the limit (+1 byte)."""

        requested = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            Endless.requested += len(buffer)
            buffer[:] = bytes(len(buffer))
            return len(buffer)

    with pytest.raises(ResourceLimitError) as caught:
        read_spec_stream(io.BufferedReader(Endless()), limits=Limits(max_spec_bytes=1000))  # type: ignore[type-var]
    assert str(caught.value) == (
        "<stdin> holds more than 1000 bytes; a spec may have at most 1000 bytes "
        "(Limits.max_spec_bytes)"
    )
    assert Endless.requested <= 1001 + io.DEFAULT_BUFFER_SIZE


def test_a_fifo_without_a_writer_is_refused_without_blocking(in_tmp: Path) -> None:
    os.mkfifo("net.yaml")  # opening it for reading would wait for a writer forever
    assert_refused(
        run_cli("analyze", "net.yaml"),
        ExitStatus.INVALID_INPUT,
        "net.yaml is a FIFO, not a regular file: convcost reads spec files",
    )


def test_dev_zero_is_refused_not_read() -> None:
    assert_refused(
        run_cli("analyze", "/dev/zero"),
        ExitStatus.INVALID_INPUT,
        "/dev/zero is a character device, not a regular file: convcost reads spec files",
    )


def test_an_empty_path_is_no_file_not_the_current_directory() -> None:
    with pytest.raises(SpecError) as caught:
        convcost.load_spec("")
    assert str(caught.value) == "no spec file ''"


def test_a_directory_through_the_api(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        convcost.load_spec(tmp_path)
    assert str(caught.value) == f"{tmp_path} is a directory, not a spec file"


@pytest.mark.parametrize("mark", [b"", b"\xef\xbb\xbf"])
def test_non_utf8_bytes_are_located(in_tmp: Path, mark: bytes) -> None:
    Path("net.yaml").write_bytes(mark + b"input: [3, 8, 8]\nlayers: []\nname: \xc3\xa9t\xe9\n")
    # line 3; column 9: `name: ` is 6 characters, then é (two bytes, one character) and t. A
    # byte-order mark is not a character of line 1 (the utf-8-sig codec counted its error from
    # after the mark: it named byte 0x73, "s", at 3:6)
    result = CliRunner().invoke(app, ["analyze", "net.yaml"])
    assert (result.exit_code, result.stderr) == (
        ExitStatus.INVALID_INPUT,
        "error: net.yaml:3:9: the spec is not UTF-8: byte 0xe9 is invalid here "
        "(invalid continuation byte); save the file as UTF-8\n",
    )


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    spec = read_spec_stream(io.BytesIO("\ufeffinput: [3, 8, 8]\nlayers: []\n".encode()))
    assert spec.input_shape == (3, 8, 8)


def test_an_unknown_top_level_key_is_reported_before_the_rest_is_parsed() -> None:
    # ~15 MB of layers after a misspelt key on line 4: the key is refused as soon as it is
    # read (the whole file took over 120 s at 99 MB before)
    text = "input: [3, 8, 8]\nlayers: []\nbudget: {}\nlayerz:\n" + "  - relu: {}\n" * 1_200_000
    start = time.process_time()
    assert api_error(text) == (
        "net.yaml:4:1: unknown top-level key 'layerz'; did you mean 'layers'?; "
        "allowed: name, input, layers, variants, blocks, budget, params, include"
    )
    assert time.process_time() - start < 1


# ---------------------------------------------------------------------------------------------
# Aliases: counted by what they stand for, never copied


def alias_levels(levels: int) -> str:
    """Ten-way nested aliases under a block nobody uses: level k stands for 11…1 (k+2 ones) nodes."""
    lines = ["input: [3, 8, 8]", "blocks:", "  b:", "    params:"]
    lines.append("      a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]")
    for level in range(1, levels + 1):
        lines.append(f"      a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]")
    return "\n".join([*lines, "    layers: []", "layers: []", ""])


BOMB_MESSAGE = (
    "the YAML document is too large: alias *a4 stands for 111111 nodes and takes more than "
    "1000000 nodes once aliases are expanded (Limits.max_yaml_nodes)"
)


def test_an_alias_bomb_is_refused_by_the_cli(in_tmp: Path) -> None:
    Path("net.yaml").write_text(alias_levels(6), encoding="utf-8")  # 557 bytes, 10⁷ scalars
    # a0…a4 hold 123,455 nodes (a_k: 11…1 with k+2 ones); each *a4 in a5 (line 10) adds 111,111,
    # so the eighth one (column 16 + 7·5 = 51) takes the count past 1,000,000
    assert_refused(
        run_cli("analyze", "net.yaml"),
        ExitStatus.RESOURCE_LIMIT,
        f"net.yaml:10:51: field blocks.b.params.a5[7]: {BOMB_MESSAGE}",
    )


def test_an_alias_bomb_is_refused_in_under_a_second_and_100_mb() -> None:
    tracemalloc.start()
    start = time.process_time()
    with pytest.raises(ResourceLimitError) as caught:
        convcost.parse_spec(alias_levels(6), source="net.yaml")
    seconds = time.process_time() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert str(caught.value) == f"net.yaml:10:51: field blocks.b.params.a5[7]: {BOMB_MESSAGE}"
    assert seconds < 1, seconds
    assert peak < 100 * 2**20, peak


def test_aliases_share_what_they_name() -> None:
    # a4 stands for 111,111 nodes (a0…a4: 123,455): within the limit, and loaded without copies
    tracemalloc.start()
    spec = convcost.parse_spec(alias_levels(4))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5 * 2**20, peak  # a copy would be ~100 bytes a node: > 12 MB
    params = dict(spec.blocks[0].params)
    a3, a4 = params["a3"], params["a4"]
    assert isinstance(a4, Seq)
    assert len(a4) == 10
    assert all(item is a3 for item in a4)


# input: [3, 8, 8] (6 nodes: the root mapping, the key, the list and its 3 items), layers: []
# (2), blocks (1), {b: …} (1), b (1), {params, layers} (1), params (1), {x, y} (1), x (1),
# &a [1, 1, 1] (4), y (1), [*a, *a] (1 + 4 + 4), layers (1), [] (1): 31 nodes in all.
COUNTED = (
    "input: [3, 8, 8]\nlayers: []\n"
    "blocks: {b: {params: {x: &a [1, 1, 1], y: [*a, *a]}, layers: []}}\n"
)


def test_the_expanded_size_is_counted_exactly() -> None:
    assert convcost.parse_spec(COUNTED, limits=Limits(max_yaml_nodes=31)).blocks
    # the 31st node is the last `[]` (line 3, column 62)
    assert api_error(COUNTED, Limits(max_yaml_nodes=30)) == (
        "net.yaml:3:62: field blocks.b.layers: the YAML document is too large: it has more than 30 nodes once "
        "aliases are expanded (Limits.max_yaml_nodes)"
    )
    # the second *a (column 48) brings the count from 25 to 29
    assert api_error(COUNTED, Limits(max_yaml_nodes=28)) == (
        "net.yaml:3:48: field blocks.b.params.y[1]: the YAML document is too large: alias *a "
        "stands for 4 nodes and takes "
        "more than 28 nodes once aliases are expanded (Limits.max_yaml_nodes)"
    )


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "input: [3, 8, 8]\nlayers: &a [*a]\n",
            "net.yaml:2:13: field layers[0]: alias *a is used inside the node it names: a recursive alias",
        ),
        (
            "input: [3, 8, 8]\nlayers: []\nblocks: &b {x: {params: {y: *b}, layers: []}}\n",
            "net.yaml:3:29: field blocks.x.params.y: alias *b is used inside the node it names: a recursive alias",
        ),
    ],
)
def test_a_recursive_alias_is_one_line(text: str, expected: str) -> None:
    assert cli_error(text) == expected
    assert api_error(text) == expected


# ---------------------------------------------------------------------------------------------
# Nesting


def nested(levels: int) -> str:
    """A block parameter nested ``levels`` deep in all: the document's mapping, ``blocks``'s,
    ``b``'s and ``params``' are 4 levels, then ``levels - 4`` lists."""
    lists = levels - 4
    return (
        "input: [3, 8, 8]\nlayers: []\nblocks:\n  b:\n    layers: []\n    params:\n"
        f"      x: {'[' * lists}1{']' * lists}\n"
    )


def test_nesting_up_to_the_limit_is_read_and_one_more_is_refused() -> None:
    assert convcost.parse_spec(nested(MAX_NESTING)).blocks
    # `      x: ` is 9 columns: the 61st `[` (column 70) opens the 65th level
    assert api_error(nested(MAX_NESTING + 1)) == (
        "net.yaml:7:70: field blocks.b.params.x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][…: lists and mappings are nested more than 64 levels deep"
    )


def test_deep_flow_nesting_is_one_line_not_a_recursion_error(in_tmp: Path) -> None:
    Path("net.yaml").write_text(
        "input: [3, 8, 8]\nlayers: " + "[" * 900 + "]" * 900 + "\n", encoding="utf-8"
    )
    # `layers: ` is 8 columns; the root mapping is level 1, the 64th `[` (column 72) level 65
    assert_refused(
        run_cli("analyze", "net.yaml"),
        ExitStatus.INVALID_INPUT,
        "net.yaml:2:72: field layers[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]…: lists and mappings are nested more than 64 levels deep",
    )


def test_deep_block_nesting_is_one_line() -> None:
    # `- ` opens a list two columns further in on each line: line k + 2 opens level k + 1
    text = "input: [3, 8, 8]\nlayers:\n" + "".join(f"{'  ' * k}- \n" for k in range(1, 200))
    assert api_error(text) == (
        "net.yaml:66:129: field layers[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]…: lists and mappings are nested more than 64 levels deep"
    )


def test_a_100000_deep_document_is_refused_quickly() -> None:
    start = time.process_time()
    # libyaml's scanner looks ahead through flow collections and stops at its own bound of
    # 1,000 levels first; PyYAML's pure-Python parser reaches ours (the root mapping is level 1)
    expected = (
        "net.yaml:1:1008: invalid YAML: while increasing flow level exceeded maximum nesting depth"
        if hasattr(yaml, "CSafeLoader")
        else "net.yaml:1:72: lists and mappings are nested more than 64 levels deep"
    )
    assert api_error("layers: " + "[" * 100_000) == expected
    assert time.process_time() - start < 1


def test_an_alias_counts_the_depth_it_brings_in() -> None:
    # &a is 30 lists deep, used inside `outer` lists: 4 mappings + outer + 30 levels
    def text(outer: int) -> str:
        return (
            "input: [3, 8, 8]\nlayers: []\nblocks:\n  b:\n    layers: []\n    params:\n"
            f"      x: &a {'[' * 30}1{']' * 30}\n"
            f"      y: {'[' * outer}*a{']' * outer}\n"
        )

    assert convcost.parse_spec(text(30)).blocks  # 4 + 30 + 30 = 64
    assert api_error(text(31)) == (
        "net.yaml:8:41: field blocks.b.params.y[0][0][0][0][0][0][0][0][0][0][0][0][0][0][…: alias *a nests lists and mappings more than 64 levels deep"
    )


# ---------------------------------------------------------------------------------------------
# Integers, tags and YAML 1.1 traps, refused where they are written (used or not)

BLOCK = "input: [3, 8, 8]\nlayers: []\nblocks:\n  b:\n    layers: []\n    params: {x: VALUE}\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9223372036854775807", MAX_INT),
        ("-9223372036854775807", -MAX_INT),
        ("0x7fffffffffffffff", MAX_INT),
        ("0b" + "1" * 63, MAX_INT),
        ("0x_10", 16),
        ("1_000", 1000),
        ("!!float 4", 4.0),
        ("!!str 4", "4"),
        ("!!int '12'", 12),
        ("2024-01-01", "2024-01-01"),  # an implicit timestamp stays the text it was
        ("=", "="),
    ],
)
def test_values_the_loader_keeps(value: str, expected: object) -> None:
    spec = convcost.parse_spec(BLOCK.replace("VALUE", value))
    default = dict(spec.blocks[0].params)["x"]
    assert default is not None
    read = default.value  # type: ignore[union-attr]
    assert (type(read), read) == (type(expected), expected)


MAX_INT_TOO_LARGE = "is too large: integers must be at most 9223372036854775807"


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9223372036854775808", f"the integer 9223372036854775808 {MAX_INT_TOO_LARGE}"),
        ("-9223372036854775808", f"the integer -9223372036854775808 {MAX_INT_TOO_LARGE}"),
        ("0x8000000000000000", f"the integer 0x8000000000000000 {MAX_INT_TOO_LARGE}"),
        ("1" * 400, f"the integer {'1' * 20}… (400 characters) {MAX_INT_TOO_LARGE}"),
        ("017", "017 is octal 15 in YAML 1.1: write 15, or 17"),
        ("-017", "-017 is octal -15 in YAML 1.1: write -15, or -17"),
        ("07", "07 is octal 7 in YAML 1.1: write 7"),
        (
            "1:30",
            "1:30 is 90 in YAML 1.1 (base 60, like a time): write 90, or quote it for text",
        ),
        (
            "1:30.5",
            "1:30.5 is 90.5 in YAML 1.1 (base 60, like a time): write 90.5, or quote it for text",
        ),
        ("!!int 1e400", "cannot read '1e400' as !!int"),
        ("!!float abc", "cannot read 'abc' as !!float"),
        ("!!bool maybe", "cannot read 'maybe' as !!bool"),
    ],
)
def test_numbers_the_loader_refuses(value: str, expected: str) -> None:
    text = BLOCK.replace("VALUE", value)
    # the loader names the field it was reading: the block parameter x
    assert cli_error(text) == f"net.yaml:6:17: field blocks.b.params.x: {expected}"
    assert api_error(text) == f"net.yaml:6:17: field blocks.b.params.x: {expected}"


def test_a_5000_digit_name_is_one_line(in_tmp: Path) -> None:
    # Python refuses to convert more than 4,300 digits: this was a ValueError traceback
    Path("net.yaml").write_text(
        f"name: {'1' * 5000}\ninput: [3, 8, 8]\nlayers: []\n", encoding="utf-8"
    )
    assert_refused(
        run_cli("analyze", "net.yaml"),
        ExitStatus.INVALID_INPUT,
        f"net.yaml:1:7: field name: the integer {'1' * 20}… (5000 characters) {MAX_INT_TOO_LARGE}",
    )


TAGS = "(allowed tags: !!str, !!int, !!float, !!bool, !!null, !!seq, !!map)"


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("!foo x", f"the YAML tag !foo is not allowed: a spec is plain data {TAGS}"),
        (
            "!!python/name:os.system x",
            f"the YAML tag !!python/name:os.system is not allowed: a spec is plain data {TAGS}",
        ),
        (
            "!!python/none x",
            f"the YAML tag !!python/none is not allowed: a spec is plain data {TAGS}",
        ),
        ("!!binary aGk=", f"the YAML tag !!binary is not allowed: a spec is plain data {TAGS}"),
        ("!!set {a}", f"the YAML tag !!set is not allowed: a spec is plain data {TAGS}"),
        ("!!omap [a: 1]", f"the YAML tag !!omap is not allowed: a spec is plain data {TAGS}"),
        (
            "!!timestamp 2024-01-01",
            f"the YAML tag !!timestamp is not allowed: a spec is plain data {TAGS}",
        ),
        ("!!map [1]", f"the YAML tag !!map is not allowed: a spec is plain data {TAGS}"),
    ],
)
def test_tags_outside_the_core_schema_are_refused(value: str, expected: str) -> None:
    text = BLOCK.replace("VALUE", value)
    # the loader names the field it was reading: the block parameter x
    assert cli_error(text) == f"net.yaml:6:17: field blocks.b.params.x: {expected}"
    assert api_error(text) == f"net.yaml:6:17: field blocks.b.params.x: {expected}"


@pytest.mark.usefixtures("in_tmp")
def test_a_merge_key_is_refused() -> None:
    text = (
        "input: [3, 8, 8]\nblocks: {b: {params: &p {w: 3}, layers: []}}\n"
        "layers:\n  - conv: {<<: *p, out: 4, kernel: 3}\n"
    )
    expected = (
        "net.yaml:4:12: field layers[0].conv: merge keys (<<) are not supported: write the fields out, "
        "or use a block with parameters"
    )
    assert cli_error(text) == expected
    assert api_error(text) == expected


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the YAML 1.1 traps in budgets and shapes (`macs: 1:30` was 90, `out: 1:30` 90 channels)
        (
            "input: [3, 8, 8]\nlayers: []\nbudget: {params: 017}\n",
            "net.yaml:3:18: field budget.params: 017 is octal 15 in YAML 1.1: write 15, or 17",
        ),
        (
            "input: [3, 8, 8]\nlayers: []\nbudget: {macs: 1:30}\n",
            "net.yaml:3:16: field budget.macs: 1:30 is 90 in YAML 1.1 (base 60, like a time): write 90, or quote it for text",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv: {out: 1:30, kernel: 1}\n",
            "net.yaml:3:17: field layers[0].conv.out: 1:30 is 90 in YAML 1.1 (base 60, like a time): write 90, or quote it for text",
        ),
        # YAML 1.1 has no 0o prefix: the string gets a hint
        (
            "input: [3, 8, 8]\nlayers:\n  - conv: {out: 0o17, kernel: 1}\n",
            "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got '0o17' "
            "(YAML 1.1 reads 0o octals as strings: write 15)",
        ),
        # was "got 4": a float that looks like an integer
        (
            "input: [3, 8, 8]\nlayers:\n  - conv: {out: !!float 4, kernel: 1}\n",
            "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 4.0 (a float)",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv: {out: !!float 1e3, kernel: 1}\n",
            "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 1000.0 (a float)",
        ),
        (
            "input: [3, 8, 8]\nlayers:\n  - conv: {out: 1.0e+400, kernel: 1}\n",
            "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 1.0e+400",
        ),
        # `input: []` and `{}` fell back to the shared input
        (
            "input: [3, 8, 8]\nvariants:\n  a: {input: [], layers: []}\n",
            "net.yaml:3:14: field variants.a.input: must be [C, L], [C, H, W] or [C, D, H, W] "
            "(channels first, no batch; rank 2 to 4), got 0 values",
        ),
        (
            "input: [3, 8, 8]\nvariants:\n  a: {input: {}, layers: []}\n",
            "net.yaml:3:14: field variants.a.input: must be [C, L], [C, H, W] or [C, D, H, W] "
            "(channels first, no batch; rank 2 to 4), got a mapping",
        ),
    ],
)
def test_traps_and_misleading_messages(text: str, expected: str) -> None:
    assert cli_error(text) == expected
    assert api_error(text) == expected


@pytest.mark.usefixtures("in_tmp")
def test_a_null_budget_says_null() -> None:
    # was "got NoneType"
    Path("net.yaml").write_text(
        "input: [3, 8, 8]\nlayers: []\nbudget: {params: null}\n", encoding="utf-8"
    )
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"}).invoke(app, ["check", "net.yaml"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert (
        "net.yaml:3:18: field budget.params: must be an integer, or a number with K, M, G or T "
        "(powers of 1000), e.g. 5M, 1.2G, got null"
    ) in result.output


def test_octal_and_hex_are_kept_apart() -> None:
    # 0x10 is 16 and 1_0 is 10 (unambiguous, kept); the conv's out channels show it
    report = convcost.analyze(
        convcost.parse_spec(
            "input: [3, 8, 8]\nlayers:\n  - conv: {out: 0x10, kernel: 1}\n"
            "  - conv: {out: 1_0, kernel: 1}\n"
        )
    )
    assert report.output_shape == (10, 8, 8)
    assert report.layers[0].output_shape == (16, 8, 8)


# ---------------------------------------------------------------------------------------------
# Names

SPEC_NAME = "name: NAME\ninput: [3, 8, 8]\nlayers: []\n"
VARIANT_NAME = "input: [3, 8, 8]\nvariants:\n  NAME: []\n"
BLOCK_NAME = "input: [3, 8, 8]\nblocks:\n  NAME: {layers: []}\nlayers: []\n"
LAYER_NAME = "input: [3, 8, 8]\nlayers:\n  - relu: {}\n    name: NAME\n"
BRANCH_NAME = "input: [3, 8, 8]\nlayers:\n  - add:\n      NAME: []\n"
LONG = "n" * (MAX_NAME_LENGTH + 1)


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("template", "name", "expected"),
    [
        (
            SPEC_NAME,
            '"a\\x1b[2Jb"',
            "1:7: spec name 'a\\x1b[2Jb' contains U+001B, a control character: names hold printable characters only",
        ),
        (SPEC_NAME, '" x"', "1:7: spec name ' x' must not start or end with whitespace"),
        (SPEC_NAME, LONG, "1:7: spec name has 129 characters; at most 128 are allowed"),
        (
            VARIANT_NAME,
            '"a\\nb"',
            "3:3: variant name 'a\\nb' contains U+000A, a control character: names hold printable characters only",
        ),
        (VARIANT_NAME, '""', "3:3: variant name must not be empty"),
        # a block's name starts its uses' default names: `a.b` would make the path a.b1.relu1
        (
            BLOCK_NAME,
            "a.b",
            "3:3: block name 'a.b' must not contain dots (the separator of layer paths)",
        ),
        (BLOCK_NAME, '"a b"', "3:3: block name 'a b' must not contain whitespace"),
        (
            BLOCK_NAME,
            '"x\\u202ey"',
            "3:3: block name 'x\\u202ey' contains U+202E, a format character (such as a bidirectional override): names hold printable characters only",
        ),
        (
            LAYER_NAME,
            '"a\\u2028b"',
            "4:11: layers[0]: layer name 'a\\u2028b' contains U+2028, a line separator: names hold printable characters only",
        ),
        (
            LAYER_NAME,
            '"a\\u2029b"',
            "4:11: layers[0]: layer name 'a\\u2029b' contains U+2029, a paragraph separator: names hold printable characters only",
        ),
        (
            LAYER_NAME,
            '"\\ue000"',
            "4:11: layers[0]: layer name '\\ue000' contains U+E000, a private-use character: names hold printable characters only",
        ),
        (
            LAYER_NAME,
            '"\\u0378"',
            "4:11: layers[0]: layer name '\\u0378' contains U+0378, an unassigned code point: names hold printable characters only",
        ),
        (
            LAYER_NAME,
            '"a\\tb"',
            "4:11: layers[0]: layer name 'a\\tb' contains U+0009, a control character: names hold printable characters only",
        ),
        (BRANCH_NAME, '""', "4:7: layer add1: branch name must not be empty"),
        (BRANCH_NAME, '"a b"', "4:7: layer add1: branch name 'a b' must not contain whitespace"),
        (
            BRANCH_NAME,
            '"a\\nb"',
            "4:7: layer add1: branch name 'a\\nb' contains U+000A, a control character: names hold printable characters only",
        ),
        (
            BRANCH_NAME,
            LONG,
            "4:7: layer add1: branch name has 129 characters; at most 128 are allowed",
        ),
    ],
)
def test_names_outside_the_documented_set_are_refused(
    template: str, name: str, expected: str
) -> None:
    text = template.replace("NAME", name)
    assert cli_error(text) == f"net.yaml:{expected}"
    assert api_error(text) == f"net.yaml:{expected}"


@pytest.mark.parametrize(
    "name", ["resnet[v2]", "[/]", "[link=x]", "résumé", "网络", "a|b", "n" * MAX_NAME_LENGTH]
)
def test_names_inside_the_set_are_kept_as_written(name: str) -> None:
    quoted = f"'{name}'"
    for template in (SPEC_NAME, VARIANT_NAME, BLOCK_NAME):
        spec = convcost.parse_spec(template.replace("NAME", quoted))
        assert name in (spec.name, spec.variants[0].name, *(b.name for b in spec.blocks))
    layer = convcost.analyze(convcost.parse_spec(LAYER_NAME.replace("NAME", quoted)))
    assert layer.layers[0].path == name
    branch = convcost.analyze(convcost.parse_spec(BRANCH_NAME.replace("NAME", quoted)))
    assert branch.output_shape == (3, 8, 8)


# ---------------------------------------------------------------------------------------------
# docs/limits.md lists every bound


def test_docs_list_every_bound_with_its_value() -> None:
    page = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line for line in page.splitlines() if line.startswith("| `")
    }
    constants = {
        name: value
        for name, value in vars(limits_module).items()
        if name.isupper() and isinstance(value, int)
    }
    assert "MAX_NESTING" in constants  # the scan itself works
    for name, value in constants.items():
        assert f"`{name}`" in rows, f"docs/limits.md: add {name}"
        assert f"| {value} " in rows[f"`{name}`"], f"docs/limits.md: {name} is {value}"
    defaults = Limits()
    for field in fields(Limits):
        value = getattr(defaults, field.name)
        row = rows[f"`{field.name}`"]
        assert f"{value:,}" in row or f"({value})" in row, (
            f"docs/limits.md: {field.name} is {value}"
        )


@pytest.mark.usefixtures("in_tmp")
def test_a_merge_key_is_refused_after_the_same_text_as_a_value() -> None:
    # `<<` read first as a value is the string '<<'; as a key it is still a merge key
    text = (
        "input: [3, 8, 8]\nblocks: {b: {params: {w: <<}, layers: []}}\n"
        "layers:\n  - conv: {<<: {out: 4}, kernel: 3}\n"
    )
    assert api_error(text) == (
        "net.yaml:4:12: field layers[0].conv: merge keys (<<) are not supported: write the fields out, "
        "or use a block with parameters"
    )


def test_a_long_string_is_cut_in_a_message() -> None:
    text = f"input: [3, 8, 8]\nlayers:\n  - conv: {{out: {'x' * 100_000}, kernel: 1}}\n"
    assert api_error(text) == (
        f"net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got "
        f"'{'x' * 60}'… (100000 characters)"
    )


def test_a_long_unknown_key_is_cut_in_the_message() -> None:
    # an explicit key (`? …`): a plain one is at most 1,024 characters in YAML
    assert api_error(f"input: [3, 8, 8]\nlayers: []\n? {'k' * 100_000}\n: 1\n") == (
        f"net.yaml:3:3: unknown top-level key '{'k' * 60}'… (100000 characters); "
        "allowed: name, input, layers, variants, blocks, budget, params, include"
    )


def test_text_is_held_to_the_size_limit_too() -> None:
    text = "input: [3, 8, 8]\nlayers: []\n"  # 28 characters
    assert convcost.parse_spec(text, limits=Limits(max_spec_bytes=28)).name == "spec"
    with pytest.raises(ResourceLimitError) as caught:
        convcost.parse_spec(text, limits=Limits(max_spec_bytes=27))
    assert str(caught.value) == (
        "<string> is 28 characters; a spec may have at most 27 bytes (Limits.max_spec_bytes)"
    )
