"""``convcost check``: exit codes, formats, baselines and GitHub annotations."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import convcost.check
import convcost.cli.check
from convcost.build import build
from convcost.check import CheckRun, Outcome
from convcost.cli import app
from convcost.errors import ConvcostError, ExitStatus, ResourceLimitError
from convcost.render.escape import markdown_text

ROOT = Path(__file__).parent.parent
SPECS = ROOT / "specs"

# [3, 8, 8] → conv 3→4 k3 p1: 4·27 + 4 = 112 params, 4·64·27 = 6,912 MACs;
# relu; conv 4→2 k3: 2·36 + 2 = 74 params, 2·36·36 = 2,592 MACs. Totals 186 params,
# 9,504 MACs. Peak: relu1's input and output, 2·256 elements, + 186 params → 2,792 B.
NET = """\
name: net
input: [3, 8, 8]
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
  - relu: {}
  - conv: {out: 2, kernel: 3}
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100", "GITHUB_ACTIONS": ""})


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_within_budget_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET + "budget: {params: 186, macs: 9504}\n")
    result = runner.invoke(app, ["check", spec])
    assert result.exit_code == ExitStatus.OK, result.output
    assert "2 within budget, 0 exceeded" in result.stdout
    assert "+0.0%" in result.stdout  # exactly at the limit


def test_over_budget_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET + "budget: {params: 185, macs: 10K}\n")
    result = runner.invoke(app, ["check", spec])
    assert result.exit_code == ExitStatus.BUDGET_EXCEEDED
    assert "OVER" in result.stdout
    assert "1 within budget, 1 exceeded" in result.stdout


@pytest.mark.parametrize(
    ("flag", "limit", "status"),
    [
        ("--max-params", "186", ExitStatus.OK),
        ("--max-params", "185", ExitStatus.BUDGET_EXCEEDED),
        ("--max-macs", "9.504K", ExitStatus.OK),
        ("--max-macs", "9.503K", ExitStatus.BUDGET_EXCEEDED),
        ("--max-flops", "19008", ExitStatus.OK),
        ("--max-flops", "19007", ExitStatus.BUDGET_EXCEEDED),
        # activations 256 + 256 + 72 = 584 elements · 4 B = 2,336 B
        ("--max-activation-memory", "2336B", ExitStatus.OK),
        ("--max-activation-memory", "2KiB", ExitStatus.BUDGET_EXCEEDED),
        ("--max-peak-memory", "2792", ExitStatus.OK),
        ("--max-peak-memory", "2791B", ExitStatus.BUDGET_EXCEEDED),
        ("--min-receptive-field", "5", ExitStatus.OK),
        ("--min-receptive-field", "5x6", ExitStatus.BUDGET_EXCEEDED),
    ],
)
def test_flags_within_and_over(
    runner: CliRunner, tmp_path: Path, flag: str, limit: str, status: ExitStatus
) -> None:
    spec = write(tmp_path, "net.yaml", NET)
    result = runner.invoke(app, ["check", spec, flag, limit])
    assert result.exit_code == status, result.output


def test_flag_overrides_the_spec(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET + "budget: {params: 100}\n")
    assert runner.invoke(app, ["check", spec]).exit_code == ExitStatus.BUDGET_EXCEEDED
    result = runner.invoke(app, ["check", spec, "--max-params", "1K"])
    assert result.exit_code == ExitStatus.OK


def test_dtype_and_batch_change_memory(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET + "budget: {peak_memory: 2792B}\n")
    # float16 halves it; batch 2 doubles the activations: (2·512 + 186) · 2 = 2,420 B
    assert runner.invoke(app, ["check", spec, "--dtype", "float16"]).exit_code == 0
    result = runner.invoke(app, ["check", spec, "--dtype", "float16", "--batch", "2", "-f", "json"])
    assert json.loads(result.stdout)["specs"][0]["results"][0]["actual"] == 2420


def test_bad_flag_value_names_the_flag(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET)
    result = runner.invoke(app, ["check", spec, "--max-peak-memory", "32M"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "--max-peak-memory" in result.stderr
    assert "write MiB for powers of 1024 or MB for powers of 1000" in result.stderr
    result = runner.invoke(app, ["check", spec, "--max-growth", "lots"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "--max-growth" in result.stderr


def test_spec_without_budget_is_an_error_saying_how_to_add_one(
    runner: CliRunner, tmp_path: Path
) -> None:
    spec = write(tmp_path, "net.yaml", NET)
    result = runner.invoke(app, ["check", spec])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == (
        f"error: {spec}:1:1: no budget to check: add one to the spec, e.g. "
        "`budget: {params: 5M, macs: 600M}`, or pass --max-params/--max-macs/--max-peak-memory/… "
        "or --baseline\n"
    )


def test_directory_skips_specs_without_budget(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", NET + "budget: {params: 1K}\n")
    write(tmp_path, "b.yaml", NET)
    write(tmp_path, "notes.txt", "not a spec")
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == ExitStatus.OK, result.output
    assert f"note: {tmp_path / 'b.yaml'}: skipped: no budget" in result.stderr
    assert "1 within budget, 0 exceeded, 1 skipped (no budget)" in result.stdout


def test_directory_where_no_spec_has_a_budget_is_an_error(
    runner: CliRunner, tmp_path: Path
) -> None:
    write(tmp_path, "b.yaml", NET)
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "error: none of the 1 specs has a budget; add one to the spec" in result.stderr


def test_glob_is_expanded(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", NET + "budget: {params: 1K}\n")
    write(tmp_path, "b.yaml", NET + "budget: {params: 2K}\n")
    result = runner.invoke(app, ["check", str(tmp_path / "*.yaml"), "-f", "json"])
    sources = [spec["source"] for spec in json.loads(result.stdout)["specs"]]
    assert sources == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]


def test_mixed_valid_and_invalid_specs_report_all_and_exit_2(
    runner: CliRunner, tmp_path: Path
) -> None:
    good = write(tmp_path, "good.yaml", NET + "budget: {params: 1K}\n")
    over = write(tmp_path, "over.yaml", NET + "budget: {params: 10}\n")
    bad = write(tmp_path, "bad.yaml", NET + "budget: {params: 5X}\n")
    broken = write(tmp_path, "broken.yaml", NET.replace("kernel: 3}", "kernel: 30}"))
    missing = str(tmp_path / "missing.yaml")
    result = runner.invoke(app, ["check", good, bad, over, broken, missing, "-f", "json"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    data = json.loads(result.stdout)
    assert data["exit_status"] == 2
    by_source = {spec["source"]: spec for spec in data["specs"]}
    assert by_source[good]["results"][0]["status"] == "within"
    assert by_source[over]["results"][0]["status"] == "exceeded"
    assert by_source[bad]["error"].startswith(f"{bad}:7:18: field budget.params: must be")
    assert by_source[broken]["error"] is not None
    assert by_source[missing]["error"] == f"no such spec file: {missing}"
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3  # bad, broken and missing, each on its own line


def test_variants_with_own_budgets(runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", str(SPECS / "separable-vs-standard.yaml"), "-f", "json"])
    assert result.exit_code == ExitStatus.OK, result.output
    results = json.loads(result.stdout)["specs"][0]["results"]
    limits = {(r["network"], r["metric"]): r["limit"] for r in results}
    # the standard variant's own macs: 250M overrides the shared 50M; peak_memory is shared
    assert limits[("standard", "macs")] == 250_000_000
    assert limits[("separable", "macs")] == 50_000_000
    assert limits[("standard", "peak_memory")] == 5 * 2**20


def test_bundled_specs_pass(runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", str(SPECS)])
    assert result.exit_code == ExitStatus.OK, result.output


def test_markdown(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET + "budget: {params: 185, macs: 10K}\n")
    result = runner.invoke(app, ["check", spec, "-f", "markdown"])
    assert result.exit_code == ExitStatus.BUDGET_EXCEEDED
    lines = result.stdout.splitlines()
    assert lines[0] == "### ❌ convcost check: 1 within budget, 1 exceeded"
    assert lines[2] == "| spec | network | metric | budget | actual | margin | status |"
    # margins: (185 − 186)/185 = −0.5%; (10,000 − 9,504)/10,000 = +5.0%
    assert lines[4] == f"| `{spec}` | net | params | ≤ 185 | 186 | -0.5% | ❌ **OVER** |"
    assert lines[5] == f"| `{spec}` | net | macs | ≤ 10.0 K | 9.5 K | +5.0% | ✅ ok |"


def test_junit_parses_back(runner: CliRunner, tmp_path: Path) -> None:
    over = write(tmp_path, "over.yaml", NET + "budget:\n  params: 185\n  macs: 10K\n")
    bad = write(tmp_path, "bad.yaml", "input: [3]\nlayers: []\n")
    result = runner.invoke(app, ["check", over, bad, "-f", "junit"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    cases = list(suites[over].iter("testcase"))
    assert [case.get("name") for case in cases] == ["params", "macs"]
    failure = cases[0].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "net: params 186 exceeds the budget 185 by 0.5% (budget from " + f"{over}:8:3)"
    )
    assert cases[0].get("line") == "8"
    assert cases[1].find("failure") is None
    error = suites[bad].find("testcase/error")
    assert error is not None
    assert "must be [C, L], [C, H, W]" in (error.get("message") or "")


def test_github_annotations(runner: CliRunner, tmp_path: Path) -> None:
    over = write(tmp_path, "over.yaml", NET + "budget:\n  params: 185\n  macs: 10K\n")
    bad = write(tmp_path, "bad.yaml", NET + "budget: {parms: 1}\n")
    result = runner.invoke(
        app, ["check", over, bad, "--max-flops", "10"], env={"GITHUB_ACTIONS": "true"}
    )
    annotations = [line for line in result.stderr.splitlines() if line.startswith("::")]
    assert annotations == [
        f"::error file={bad},line=7,col=10,title=convcost invalid spec::{bad}:7:10: field "
        "budget.parms: unknown budget 'parms'; did you mean 'params'?; allowed: params, macs, "
        "flops, activation_memory, peak_memory, receptive_field, latency",
        # the budget entry's line for spec limits; the spec's first line for a flag
        f"::error file={over},line=8,col=3,title=convcost over budget::net: params 186 exceeds the "
        f"budget 185 by 0.5%25 (budget from {over}:8:3)",
        f"::error file={over},line=1,title=convcost over budget::net: flops 19,008 exceeds the "
        "budget 10 by 189980.0%25 (budget from --max-flops)",
    ]
    quiet = runner.invoke(app, ["check", over])
    assert "::error" not in quiet.output


BASELINE_SPEC = """\
name: net
input: [3, 8, 8]
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
    name: stem
  - relu: {}
  - conv: {out: 2, kernel: 3}
    name: head
"""


def make_baseline(runner: CliRunner, tmp_path: Path) -> str:
    spec = write(tmp_path, "net.yaml", BASELINE_SPEC)
    baseline = str(tmp_path / "baseline.json")
    result = runner.invoke(app, ["analyze", spec, "-f", "json", "-o", baseline])
    assert result.exit_code == 0
    return baseline


def test_baseline_unchanged_passes_without_budget(runner: CliRunner, tmp_path: Path) -> None:
    baseline = make_baseline(runner, tmp_path)
    result = runner.invoke(app, ["check", str(tmp_path / "net.yaml"), "--baseline", baseline])
    assert result.exit_code == ExitStatus.OK, result.output
    assert "3 within budget, 0 exceeded" in result.stdout
    assert "layers changed" not in result.stdout


def test_baseline_growth_fails_and_lists_changed_layers(runner: CliRunner, tmp_path: Path) -> None:
    baseline = make_baseline(runner, tmp_path)
    grown = BASELINE_SPEC.replace("out: 4", "out: 5") + "  - relu: {}\n    name: extra\n"
    grown = grown.replace("    name: head\n", "")
    spec = write(tmp_path, "net.yaml", grown)
    result = runner.invoke(
        app, ["check", spec, "--baseline", baseline, "--max-growth", "2%", "-f", "json"]
    )
    assert result.exit_code == ExitStatus.BUDGET_EXCEEDED
    data = json.loads(result.stdout)["specs"][0]
    growth = {g["metric"]: g for g in data["growth"]}
    # params: stem 5·27 + 5 = 140, conv 2·45 + 2 = 92 → 232 against 186: +24.7%
    assert (growth["params"]["baseline"], growth["params"]["actual"]) == (186, 232)
    assert growth["params"]["growth_percent"] == pytest.approx(100 * 46 / 186)
    assert growth["params"]["status"] == "exceeded"
    changes = {(c["path"], c["change"]) for c in data["layer_changes"]}
    # relu1 has the same kind, params and MACs (0, 0): not a change
    assert changes == {
        ("stem", "changed"),
        ("conv1", "added"),  # the second conv, no longer named head
        ("extra", "added"),
        ("head", "removed"),
    }
    table = runner.invoke(app, ["check", spec, "--baseline", baseline, "--max-growth", "2%"])
    assert "net: stem changed: params 112 → 140, MACs 6,912 → 8,640" in table.stdout
    assert "net: head removed: conv, 74 params, 2,592 MACs" in table.stdout


def test_baseline_growth_within_allowance(runner: CliRunner, tmp_path: Path) -> None:
    baseline = make_baseline(runner, tmp_path)
    spec = write(tmp_path, "net.yaml", BASELINE_SPEC.replace("name: head", "name: renamed"))
    args = ["check", spec, "--baseline", baseline]
    # same costs, a renamed layer: no growth (passes at 0%), the diff lists the rename
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == ExitStatus.OK, result.output
    changes = json.loads(result.stdout)["specs"][0]["layer_changes"]
    assert [(c["path"], c["change"]) for c in changes] == [
        ("renamed", "added"),
        ("head", "removed"),
    ]


def test_bad_baseline_is_invalid_input(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET)
    bad = write(tmp_path, "b.json", "{not json")
    result = runner.invoke(app, ["check", spec, "--baseline", bad])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr.startswith(f"error: {bad}:1:2: the baseline is not JSON")
    wrong = write(tmp_path, "w.json", '{"name": "x"}')
    result = runner.invoke(app, ["check", spec, "--baseline", wrong])
    assert "not a `convcost analyze --format json` output" in result.stderr
    missing = runner.invoke(app, ["check", spec, "--baseline", str(tmp_path / "none.json")])
    assert missing.exit_code == ExitStatus.INVALID_INPUT


def test_baseline_dtype_mismatch_is_an_error(runner: CliRunner, tmp_path: Path) -> None:
    baseline = make_baseline(runner, tmp_path)
    result = runner.invoke(
        app, ["check", str(tmp_path / "net.yaml"), "--baseline", baseline, "--dtype", "float16"]
    )
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "--batch 1 --dtype float32; check with the same options" in result.stderr


def test_baseline_array_is_matched_by_name(runner: CliRunner, tmp_path: Path) -> None:
    baseline = tmp_path / "all.json"
    specs = [str(SPECS / "googlenet-5x5-branch.yaml"), str(SPECS / "quickstart.yaml")]
    runner.invoke(app, ["analyze", *specs, "-f", "json", "-o", str(baseline)])
    assert isinstance(json.loads(baseline.read_text()), list)
    result = runner.invoke(app, ["check", *specs, "--baseline", str(baseline), "-f", "json"])
    assert result.exit_code == ExitStatus.OK, result.output
    growth = [g for spec in json.loads(result.stdout)["specs"] for g in spec["growth"]]
    assert [(g["network"], g["metric"]) for g in growth][::3] == [
        ("direct", "params"),
        ("bottleneck", "params"),
        ("quickstart", "params"),
    ]
    assert all(g["growth_percent"] == 0 for g in growth)


def test_pre_commit_hook() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "convcost-check"
    assert hook["entry"] == "convcost check --skip-unbudgeted"
    files = re.compile(hook["files"])
    assert files.search("specs/quickstart.yaml")
    assert files.search("models/specs/resnet.yml")
    assert not files.search(".github/workflows/ci.yml")
    assert not files.search("specs/notes.md")


# -- one bad spec never sinks the run ---------------------------------------------------------

BUDGET = "budget: {params: 1K}\n"
# each a spec convcost must report as invalid, and keep checking the others
BAD_SPECS = {
    "bad-budget.yaml": NET + "budget: {params: 5X}\n",
    "bad-yaml.yaml": "name: [unclosed\n",
    "bad-shape.yaml": NET.replace("kernel: 3}", "kernel: 30}") + BUDGET,
    "bad-utf8.yml": None,  # written as bytes below
}
YAML_TAGS = {
    "tag.yaml": NET.replace("input: [3, 8, 8]", "input: !foo [3, 8, 8]") + BUDGET,
    "python-name.yaml": NET.replace("relu: {}", "relu: !!python/name:os.system {}") + BUDGET,
    "python-none.yaml": NET.replace("relu: {}", "relu: !!python/none ''") + BUDGET,
    "merge.yaml": "base: &a {out: 4}\n"
    + NET.replace("- conv: {out: 2, kernel: 3}", "- conv: {<<: *a, kernel: 3}")
    + BUDGET,
}


def mixed_directory(tmp_path: Path, bad: dict[str, str | None]) -> tuple[Path, list[str]]:
    """A directory with a good, an over-budget and the ``bad`` specs; the bad ones' paths."""
    folder = tmp_path / "specs"
    folder.mkdir()
    write(folder, "good.yaml", NET + BUDGET)
    write(folder, "over.yaml", NET + "budget: {params: 10}\n")
    for name, text in bad.items():
        if text is None:
            (folder / name).write_bytes(b"name: r\xe9seau\n")
        else:
            write(folder, name, text)
    return folder, sorted(str(folder / name) for name in bad)


def assert_every_format_reports(
    runner: CliRunner, folder: Path, bad: list[str], env: dict[str, str] | None = None
) -> None:
    good, over = str(folder / "good.yaml"), str(folder / "over.yaml")
    args = ["check", str(folder)]
    # JSON: the good and the over-budget specs are checked, each bad one has its error
    result = runner.invoke(app, [*args, "-f", "json"], env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == ExitStatus.INVALID_INPUT, result.output
    assert "Traceback" not in result.output
    data = json.loads(result.stdout)
    by_source = {spec["source"]: spec for spec in data["specs"]}
    assert data["exit_status"] == ExitStatus.INVALID_INPUT
    assert by_source[good]["results"][0]["status"] == "within"
    assert by_source[over]["results"][0]["status"] == "exceeded"
    errors = {source: by_source[source]["error"] for source in bad}
    assert all(errors.values()), errors
    # standard error: one line per bad spec and one annotation each; nothing else
    lines = result.stderr.splitlines()
    assert sorted(line for line in lines if line.startswith("error: ")) == sorted(
        f"error: {message}" for message in errors.values()
    )
    annotations = [line for line in lines if line.startswith("::error ")]
    assert len(annotations) == len(bad) + 1  # and the over-budget spec
    assert len(lines) == 2 * len(bad) + 1
    # table: the spec's path, then ERROR and the message
    table = runner.invoke(app, args, env={"COLUMNS": "400"}).stdout.splitlines()
    for source, message in errors.items():
        at = table.index(source)
        assert table[at + 1] == f"ERROR {message}"
    assert table[-1] == f"1 within budget, 1 exceeded, {len(bad)} invalid specs"
    # markdown: an ERROR row in the table and the message in the list under it
    markdown = runner.invoke(app, [*args, "-f", "markdown"]).stdout
    for source, message in errors.items():
        assert f"| `{source}` | — | — | — | — | — | ⚠️ **ERROR** |" in markdown
        assert f"- ⚠️ `{source}`: invalid: {markdown_text(message)}" in markdown
    assert f"| `{good}` | net | params |" in markdown
    # JUnit: an error test case per bad spec
    junit = ET.fromstring(runner.invoke(app, [*args, "-f", "junit"]).stdout)
    assert junit.get("errors") == str(len(bad))
    suites = {suite.get("name"): suite for suite in junit.iter("testsuite")}
    for source, message in errors.items():
        (case,) = suites[source].iter("testcase")
        error = case.find("error")
        assert error is not None
        assert (case.get("name"), error.get("message")) == ("load spec", message)
    assert suites[over].find("testcase/failure") is not None


def test_invalid_specs_are_error_rows_in_every_format(runner: CliRunner, tmp_path: Path) -> None:
    folder, bad = mixed_directory(tmp_path, BAD_SPECS)
    assert_every_format_reports(runner, folder, bad)


def test_yaml_tags_and_merge_keys_are_error_rows(runner: CliRunner, tmp_path: Path) -> None:
    folder, bad = mixed_directory(tmp_path, YAML_TAGS)
    assert_every_format_reports(runner, folder, bad)


def test_exit_status_prefers_invalid_input_over_a_resource_bound() -> None:
    big = Outcome(source="big.yaml", error=ResourceLimitError("too many layers"))
    bad = Outcome(source="bad.yaml", error=ConvcostError("bad"))
    assert CheckRun((big,)).exit_status == ExitStatus.RESOURCE_LIMIT
    assert CheckRun((big, bad)).exit_status == ExitStatus.INVALID_INPUT


def test_empty_directory_and_glob_matching_nothing(runner: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    write(empty, "notes.txt", "not a spec")
    pattern = str(tmp_path / "models" / "*.yaml")
    for args, message in [
        ([str(empty)], f"{empty}: no spec files (*.yaml, *.yml) in this directory"),
        ([pattern], f"{pattern}: no file matches this pattern"),
        ([""], "'' is an empty path"),
    ]:
        result = runner.invoke(app, ["check", *args])
        assert (result.exit_code, result.stderr) == (
            ExitStatus.INVALID_INPUT,
            f"error: {message}\n",
        )
        assert result.stdout.splitlines()[-1] == "0 within budget, 0 exceeded, 1 invalid spec"
    # with other specs: they are still checked
    good = write(tmp_path, "good.yaml", NET + BUDGET)
    result = runner.invoke(app, ["check", str(empty), good, "-f", "json"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    specs = json.loads(result.stdout)["specs"]
    assert [(s["source"], s["error"]) for s in specs] == [
        (str(empty), f"{empty}: no spec files (*.yaml, *.yml) in this directory"),
        (good, None),
    ]


# -- flags -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        # str.isdigit() accepts superscripts and other digits int() refuses
        (
            "--min-receptive-field",
            "²",
            "must be an integer >= 1, or one per spatial axis (at most 3) such as 224x224, got '²'",
        ),
        (
            "--min-receptive-field",
            "٣",
            "must be an integer >= 1, or one per spatial axis (at most 3) such as 224x224, got '٣'",
        ),
        (
            "--min-receptive-field",
            "0",
            "must be an integer >= 1, or one per spatial axis (at most 3) such as 224x224, got '0'",
        ),
        (
            "--min-receptive-field",
            "3x3x3x3",
            "must be an integer >= 1, or one per spatial axis "
            "(at most 3) such as 224x224, got '3x3x3x3'",
        ),
        ("--min-receptive-field", "9" * 5000, "must be at most 64 characters, got 5,000"),
        (
            "--min-receptive-field",
            str(2**63),
            "must be at most 9,223,372,036,854,775,807, got '9223372036854775808'",
        ),
        ("--max-params", "9" * 5000, "must be at most 64 characters, got 5,000"),
        (
            "--max-params",
            "10000000T",
            "must be at most 9,223,372,036,854,775,807, got '10000000T'",
        ),
        (
            "--max-macs",
            "-5",
            "must be an integer, or a number with K, M, G or T (powers of "
            "1000), e.g. 5M, 1.2G, got '-5'",
        ),
        ("--max-peak-memory", "9" * 70 + "B", "must be at most 64 characters, got 71"),
        ("--max-growth", "9" * 5000, "must be at most 64 characters, got 5,000"),
        (
            "--max-growth",
            "-2%",
            "must be a percentage such as 2% or 0.5% (the % may be left out), got '-2%'",
        ),
    ],
)
def test_bad_flag_is_blamed_on_the_flag(
    runner: CliRunner, tmp_path: Path, flag: str, value: str, message: str
) -> None:
    spec = write(tmp_path, "net.yaml", NET + BUDGET)
    result = runner.invoke(app, ["check", spec, f"{flag}={value}"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert f"Invalid value for {flag}: {message}\n" in result.stderr
    assert "Traceback" not in result.output
    assert "budget.receptive_field" not in result.stderr


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--batch", str(2**63)), ("--max-layers", "0"), ("--max-layers", str(2**63))],
)
def test_integer_flags_are_bounded(
    runner: CliRunner, tmp_path: Path, flag: str, value: str
) -> None:
    spec = write(tmp_path, "net.yaml", NET + BUDGET)
    result = runner.invoke(app, ["check", spec, flag, value])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert f"Invalid value for '{flag}'" in result.stderr or f"Invalid value for {flag}" in (
        result.stderr
    )
    assert "Traceback" not in result.output


def test_receptive_field_flag_of_the_wrong_rank_names_the_flag(
    runner: CliRunner, tmp_path: Path
) -> None:
    spec = write(tmp_path, "net.yaml", NET + BUDGET)
    result = runner.invoke(app, ["check", spec, "--min-receptive-field", "5x5x5"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    # the network is 2-D; the limit came from the flag, not from budget.receptive_field.min
    assert result.stderr == (
        f"error: {spec}:1:1: --min-receptive-field has 3 values but the network has 2 spatial "
        "axes\n"
    )


def test_max_layers_reaches_the_spec(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []

    def spy(spec, variant):  # type: ignore[no-untyped-def]
        seen.append(spec.limits.max_layers)
        return build(spec, variant)

    monkeypatch.setattr(convcost.check, "build", spy)
    spec = write(tmp_path, "net.yaml", NET + BUDGET)
    assert runner.invoke(app, ["check", spec, "--max-layers", "7"]).exit_code == ExitStatus.OK
    assert runner.invoke(app, ["check", spec]).exit_code == ExitStatus.OK
    assert seen == [7, 1_000_000]


# -- pre-commit: specs without a budget ---------------------------------------------------------


def test_skip_unbudgeted_skips_explicit_specs(runner: CliRunner, tmp_path: Path) -> None:
    plain = write(tmp_path, "plain.yaml", NET)
    budgeted = write(tmp_path, "budgeted.yaml", NET + BUDGET)
    result = runner.invoke(app, ["check", plain, budgeted, "--skip-unbudgeted"])
    assert result.exit_code == ExitStatus.OK, result.output
    assert result.stderr == f"note: {plain}: skipped: no budget\n"
    assert result.stdout.splitlines()[-1] == "1 within budget, 0 exceeded, 1 skipped (no budget)"
    # only unbudgeted specs: nothing to check is fine with the flag, an error without it
    alone = runner.invoke(app, ["check", plain, "--skip-unbudgeted"])
    assert (alone.exit_code, alone.stderr) == (
        ExitStatus.OK,
        f"note: {plain}: skipped: no budget\n",
    )
    assert runner.invoke(app, ["check", plain]).exit_code == ExitStatus.INVALID_INPUT


def test_pre_commit_hook_passes_on_the_projects_own_specs(runner: CliRunner) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    entry = hook["entry"].split()
    assert entry[:2] == ["convcost", "check"]
    # as pre-commit runs it: the matched files, named explicitly (most have no budget)
    files = [str(path) for path in sorted(SPECS.glob("*.yaml"))]
    assert any("budget:" not in Path(path).read_text(encoding="utf-8") for path in files)
    result = runner.invoke(app, [*entry[1:], *files])
    assert result.exit_code == ExitStatus.OK, result.output
    without = runner.invoke(app, ["check", *files])
    assert without.exit_code == ExitStatus.INVALID_INPUT  # what the hook did before


# -- escaping: JUnit, annotations, markdown, table -------------------------------------------

HOSTILE = 'x<&"\x01\x1b[31m[bold]\u2028'


def test_junit_times_and_escaping(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / HOSTILE
    folder.mkdir()
    over = write(folder, "over.yaml", NET + "budget: {params: 185, macs: 10K}\n")
    bad = write(folder, "bad.yaml", "name: [unclosed\n")
    result = runner.invoke(app, ["check", over, bad, "-f", "junit"])
    root = ET.fromstring(result.stdout)  # XML 1.0 refuses raw \x01 and \x1b
    escaped = (
        str(folder).replace("\x01", "\\x01").replace("\x1b", "\\x1b").replace("\u2028", "\\u2028")
    )
    suites = list(root.iter("testsuite"))
    assert [suite.get("name") for suite in suites] == [
        f"{escaped}/over.yaml",
        f"{escaped}/bad.yaml",
    ]
    for suite in suites:
        cases = list(suite.iter("testcase"))
        times = [float(case.get("time", "nan")) for case in cases]
        assert all(value >= 0 for value in times)
        # a suite's time covers its cases (rounded to the millisecond each)
        assert sum(times) <= float(suite.get("time", "nan")) + 0.001 * len(cases)
    assert float(root.get("time", "nan")) >= 0
    failure = suites[0].find("testcase/failure")
    assert failure is not None
    assert (failure.get("message") or "").endswith(f"(budget from {escaped}/over.yaml:7:10)")


def test_annotations_cannot_inject_workflow_commands(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "x\n::warning::pwned\r::error::"
    folder.mkdir()
    over = write(folder, "over.yaml", NET + "budget: {params: 185}\n")
    bad = write(folder, "bad.yaml", "name: [unclosed\n")
    empty = folder / "empty"
    empty.mkdir()
    for fmt in ("table", "json", "markdown", "junit"):
        result = runner.invoke(
            app, ["check", over, bad, str(empty), "-f", fmt], env={"GITHUB_ACTIONS": "true"}
        )
        lines = (result.stdout + result.stderr).splitlines()
        commands = [line for line in lines if line.startswith("::")]
        assert len(commands) == 3, commands
        assert all(line.startswith("::error file=") for line in commands)
    # the over-budget annotation, escaped (%0A, %0D; ':' and ',' too in properties)
    prefix = str(folder).replace("\n", "%0A").replace("\r", "%0D")
    property_prefix = prefix.replace(":", "%3A")
    assert commands[-1] == (
        f"::error file={property_prefix}/over.yaml,line=7,col=10,title=convcost over budget::net: "
        f"params 186 exceeds the budget 185 by 0.5%25 (budget from {prefix}/over.yaml:7:10)"
    )


def test_markdown_and_table_escape_user_text(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "a|b <i>[red]c `d`"
    folder.mkdir()
    over = write(folder, "over.yaml", NET + "budget: {params: 185}\n")
    markdown = runner.invoke(app, ["check", over, "-f", "markdown"]).stdout
    cell = str(folder).replace("|", "\\|")  # no HTML is read in a code span: <i> stays
    # single backticks inside: a fence of two (CommonMark), no padding needed
    assert f"| ``{cell}/over.yaml`` | net | params | ≤ 185 | 186 | -0.5% | ❌ **OVER** |" in (
        markdown
    )
    table = runner.invoke(app, ["check", over], env={"COLUMNS": "300"}).stdout
    assert table.splitlines()[0] == f"{folder}/over.yaml"  # brackets shown, not markup


def test_layer_paths_from_the_baseline_are_escaped(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET)
    baseline = tmp_path / "base.json"
    runner.invoke(app, ["analyze", spec, "-f", "json", "-o", str(baseline)])
    data = json.loads(baseline.read_text(encoding="utf-8"))
    data["layers"][0]["path"] = "[/]\x1b]8;;http://x\x07<b>|"
    data["totals"]["params"] = 185  # so that a failure carries the layer changes
    baseline.write_text(json.dumps(data), encoding="utf-8")
    args = ["check", spec, "--baseline", str(baseline)]
    shown = "[/]\\x1b]8;;http://x\\x07<b>|"
    table = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert table.exit_code == ExitStatus.BUDGET_EXCEEDED, table.output
    assert f"  net: {shown} removed: conv, 112 params, 6,912 MACs" in table.stdout.splitlines()
    markdown = runner.invoke(app, [*args, "-f", "markdown"]).stdout
    # brackets escaped too, so no markdown renderer reads a link; ESC shown as text
    assert "  - net: \\[/\\]\\\\x1b\\]8;;http://x\\\\x07&lt;b&gt;\\| removed: conv" in markdown
    junit = ET.fromstring(runner.invoke(app, [*args, "-f", "junit"]).stdout)
    texts = [element.text or "" for element in junit.iter("failure")]
    assert any(f"net: {shown} removed" in text for text in texts)
    data_out = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    assert data_out["specs"][0]["layer_changes"][-1]["path"] == data["layers"][0]["path"]


# -- output ------------------------------------------------------------------------------------


def test_output_is_checked_first_and_written_atomically(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET + BUDGET)
    for output, problem in [
        (tmp_path, "is a directory, not a file"),
        (tmp_path / "missing" / "out.xml", f"no such directory {tmp_path / 'missing'}"),
    ]:
        result = runner.invoke(app, ["check", spec, "-o", str(output)])
        assert result.exit_code == ExitStatus.INVALID_INPUT
        assert result.stderr == f"error: --output {output}: {problem}\n"
    out = tmp_path / "out.xml"
    out.write_text("previous", encoding="utf-8")
    for fmt in ("table", "junit"):
        result = runner.invoke(app, ["check", spec, "-f", fmt, "-o", str(out)])
        assert (result.exit_code, result.stdout) == (ExitStatus.OK, "")
        assert "1 within budget" in out.read_text(encoding="utf-8") or fmt == "junit"
    ET.fromstring(out.read_text(encoding="utf-8"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["net.yaml", "out.xml"]


def test_unreadable_argument_is_an_error_row(runner: CliRunner, tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", NET + BUDGET)
    long = "a" * 5000  # stat() fails with ENAMETOOLONG, which pathlib's is_dir() re-raises
    result = runner.invoke(app, ["check", long, good])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == f"error: cannot read {long!r}: File name too long\n"
    assert result.stdout.splitlines()[-1] == "1 within budget, 0 exceeded, 1 invalid spec"


def test_empty_baseline_path_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET + BUDGET)
    result = runner.invoke(app, ["check", spec, "--baseline", ""])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "Invalid value for --baseline: is an empty path\n" in result.stderr


def test_output_keeps_permissions_and_write_errors_are_one_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    spec = write(tmp_path, "net.yaml", NET + BUDGET)
    out = tmp_path / "report.json"
    out.write_text("previous", encoding="utf-8")
    out.chmod(0o640)
    assert runner.invoke(app, ["check", spec, "-f", "json", "-o", str(out)]).exit_code == 0
    assert (out.stat().st_mode & 0o777, json.loads(out.read_text())["exit_status"]) == (0o640, 0)
    fresh = tmp_path / "fresh.json"
    previous = os.umask(0o027)
    try:
        assert runner.invoke(app, ["check", spec, "-f", "json", "-o", str(fresh)]).exit_code == 0
    finally:
        os.umask(previous)
    assert fresh.stat().st_mode & 0o777 == 0o640  # 0o666 & ~0o027, as open() would make it
    long = tmp_path / ("a" * 300)
    result = runner.invoke(app, ["check", spec, "-o", str(long)])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    # a path past 200 characters is cut in the message: its first 180, then its length
    shown = f"{str(long)[:180]}… ({len(str(long))} characters)"
    assert result.stderr == f"error: --output {shown}: cannot be written: File name too long\n"


def test_output_to_a_fifo_is_written_in_place(runner: CliRunner, tmp_path: Path) -> None:
    spec = write(tmp_path, "net.yaml", NET + BUDGET)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(
        target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True
    )
    reader.start()
    try:
        result = runner.invoke(app, ["check", spec, "-f", "json", "-o", str(fifo)])
    finally:
        reader.join(timeout=20)
        if reader.is_alive():  # nothing opened the FIFO: release the reader
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert result.exit_code == ExitStatus.OK, result.output
    assert json.loads(received[0])["exit_status"] == 0
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # not replaced by a regular file


def test_write_failure_is_one_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what writing to a full disk (or /dev/full) raises, without touching a device here
    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("convcost.output.os.fsync", full)
    spec = write(tmp_path, "net.yaml", NET + BUDGET)
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["check", spec, "-f", "json", "-o", str(out)])
    assert (result.exit_code, result.stderr) == (
        ExitStatus.INVALID_INPUT,
        f"error: cannot write {out}: No space left on device\n",
    )


def test_long_user_text_is_not_wrapped_into_a_workflow_command(
    runner: CliRunner, tmp_path: Path
) -> None:
    # a wrap at the space would start a line with `::warning::` on a narrow terminal
    folder = tmp_path / ("x" * 30 + " ::warning::wrapped")
    folder.mkdir()
    bad = write(folder, "bad.yaml", "name: [unclosed\n")
    result = runner.invoke(app, ["check", bad], env={"COLUMNS": "40"})
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert not [line for line in result.stdout.splitlines() if line.lstrip().startswith("::")]
    assert result.stdout.splitlines()[:2] == [bad, f"ERROR {result.stderr[len('error: ') : -1]}"]
