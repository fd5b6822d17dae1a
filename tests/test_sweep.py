"""``convcost sweep``: points, the Pareto front against a brute force, an end-to-end sweep of the
MobileNetV2 family against plain PyTorch, and every usage error with its exact message."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import convcost
from convcost import sweep
from convcost.cli import app
from convcost.errors import ExitStatus
from tests.conftest import require

ROOT = Path(__file__).parent.parent
FAMILY = "specs/mobilenet_v2_family.yaml"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["sweep", *args], env={"NO_COLOR": "1", "COLUMNS": "120"})


# -- the Pareto front against the definition -----------------------------------------------------


def brute_front(scores: list[tuple[int, ...]]) -> set[int]:
    """Every index that no other vector dominates: no ≤ everywhere with < somewhere."""
    return {
        i
        for i, a in enumerate(scores)
        if not any(
            all(x <= y for x, y in zip(b, a, strict=True)) and b != a
            for j, b in enumerate(scores)
            if j != i
        )
    }


def test_the_front_is_what_no_point_dominates() -> None:
    hypothesis = require("hypothesis")
    strategies = hypothesis.strategies

    @hypothesis.settings(max_examples=100, deadline=None)
    @hypothesis.given(
        strategies.integers(1, 4).flatmap(
            lambda n: strategies.lists(
                strategies.tuples(*[strategies.integers(0, 6)] * n), max_size=40
            )
        )
    )
    def check(scores: list[tuple[int, ...]]) -> None:
        front = sweep.pareto_front(scores)
        assert set(front) == brute_front(scores)
        assert len(front) == len(set(front))
        # best first: lexicographic order of the vectors, ties by index
        assert [(scores[i], i) for i in front] == sorted((scores[i], i) for i in front)

    check()


def test_equal_points_share_the_front_and_one_worse_in_one_axis_leaves_it() -> None:
    # (1, 2) twice: neither dominates; (1, 3) is worse than (1, 2) in the second only
    assert sweep.pareto_front([(1, 3), (1, 2), (2, 1), (1, 2)]) == (1, 3, 2)


# -- points ---------------------------------------------------------------------------------------


def test_a_grid_is_every_combination_the_last_axis_fastest() -> None:
    axes = [sweep.parse_axis("width=0.5,1.0"), sweep.parse_axis("resolution=160,224")]
    assert sweep.grid(axes) == (
        (("width", 0.5), ("resolution", 160)),
        (("width", 0.5), ("resolution", 224)),
        (("width", 1.0), ("resolution", 160)),
        (("width", 1.0), ("resolution", 224)),
    )


def test_random_points_are_seeded_bounded_and_distinct() -> None:
    ranges = [
        sweep.parse_range("width=0.35:1.4"),
        sweep.parse_range("resolution=128:224:32"),
        sweep.parse_range("depth=1:3"),
    ]
    points = sweep.sample(200, ranges, seed=7)
    assert points == sweep.sample(200, ranges, seed=7)
    assert points != sweep.sample(200, ranges, seed=8)
    assert len(set(points)) == len(points) <= 200
    widths = [dict(p)["width"] for p in points]
    assert all(isinstance(w, float) and 0.35 <= w <= 1.4 and round(w, 3) == w for w in widths)
    assert {dict(p)["resolution"] for p in points} == {128, 160, 192, 224}
    assert {dict(p)["depth"] for p in points} == {1, 2, 3}
    # 4 resolutions x 3 depths: 200 draws of those two alone repeat, and are kept once
    small = sweep.sample(200, ranges[1:], seed=7)
    assert sorted(small) == sorted(
        (("resolution", r), ("depth", d)) for r in (128, 160, 192, 224) for d in (1, 2, 3)
    )


# -- the command line ---------------------------------------------------------------------------


def test_the_output_does_not_depend_on_jobs() -> None:
    args = [FAMILY, "--random", "24", "--seed", "3", "--range", "width=0.35:1.4"]
    args += ["--grid", "resolution=96,128", "--objectives", "macs,max:width", "--all"]
    one = run(*args, "--jobs", "1", "-f", "json", "-q")
    two = run(*args, "--jobs", "2", "-f", "json", "-q")
    assert one.exit_code == two.exit_code == ExitStatus.OK, one.output + two.output
    assert one.stdout == two.stdout
    data = json.loads(one.stdout)
    assert data["points"] == len(data["results"]) == 24
    assert [r["point"] for r in data["results"]] == list(range(1, 25))
    # the front by the brute force over the printed numbers
    scores = [(r["metrics"]["macs"], -r["params"]["width"]) for r in data["results"]]
    assert {r["point"] - 1 for r in data["results"] if r["front"]} == brute_front(scores)


def test_csv_and_the_table_list_the_front() -> None:
    args = [FAMILY, "--grid", "width=0.5,1.0", "--grid", "resolution=96,128", "-q"]
    args += ["--objectives", "macs,max:resolution", "--jobs", "1"]
    table = run(*args)
    rows = list(csv.DictReader(io.StringIO(run(*args, "-f", "csv").stdout)))
    assert table.exit_code == ExitStatus.OK, table.output
    # width 0.5 is cheaper at either resolution, and 128 is larger: both 0.5 points are on it
    assert [(row["width"], row["resolution"], row["front"]) for row in rows] == [
        ("0.5", "96", "true"),
        ("0.5", "128", "true"),
    ]
    assert table.stdout.splitlines()[-1] == (
        "4 points, 2 on the Pareto front (macs, max:resolution)"
    )


def test_no_point_within_the_limits_is_exit_1() -> None:
    # width 0.5 at 96×96 has 18,885,440 MACs (a point tests/test_sweep_torch counts with
    # PyTorch), above a limit of 18M
    result = run(FAMILY, "--grid", "width=0.5", "--grid", "resolution=96", "--max-macs", "18M")
    assert result.exit_code == ExitStatus.BUDGET_EXCEEDED
    assert result.stdout.splitlines()[-1] == (
        "1 point, 0 fit macs <= 18.0 M, 0 on the Pareto front (macs, params, peak_memory)"
    )


def test_a_point_that_fails_is_a_warning_and_when_all_fail_an_error() -> None:
    some = run(FAMILY, "--grid", "resolution=0,96", "-q", "-f", "csv", "--all", "-j", "1")
    assert some.exit_code == ExitStatus.OK
    assert some.stderr == (
        "warning: 1 of 2 points failed; the first (resolution=0): "
        f"{FAMILY}:13:12: field input: must be an integer >= 1, got 0\n"
    )
    every = run(FAMILY, "--grid", "resolution=0", "-q")
    assert every.exit_code == ExitStatus.INVALID_INPUT
    assert every.stderr == (
        "error: all 1 points failed; the first (resolution=0): "
        f"{FAMILY}:13:12: field input: must be an integer >= 1, got 0\n"
    )


# -- errors ------------------------------------------------------------------------------------

ERRORS = [
    (
        ["--grid", "wdth=0.5"],
        f"{FAMILY}: cannot sweep 'wdth': the spec declares no such parameter; did you mean "
        "'width'?; its parameters: width, depth, resolution",
    ),
    (["--grid", "width=0.5,,1"], "--grid width=0.5,,1: value 2 is empty"),
    (["--grid", "width=0.5,0.5"], "--grid width=0.5,0.5: a value is listed twice"),
    (["--grid", "width="], "--grid width=: expected NAME=V1,V2,…, e.g. --grid width=0.5,0.75,1.0"),
    (["--grid", "width=abc"], "--grid width: 'abc' is not a number (the default of width is 1.0)"),
    ([], "nothing to sweep: give --grid NAME=V1,V2,… or --random N --range …"),
    (
        ["--range", "width=0.3:1"],
        "--range draws points for --random N; a grid takes --grid NAME=V1,V2,…",
    ),
    (["--grid", "width=1", "--seed", "3"], "--seed is for --random N"),
    (
        ["--grid", "width=0.5", "--set", "width=1"],
        "parameter 'width' is both swept and set with --set",
    ),
    (["--grid", "width=0.5", "--grid", "width=1"], "parameter 'width' is swept twice"),
    (
        ["--random", "5", "--range", "width=1:0.5"],
        "--range width=1:0.5: the low bound 1 is above the high bound 0.5",
    ),
    (
        ["--random", "5", "--range", "width=0.5"],
        "--range width=0.5: expected NAME=LOW:HIGH[:STEP], e.g. --range width=0.35:1.4",
    ),
    (
        ["--random", "5", "--range", "resolution=96.5:128"],
        "--range resolution: the default of resolution is an integer (224): give integer "
        "bounds (and step), or decimal ones for a float",
    ),
    (["--random", "5"], "--random needs at least one --range NAME=LOW:HIGH (or --grid)"),
    (
        ["--random", "100001", "--range", "width=0.5:1.0"],
        "--random takes 1 to 100,000 points, got 100,001",
    ),
    (
        [
            "--grid",
            "width=" + ",".join(f"0.{i:04}" for i in range(1, 1001)),
            "--grid",
            "resolution=" + ",".join(str(r) for r in range(96, 197)),
        ],
        "the grid has 101,000 points; a sweep takes at most 100,000",
    ),
    (
        ["--grid", "width=1", "--objectives", "macs,foo"],
        "--objectives macs,foo: unknown objective 'foo'; metrics: params, macs, flops, "
        "activation_memory, peak_memory, receptive_field; swept parameters: width",
    ),
    (
        ["--grid", "width=1", "--objectives", "macs,width"],
        "--objectives macs,width: say whether more width is better: max:width or min:width",
    ),
    (
        ["--grid", "width=1", "--variant", "big"],
        f"{FAMILY}: no variant named 'big'; variants: mobilenet_v2_family",
    ),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[" ".join(a)[:60] for a, _ in ERRORS])
def test_an_error_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["sweep", FAMILY, *args, "-q"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == f"error: {message}\n"
    assert result.stdout == ""


def test_the_api_raises_the_same_messages() -> None:
    spec = convcost.load_spec(FAMILY)  # named as the command line names it
    with pytest.raises(sweep.SweepError) as unknown:
        sweep.check_names(spec, [sweep.parse_axis("wdth=0.5")])
    assert str(unknown.value) == ERRORS[0][1]
    with pytest.raises(sweep.SweepError) as empty:
        sweep.parse_axis("width=0.5,,1")
    assert str(empty.value) == ERRORS[1][1]
    with pytest.raises(sweep.SweepError) as nothing:
        sweep.grid([])
    assert str(nothing.value) == ERRORS[5][1]


def test_a_spec_without_params_lists_none() -> None:
    result = run("specs/quickstart.yaml", "--grid", "width=1", "-q")
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == (
        "error: specs/quickstart.yaml: cannot sweep 'width': the spec declares no such "
        "parameter; its parameters: none (add a `params:` mapping)\n"
    )


def test_a_bad_limit_is_one_line_through_the_entry_point() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "convcost",
            "sweep",
            FAMILY,
            "--grid",
            "width=1",
            "--max-macs",
            "3Q",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr == (
        "error: convcost sweep: Invalid value for --max-macs: must be an integer, or a number "
        "with K, M, G or T (powers of 1000), e.g. 5M, 1.2G, got '3Q' (see 'convcost sweep -h')\n"
    )


# -- docs/sweep.md ---------------------------------------------------------------------------------


def transcripts() -> list[tuple[str, str]]:
    """Each ``$ convcost …`` line of docs/sweep.md's text blocks and the output pasted under it."""
    from tests.test_docs import fenced_blocks  # noqa: PLC0415 (the docs helpers, for these only)

    found = []
    for _, lang, text, _ in fenced_blocks(ROOT / "docs" / "sweep.md"):
        if lang != "text":
            continue
        for chunk in text.split("$ ")[1:]:
            command, _, output = chunk.partition("\n")
            found.append((command, output))
    return found


@pytest.mark.parametrize(("command", "output"), transcripts())
def test_the_docs_show_real_output(
    command: str, output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = run(*shlex.split(command)[2:])
    shown = result.stdout if result.exit_code == ExitStatus.OK else result.stderr
    assert [line.rstrip() for line in shown.splitlines()] == [
        line.rstrip() for line in output.splitlines()
    ]


def test_the_docs_have_transcripts() -> None:
    assert len(transcripts()) == 4


@pytest.mark.parametrize("quiet", [False, True])
def test_the_progress_bar_is_drawn_on_a_terminal_unless_quiet(quiet: bool) -> None:
    pty = pytest.importorskip("pty")  # POSIX only
    main, terminal = pty.openpty()
    command = [sys.executable, "-m", "convcost", "sweep", FAMILY, "--grid", "width=0.5,1.0"]
    command += ["-j", "1", "-f", "csv", *(["-q"] if quiet else [])]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal, cwd=ROOT) as done:
        os.close(terminal)
        drawn = b""
        with contextlib.suppress(OSError):  # EIO once the command has exited and it is drained
            while chunk := os.read(main, 65536):  # read as it comes: a full terminal would block
                drawn += chunk
        os.close(main)
        stdout = done.stdout.read() if done.stdout else b""
    assert done.returncode == ExitStatus.OK
    assert len(stdout.decode().splitlines()) == 2  # the header and the front's one point
    assert (b"2/2" in drawn) is not quiet


VARIANTS = """\
name: pair
params: {w: 8}
input: [3, 32, 32]
budget: {macs: 200K}
variants:
  a:
    - conv: {out: $w, kernel: 3}
  b:
    - conv: {out: "${w * 2}", kernel: 3}
"""


def test_a_variant_is_swept_with_its_budget() -> None:
    # variant b at w = 4: 8 filters of 3·3·3 on 30×30 outputs, 8·27·900 = 194,400 MACs (within
    # the spec's 200K); at w = 8, 388,800 (over)
    result = CliRunner().invoke(
        app,
        ["sweep", "-", "--grid", "w=4,8", "--variant", "b", "-j", "1", "-f", "json", "--all"],
        input=VARIANTS,
    )
    assert result.exit_code == ExitStatus.OK, result.stderr
    data = json.loads(result.stdout)
    assert (data["spec"], data["variant"], data["budget"]) == ("pair", "b", {"macs": 200_000})
    assert [(r["metrics"]["macs"], r["fits"]) for r in data["results"]] == [
        (194_400, True),
        (388_800, False),
    ]
