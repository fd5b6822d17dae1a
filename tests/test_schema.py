"""``convcost schema``: a valid JSON Schema, true to the specs and to the kinds registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.fields import Args, Scope
from convcost.layers.kind import FieldType, Kind
from convcost.layers.registry import KINDS
from convcost.schema import spec_schema
from convcost.tree import Map
from tests.conftest import require

jsonschema = require("jsonschema")

ROOT = Path(__file__).parent.parent
SPEC_FILES = sorted((ROOT / "specs").glob("*.yaml")) + sorted(
    (ROOT / "convcost" / "zoo").glob("*.yaml")
)
SCHEMA = spec_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def errors(text: str) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(yaml.safe_load(text))]


def reasons(text: str, validator: Any = VALIDATOR) -> set[tuple[str, str]]:
    """Every innermost error as (path, message): an ``anyOf`` error's own message ("is not valid
    under any of the given schemas") says nothing, its sub-errors say why."""

    def leaves(error: Any) -> Iterator[Any]:
        if not error.context:
            yield error
        for sub in error.context:
            yield from leaves(sub)

    return {
        ("/".join(map(str, leaf.absolute_path)), leaf.message)
        for error in validator.iter_errors(yaml.safe_load(text))
        for leaf in leaves(error)
    }


def has_reason(text: str, path: str, message: str, validator: Any = VALIDATOR) -> bool:
    found = reasons(text, validator)
    return any(where == path and said.startswith(message) for where, said in found)


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_cli_prints_the_schema() -> None:
    # the printed schema, used as a validator, accepts a bundled spec and names a misspelt field
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(printed)
    validator = jsonschema.Draft202012Validator(printed)
    quickstart = (ROOT / "specs" / "quickstart.yaml").read_text(encoding="utf-8")
    assert list(validator.iter_errors(yaml.safe_load(quickstart))) == []
    typo = "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernal: 3}\n"
    assert has_reason(
        typo, "layers/0/conv", "Additional properties are not allowed ('kernal' was unexpected)",
        validator,
    )  # fmt: skip


@pytest.mark.parametrize("path", SPEC_FILES, ids=[p.stem for p in SPEC_FILES])
def test_bundled_specs_validate(path: Path) -> None:
    assert errors(path.read_text(encoding="utf-8")) == []


RICH = """
name: rich
input: [16, 32, 32]
blocks:
  bottleneck:
    params: {mid: 8, stride: 1, kernel: null}
    layers:
      - add:
          body:
            - conv: {out: $mid, kernel: $kernel, stride: $stride, padding: same, bias: false}
            - batchnorm: {eps: 0.001}
            - relu: {}
            - pointwise:
                out: ${in_channels}
          shortcut: []
      - relu:
layers:
  - bottleneck: {mid: 4, kernel: 3}
    repeat: 2
  - concat:
      a: [{conv: {out: 8, kernel: [1, 3], padding: [[0, 0], [1, 1]]}}]
      b: [{maxpool: {kernel: 3, stride: 1, padding: 1, ceil_mode: true}}]
      c:
    name: mixed
  - multiply:
      identity: []
      gate: [{global_avgpool: {}}, {conv: {out: 40, kernel: 1}}, {sigmoid: {}}]
  - separable: {out: 8, kernel: 3, padding: 1, multiplier: 2}
  - conv_transpose: {out: 4, kernel: 2, stride: 2, output_padding: 0}
  - channel_shuffle: {groups: 2}
  - split: {index: 1}
  - dropout: {p: 0.1, mode: spatial}
  - adaptive_avgpool: {size: [2, 2]}
  - flatten: {}
  - linear: {out: 10, bias: false}
budget:
  params: 1.5M
  macs: 600M
  flops: 1_200_000_000
  activation_memory: 64 MiB
  peak_memory: 32MiB
  receptive_field: {min: [3, 3]}
"""

VARIANTS = """
input: [3, 32, 32]
budget: {params: 5M}
variants:
  plain:
    - conv: {out: 4, kernel: 3}
  own:
    input: [3, 64, 64]
    budget: {macs: 1G}
    layers:
      - conv: {out: 4, kernel: 3}
"""


@pytest.mark.parametrize("text", [RICH, VARIANTS], ids=["rich", "variants"])
def test_specs_using_every_construct_validate_and_analyze(text: str) -> None:
    assert errors(text) == []
    assert convcost.analyze_all(convcost.parse_spec(text))  # a real spec, not just valid


LAYER = "input: [3, 8, 8]\nlayers:\n  - "
EMPTY = "input: [3, 8, 8]\nlayers: []\n"


# Each invalid spec with the innermost error that says why (path in the document, message or
# its start): a schema that rejected it for another reason would not pass.
@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        (LAYER + "convv: {out: 4, kernel: 3}\n", "layers/0",
         "Additional properties are not allowed ('convv' was unexpected)"),
        (LAYER + "add: {a: [{rleu: {}}], b: []}\n", "layers/0/add/a/0",
         "Additional properties are not allowed ('rleu' was unexpected)"),
        (LAYER + "conv: {out: 4, kernal: 3}\n", "layers/0/conv",
         "Additional properties are not allowed ('kernal' was unexpected)"),
        (LAYER + "conv: {kernel: 3}\n", "layers/0/conv", "'out' is a required property"),
        # YAML 1.1 reads `yes` as true, and a boolean is not an integer
        (LAYER + "conv: {out: 4, kernel: 3, stride: yes}\n", "layers/0/conv/stride",
         "True is not of type 'integer'"),
        (LAYER + "conv: {out: 0, kernel: 3}\n", "layers/0/conv/out",
         "0 is less than the minimum of 1"),
        (LAYER + "dropout: {mode: spacial}\n", "layers/0/dropout/mode",
         "'spacial' is not one of ['standard', 'spatial']"),
        (LAYER + "relu: {}\n    nmae: x\n", "layers/0",
         "Additional properties are not allowed ('nmae' was unexpected)"),
        (EMPTY + "budget: {parms: 5M}\n", "budget",
         "Additional properties are not allowed ('parms' was unexpected)"),
        (EMPTY + "budget: {params: 5X}\n", "budget/params", "'5X' does not match "),
        # bytes need MB or MiB: a bare M is ambiguous
        (EMPTY + "budget: {peak_memory: 64M}\n", "budget/peak_memory", "'64M' does not match "),
        (EMPTY + "budget: {receptive_field: 3}\n", "budget/receptive_field",
         "3 is not of type 'object'"),
        (EMPTY + "variants: {a: []}\n", "",
         "{'input': [3, 8, 8], 'layers': [], 'variants': {'a': []}} should not be valid under "
         "{'required': ['layers', 'variants']}"),
        ("input: [3, 8, 8]\n", "", "'layers' is a required property"),
        ("input: [3]\nlayers: []\n", "input", "[3] is too short"),
        (EMPTY + "extra: 1\n", "", "Additional properties are not allowed ('extra' was unexpected)"),
        ("input: [3, 8, 8]\nblocks: {conv: {layers: []}}\nlayers: []\n", "blocks",
         "'conv' should not be valid under {'enum': ['adaptive_avgpool', "),
    ],
    ids=[
        "unknown kind", "unknown kind in a branch", "unknown field", "missing out", "boolean",
        "out below 1", "bad choice", "unknown entry key", "unknown budget", "bad count",
        "ambiguous bytes", "rf not a mapping", "layers and variants", "no layers", "short input",
        "unknown top-level key", "block named as kind",
    ],
)  # fmt: skip
def test_invalid_specs_fail_for_the_right_reason(text: str, path: str, message: str) -> None:
    assert has_reason(text, path, message), sorted(reasons(text))


# Written out by hand from docs/spec-format.md (not read from the registry the schema is built
# from): a kind, key or budget metric added or dropped must be added or dropped here too.
DOCUMENTED_KINDS = [
    "conv", "depthwise", "pointwise", "separable", "conv_transpose", "maxpool", "avgpool",
    "global_avgpool", "global_maxpool", "adaptive_avgpool", "adaptive_maxpool", "batchnorm",
    "relu", "relu6", "sigmoid", "swish", "silu", "gelu", "tanh", "hardswish", "hardsigmoid", "mish",
    "identity", "dropout", "flatten", "linear", "channel_shuffle", "split",
    "leaky_relu", "prelu", "elu", "softmax",
    "upsample", "pixel_shuffle", "pixel_unshuffle", "pad", "crop", "attention", "custom",
    "layer_scale", "layernorm", "groupnorm", "instancenorm",
    "concat", "add", "multiply",
]  # fmt: skip
DOCUMENTED_TOP_LEVEL_KEYS = [
    "name", "input", "layers", "variants", "blocks", "budget", "params", "include",
]  # fmt: skip
DOCUMENTED_BUDGETS = [
    "params", "macs", "flops", "activation_memory", "peak_memory", "receptive_field", "latency",
]  # fmt: skip


def test_schema_lists_every_kind_top_level_key_and_budget() -> None:
    titles = [entry["title"] for entry in SCHEMA["$defs"]["layer"]["anyOf"]]
    assert titles == [*DOCUMENTED_KINDS, "block use"]
    assert list(SCHEMA["properties"]) == DOCUMENTED_TOP_LEVEL_KEYS
    assert list(SCHEMA["properties"]["budget"]["properties"]) == DOCUMENTED_BUDGETS
    conv = SCHEMA["$defs"]["layer"]["anyOf"][0]["properties"]["conv"]
    assert conv["required"] == ["out", "kernel"]
    assert conv["properties"]["groups"]["default"] == 1
    assert conv["properties"]["bias"]["description"] == "learnable bias per output channel"


# The registry's field lists are the schema's source: they must be what the parsers read.
REQUIRED_VALUES = {
    "out": "4", "kernel": "1", "size": "1", "groups": "2", "index": "0", "factor": "2", "padding": "1",
    "heads": "2",
}  # fmt: skip


def parse(kind: Kind, fields: dict[str, str]) -> tuple[object, list[str]]:
    shape = (16,) if kind.name == "linear" else (4, 8, 8)
    body = ", ".join(f"{name}: {value}" for name, value in fields.items())
    spec = convcost.parse_spec(f"input: [4, 8, 8]\nlayers:\n  - {kind.name}: {{{body}}}\n")
    entry = spec.variants[0].layers.items[0]
    assert isinstance(entry, Map)
    mapping = entry.get(kind.name)
    assert isinstance(mapping, Map)
    args = Args(
        mapping,
        kind=kind.name,
        scope=Scope(in_channels=shape[0]),
        layer="x",
        location=mapping.location,
        rank=len(shape) - 1,
    )
    layer = kind.parse(args, shape)
    args.finish()
    return layer, args._read


# Kinds that need exactly one of two optional fields: the one given to parse them.
ONE_OF = {"upsample": {"scale": "2"}, "crop": {"crop": "1"}}


def required(kind: Kind) -> dict[str, str]:
    given = {field.name: REQUIRED_VALUES[field.name] for field in kind.fields if field.required}
    return {**given, **ONE_OF.get(kind.name, {})}


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_declared_fields_are_the_fields_the_parser_reads(kind: Kind) -> None:
    _, read = parse(kind, required(kind))
    assert sorted(set(read)) == sorted(field.name for field in kind.fields)


def _yaml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10f}"  # YAML 1.1 reads 1e-05 as a string
    return str(value)


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_declared_defaults_are_the_defaults_the_parser_applies(kind: Kind) -> None:
    base, _ = parse(kind, required(kind))
    for field in kind.fields:
        if field.default is None:
            continue
        explicit, _ = parse(kind, {**required(kind), field.name: _yaml(field.default)})
        assert explicit == base, f"{kind.name}.{field.name} default {field.default!r}"
        if field.type is FieldType.CHOICE:
            assert field.default in field.choices
