"""``check --baseline``: malformed baseline files, and which baseline report stands for a network.

Every malformed baseline is one line on standard error naming the file (and the JSON path of
the bad value), exit 2; a file over the size bound is exit 4. Hostile files run in a
subprocess bounded in time and memory.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.baseline import find, load_baseline
from convcost.cli import app
from convcost.engine import analyze_all
from convcost.errors import ConvcostError, ExitStatus
from convcost.limits import MAX_BASELINE_BYTES, MAX_INT, MAX_NESTING
from convcost.serialize import report_to_dict
from convcost.spec import parse_spec
from tests.attacks.harness import assert_bounded, run_cli
from tests.test_check import NET  # the check tests' network: 112 + 74 parameters

ROOT = Path(__file__).parent.parent
COUNT = f"must be an integer from 0 to {MAX_INT} (2**63 - 1)"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100", "GITHUB_ACTIONS": ""})


def report_json() -> dict[str, object]:
    (report,) = analyze_all(parse_spec(NET, source="net.yaml"))
    return report_to_dict(report)


def with_raw(data: object, raw: str) -> str:
    """``data`` as JSON with the string ``"@@"`` replaced by the raw JSON text ``raw``."""
    return json.dumps(data).replace('"@@"', raw)


def set_path(data: object, path: tuple[str | int, ...], value: object) -> object:
    target = data
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    return data


def check_with(runner: CliRunner, tmp_path: Path, baseline_text: str) -> tuple[int, str, str]:
    spec = tmp_path / "net.yaml"
    spec.write_text(NET, encoding="utf-8")
    baseline = tmp_path / "base.json"
    baseline.write_text(baseline_text, encoding="utf-8")
    result = runner.invoke(app, ["check", str(spec), "--baseline", str(baseline)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("path", "raw", "message"),
    [
        # non-finite and non-integer numbers were read as counts (int(1.7) == 1)
        (("totals", "params"), "Infinity", f".totals.params: {COUNT}, got Infinity"),
        (("totals", "params"), "-Infinity", f".totals.params: {COUNT}, got -Infinity"),
        (("totals", "macs"), "NaN", f".totals.macs: {COUNT}, got NaN"),
        (("totals", "macs"), "1e400", f".totals.macs: {COUNT}, got 1e400"),
        (("totals", "params"), "1.7", f".totals.params: {COUNT}, got 1.7"),
        (("totals", "params"), "186.0", f".totals.params: {COUNT}, got 186.0"),
        (("totals", "params"), "true", f".totals.params: {COUNT}, got true"),
        (("totals", "params"), "null", f".totals.params: {COUNT}, got null"),
        (("totals", "params"), '"186"', f".totals.params: {COUNT}, got '186'"),
        (("totals", "params"), "-1", f".totals.params: {COUNT}, got -1"),
        (("totals", "params"), str(MAX_INT + 1), f".totals.params: {COUNT}, got {MAX_INT + 1}"),
        # int("9" * 5000) raises ValueError past Python's 4,300-digit limit
        (
            ("totals", "params"),
            "9" * 5000,
            f".totals.params: {COUNT}, got 999999999999… (a 5000-character number)",
        ),
        (
            ("totals", "peak_memory_bytes"),
            "[]",
            f".totals.peak_memory_bytes: {COUNT}, got an array",
        ),
        (("totals",), "[]", ".totals: must be an object, got an array"),
        (("layers",), "{}", ".layers: must be an array, got an object"),
        (("layers", 0), "3", ".layers[0]: must be an object, got 3"),
        (("layers", 1, "macs"), "2.5", f".layers[1].macs: {COUNT}, got 2.5"),
        (("layers", 0, "path"), "7", ".layers[0].path: must be a string, got 7"),
        (("batch",), "0", f".batch: must be an integer from 1 to {MAX_INT} (2**63 - 1), got 0"),
        (
            ("dtype",),
            '"float128"',
            ".dtype: must be one of float32, float16, bfloat16, int8, float64, got 'float128'",
        ),
        (("name",), '"\\ud800"', ".name: must be valid Unicode, got '\\ud800' (a lone surrogate)"),
    ],
)
def test_malformed_value_names_file_and_json_path(
    runner: CliRunner, tmp_path: Path, path: tuple[str | int, ...], raw: str, message: str
) -> None:
    text = with_raw(set_path(report_json(), path, "@@"), raw)
    code, stdout, stderr = check_with(runner, tmp_path, text)
    assert (code, stdout) == (ExitStatus.INVALID_INPUT, "")
    assert stderr == f"error: {tmp_path / 'base.json'}: {message}\n"


def test_bad_value_in_an_array_names_the_report(runner: CliRunner, tmp_path: Path) -> None:
    bad = set_path(report_json(), ("totals", "macs"), "@@")
    code, _, stderr = check_with(runner, tmp_path, with_raw([report_json(), bad], "false"))
    assert code == ExitStatus.INVALID_INPUT
    assert stderr == f"error: {tmp_path / 'base.json'}: .[1].totals.macs: {COUNT}, got false\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '"a report"',
            "the baseline must be a report object or an array of them "
            "(`convcost analyze --format json`), got 'a report'",
        ),
        ("[]", "the baseline is an empty array, no report"),
        ("{}", ".name: missing; not a `convcost analyze --format json` output"),
        ('{"name": "x"}', ".source: missing; not a `convcost analyze --format json` output"),
        (
            "{not json",
            "1:2: the baseline is not JSON: Expecting property name enclosed in double quotes",
        ),
    ],
)
def test_not_a_report(runner: CliRunner, tmp_path: Path, text: str, message: str) -> None:
    code, _, stderr = check_with(runner, tmp_path, text)
    assert code == ExitStatus.INVALID_INPUT
    separator = "" if message[0].isdigit() else " "
    assert stderr == f"error: {tmp_path / 'base.json'}:{separator}{message}\n"


def test_missing_key_names_its_path(runner: CliRunner, tmp_path: Path) -> None:
    data = report_json()
    del data["layers"][1]["kind"]  # type: ignore[index]
    code, _, stderr = check_with(runner, tmp_path, json.dumps(data))
    assert code == ExitStatus.INVALID_INPUT
    assert stderr == (
        f"error: {tmp_path / 'base.json'}: .layers[1].kind: missing; not a `convcost analyze "
        "--format json` output\n"
    )


def test_nesting_is_bounded_before_parsing(tmp_path: Path) -> None:
    # at the bound: an array of reports is 4 deep; MAX_NESTING levels still parse as JSON
    deep = tmp_path / "deep.json"
    deep.write_text("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1), encoding="utf-8")
    with pytest.raises(ConvcostError) as caught:
        load_baseline(deep)
    assert str(caught.value) == (
        f"{deep}: the baseline is nested {MAX_NESTING + 1} levels deep, more than the "
        f"{MAX_NESTING} allowed; not a `convcost analyze --format json` output"
    )
    shallow = tmp_path / "shallow.json"
    shallow.write_text("[" * MAX_NESTING + "]" * MAX_NESTING, encoding="utf-8")
    with pytest.raises(ConvcostError, match=r"\.\[0\]: must be an object, got an array$"):
        load_baseline(shallow)
    # closing brackets inside a string do not hide the depth, nor does an escaped quote
    masked = tmp_path / "masked.json"
    masked.write_text("[" * 65 + '"\\\\", "\\"]]]]]]]]]]"' + "]" * 65, encoding="utf-8")
    with pytest.raises(ConvcostError, match="the baseline is nested 65 levels deep"):
        load_baseline(masked)
    # brackets inside strings do not count
    strings = tmp_path / "strings.json"
    data = report_json()
    data["source"] = "[" * 1000 + '\\"{'
    strings.write_text(json.dumps(data), encoding="utf-8")
    assert load_baseline(strings)[0].source == data["source"]


def test_hostile_files_end_in_one_line_in_bounded_time_and_memory(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(NET + "budget: {params: 1K}\n", encoding="utf-8")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")  # RecursionError before
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:  # sparse: MAX_BASELINE_BYTES + 1 bytes of zeros
        handle.truncate(MAX_BASELINE_BYTES + 1)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # no writer: reading it would block forever
    cases = [
        (
            deep,
            ExitStatus.INVALID_INPUT,
            f"{deep}: the baseline is nested 100000 levels deep, more than the {MAX_NESTING} "
            "allowed; not a `convcost analyze --format json` output",
        ),
        (
            huge,
            ExitStatus.RESOURCE_LIMIT,
            f"baseline file {huge} is larger than {MAX_BASELINE_BYTES:,} bytes (64 MiB), the "
            "most convcost reads",
        ),
        (
            fifo,
            ExitStatus.INVALID_INPUT,
            f"{fifo} is not a regular file (a FIFO, device or socket); write the baseline to a "
            "file first",
        ),
        (
            Path("/dev/zero"),
            ExitStatus.INVALID_INPUT,
            "/dev/zero is not a regular file (a FIFO, device or socket); write the baseline to "
            "a file first",
        ),
    ]
    work = tmp_path / "work"
    work.mkdir()
    for baseline, status, message in cases:
        run = run_cli(["check", str(spec), "--baseline", str(baseline)], cwd=work)
        assert_bounded(run)  # 5 CPU-s, 300 MiB, no traceback
        assert (run.exit_code, run.stdout, run.stderr) == (status, b"", f"error: {message}\n")


def test_unreadable_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"name": "r\xe9seau"}')
    folder = tmp_path / "folder.json"
    folder.mkdir()
    digits = tmp_path / "digits.json"
    digits.write_text("9" * 100_000, encoding="utf-8")  # a bare 100,000-digit number
    marked = tmp_path / "marked.json"
    marked.write_bytes(b'\xef\xbb\xbf{"name": "r\xe9seau"}')  # 3 bytes of mark, then as latin
    missing = tmp_path / "none.json"
    cases = {
        latin: f"baseline file {latin} is not UTF-8: byte 0xe9 at offset 11",
        marked: f"baseline file {marked} is not UTF-8: byte 0xe9 at offset 14",
        folder: f"{folder} is a directory, not a baseline file",
        digits: f"{digits}: the baseline must be a report object or an array of them (`convcost "
        "analyze --format json`), got 999999999999… (a 100000-character number)",
        missing: f"no such baseline file: {missing}",
    }
    for path, message in cases.items():
        with pytest.raises(ConvcostError) as caught:
            load_baseline(path)
        assert (type(caught.value), str(caught.value)) == (ConvcostError, message)


# -- identity: which baseline report stands for a network ----------------------------------

VARIANTS = """\
name: {name}
variants:
  small:
    input: [3, 16, 16]
    layers:
      - conv: {{out: {small}, kernel: 3}}
  large:
    input: [3, 16, 16]
    layers:
      - conv: {{out: {large}, kernel: 3}}
"""


def variants(name: str, small: int, large: int) -> str:
    return VARIANTS.format(name=name, small=small, large=large)


def params(out: int) -> int:
    return out * 3 * 9 + out  # conv 3→out, kernel 3×3, with bias


def make_tree(root: Path) -> None:
    """Two specs whose variants share names; a's are 4× smaller than b's."""
    (root / "specs").mkdir(parents=True)
    (root / "specs" / "a.yaml").write_text(variants("a", 4, 8), encoding="utf-8")
    (root / "specs" / "b.yaml").write_text(variants("b", 16, 32), encoding="utf-8")


def test_baseline_from_another_checkout_matches_by_spec_path(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the CI recipe of docs/ci.md: the base branch in a worktree elsewhere, analysed there by
    # absolute path; the pull request checked from its own root with relative paths
    base, pr = tmp_path / "base", tmp_path / "pr"
    make_tree(base)
    shutil.copytree(base, pr)
    baseline = tmp_path / "baseline.json"
    made = runner.invoke(
        app,
        [
            "analyze",
            *map(str, sorted((base / "specs").glob("*.yaml"))),
            "-f",
            "json",
            "-o",
            str(baseline),
        ],
    )
    assert made.exit_code == ExitStatus.OK, made.output
    monkeypatch.chdir(pr)
    # b.yaml comes first in the baseline and its variants have the same names as a.yaml's:
    # the old first-of-that-name match compared a/small with b/small (a false "-75%") and
    # b's with a's when a came first (a false "+300% OVER")
    result = runner.invoke(
        app, ["check", "specs/b.yaml", "specs/a.yaml", "--baseline", str(baseline), "-f", "json"]
    )
    assert result.exit_code == ExitStatus.OK, result.output
    growth = [
        (spec["source"], g["network"], g["metric"], g["baseline"], g["actual"])
        for spec in json.loads(result.stdout)["specs"]
        for g in spec["growth"]
        if g["metric"] == "params"
    ]
    assert growth == [
        ("specs/b.yaml", "small", "params", params(16), params(16)),
        ("specs/b.yaml", "large", "params", params(32), params(32)),
        ("specs/a.yaml", "small", "params", params(4), params(4)),
        ("specs/a.yaml", "large", "params", params(8), params(8)),
    ]
    # the pull request grows a's large variant 8 → 9 filters: only that network is over
    (pr / "specs" / "a.yaml").write_text(variants("a", 4, 9), encoding="utf-8")
    result = runner.invoke(app, ["check", "specs/", "--baseline", str(baseline), "-f", "json"])
    assert result.exit_code == ExitStatus.BUDGET_EXCEEDED, result.output
    over = [
        (spec["source"], g["network"], g["metric"], g["baseline"], g["actual"])
        for spec in json.loads(result.stdout)["specs"]
        for g in spec["growth"]
        if g["status"] == "exceeded"
    ]
    # conv 3→9 k3 on 16×16: 9·27 + 9 = 252 params (8: 224), 9·14·14·27 MACs (8: 8·14·14·27)
    assert over == [
        ("specs/a.yaml", "large", "params", 224, 252),
        ("specs/a.yaml", "large", "macs", 8 * 14 * 14 * 27, 9 * 14 * 14 * 27),
        (
            "specs/a.yaml",
            "large",
            "peak_memory",
            (3 * 256 + 8 * 196 + 224) * 4,
            (3 * 256 + 9 * 196 + 252) * 4,
        ),
    ]


def test_network_missing_from_the_baseline_is_new_and_passes(
    runner: CliRunner, tmp_path: Path
) -> None:
    make_tree(tmp_path)
    baseline = tmp_path / "baseline.json"
    runner.invoke(
        app, ["analyze", str(tmp_path / "specs" / "a.yaml"), "-f", "json", "-o", str(baseline)]
    )
    # b.yaml is not in the baseline: its variants named like a's must not match a's reports
    b = str(tmp_path / "specs" / "b.yaml")
    result = runner.invoke(app, ["check", b, "--baseline", str(baseline)])
    assert result.exit_code == ExitStatus.OK, result.output
    assert result.stderr == (
        f"note: {b}: small: not in the baseline (new): no growth to check\n"
        f"note: {b}: large: not in the baseline (new): no growth to check\n"
    )
    assert "0 within budget, 0 exceeded" in result.stdout
    data = runner.invoke(app, ["check", b, "--baseline", str(baseline), "-f", "json"]).stdout
    (spec,) = json.loads(data)["specs"]
    assert (spec["growth"], spec["notes"]) == (
        [],
        [
            "small: not in the baseline (new): no growth to check",
            "large: not in the baseline (new): no growth to check",
        ],
    )


def baseline_of(source: str, name: str = "net", text: str = NET) -> dict[str, object]:
    (report,) = analyze_all(parse_spec(text.replace("name: net", f"name: {name}"), source=source))
    return report_to_dict(report)


@pytest.mark.parametrize(
    ("checked", "sources", "expected"),
    [
        # the longest shared tail of path components wins, whatever the absolute prefix
        ("specs/a.yaml", ["/tmp/base/models/a.yaml", "/tmp/base/specs/a.yaml"], 1),
        ("/ci/pr/specs/a.yaml", ["specs/a.yaml", "a.yaml"], 0),
        ("./specs/a.yaml", ["/x/specs//a.yaml"], 0),
        ("C:\\ci\\specs\\a.yaml", ["specs/a.yaml"], 0),
        # another file name never matches, even when the network name is unique
        ("specs/b.yaml", ["specs/a.yaml"], None),
        ("<string>", ["<string>"], 0),
    ],
)
def test_identity_rule(
    tmp_path: Path, checked: str, sources: list[str], expected: int | None
) -> None:
    (report,) = analyze_all(parse_spec(NET, source=checked))
    path = tmp_path / "b.json"
    path.write_text(json.dumps([baseline_of(source) for source in sources]), encoding="utf-8")
    baselines = load_baseline(path)
    found = find(baselines, report)
    assert found is (None if expected is None else baselines[expected])


def test_equally_good_matches_are_ambiguous(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(
        json.dumps([baseline_of("/x/specs/a.yaml"), baseline_of("/y/specs/a.yaml")]),
        encoding="utf-8",
    )
    (report,) = analyze_all(parse_spec(NET, source="specs/a.yaml"))
    with pytest.raises(ConvcostError) as caught:
        find(load_baseline(path), report)
    assert str(caught.value) == (
        "network 'net' matches 2 reports of the baseline equally well (sources "
        "'/x/specs/a.yaml', '/y/specs/a.yaml'); make the baseline from one copy of each spec"
    )
    # the same file analysed twice is not ambiguous
    path.write_text(json.dumps([baseline_of("specs/a.yaml")] * 2), encoding="utf-8")
    assert find(load_baseline(path), report) is not None
