"""The command line in front of real file descriptors and signals: outputs checked before any
work and replaced atomically, standard output closed, full, a broken pipe or not UTF-8,
Ctrl-C and memory exhaustion at any moment. Each case runs ``python -m convcost`` in a child
process bounded in time, and asserts its exit code and its standard error exactly."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost.render.formats
import convcost.render.plain_report
from convcost.cli import app
from convcost.errors import ExitStatus
from convcost.output import replace_atomically

ROOT = Path(__file__).parent.parent
QUICKSTART = str(ROOT / "specs" / "quickstart.yaml")
TIMEOUT = 60  # seconds for one child process; each normally takes under one


def _default_sigint() -> None:
    # a child inherits an ignored SIGINT from a shell's background job: give it the default
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    **options: object,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m convcost ARGS`` running this tree's code; bytes in and out."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "100"}
    environment.update(env or {})
    options.setdefault("stdout", subprocess.PIPE)
    options.setdefault("preexec_fn", _default_sigint)
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "convcost", *args],
        env=environment,
        cwd=cwd,
        stderr=subprocess.PIPE,
        timeout=TIMEOUT,
        check=False,
        **options,
    )


def no_traceback(done: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in done.stderr, done.stderr.decode()


# -- outputs are checked before any work ---------------------------------------------------------


@pytest.fixture
def existing_file(tmp_path: Path) -> Path:
    path = tmp_path / "existing.txt"
    path.write_text("keep me\n")
    return path


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("", "error: --output '': the file name is empty"),
        ("{tmp}", "error: --output {tmp}: is a directory, not a file"),
        ("{tmp}/", "error: --output {tmp}/: is a directory, not a file"),
        (
            "{tmp}/missing/out.json",
            "error: --output {tmp}/missing/out.json: no such directory {tmp}/missing",
        ),
        (
            "{tmp}/existing.txt/out.json",
            "error: --output {tmp}/existing.txt/out.json: {tmp}/existing.txt is not a directory",
        ),
    ],
)
@pytest.mark.parametrize("command", ["analyze", "compare", "explain", "zoo", "analyze --execute"])
def test_bad_output_is_refused_before_any_work(
    tmp_path: Path, existing_file: Path, output: str, message: str, command: str
) -> None:
    # the spec does not exist: had convcost read it first, the error would be about the spec
    words = command.split()
    args = [*words[:1], *([] if words[0] == "zoo" else ["missing-spec.yaml"]), *words[1:]]
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    result = runner.invoke(app, [*args, "-o", output.format(tmp=tmp_path)])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == message.format(tmp=tmp_path) + "\n"
    assert existing_file.read_text() == "keep me\n"


def test_unwritable_output_is_refused_before_any_work(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
    else:  # root writes through permission bits: use a folder the kernel refuses
        folder = Path("/proc/sys")
        if os.access(folder, os.W_OK):
            pytest.skip("running as root with no unwritable folder to write into")
    done = cli("analyze", "missing-spec.yaml", "--execute", "-o", f"{folder}/out.txt")
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr.decode() == (
        f"error: --output {folder}/out.txt: cannot create files in {folder}\n"
    )


def test_output_to_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    # a device or a FIFO (-o /dev/null) cannot be renamed over: a rename would replace it
    # with a regular file (tested on a FIFO of our own, not on the machine's /dev/null)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    done = cli("analyze", QUICKSTART, "-f", "json", "-o", str(fifo))
    text, _ = reader.communicate(timeout=TIMEOUT)
    assert done.returncode == ExitStatus.OK, done.stderr.decode()
    assert json.loads(text)["totals"]["params"] == 57_130
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pipe"]


# -- standard output -------------------------------------------------------------------------------


def test_closed_standard_output() -> None:
    done = cli("analyze", QUICKSTART, preexec_fn=lambda: (_default_sigint(), os.close(1)))
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr.decode() == "error: standard output is closed\n"


@pytest.mark.parametrize("args", [["analyze", QUICKSTART], ["zoo", "-f", "json"], ["--help"]])
def test_full_standard_output(args: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        done = cli(*args, stdout=full)
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr.decode() == (
        "error: cannot write to standard output: No space left on device\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "densenet121"],
        ["analyze", "densenet121", "-f", "json"],
        ["--help"],  # written by typer, whose own handler exits 1
        ["--version"],
    ],
)
def test_broken_pipe_is_silent(args: list[str]) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "convcost", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        preexec_fn=_default_sigint,  # noqa: PLW1509 (the tests start no threads)
    )
    assert child.stdout is not None
    child.stdout.close()  # the reader is gone before the first byte is written
    _, stderr = child.communicate(timeout=TIMEOUT)
    assert child.returncode == ExitStatus.INVALID_INPUT  # not 1, which `check` uses for "over"
    assert stderr == b""


ASCII_CASES = [
    ["analyze", QUICKSTART],
    ["analyze", QUICKSTART, "-f", "json"],
    ["analyze", QUICKSTART, "-f", "csv"],
    ["analyze", QUICKSTART, "-f", "markdown"],
    ["compare", str(ROOT / "specs" / "googlenet-5x5-branch.yaml")],
    ["compare", str(ROOT / "specs" / "googlenet-5x5-branch.yaml"), "-f", "json"],
    ["explain", QUICKSTART, "--layer", "stem"],
    ["zoo", "-f", "markdown"],
    ["check", QUICKSTART],
    ["check", QUICKSTART, "-f", "json"],
    ["schema"],
    ["--help"],
]


@pytest.mark.parametrize("args", ASCII_CASES, ids=lambda args: " ".join(args[:1] + args[2:]))
def test_ascii_standard_output(args: list[str]) -> None:
    done = cli(*args, env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == ExitStatus.OK, done.stderr.decode()
    assert done.stderr == b""
    assert done.stdout.isascii()
    if "json" in args or args == ["schema"]:
        json.loads(done.stdout)


def test_ascii_table_keeps_its_columns() -> None:
    done = cli("analyze", QUICKSTART, "--exact", env={"PYTHONIOENCODING": "ascii"})
    lines = done.stdout.decode("ascii").splitlines()
    # rich draws ASCII borders; × becomes x and — becomes -, one character for one, so every
    # row keeps its column separators where the header has them
    rows = [line for line in lines if line.startswith("|") and "-+-" not in line]
    bars = {tuple(i for i, char in enumerate(row) if char == "|") for row in rows}
    assert len(rows) > 10
    assert len(bars) == 1
    stem = next(row for row in rows if " stem " in row)
    assert [cell.strip() for cell in stem.split("|")][1:5] == ["1", "stem", "conv", "32x32x32"]
    norm = next(row for row in rows if " batchnorm1 " in row)
    assert [cell.strip() for cell in norm.split("|")][6] == "-"  # no MACs


@pytest.mark.parametrize(
    "env",
    [
        {"PYTHONIOENCODING": "latin-1"},
        {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""},
    ],
    ids=["latin-1", "C-locale"],
)
@pytest.mark.parametrize(
    "args",
    [
        ["analyze", QUICKSTART],
        ["analyze", QUICKSTART, "-f", "json"],
        ["explain", QUICKSTART, "--layer", "stem"],
        ["check", QUICKSTART],
    ],
    ids=lambda args: " ".join(args[:1] + args[2:]),
)
def test_other_encodings(env: dict[str, str], args: list[str]) -> None:
    done = cli(*args, env=env)
    assert done.returncode == ExitStatus.OK, done.stderr.decode()  # check within budget: 0
    assert done.stderr == b""
    text = done.stdout.decode("latin-1")
    if "json" in args:
        assert json.loads(text)["totals"]["params"] == 57_130
    if env.get("LC_ALL") == "C":
        assert done.stdout.isascii()


def test_non_ascii_name_in_json_on_ascii_output(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("name: naïve😀\ninput: [1, 4, 4]\nlayers:\n  - conv: {out: 2, kernel: 3}\n")
    done = cli("analyze", str(spec), "-f", "json", env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == ExitStatus.OK, done.stderr.decode()
    assert done.stdout.isascii()
    assert json.loads(done.stdout)["name"] == "naïve😀"


# -- atomic writes ---------------------------------------------------------------------------------


def _failing_render_env(tmp_path: Path, module: str, action: str) -> dict[str, str]:
    """A sitecustomize that acts when the child first imports ``module``."""
    (tmp_path / "hook").mkdir(exist_ok=True)
    (tmp_path / "hook" / "sitecustomize.py").write_text(HOOK)
    return {
        "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path / 'hook'}",
        "CONVCOST_TEST_TRIGGER": module,
        "CONVCOST_TEST_ACTION": action,
    }


HOOK = '''
import os, signal, sys

_TRIGGER = os.environ.get("CONVCOST_TEST_TRIGGER", "")
_ACTION = os.environ.get("CONVCOST_TEST_ACTION", "")


class _Hook:
    """Act once, when the module named _TRIGGER is first imported."""

    def find_spec(self, name, path=None, target=None):
        if name == _TRIGGER:
            sys.meta_path.remove(self)
            if _ACTION == "sigint":
                os.kill(os.getpid(), signal.SIGINT)
            elif _ACTION == "memory":
                raise MemoryError
            elif _ACTION == "convcost-error":
                from convcost.errors import ResourceLimitError

                raise ResourceLimitError("a bound met outside any command's own handling")
            elif _ACTION == "announce":
                sys.stderr.write("ready\\n")
                sys.stderr.flush()
        return None


sys.meta_path.insert(0, _Hook())
'''


def test_failing_render_leaves_the_existing_file(tmp_path: Path, existing_file: Path) -> None:
    def half_then_fail(*args: object, **kwargs: object) -> Iterator[str]:
        yield "half a table\n"
        raise RuntimeError("renderer bug")

    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(convcost.render.plain_report, "plain_reports", half_then_fail)
        result = runner.invoke(app, ["analyze", QUICKSTART, "-o", str(existing_file)])
    assert isinstance(result.exception, RuntimeError)  # a bug keeps its traceback
    assert existing_file.read_text() == "keep me\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["existing.txt"]  # no leftovers


def test_ctrl_c_while_rendering_leaves_the_existing_file(
    tmp_path: Path, existing_file: Path
) -> None:
    def half_then_interrupt(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(convcost.render.formats, "to_csv", half_then_interrupt)
        result = runner.invoke(app, ["analyze", QUICKSTART, "-f", "csv", "-o", str(existing_file)])
    assert result.exit_code == 130
    assert existing_file.read_text() == "keep me\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["existing.txt"]


def test_replace_atomically_on_interrupt_mid_write(tmp_path: Path, existing_file: Path) -> None:
    def write_then_interrupt() -> None:
        with replace_atomically(existing_file) as handle:
            handle.write("x" * 1_000_000)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_then_interrupt()
    assert existing_file.read_text() == "keep me\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["existing.txt"]


def test_output_replaces_the_file_keeping_its_mode_and_links(
    tmp_path: Path, existing_file: Path
) -> None:
    existing_file.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(existing_file.name)
    done = cli("analyze", QUICKSTART, "-f", "json", "-o", str(link))
    assert done.returncode == ExitStatus.OK, done.stderr.decode()
    assert link.is_symlink()  # the link still points to the file, which was replaced
    assert json.loads(existing_file.read_text())["totals"]["params"] == 57_130
    assert existing_file.stat().st_mode & 0o777 == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == ["existing.txt", "link.json"]


def test_new_output_gets_the_umask_mode(tmp_path: Path) -> None:
    target = tmp_path / "new.csv"
    done = cli("analyze", QUICKSTART, "-f", "csv", "-o", str(target), preexec_fn=_umask_022)
    assert done.returncode == ExitStatus.OK, done.stderr.decode()
    assert target.stat().st_mode & 0o777 == 0o644  # 0o666 less the umask 0o022


def _umask_022() -> None:
    _default_sigint()
    os.umask(0o022)


# -- Ctrl-C, memory, top-level errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("convcost.cli.declare", ["analyze", QUICKSTART]),  # while the command line loads
        ("typer", ["analyze", QUICKSTART, "--help"]),  # while typer loads (not an ordinary line)
        ("convcost.plainyaml", ["analyze", QUICKSTART]),  # while the spec reader loads
        ("convcost.render.plain_report", ["analyze", QUICKSTART]),  # after the analysis
        ("convcost.executor", ["analyze", QUICKSTART, "--execute"]),
        ("convcost.render.check", ["check", QUICKSTART]),
    ],
)
def test_ctrl_c_at_any_time(tmp_path: Path, module: str, args: list[str]) -> None:
    done = cli(*args, env=_failing_render_env(tmp_path, module, "sigint"))
    assert done.returncode == 130
    assert done.stderr.decode() == "error: interrupted\n"


def test_ctrl_c_during_execute(tmp_path: Path, existing_file: Path) -> None:
    env = {
        **os.environ,
        **_failing_render_env(tmp_path, "convcost.executor.run", "announce"),
        "NO_COLOR": "1",
    }
    child = subprocess.Popen(
        [
            sys.executable,
            *("-m", "convcost", "analyze", "densenet121", "--execute", "--repeat", "1000"),
            *("-o", str(existing_file)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_default_sigint,  # noqa: PLW1509 (the tests start no threads)
    )
    assert child.stderr is not None
    assert child.stderr.readline() == b"ready\n"  # the network is about to run
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=TIMEOUT)
    assert child.returncode == 130
    assert stderr == b"error: interrupted\n"
    assert existing_file.read_text() == "keep me\n"


def test_out_of_memory_is_exit_4(tmp_path: Path) -> None:
    done = cli(
        "analyze",
        QUICKSTART,
        env=_failing_render_env(tmp_path, "convcost.render.plain_report", "memory"),
    )
    assert done.returncode == ExitStatus.RESOURCE_LIMIT
    assert done.stderr.decode() == "error: out of memory\n"


def test_convcost_error_anywhere_is_one_line(tmp_path: Path) -> None:
    env = _failing_render_env(tmp_path, "convcost.render.plain_report", "convcost-error")
    done = cli("analyze", QUICKSTART, env=env)
    assert done.returncode == ExitStatus.RESOURCE_LIMIT
    assert done.stderr.decode() == "error: a bound met outside any command's own handling\n"


def test_unreadable_spec_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    done = cli("analyze", str(folder))
    assert done.returncode == ExitStatus.INVALID_INPUT
    no_traceback(done)
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert str(folder) in lines[0]


def test_console_script_goes_through_main() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["convcost"] == "convcost.__main__:main"


def test_import_convcost_loads_no_dependency() -> None:
    # the command line is imported inside convcost.__main__.main, where Ctrl-C is caught;
    # before it, only `import convcost` runs, which must stay light
    code = "import sys, convcost; print(sorted({'yaml', 'typer', 'rich'} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    assert done.stdout == "[]\n"


WATCHED = (
    "yaml",  # never for a spec in the plain subset (convcost.yaml_scalars)
    "typer",
    "rich.console",
    "pydantic",
    "numpy",
    "torch",
    "onnx",
    "convcost.cli.common",
    "convcost.cli.analyze",
    "convcost.cli.compare",
    "convcost.cli.check",
)
"""Modules whose loading the start-up test records."""

RECORD_MODULES = (
    # as the console script runs (convcost.__main__:main); at exit, the watched modules loaded
    "import atexit, sys\n"
    "record = sys.argv.pop(1)\n"
    "def write():\n"
    f"    loaded = [name for name in {WATCHED!r} if name in sys.modules]\n"
    "    with open(record, 'w') as handle: handle.write(' '.join(loaded))\n"
    "atexit.register(write)\n"
    "from convcost.__main__ import main\n"
    "main()\n"
)


@pytest.mark.parametrize(
    ("args", "loaded"),
    [
        (["--version"], ""),
        (["analyze", QUICKSTART, "-f", "json"], "convcost.cli.common convcost.cli.analyze"),
        # the table into a pipe: written without rich (convcost.render.plain_table)
        (["analyze", QUICKSTART], "convcost.cli.common convcost.cli.analyze"),
        (["check", QUICKSTART], "rich.console convcost.cli.common convcost.cli.check"),
        # typer only for what the fast parser leaves to it (help, usage errors)
        (["analyze", "--help"], "typer convcost.cli.common convcost.cli.analyze"),
    ],
)
def test_start_up_loads_only_what_the_command_needs(
    tmp_path: Path, args: list[str], loaded: str
) -> None:
    # issue 18: no pydantic (typer 0.29 coerced options through it), numpy (--execute only),
    # torch or onnx, nor another command's module; --version loads neither typer nor yaml; an
    # ordinary command line is parsed without typer (convcost.cli.fast)
    record = tmp_path / "loaded"
    done = subprocess.run(
        [sys.executable, "-c", RECORD_MODULES, str(record), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == ExitStatus.OK, done.stderr.decode()
    assert record.read_text() == loaded


@pytest.mark.parametrize("command", ["analyze", "compare", "explain"])
def test_output_over_the_spec_is_refused(tmp_path: Path, command: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(Path(QUICKSTART).read_text())
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    result = runner.invoke(app, [command, str(spec), "-o", f"{tmp_path}/./net.yaml"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == (
        f"error: --output {tmp_path}/./net.yaml: is the spec {spec}; "
        "write the report to another file\n"
    )
    assert spec.read_text() == Path(QUICKSTART).read_text()


def test_version_on_closed_standard_output() -> None:
    done = cli("--version", preexec_fn=lambda: (_default_sigint(), os.close(1)))
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr.decode() == "error: standard output is closed\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["analyze", "x.yaml", "--seed", "-1"],
            "error: convcost analyze: Invalid value for '--seed': -1 is not in the range "
            "0<=x<=4294967295. (see 'convcost analyze -h')",
        ),
        (
            ["analyze"],
            "error: convcost analyze: Missing argument 'specs'. (see 'convcost analyze -h')",
        ),
        (["bogus"], "error: convcost: No such command 'bogus'. (see 'convcost -h')"),
        (
            ["check", "x.yaml", "--no-such-flag"],
            "error: convcost check: No such option: --no-such-flag (see 'convcost check -h')",
        ),
    ],
)
def test_usage_errors_are_one_line(args: list[str], expected: str) -> None:
    # click prints a usage block, a hint and the error on four lines; convcost says it in one
    done = cli(*args)
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr.decode() == expected + "\n"
    assert done.stdout == b""
