"""The attack suite: every class of hostile input of issue 16, through the real CLI.

Each case runs ``python -m convcost`` in a subprocess (this tree's code, ``NO_COLOR=1``,
``COLUMNS=100``) with an address-space cap, and asserts the contract:

- it ends within 5 CPU seconds (10 s of wall time) and 300 MiB (the command's own CPU time
  and ``ru_maxrss``, from ``os.wait4`` in :mod:`tests.attacks.launch`; see
  :mod:`tests.attacks.harness`), with no traceback;
- the expected exit code: 2 for invalid input, 4 for a resource refusal, 0/1 where the input is
  legitimately valid (then the case checks what was printed);
- a failing run prints ONE line on stderr, ``error: …``, naming ``file:line:col`` when the input
  is a spec, and the substrings a case requires (the field, the flag, the file: loose enough for
  any wording);
- nothing in the working directory changes on a failing run: ``keep.txt`` (a user's existing
  file, often the ``-o`` target) keeps its bytes and no stray file appears.

Larger families of the same classes run in-process in ``tests/test_attacks_library.py``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from convcost import analyze_all, load_spec
from convcost.render.formats import to_json
from tests.attacks import specs as s
from tests.attacks.harness import Run, assert_bounded, run_cli

KEEP = b"the user's file: must survive any failing run\n"
OK, OVER, INVALID, RESOURCE = 0, 1, 2, 4


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    """CLI arguments; ``{out}`` is the user's existing file ``keep.txt``."""
    spec: str | None = None
    """Written to ``net.yaml`` in the working directory."""
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    exit: int | frozenset[int] = INVALID
    expect: tuple[str, ...] = ()
    """Substrings (case-insensitive) the error line must hold."""
    located: str | None = "net.yaml"
    """The spec file the error must locate as ``file:line:col`` (None: no location needed)."""
    env: Mapping[str, str] = field(default_factory=dict)
    check: Callable[[Run], None] | None = None
    """Extra assertions on a run (for valid inputs: what was printed)."""
    setup: Callable[[Path], None] | None = None
    stdout: str = "pipe"
    """``pipe`` (captured), ``closed`` (``>&-``) or ``full`` (``/dev/full``)."""
    sigint_after: float | None = None
    writes_report: bool = False
    """``check -o`` with an invalid spec among good ones: the report (error rows included) is
    the command's output even at exit 2, so ``keep.txt`` is replaced by it."""


def analyze(spec: str, *extra: str, **options: object) -> dict[str, object]:
    """A case of ``analyze net.yaml -f json -o keep.txt`` on the spec text."""
    return {
        "args": ("analyze", "net.yaml", "-f", "json", "-o", "{out}", *extra),
        "spec": spec,
        **options,
    }


def case(id: str, **fields: object) -> Case:
    return Case(id=id, **fields)  # type: ignore[arg-type]


# --- checks on valid inputs -------------------------------------------------------------------


def shows(*texts: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        out = run.stdout.decode("utf-8", errors="replace")
        for text in texts:
            assert text in out, f"{text!r} not shown literally:\n{out}"
        assert "\x1b]8;" not in out, "a hyperlink escape reached the terminal"

    return check


def no_raw_control(run: Run) -> None:
    """A name holding control characters was refused (exit 2) or printed escaped."""
    if run.exit_code != OK:
        return
    for stream, text in (("stdout", run.stdout.decode("utf-8", "replace")), ("stderr", run.stderr)):
        assert "\x1b" not in text, f"a raw ESC reached {stream}: {text!r}"
        assert "\u202e" not in text, f"a raw bidi override reached {stream}"


def no_injected_command(run: Run) -> None:
    """The ``::warning …::pwned`` inside a name never starts a line (convcost's own
    ``::error``/``::warning file=net.yaml`` annotations may)."""
    text = run.stdout.decode("utf-8", "replace") + run.stderr
    injected = [line for line in text.splitlines() if re.match(r"\s*::warning[^\n]*::pwned", line)]
    assert not injected, f"a name issued a workflow command: {injected}"


def no_formula_cells(run: Run) -> None:
    if run.exit_code != OK:
        return
    cells = [cell for row in csv.reader(io.StringIO(run.stdout.decode())) for cell in row]
    formulas = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or re.match(r"-[^\d]", c)]
    assert not formulas, f"CSV cells a spreadsheet runs as formulas: {formulas}"


def balanced_markdown(run: Run) -> None:
    """Every row of each markdown table has as many unescaped pipes as its header."""
    if run.exit_code not in (OK, OVER):
        return
    header = None
    for line in run.stdout.decode().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        pipes = len(re.findall(r"(?<!\\)\|", line))
        if header is None:
            header = pipes
        assert pipes == header, f"a name broke the markdown table: {line!r}"


def ascii_ok(run: Run) -> None:
    assert run.stdout, "nothing printed"
    run.stdout.decode("ascii")  # a non-ASCII byte in a pure-ASCII stream is a bug


def reports_good(fmt: str) -> Callable[[Run], None]:
    """``check`` on a directory: the good specs are still reported, in every format."""

    def check(run: Run) -> None:
        out = run.stdout.decode("utf-8", "replace")
        if fmt == "json":
            json.loads(out)
        for name in s.GOOD:  # each good spec file is still checked and reported
            assert name in out, f"{name} not reported ({fmt}):\n{out}"

    return check


def vgg16_said(run: Run) -> None:
    """A missing ``vgg16.yaml`` is an error, or a warning that the bundled model was used."""
    if run.exit_code == OK:
        assert re.search(r"vgg16\.yaml.*(bundled|zoo)|(bundled|zoo).*vgg16\.yaml", run.stderr), (
            run.describe()
        )
    else:
        assert run.exit_code == INVALID, run.describe()
        assert "vgg16.yaml" in run.stderr, run.describe()


def not_a_directory(run: Run) -> None:
    assert "is a directory" not in run.stderr, run.describe()


def no_nonetype(run: Run) -> None:
    assert "NoneType" not in run.stderr, run.describe()


def says_float(run: Run) -> None:
    assert re.search(r"4\.0|float", run.stderr, re.IGNORECASE), run.describe()


def blames_flag(run: Run) -> None:
    assert "budget.receptive_field" not in run.stderr, run.describe()


def interrupted(run: Run) -> None:
    assert run.exit_code in (130, -2), run.describe()
    assert len(run.stderr_lines) <= 1, run.describe()


def plain_numbers(run: Run) -> None:
    if run.exit_code == OK:
        out = run.stdout.decode()
        assert not re.search(r"\binf\b|\bnan\b|e\+\d", out, re.IGNORECASE), out


# --- the cases ----------------------------------------------------------------------------------

ANY_REFUSAL = frozenset({INVALID, RESOURCE})

RESOURCE_CASES = [
    case(
        "alias-bomb-unused-blocks-depth6", **analyze(s.alias_bomb(6, used=False)), exit=ANY_REFUSAL
    ),
    case("alias-bomb-used-kernel-depth7", **analyze(s.alias_bomb(7, used=True)), exit=ANY_REFUSAL),
    case("alias-recursive-layers", **analyze("name: r\ninput: [3, 8, 8]\nlayers: &a [*a]\n")),
    case("alias-recursive-mapping", **analyze(s.one("conv: &a {out: 4, kernel: 3, x: *a}"))),
    case(
        "repeat-1e9",
        **analyze(s.one("{relu: {}, repeat: 1000000000}")),
        exit=RESOURCE,
        expect=("layer",),
    ),
    case(
        "repeat-just-past-limit",
        **analyze(s.one("{relu: {}, repeat: 1000001}")),
        exit=RESOURCE,
        expect=("layer",),
    ),
    case(
        "nested-repeat-1e8", **analyze(s.nested_repeats(4, 100)), exit=RESOURCE, expect=("layer",)
    ),
    case("doubling-blocks-2^30", **analyze(s.doubling(30)), exit=RESOURCE, expect=("layer",)),
    case(
        "max-layers-flag-refuses",
        **analyze(s.one("{relu: {}, repeat: 1500}"), "--max-layers", "1000"),
        exit=RESOURCE,
        expect=("1,000", "--max-layers"),
    ),
    case(
        "max-layers-flag-raises",
        args=("analyze", "net.yaml", "-f", "json", "--max-layers", "2000"),
        spec=s.one("{relu: {}, repeat: 1500}"),
        exit=OK,
    ),
    # --max-spec-bytes and --max-yaml-nodes raise the input bounds: never the aliases' share
    case(
        "max-yaml-nodes-raised-alias-bomb",
        **analyze(s.alias_bomb(9, used=True), "--max-yaml-nodes", "9223372036854775807"),
        exit=RESOURCE,
        expect=("MAX_ALIAS_NODES",),
    ),
    case(
        "max-yaml-nodes-raised-alias-bomb-in-a-param",
        **analyze(s.alias_bomb(9, used=False), "--max-yaml-nodes", "9223372036854775807"),
        exit=RESOURCE,
        expect=("MAX_ALIAS_NODES",),
    ),
    case(
        "max-yaml-nodes-flag-refuses",
        **analyze(s.one("{relu: {}}"), "--max-yaml-nodes", "5"),
        exit=RESOURCE,
        expect=("max_yaml_nodes",),
    ),
    case(
        "max-spec-bytes-flag-refuses",
        **analyze(s.one("{relu: {}}"), "--max-spec-bytes", "10"),
        exit=RESOURCE,
        expect=("max_spec_bytes", "net.yaml"),
        located=None,
    ),
    case(
        "max-spec-bytes-at-int64-max",
        args=("analyze", "net.yaml", "-f", "json", "--max-spec-bytes", "9223372036854775807"),
        spec=s.one("{relu: {}}"),
        exit=OK,
    ),
    case(
        "max-spec-bytes-past-int64",
        **analyze(s.one("{relu: {}}"), "--max-spec-bytes", "8EiB"),
        expect=("--max-spec-bytes",),
        located=None,
    ),
    case("squaring-defaults-30", **analyze(s.squaring(30))),
    case("expression-1000-terms", **analyze(s.expression("+".join(["1"] * 1000))), expect=("out",)),
    case("expression-comment", **analyze(s.expression("8 # comment")), expect=("out",)),
    case(
        "int-5000-digits-out",
        **analyze(s.one(f"conv: {{out: {s.HUGE}, kernel: 3}}")),
        expect=("out",),
    ),
    case(
        "int-5000-digits-name",
        **analyze(f"name: {s.HUGE}\ninput: [3, 8, 8]\nlayers:\n  - relu: {{}}\n"),
        expect=("name",),
    ),
    case(
        "int-past-int64-kernel",
        **analyze(s.one("conv: {out: 4, kernel: 9223372036854775808}")),
        expect=("kernel",),
    ),
    case(
        "values-near-1e48-render",
        args=("analyze", "net.yaml", "--exact"),
        spec=s.one(
            "conv: {out: 1000000000000, kernel: 1}",
            input_shape="[1000000000000, 1000000000000, 1000000000000]",
        ),
        exit=frozenset({OK, INVALID, RESOURCE}),
        check=plain_numbers,
        located=None,
    ),
    case("flow-list-900-deep", **analyze(s.flow_nesting(900)), expect=("input",)),
    case("flow-map-900-deep", **analyze(s.map_nesting(900))),
    case("block-chain-350", **analyze(s.block_chain(350))),
    case(
        "dev-zero",
        args=("analyze", "/dev/zero", "-o", "{out}"),
        exit=ANY_REFUSAL,
        expect=("/dev/zero",),
        located=None,
    ),
    case(
        "fifo-without-writer",
        args=("analyze", "pipe.yaml", "-o", "{out}"),
        setup=lambda d: os.mkfifo(d / "pipe.yaml"),
        expect=("pipe.yaml",),
        located=None,
    ),
    case(
        "40MB-unknown-key-line-4",
        args=("analyze", "big.yaml", "-o", "{out}"),
        setup=lambda d: s.big_file(d / "big.yaml", 40),
        exit=ANY_REFUSAL,
        expect=("big.yaml",),
        located=None,
    ),
]

TAGS = {
    "tag-foo": "conv: {out: !foo 4, kernel: 3}",
    "tag-python-name": "conv: {out: !!python/name:os.system 4, kernel: 3}",
    "tag-python-none": "conv: {out: 4, kernel: !!python/none ''}",
    "merge-key": "conv: {<<: {out: 4}, kernel: 3}",
}

HUGE_RESAMPLING = s.plain(
    "  - upsample: {scale: 1000000000, mode: bicubic}\n"
    "  - pad: {padding: 9223372036854775807, mode: replicate}\n"
    "  - crop: {size: 1}\n",
    input_shape="[1, 8, 8]",
)

CRASH_CASES = [
    *(case(f"analyze-{tag}", **analyze(s.one(layer))) for tag, layer in TAGS.items()),
    *(
        case(
            f"check-dir-{tag}",
            args=("check", "models"),
            files={
                **{f"models/{k}": v for k, v in s.GOOD.items()},
                "models/bad.yaml": s.one(layer, extra="budget: {params: 1M}\n"),
            },
            located="bad.yaml",
            check=reports_good("table"),
        )
        for tag, layer in TAGS.items()
    ),
    *(
        case(
            f"check-dir-tag-foo-{fmt}",
            args=("check", "models", "-f", fmt, "-o", "{out}"),
            files={
                **{f"models/{k}": v for k, v in s.GOOD.items()},
                "models/bad.yaml": s.one(TAGS["tag-foo"], extra="budget: {params: 1M}\n"),
            },
            located="bad.yaml",
            writes_report=True,
        )
        for fmt in ("markdown",)
    ),
    *(
        case(
            f"check-dir-tag-foo-{fmt}-stdout",
            args=("check", "models", "-f", fmt),
            files={
                **{f"models/{k}": v for k, v in s.GOOD.items()},
                "models/bad.yaml": s.one(TAGS["tag-foo"], extra="budget: {params: 1M}\n"),
            },
            located="bad.yaml",
            check=reports_good(fmt),
        )
        for fmt in ("json", "junit")
    ),
    case(
        "execute-ceil-pool-window-wider-than-input",
        args=("analyze", "net.yaml", "--execute"),
        spec=s.one("avgpool: {kernel: 3, ceil_mode: true}", input_shape="[1, 2, 2]"),
        exit=OK,
    ),
    case(
        "execute-multiply-three-broadcast",
        args=("analyze", "net.yaml", "--execute"),
        spec=s.plain(
            "  - multiply:\n      a: [{avgpool: {kernel: 4}}]\n      b: [{avgpool: {kernel: [4, 1]}}]\n      c: [{avgpool: {kernel: [1, 4]}}]\n",
            input_shape="[2, 4, 4]",
        ),
        exit=OK,
    ),
    # resampling to sizes past any memory: exact integers in analyze, refused by --execute
    case(
        "resample-huge-sizes-analyze",
        args=("analyze", "net.yaml", "-f", "json"),
        spec=HUGE_RESAMPLING,
        exit=OK,
    ),
    case(
        "resample-huge-sizes-execute",
        args=("analyze", "net.yaml", "--execute"),
        spec=HUGE_RESAMPLING,
        exit=RESOURCE,
        expect=("--max-memory",),
        located=None,
    ),
]

MARKUP_CASES = [
    case(
        "markup-close-analyze",
        args=("analyze", "net.yaml"),
        spec=s.titled("[/]"),
        exit=OK,
        check=shows("[/]"),
    ),
    case(
        "markup-close-compare",
        args=("compare", "net.yaml", "net2.yaml"),
        spec=s.titled("[/]"),
        files={"net2.yaml": s.titled("[bold]b")},
        exit=OK,
        check=shows("[/]", "[bold]b"),
    ),
    case(
        "markup-close-check",
        args=("check", "net.yaml"),
        spec=s.titled("[/]") + "budget: {params: 1M}\n",
        exit=OK,
        check=shows("[/]"),
    ),
    case(
        "markup-close-execute",
        args=("analyze", "net.yaml", "--execute"),
        spec=s.titled("[/]"),
        exit=OK,
        check=shows("[/]"),
    ),
    case(
        "markup-close-explain",
        args=("explain", "net.yaml"),
        spec=s.titled("[/]"),
        exit=OK,
        check=shows("[/]"),
    ),
    case(
        "markup-resnet-v2",
        args=("analyze", "net.yaml"),
        spec=s.titled("resnet[v2]"),
        exit=OK,
        check=shows("resnet[v2]"),
    ),
    case(
        "markup-link",
        args=("analyze", "net.yaml"),
        spec=s.titled("[link=https://evil/x]click[/link]"),
        exit=OK,
        check=shows("[link=https://evil/x]click[/link]"),
    ),
    case(
        "markup-variant-names",
        args=("compare", "net.yaml"),
        spec="name: v\ninput: [3, 8, 8]\nvariants:\n  '[/]': [{relu: {}}]\n  'a[red]': [{relu: {}}]\n",
        exit=OK,
        check=shows("[/]", "a[red]"),
    ),
]

INJECTION_CASES = [
    case(
        "esc-name-table",
        args=("analyze", "net.yaml"),
        spec=s.named(r"\e[31mred\e[0m"),
        exit=frozenset({OK, INVALID}),
        check=no_raw_control,
    ),
    case(
        "esc-name-explain",
        args=("explain", "net.yaml"),
        spec=s.named(r"\e[31m"),
        exit=frozenset({OK, INVALID}),
        check=no_raw_control,
    ),
    case(
        "bidi-name",
        args=("analyze", "net.yaml"),
        spec=s.named(r"\u202eabc"),
        exit=frozenset({OK, INVALID}),
        check=no_raw_control,
    ),
    case(
        "newline-warning-check-gha",
        args=("check", "net.yaml", "--max-params", "1"),
        spec=s.titled(r"x\n::warning file=a.py::pwned"),
        env={"GITHUB_ACTIONS": "true"},
        exit=frozenset({OVER, INVALID}),
        check=no_injected_command,
    ),
    case(
        "newline-name-table",
        args=("analyze", "net.yaml"),
        spec=s.titled(r"x\n::warning::pwned"),
        exit=frozenset({OK, INVALID}),
        check=no_injected_command,
    ),
    case(
        "csv-formulas",
        args=("analyze", "net.yaml", "-f", "csv"),
        spec=s.plain(
            "".join(
                f"  - relu: {{}}\n    name: '{n}'\n"
                for n in ('=HYPERLINK("http://x")', "+cmd", "@SUM(1)", "-2+3")
            )
        ),
        exit=frozenset({OK, INVALID}),
        check=no_formula_cells,
    ),
    case(
        "csv-formula-compare",
        args=("compare", "net.yaml", "-f", "csv"),
        spec=s.named("=1+2"),
        exit=frozenset({OK, INVALID}),
        check=no_formula_cells,
    ),
    case(
        "markdown-pipe-analyze",
        args=("analyze", "net.yaml", "-f", "markdown"),
        spec=s.named("a|b"),
        exit=frozenset({OK, INVALID}),
        check=balanced_markdown,
    ),
    case(
        "markdown-pipe-compare",
        args=("compare", "net.yaml", "-f", "markdown"),
        spec=s.named("a|b|c"),
        exit=frozenset({OK, INVALID}),
        check=balanced_markdown,
    ),
    case(
        "markdown-pipe-check",
        args=("check", "net.yaml", "-f", "markdown"),
        spec=s.named("a|b") + "budget: {params: 1M}\n",
        exit=frozenset({OK, INVALID}),
        check=balanced_markdown,
    ),
]

ASCII = {"PYTHONIOENCODING": "ascii"}
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}
ENCODING_CASES = [
    case(
        "ascii-analyze-table",
        args=("analyze", "quickstart.yaml"),
        files=s.GOOD,
        env=ASCII,
        exit=OK,
        check=ascii_ok,
    ),
    case(
        "ascii-analyze-json-nonascii-name",
        args=("analyze", "net.yaml", "-f", "json"),
        spec=s.named("café×"),
        env=ASCII,
        exit=OK,
        check=ascii_ok,
    ),
    case(
        "ascii-check-within-budget",
        args=("check", "quickstart.yaml"),
        files=s.GOOD,
        env=ASCII,
        exit=OK,
        check=ascii_ok,
    ),
    case(
        "ascii-compare",
        args=("compare", "googlenet.yaml"),
        files=s.GOOD,
        env=ASCII,
        exit=OK,
        check=ascii_ok,
    ),
    case("ascii-zoo", args=("zoo",), env=ASCII, exit=OK, check=ascii_ok),
    case(
        "ascii-explain",
        args=("explain", "quickstart.yaml"),
        files=s.GOOD,
        env=ASCII,
        exit=OK,
        check=ascii_ok,
    ),
    case(
        "latin1-analyze-table",
        args=("analyze", "quickstart.yaml"),
        files=s.GOOD,
        env={"PYTHONIOENCODING": "latin-1"},
        exit=OK,
    ),
    case(
        "c-locale-analyze-table",
        args=("analyze", "quickstart.yaml"),
        files=s.GOOD,
        env=C_LOCALE,
        exit=OK,
        check=ascii_ok,
    ),
    case(
        "c-locale-check-markdown",
        args=("check", "quickstart.yaml", "-f", "markdown"),
        files=s.GOOD,
        env=C_LOCALE,
        exit=OK,
        check=ascii_ok,
    ),
]

Q = {"files": s.GOOD, "located": None}
OPTION_CASES = [
    case(
        "seed-negative",
        args=("analyze", "quickstart.yaml", "--execute", "--seed", "-1", "-o", "{out}"),
        expect=("--seed",),
        **Q,
    ),
    case(
        "min-rf-superscript",
        args=("check", "quickstart.yaml", "--min-receptive-field", "²"),
        expect=("--min-receptive-field",),
        **Q,
    ),
    case(
        "min-rf-word-blames-flag",
        args=("check", "quickstart.yaml", "--min-receptive-field", "abc"),
        expect=("--min-receptive-field",),
        check=blames_flag,
        **Q,
    ),
    case(
        "max-memory-5000-digits",
        args=("analyze", "quickstart.yaml", "--execute", "--max-memory", s.HUGE),
        expect=("--max-memory",),
        **Q,
    ),
    case(
        "max-memory-1e400",
        args=("analyze", "quickstart.yaml", "--execute", "--max-memory", "1e400"),
        expect=("--max-memory",),
        **Q,
    ),
    case(
        "max-memory-huge-unit",
        args=(
            "analyze",
            "quickstart.yaml",
            "--execute",
            "--max-memory",
            "99999999999999999999999TiB",
        ),
        expect=("--max-memory",),
        **Q,
    ),
    case(
        "max-memory-underscores",
        args=("analyze", "quickstart.yaml", "--execute", "--max-memory", "1__0"),
        expect=("--max-memory",),
        **Q,
    ),
    case(
        "max-params-5000-digits",
        args=("check", "quickstart.yaml", "--max-params", s.HUGE),
        expect=("--max-params",),
        **Q,
    ),
    case(
        "batch-zero", args=("analyze", "quickstart.yaml", "--batch", "0"), expect=("--batch",), **Q
    ),
    case(
        "batch-past-int64",
        args=("analyze", "quickstart.yaml", "--batch", "99999999999999999999"),
        expect=("--batch",),
        **Q,
    ),
    case(
        "batch-5000-digits",
        args=("analyze", "quickstart.yaml", "--batch", s.HUGE),
        expect=("--batch",),
        **Q,
    ),
    case(
        "depth-zero", args=("analyze", "quickstart.yaml", "--depth", "0"), expect=("--depth",), **Q
    ),
    case(
        "repeat-1e12",
        args=("analyze", "quickstart.yaml", "--execute", "--repeat", "1000000000000"),
        expect=("--repeat",),
        **Q,
    ),
    case(
        "compare-input-7d",
        args=("compare", "quickstart.yaml", "--input", "1x2x3x4x5x6x7"),
        expect=("--input",),
        **Q,
    ),
    case("stdout-closed", args=("analyze", "quickstart.yaml", "-f", "json"), stdout="closed", **Q),
    case("stdout-dev-full", args=("analyze", "quickstart.yaml", "-f", "json"), stdout="full", **Q),
    case("check-stdout-dev-full", args=("check", "quickstart.yaml"), stdout="full", **Q),
    case(
        "output-is-directory",
        args=("analyze", "quickstart.yaml", "-o", "models"),
        setup=lambda d: (d / "models").mkdir(),
        expect=("models",),
        **Q,
    ),
    case(
        "output-missing-parent",
        args=("analyze", "quickstart.yaml", "-o", "no/such/out.json"),
        expect=("no/such",),
        **Q,
    ),
    case("output-empty-name", args=("analyze", "quickstart.yaml", "-o", ""), **Q),
    case(
        "output-unwritable",
        args=("analyze", "quickstart.yaml", "-o", "/proc/version"),
        expect=("/proc/version",),
        **Q,
    ),
    case(
        "output-directory-before-execute",
        args=("analyze", "resnet50", "--execute", "-o", "models"),
        setup=lambda d: (d / "models").mkdir(),
        expect=("models",),
        **Q,
    ),
    case(
        "check-output-directory",
        args=("check", "quickstart.yaml", "-o", "models"),
        setup=lambda d: (d / "models").mkdir(),
        expect=("models",),
        **Q,
    ),
    case("analyze-empty-argument", args=("analyze", "", "-o", "{out}"), check=not_a_directory, **Q),
    case(
        "missing-vgg16-yaml",
        args=("analyze", "vgg16.yaml", "-f", "json"),
        exit=frozenset({OK, INVALID}),
        check=vgg16_said,
        **Q,
    ),
]


def _baseline(mutate: Callable[[dict[str, object]], object]) -> str:
    data = json.loads(to_json(list(analyze_all(load_spec(s.ROOT / "specs" / "quickstart.yaml")))))
    result = mutate(data)
    return result if isinstance(result, str) else json.dumps(data)


def _totals(key: str, value: object) -> Callable[[dict[str, object]], None]:
    def mutate(data: dict[str, object]) -> None:
        data["totals"][key] = value  # type: ignore[index]

    return mutate


def _raw(old: str, new: str) -> Callable[[dict[str, object]], str]:
    return lambda data: json.dumps(data).replace(old, new, 1)


BASELINES = {
    "infinity": _raw('"params": 57130', '"params": Infinity'),
    "totals-list": lambda data: data.update(totals=[]),
    "true": _totals("params", True),
    "nested-100000": lambda data: s.deep_json(100_000),
}
BASELINE_CASES = [
    case(
        f"baseline-{name}",
        args=("check", "quickstart.yaml", "--baseline", "base.json", "-o", "{out}"),
        files={**s.GOOD, "base.json": _baseline(mutate)},
        expect=("base.json",),
        located=None,
    )
    for name, mutate in BASELINES.items()
]

VARIANT_EMPTY_INPUT = "name: v\ninput: [3, 8, 8]\nvariants:\n  a: {{input: {}, layers: [{{relu: {{}}}}]}}\n  b: [{{relu: {{}}}}]\n"
VALIDATION_CASES = [
    case(
        "yaml11-octal-budget",
        **analyze(s.one("relu: {}", extra="budget: {params: 017}\n")),
        expect=("params",),
    ),
    case(
        "yaml11-sexagesimal-out", **analyze(s.one("conv: {out: 1:30, kernel: 3}")), expect=("out",)
    ),
    case(
        "yaml11-octal-check",
        args=("check", "net.yaml"),
        spec=s.one("relu: {}", extra="budget: {params: 017}\n"),
        expect=("params",),
    ),
    case(
        "variant-input-empty-list", **analyze(VARIANT_EMPTY_INPUT.format("[]")), expect=("input",)
    ),
    case(
        "analyze-invalid-budget",
        **analyze(s.one("relu: {}", extra="budget: {parms: 5M}\n")),
        expect=("parms",),
    ),
    case("branch-name-empty", **analyze(s.plain("  - add:\n      '': []\n      b: []\n"))),
    case("branch-name-newline", **analyze(s.plain('  - add:\n      "a\\nb": []\n      b: []\n'))),
    case(
        "float-tag-message",
        **analyze(s.one("conv: {out: !!float 4, kernel: 3}")),
        expect=("out",),
        check=says_float,
    ),
    case(
        "budget-null-message",
        **analyze(s.one("relu: {}", extra="budget: {params: null}\n")),
        expect=("params",),
        check=no_nonetype,
    ),
]

LONG_STACK = "name: long\ninput: [3, 8, 8]\nlayers:\n" + "  - conv: {out: 3, kernel: 1}\n" * 50_000
"""Seconds of CPU to analyze, so Ctrl-C lands inside the command on any machine."""

INTERRUPT_CASES = [
    case(
        f"ctrl-c-after-{delay}s",
        args=("analyze", "net.yaml", "-o", "{out}"),
        spec=LONG_STACK,
        sigint_after=delay,
        exit=frozenset({130, -2}),
        check=interrupted,
        located=None,
    )
    for delay in (0.15, 0.4)  # CPU seconds used by the command (harness.run_cli)
]

MAX = "9223372036854775807"
CUSTOM_CASES = [
    # a custom layer's expressions are bounded as ${…} is: every step 256 bits, results 2**63 − 1
    case("custom-macs-past-int64", **analyze(s.one(f'custom: {{macs: "{MAX} + 1"}}')),
         expect=("custom.macs", "largest integer")),
    case("custom-ops-product-chain", **analyze(s.one(f'custom: {{ops: "{"*".join([MAX] * 12)}"}}')),
         expect=("custom.ops", "bits")),
    case("custom-params-5000-digits", **analyze(s.one(f"custom: {{params: {s.HUGE}}}")),
         expect=("custom.params",)),
    case("custom-expression-deep", **analyze(s.one(f'custom: {{ops: "{"-" * 40}c"}}')),
         expect=("custom.ops", "nests")),
    case("custom-expression-long", **analyze(s.one(f'custom: {{ops: "{"+".join(["c"] * 200)}"}}')),
         expect=("custom.ops", "characters")),
    case("custom-negative-size", **analyze(s.one('custom: {shape: [c, "h - 100", w]}')),
         expect=("custom.shape", ">= 1")),
    case("custom-negative-params", **analyze(s.one('custom: {params: "c - 4"}')),
         expect=("custom.params", ">= 0")),
    case("custom-shape-five-sizes", **analyze(s.one("custom: {shape: [1, 2, 3, 4, 5]}")),
         expect=("custom.shape", "1 to 4")),
    case("custom-shape-empty", **analyze(s.one("custom: {shape: []}")),
         expect=("custom.shape", "1 to 4")),
    case("custom-shape-nested", **analyze(s.one("custom: {shape: [[1, 2], 3]}")),
         expect=("custom.shape",)),
    case("custom-params-mapping", **analyze(s.one("custom: {params: {a: 1}}")),
         expect=("custom.params",)),
    # valid: 2**63 − 1 on every axis is a shape like any other (no arithmetic allocates)
    case(
        "custom-shape-int64-everywhere",
        args=("analyze", "net.yaml", "-f", "json"),
        spec=s.plain(f"  - custom: {{shape: [{MAX}, {MAX}, {MAX}]}}\n  - conv: {{out: 2, kernel: 3}}\n"),
        check=lambda run: json.loads(run.stdout),
        exit=OK,
        located=None,
    ),
    case("custom-execute-huge-params", args=("analyze", "net.yaml", "--execute"),
         spec=s.one(f"custom: {{params: {MAX}}}"), exit=RESOURCE, located=None,
         expect=("--execute",)),
    case("custom-execute-shape-change", args=("analyze", "net.yaml", "--execute"),
         spec=s.one("custom: {shape: [8, h, w]}"), exit=3, expect=("cannot run custom",)),
    # attention's counts grow as heads·P²·d: exact integers, and --execute refuses up front
    case("attention-int64-heads-and-dims", args=("analyze", "net.yaml", "-f", "json"),
         spec=s.one(f"attention: {{heads: {MAX}, key_dim: {MAX}, value_dim: {MAX}, out: {MAX}}}",
                    input_shape="[8, 4096, 4096]"),
         exit=OK, located=None, check=lambda run: json.loads(run.stdout)),
    case("attention-execute-huge-map", args=("analyze", "net.yaml", "--execute"),
         spec=s.one("attention: {heads: 8}", input_shape="[8, 4096, 4096]"), exit=RESOURCE,
         located=None, expect=("--execute",)),
]  # fmt: skip

CASES = [
    *RESOURCE_CASES,
    *CRASH_CASES,
    *MARKUP_CASES,
    *INJECTION_CASES,
    *ENCODING_CASES,
    *OPTION_CASES,
    *BASELINE_CASES,
    *VALIDATION_CASES,
    *INTERRUPT_CASES,
    *CUSTOM_CASES,
]


def _snapshot(directory: Path) -> dict[str, bytes | None]:
    return {
        str(path.relative_to(directory)): path.read_bytes() if path.is_file() else None
        for path in sorted(directory.rglob("*"))
    }


def _prepare(item: Case, work: Path) -> None:
    (work / "keep.txt").write_bytes(KEEP)
    if item.spec is not None:
        (work / "net.yaml").write_text(item.spec, encoding="utf-8")
    for name, content in item.files.items():
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    if item.setup is not None:
        item.setup(work)


def _run(item: Case, work: Path) -> Run:
    args = [arg.replace("{out}", "keep.txt") for arg in item.args]
    if item.stdout == "full":
        with open("/dev/full", "wb") as full:
            return run_cli(
                args, cwd=work, env=item.env, stdout=full, sigint_after=item.sigint_after
            )
    return run_cli(
        args,
        cwd=work,
        env=item.env,
        close_stdout=item.stdout == "closed",
        sigint_after=item.sigint_after,
    )


def assert_error_line(run: Run, item: Case) -> None:
    """One line, ``error: …``, with the spec's location and the expected substrings (under
    ``GITHUB_ACTIONS=true``, besides the workflow commands ``check`` adds)."""
    lines = run.stderr_lines
    if item.env.get("GITHUB_ACTIONS") == "true":
        lines = [line for line in lines if not line.startswith(("::error ", "::warning "))]
    assert len(lines) == 1, f"expected one error line: {run.describe()}"
    line = lines[0]
    assert line.startswith("error: "), run.describe()
    if item.located is not None:
        assert re.search(rf"{re.escape(item.located)}:\d+:\d+", line), (
            f"no {item.located}:line:col in {line!r}"
        )
    for text in item.expect:
        assert text.casefold() in line.casefold(), f"{text!r} not in {line!r}"


@pytest.mark.parametrize("item", CASES, ids=[item.id for item in CASES])
def test_attack(item: Case, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _prepare(item, work)
    before = _snapshot(work)
    run = _run(item, work)
    allowed = item.exit if isinstance(item.exit, frozenset) else frozenset({item.exit})
    assert_bounded(run)
    assert run.exit_code in allowed, (
        f"exit {run.exit_code} not in {sorted(allowed)}: {run.describe()}"
    )
    if run.exit_code in (INVALID, RESOURCE):
        assert_error_line(run, item)
    if item.writes_report:
        report = (work / "keep.txt").read_text(encoding="utf-8")
        assert "bad.yaml" in report
        for name in s.GOOD:  # the good specs are still reported, in the file
            assert name in report, f"{name} not reported:\n{report}"
    elif run.exit_code not in (OK, OVER):
        assert _snapshot(work) == before, "a failing run changed the user's files"
    else:
        assert (work / "keep.txt").read_bytes() == KEEP
    if item.check is not None:
        item.check(run)


def test_case_ids_are_unique() -> None:
    ids = [item.id for item in CASES]
    assert len(ids) == len(set(ids))


def test_harness_accepts_valid_specs(tmp_path: Path) -> None:
    """The harness itself: a valid spec and a plain invalid one meet their halves of the contract."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "quickstart.yaml").write_text(s.GOOD["quickstart.yaml"], encoding="utf-8")
    good = run_cli(["analyze", "quickstart.yaml", "-f", "json"], cwd=work)
    assert_bounded(good)
    assert good.exit_code == OK, good.describe()
    assert json.loads(good.stdout)["name"] == "quickstart"
    assert good.peak_mb > 10, "ru_maxrss of the child was not measured"
    (work / "net.yaml").write_text(s.one("conv: {out: 4, kernel: 0}"), encoding="utf-8")
    bad = run_cli(["analyze", "net.yaml"], cwd=work)
    assert bad.exit_code == INVALID, bad.describe()
    assert_error_line(bad, Case(id="kernel-0", args=(), expect=("kernel",)))
