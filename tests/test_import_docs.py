"""The model examples of docs/import.md and README.md run, and print what the pages show.

A ```text block whose lines start with ``$ convcost`` is a transcript: each command runs (as
a process, 100 columns, no colour) in the session's ``model_folder`` (tests/onnx_exports.py:
``resnet50.onnx`` exported from torchvision's ResNet class, ``model.onnx`` with symbolic
sizes, a ``torchvision`` stand-in for ``--torch``), and what it prints (standard error, then
standard output) must be the lines shown under it, up to the next ``$``.
``pytest tests/test_import_docs.py --update-golden`` rewrites the transcripts from the code;
review the diff.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.attacks.harness import run_cli
from tests.conftest import require
from tests.test_docs import fenced_blocks

require("torch")
require("onnx")
require("onnxscript")


ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "docs" / "import.md", ROOT / "README.md"]

pytestmark = pytest.mark.torch


@pytest.fixture
def folder(model_folder: Path) -> Path:
    return model_folder


def transcripts(page: Path) -> list[tuple[int, list[tuple[str, list[str]]]]]:
    """(line, [(command, output lines)]) for each transcript block of ``page`` that runs a
    model (names a .onnx file or --torch)."""
    found = []
    for line, lang, text, _ in fenced_blocks(page):
        if lang != "text" or not text.startswith("$ convcost "):
            continue
        steps: list[tuple[str, list[str]]] = []
        for row in text.rstrip("\n").split("\n"):
            if row.startswith("$ "):
                steps.append((row[2:], []))
            else:
                steps[-1][1].append(row)
        if any(".onnx" in command or "--torch" in command for command, _ in steps):
            found.append((line, steps))
    return found


def run(command: str, folder: Path) -> tuple[int, list[str]]:
    """Run ``command`` in ``folder`` as a user would (a process: ``--torch`` imports there);
    its exit status, and the lines it prints, standard error first."""
    result = run_cli(shlex.split(command)[1:], cwd=folder, deadline=300)
    text = result.stderr + result.stdout.decode()
    return result.exit_code, [line.rstrip() for line in text.rstrip("\n").split("\n")]


CASES = [
    pytest.param(page, index, id=f"{page.name}:{line}")
    for page in PAGES
    for index, (line, _) in enumerate(transcripts(page))
]


@pytest.mark.parametrize(("page", "index"), CASES)
def test_transcript(page: Path, index: int, folder: Path, update_golden: bool) -> None:
    line, steps = transcripts(page)[index]
    actual = []
    for command, _ in steps:
        status, printed = run(command, folder)
        failing = any(row.startswith("error:") or " OVER" in row for row in printed)
        assert failing or status == 0, f"{command}: exit {status}: {printed}"
        actual.append((command, printed if printed != [""] else []))
    if update_golden:
        _rewrite(page, line, actual)
        return
    assert actual == steps


def _rewrite(page: Path, line: int, steps: list[tuple[str, list[str]]]) -> None:
    lines = page.read_text(encoding="utf-8").split("\n")
    end = line
    while lines[end].strip() != "```":
        end += 1
    lines[line:end] = [row for command, printed in steps for row in (f"$ {command}", *printed)]
    page.write_text("\n".join(lines), encoding="utf-8")


def test_the_pages_have_transcripts() -> None:
    assert len(transcripts(PAGES[0])) >= 4
    assert transcripts(PAGES[1])


def test_readme_model_commands_run(folder: Path) -> None:
    # README's commands on resnet50.onnx: tests/test_docs.py skips them (placeholders there)
    text = PAGES[1].read_text(encoding="utf-8")
    commands = [
        line.strip().removeprefix("$ ")
        for line in text.splitlines()
        if line.strip().removeprefix("$ ").startswith("convcost ") and ".onnx" in line
    ]
    assert commands
    for command in commands:
        status, printed = run(command, folder)
        assert status == 0, f"{command}: {printed}"
