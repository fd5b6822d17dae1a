"""Every user error of the spec loader, field reader, expressions, builder and layers.

Each case is a spec written to ``net.yaml`` and run through the CLI (typer's CliRunner): the
exit code must be 2 (ExitStatus.INVALID_INPUT), standard error exactly one line
``error: net.yaml:LINE:COL: [layer PATH, field KIND.FIELD: ]message``, and no traceback.
Positions are 1-based (line, column) of the YAML node the message is about; the comment on a
case says which node that is when it is not obvious.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.errors import ExitStatus, SpecError


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli_error(text: str, *args: str) -> str:
    """Run ``convcost analyze net.yaml`` on ``text`` (in the current directory); the error line."""
    Path("net.yaml").write_text(text, encoding="utf-8")
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    result = runner.invoke(app, ["analyze", "net.yaml", *args])
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.exit_code == ExitStatus.INVALID_INPUT, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stderr.endswith("\n")
    assert result.stderr.count("\n") == 1, result.stderr  # one line
    return result.stderr.removeprefix("error: ").removesuffix("\n")


def api_error(text: str) -> SpecError:
    """The same spec through the Python API: parse_spec + analyze_all."""
    with pytest.raises(SpecError) as caught:
        convcost.analyze_all(convcost.parse_spec(text, source="net.yaml"))
    return caught.value


# Every error path, with its exact message. Locations: the offending value, or for missing
# fields and shape errors the layer's kind key (`conv:` in `  - conv: {...}` is column 5).
CASES = [
    # PyYAML's problem mark: the ':' after kernel
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4 kernel: 3}\n",
        "net.yaml:3:25: invalid YAML: while parsing a flow mapping did not find expected ',' or '}'",
        id="yaml-syntax",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n\t- relu: {}\n",
        "net.yaml:3:1: invalid YAML: while scanning for the next token found character that cannot start any token",
        id="yaml-tab",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers: []\n---\ninput: [3, 8, 8]\n",
        "net.yaml:3:1: invalid YAML: expected a single document in the stream but found another document",
        id="yaml-two-documents",
    ),
    pytest.param(
        "input: *x\nlayers: []\n",
        "net.yaml:1:8: field input: invalid YAML: found undefined alias",
        id="yaml-undefined-alias",
    ),
    pytest.param(
        "",
        "net.yaml:1:1: the spec is empty: it needs `input` and `layers`",
        id="empty-file",
    ),
    # plain data only (docs/spec-format.md, *Reading a spec*); tests/test_spec_limits.py has more
    pytest.param(
        "input: !foo [3, 8, 8]\nlayers: []\n",
        "net.yaml:1:8: field input: the YAML tag !foo is not allowed: a spec is plain data "
        "(allowed tags: !!str, !!int, !!float, !!bool, !!null, !!seq, !!map)",
        id="yaml-tag",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {<<: {out: 4}, kernel: 3}\n",
        "net.yaml:3:12: field layers[0].conv: merge keys (<<) are not supported: write the fields out, "
        "or use a block with parameters",
        id="yaml-merge-key",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers: &a [*a]\n",
        "net.yaml:2:13: field layers[0]: alias *a is used inside the node it names: a recursive alias",
        id="yaml-recursive-alias",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers: " + "[" * 70 + "]" * 70 + "\n",
        # the root mapping is level 1: the 64th `[` (column 72) opens level 65
        "net.yaml:2:72: field layers[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]…: lists and mappings are nested more than 64 levels deep",
        id="yaml-too-deep",
    ),
    pytest.param(
        "input: [3, 9223372036854775808, 8]\nlayers: []\n",
        "net.yaml:1:12: field input[1]: the integer 9223372036854775808 is too large: integers must be at most "
        "9223372036854775807",
        id="integer-past-int64",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers: []\nbudget: {macs: 1:30}\n",
        "net.yaml:3:16: field budget.macs: 1:30 is 90 in YAML 1.1 (base 60, like a time): write 90, "
        "or quote it for text",
        id="budget-base-60",
    ),
    pytest.param(
        "# nothing\n",
        "net.yaml:1:1: the spec is empty: it needs `input` and `layers`",
        id="only-a-comment",
    ),
    pytest.param(
        "- conv: {out: 4}\n",
        "net.yaml:1:1: a spec is a mapping with `input` and `layers`, got a list",
        id="top-level-list",
    ),
    pytest.param(
        "hello\n",
        "net.yaml:1:1: a spec is a mapping with `input` and `layers`, got 'hello'",
        id="top-level-scalar",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayer:\n  - relu: {}\n",
        "net.yaml:2:1: unknown top-level key 'layer'; did you mean 'layers'?; allowed: name, input, layers, variants, blocks, budget, params, include",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers: []\nzzz: 1\n",
        "net.yaml:3:1: unknown top-level key 'zzz'; allowed: name, input, layers, variants, blocks, budget, params, include",
        id="unknown-top-level-key-no-match",
    ),
    pytest.param(
        "input: [3, 8, 8]\ninput: [3, 8, 8]\nlayers: []\n",
        "net.yaml:2:1: duplicate key 'input' (first at line 1)",
        id="duplicate-top-level-key",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, out: 5}\n",
        "net.yaml:3:31: field layers[0].conv: duplicate key 'out' (first at line 3)",
        id="duplicate-field",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: 4, 3: 3}\n",
        "net.yaml:3:20: field layers[0].conv: mapping keys must be names, got 3",
        id="integer-key",
    ),
    pytest.param(
        "? [a, b]\n: 1\n",
        "net.yaml:1:3: mapping keys must be names, got a list",
        id="list-key",
    ),
    pytest.param(
        "name: 3\ninput: [8, 8, 8]\nlayers: []\n",
        "net.yaml:1:7: `name` must be a string, got 3",
        id="spec-name-not-string",
    ),
    pytest.param(
        "name: ''\ninput: [8, 8, 8]\nlayers: []\n",
        "net.yaml:1:7: spec name must not be empty",
        id="spec-name-empty",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers: []\nbudget: [1]\n",
        "net.yaml:3:9: `budget` must be a mapping, got a list",
        id="budget-not-mapping",
    ),
    pytest.param(
        "layers:\n  - relu: {}\n",
        "net.yaml:1:1: missing `input`: the input shape, channels first without batch, e.g. [3, 224, 224]",
        id="missing-input",
    ),
    pytest.param(
        "input: [3, 8, 8]\n",
        "net.yaml:1:1: missing `layers`: the list of layers of the network",
        id="missing-layers",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers: []\nvariants:\n  a: []\n",
        "net.yaml:3:1: a spec holds either `layers` or `variants`, not both",
        id="layers-and-variants",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  conv: {out: 4, kernel: 3}\n",
        "net.yaml:3:3: `layers` must be a list of layers, got a mapping",
        id="layers-mapping",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers: conv\n",
        "net.yaml:2:9: `layers` must be a list of layers, got 'conv'",
        id="layers-scalar",
    ),
    pytest.param(
        "input: [3]\nlayers: []\n",
        "net.yaml:1:8: field input: must be [C, L], [C, H, W] or [C, D, H, W] (channels first, no batch; rank 2 to 4), got 1 value",
        id="input-rank-1",
    ),
    pytest.param(
        "input: [3, 4, 4, 4, 4]\nlayers: []\n",
        "net.yaml:1:8: field input: must be [C, L], [C, H, W] or [C, D, H, W] (channels first, no batch; rank 2 to 4), got 5 values",
        id="input-rank-5",
    ),
    pytest.param(
        "input: 3\nlayers: []\n",
        "net.yaml:1:8: field input: must be [C, L], [C, H, W] or [C, D, H, W] (channels first, no batch; rank 2 to 4), got 3",
        id="input-scalar",
    ),
    pytest.param(
        "input: '3x8x8'\nlayers: []\n",
        "net.yaml:1:8: field input: must be [C, L], [C, H, W] or [C, D, H, W] (channels first, no batch; rank 2 to 4), got '3x8x8'",
        id="input-string",
    ),
    pytest.param(
        "input: [3, 0, 8]\nlayers: []\n",
        "net.yaml:1:12: field input: must be an integer >= 1, got 0",
        id="input-zero",
    ),
    pytest.param(
        "input: [3, -8, 8]\nlayers: []\n",
        "net.yaml:1:12: field input: must be an integer >= 1, got -8",
        id="input-negative",
    ),
    pytest.param(
        "input: [3, yes, 8]\nlayers: []\n",
        "net.yaml:1:12: field input: must be an integer >= 1, got yes (a boolean)",
        id="input-bool",
    ),
    pytest.param(
        "input: [3, 8.0, 8]\nlayers: []\n",
        "net.yaml:1:12: field input: must be an integer >= 1, got 8.0",
        id="input-float",
    ),
    pytest.param(
        "input: [3, 1e6, 8]\nlayers: []\n",
        "net.yaml:1:12: field input: must be an integer >= 1, got '1e6' (YAML 1.1 reads 1e6 as a string: write the integer out)",
        id="input-1e6",
    ),
    pytest.param(
        "input: [3, 010, 8]\nlayers: []\n",
        "net.yaml:1:12: field input[1]: 010 is octal 8 in YAML 1.1: write 8, or 10",
        id="input-octal",
    ),
    pytest.param(
        "input: [3, eight, 8]\nlayers: []\n",
        "net.yaml:1:12: field input: must be an integer >= 1, got 'eight'",
        id="input-word",
    ),
    pytest.param(
        "input: [3, [8], 8]\nlayers: []\n",
        "net.yaml:1:12: field input: must be an integer >= 1, got a list",
        id="input-nested-list",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - relu\n",
        "net.yaml:3:5: layers[0]: a layer entry is a mapping with one kind key, e.g. `- conv: {out: 16, kernel: 3}`, got 'relu'",
        id="entry-scalar",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - [relu]\n",
        "net.yaml:3:5: layers[0]: a layer entry is a mapping with one kind key, e.g. `- conv: {out: 16, kernel: 3}`, got a list",
        id="entry-list",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - name: a\n    repeat: 2\n",
        "net.yaml:3:5: layers[0]: the entry has no layer kind",
        id="entry-without-kind",
    ),
    # at the second kind key
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3}\n    relu: {}\n",
        "net.yaml:4:5: layers[0]: the entry has two kind keys, 'conv' and 'relu': write each layer as its own list item (an entry holds one kind plus optional `name`, `repeat` and `if`)",
        id="entry-with-two-kinds",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - relu: {}\n  - covn: {out: 4, kernel: 3}\n",
        "net.yaml:4:5: layers[1]: unknown layer kind 'covn'; did you mean 'conv'?; see docs/spec-format.md for the kinds (and `blocks:` for your own)",
        id="unknown-kind",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - qqqqqq: {}\n",
        "net.yaml:3:5: layers[0]: unknown layer kind 'qqqqqq'; see docs/spec-format.md for the kinds (and `blocks:` for your own)",
        id="unknown-kind-no-match",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: 3\n",
        "net.yaml:3:11: layer conv1: the arguments of conv must be a mapping (write `conv: {}` for none), got 3",
        id="arguments-scalar",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - relu: []\n",
        "net.yaml:3:11: layer relu1: the arguments of relu must be a mapping (write `relu: {}` for none), got a list",
        id="arguments-list",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - relu: {inplace: true}\n",
        "net.yaml:3:12: layer relu1, field relu.inplace: unknown field 'inplace' for relu; allowed: none",
        id="unknown-field-no-match",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, strides: 2}\n",
        "net.yaml:3:31: layer conv1, field conv.strides: unknown field 'strides' for conv; did you mean 'stride'?; allowed: out, kernel, stride, dilation, padding, groups, bias",
        id="unknown-field-after-valid-ones",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernal: 3}\n",
        "net.yaml:3:20: layer conv1, field conv.kernal: unknown field 'kernal' for conv; did you mean 'kernel'?; allowed: out, kernel, stride, dilation, padding, groups, bias",
        id="misspelt-required-field",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - avgpool: {kernel: 3, dilation: 2}\n",
        "net.yaml:3:26: layer avgpool1, field avgpool.dilation: unknown field 'dilation' for avgpool; allowed: kernel, stride, padding, ceil_mode",
        id="avgpool-has-no-dilation",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    name: a\n  - relu: {}\n    name: a\n",
        "net.yaml:6:11: layers[1]: duplicate layer name 'a' in this list",
        id="duplicate-layer-name",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    name: a.b\n",
        "net.yaml:4:11: layers[0]: layer name 'a.b' must not contain dots (the separator of layer paths)",
        id="name-with-dot",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    name: 'a b'\n",
        "net.yaml:4:11: layers[0]: layer name 'a b' must not contain whitespace",
        id="name-with-space",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    name: ''\n",
        "net.yaml:4:11: layers[0]: layer name must not be empty",
        id="name-empty",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    name: [a]\n",
        "net.yaml:4:11: layers[0]: `name` must be a string, got a list",
        id="name-list",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    name: yes\n",
        "net.yaml:4:11: layers[0]: `name` must be a string, got yes (a boolean)",
        id="name-bool",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    repeat: -2\n",
        "net.yaml:4:13: layer relu1, field repeat: must be an integer >= 0, got -2",
        id="repeat-negative",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    repeat: 2.5\n",
        "net.yaml:4:13: layer relu1, field repeat: must be an integer >= 0, got 2.5",
        id="repeat-float",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    repeat: twice\n",
        "net.yaml:4:13: layer relu1, field repeat: must be an integer >= 0, got 'twice'",
        id="repeat-word",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    repeat: true\n",
        "net.yaml:4:13: layer relu1, field repeat: must be an integer >= 0, got true (a boolean)",
        id="repeat-bool",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: true, kernel: 3}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got true (a boolean)",
        id="out-bool",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4.5, kernel: 3}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 4.5",
        id="out-float",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: four, kernel: 3}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 'four'",
        id="out-word",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 1e6, kernel: 3}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got '1e6' (YAML 1.1 reads 1e6 as a string: write the integer out)",
        id="out-1e6",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 017, kernel: 3}\n",
        "net.yaml:3:17: field layers[0].conv.out: 017 is octal 15 in YAML 1.1: write 15, or 17",
        id="out-octal",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 0, kernel: 3}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 0",
        id="out-zero",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: -4, kernel: 3}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got -4",
        id="out-negative",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: [4], kernel: 3}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got a list",
        id="out-list",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: null, kernel: 3}\n",
        "net.yaml:3:17: layer conv1, field conv.out: `out` is required (an integer >= 1)",
        id="out-null",
    ),
    # at the kind key
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {kernel: 3}\n",
        "net.yaml:3:5: layer conv1, field conv.out: `out` is required (an integer >= 1)",
        id="out-missing",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4}\n",
        "net.yaml:3:5: layer conv1, field conv.kernel: `kernel` is required (an integer >= 1, or one per axis)",
        id="kernel-missing",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 0}\n",
        "net.yaml:3:28: layer conv1, field conv.kernel: must be an integer >= 1, got 0",
        id="kernel-zero",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: [3, 0]}\n",
        "net.yaml:3:32: layer conv1, field conv.kernel: must be an integer >= 1, got 0",
        id="kernel-axis-zero",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: [3, 3, 3]}\n",
        "net.yaml:3:28: layer conv1, field conv.kernel: needs one value per spatial axis (2 for a 2-D input), got 3",
        id="kernel-three-axes-on-2d",
    ),
    pytest.param(
        "input: [3, 8]\nlayers:\n  - conv: {out: 4, kernel: [3, 3]}\n",
        "net.yaml:3:28: layer conv1, field conv.kernel: needs one value per spatial axis (1 for a 1-D input), got 2",
        id="kernel-two-axes-on-1d",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, stride: -1}\n",
        "net.yaml:3:39: layer conv1, field conv.stride: must be an integer >= 1, got -1",
        id="stride-negative",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, stride: yes}\n",
        "net.yaml:3:39: layer conv1, field conv.stride: must be an integer >= 1, got yes (a boolean)",
        id="stride-yes",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, stride: 2.0}\n",
        "net.yaml:3:39: layer conv1, field conv.stride: must be an integer >= 1, got 2.0",
        id="stride-float",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, dilation: 0}\n",
        "net.yaml:3:41: layer conv1, field conv.dilation: must be an integer >= 1, got 0",
        id="dilation-zero",
    ),
    pytest.param(
        "input: [32, 8, 8]\nlayers:\n  - conv: {out: 6, kernel: 3, groups: 0}\n",
        "net.yaml:3:39: layer conv1, field conv.groups: must be an integer >= 1, got 0",
        id="groups-zero",
    ),
    pytest.param(
        "input: [30, 8, 8]\nlayers:\n  - conv: {out: 8, kernel: 3, groups: 4}\n",
        "net.yaml:3:5: layer conv1, field conv.groups: input channels (30) must be divisible by groups (4)",
        id="groups-not-dividing-in",
    ),
    pytest.param(
        "input: [32, 8, 8]\nlayers:\n  - conv: {out: 6, kernel: 3, groups: 4}\n",
        "net.yaml:3:5: layer conv1, field conv.groups: out (6) must be divisible by groups (4)",
        id="groups-not-dividing-out",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - pointwise: {out: 6, groups: 4}\n",
        "net.yaml:3:5: layer pointwise1, field pointwise.groups: out (6) must be divisible by groups (4)",
        id="pointwise-groups",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv_transpose: {out: 6, kernel: 3, groups: 4}\n",
        "net.yaml:3:5: layer conv_transpose1, field conv_transpose.groups: out (6) must be divisible by groups (4)",
        id="conv-transpose-groups",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - depthwise: {kernel: 3, multiplier: 0}\n",
        "net.yaml:3:40: layer depthwise1, field depthwise.multiplier: must be an integer >= 1, got 0",
        id="depthwise-multiplier-zero",
    ),
    pytest.param(
        "input: [9, 8, 8]\nlayers:\n  - channel_shuffle: {groups: 2}\n",
        "net.yaml:3:5: layer channel_shuffle1, field channel_shuffle.groups: channels (9) must be divisible by groups (2)",
        id="channel-shuffle-groups",
    ),
    pytest.param(
        "input: [9, 8, 8]\nlayers:\n  - split: {parts: 2, index: 0}\n",
        "net.yaml:3:5: layer split1, field split.parts: channels (9) must divide evenly into 2 parts",
        id="split-indivisible",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - split: {parts: 2, index: 2}\n",
        "net.yaml:3:5: layer split1, field split.index: index (2) must be below parts (2)",
        id="split-index-too-large",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - split: {parts: 2}\n",
        "net.yaml:3:5: layer split1, field split.index: `index` is required (an integer >= 0)",
        id="split-index-missing",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, bias: 1}\n",
        "net.yaml:3:37: layer conv1, field conv.bias: must be true or false, got 1",
        id="bias-int",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, bias: 'no'}\n",
        "net.yaml:3:37: layer conv1, field conv.bias: must be true or false, got 'no'",
        id="bias-quoted-no",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - avgpool: {kernel: 3, ceil_mode: 1}\n",
        "net.yaml:3:37: layer avgpool1, field avgpool.ceil_mode: must be true or false, got 1",
        id="ceil-mode-int",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - dropout: {p: 1.5}\n",
        "net.yaml:3:18: layer dropout1, field dropout.p: must be a number from 0.0 to 1.0, got 1.5",
        id="dropout-p-above-1",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - dropout: {p: half}\n",
        "net.yaml:3:18: layer dropout1, field dropout.p: must be a number from 0.0 to 1.0, got 'half'",
        id="dropout-p-word",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - dropout: {mode: spatail}\n",
        "net.yaml:3:21: layer dropout1, field dropout.mode: must be one of standard, spatial, got 'spatail'; did you mean 'spatial'?",
        id="dropout-mode",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - dropout: {mode: [a]}\n",
        "net.yaml:3:21: layer dropout1, field dropout.mode: must be one of standard, spatial, got a list",
        id="dropout-mode-list",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - batchnorm: {eps: -1}\n",
        "net.yaml:3:22: layer batchnorm1, field batchnorm.eps: must be a number from 0.0 to 1.0, got -1",
        id="batchnorm-eps-negative",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, stride: 2, padding: same}\n",
        "net.yaml:3:51: layer conv1, field conv.padding: padding 'same' needs stride 1 (as in PyTorch), got stride [2, 2]: give explicit padding instead",
        id="same-with-stride",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - depthwise: {kernel: 3, stride: [1, 2], padding: same}\n",
        "net.yaml:3:53: layer depthwise1, field depthwise.padding: padding 'same' needs stride 1 (as in PyTorch), got stride [1, 2]: give explicit padding instead",
        id="same-with-stride-on-one-axis",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - separable: {out: 4, kernel: 3, stride: 2, padding: same}\n",
        "net.yaml:3:56: layer separable1, field separable.padding: padding 'same' needs stride 1 (as in PyTorch), got stride [2, 2]: give explicit padding instead",
        id="separable-same-with-stride",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: full}\n",
        "net.yaml:3:40: layer conv1, field conv.padding: must be an integer >= 0, a list per axis, 'same' or 'valid', got 'full'",
        id="padding-word",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: -1}\n",
        "net.yaml:3:40: layer conv1, field conv.padding: must be an integer >= 0, got -1",
        id="padding-negative",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: [1]}\n",
        "net.yaml:3:40: layer conv1, field conv.padding: needs one value per spatial axis (2 for a 2-D input), got 1",
        id="padding-one-axis-on-2d",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: [[1, 1, 1], 0]}\n",
        "net.yaml:3:41: layer conv1, field conv.padding: each axis takes an integer or a [before, after] pair, got a list",
        id="padding-pair-of-three",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: [[1, -1], 0]}\n",
        "net.yaml:3:45: layer conv1, field conv.padding: must be an integer >= 0, got -1",
        id="padding-pair-negative",
    ),
    pytest.param(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: {h: 1}}\n",
        "net.yaml:3:40: layer conv1, field conv.padding: must be an integer >= 0, a list per axis, 'same' or 'valid', got a mapping",
        id="padding-mapping",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - maxpool: {kernel: 3, padding: same}\n",
        "net.yaml:3:35: layer maxpool1, field maxpool.padding: must be an integer >= 0, got 'same'",
        id="pool-padding-same",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv_transpose: {out: 4, kernel: 3, padding: same}\n",
        "net.yaml:3:50: layer conv_transpose1, field conv_transpose.padding: must be an integer >= 0, got 'same'",
        id="conv-transpose-padding-same",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - maxpool: {kernel: 3, padding: 2}\n",
        "net.yaml:3:5: layer maxpool1, field maxpool.padding: padding (2) must be at most half the kernel (3), as in PyTorch",
        id="maxpool-padding-above-half",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - avgpool: {kernel: 2, padding: 2}\n",
        "net.yaml:3:5: layer avgpool1, field avgpool.padding: padding (2) must be at most half the kernel (2), as in PyTorch",
        id="avgpool-padding-above-half",
    ),
    pytest.param(
        "input: [1, 1, 4, 4]\nlayers:\n  - avgpool: {kernel: 2, padding: 1}\n",
        "net.yaml:3:5: layer avgpool1, field avgpool.kernel: a 3-D avgpool needs every input size >= the kernel, as PyTorch's AvgPool3d checks before padding: axis D has 1 < 2",
        id="avgpool-3d-smaller-than-kernel",
    ),
    pytest.param(
        "input: [3, 4, 4]\nlayers:\n  - relu: {}\n  - conv: {out: 4, kernel: 7}\n",
        "net.yaml:4:5: layer conv1, field conv.kernel: output size on axis H would be ⌊(4 + 0 − 1·(7 − 1) − 1) / 1⌋ + 1 = -2, below 1: the input (4) plus padding (0) is smaller than the kernel's span (7)",
        id="kernel-larger-than-input",
    ),
    pytest.param(
        "input: [3, 8, 4]\nlayers:\n  - conv: {out: 4, kernel: [3, 7], stride: 2}\n",
        "net.yaml:3:5: layer conv1, field conv.kernel: output size on axis W would be ⌊(4 + 0 − 1·(7 − 1) − 1) / 2⌋ + 1 = -1, below 1: the input (4) plus padding (0) is smaller than the kernel's span (7)",
        id="kernel-larger-on-axis-w",
    ),
    pytest.param(
        "input: [3, 4]\nlayers:\n  - conv: {out: 4, kernel: 3, dilation: 2}\n",
        "net.yaml:3:5: layer conv1, field conv.kernel: output size on axis L would be ⌊(4 + 0 − 2·(3 − 1) − 1) / 1⌋ + 1 = 0, below 1: the input (4) plus padding (0) is smaller than the kernel's span (5)",
        id="dilated-kernel-larger-1d",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv:\n      out: 4\n      kernel: 9\n",
        "net.yaml:3:5: layer conv1, field conv.kernel: output size on axis H would be ⌊(8 + 0 − 1·(9 − 1) − 1) / 1⌋ + 1 = 0, below 1: the input (8) plus padding (0) is smaller than the kernel's span (9)",
        id="block-style-layer",
    ),
    pytest.param(
        "input: [8, 2, 2]\nlayers:\n  - separable: {out: 4, kernel: 3}\n",
        "net.yaml:3:5: layer separable1, field separable.kernel: output size on axis H would be ⌊(2 + 0 − 1·(3 − 1) − 1) / 1⌋ + 1 = 0, below 1: the input (2) plus padding (0) is smaller than the kernel's span (3)",
        id="separable-kernel-larger",
    ),
    pytest.param(
        "input: [8, 2, 2]\nlayers:\n  - maxpool: {kernel: 3}\n",
        "net.yaml:3:5: layer maxpool1, field maxpool.kernel: output size on axis H would be ⌊(2 + 2·0 − 1·(3 − 1) − 1) / 3⌋ + 1 = 0, below 1: the input is smaller than the window (3)",
        id="maxpool-window-larger",
    ),
    pytest.param(
        "input: [8, 1, 1]\nlayers:\n  - avgpool: {kernel: 5, stride: 1, ceil_mode: true}\n",
        "net.yaml:3:5: layer avgpool1, field avgpool.kernel: output size on axis H would be ⌈(1 + 2·0 − 1·(5 − 1) − 1) / 1⌉ + 1 = -3, below 1: the input is smaller than the window (5)",
        id="avgpool-ceil-window-larger",
    ),
    pytest.param(
        "input: [8, 1, 1]\nlayers:\n  - conv_transpose: {out: 4, kernel: 1, padding: 1}\n",
        "net.yaml:3:5: layer conv_transpose1, field conv_transpose.padding: output size on axis H would be (1 − 1)·1 − 2·1 + 1·(1 − 1) + 0 + 1 = -1, below 1",
        id="conv-transpose-output-below-1",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv_transpose: {out: 4, kernel: 3, stride: 2, output_padding: 2}\n",
        "net.yaml:3:5: layer conv_transpose1, field conv_transpose.output_padding: output_padding (2) must be smaller than stride or dilation (max 2), as in PyTorch",
        id="conv-transpose-output-padding",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - adaptive_avgpool: {size: 0}\n",
        "net.yaml:3:30: layer adaptive_avgpool1, field adaptive_avgpool.size: must be an integer >= 1, got 0",
        id="adaptive-size-zero",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - adaptive_maxpool: {}\n",
        "net.yaml:3:5: layer adaptive_maxpool1, field adaptive_maxpool.size: `size` is required (an integer >= 1, or one per axis)",
        id="adaptive-size-missing",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - adaptive_maxpool: {size: [1, 1, 1]}\n",
        "net.yaml:3:30: layer adaptive_maxpool1, field adaptive_maxpool.size: needs one value per spatial axis (2 for a 2-D input), got 3",
        id="adaptive-size-three-axes",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - global_avgpool: {}\n  - linear: {out: 10}\n",
        "net.yaml:4:5: layer linear1: linear needs a flat input [features], got [8, 1, 1]: add `- flatten: {}` before it (global pools keep [C, 1, 1])",
        id="linear-before-flatten",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - linear: {out: 10}\n",
        "net.yaml:3:5: layer linear1: linear needs a flat input [features], got [8, 8, 8]: add `- flatten: {}` before it (global pools keep [C, 1, 1])",
        id="linear-on-feature-map",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - conv: {out: 4, kernel: 1}\n",
        "net.yaml:4:5: layer conv1: conv needs a spatial input [C, ...], got the flat shape [512]",
        id="conv-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - depthwise: {kernel: 3}\n",
        "net.yaml:4:5: layer depthwise1: depthwise needs a spatial input [C, ...], got the flat shape [512]",
        id="depthwise-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - pointwise: {out: 4}\n",
        "net.yaml:4:5: layer pointwise1: pointwise needs a spatial input [C, ...], got the flat shape [512]",
        id="pointwise-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - separable: {out: 4, kernel: 3}\n",
        "net.yaml:4:5: layer separable1: separable needs a spatial input [C, ...], got the flat shape [512]",
        id="separable-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - conv_transpose: {out: 4, kernel: 3}\n",
        "net.yaml:4:5: layer conv_transpose1: conv_transpose needs a spatial input [C, ...], got the flat shape [512]",
        id="conv_transpose-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - maxpool: {kernel: 2}\n",
        "net.yaml:4:5: layer maxpool1: maxpool needs a spatial input [C, ...], got the flat shape [512]",
        id="maxpool-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - avgpool: {kernel: 2}\n",
        "net.yaml:4:5: layer avgpool1: avgpool needs a spatial input [C, ...], got the flat shape [512]",
        id="avgpool-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - global_avgpool: {}\n",
        "net.yaml:4:5: layer global_avgpool1: global_avgpool needs a spatial input [C, ...], got the flat shape [512]",
        id="global_avgpool-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - global_maxpool: {}\n",
        "net.yaml:4:5: layer global_maxpool1: global_maxpool needs a spatial input [C, ...], got the flat shape [512]",
        id="global_maxpool-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - flatten: {}\n  - adaptive_avgpool: {size: 1}\n",
        "net.yaml:4:5: layer adaptive_avgpool1: adaptive_avgpool needs a spatial input [C, ...], got the flat shape [512]",
        id="adaptive_avgpool-on-flat-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - concat:\n      a: [{conv: {out: 4, kernel: 3}}]\n      b: []\n    name: mix\n",
        "net.yaml:3:5: layer mix: the branches of concat disagree: a → [4, 6, 6], b → [8, 8, 8]; concat needs equal sizes on every axis but channels",
        id="concat-mismatch",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add:\n      body: [{conv: {out: 4, kernel: 1}}]\n      shortcut: []\n",
        "net.yaml:3:5: layer add1: the branches of add disagree: body → [4, 8, 8], shortcut → [8, 8, 8]; add needs equal shapes",
        id="add-mismatch",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - multiply:\n      x: [{conv: {out: 4, kernel: 1}}]\n      y: []\n",
        "net.yaml:3:5: layer multiply1: the branches of multiply disagree: x → [4, 8, 8], y → [8, 8, 8]; multiply needs broadcastable shapes (each axis equal, or 1 in one branch)",
        id="multiply-mismatch-channels",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - multiply:\n      x: [{maxpool: {kernel: 2}}]\n      y: []\n",
        "net.yaml:3:5: layer multiply1: the branches of multiply disagree: x → [8, 4, 4], y → [8, 8, 8]; multiply needs broadcastable shapes (each axis equal, or 1 in one branch)",
        id="multiply-mismatch-spatial",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - concat:\n      x: [{flatten: {}}]\n      y: []\n",
        "net.yaml:3:5: layer concat1: the branches of concat disagree: x → [512], y → [8, 8, 8]; all branches need the same rank",
        id="merge-rank-mismatch",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add: [[], []]\n",
        "net.yaml:3:11: layer add1: add written as a list names its inputs, earlier outputs (`add: [a, b]`); item 0 is a list: for branches of layers write a mapping of branch names to layer lists",
        id="merge-list",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add: {}\n",
        "net.yaml:3:10: layer add1: add needs a mapping of named branches, each a list of layers ([] is the identity), got a mapping",
        id="merge-empty-mapping",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add:\n",
        "net.yaml:3:9: layer add1: add needs a mapping of named branches, each a list of layers ([] is the identity), got null",
        id="merge-null",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add:\n      a.b: []\n",
        "net.yaml:4:7: layer add1: branch name 'a.b' must not contain dots (the separator of layer paths)",
        id="branch-name-with-dot",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add:\n      a: relu\n",
        "net.yaml:4:10: layer add1, field add.a: unknown tensor 'relu' (relu is a layer kind: layers are a list, `[{relu: {}}]`); visible here: input",
        id="branch-scalar",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add:\n      a: [{conv: {out: 8, kernel: 3, padding: same, stride: 0}}]\n      b: []\n",
        "net.yaml:4:61: layer add1.a.conv1, field conv.stride: must be an integer >= 1, got 0",
        id="error-inside-branch",
    ),
    pytest.param(
        "input: [8, 8, 8]\nvariants:\n  - relu: {}\n",
        "net.yaml:3:3: `variants` must map variant names to layer lists (or to {input, layers})",
        id="variants-list",
    ),
    pytest.param(
        "input: [8, 8, 8]\nvariants: {}\n",
        "net.yaml:2:11: `variants` must map variant names to layer lists (or to {input, layers})",
        id="variants-empty",
    ),
    pytest.param(
        "variants:\n  a:\n    - relu: {}\n",
        "net.yaml:2:3: variant 'a' has no input shape: give the spec an `input`, or the variant {input, layers}",
        id="variant-without-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nvariants:\n  a:\n    input: [3, 8, 8]\n",
        "net.yaml:4:5: variant 'a' has no `layers`",
        id="variant-without-layers",
    ),
    pytest.param(
        "input: [8, 8, 8]\nvariants:\n  a:\n    layer: []\n",
        "net.yaml:4:5: unknown key of variant 'a' 'layer'; did you mean 'layers'?; allowed: input, layers, budget",
        id="variant-unknown-key",
    ),
    pytest.param(
        "variants:\n  a:\n    input: [3]\n    layers: []\n",
        "net.yaml:3:12: field variants.a.input: must be [C, L], [C, H, W] or [C, D, H, W] (channels first, no batch; rank 2 to 4), got 1 value",
        id="variant-bad-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nvariants:\n  a: relu\n",
        "net.yaml:3:6: `variants.a` must be a list of layers, got 'relu'",
        id="variant-layers-scalar",
    ),
    pytest.param(
        "input: [8, 8, 8]\nvariants:\n  a: []\n  b:\n    - conv: {out: 0, kernel: 1}\n",
        "net.yaml:5:19: layer conv1, field conv.out: must be an integer >= 1, got 0",
        id="error-in-second-variant",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks: [a]\nlayers: []\n",
        "net.yaml:2:9: `blocks` must map block names to definitions, got a list",
        id="blocks-list",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  conv:\n    layers: []\nlayers: []\n",
        "net.yaml:3:3: block name 'conv' is a built-in layer kind; choose another name",
        id="block-named-like-a-kind",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b: []\nlayers: []\n",
        "net.yaml:3:6: block 'b' must be a mapping with `layers` (and optional `params`), got a list",
        id="block-body-list",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    param: {}\n    layers: []\nlayers: []\n",
        "net.yaml:4:5: unknown key of block 'b' 'param'; did you mean 'params'?; allowed: params, layers",
        id="block-unknown-key",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {a: 1}\nlayers: []\n",
        "net.yaml:4:5: block 'b' has no `layers`",
        id="block-without-layers",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    layers: {}\nlayers: []\n",
        "net.yaml:4:13: `blocks.b.layers` must be a list of layers, got a mapping",
        id="block-layers-mapping",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: [a]\n    layers: []\nlayers: []\n",
        "net.yaml:4:13: `params` of block 'b' must map names to defaults, got a list",
        id="block-params-list",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {in_channels: 1}\n    layers: []\nlayers: []\n",
        "net.yaml:4:14: `in_channels` is provided by convcost (the channels arriving at the block); it cannot be a parameter",
        id="block-param-in-channels",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {a-b: 1}\n    layers: []\nlayers: []\n",
        "net.yaml:4:14: parameter name 'a-b' must be an identifier",
        id="block-param-not-identifier",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {width: null, k: 3}\n    layers:\n      - conv: {out: $width, kernel: $k, padding: 1}\nlayers:\n  - bb: {width: 4}\n",
        "net.yaml:8:5: layers[0]: unknown layer kind 'bb'; did you mean 'b'?; see docs/spec-format.md for the kinds (and `blocks:` for your own)",
        id="unknown-block",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {width: null, k: 3}\n    layers:\n      - conv: {out: $width, kernel: $k, padding: 1}\nlayers:\n  - b: {k: 3}\n",
        "net.yaml:8:5: layer b1: block 'b' needs parameter 'width' (it has no default)",
        id="block-parameter-missing",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {width: null, k: 3}\n    layers:\n      - conv: {out: $width, kernel: $k, padding: 1}\nlayers:\n  - b: {width: 4, kk: 3}\n",
        "net.yaml:8:19: layer b1: unknown parameter 'kk' for block 'b'; did you mean 'k'?; its parameters: width, k",
        id="block-parameter-unknown",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {width: null, k: 3}\n    layers:\n      - conv: {out: $width, kernel: $k, padding: 1}\nlayers:\n  - b: [4]\n",
        "net.yaml:8:8: layer b1: the arguments of block 'b' must be a mapping of parameters, got a list",
        id="block-arguments-list",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {width: null, k: 3}\n    layers:\n      - conv: {out: $width, kernel: $k, padding: 1}\nlayers:\n  - b: 4\n",
        "net.yaml:8:8: layer b1: the arguments of block 'b' must be a mapping of parameters, got 4",
        id="block-arguments-scalar",
    ),
    # at the use of $width in the body
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {width: null, k: 3}\n    layers:\n      - conv: {out: $width, kernel: $k, padding: 1}\nlayers:\n  - b: {width: 0}\n",
        "net.yaml:6:21: layer b1.conv1, field conv.out: must be an integer >= 1, got 0 (in block 'b' at net.yaml:3:3, used at net.yaml:8:5 with width=0, k=3)",
        id="block-argument-invalid-in-body",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  a:\n    layers:\n      - a: {}\nlayers:\n  - a: {}\n",
        "net.yaml:5:9: layer a1.a1: block 'a' uses itself: a → a",
        id="block-uses-itself",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  a:\n    layers:\n      - b: {}\n  b:\n    layers:\n      - relu: {}\n      - a: {}\nlayers:\n  - a: {}\n",
        "net.yaml:9:9: layer a1.b1.a1: block 'a' uses itself: a → b → a",
        id="blocks-use-each-other",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {width: 4}\n    layers:\n      - conv: {out: $widht, kernel: 1}\nlayers:\n  - b: {}\n",
        "net.yaml:6:21: layer b1.conv1, field conv.out: $widht is not a parameter of block 'b'; known: $width, $in_channels; did you mean 'width'? (in block 'b' at net.yaml:3:3, used at net.yaml:8:5 with width=4)",
        id="undefined-parameter",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: $width, kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: $width is not a parameter; known: $in_channels",
        id="parameter-outside-blocks",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    name: x$f\n",
        "net.yaml:4:11: field name: $f is not a parameter; known: $in_channels",
        id="parameter-in-name-undefined",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {f: true}\n    layers:\n      - relu: {}\n        name: x$f\nlayers:\n  - b: {}\n",
        "net.yaml:7:15: field name: $f must be a number or a string inside text, got true (a boolean) (in block 'b' at net.yaml:3:3, used at net.yaml:9:5 with f=true)",
        id="parameter-in-name-bool",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {f: [1]}\n    layers:\n      - relu: {}\n        name: x$f\nlayers:\n  - b: {}\n",
        "net.yaml:7:15: field name: $f must be a number or a string inside text, got a list (in block 'b' at net.yaml:3:3, used at net.yaml:9:5 with f=[1])",
        id="parameter-in-name-list",
    ),
    # at the parameter's list
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {k: [3, 3]}\n    layers:\n      - conv: {out: $k, kernel: 1}\nlayers:\n  - b: {}\n",
        "net.yaml:4:17: layer b1.conv1, field conv.out: must be an integer >= 1, got a list (in block 'b' at net.yaml:3:3, used at net.yaml:8:5 with k=[3, 3])",
        id="list-parameter-for-an-int",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {k: [3, 3, 3]}\n    layers:\n      - conv: {out: 4, kernel: $k}\nlayers:\n  - b: {}\n",
        "net.yaml:4:17: layer b1.conv1, field conv.kernel: needs one value per spatial axis (2 for a 2-D input), got 3 (in block 'b' at net.yaml:3:3, used at net.yaml:8:5 with k=[3, 3, 3])",
        id="list-parameter-wrong-length",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {k: [03, 3]}\n    layers:\n      - conv: {out: 4, kernel: $k}\nlayers:\n  - b: {}\n",
        "net.yaml:4:18: field blocks.b.params.k[0]: 03 is octal 3 in YAML 1.1: write 3",
        id="list-parameter-octal-item",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {w: 1e3}\n    layers:\n      - conv: {out: $w, kernel: 1}\nlayers:\n  - b: {}\n",
        "net.yaml:6:21: layer b1.conv1, field conv.out: must be an integer >= 1, got '1e3' (YAML 1.1 reads 1e6 as a string: write the integer out) (in block 'b' at net.yaml:3:3, used at net.yaml:8:5 with w='1e3')",
        id="parameter-1e3",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {n: -1}\n    layers:\n      - relu: {}\n        repeat: $n\nlayers:\n  - b: {}\n",
        "net.yaml:7:17: layer b1.relu1, field repeat: must be an integer >= 0, got -1 (in block 'b' at net.yaml:3:3, used at net.yaml:9:5 with n=-1)",
        id="repeat-from-parameter",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${in_channels *}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: cannot parse expression 'in_channels *'; allowed: numbers, names, + - * / // % **, comparisons, and/or/not, x if c else y, round floor ceil min max abs make_divisible",
        id="expression-syntax",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: cannot parse expression ''; allowed: numbers, names, + - * / // % **, comparisons, and/or/not, x if c else y, round floor ceil min max abs make_divisible",
        id="expression-empty",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${in_channels // 0}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: division by zero in 'in_channels // 0'",
        id="expression-floor-division-by-zero",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${in_channels % (4 - 4)}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: division by zero in 'in_channels % (4 - 4)'",
        id="expression-modulo-by-zero",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${in_channels / 3}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 2.6666666666666665 from ${in_channels / 3} (not a whole number: round it with round(), floor(), ceil() or make_divisible())",
        id="expression-true-division",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${in_channels ** 300}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: 'in_channels ** 300' computes an integer of more than 256 bits (the limit for every step of an expression)",
        id="expression-power",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${len(in_channels)}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: 'len(in_channels)' is not allowed in 'len(in_channels)'; allowed: numbers, names, + - * / // % **, comparisons, and/or/not, x if c else y, round floor ceil min max abs make_divisible",
        id="expression-call",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${in_channels.real}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: 'in_channels.real' is not allowed in 'in_channels.real'; allowed: numbers, names, + - * / // % **, comparisons, and/or/not, x if c else y, round floor ceil min max abs make_divisible",
        id="expression-attribute",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${in_channels * 1.3}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 10.4 from ${in_channels * 1.3} (not a whole number: round it with round(), floor(), ceil() or make_divisible())",
        id="expression-float",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${\"a\"}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 'a'",
        id="expression-string",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${in_channels > 2}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got true (a boolean)",
        id="expression-comparison",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${in_chanels * 2}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: unknown name 'in_chanels' in 'in_chanels * 2'; known: in_channels",
        id="expression-unknown-name",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: '${-in_channels}', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got -8",
        id="expression-negative-result",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: 'w$in_channels', kernel: 1}\n",
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 'w8'",
        id="expression-text-around",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {a: 2, c: '${a // 0}'}\n    layers:\n      - relu: {}\nlayers:\n  - b: {}\n",
        "net.yaml:4:23: layer b1, field b.c: division by zero in 'a // 0'",
        id="expression-in-default",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {m: same}\n    layers:\n      - conv: {out: '${m * 2}', kernel: 1}\nlayers:\n  - b: {}\n",
        "net.yaml:6:21: layer b1.conv1, field conv.out: the left operand of * must be a number, got 'same' in 'm * 2' (in block 'b' at net.yaml:3:3, used at net.yaml:8:5 with m='same')",
        id="expression-string-parameter",
    ),
]


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(("text", "expected"), CASES)
def test_cli_error(text: str, expected: str) -> None:
    assert cli_error(text) == expected


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_api_error_is_the_same_message(text: str, expected: str) -> None:
    assert str(api_error(text)) == expected


# ---------------------------------------------------------------------------------------------
# Regressions: bugs found while writing these tests, each fixed in its own commit.


@pytest.mark.usefixtures("in_tmp")
def test_maxpool_padding_limit_is_half_the_kernel_not_the_dilated_span() -> None:
    # PyTorch: MaxPool2d(3, dilation=2, padding=2) raises "pad should be smaller than or equal
    # to half of kernel size" (kernel_size // 2 >= padding), although the dilated span is 5.
    assert cli_error(
        "input: [1, 9, 9]\nlayers:\n  - maxpool: {kernel: 3, dilation: 2, padding: 2}\n"
    ) == (
        "net.yaml:3:5: layer maxpool1, field maxpool.padding: "
        "padding (2) must be at most half the kernel (3), as in PyTorch"
    )


def test_ceil_mode_pool_wider_than_its_input_gives_one_output() -> None:
    # PyTorch: AvgPool2d(3, ceil_mode=True) on 2x2 gives 1x1: ⌈(2 − 3) / 3⌉ + 1 = 1, and the
    # window starts inside the input (0 < 2 + 0). Without ceil mode it is an error (below).
    report = convcost.analyze(
        convcost.parse_spec(
            "input: [8, 2, 2]\nlayers:\n  - avgpool: {kernel: 3, ceil_mode: true}\n"
        )
    )
    assert report.output_shape == (8, 1, 1)


BLOCK_OUT = (
    "input: [8, 8, 8]\nblocks:\n  b:\n    params: {w: DEFAULT}\n    layers:\n"
    "      - conv: {out: $w, kernel: 1}\nlayers:\n  - b: ARGS\n"
)


@pytest.mark.usefixtures("in_tmp")
def test_a_parameter_keeps_the_text_it_was_written_as() -> None:
    # the message showed the reference ("got $w (a boolean)") instead of the value
    text = BLOCK_OUT.replace("DEFAULT", "yes").replace("ARGS", "{}")
    # the location is the use of $w (line 6, column 21)
    assert cli_error(text) == (
        "net.yaml:6:21: layer b1.conv1, field conv.out: must be an integer >= 1, got yes (a boolean)"
        " (in block 'b' at net.yaml:3:3, used at net.yaml:8:5 with w=true)"
    )


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("default", "args", "expected"),
    [
        # 017 is octal 15 in YAML 1.1: through $w it was silently taken as 15. The loader now
        # refuses it where it is written (the default at 4:17, the argument at 8:12), used or not.
        (
            "017",
            "{}",
            "net.yaml:4:17: field blocks.b.params.w: 017 is octal 15 in YAML 1.1: write 15, or 17",
        ),
        (
            "4",
            "{w: 010}",
            "net.yaml:8:12: field layers[0].b.w: 010 is octal 8 in YAML 1.1: write 8, or 10",
        ),
    ],
)
def test_an_octal_parameter_is_refused_where_it_is_written(
    default: str, args: str, expected: str
) -> None:
    assert cli_error(BLOCK_OUT.replace("DEFAULT", default).replace("ARGS", args)) == expected


@pytest.mark.usefixtures("in_tmp")
def test_a_list_parameter_in_an_expression_is_shown_as_a_list() -> None:
    # the message dumped the internal tree repr (Seq(items=(Scalar(...)))) instead of [3, 3]
    text = (
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {k: [3, 3]}\n    layers:\n"
        "      - conv: {out: '${k * 2}', kernel: 1}\nlayers:\n  - b: {}\n"
    )
    assert cli_error(text) == (
        "net.yaml:6:21: layer b1.conv1, field conv.out: 'k' is not a number (it is [3, 3]) in 'k * 2'"
        " (in block 'b' at net.yaml:3:3, used at net.yaml:8:5 with k=[3, 3])"
    )


@pytest.mark.usefixtures("in_tmp")
def test_a_control_character_is_one_line_at_its_position() -> None:
    # PyYAML's ReaderError has no mark and a two-line message; it was reported at 1:1
    assert cli_error("input: [3, 8, 8]\nlayers: []\n# bell \x07\n") == (
        "net.yaml:3:8: invalid YAML: unacceptable character #x0007: control characters are not allowed"
    )


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (
            "conv: {out: 4, kernal: 3}",
            "3:20: layer conv1, field conv.kernal: unknown field 'kernal' for conv; "
            "did you mean 'kernel'?; allowed: out, kernel, stride, dilation, padding, groups, bias",
        ),
        (
            "adaptive_avgpool: {szie: 3}",
            "3:24: layer adaptive_avgpool1, field adaptive_avgpool.szie: unknown field 'szie' "
            "for adaptive_avgpool; did you mean 'size'?; allowed: size",
        ),
    ],
)
def test_a_misspelt_required_field_is_reported_as_unknown(layer: str, expected: str) -> None:
    # was "`kernel` is required": the did-you-mean for the typo was never reached
    assert cli_error(f"input: [3, 8, 8]\nlayers:\n  - {layer}\n") == f"net.yaml:{expected}"


# ---------------------------------------------------------------------------------------------
# Files, names and options


def invoke(*args: str) -> tuple[int, str]:
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    result = runner.invoke(app, list(args))
    assert isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


@pytest.mark.usefixtures("in_tmp")
def test_missing_file() -> None:
    assert invoke("analyze", "missing.yaml") == (2, "error: no such spec file: missing.yaml\n")


def test_directory(in_tmp: Path) -> None:
    (in_tmp / "specs.yaml").mkdir()
    assert invoke("analyze", "specs.yaml") == (
        2,
        "error: specs.yaml is a directory, not a spec file\n",
    )


def test_a_fifo_is_refused_without_waiting_for_a_writer(in_tmp: Path) -> None:
    os.mkfifo(in_tmp / "net.yaml")
    assert invoke("analyze", "net.yaml") == (
        2,
        "error: net.yaml is a FIFO, not a regular file: convcost reads spec files\n",
    )


def test_file_that_is_not_utf8(in_tmp: Path) -> None:
    (in_tmp / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    code, stderr = invoke("analyze", "latin1.yaml")
    assert code == ExitStatus.INVALID_INPUT
    # the byte's place: line 1, column 10 (after "name: caf")
    assert stderr == (
        "error: latin1.yaml:1:10: the spec is not UTF-8: byte 0xe9 is invalid here "
        "(invalid continuation byte); save the file as UTF-8\n"
    )


@pytest.mark.usefixtures("in_tmp")
def test_a_name_that_is_neither_a_file_nor_a_bundled_model() -> None:
    code, stderr = invoke("analyze", "no-such-model")
    assert code == ExitStatus.INVALID_INPUT
    assert stderr.startswith(
        "error: no spec file 'no-such-model' and no bundled model of that name; bundled: "
    )
    assert stderr.count("\n") == 1


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("option", "value", "names"),  # typer's own usage errors, exit 2 as well
    [
        ("--batch", "0", "--batch"),
        ("--dtype", "float8", "--dtype"),
        ("--format", "yaml", "--format"),
    ],
)
def test_bad_options_are_usage_errors(option: str, value: str, names: str) -> None:
    Path("net.yaml").write_text("input: [3, 8, 8]\nlayers: []\n", encoding="utf-8")
    code, stderr = invoke("analyze", "net.yaml", option, value)
    assert code == ExitStatus.INVALID_INPUT
    assert "Error: Invalid value for " in stderr
    assert names in stderr
    assert "Traceback" not in stderr


def test_api_checks_variant_batch_and_dtype() -> None:
    spec = convcost.parse_spec("input: [3, 8, 8]\nvariants:\n  a: []\n  b: []\n", source="net.yaml")
    with pytest.raises(SpecError) as caught:
        convcost.analyze(spec, variant="c")
    assert str(caught.value) == "net.yaml: no variant named 'c'; variants: a, b"
    with pytest.raises(SpecError) as caught:
        convcost.analyze(spec, batch=0)
    assert str(caught.value) == "batch must be >= 1, got 0"
    with pytest.raises(SpecError) as caught:
        convcost.analyze(spec, dtype="float8")
    assert str(caught.value) == (
        "unknown dtype 'float8'; choose one of float32, float16, bfloat16, int8, float64"
    )


def test_load_spec_reads_text_with_newlines_and_names_it_string() -> None:
    with pytest.raises(SpecError) as caught:
        convcost.load_spec("input: [3]\nlayers: []\n")
    assert str(caught.value) == (
        "<string>:1:8: field input: must be [C, L], [C, H, W] or [C, D, H, W] "
        "(channels first, no batch; rank 2 to 4), got 1 value"
    )


def test_shape_errors_are_shape_errors_with_their_parts() -> None:
    # ShapeError (a SpecError) carries location, layer and field separately for the API
    with pytest.raises(convcost.ShapeError) as caught:
        convcost.analyze(
            convcost.parse_spec(
                "input: [30, 8, 8]\nlayers:\n  - conv: {out: 8, kernel: 3, groups: 4}\n"
            )
        )
    error = caught.value
    assert (str(error.location), error.layer, error.field) == (
        "<string>:3:5",
        "conv1",
        "conv.groups",
    )
    assert error.message == "input channels (30) must be divisible by groups (4)"
    assert error.exit_status == ExitStatus.INVALID_INPUT


@pytest.mark.usefixtures("in_tmp")
def test_3d_avgpool_needs_the_input_at_least_the_kernel_before_padding() -> None:
    # PyTorch: AvgPool3d(2, padding=1) on 1x4x4 raises "input image (T: 1 H: 4 W: 4) smaller
    # than kernel size (kT: 2 kH: 2 kW: 2)"; convcost predicted 2x3x3 (found by
    # tests/test_torch_shapes.py). 1-D and 2-D avgpools have no such check.
    assert cli_error("input: [1, 1, 4, 4]\nlayers:\n  - avgpool: {kernel: 2, padding: 1}\n") == (
        "net.yaml:3:5: layer avgpool1, field avgpool.kernel: a 3-D avgpool needs every input size "
        ">= the kernel, as PyTorch's AvgPool3d checks before padding: axis D has 1 < 2"
    )
    report = convcost.analyze(
        convcost.parse_spec("input: [1, 1, 4]\nlayers:\n  - avgpool: {kernel: 2, padding: 1}\n")
    )
    assert report.output_shape == (
        1,
        1,
        3,
    )  # 2-D: ⌊(1 + 2 − 2) / 2⌋ + 1 = 1, ⌊(4 + 2 − 2) / 2⌋ + 1 = 3
