"""The attack suite's larger families, in-process through the library API.

The same classes as ``tests/test_attacks.py`` (which runs one representative of each through
the CLI), here crossed with every field, position and size: each case runs under
:func:`tests.attacks.harness.bounded` (a 5 s interval timer, an address-space cap, ``tracemalloc``
for the peak) and must end in a :class:`convcost.ConvcostError` whose message starts with
``net.yaml:line:col:``, is one line, and names the field; or, where the input is valid, in a
report every renderer prints without letting the text escape its format.

Only inputs that cannot exhaust the machine before the guards act run here (alias bombs,
layer bombs and squaring chains at full size are the subprocess suite's); the resource bounds
are exercised at small scale through :class:`convcost.limits.Limits`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

import convcost
from convcost.baseline import load_baseline
from convcost.errors import ConvcostError, ResourceLimitError, SpecError
from convcost.limits import (
    DEFAULT_LIMITS,
    MAX_BLOCK_DEPTH,
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_LENGTH,
    Limits,
)
from convcost.render import formats
from convcost.render.table import print_reports
from tests.attacks import specs as s
from tests.attacks.harness import MEMORY_LIMIT_MB, TIME_LIMIT, Measured, bounded

LOCATED = r"^net\.yaml:\d+:\d+: "
SOURCE = "net.yaml"


def _analyze(text: str, limits: Limits | None = None) -> list[convcost.Report]:
    spec = convcost.parse_spec(text, source=SOURCE, limits=limits or DEFAULT_LIMITS)
    return list(convcost.analyze_all(spec))


def _within_bounds(measured: Measured) -> None:
    assert measured.seconds <= TIME_LIMIT, f"took {measured.seconds:.1f} s"
    assert measured.peak_mb <= MEMORY_LIMIT_MB, f"peaked at {measured.peak_mb:.0f} MiB"


def refused(
    text: str,
    *,
    expect: tuple[str, ...] = (),
    error: type[ConvcostError] = ConvcostError,
    limits: Limits | None = None,
) -> str:
    """``text`` is refused, within the bounds, by one located line naming ``expect``."""
    measured = Measured()
    with pytest.raises(error, match=LOCATED) as info:
        bounded(lambda: _analyze(text, limits), measured)
    _within_bounds(measured)
    message = str(info.value)
    one_line(message)
    for part in expect:
        assert part in message, f"{part!r} not in {message!r}"
    return message


def one_line(message: str) -> None:
    assert re.match(LOCATED, message), f"no net.yaml:line:col: {message!r}"
    assert not re.search(r"[\x00-\x1f\x7f\u202e]", message), f"not one printable line: {message!r}"


def attempt(text: str) -> list[convcost.Report] | ConvcostError:
    """The reports, or the ConvcostError that refused ``text`` (within the bounds)."""
    measured = Measured()
    result: list[convcost.Report] | ConvcostError
    try:
        result = bounded(lambda: _analyze(text), measured)
    except ConvcostError as error:
        result = error
    _within_bounds(measured)
    return result


def accepted(text: str, limits: Limits | None = None) -> list[convcost.Report]:
    measured = Measured()
    reports = bounded(lambda: _analyze(text, limits), measured)
    _within_bounds(measured)
    return reports


# --- integers past every bound, in every field -------------------------------------------------

INT_FIELDS = {
    "conv.out": ("conv: {{out: {v}, kernel: 3}}", "out"),
    "conv.kernel": ("conv: {{out: 4, kernel: {v}}}", "kernel"),
    "conv.kernel-list": ("conv: {{out: 4, kernel: [3, {v}]}}", "kernel"),
    "conv.stride": ("conv: {{out: 4, kernel: 3, stride: {v}}}", "stride"),
    "conv.padding": ("conv: {{out: 4, kernel: 3, padding: {v}}}", "padding"),
    "conv.dilation": ("conv: {{out: 4, kernel: 3, dilation: {v}}}", "dilation"),
    "conv.groups": ("conv: {{out: 4, kernel: 3, groups: {v}}}", "groups"),
    "maxpool.kernel": ("maxpool: {{kernel: {v}}}", "kernel"),
    "avgpool.stride": ("avgpool: {{kernel: 2, stride: {v}}}", "stride"),
    "linear.out": ("linear: {{out: {v}}}", "out"),
    "repeat": ("{{relu: {{}}, repeat: {v}}}", "repeat"),
}
HUGE_VALUES = {"5000-digits": s.HUGE, "2^63": str(2**63), "-5000-digits": "-" + s.HUGE}


@pytest.mark.parametrize("value", HUGE_VALUES.values(), ids=HUGE_VALUES.keys())
@pytest.mark.parametrize(("template", "field"), INT_FIELDS.values(), ids=INT_FIELDS.keys())
def test_huge_integer_in_a_field(template: str, field: str, value: str) -> None:
    refused(s.one(template.format(v=value)), expect=(field,))


@pytest.mark.parametrize("value", HUGE_VALUES.values(), ids=HUGE_VALUES.keys())
@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: {v}\ninput: [3, 8, 8]\nlayers: [{{relu: {{}}}}]\n", "name"),
        ("name: n\ninput: [3, {v}, 8]\nlayers: [{{relu: {{}}}}]\n", "input"),
        ("name: n\ninput: [3, 8, 8]\nlayers: [{{relu: {{}}, name: {v}}}]\n", "name"),
        (
            "name: n\ninput: [3, 8, 8]\nlayers: [{{relu: {{}}}}]\nbudget: {{params: {v}}}\n",
            "params",
        ),
        ("name: n\ninput: [3, 8, 8]\nlayers: [{{relu: {{}}}}]\nbudget: {{macs: {v}}}\n", "macs"),
        (
            "name: n\ninput: [3, 8, 8]\nblocks:\n  b:\n    params: {{w: {v}}}\n"
            "    layers: [{{conv: {{out: $w, kernel: 1}}}}]\nlayers: [{{b: {{}}}}]\n",
            "",
        ),
        (
            "name: n\ninput: [3, 8, 8]\nblocks:\n  b:\n    params: {{w: 4}}\n"
            "    layers: [{{conv: {{out: $w, kernel: 1}}}}]\nlayers: [{{b: {{w: {v}}}}}]\n",
            "",
        ),
    ],
    ids=[
        "spec-name",
        "input",
        "layer-name",
        "budget-params",
        "budget-macs",
        "block-default",
        "block-argument",
    ],
)
def test_huge_integer_elsewhere(text: str, field: str, value: str) -> None:
    if field == "name" and len(value) < 4300:
        # a 19-digit name may be read as its text; refused or not, never a crash
        result = attempt(text.format(v=value))
        if isinstance(result, ConvcostError):
            one_line(str(result))
        return
    refused(text.format(v=value), expect=(field,))


@pytest.mark.parametrize(
    "body",
    [
        "99999999999 * 99999999999 * 99999999999 * 99999999999 * 99999999999 * 99999999999 * 99999999999 * 99999999999",
        s.HUGE,
        f"1 + {s.HUGE}",
    ],
)
def test_huge_integer_in_an_expression(body: str) -> None:
    refused(s.expression(body[:5000]), expect=("out",))


# --- deep structures ----------------------------------------------------------------------------

DEPTHS = [65, 200, 900, 5000]
NESTINGS: dict[str, Callable[[int], str]] = {
    "input-flow-list": s.flow_nesting,
    "field-flow-map": s.map_nesting,
    "layers-flow-list": lambda d: (
        f"name: n\ninput: [3, 8, 8]\nlayers: {'[' * d}{{relu: {{}}}}{']' * d}\n"
    ),
    "budget-flow-map": lambda d: s.one("relu: {}", extra=f"budget: {'{a: ' * d}1{'}' * d}\n"),
    "block-params": lambda d: (
        f"name: n\ninput: [3, 8, 8]\nblocks:\n  b:\n    params: {{w: {'[' * d}1{']' * d}}}\n"
        "    layers: [{relu: {}}]\nlayers: [{b: {}}]\n"
    ),
    "nested-add-branches": lambda d: s.plain(
        "".join("  " * (2 * i) + f"  - add:\n{'  ' * (2 * i)}      a:\n" for i in range(d // 2))
        + "  " * d
        + "    - relu: {}\n"
    ),
}


@pytest.mark.parametrize(
    ("shape", "depth"),
    [
        pytest.param(shape, depth, id=f"{name}-{depth}")
        for name, shape in NESTINGS.items()
        for depth in DEPTHS
        # a 5,000-deep block-style file would be 25 MB of indentation: past the size bound
        if not (depth > 900 and name == "nested-add-branches")
    ],
)
def test_deep_nesting(shape: Callable[[int], str], depth: int) -> None:
    refused(shape(depth))


@pytest.mark.parametrize("length", [MAX_BLOCK_DEPTH + 1, 100, 350, 2000])
def test_block_chain(length: int) -> None:
    refused(s.block_chain(length))


def test_block_chain_within_the_bound_is_valid() -> None:
    (report,) = accepted(s.block_chain(MAX_BLOCK_DEPTH // 2))
    assert [layer.kind for layer in report.layers][-1] == "relu"


# --- expressions past their bounds ---------------------------------------------------------------

EXPRESSIONS = {
    "length": "+".join(["1"] * (MAX_EXPRESSION_LENGTH // 2 + 2)),
    "1000-terms": "+".join(["1"] * 1000),
    "1000-terms-of-in_channels": "+".join(["in_channels"] * 1000),
    "depth": "1+(" * (MAX_EXPRESSION_DEPTH + 1) + "1" + ")" * (MAX_EXPRESSION_DEPTH + 1),
    "1000-parens": "(" * 1000 + "1" + ")" * 1000,
    "unary-chain": "-" * 1000 + "1",
    "comment": "8 # comment",
    "power": "2 ** 64",
    "call": "len('x')",
    "attribute": "in_channels.real",
    "lambda": "(lambda:1)()",
    "string": "'a' * 3",
    "shift": "1 << 300",
    "bits": "340282366920938463463374607431768211456 * 340282366920938463463374607431768211456",
    "float": "1.5",
    "bool": "True + 1",
    "walrus": "(x := 1)",
    "subscript": "[1][0]",
}


@pytest.mark.parametrize("body", EXPRESSIONS.values(), ids=EXPRESSIONS.keys())
def test_hostile_expression(body: str) -> None:
    refused(s.expression(body), expect=("out",))


def test_expressions_within_the_bounds_are_valid() -> None:
    (report,) = accepted(s.expression("((in_channels + 1) * 2) // 2 % 100"))
    assert report.layers[0].output_shape[0] == 4  # ((3 + 1) * 2) // 2 % 100


# --- resource bounds at small scale (a Limits the caller lowered) ----------------------------------

SMALL = Limits(max_layers=1000, max_spec_bytes=4096, max_yaml_nodes=5000)
LAYER_BOMBS = {
    "repeat": s.one("{relu: {}, repeat: 1001}"),
    "nested-repeats": s.nested_repeats(3, 11),
    "doubling": s.doubling(10),
    "branches": s.plain(
        "  - add:\n      a: [{relu: {}, repeat: 600}]\n      b: [{relu: {}, repeat: 600}]\n"
    ),
    "block-repeat-expression": (
        "name: n\ninput: [3, 8, 8]\nblocks:\n  b:\n    params: {n: 40}\n"
        "    layers: [{relu: {}, repeat: '${n * n}'}]\nlayers: [{b: {}}]\n"
    ),
}


@pytest.mark.parametrize("text", LAYER_BOMBS.values(), ids=LAYER_BOMBS.keys())
def test_layer_count_past_max_layers(text: str) -> None:
    measured = Measured()
    with pytest.raises(ResourceLimitError, match=LOCATED + ".*1,?000"):
        bounded(lambda: _analyze(text, SMALL), measured)
    _within_bounds(measured)


def test_layer_count_within_max_layers_is_valid() -> None:
    (report,) = accepted(s.one("{relu: {}, repeat: 900}"), SMALL)
    assert len(report.layers) == 900


@pytest.mark.parametrize("depth", [4, 5])
def test_alias_expansion_past_max_yaml_nodes(depth: int) -> None:
    """10**depth nodes behind aliases: refused whether a layer uses them or not."""
    for used in (False, True):
        refused(s.alias_bomb(depth, used=used), limits=SMALL)


@pytest.mark.parametrize("used", [False, True])
def test_raising_max_yaml_nodes_never_raises_what_aliases_bring_in(used: bool) -> None:
    """10**9 nodes behind aliases in a 700-byte spec, with the node bound lifted to 10**18:
    MAX_ALIAS_NODES still refuses it, before anything walks the expansion."""
    text = s.alias_bomb(9, used=used)
    assert len(text) < 1000
    lifted = Limits(max_yaml_nodes=10**18)
    refused(text, expect=("MAX_ALIAS_NODES",), error=ResourceLimitError, limits=lifted)


def test_a_literal_document_past_max_yaml_nodes_is_read_once_it_is_raised() -> None:
    # the root mapping (1), its keys name, input and layers (3), `net` (1), [3, 8, 8] (4),
    # the layers list (1), then 3 a line: the item's mapping, its key and the empty mapping
    text = s.plain("  - relu: {}\n" * 2000)
    nodes = 1 + 3 + 1 + 4 + 1 + 3 * 2000
    refused(
        text,
        expect=("max_yaml_nodes",),
        error=ResourceLimitError,
        limits=Limits(max_yaml_nodes=nodes - 1),
    )
    (report,) = accepted(text, Limits(max_yaml_nodes=nodes))
    assert len(report.layers) == 2000


@pytest.mark.parametrize(
    "text",
    [
        "name: r\ninput: [3, 8, 8]\nlayers: &a [*a]\n",
        s.one("conv: &a {out: 4, kernel: [3, *a]}"),
        "name: &a [*a]\ninput: [3, 8, 8]\nlayers: [{relu: {}}]\n",
    ],
)
def test_recursive_alias(text: str) -> None:
    refused(text)


def test_spec_file_past_max_spec_bytes(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(s.one("relu: {}") + "# padding\n" * 500, encoding="utf-8")
    measured = Measured()
    with pytest.raises(ResourceLimitError, match=re.escape(str(path))):
        bounded(lambda: convcost.load_spec(path, limits=SMALL), measured)
    _within_bounds(measured)


# --- YAML tags and merge keys -------------------------------------------------------------------

UNSAFE_TAGS = [
    "!foo",
    "!!python/name:os.system",
    "!!python/none",
    "!!python/object/apply:os.system",
    "!!python/tuple",
    "!<tag:example.com,2000:x>",
    "!!map",
    "!!omap",
    "!!set",
    "!!pairs",
    "!!binary",
]
SCALAR_TAG_PLACES = {
    "field": "name: n\ninput: [3, 8, 8]\nlayers: [{{conv: {{out: {tag} 4, kernel: 3}}}}]\n",
    "name": "name: {tag} n\ninput: [3, 8, 8]\nlayers: [{{relu: {{}}}}]\n",
    "budget": "name: n\ninput: [3, 8, 8]\nlayers: [{{relu: {{}}}}]\nbudget: {{params: {tag} 5}}\n",
    "key": "name: n\ninput: [3, 8, 8]\nlayers: [{{{tag} relu: {{}}}}]\n",
}
COLLECTION_TAG_PLACES = {
    "input": "name: n\ninput: {tag} [3, 8, 8]\nlayers: [{{relu: {{}}}}]\n",
    "layer": "name: n\ninput: [3, 8, 8]\nlayers: [{tag} {{relu: {{}}}}]\n",
}


@pytest.mark.parametrize("place", SCALAR_TAG_PLACES.values(), ids=SCALAR_TAG_PLACES.keys())
@pytest.mark.parametrize("tag", UNSAFE_TAGS)
def test_yaml_tag_on_a_scalar(tag: str, place: str) -> None:
    """No tag makes ``4``, ``n`` or ``relu`` a value a spec needs: refused with a location,
    never a constructor error."""
    result = attempt(place.format(tag=tag))
    assert isinstance(result, ConvcostError), f"{tag} was accepted"
    one_line(str(result))


@pytest.mark.parametrize("place", COLLECTION_TAG_PLACES.values(), ids=COLLECTION_TAG_PLACES.keys())
@pytest.mark.parametrize("tag", UNSAFE_TAGS)
def test_yaml_tag_on_a_collection(tag: str, place: str) -> None:
    """On a list or mapping a tag is refused with a location, or ignored: never a crash."""
    result = attempt(place.format(tag=tag))
    if isinstance(result, ConvcostError):
        one_line(str(result))


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {out: 4, kernel: 3}\nname: n\ninput: [3, 8, 8]\nlayers: [{conv: {<<: *b}}]\n",
        s.one("conv: {<<: {out: 4}, kernel: 3}"),
        s.one("conv: {<<: [{out: 4}, {kernel: 3}]}"),
        "<<: {name: n}\ninput: [3, 8, 8]\nlayers: [{relu: {}}]\n",
    ],
    ids=["top-level-anchor", "inline", "list", "top-level"],
)
def test_merge_key(text: str) -> None:
    refused(text)


# --- names: every renderer keeps them in their format --------------------------------------------

NAMES = {
    "markup-close": "[/]",
    "markup-bracket": "resnet[v2]",
    "markup-link": "[link=https://evil.example]x[/link]",
    "markup-style": "[bold red]x",
    "esc": "\x1b[31mx",
    "osc-hyperlink": "\x1b]8;;http://x\x1b\\y",
    "newline": "a\n::warning::x",
    "carriage-return": "a\rb",
    "nul": "a\x00b",
    "bidi": "\u202eabc",
    "formula": "=1+2",
    "formula-plus": "+cmd",
    "formula-at": "@SUM(A1)",
    "pipe": "a|b",
    "escaped-pipe": "a\\|b",
    "html": "<img src=x>",
    "long": "x" * 300,
    "empty": "",
    "space": " ",
    "tab": "a\tb",
    "unicode": "café×",
}
NAME_PLACES = {
    "spec": "name: {q}\ninput: [3, 8, 8]\nlayers: [{{conv: {{out: 4, kernel: 3}}}}]\n",
    "layer": "name: n\ninput: [3, 8, 8]\nlayers: [{{conv: {{out: 4, kernel: 3}}, name: {q}}}]\n",
    "variant": "name: n\ninput: [3, 8, 8]\nvariants:\n  {q}: [{{conv: {{out: 4, kernel: 3}}}}]\n  other: [{{relu: {{}}}}]\n",
    "branch": "name: n\ninput: [3, 8, 8]\nlayers:\n  - add:\n      {q}: [{{conv: {{out: 3, kernel: 1}}}}]\n      b: []\n",
}


def _render_all(reports: list[convcost.Report]) -> dict[str, str]:
    console = Console(file=io.StringIO(), width=200, color_system=None, highlight=False)
    print_reports(console, reports, depth=None, exact=False)
    return {
        "table": console.file.getvalue(),  # type: ignore[attr-defined]
        "json": formats.to_json(reports),
        "csv": formats.to_csv(reports),
        "markdown": formats.to_markdown(reports),
    }


def _markdown_balanced(text: str) -> None:
    header = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        pipes = len(re.findall(r"(?<!\\)\|", line))
        header = pipes if header is None else header
        assert pipes == header, f"a name broke the markdown table: {line!r}"


@pytest.mark.parametrize("place", NAME_PLACES.values(), ids=NAME_PLACES.keys())
@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_hostile_name(name: str, place: str) -> None:
    """Refused with a location, or printed so that it cannot escape its format."""
    text = place.format(q=json.dumps(name))  # a JSON string is a YAML double-quoted scalar
    reports = attempt(text)
    if isinstance(reports, ConvcostError):
        one_line(str(reports))
        return
    out = _render_all(reports)
    for fmt, rendered in out.items():
        assert "\x1b" not in rendered, f"raw ESC in {fmt}"
        assert "\u202e" not in rendered, f"raw bidi override in {fmt}"
        assert "\x00" not in rendered, f"raw NUL in {fmt}"
        assert not re.search(r"^\s*::", rendered, re.MULTILINE), f"a workflow command in {fmt}"
    if "[" in name:
        assert name in out["table"], f"markup {name!r} not shown literally:\n{out['table']}"
    rows = list(csv.reader(io.StringIO(out["csv"])))
    formulas = [cell for row in rows for cell in row if cell[:1] in ("=", "+", "@")]
    assert not formulas, f"formula cells: {formulas}"
    _markdown_balanced(out["markdown"])
    json.loads(out["json"])


# --- malformed baselines ----------------------------------------------------------------------------

BASELINE = formats.to_json(
    list(convcost.analyze_all(convcost.load_spec(s.ROOT / "specs" / "quickstart.yaml"))),
    indent=2,  # `--indent 2`: the keys below are replaced as text
)
BAD_NUMBERS = [
    "Infinity",
    "-Infinity",
    "NaN",
    "1e400",
    "-5",
    "true",
    "false",
    "1.7",
    '"12"',
    "[]",
    "{}",
    s.HUGE,
    str(2**63),
]
NUMBER_KEYS = ['"params": 57130', '"macs": 15041152', '"peak_memory_bytes": 490664', '"batch": 1']


@pytest.mark.parametrize("key", NUMBER_KEYS, ids=[k.split(":")[0].strip('"') for k in NUMBER_KEYS])
@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_malformed_baseline_number(key: str, bad: str, tmp_path: Path) -> None:
    assert key in BASELINE
    path = tmp_path / "base.json"
    path.write_text(
        BASELINE.replace(key, key.split(":", maxsplit=1)[0] + ": " + bad, 1), encoding="utf-8"
    )
    measured = Measured()
    with pytest.raises(ConvcostError, match=re.escape(str(path))):
        bounded(lambda: load_baseline(path), measured)
    _within_bounds(measured)


@pytest.mark.parametrize(
    "text",
    [
        s.deep_json(100_000),
        s.deep_json(1000),
        '{"a": ' * 10_000 + "1" + "}" * 10_000,
        '{"totals": []}',
        "[[]]",
        '"x"',
        "null",
        "",
        "\ufeff{}",
        "\x00",
    ],
    ids=[
        "list-100000",
        "list-1000",
        "map-10000",
        "totals-list",
        "list-of-list",
        "string",
        "null",
        "empty",
        "bom",
        "nul",
    ],
)
def test_malformed_baseline_structure(text: str, tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    path.write_text(text, encoding="utf-8")
    measured = Measured()
    with pytest.raises(ConvcostError, match=re.escape(str(path))):
        bounded(lambda: load_baseline(path), measured)
    _within_bounds(measured)


def test_unmodified_baseline_loads(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    path.write_text(BASELINE, encoding="utf-8")
    (report,) = load_baseline(path)
    assert (report.name, report.total("params")) == ("quickstart", 57130)


# --- YAML 1.1 traps and validation gaps ---------------------------------------------------------------

TRAPS = {
    "octal-budget": (s.one("relu: {}", extra="budget: {params: 017}\n"), "params"),
    "octal-0o-budget": (s.one("relu: {}", extra="budget: {params: 0o17}\n"), "params"),
    "sexagesimal-budget": (s.one("relu: {}", extra="budget: {macs: 1:30}\n"), "macs"),
    "sexagesimal-out": (s.one("conv: {out: 1:30, kernel: 3}"), "out"),
    "sexagesimal-kernel": (s.one("conv: {out: 4, kernel: 1:30}"), "kernel"),
    "octal-out": (s.one("conv: {out: 017, kernel: 3}"), "out"),
    "float-tag": (s.one("conv: {out: !!float 4, kernel: 3}"), "out"),
    "bool-out": (s.one("conv: {out: yes, kernel: 3}"), "out"),
    "null-budget": (s.one("relu: {}", extra="budget: {params: null}\n"), "params"),
    "unknown-budget": (s.one("relu: {}", extra="budget: {parms: 5M}\n"), "parms"),
    "variant-input-list": (
        "name: v\ninput: [3, 8, 8]\nvariants:\n  a: {input: [], layers: [{relu: {}}]}\n",
        "input",
    ),
    "variant-input-map": (
        "name: v\ninput: [3, 8, 8]\nvariants:\n  a: {input: {}, layers: [{relu: {}}]}\n",
        "input",
    ),
    "branch-empty": (s.plain("  - add:\n      '': []\n      b: []\n"), ""),
    "branch-space": (s.plain("  - add:\n      'a b': []\n      b: []\n"), "a b"),
    "branch-newline": (s.plain('  - add:\n      "a\\nb": []\n      b: []\n'), ""),
}


@pytest.mark.parametrize(("text", "field"), TRAPS.values(), ids=TRAPS.keys())
def test_validation_trap(text: str, field: str) -> None:
    message = refused(text, expect=(field,), error=SpecError)
    assert "NoneType" not in message
    assert not message.endswith("got 4"), "!!float 4 reported as the integer 4"
