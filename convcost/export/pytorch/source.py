"""A spec as one PyTorch source file: a class per network and per reusable block.

The file is written from the built network (:func:`convcost.build.build`), so every shape and
channel count is the one convcost reports. The network's class holds its layers as attributes
named after the spec's layers (the path inside the network, ``.`` → ``_``); its ``forward`` is
the chain of their calls, with merges as explicit code (``torch.cat``, ``+``, ``*``).

A block from ``blocks:`` becomes a class whose constructor takes ``in_channels`` and the
block's parameters. Its ``__init__`` tracks the channels in ``ch`` and writes a field that the
spec gives as ``$name`` or ``${expr}`` as that Python expression (``nn.Conv2d(ch, width, 3,
stride=stride, …)``), so one class serves every use. What the spec gives as a literal, or what
follows from the input's spatial size, is written as the value at this use; uses of a block
whose classes would read differently get a class each (``Stage``, ``Stage_2``): the text of a
class is its identity, so a class is only ever shared by uses it is right for.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from convcost.build import build
from convcost.engine import _variant, analyze_network
from convcost.entries import LayerEntry, bind_parameters
from convcost.errors import SpecError
from convcost.expansion import ENTRY_KEYS
from convcost.export.pytorch.helpers import HELPERS
from convcost.export.pytorch.kinds import (
    JOINERS,
    MERGES,
    UNSUPPORTED,
    Module,
    emit,
    literal,
    source,
)
from convcost.export.pytorch.names import MODULE_ATTRIBUTES, Namespace, class_name, identifier
from convcost.network import GroupKind, GroupNode, LayerNode, MergeKind, MergeNode, Network, Node
from convcost.spec import BlockDef, Spec, Variant
from convcost.substitution import Scope, resolve
from convcost.tree import Map, Scalar, Seq, Value, plain
from convcost.valueclasses import dataclass

_TEMPLATE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
"""A whole-value ``${expr}`` or ``$name`` (as :mod:`convcost.substitution` reads them)."""

_PLACEHOLDER = "__CLASS__"

_INTEGER_ARITHMETIC = (
    ast.Expression,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.BinOp,
    ast.UnaryOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.FloorDiv,
    ast.Mod,
    ast.USub,
    ast.UAdd,
)
"""The syntax an expression may use to be written as Python: integer arithmetic, as in
:mod:`convcost.expr` (an integer constant is checked below)."""


def pytorch_source(spec: Spec, *, variant: str | None = None) -> str:
    """The text of a Python file (it imports only torch) that defines ``spec`` as
    ``nn.Module`` classes: the variant named ``variant``, or, when ``variant`` is None, the only
    network of a plain spec or one class per variant of a ``variants:`` spec.

    Raises :class:`~convcost.errors.SpecError` for an invalid spec, an unknown variant, or a
    layer that cannot be exported (a ``custom`` placeholder), naming its file:line:col and path.
    """
    if variant is not None or not spec.has_variants:
        chosen = [_variant(spec, variant)]
    else:
        chosen = list(spec.variants)
    writer = _Writer(spec)
    names = [writer.classes.take(class_name(_network_name(spec, v))) for v in chosen]
    networks = [(build(spec, v), v, name) for v, name in zip(chosen, names, strict=True)]
    for network, v, name in networks:
        writer.network(network, v, name)
    return writer.text(names)


def _docstring(text: str) -> str:
    """``text`` as it may stand inside the file's triple-quoted docstrings: backslashes, quotes
    and invisible characters escaped (a spec's names and paths are the user's text)."""
    escaped = []
    for char in text:
        if char in '\\"':
            escaped.append("\\" + char)
        elif not char.isprintable():
            escaped.append(char.encode("unicode_escape").decode("ascii"))
        else:
            escaped.append(char)
    return "".join(escaped)


def _network_name(spec: Spec, variant: Variant) -> str:
    return variant.name if spec.has_variants else spec.name


@dataclass(frozen=True, slots=True)
class _Symbols:
    """What a block's body can name: its parameters (as Python names) and ``in_channels``."""

    params: dict[str, str]
    in_channels: str

    def translate(self, raw: Value | None, scope: Scope) -> str | None:
        """``raw`` as a Python expression over the block's names, when it is a whole ``$name``
        or ``${expr}`` of integer arithmetic over integer parameters and ``in_channels``;
        else None (the caller writes the value at this use)."""
        if not isinstance(raw, Scalar) or not isinstance(raw.value, str) or "$" not in raw.value:
            return None
        match = _TEMPLATE.fullmatch(raw.value)
        if match is None:
            return None
        resolved = resolve(raw, scope)
        if not isinstance(resolved, Scalar) or type(resolved.value) is not int:
            return None
        expression, name = match.groups()
        tree = ast.parse((expression or name).strip(), mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                bound = scope.params.get(node.id)
                if node.id == "in_channels":
                    node.id = self.in_channels
                elif (
                    node.id in self.params
                    and isinstance(bound, Scalar)
                    and type(bound.value) is int
                ):
                    node.id = self.params[node.id]
                else:
                    return None  # a float, a list or a function: the value at this use
            elif not isinstance(node, _INTEGER_ARITHMETIC) or (
                isinstance(node, ast.Constant) and type(node.value) is not int
            ):
                return None
        return ast.unparse(tree)

    def inside(self, in_channels: str) -> _Symbols:
        return _Symbols(self.params, in_channels)


class _Fields:
    """:class:`~convcost.export.pytorch.kinds.Fields` of one layer."""

    def __init__(
        self,
        c: str,
        args: Map | None,
        symbols: _Symbols | None,
        scope: Scope | None,
        only: frozenset[str] | None = None,
    ) -> None:
        self._c = c
        self.args = args
        self.symbols = symbols
        self.scope = scope
        self.only = only

    @property
    def c(self) -> str:
        return self._c

    def _code(self, name: str) -> str | None:
        if self.symbols is None or self.args is None or self.scope is None:
            return None
        if self.only is not None and name not in self.only:
            return None
        return self.symbols.translate(self.args.get(name), self.scope)

    def get(self, name: str, value: object) -> str:
        code = self._code(name)
        return literal(value) if code is None else code

    def symbolic(self, name: str) -> bool:
        return self._code(name) is not None


@dataclass(frozen=True, slots=True)
class _Context:
    root: str
    """The path of the class's own node ("" for the network)."""
    symbols: _Symbols | None
    """None outside blocks, or where the spec's entries could not be matched to the nodes."""
    scope: Scope | None
    """The values the entries' ``$`` fields see at this use (None where unknown)."""

    def with_in_channels(self, code: str, channels: int) -> _Context:
        if self.symbols is None or self.scope is None:
            return self
        scope = Scope(in_channels=channels, params=self.scope.params, block=self.scope.block)
        return _Context(self.root, self.symbols.inside(code), scope)


class _Class:
    """One class being written."""

    def __init__(self, block: bool) -> None:
        self.block = block
        """A block's class tracks its channels in ``ch``; the network's are literals."""
        self.init: list[str] = []
        self.forward: list[str] = []
        self.attributes = Namespace(MODULE_ATTRIBUTES)
        self.locals = Namespace(_RESERVED)
        self.variables = Namespace({"self", "x", "torch", "nn"})
        self.tensors: dict[str, str] = {}
        """The variable in ``forward`` holding each named tensor this class reads, by key."""
        self.channel_codes: dict[str, str] = {}
        """A block's class: the expression of each named tensor's channels, by key."""
        self.held: set[str] = set()
        """Variables holding a named tensor: never overwritten (a later node reads them)."""
        self.reads: frozenset[str] = frozenset()
        """The keys this class's ``forward`` reads by name (:func:`_reads`)."""

    def channels(self, node: Node) -> str:
        return "ch" if self.block else str(node.input_shape[0])

    def set_channels(self, code: str) -> None:
        if self.block and code != "ch":
            self.init.append(f"ch = {code}")


def _entries(layers: Seq | None, count: int) -> list[Value] | None:
    """The spec's entries of a layer list when they match the built nodes one to one."""
    if layers is None or len(layers.items) != count:
        return None
    return list(layers.items)


def _kind_and_args(raw: Value | None) -> tuple[Scalar, Value] | None:
    if not isinstance(raw, Map):
        return None
    kinds = [(key, value) for key, value in raw.entries if key.value not in ENTRY_KEYS]
    return kinds[0] if len(kinds) == 1 else None


def _args(raw: Value | None) -> Map | None:
    found = _kind_and_args(raw)
    return found[1] if found is not None and isinstance(found[1], Map) else None


def _annotation(value: object) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str"}.get(type(value), "object")


class _Writer:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.classes = Namespace(set(HELPERS) | {"torch", "nn"})
        self.helpers: set[str] = set()
        self.texts: list[str] = []
        """Block classes, each after the classes it uses, then the networks."""
        self.block_classes: dict[tuple[str, str], str] = {}
        self.arriving = ""
        """The key of the tensor arriving at the node being written (a block's ``input``)."""

    # --- the file ---------------------------------------------------------------------------

    def text(self, networks: list[str]) -> str:
        spec = self.spec
        origin = Path(spec.source).name if Path(spec.source).is_absolute() else spec.source
        lines = [
            f'"""{_docstring(spec.name)} as PyTorch modules, written by `convcost export --to pytorch`.',
            "",
            f"From {_docstring(origin)}: layers are attributes named after the spec's layers; each",
            "reusable block of the spec is a class whose constructor takes its input channels",
            'and the block\'s parameters. The file imports only torch."""',
            "",
            "import torch",
            "from torch import nn",
            "",
        ]
        parts = ["\n".join(lines)]
        parts += [HELPERS[name].strip("\n") + "\n" for name in HELPERS if name in self.helpers]
        parts += self.texts
        main = [
            'if __name__ == "__main__":',
            *(
                f"    print({name}()(torch.zeros(1, *{name}.input_shape)).shape)"
                for name in networks
            ),
        ]
        parts.append("\n".join(main) + "\n")
        return "\n\n".join(parts)

    def network(self, network: Network, variant: Variant, name: str) -> None:
        report = analyze_network(network, source=self.spec.source)
        totals = report.totals
        cls = _Class(block=False)
        scope = Scope(in_channels=network.input_shape[0], params=self.spec.param_values())
        context = _Context("", None, scope)
        raws = _entries(variant.layers, len(network.nodes))
        cls.reads = _reads(network.nodes)
        self._start(cls, "", "x", "in_channels")
        out = self._sequence(cls, network.nodes, raws, "x", "x", context, "")
        lines = [
            f"class {name}(nn.Module):",
            f'    """{_docstring(network.name)}: input {list(network.input_shape)} → output '
            f"{list(network.output_shape)}.",
            "",
            f"    convcost counts {totals.weights + totals.biases:,} parameters and "
            f'{totals.macs:,} MACs."""',
            "",
            f"    input_shape = {tuple(network.input_shape)!r}",
            '    """Channels first, without the batch axis."""',
            "",
            "    def __init__(self) -> None:",
            "        super().__init__()",
            *(f"        {line}" for line in cls.init),
            "",
            "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
            *(f"        {line}" for line in cls.forward),
            f"        return {out}",
        ]
        self.texts.append("\n".join(lines) + "\n")

    # --- nodes ------------------------------------------------------------------------------

    def _sequence(
        self,
        cls: _Class,
        nodes: tuple[Node, ...],
        raws: list[Value] | None,
        x: str,
        out: str,
        context: _Context,
        key: str,
    ) -> str:
        """Write ``nodes``: the first reads ``x`` (the tensor ``key``) and writes ``out``, the
        rest update ``out``; returns the variable that holds the result (``x`` when there are
        no nodes). A node that reads a named tensor (``from:``) reads its variable; a node
        whose output is read by name writes a variable of its own, named after it."""
        current = x
        for index, node in enumerate(nodes):
            raw = raws[index] if raws is not None else None
            if node.source is not None:
                current, key = self._named(cls, node.source, node), node.source
            if context.scope is not None and context.symbols is None:
                # outside blocks, in_channels is what arrives at each entry (as build.py)
                scope = Scope(in_channels=node.input_shape[0], params=context.scope.params)
                context = _Context(context.root, None, scope)
            self.arriving = key
            target = self._target(cls, node, out)
            self._node(cls, node, raw, current, target, context)
            current, key = target, node.path
            self._keep(cls, key, target)
        return current

    def _start(self, cls: _Class, key: str, variable: str, channels: str) -> None:
        """The tensor ``key`` arrives in ``variable`` with ``channels`` (a class's input)."""
        cls.tensors[key] = variable
        cls.channel_codes[key] = channels
        if key in cls.reads:
            cls.held.add(variable)

    def _target(self, cls: _Class, node: Node, out: str) -> str:
        """The variable ``node`` writes: its own when a later node reads it by name, or when
        ``out`` holds a named tensor; else ``out``."""
        if node.path not in cls.reads and out not in cls.held:
            return out
        parts = node.path.split(".")
        # a repetition (`stage.0`) by its repeat's name: `stage_0`
        name = "_".join(parts[-2:]) if parts[-1].isdigit() and len(parts) > 1 else parts[-1]
        return cls.variables.take(identifier(name, empty="t"))

    def _keep(self, cls: _Class, key: str, variable: str) -> None:
        """Remember where the tensor ``key`` is, when something reads it by name."""
        if key not in cls.reads:
            return
        cls.tensors[key] = variable
        cls.held.add(variable)
        if cls.block:
            code = cls.locals.take(f"c_{variable}")
            cls.init.append(f"{code} = ch")
            cls.channel_codes[key] = code

    def _named(self, cls: _Class, key: str, node: Node, *, channels: bool = True) -> str:
        """The variable holding the named tensor ``key`` that ``node`` reads; in a block's
        class ``ch`` becomes its channels."""
        variable = cls.tensors.get(key)
        if variable is None:
            raise SpecError(
                f"cannot export to PyTorch: reads {key!r}, a tensor inside a block use or a "
                "repeat that its class does not return; export to ONNX, or read the output "
                "of the block use instead",
                location=node.location,
                layer=node.path,
            )
        if cls.block and channels:
            cls.set_channels(cls.channel_codes[key])
        return variable

    def _attribute(self, cls: _Class, node: Node, context: _Context) -> str:
        path = node.path[len(context.root) + 1 :] if context.root else node.path
        return cls.attributes.take(identifier(path.replace(".", "_")))

    def _node(
        self, cls: _Class, node: Node, raw: Value | None, x: str, out: str, context: _Context
    ) -> None:
        if isinstance(node, MergeNode):
            self._merge(cls, node, raw, x, out, context)
            return
        if isinstance(node, GroupNode) and node.group is GroupKind.REPEAT:
            self._repeat(cls, node, raw, x, out, context)
            return
        module = self._module(cls, node, raw, context, cls.channels(node))
        assert module is not None  # a layer, a separable or a block use
        attribute = self._attribute(cls, node, context)
        cls.init.append(f"self.{attribute} = {module.code}")
        channels = module.channels.replace(_PLACEHOLDER, f"self.{attribute}")
        cls.set_channels(channels)
        cls.forward.append(f"{out} = self.{attribute}({x})")

    def _module(
        self, cls: _Class, node: Node, raw: Value | None, context: _Context, c: str
    ) -> Module | None:
        """A layer, a separable or a block use as one constructor (None for a merge or a
        repeat); a block's output channels read ``__CLASS__.out_channels``."""
        args = _args(raw)
        if isinstance(node, LayerNode):
            return self._layer(node, _Fields(c, args, context.symbols, context.scope))
        if not isinstance(node, GroupNode) or node.group is GroupKind.REPEAT:
            return None
        if node.group is GroupKind.SEPARABLE:
            depthwise, pointwise = node.children
            assert isinstance(depthwise, LayerNode)
            assert isinstance(pointwise, LayerNode)
            first = self._layer(depthwise, _Fields(c, args, context.symbols, context.scope))
            only = frozenset({"out"})
            second = self._layer(
                pointwise, _Fields(first.channels, args, context.symbols, context.scope, only)
            )
            return Module(f"nn.Sequential({first.code}, {second.code})", second.channels)
        return self._block_use(cls, node, raw, context, c)

    def _layer(self, node: LayerNode, fields: _Fields) -> Module:
        layer = node.layer
        reason = UNSUPPORTED.get(layer.kind) or (
            None if layer.placeholder() is None else "a placeholder states only its costs"
        )
        if reason is not None:
            raise SpecError(
                f"cannot export {layer.kind} to PyTorch: {reason}",
                location=node.location,
                layer=node.path,
            )
        module = emit(layer, node.input_shape, node.output_shape, fields)
        self.helpers.update(module.helpers)
        return module

    # --- blocks -----------------------------------------------------------------------------

    def _block_use(
        self, cls: _Class, node: GroupNode, raw: Value | None, context: _Context, c: str
    ) -> Module:
        block = self.spec.block(node.label)
        assert block is not None
        found = _kind_and_args(raw)
        bound = None
        if found is not None and context.scope is not None and isinstance(raw, Map):
            key, args = found
            entry = LayerEntry(raw, key, args, node.path.rsplit(".", 1)[-1], None)
            bound = bind_parameters(
                block, entry, node.path, context.scope, self.spec.param_values()
            )
        name = self._block_class(block, node, bound)
        arguments = [c]
        if bound is not None:
            assert found is not None
            given = found[1] if isinstance(found[1], Map) else Map((), found[1].location)
            for param, default in block.params:
                value = given.get(param)
                if value is None and not _computed(default):
                    continue
                code = None
                if value is not None and context.symbols is not None:
                    code = context.symbols.translate(value, context.scope or Scope(0))
                if code is None:
                    code = source(plain(bound[param]))
                arguments.append(f"{_param_name(param)}={code}")
        return Module(f"{name}({', '.join(arguments)})", f"{_PLACEHOLDER}.out_channels")

    def _block_class(self, block: BlockDef, node: GroupNode, bound: dict[str, Value] | None) -> str:
        cls = _Class(block=True)
        signature = ["self", "in_channels: int"]
        symbols = None
        scope = None
        if bound is not None:
            params: dict[str, str] = {}
            signature.append("*")
            for param, default in block.params:
                python = cls.locals.take(_param_name(param))
                params[param] = python
                value = plain(bound[param])
                text = f"{python}: {_annotation(value)}"
                if default is not None and not _computed(default):
                    text += f" = {source(plain(default))}"
                signature.append(text)
            symbols = _Symbols(params, "in_channels")
            scope = Scope(
                in_channels=node.input_shape[0],
                params={**self.spec.param_values(), **bound},
                block=block.name,
            )
        if signature[-1] == "*":
            signature.pop()
        context = _Context(node.path, symbols, scope)
        raws = _entries(block.layers, len(node.children)) if bound is not None else None
        cls.init.append("ch = in_channels")
        arriving = self.arriving
        cls.reads = _reads(node.children)
        self._start(cls, arriving, "x", "in_channels")
        out = self._sequence(cls, node.children, raws, "x", "x", context, arriving)
        cls.init.append("self.out_channels = ch")
        about = (
            f"Block ``{_docstring(block.name)}`` of the spec; ``in_channels`` are its input's."
            if bound is not None
            else f"Block ``{_docstring(block.name)}`` of the spec, as used at {_docstring(node.path)}."
        )
        lines = [
            f"class {_PLACEHOLDER}(nn.Module):",
            f'    """{about}"""',
            "",
            f"    def __init__({', '.join(signature)}) -> None:",
            "        super().__init__()",
            *(f"        {line}" for line in cls.init),
            "",
            "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
            *(f"        {line}" for line in cls.forward),
            f"        return {out}",
        ]
        text = "\n".join(lines) + "\n"
        known = self.block_classes.get((block.name, text))
        if known is not None:
            return known
        name = self.classes.take(class_name(block.name))
        self.block_classes[(block.name, text)] = name
        self.texts.append(text.replace(_PLACEHOLDER, name, 1))
        return name

    # --- repeats and merges -----------------------------------------------------------------

    def _repeat(
        self, cls: _Class, node: GroupNode, raw: Value | None, x: str, out: str, context: _Context
    ) -> None:
        children = node.children
        if not children:
            if out != x:
                cls.forward.append(f"{out} = {x}")
            return
        attribute = self._attribute(cls, node, context)
        arriving = self.arriving
        inner_read = any(key.startswith(f"{node.path}.") for key in cls.reads)
        if inner_read:
            pass  # a repetition read by name (`stage.0`): unrolled, each in a variable
        elif not cls.block:
            modules = []
            for child in children:
                modules.append(self._module(cls, child, raw, context, cls.channels(child)))
                self.arriving = child.path
            if all(module is not None for module in modules):
                items = "".join(f"\n            {m.code}," for m in modules if m is not None)
                cls.init.append(f"self.{attribute} = nn.Sequential({items}\n        )")
                cls.forward.append(f"{out} = self.{attribute}({x})")
                return
        elif context.symbols is not None and isinstance(raw, Map):
            self.arriving = arriving
            loop = self._loop(cls, node, raw, context)
            if loop is not None:
                count, module = loop
                channels = module.channels.replace(_PLACEHOLDER, f"self.{attribute}[-1]")
                cls.init += [
                    f"self.{attribute} = nn.Sequential()",
                    f"for _ in range({count}):",
                    f"    self.{attribute}.append({module.code})",
                ]
                if channels != "ch":
                    cls.init.append(f"    ch = {channels}")
                cls.forward.append(f"{out} = self.{attribute}({x})")
                return
        cls.attributes.taken.discard(attribute)
        # unrolled: each repetition's layers are attributes of their own
        current, key = x, arriving
        for child in children:
            inner = context
            if cls.block:
                start = cls.locals.take("c")
                cls.init.append(f"{start} = ch")
                inner = context.with_in_channels(start, child.input_shape[0])
            self.arriving = key
            target = self._target(cls, child, out)
            self._node(cls, child, raw, current, target, inner)
            current, key = target, child.path
            self._keep(cls, key, target)
        if current != out:
            cls.forward.append(f"{out} = {current}")

    def _loop(
        self, cls: _Class, node: GroupNode, raw: Map, context: _Context
    ) -> tuple[str, Module] | None:
        """The repetition as one constructor in a loop, when it reads the same at every
        repetition (a layer, a separable or a block use), and the loop's count."""
        assert context.symbols is not None
        assert context.scope is not None
        texts = set()
        module = None
        for child in node.children:
            inner = context.with_in_channels("ch", child.input_shape[0])
            module = self._module(cls, child, raw, inner, "ch")
            self.arriving = child.path
            if module is None:
                return None
            texts.add((module.code, module.channels))
        if len(texts) != 1 or module is None:
            return None
        count = context.symbols.translate(raw.get("repeat"), context.scope)
        if count is None:
            return str(len(node.children)), module
        return count, module

    def _merge(
        self, cls: _Class, node: MergeNode, raw: Value | None, x: str, out: str, context: _Context
    ) -> None:
        args = _args(raw)
        branch_raws: list[Seq | None] = [None] * len(node.branches)
        if args is not None and len(args.entries) == len(node.branches):
            branch_raws = [value if isinstance(value, Seq) else None for _, value in args.entries]
        key = self.arriving
        start = None
        if cls.block:
            start = cls.locals.take("c")
            cls.init.append(f"{start} = ch")
        results: list[str] = []
        ends: list[str] = []
        moved = False
        """Whether ``ch`` has changed since the merge's input (a branch with layers ran)."""
        for branch, layers in zip(node.branches, branch_raws, strict=True):
            if branch.source is not None:  # a merge input written as a name
                results.append(self._named(cls, branch.source, node, channels=False))
                ends.append(cls.channel_codes.get(branch.source, ""))
                continue
            if start is not None and moved:
                cls.init.append(f"ch = {start}")
            moved = bool(branch.nodes)
            variable = cls.variables.take(identifier(branch.name, empty="branch"))
            raws = _entries(layers, len(branch.nodes))
            inner = context
            if raws is None and context.symbols is not None:
                inner = _Context(context.root, None, None)
            result = self._sequence(cls, branch.nodes, raws, x, variable, inner, key)
            if result != variable:
                cls.variables.taken.discard(variable)
            results.append(result)
            if start is not None and node.merge is not MergeKind.ADD:
                if branch.nodes:
                    end = cls.locals.take(f"c_{identifier(branch.name, empty='branch')}")
                    cls.init.append(f"{end} = ch")
                    ends.append(end)
                else:
                    ends.append(start)
        kind = node.merge.value
        joined = MERGES[kind].format(JOINERS[kind].join(results))
        cls.forward.append(f"{out} = {joined}")
        # add: every branch has the output's shape, so ch after the last branch is the output's
        last = node.branches[-1].source
        if cls.block and node.merge is MergeKind.ADD and last is not None:
            cls.set_channels(cls.channel_codes[last])  # the last branch is a name: its channels
        elif cls.block and node.merge is MergeKind.CONCAT:
            cls.init.append(f"ch = {' + '.join(ends)}")
        elif cls.block and node.merge is MergeKind.MULTIPLY:  # broadcast: 1 against C
            cls.init.append(f"ch = max({', '.join(ends)})")


def _reads(nodes: tuple[Node, ...]) -> frozenset[str]:
    """The keys of the named tensors that ``nodes`` read in one class's ``forward``: their
    ``source``s and their branches', inside merges, repeats and separables; a block use's
    body is a class of its own (its reads of ``input`` are its argument)."""
    found: set[str] = set()
    work = list(nodes)
    while work:
        node = work.pop()
        if node.source is not None:
            found.add(node.source)
        if isinstance(node, MergeNode):
            for branch in node.branches:
                if branch.source is not None:
                    found.add(branch.source)
                work.extend(branch.nodes)
        elif isinstance(node, GroupNode) and node.group is not GroupKind.BLOCK:
            work.extend(node.children)
    return frozenset(found)


_RESERVED = frozenset({"self", "ch", "in_channels", "torch", "nn", "_"})


def _param_name(param: str) -> str:
    """A block parameter's keyword in its class's constructor."""
    name = identifier(param, empty="p")
    return f"{name}_" if name in _RESERVED else name


def _computed(default: Value | None) -> bool:
    """Whether a parameter's default is required or depends on the use (``$…``): the call
    passes such a parameter."""
    if default is None:
        return True
    if isinstance(default, Scalar):
        return isinstance(default.value, str) and "$" in default.value
    return any(_computed(item) for item in default.items) if isinstance(default, Seq) else True
