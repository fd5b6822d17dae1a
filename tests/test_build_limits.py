"""The expansion of a spec is bounded: layer count, block and group nesting, expressions.

Each hostile spec is refused with its exact message, within a bound on time and memory that
the test itself enforces (tests/bounds.py): in-process with tracemalloc and a CPU clock, and
through ``python -m convcost analyze`` in a child process (< 5 s, < 300 MB, exit code, one
line on stderr).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import convcost
from convcost.errors import ExitStatus, Location, ResourceLimitError, SpecError
from convcost.expr import ExpressionError, evaluate
from convcost.limits import MAX_INT, Limits
from convcost.network import GroupNode, LayerNode, MergeNode, Node
from tests.bounds import run_cli, within

LIMIT_NOTE = "(raise it with --max-layers; every layer, merge, block use and repeat counts as one)"


def build_error(text: str, limits: Limits | None = None) -> SpecError | ResourceLimitError:
    """The error building ``text`` raises, within 1 s of CPU and 10 MiB allocated."""
    spec = convcost.parse_spec(text, source="net.yaml", limits=limits or Limits())
    with pytest.raises((SpecError, ResourceLimitError)) as caught:
        within(lambda: convcost.build(spec), seconds=1.0, megabytes=10)
    return caught.value


def cli_refusal(text: str, tmp_path: Path) -> tuple[int, str]:
    """``convcost analyze net.yaml`` in a child process: its exit code and its one error line."""
    (tmp_path / "net.yaml").write_text(text, encoding="utf-8")
    finished = run_cli("analyze", "net.yaml", cwd=tmp_path)
    assert finished.stdout == ""
    assert "Traceback" not in finished.stderr
    assert finished.stderr.startswith("error: ")
    assert finished.stderr.count("\n") == 1, finished.stderr
    return finished.exit_code, finished.stderr.removeprefix("error: ").removesuffix("\n")


def count_nodes(nodes: tuple[Node, ...]) -> int:
    """Every node of a built network, walked here independently of the builder's counter."""
    total = 0
    pending = list(nodes)
    while pending:
        node = pending.pop()
        total += 1
        match node:
            case LayerNode():
                pass
            case GroupNode():
                pending.extend(node.children)
            case MergeNode():
                pending.extend(child for branch in node.branches for child in branch.nodes)
    return total


# ---------------------------------------------------------------------------------------------
# The layer count


REPEAT = "input: [1, 8]\nlayers:\n  - relu: {}\n    repeat: 1000000000\n"

# 10^8 relus in 243 bytes: four repeats of 100 nested through merges
NESTED = """input: [1, 8]
layers:
  - repeat: 100
    add:
      a:
        - repeat: 100
          add:
            a:
              - repeat: 100
                add:
                  a:
                    - relu: {}
                      repeat: 100
"""


def doubling(levels: int) -> str:
    """Block b<k> uses b<k-1> twice; b0 holds two relus: 2^(levels+1) relus in all."""
    lines = ["input: [1, 8]", "blocks:", "  b0: {layers: [{relu: {}}, {relu: {}}]}"]
    lines += [
        f"  b{k}: {{layers: [{{b{k - 1}: {{}}}}, {{b{k - 1}: {{}}}}]}}" for k in range(1, levels)
    ]
    return "\n".join([*lines, "layers:", f"  - b{levels - 1}: {{}}", ""])


def doubling_by_parameter(levels: int) -> str:
    """Block b<k> repeats b<k-1> `$n` times, n = 2 by default; b0 repeats a relu."""
    lines = ["input: [1, 8]", "blocks:", "  b0: {params: {n: 2}, layers: [{relu: {}, repeat: $n}]}"]
    lines += [
        f"  b{k}: {{params: {{n: 2}}, layers: [{{b{k - 1}: {{}}, repeat: $n}}]}}"
        for k in range(1, levels)
    ]
    return "\n".join([*lines, "layers:", f"  - b{levels - 1}: {{}}", ""])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            REPEAT,
            # the repeat group and 10^9 relus
            "net.yaml:4:13: layer relu1, field repeat: the network expands to at least 1,000,000,001 layers here, more than the limit of 1,000,000 (raise it with --max-layers; every layer, merge, block use and repeat counts as one)",
            id="repeat-1e9",
        ),
        pytest.param(
            NESTED,
            # 1 + 100·(2 + 100·(2 + 100·(2 + 100))): each level a repeat group and a merge
            f"net.yaml:3:13: layer add1, field repeat: the network expands to at least 102,020,201 layers here, more than the limit of 1,000,000 {LIMIT_NOTE}",
            id="nested-repeats-1e8",
        ),
        pytest.param(
            doubling(30),
            # a use of b<k> is 1 + 2·(a use of b<k-1>), b0 is 3 nodes: 2^31 - 1
            f"net.yaml:34:5: layer b291: the network expands to at least 2,147,483,647 layers here, more than the limit of 1,000,000 {LIMIT_NOTE}",
            id="doubling-blocks-2e30",
        ),
        pytest.param(
            doubling_by_parameter(30),
            # a use of b<k> is 2 + 2·(a use of b<k-1>), b0 is 4 nodes: 6·2^29 - 2
            f"net.yaml:34:5: layer b291: the network expands to at least 3,221,225,470 layers here, more than the limit of 1,000,000 {LIMIT_NOTE}",
            id="doubling-by-parameter",
        ),
    ],
)
def test_an_expansion_bomb_is_refused_before_it_is_built(text: str, expected: str) -> None:
    error = build_error(text)
    assert isinstance(error, ResourceLimitError)
    assert error.exit_status is ExitStatus.RESOURCE_LIMIT
    assert str(error) == expected


@pytest.mark.parametrize(
    "text",
    [REPEAT, NESTED, doubling(30), doubling_by_parameter(30)],
    ids=["repeat", "nested", "doubling", "doubling-by-parameter"],
)
def test_the_cli_refuses_an_expansion_bomb_with_exit_4(text: str, tmp_path: Path) -> None:
    code, line = cli_refusal(text, tmp_path)
    assert code == ExitStatus.RESOURCE_LIMIT
    assert line.endswith(f"more than the limit of 1,000,000 {LIMIT_NOTE}")


# 3 (block use + conv + relu) + 2 (merge + relu) + 3 (separable: group, depthwise,
# pointwise) + 3 (repeat group + 2 relus) = 11 nodes
RULE = """input: [4, 8, 8]
blocks:
  pair: {layers: [{conv: {out: 4, kernel: 1}}, {relu: {}}]}
layers:
  - pair: {}
  - add: {a: [{relu: {}}], b: []}
  - separable: {out: 4, kernel: 3, padding: 1}
  - relu: {}
    repeat: 2
"""


def test_every_layer_merge_block_use_and_repeat_counts_one() -> None:
    spec = convcost.parse_spec(RULE, limits=Limits(max_layers=11))
    assert count_nodes(convcost.build(spec).nodes) == 11


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        # 8 nodes before the repeat entry, which needs 3 more: refused before it is built
        (10, "net.yaml:9:13: layer relu1, field repeat: the network expands to at least 11 "),
        # 5 nodes before the separable, which makes 3: refused as they are counted
        (7, "net.yaml:7:5: layer separable1: the network expands to at least 8 "),
    ],
)
def test_one_node_past_the_limit_is_refused_at_the_entry_that_overflows(
    limit: int, expected: str
) -> None:
    error = build_error(RULE, Limits(max_layers=limit))
    assert str(error) == (f"{expected}layers here, more than the limit of {limit} {LIMIT_NOTE}")


def test_a_repeat_counted_from_the_channels_is_projected_from_its_first_repetition() -> None:
    # Before the repeat is built, the channels arriving at each use of `stack` are unknown, so
    # its inner repeat counts one. The first use is built (1 + 1 + 2·500 nodes); it leaves the
    # shape unchanged, so the other 999 are the same: 1 + 1000·1002 = 1,002,001.
    text = """input: [2, 8]
blocks:
  stack:
    layers:
      - relu: {}
        repeat: ${in_channels * 500}
layers:
  - stack: {}
    repeat: 1000
"""
    error = build_error(text)
    assert str(error) == (
        f"net.yaml:9:13: layer stack1, field repeat: the network expands to at least 1,002,001 layers here, more than the limit of 1,000,000 {LIMIT_NOTE}"
    )


def test_a_raised_limit_lets_a_big_network_build() -> None:
    text = "input: [1, 8]\nlayers:\n  - relu: {}\n    repeat: 2000\n"
    with pytest.raises(ResourceLimitError, match="at least 2,001 layers"):
        convcost.build(convcost.parse_spec(text, limits=Limits(max_layers=2000)))
    network = convcost.build(convcost.parse_spec(text, limits=Limits(max_layers=2001)))
    assert count_nodes(network.nodes) == 2001


def test_each_variant_is_counted_on_its_own() -> None:
    text = "input: [1, 8]\nvariants:\n  a: [{relu: {}, repeat: 4}]\n  b: [{relu: {}, repeat: 4}]\n"
    reports = convcost.analyze_all(convcost.parse_spec(text, limits=Limits(max_layers=5)))
    assert [len(report.layers) for report in reports] == [4, 4]


def test_ten_thousand_layers_still_build_quickly() -> None:
    kinds = ["conv: {out: 64, kernel: 3, padding: 1, bias: false}", "batchnorm: {}", "relu: {}"]
    body = "".join(f"  - {kinds[i % 3]}\n" for i in range(10_000))
    spec = convcost.parse_spec(f"input: [64, 56, 56]\nlayers:\n{body}")
    start = time.process_time()
    network = convcost.build(spec)
    spent = time.process_time() - start
    assert count_nodes(network.nodes) == 10_000
    # about 0.13 s on the development machine; a quadratic count would take minutes
    assert spent < 2.0


# ---------------------------------------------------------------------------------------------
# Nesting: blocks inside blocks, groups inside groups


def chain(length: int) -> str:
    """Block b<k> uses b<k+1>; the last holds a relu."""
    lines = ["input: [1, 8]", "blocks:"]
    for k in range(length):
        body = f"{{b{k + 1}: {{}}}}" if k < length - 1 else "{relu: {}}"
        lines.append(f"  b{k}: {{layers: [{body}]}}")
    return "\n".join([*lines, "layers:", "  - b0: {}", ""])


CHAIN_ERROR = "net.yaml:34:19: layer b01.b11.b21.….b301.b311.b321: blocks nest more than 32 deep here: b0 → b1 → b2 → … → b31 → b32 (33 blocks, each used inside the one before)"


def test_blocks_nest_32_deep_and_no_deeper() -> None:
    assert count_nodes(convcost.build(convcost.parse_spec(chain(32))).nodes) == 33
    assert str(build_error(chain(33))) == CHAIN_ERROR


def test_a_chain_of_350_blocks_is_one_line_and_exit_2(tmp_path: Path) -> None:
    assert str(build_error(chain(350))) == CHAIN_ERROR
    assert cli_refusal(chain(350), tmp_path) == (ExitStatus.INVALID_INPUT, CHAIN_ERROR)


def test_a_block_that_uses_itself_is_still_a_cycle() -> None:
    text = "input: [1, 8]\nblocks:\n  a: {layers: [{b: {}}]}\n  b: {layers: [{a: {}}]}\nlayers:\n  - a: {}\n"
    assert str(build_error(text)) == (
        "net.yaml:4:17: layer a1.b1.a1: block 'a' uses itself: a → b → a"
    )


def nested_merges(blocks: int, depth: int) -> str:
    """``blocks`` chained blocks, each holding ``depth`` adds nested in one another."""
    lines = ["input: [1, 8]", "blocks:"]
    for k in range(blocks):
        body = f"{{b{k + 1}: {{}}}}" if k < blocks - 1 else "{relu: {}}"
        for _ in range(depth):
            body = f"{{add: {{a: [{body}]}}}}"
        lines.append(f"  b{k}: {{layers: [{body}]}}")
    return "\n".join([*lines, "layers:", "  - b0: {}", ""])


def test_groups_nest_at_most_100_deep(tmp_path: Path) -> None:
    # 30 blocks of 10 nested merges: 330 groups deep, a RecursionError before the bound
    expected = "net.yaml:12:18: layer b01.add1.a.….a.b91.add1: the network nests more than 100 groups deep here (block uses, repeats and merges inside each other)"
    assert str(build_error(nested_merges(30, 10))) == expected
    assert cli_refusal(nested_merges(30, 10), tmp_path) == (ExitStatus.INVALID_INPUT, expected)
    # 9 blocks of 10 merges: 99 groups, within the bound
    network = convcost.build(convcost.parse_spec(nested_merges(9, 10)))
    assert count_nodes(network.nodes) == 9 * 11 + 1


# ---------------------------------------------------------------------------------------------
# Expressions


def squares(count: int) -> str:
    """A block whose parameter defaults square the one before: a<k> = 3^(2^k)."""
    params = "\n".join(f"      a{k}: ${{a{k - 1}*a{k - 1}}}" for k in range(1, count + 1))
    return (
        f"input: [1, 8]\nblocks:\n  sq:\n    params:\n      a0: 3\n{params}\n"
        "    layers: [{relu: {}}]\nlayers:\n  - sq: {}\n"
    )


# 3^64 = 3,433,683,820,292,512,484,657,849,089,281 (Python: 3**64), past 2^63 - 1
SQUARES_ERROR = "net.yaml:11:11: layer sq1, field sq.a6: 'a5*a5' is 3,433,683,820,292,512,484,657,849,089,281, larger than the largest integer allowed, 9,223,372,036,854,775,807 (2**63 - 1)"


def test_squaring_parameter_defaults_stops_at_the_first_value_past_max_int(
    tmp_path: Path,
) -> None:
    assert str(build_error(squares(30))) == SQUARES_ERROR
    assert cli_refusal(squares(30), tmp_path) == (ExitStatus.INVALID_INPUT, SQUARES_ERROR)


def expression_error(expression: str) -> str:
    text = f'input: [1, 8]\nlayers:\n  - relu: {{}}\n    repeat: "{expression}"\n'
    error = build_error(text)
    assert isinstance(error, SpecError)
    return str(error).removeprefix("net.yaml:4:13: layer relu1, field repeat: ")


ALLOWED = "allowed: numbers, names, + - * / // % **, comparisons, and/or/not, x if c else y, round floor ceil min max abs make_divisible"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param(
            "${" + "+".join(["1"] * 1000) + "}",
            "the expression '1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+…' has 1,999 characters, more than 256: compute it in steps with block parameters",
            id="1000-terms",
        ),
        pytest.param(
            "${" + "+".join(["1"] * 17) + "}",
            "the expression '1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1' nests 17 levels deep, more than 16: compute it in steps with block parameters",
            id="17-terms",
        ),
        pytest.param(
            "${" + "-" * 20 + "1}",
            "the expression '--------------------1' nests 21 levels deep, more than 16: compute it in steps with block parameters",
            id="unary-chain",
        ),
        pytest.param(
            "${8 # comment}", f"'#' is not allowed in '8 # comment'; {ALLOWED}", id="comment"
        ),
        pytest.param(
            "${ｉｎ_channels}",
            f"'ｉ' is not allowed in 'ｉｎ_channels'; {ALLOWED}",
            id="fullwidth-name-folded-by-python",
        ),
        pytest.param(
            "${9223372036854775807 + 1}",
            "'9223372036854775807 + 1' is 9,223,372,036,854,775,808, larger than the largest integer allowed, 9,223,372,036,854,775,807 (2**63 - 1)",
            id="past-max-int",
        ),
        pytest.param(
            "${9223372036854775807 * 9223372036854775807 * 9223372036854775807 * 9223372036854775807 * 9223372036854775807}",
            "'9223372036854775807 * 9223372036854775807 * 9223372036854775807 * 9223372036854775807 * 9223372036854775807' computes an integer of more than 256 bits (the limit for every step of an expression)",
            id="product-past-256-bits",
        ),
    ],
)
def test_expression_bounds(expression: str, message: str) -> None:
    assert expression_error(expression) == message


def test_the_comment_case_through_the_cli(tmp_path: Path) -> None:
    text = 'input: [1, 8]\nlayers:\n  - relu: {}\n    repeat: "${8 # comment}"\n'
    assert cli_refusal(text, tmp_path) == (
        ExitStatus.INVALID_INPUT,
        f"net.yaml:4:13: layer relu1, field repeat: '#' is not allowed in '8 # comment'; {ALLOWED}",
    )


A = 2**62  # 63 bits: a⁴ has 249 bits


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("+".join(["1"] * 16), 16),  # 16 levels: the deepest allowed
        ("1" + " " * 253 + "+1", 2),  # 256 characters: the longest allowed
        ("a*a*a*a*128//(a*a*a*a)", 128),  # a step of 2^255: 256 bits, the largest allowed
        ("9223372036854775807", MAX_INT),
        ("-9223372036854775807", -MAX_INT),
    ],
)
def test_expression_bounds_are_inclusive(expression: str, value: int) -> None:
    assert evaluate(expression, {"a": A}) == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1" + " " * 254 + "+1", "has 257 characters, more than 256"),
        ("a*a*a*a*256//(a*a*a*a)", "computes an integer of more than 256 bits"),
        ("9223372036854775807+1", "larger than the largest integer allowed"),
    ],
)
def test_one_past_each_expression_bound_is_refused(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        evaluate(expression, {"a": A})


FLOW_ITEMS = """\
input: [3, 8, 8]
layers:
  - {conv: {out: 4, kernel: 1}}
  - {conv: {out: 4, kernel: 1}}
  - {conv: {out: 4, kernel: 1}}
"""


def test_a_repeated_flow_item_past_the_limit_is_refused_at_its_kind() -> None:
    # the third line's `conv` (line 5: `  - {` is 5 characters, the key starts at column 6);
    # the second and third are built from the first's parsed layer, without their entries
    error = build_error(FLOW_ITEMS, Limits(max_layers=2))
    assert str(error) == (
        f"net.yaml:5:6: layer conv3: the network expands to at least 3 layers here, "
        f"more than the limit of 2 {LIMIT_NOTE}"
    )


def test_repeated_one_line_branches_keep_each_layers_location() -> None:
    text = "input: [4, 8, 8]\nlayers:\n  - concat:\n" + "".join(
        f"      b{i}: [{{conv: {{out: 2, kernel: 1}}}}]\n" for i in range(3)
    )
    network = convcost.build(convcost.parse_spec(text, source="net.yaml"))
    (merge,) = network.nodes
    assert isinstance(merge, MergeNode)
    # branch b<i> is on line 4 + i; `      b0: [{` is 12 characters, `conv` starts at column 13
    found = [(n.path, str(n.location)) for b in merge.branches for n in b.nodes]
    assert found == [(f"concat1.b{i}.conv1", f"net.yaml:{4 + i}:13") for i in range(3)]


def test_a_plain_name_is_one_check_name_accepts() -> None:
    # the builder skips check_name for a plain name: every plain name must pass the full check
    # (brute force over short names, and the longest and one past the longest)
    from itertools import product  # noqa: PLC0415

    from convcost.limits import MAX_NAME_LENGTH  # noqa: PLC0415
    from convcost.names import check_name, plain_name  # noqa: PLC0415

    alphabet = ["a", "Z", "_", "1", ".", " ", "\t", "é", "\u200b", "-"]
    names = ["".join(chars) for size in range(4) for chars in product(alphabet, repeat=size)]
    names += ["b" * MAX_NAME_LENGTH, "b" * (MAX_NAME_LENGTH + 1)]
    plain = [name for name in names if plain_name(name)]
    assert "b" * MAX_NAME_LENGTH in plain
    assert "b" * (MAX_NAME_LENGTH + 1) not in plain
    assert {"a1", "_", "Z_a"} <= set(plain)
    assert not {"", "1a", "a.b", "a b", "é", "a-b"} & set(plain)
    for name in plain:
        check_name(name, "branch name", location=Location("net.yaml", 1, 1), in_path=True)


def doubling_merges(levels: int, top: str) -> str:
    """Block b<k> is a merge of two branches that each use b<k-1>; b0 holds two relus."""
    lines = ["input: [1, 8]", "blocks:", "  b0: {layers: [{relu: {}}, {relu: {}}]}"]
    lines += [
        f"  b{k}: {{layers: [{{add: {{x: [{{b{k - 1}: {{}}}}], y: [{{b{k - 1}: {{}}}}]}}}}]}}"
        for k in range(1, levels)
    ]
    return "\n".join([*lines, "layers:", top, ""])


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        # a use of b<k> is 2 + 2·(a use of b<k-1>) (the use, the merge, two branches), b0's
        # is 3: 5·2^k − 2, and b19's 2,621,438
        ("  - b19: {}", "net.yaml:24:5: layer b191: the network expands to at least 2,621,438 "),
        # the merge and two uses of b18: 1 + 2·(5·2^18 − 2)
        (
            "  - add: {x: [{b18: {}}], y: [{b18: {}}]}",
            "net.yaml:24:5: layer add1: the network expands to at least 2,621,437 ",
        ),
    ],
)
def test_blocks_and_merges_without_repeat_or_if_are_bounded_once(top: str, expected: str) -> None:
    error = build_error(doubling_merges(20, top))
    assert str(error) == f"{expected}layers here, more than the limit of 1,000,000 {LIMIT_NOTE}"
