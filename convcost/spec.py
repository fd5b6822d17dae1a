"""Load a YAML spec into a :class:`Spec`.

:mod:`convcost.document` reads the file within its bounds and composes the located tree; the
loader checks the document's structure (top-level keys, the input shape, block and
variant definitions) and keeps layer lists as located trees (:mod:`convcost.tree`). Layer
fields are read when the network is built, because blocks substitute parameters and
``in_channels`` into them first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, BinaryIO

from convcost.document import compose
from convcost.errors import Location, ResourceLimitError, SpecError
from convcost.file_paths import path_stem, path_text
from convcost.int_values import read_shape
from convcost.layers.registry import KIND_NAMES
from convcost.limits import DEFAULT_LIMITS, Limits
from convcost.names import check_key, check_keys, check_name
from convcost.params import Param, read_params, scope_values
from convcost.spec_bytes import decode, read_file, read_stream
from convcost.substitution import Scope, resolve
from convcost.tree import Map, Scalar, Seq, Value, describe, shown
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.include import Library

Shape = tuple[int, ...]

TOP_LEVEL_KEYS = ("name", "input", "layers", "variants", "blocks", "budget", "params", "include")
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
    params: tuple[Param, ...] = ()
    """The spec's declared ``params:``, in file order, each with its default and the value it
    was loaded with (``--set``, ``params=``)."""

    def param_values(self) -> dict[str, Value]:
        """The parameters as ``$name`` sees them (what the builder puts in every scope)."""
        return scope_values(self.params)

    @property
    def input_shape(self) -> Shape:
        return self.variants[0].input_shape

    def block(self, name: str) -> BlockDef | None:
        for block in self.blocks:
            if block.name == name:
                return block
        return None


def load_spec(
    source: str | os.PathLike[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    params: Mapping[str, str | int | float] | None = None,
) -> Spec:
    """Load a spec from a file path, or from YAML text when ``source`` is a multi-line string.

    Reads at most :attr:`Limits.max_spec_bytes` bytes of a regular file (a FIFO, a device or
    a directory is refused without being opened for reading). Raises :class:`SpecError`
    with the file, line and column of the problem, or :class:`ResourceLimitError` for a
    file past a bound. ``params`` overrides the spec's ``params:`` defaults (``--set``): a
    string is read as ``--set`` reads it (``"0.75"`` is a float); a name the spec does not
    declare is an error listing the declared ones.
    """
    if isinstance(source, str) and "\n" in source:
        return parse_spec(source, limits=limits, params=params)
    if isinstance(source, str) and not source:
        raise SpecError("no spec file ''")
    return read_spec_file(source, limits=limits, params=params)


def read_spec_file(
    path: str | os.PathLike[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    params: Mapping[str, str | int | float] | None = None,
) -> Spec:
    """Load the spec file ``path`` (a name with a newline in it is still a file's), with
    :func:`load_spec`'s bounds; messages name it as ``str(Path(path))`` would."""
    name = path_text(path)
    return parse_spec(
        decode(read_file(name, limits), name), source=name, limits=limits, params=params
    )


def read_spec_stream(
    stream: BinaryIO,
    *,
    source: str = "<stdin>",
    limits: Limits = DEFAULT_LIMITS,
    params: Mapping[str, str | int | float] | None = None,
) -> Spec:
    """Load a spec from a binary stream (standard input for ``-``), with :func:`load_spec`'s bounds."""
    return parse_spec(
        decode(read_stream(stream, source, limits), source),
        source=source,
        limits=limits,
        params=params,
    )


def parse_spec(
    text: str,
    *,
    source: str = "<string>",
    limits: Limits = DEFAULT_LIMITS,
    params: Mapping[str, str | int | float] | None = None,
) -> Spec:
    """Parse YAML text into a :class:`Spec`; ``source`` names it in error messages;
    ``params`` overrides its ``params:`` defaults (as :func:`load_spec`)."""
    if len(text) > limits.max_spec_bytes:  # each character is at least a byte
        raise ResourceLimitError(
            f"{source} is {len(text)} characters; a spec may have at most "
            f"{limits.max_spec_bytes} bytes (Limits.max_spec_bytes)"
        )
    root = compose(text, source, limits, on_top_key=_check_top_key)
    if root is None:
        raise SpecError(
            "the spec is empty: it needs `input` and `layers`", location=Location(source, 1, 1)
        )
    if not isinstance(root, Map):
        raise SpecError(
            f"a spec is a mapping with `input` and `layers`, got {describe(root)}",
            location=root.location,
        )
    name = _name(root, source)
    declared = read_params(
        root.get("params"),
        params,
        source=source,
        key=root.key_location("params") if root.get("params") is not None else None,
    )
    globals_ = Scope(in_channels=None, params=scope_values(declared))
    included = _included(root.get("include"), source, (source,), _library(limits, {}))
    blocks = _merged(_blocks(root.get("blocks")), included)
    budget = _budget_map(root, globals_)
    _check_budget(budget)  # at load, so that every command refuses a bad budget
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
            variants=_variants(variants, root, globals_),
            has_variants=True,
            blocks=blocks,
            budget=budget,
            limits=limits,
            params=declared,
        )
    if layers is None:
        raise SpecError(
            "missing `layers`: the list of layers of the network", location=root.location
        )
    input_shape = _input(root, globals_)
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
        params=declared,
    )


def _included(
    value: Value | None, source: str, chain: tuple[str, ...], library: Library
) -> tuple[BlockDef, ...]:
    """The blocks the ``include:`` of ``source`` brings (``chain``: the files that led here,
    ``source`` last); :mod:`convcost.include` is loaded for a spec with ``include:`` only."""
    if value is None:
        return ()
    from convcost.include import included_blocks  # noqa: PLC0415

    return included_blocks(value, source, chain, library)


def _merged(own: tuple[BlockDef, ...], included: tuple[BlockDef, ...]) -> tuple[BlockDef, ...]:
    """A spec's own blocks and the included ones (own names are the unique keys of one
    mapping: alone, there is nothing to merge)."""
    if not included:
        return own
    from convcost.include import merge_blocks  # noqa: PLC0415

    return merge_blocks(own, included)


def _library(limits: Limits, cache: dict[str, tuple[BlockDef, ...]]) -> Library:
    """Reads the blocks of included files (each file once per load, however often included)."""

    def load(path: str, shown_as: str, chain: tuple[str, ...]) -> tuple[BlockDef, ...]:
        key = os.path.realpath(path)
        if key in cache:
            return cache[key]
        text = decode(read_file(path, limits), path)
        root = compose(text, path, limits, on_top_key=_check_top_key)
        if not isinstance(root, Map):
            raise SpecError(
                f"the included spec {shown_as} must be a mapping with `blocks`",
                location=Location(path, 1, 1) if root is None else root.location,
            )
        blocks = _merged(
            _blocks(root.get("blocks")), _included(root.get("include"), path, chain, load)
        )
        cache[key] = blocks
        return blocks

    return load


def _check_top_key(key: Scalar) -> None:
    """An unknown top-level key is reported as soon as it is read (before the rest is parsed)."""
    check_key(key, TOP_LEVEL_KEYS, "top-level key")


def _name(root: Map, source: str) -> str:
    value = root.get("name")
    if value is None:
        return path_stem(source) if source != "<string>" else "spec"
    if not isinstance(value, Scalar) or not isinstance(value.value, str):
        raise SpecError(f"`name` must be a string, got {describe(value)}", location=value.location)
    return check_name(value.value, "spec name", location=value.location)


def _input(mapping: Map, scope: Scope, *, what: str = "input") -> Shape:
    value = mapping.get("input")
    if value is None:
        raise SpecError(
            "missing `input`: the input shape, channels first without batch, e.g. [3, 224, 224]",
            location=mapping.location,
        )
    value = resolve(value, scope, what=what)
    if isinstance(value, Seq):  # `[3, $resolution, $resolution]`
        value = Seq(tuple(resolve(item, scope, what=what) for item in value), value.location)
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


def _check_budget(budget: Map | None, *, where: str = "budget") -> None:
    """:func:`convcost.budget.read_budget`'s checks of a ``budget:`` mapping (the budget module,
    its metrics and units, loads only for a spec that has one)."""
    if budget is not None:
        from convcost.budget import read_budget  # noqa: PLC0415

        read_budget(budget, where=where)


def _budget_map(mapping: Map, scope: Scope) -> Map | None:
    """A ``budget:`` with the spec's ``params:`` substituted (``macs: "${300e6 * width}"``)."""
    budget = _optional_map(mapping, "budget")
    if budget is None or not scope.params:
        return budget
    resolved = _substituted(budget, scope)
    assert isinstance(resolved, Map)
    return resolved


def _substituted(value: Value, scope: Scope) -> Value:
    """``value`` with every ``$name``/``${…}`` substituted, shown as the value it computed (a
    budget reader checks a number's text for YAML 1.1 traps)."""
    if isinstance(value, Map):
        return Map(
            tuple((key, _substituted(item, scope)) for key, item in value.entries), value.location
        )
    if isinstance(value, Seq):
        return Seq(tuple(_substituted(item, scope) for item in value), value.location)
    resolved = resolve(value, scope, what="budget")
    if resolved is value or not isinstance(resolved, Scalar):
        return resolved
    return Scalar(resolved.value, resolved.location, str(resolved.value))


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
        # in_path: a block's name starts the default names of its uses (`- res: {}` is res1)
        name = check_name(str(key.value), "block name", location=key.location, in_path=True)
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
        check_keys(body, BLOCK_KEYS, f"key of block {name!r}")
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
            raise SpecError(
                f"parameter name {shown(name)} must be an identifier", location=key.location
            )
        is_required = isinstance(default, Scalar) and default.value is None
        params.append((name, None if is_required else default))
    return tuple(params)


def _variants(value: Value, root: Map, scope: Scope) -> tuple[Variant, ...]:
    if not isinstance(value, Map) or len(value) == 0:
        raise SpecError(
            "`variants` must map variant names to layer lists (or to {input, layers})",
            location=value.location,
        )
    shared_input = _input(root, scope) if root.get("input") is not None else None
    variants = []
    for key, body in value.entries:
        name = check_name(str(key.value), "variant name", location=key.location)
        budget = None
        if isinstance(body, Map):
            check_keys(body, (*VARIANT_KEYS, "budget"), f"key of variant {name!r}")
            has_input = body.get("input") is not None  # `input: []` is an error, not "shared"
            own_input = _input(body, scope, what=f"variants.{name}.input") if has_input else None
            layers = body.get("layers")
            if layers is None:
                raise SpecError(f"variant {name!r} has no `layers`", location=body.location)
            budget = _budget_map(body, scope)
            _check_budget(budget, where=f"variants.{name}.budget")
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
