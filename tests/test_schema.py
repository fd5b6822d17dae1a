"""``convcost schema``: a valid JSON Schema, true to the specs and to the kinds registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import convcost
from convcost.budget import Metric
from convcost.cli import app
from convcost.fields import Args, Scope
from convcost.kinds import KINDS, MERGE_KINDS, FieldType, Kind
from convcost.schema import spec_schema
from convcost.spec import TOP_LEVEL_KEYS
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


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_cli_prints_the_schema() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == SCHEMA


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


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("input: [3, 8, 8]\nlayers:\n  - convv: {out: 4, kernel: 3}\n", "unknown kind"),
        (
            "input: [3, 8, 8]\nlayers:\n  - add: {a: [{rleu: {}}], b: []}\n",
            "unknown kind in a branch",
        ),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernal: 3}\n", "unknown field"),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {kernel: 3}\n", "missing out"),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, stride: yes}\n", "boolean"),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {out: 0, kernel: 3}\n", "out below 1"),
        ("input: [3, 8, 8]\nlayers:\n  - dropout: {mode: spacial}\n", "bad choice"),
        ("input: [3, 8, 8]\nlayers:\n  - relu: {}\n    nmae: x\n", "unknown entry key"),
        ("input: [3, 8, 8]\nlayers: []\nbudget: {parms: 5M}\n", "unknown budget"),
        ("input: [3, 8, 8]\nlayers: []\nbudget: {params: 5X}\n", "bad count"),
        ("input: [3, 8, 8]\nlayers: []\nbudget: {peak_memory: 64M}\n", "ambiguous bytes"),
        ("input: [3, 8, 8]\nlayers: []\nbudget: {receptive_field: 3}\n", "rf not a mapping"),
        ("input: [3, 8, 8]\nlayers: []\nvariants: {a: []}\n", "layers and variants"),
        ("input: [3, 8, 8]\n", "no layers"),
        ("input: [3]\nlayers: []\n", "short input"),
        ("input: [3, 8, 8]\nlayers: []\nextra: 1\n", "unknown top-level key"),
        ("input: [3, 8, 8]\nblocks: {conv: {layers: []}}\nlayers: []\n", "block named as kind"),
    ],
)
def test_invalid_specs_fail(text: str, what: str) -> None:
    assert errors(text), what


def test_schema_lists_every_kind_top_level_key_and_budget() -> None:
    titles = [entry["title"] for entry in SCHEMA["$defs"]["layer"]["anyOf"]]
    assert titles == [*KINDS, *MERGE_KINDS, "block use"]
    assert tuple(SCHEMA["properties"]) == TOP_LEVEL_KEYS
    assert list(SCHEMA["properties"]["budget"]["properties"]) == [m.value for m in Metric]
    conv = SCHEMA["$defs"]["layer"]["anyOf"][0]["properties"]["conv"]
    assert conv["required"] == ["out", "kernel"]
    assert conv["properties"]["groups"]["default"] == 1
    assert conv["properties"]["bias"]["description"] == "learnable bias per output channel"


# The registry's field lists are the schema's source: they must be what the parsers read.
REQUIRED_VALUES = {"out": "4", "kernel": "1", "size": "1", "groups": "2", "index": "0"}


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


def required(kind: Kind) -> dict[str, str]:
    return {field.name: REQUIRED_VALUES[field.name] for field in kind.fields if field.required}


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
