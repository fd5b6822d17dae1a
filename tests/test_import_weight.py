"""What ``convcost analyze`` loads below the command line: the library path of
``tests/bench/bench_library_startup.py`` (load a bundled model, analyse it, print JSON or the
table) run in a fresh interpreter, then the modules it left in ``sys.modules``.

Each module named here was on that path once and was made lazy (issue 18, start-up): this test
fails when one comes back. A list of modules, not a timing: it holds on any machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.bench.bench_library_startup import DRIVER
from tests.bench.process import ROOT

NEVER = (
    "yaml",  # PyYAML: a spec in the plain subset is read without it (convcost.yaml_scalars)
    "convcost.yaml_events",
    "numpy",  # the executor's
    "typer",  # the command line's
    "convcost.latency",  # --device and latency budgets only
    "convcost.executor",
    "convcost.importer.onnx_reader",  # .onnx files only
    "difflib",  # a misspelt name only (did you mean …)
    "unicodedata",  # a name outside printable ASCII only
    "inspect",  # dataclasses runs without it (convcost.valueclasses), and so does rich's table
    "dis",
    "tokenize",
    "csv",  # --format csv only
    "subprocess",
    "platform",
    "uuid",
    "locale",
    "gettext",
    "textwrap",
    "shutil",
    "tempfile",
    "logging",
    "argparse",
)
"""Loaded by neither the JSON nor the table path."""

JSON_ONLY = ("rich", "fractions", "decimal", "numbers", "ast")
"""Not loaded for JSON, nor for the table into a pipe (rich, which brings threading, pickle,
random, fractions and ast, for rich.markup, draws only where styles are); the bundled models'
jumps are whole and intensities are written from integers; the expression parser uses
``_ast``, the C module behind ``ast``."""

WITHOUT_EXPRESSIONS = ("convcost.expr", "_ast")
"""The expression parser, for a spec without ``${…}`` (``$name`` is looked up directly)."""

WITHOUT_BUDGET = ("convcost.budget", "convcost.units")
"""The budget reader and units, for a spec without ``budget:`` (resnet50; quickstart has one)
and no ``--max-*`` flags."""

TABLE_ONLY = ("rich._emoji_codes",)
"""rich's 4,000 emoji names: the table hands rich no text to search for ``:codes:``."""

WITHOUT_PATHLIB = ("pathlib", "urllib", "urllib.parse", "ipaddress", "fnmatch", "ntpath")
"""pathlib and what it loads: a spec file's name is spelled as pathlib spells it by
``convcost.file_paths``."""

UNUSED = ("convcost.importer", "convcost.include", "convcost.layers.shuffle")
"""The ONNX importer (``is_model_path`` lives in ``convcost.file_paths``), ``include:`` (a spec
without one), and a layer kind module neither spec uses (``channel_shuffle``, ``split``)."""


def loaded(source: str, kind: str) -> set[str]:
    code = DRIVER + "\nimport json, sys\nsys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", code, source, kind],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout, "the driver printed nothing"
    return set(json.loads(done.stderr))


@pytest.mark.parametrize(
    ("source", "absent"),
    [
        ("resnet50", (*NEVER, *JSON_ONLY, *WITHOUT_BUDGET, *UNUSED)),  # `${mid * 4}`: no parser
        ("specs/quickstart.yaml", (*NEVER, *JSON_ONLY, *WITHOUT_EXPRESSIONS, *UNUSED)),
    ],
)
def test_json_path_leaves_the_heavy_modules_out(source: str, absent: tuple[str, ...]) -> None:
    modules = loaded(source, "json")
    assert "convcost.engine" in modules  # the driver ran the library path
    assert sorted(modules & set(absent)) == []


def test_dataclasses_reads_inspect_when_it_needs_it() -> None:
    """The standard decorator still writes a docstring from ``inspect.signature`` after
    :mod:`convcost.valueclasses` imported :mod:`dataclasses` without :mod:`inspect`."""
    code = (
        "import sys, convcost.valueclasses, dataclasses\n"
        "assert 'inspect' not in sys.modules\n"
        "@dataclasses.dataclass\nclass A:\n    x: int\n    y: str = 'b'\n"
        "print(A.__doc__, 'inspect' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout == "A(x: int, y: str = 'b') True\n"  # the standard library's text


@pytest.mark.parametrize(
    ("source", "absent"),
    [
        ("resnet50", (*NEVER, *JSON_ONLY, *WITHOUT_BUDGET, *UNUSED)),
        ("specs/quickstart.yaml", (*NEVER, *JSON_ONLY, *WITHOUT_EXPRESSIONS, *UNUSED)),
    ],
)
def test_table_path_leaves_the_heavy_modules_out(source: str, absent: tuple[str, ...]) -> None:
    # into a pipe the table is written without rich (convcost.render.plain_table), and its
    # summary's intensity without fractions
    modules = loaded(source, "table")
    assert "convcost.render.plain_table" in modules
    assert sorted(modules & set(absent)) == []


def isolated(args: list[str]) -> set[str]:
    """The modules ``convcost ARGS`` leaves in ``sys.modules``, in an interpreter that did not
    import them itself: ``-S``, as the dev venv's editable finder (a ``.pth`` file that site
    reads) imports pathlib, re and urllib at start-up; the path holds this tree and the
    site-packages folder (whose ``.pth`` files are read only from a site folder)."""
    code = (
        "import sys\nfrom convcost.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "import json\nsys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    path = os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]])
    done = subprocess.run(
        [sys.executable, "-S", "-c", code, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout  # the report
    return set(json.loads(done.stderr))


@pytest.mark.parametrize("source", ["resnet50", "specs/quickstart.yaml"])
@pytest.mark.parametrize("kind", [("-f", "json"), ()])
def test_the_command_loads_no_pathlib_nor_pyyaml(source: str, kind: tuple[str, ...]) -> None:
    """The command line itself (not only the library path above): no pathlib, no modules a
    spec does not use, and a plain spec read without ``yaml`` or the event reader."""
    modules = isolated(["analyze", source, *kind])
    assert "convcost.file_paths" in modules  # the command ran, in this tree
    assert "convcost.plainyaml" in modules
    assert "site" not in modules  # … without the site module, so nothing loaded before it
    assert sorted(modules & {*WITHOUT_PATHLIB, *UNUSED}) == []
    assert sorted(name for name in modules if name.split(".")[0] == "yaml") == []
    assert "convcost.yaml_events" not in modules


def test_a_spec_with_include_still_reads_it(tmp_path: Path) -> None:
    """include.py loads when a spec has ``include:``; the zoo gives a file name, not a Path."""
    (tmp_path / "net.yaml").write_text(
        "input: [3, 16, 16]\ninclude: [zoo:resnet18#basic]\n"
        "layers:\n  - conv: {out: 64, kernel: 1}\n  - basic: {width: 64}\n"
    )
    modules = isolated(["analyze", str(tmp_path / "net.yaml"), "-f", "json"])
    assert "convcost.include" in modules
    assert sorted(modules & set(WITHOUT_PATHLIB)) == []


def test_terminal_table_hands_rich_no_emoji_codes() -> None:
    """On a terminal (FORCE_COLOR: styles drawn) rich draws the table, without its emoji
    names."""
    code = (
        "import json, sys\n"
        "from convcost.__main__ import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "analyze", "specs/quickstart.yaml"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "FORCE_COLOR": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(json.loads(done.stderr))
    assert "rich.table" in modules
    assert sorted(modules & {*NEVER, *TABLE_ONLY}) == []


def test_an_expression_error_still_unparses_the_node() -> None:
    """``ast`` is loaded for a refused expression's message, which quotes its source."""
    code = (
        "import sys\nfrom convcost.expr import ExpressionError, evaluate\n"
        "assert 'ast' not in sys.modules\n"
        "try:\n    evaluate('x.y + 1', {'x': 1})\nexcept ExpressionError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("'x.y' is not allowed in 'x.y + 1'"), done.stdout


PLAIN = """\
name: net
input: [3, 16, 16]
layers:
  - conv: {out: 8, kernel: 3, padding: 1}
  - relu: {}
  - conv: {out: 8, kernel: 3, padding: 1}
  - relu: {}
"""
ANCHORED = """\
name: net
input: [3, 16, 16]
layers:
  - conv: &c {out: 8, kernel: 3, padding: 1}
  - relu: &r {}
  - conv: *c
  - relu: *r
"""
"""The same network with anchors and aliases: outside the plain subset, read by PyYAML."""


def test_a_spec_with_aliases_is_read_by_pyyaml_to_the_same_report(tmp_path: Path) -> None:
    outputs = {}
    for name, text in (("plain", PLAIN), ("anchored", ANCHORED)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        code = DRIVER + "\nsys.stderr.write(json.dumps('yaml' in sys.modules))\n"
        done = subprocess.run(
            [sys.executable, "-c", "import json\n" + code, str(path), "json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs[name] = (json.loads(done.stdout), json.loads(done.stderr))
    (plain, plain_yaml), (anchored, anchored_yaml) = outputs["plain"], outputs["anchored"]
    assert (plain_yaml, anchored_yaml) == (False, True)  # the event path ran for aliases only
    # 8·3·3·3 + 8 weights and biases, then 8·8·3·3 + 8 (PyTorch's Conv2d sizes)
    assert plain["totals"]["params"] == anchored["totals"]["params"] == 224 + 584
    del plain["source"], anchored["source"]  # the file names
    assert plain == anchored


@pytest.mark.parametrize("first", ["convcost.engine", "convcost.build", "convcost.report"])
def test_the_library_api_imported_first_loads_no_inspect(first: str) -> None:
    """A library user's first import may be any module: none imports dataclasses before
    :mod:`convcost.valueclasses`, which would load inspect, ast, dis and tokenize."""
    code = f"import sys, {first}\nprint(sorted({{'inspect', 'ast', 'dis'}} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout == "[]\n"


def test_only_valueclasses_imports_dataclasses() -> None:
    """ruff bans ``dataclasses`` (TID251) but its per-file ignores for rich and numpy leave
    convcost/render, cli and executor unchecked: this reads every module."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "convcost").rglob("*.py"))
        if path.name != "valueclasses.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.lstrip().startswith(("import dataclasses", "from dataclasses import"))
    ]
    assert found == []
