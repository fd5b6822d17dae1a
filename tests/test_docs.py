"""The documentation matches the code: kinds, commands and options documented, examples run.

Conventions for examples in README.md and docs/*.md:

- A ```yaml block that contains a top-level ``input:`` key is a full spec: it must parse and
  analyze without error. Every other ```yaml block (a fragment such as one layer entry) must at
  least be valid YAML.
- A block that is wrong on purpose (to show an error) is marked by an HTML comment
  ``<!-- invalid: MESSAGE -->`` on the line just before its opening fence, or by a first line
  ``# error: MESSAGE`` inside it; it must then FAIL with a SpecError whose message contains
  MESSAGE, so the mark cannot go stale and the block cannot fail for another reason.
- Every ``convcost …`` command shown in README.md (in code blocks, after ``$ `` or ``&&``, and
  in inline code) runs with exit code 0 from the repository root, except those naming a
  placeholder file listed in PLACEHOLDER_FILES.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.layers.registry import KINDS, MERGE_KINDS
from tests.test_spec import CASES

ROOT = Path(__file__).parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
README = ROOT / "README.md"
SPEC_FORMAT = ROOT / "docs" / "spec-format.md"
CLI_DOC = ROOT / "docs" / "cli.md"

PLACEHOLDER_FILES = {"net.yaml", "SPEC", "resnet50.onnx"}
"""Names README commands use for the user's own spec (`net.yaml`, `SPEC`): they do not exist here.
The commands on the user's model (`resnet50.onnx`) run in tests/test_import_docs.py, next to
an export of it."""

FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<lang>[a-z]*)[ ]*$")


def fenced_blocks(path: Path) -> list[tuple[int, str, str, bool]]:
    """(line, language, text, expected error) for each fenced block of a Markdown file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = opening.group("indent")
        body = []
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            body.append(lines[end].removeprefix(indent))
            end += 1
        previous = lines[index - 1].strip() if index else ""
        text = textwrap.dedent("\n".join(body)) + "\n"
        marked = re.fullmatch(r"<!-- invalid: (.+) -->", previous) or re.match(
            r"# error: (.+)", text.lstrip()
        )
        blocks.append((index + 1, opening.group("lang"), text, marked.group(1) if marked else None))
        index = end + 1
    return blocks


def yaml_examples() -> list[Any]:
    cases = []
    for path in [README, *DOCS]:
        for line, lang, text, error in fenced_blocks(path):
            if lang == "yaml":
                name = f"{path.relative_to(ROOT)}:{line}"
                cases.append(pytest.param(text, error, id=name))
    return cases


def is_full_spec(text: str) -> bool:
    return re.search(r"^input:", text, flags=re.MULTILINE) is not None


@pytest.mark.parametrize(("text", "error"), yaml_examples())
def test_yaml_example(text: str, error: str | None) -> None:
    if error is not None:
        with pytest.raises(convcost.SpecError, match=re.escape(error)):
            convcost.analyze_all(convcost.parse_spec(text))
        return
    yaml.safe_load(text)  # every fragment is at least valid YAML
    if is_full_spec(text):
        reports = convcost.analyze_all(convcost.parse_spec(text))
        assert reports


def test_an_invalid_block_names_its_error(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- invalid: unknown layer kind -->\n```yaml\nlayers: []\n```\n\n"
        "```yaml\n# error: must be an integer\ninput: [3]\n```\n\n```yaml\ninput: [3]\n```\n",
        encoding="utf-8",
    )
    assert [(line, error) for line, _, _, error in fenced_blocks(page)] == [
        (2, "unknown layer kind"),
        (6, "must be an integer"),
        (11, None),
    ]


def test_the_examples_include_full_specs() -> None:
    # guards the extraction itself: README and spec-format.md hold several complete specs
    full = [p for p in yaml_examples() if is_full_spec(p.values[0]) and p.values[1] is None]
    assert len(full) >= 4


# ---------------------------------------------------------------------------------------------
# Layer kinds


def documented_names(path: Path) -> set[str]:
    """Names in backticks on headings and in the first cell of table rows."""
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            names.update(re.findall(r"`([a-z0-9_]+)`", line))
        elif line.startswith("|"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([a-z0-9_]+)`", first_cell))
    return names


@pytest.mark.parametrize("kind", sorted([*KINDS, *MERGE_KINDS]))
def test_every_kind_is_documented(kind: str) -> None:
    assert kind in documented_names(SPEC_FORMAT), f"add `{kind}` to docs/spec-format.md"


# ---------------------------------------------------------------------------------------------
# Commands and options (read from the typer app, so commands added later are checked too)


def commands() -> dict[str, Any]:
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def section(text: str, command: str) -> str:
    """docs/cli.md from the heading naming `convcost COMMAND` to the next ## heading."""
    match = re.search(rf"^## `convcost {re.escape(command)}\b.*$", text, flags=re.MULTILINE)
    assert match, f"docs/cli.md needs a heading ## `convcost {command} …`"
    rest = text[match.end() :]
    following = re.search(r"^## ", rest, flags=re.MULTILINE)
    return rest[: following.start()] if following else rest


def options() -> list[Any]:
    cases = []
    for name, command in sorted(commands().items()):
        if command.hidden:
            continue
        cases.append(pytest.param(name, None, id=name))
        for param in command.params:
            if param.param_type_name != "option" or param.hidden or "--help" in param.opts:
                continue
            long = [opt for opt in [*param.opts, *param.secondary_opts] if opt.startswith("--")]
            for opt in long:
                cases.append(pytest.param(name, opt, id=f"{name} {opt}"))
    return cases


@pytest.mark.parametrize(("command", "option"), options())
def test_every_command_and_option_is_documented(command: str, option: str | None) -> None:
    text = section(CLI_DOC.read_text(encoding="utf-8"), command)
    if option is not None:
        assert re.search(rf"`[^`]*{re.escape(option)}\b[^`]*`", text), (
            f"document {option} in the `convcost {command}` section of docs/cli.md"
        )


def test_the_app_has_commands() -> None:
    assert {"analyze", "zoo"} <= set(commands())


def test_global_options_are_documented() -> None:
    text = CLI_DOC.read_text(encoding="utf-8")
    assert "--version" in text


# ---------------------------------------------------------------------------------------------
# README commands


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    found: list[str] = []
    spans = re.findall(r"`([^`\n]+)`", text)
    lines = [
        line
        for _, lang, block, _ in fenced_blocks(README)
        if lang in ("sh", "text", "")
        for line in block.splitlines()
    ]
    # An inline `convcost NAME` with nothing after the command names it in prose; it is not
    # an invocation (`convcost compare` needs a spec). Code-block lines always count.
    spans = [span for span in spans if len(span.split()) > 2 or span.strip() == "convcost zoo"]
    for candidate in [*spans, *lines]:
        for piece in re.split(r"&&|\|", candidate):
            part = piece.strip().removeprefix("$ ").strip()
            if part.startswith("convcost ") and part not in found:
                found.append(part)
    return found


def test_readme_shows_commands() -> None:
    assert any(command.startswith("convcost analyze") for command in readme_commands())


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args = shlex.split(command)[1:]
    if PLACEHOLDER_FILES & set(args):
        pytest.skip(f"names a placeholder for the user's own spec: {command}")
    monkeypatch.chdir(ROOT)
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"}).invoke(app, args)
    assert result.exit_code == 0, f"{command}: {result.stderr}"
    assert result.stdout


# ---------------------------------------------------------------------------------------------
# The error table of docs/spec-format.md shows real messages


def documented_messages() -> list[str]:
    """Code spans in the message column of the Errors table (`` … `` or ` … `)."""
    text = SPEC_FORMAT.read_text(encoding="utf-8")
    table = text[text.index("| problem | message") :].split("\n\n")[0]
    messages = []
    for row in table.splitlines()[2:]:
        cell = row.split(" | ", 1)[1].removesuffix(" |")
        messages += [m.strip() for m in re.findall(r"``(.+?)``|`([^`]+)`", cell) for m in m if m]
    return messages


def test_documented_error_messages_are_real() -> None:
    pinned = [case.values[1] for case in CASES]
    pinnings = ("test_spec.py", "test_build_limits.py", "test_budget.py", "test_generate.py")
    pinnings += (
        "test_upsample.py",
        "test_pixel_shuffle.py",
        "test_border.py",
    )  # the kinds' own error tests
    for pinning in pinnings:
        pinned.append((ROOT / "tests" / pinning).read_text(encoding="utf-8"))
    messages = documented_messages()
    assert len(messages) >= 40
    for message in messages:
        if message in ("repeat", "field", "input", "layers") or message.startswith("error: "):
            continue  # names and the prefix, not messages
        pieces = [piece.strip() for piece in message.split("…") if piece.strip()]
        assert any(all(piece in real for piece in pieces) for real in pinned), message
