"""A JSON Schema (draft 2020-12) of the spec format, generated from the kinds registry.

Editors use it for completion and validation (``convcost schema > convcost.schema.json``;
docs/spec-format.md shows the VS Code set-up). Layer kinds and their fields come from
:data:`convcost.layers.registry.KINDS`, budget keys from :class:`convcost.budget.Budgeted`, top-level keys
from :mod:`convcost.spec`: nothing is listed twice.

The schema checks the structure a spec can have; what depends on shapes or on the values of
``$params`` (a conv's channels dividing by its groups, a block's parameters) is checked by
``convcost analyze``.
"""

from __future__ import annotations

from typing import Any

from convcost.budget import Budgeted
from convcost.latency.quantities import TIME_PATTERN
from convcost.layers.kind import Field, FieldType, Kind
from convcost.layers.registry import KINDS, MERGE_KINDS
from convcost.units import BYTES_PATTERN, COUNT_PATTERN

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]

PARAM: Schema = {
    "type": "string",
    "pattern": r"\$",
    "description": "a parameter ($name) or an expression (${make_divisible(c * width, 8)})",
}
EXPRESSION: Schema = {
    "type": "string",
    "description": "an integer expression of the input's dimensions (c, h, w…): + - * // %",
}
LAYER = {"$ref": "#/$defs/layer"}
LAYERS: Schema = {"type": "array", "items": LAYER, "description": "layers, in order"}
BUILTIN_LAYERS: Schema = {"type": "array", "items": {"$ref": "#/$defs/builtin_layer"}}
"""Layers of a spec without ``blocks:``: a name that is not a built-in kind is then a typo."""
ENTRY_PROPERTIES: Schema = {
    "name": {
        "type": "string",
        "description": "the entry's name in reports (default: kind + counter, e.g. conv2)",
    },
    "repeat": {
        "anyOf": [{"type": "integer", "minimum": 0}, PARAM],
        "description": "repeat the entry this many times (0: leave it out); rows are named 0, 1, …",
    },
    "if": {
        "anyOf": [{"type": "boolean"}, PARAM],
        "description": 'include the entry only when true, e.g. "${n > 1}"',
    },
    "from": {
        "type": ["string", "integer"],
        "description": "read this earlier named output (or input) instead of the previous one",
    },
}
TENSOR_NAME: Schema = {
    "type": ["string", "integer"],
    "description": "an earlier named output (enc2, down.enc2, input)",
}
MERGE_SUMMARIES = {
    "concat": "channel concatenation of the branches (Inception, DenseNet)",
    "add": "elementwise sum of the branches (ResNet); [] is the identity shortcut",
    "multiply": "elementwise product with broadcasting (squeeze-and-excitation)",
}


def _int(minimum: int | float) -> Schema:
    return {"type": "integer", "minimum": minimum}


def _value(field: Field[Any]) -> Schema:
    integer = _int(field.minimum)
    match field.type:
        case FieldType.INT:
            options = [integer]
        case FieldType.PER_AXIS:
            per_axis = {"anyOf": [integer, PARAM]}
            options = [integer, {"type": "array", "items": per_axis, "minItems": 1, "maxItems": 3}]
        case FieldType.PADDING:
            pair: Schema = {"type": "array", "items": {"anyOf": [integer, PARAM]}}
            pair |= {"minItems": 2, "maxItems": 2}
            axis = {"anyOf": [integer, pair, PARAM]}
            options = [
                integer,
                {"enum": ["same", "valid"]},
                {"type": "array", "items": axis, "minItems": 1, "maxItems": 3},
            ]
        case FieldType.FLAG:
            options = [{"type": "boolean"}]
        case FieldType.NUMBER:
            number: Schema = {"type": "number", "minimum": field.minimum}
            if field.maximum is not None:
                number["maximum"] = field.maximum
            options = [number]
        case FieldType.CHOICE:
            options = [{"enum": list(field.choices)}]
        case FieldType.EXPRESSION:
            options = [_int(0), EXPRESSION]
        case FieldType.EXPRESSIONS:
            size = {"anyOf": [_int(1), EXPRESSION]}
            options = [{"type": "array", "items": size, "minItems": 1, "maxItems": 4}]
        case FieldType.TEXT:
            options = [{"type": "string"}]
    schema: Schema = {"anyOf": [*options, PARAM], "description": field.description}
    if field.default is not None:
        schema["default"] = field.default
    elif field.default_note:
        schema["description"] += f" (default: {field.default_note})"
    return schema


def _kind_entry(kind: Kind) -> Schema:
    required = [field.name for field in kind.fields if field.required]
    arguments: Schema = {
        "type": "object" if required else ["object", "null"],
        "properties": {field.name: _value(field) for field in kind.fields},
        "additionalProperties": False,
    }
    if required:
        arguments["required"] = required
    arguments["description"] = kind.summary
    return _entry(kind.name, arguments, kind.summary)


def _entry(key: str, arguments: Schema, summary: str) -> Schema:
    return {
        "type": "object",
        "title": key,
        "description": summary,
        "properties": {key: arguments, **ENTRY_PROPERTIES},
        "required": [key],
        "additionalProperties": False,
    }


def _merge_entry(name: str, layers: Schema) -> Schema:
    branches = {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": r"^[^.]+$"},
        "additionalProperties": {
            "anyOf": [
                layers,
                {"type": "null"},
                TENSOR_NAME,
                {
                    "type": "object",
                    "properties": {"if": ENTRY_PROPERTIES["if"], "layers": layers},
                    "required": ["layers"],
                    "additionalProperties": False,
                },
            ],
            "description": "a branch: its layers ([] is the identity), a named output, "
            "or {if, layers}",
        },
        "description": MERGE_SUMMARIES[name] + "; maps branch names to layer lists",
    }
    inputs = {
        "type": "array",
        "items": TENSOR_NAME,
        "minItems": 1,
        "description": MERGE_SUMMARIES[name] + " of the named outputs",
    }
    return _entry(name, {"anyOf": [branches, inputs]}, MERGE_SUMMARIES[name])


def _block_entry() -> Schema:
    builtin = sorted([*KINDS, *MERGE_KINDS])
    return {
        "type": "object",
        "title": "block use",
        "description": "a use of a block defined under `blocks:`, with its parameters",
        "properties": ENTRY_PROPERTIES,
        "propertyNames": {"anyOf": [{"enum": list(ENTRY_PROPERTIES)}, {"not": {"enum": builtin}}]},
        "not": {"propertyNames": {"enum": list(ENTRY_PROPERTIES)}},
        "additionalProperties": {"type": ["object", "null"]},
        "minProperties": 1,
    }


def _budget() -> Schema:
    properties: Schema = {}
    for metric in Budgeted:
        if metric is Budgeted.RECEPTIVE_FIELD:
            minimum = {"anyOf": [_int(1), {"type": "array", "items": _int(1), "minItems": 1}]}
            value: Schema = {
                "type": "object",
                "properties": {"min": minimum},
                "required": ["min"],
                "additionalProperties": False,
            }
        elif metric is Budgeted.LATENCY:
            value = {
                "anyOf": [
                    {"type": "number", "minimum": 0},
                    {"type": "string", "pattern": TIME_PATTERN},
                ]
            }
        else:
            pattern = BYTES_PATTERN if metric.is_bytes else COUNT_PATTERN
            value = {"anyOf": [_int(0), {"type": "string", "pattern": pattern}]}
        value["description"] = metric.description
        properties[metric.value] = value
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "description": "limits checked by `convcost check`",
    }


SHAPE: Schema = {
    "type": "array",
    "items": {"anyOf": [_int(1), PARAM]},
    "minItems": 2,
    "maxItems": 4,
    "description": "input shape, channels first, without batch: [C, L], [C, H, W] or [C, D, H, W]",
}


def spec_schema() -> Schema:
    """The JSON Schema of a spec file."""
    variant = {
        "anyOf": [
            LAYERS,
            {
                "type": "object",
                "properties": {"input": SHAPE, "layers": LAYERS, "budget": _budget()},
                "required": ["layers"],
                "additionalProperties": False,
            },
        ],
        "description": "a variant: its layers, or {input, layers, budget}",
    }
    block = {
        "type": "object",
        "properties": {
            "params": {
                "type": "object",
                "description": "parameter names with defaults; null makes one required",
            },
            "layers": LAYERS,
        },
        "required": ["layers"],
        "additionalProperties": False,
    }
    properties: Schema = {
        "name": {"type": "string", "minLength": 1, "description": "the network's name"},
        "input": SHAPE,
        "layers": LAYERS,
        "variants": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": variant,
            "description": "several networks, reported one by one",
        },
        "blocks": {
            "type": "object",
            "propertyNames": {"not": {"enum": sorted([*KINDS, *MERGE_KINDS])}},
            "additionalProperties": block,
            "description": "reusable parameterised blocks, used as layer kinds by name",
        },
        "budget": _budget(),
        "params": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
            "additionalProperties": {"type": ["number", "string", "boolean"]},
            "description": "spec parameters with defaults, seen by every $name and ${…}; "
            "--set NAME=VALUE overrides one",
        },
        "include": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "description": "blocks from other spec files (relative paths) or bundled models "
            "(zoo:NAME), optionally one block and those it uses (#BLOCK)",
        },
    }
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "convcost spec",
        "description": "A convolutional network for convcost (docs/spec-format.md).",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "anyOf": [{"required": ["layers", "input"]}, {"required": ["variants"]}],
        "not": {"required": ["layers", "variants"]},
        "if": {"not": {"anyOf": [{"required": ["blocks"]}, {"required": ["include"]}]}},
        "then": {
            "properties": {
                "layers": BUILTIN_LAYERS,
                "variants": {
                    "additionalProperties": {
                        "anyOf": [BUILTIN_LAYERS, {"properties": {"layers": BUILTIN_LAYERS}}]
                    }
                },
            }
        },
        "$defs": {
            "layer": {
                "anyOf": [
                    *(_kind_entry(kind) for kind in KINDS.values()),
                    *(_merge_entry(name, LAYERS) for name in MERGE_KINDS),
                    _block_entry(),
                ],
            },
            "builtin_layer": {
                "anyOf": [
                    *(_kind_entry(kind) for kind in KINDS.values()),
                    *(_merge_entry(name, BUILTIN_LAYERS) for name in MERGE_KINDS),
                ],
            },
        },
    }
