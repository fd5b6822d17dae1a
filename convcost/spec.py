"""Load a YAML spec into a :class:`Spec`: the only module that imports ``yaml``.

The loader checks the document's structure (top-level keys, the input shape, block and
variant definitions) and keeps layer lists as located trees (:mod:`convcost.tree`). Layer
fields are read when the network is built, because blocks substitute parameters and
``in_channels`` into them first.
"""

from __future__ import annotations

import datetime
import gc
from dataclasses import dataclass
from pathlib import Path

import yaml

from convcost.budget import read_budget
from convcost.errors import Location, SpecError
from convcost.fields import did_you_mean, read_shape
from convcost.kinds import KIND_NAMES
from convcost.limits import DEFAULT_LIMITS, Limits
from convcost.tree import Map, Scalar, ScalarValue, Seq, Value, describe

Shape = tuple[int, ...]

TOP_LEVEL_KEYS = ("name", "input", "layers", "variants", "blocks", "budget")
BLOCK_KEYS = ("params", "layers")
VARIANT_KEYS = ("input", "layers")


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockDef:
    """A reusable, parameterised block from the spec's ``blocks:`` section."""

    name: str
    params: tuple[tuple[str, Value | None], ...]
    """Parameter names with their defaults, in file order; ``None`` marks a required one."""
    layers: Seq
    location: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """One network of a spec: the ``layers`` of a plain spec, or one entry of ``variants``."""

    name: str
    input_shape: Shape
    """Channels first, without batch: ``(C, L)``, ``(C, H, W)`` or ``(C, D, H, W)``."""
    layers: Seq
    location: Location
    budget: Map | None = None
    """The variant's own ``budget:`` mapping, if it has one (read by the budget checker)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    name: str
    source: str
    """The file the spec came from, or ``<string>``."""
    variants: tuple[Variant, ...]
    """One entry for a plain ``layers:`` spec; one per variant for a ``variants:`` spec."""
    has_variants: bool
    blocks: tuple[BlockDef, ...] = ()
    budget: Map | None = None
    """The raw top-level ``budget:`` mapping, if any (read by the budget checker)."""
    limits: Limits = DEFAULT_LIMITS
    """The bounds the spec was loaded under; building its networks keeps to them too."""

    @property
    def input_shape(self) -> Shape:
        return self.variants[0].input_shape

    def block(self, name: str) -> BlockDef | None:
        for block in self.blocks:
            if block.name == name:
                return block
        return None


def load_spec(source: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> Spec:
    """Load a spec from a file path, or from YAML text when ``source`` is a multi-line string.

    Raises :class:`SpecError` with the file, line and column of the problem.
    """
    if isinstance(source, str) and "\n" in source:
        return parse_spec(source, limits=limits)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"no such spec file: {path}") from None
    except IsADirectoryError:
        raise SpecError(f"{path} is a directory, not a spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec file {path}: {exc}") from None
    return parse_spec(text, source=str(path), limits=limits)


def parse_spec(text: str, *, source: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> Spec:
    """Parse YAML text into a :class:`Spec`; ``source`` names it in error messages."""
    root = _compose(text, source)
    if root is None:
        raise SpecError(
            "the spec is empty: it needs `input` and `layers`", location=Location(source, 1, 1)
        )
    if not isinstance(root, Map):
        raise SpecError(
            f"a spec is a mapping with `input` and `layers`, got {describe(root)}",
            location=root.location,
        )
    _check_keys(root, TOP_LEVEL_KEYS, "top-level key")
    name = _name(root, source)
    blocks = _blocks(root.get("blocks"))
    budget = _optional_map(root, "budget")
    read_budget(budget)  # checked at load, so that every command refuses a bad budget
    layers, variants = root.get("layers"), root.get("variants")
    if layers is not None and variants is not None:
        raise SpecError(
            "a spec holds either `layers` or `variants`, not both",
            location=root.key_location("variants"),
        )
    if variants is not None:
        return Spec(
            name=name,
            source=source,
            variants=_variants(variants, root),
            has_variants=True,
            blocks=blocks,
            budget=budget,
            limits=limits,
        )
    if layers is None:
        raise SpecError(
            "missing `layers`: the list of layers of the network", location=root.location
        )
    input_shape = _input(root)
    variant = Variant(
        name=name,
        input_shape=input_shape,
        layers=_layer_list(layers, "layers"),
        location=root.location,
    )
    return Spec(
        name=name,
        source=source,
        variants=(variant,),
        has_variants=False,
        blocks=blocks,
        budget=budget,
        limits=limits,
    )


def _compose(text: str, source: str) -> Value | None:
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader_class)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(source, mark.line + 1, mark.column + 1) if mark else None
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        raise SpecError(f"invalid YAML: {problem}", location=location) from None
    except yaml.reader.ReaderError as exc:
        # no mark: the reader gives a character offset (and a two-line str())
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        character = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise SpecError(
            f"invalid YAML: unacceptable character #x{ord(character):04x}: {exc.reason}",
            location=Location(source, line, column),
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", location=Location(source, 1, 1)) from None
    if node is None:
        return None
    # The tree is built once and kept: pausing the cyclic GC avoids its repeated full scans
    # of a large, growing heap (it made 10,000-layer specs load in superlinear time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Converter(source).convert(node)
    finally:
        if enabled:
            gc.enable()


class _Converter:
    """Composed YAML nodes to :mod:`convcost.tree` values, scalars constructed once per text."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.constructor = yaml.constructor.SafeConstructor()
        self.scalars: dict[tuple[str, str], ScalarValue] = {}

    def scalar(self, node: yaml.ScalarNode) -> ScalarValue:
        key = (node.tag, node.value)
        if key not in self.scalars:
            self.scalars[key] = _scalar(self.constructor.construct_object(node), node.value)
        return self.scalars[key]

    def convert(self, node: yaml.Node) -> Value:
        return _convert(node, self)


def _convert(node: yaml.Node, converter: _Converter) -> Value:
    source = converter.source
    location = Location(source, node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        return Scalar(converter.scalar(node), location, node.value)
    if isinstance(node, yaml.SequenceNode):
        return Seq(tuple(_convert(item, converter) for item in node.value), location)
    assert isinstance(node, yaml.MappingNode)
    entries: list[tuple[Scalar, Value]] = []
    seen: dict[object, Location] = {}
    for key_node, value_node in node.value:
        key = _convert(key_node, converter)
        if not isinstance(key, Scalar) or not isinstance(key.value, str):
            raise SpecError(
                f"mapping keys must be names, got {describe(key)}", location=key.location
            )
        if key.value in seen:
            raise SpecError(
                f"duplicate key {key.value!r} (first at line {seen[key.value].line})",
                location=key.location,
            )
        seen[key.value] = key.location
        entries.append((key, _convert(value_node, converter)))
    return Map(tuple(entries), location)


def _scalar(value: object, text: str) -> ScalarValue:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime.date):
        return text
    return str(value)


def _check_keys(mapping: Map, allowed: tuple[str, ...], what: str) -> None:
    for key, _ in mapping.entries:
        name = str(key.value)
        if name not in allowed:
            raise SpecError(
                f"unknown {what} {name!r}{did_you_mean(name, allowed)}; allowed: {', '.join(allowed)}",
                location=key.location,
            )


def _name(root: Map, source: str) -> str:
    value = root.get("name")
    if value is None:
        return Path(source).stem if source != "<string>" else "spec"
    if not isinstance(value, Scalar) or not isinstance(value.value, str) or not value.value:
        raise SpecError(
            f"`name` must be a non-empty string, got {describe(value)}", location=value.location
        )
    return value.value


def _input(mapping: Map, *, what: str = "input") -> Shape:
    value = mapping.get("input")
    if value is None:
        raise SpecError(
            "missing `input`: the input shape, channels first without batch, e.g. [3, 224, 224]",
            location=mapping.location,
        )
    return read_shape(value, what)


def _optional_map(root: Map, key: str) -> Map | None:
    value = root.get(key)
    if value is None:
        return None
    if not isinstance(value, Map):
        raise SpecError(
            f"`{key}` must be a mapping, got {describe(value)}", location=value.location
        )
    return value


def _layer_list(value: Value, what: str) -> Seq:
    if not isinstance(value, Seq):
        raise SpecError(
            f"`{what}` must be a list of layers, got {describe(value)}", location=value.location
        )
    return value


def _blocks(value: Value | None) -> tuple[BlockDef, ...]:
    if value is None:
        return ()
    if not isinstance(value, Map):
        raise SpecError(
            f"`blocks` must map block names to definitions, got {describe(value)}",
            location=value.location,
        )
    blocks = []
    for key, body in value.entries:
        name = str(key.value)
        if name in KIND_NAMES:
            raise SpecError(
                f"block name {name!r} is a built-in layer kind; choose another name",
                location=key.location,
            )
        if not isinstance(body, Map):
            raise SpecError(
                f"block {name!r} must be a mapping with `layers` (and optional `params`), "
                f"got {describe(body)}",
                location=body.location,
            )
        _check_keys(body, BLOCK_KEYS, f"key of block {name!r}")
        layers = body.get("layers")
        if layers is None:
            raise SpecError(f"block {name!r} has no `layers`", location=body.location)
        blocks.append(
            BlockDef(
                name=name,
                params=_block_params(name, body.get("params")),
                layers=_layer_list(layers, f"blocks.{name}.layers"),
                location=key.location,
            )
        )
    return tuple(blocks)


def _block_params(block: str, value: Value | None) -> tuple[tuple[str, Value | None], ...]:
    if value is None:
        return ()
    if not isinstance(value, Map):
        raise SpecError(
            f"`params` of block {block!r} must map names to defaults, got {describe(value)}",
            location=value.location,
        )
    params: list[tuple[str, Value | None]] = []
    for key, default in value.entries:
        name = str(key.value)
        if name == "in_channels":
            raise SpecError(
                "`in_channels` is provided by convcost (the channels arriving at the block); "
                "it cannot be a parameter",
                location=key.location,
            )
        if not name.isidentifier():
            raise SpecError(f"parameter name {name!r} must be an identifier", location=key.location)
        is_required = isinstance(default, Scalar) and default.value is None
        params.append((name, None if is_required else default))
    return tuple(params)


def _variants(value: Value, root: Map) -> tuple[Variant, ...]:
    if not isinstance(value, Map) or len(value) == 0:
        raise SpecError(
            "`variants` must map variant names to layer lists (or to {input, layers})",
            location=value.location,
        )
    shared_input = _input(root) if root.get("input") is not None else None
    variants = []
    for key, body in value.entries:
        name = str(key.value)
        budget = None
        if isinstance(body, Map):
            _check_keys(body, (*VARIANT_KEYS, "budget"), f"key of variant {name!r}")
            own_input = _input(body, what=f"variants.{name}.input") if body.get("input") else None
            layers = body.get("layers")
            if layers is None:
                raise SpecError(f"variant {name!r} has no `layers`", location=body.location)
            budget = _optional_map(body, "budget")
            read_budget(budget, where=f"variants.{name}.budget")
        else:
            own_input, layers = None, body
        input_shape = own_input or shared_input
        if input_shape is None:
            raise SpecError(
                f"variant {name!r} has no input shape: give the spec an `input`, "
                "or the variant {input, layers}",
                location=key.location,
            )
        variants.append(
            Variant(
                name=name,
                input_shape=input_shape,
                layers=_layer_list(layers, f"variants.{name}"),
                location=key.location,
                budget=budget,
            )
        )
    return tuple(variants)
