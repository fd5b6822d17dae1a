"""docs/export.md shows what the tool prints: its blocks run, in page order, in one folder.

- A ```text block whose first line starts with ``$ `` is a transcript: each ``$ convcost …``
  runs (typer's runner, 100 columns, no colour) and ``$ python FILE`` runs the file (in this process,
  as ``__main__``); what it prints (standard error, then standard output) must be the lines under it,
  up to the next ``$``. A block marked ``<!-- transcript: not run here (REASON) -->`` on the
  line before is skipped (one whose output another test pins, e.g. measured times).
- A ```python block marked ``<!-- file: NAME -->`` is written to the folder as NAME.
- A ```python block marked ``<!-- excerpt of: convcost ARGS -->`` must appear, as it is, in
  what the command prints.

The folder holds a copy of specs/, so commands name the files the page names.
"""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from tests.conftest import require
from tests.test_docs import fenced_blocks

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "export.md"

pytestmark = pytest.mark.torch


def _marks() -> dict[int, str]:
    """The HTML comment on the line before each block's fence, by the fence's line number."""
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    return {
        number + 1: match.group(1)
        for number, line in enumerate(lines[:-1], start=1)
        if (match := re.fullmatch(r"<!-- (.+) -->", line.strip())) is not None
    }


def _run(command: str, folder: Path) -> list[str]:
    args = shlex.split(command)
    if args[0] == "python":
        # in this process (torch is loaded already), as `python FILE` in the folder would run it
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(folder / args[1]), run_name="__main__")
        return out.getvalue().splitlines()
    assert args[0] == "convcost", command
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"}).invoke(app, args[1:])
    assert result.exit_code == 0, f"{command}: {result.stderr}"
    return [*result.stderr.splitlines(), *result.stdout.splitlines()]


def test_the_page_runs_as_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require("torch")
    folder = tmp_path / "work"
    shutil.copytree(ROOT / "specs", folder / "specs")
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))  # `from branch import …` finds the written file
    try:
        ran = _run_page(folder)
    finally:  # forget the modules the page wrote
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", "") or "").startswith(str(folder)):
                del sys.modules[name]
    assert ran >= 4


def _run_page(folder: Path) -> int:
    """Run the page's blocks in order; the number of commands run."""
    marks = _marks()
    ran = 0
    for line, lang, text, _ in fenced_blocks(PAGE):
        mark = marks.get(line, "")
        if lang == "python" and mark.startswith("file: "):
            (folder / mark.removeprefix("file: ")).write_text(text, encoding="utf-8")
        elif lang == "python" and mark.startswith("excerpt of: "):
            printed = _run(mark.removeprefix("excerpt of: "), folder)
            assert text.rstrip("\n") in "\n".join(printed), f"docs/export.md:{line}"
        elif lang == "text" and text.startswith("$ ") and not mark.startswith("transcript:"):
            steps: list[tuple[str, list[str]]] = []
            for row in text.rstrip("\n").split("\n"):
                if row.startswith("$ "):
                    steps.append((row[2:], []))
                else:
                    steps[-1][1].append(row)
            for command, shown in steps:
                printed = [row.rstrip() for row in _run(command, folder)]
                while printed and not printed[-1]:
                    printed.pop()  # a table's blank last line: the page's block ends there
                assert printed == [row.rstrip() for row in shown], f"docs/export.md:{line}"
                ran += 1
    return ran
