"""Readable layer names from what the exporters keep: weight names and module scopes.

PyTorch's TorchScript exporter names a node ``/layer1/layer1.0/conv1/Conv``; the dynamo one
``node_conv2d_3``, with the module path in the node's ``pkg.torch.onnx.name_scopes`` metadata.
So a node is named after its module (``layer1.0.conv1``, ``layer1.0.relu``); an operator called
in a module's ``forward`` (the add of a residual block) is named inside that module, after the
layer it becomes (``layer1.0.add``). Where the scope misleads (the dynamo exporter's conv with a
batchnorm folded in carries the batchnorm's scope) or is missing, the weight's name is used:
``layer1.0.conv1.weight`` → ``layer1.0.conv1``. A weight's name alone is not enough: the dynamo
exporter shares one initializer among equal ones (every fresh batchnorm's ones and zeros).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence

from convcost.importer.onnx_proto import NodeProto
from convcost.limits import MAX_NAME_LENGTH

_WEIGHTED = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization"})
_PARAMETER = re.compile(r"^(?!onnx::)(.+)\.(weight|scale)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_SCOPES = "pkg.torch.onnx.name_scopes"
_RULES = "pkg.onnxscript.rewriter.rule_name"
_MAX_DEPTH = 32
"""Module paths are looked at this many parts deep (a hostile scope of 10⁵ parts costs no more)."""
_QUOTED = re.compile(r"'([^'\\]*)'")
_SIMPLE_LIST = re.compile(r"\[(?:'[^'\\]*'(?:, )?)*\]")
"""A list of plain quoted strings, read without `ast.literal_eval` (a few times faster)."""


def _fold(parts: Iterable[str]) -> str:
    """TorchScript's scope parts as one module path: ``layer1/layer1.0/conv1`` → ``layer1.0.conv1``."""
    path: list[str] = []
    for part in parts:
        if path and part.startswith(path[-1] + "."):
            path[-1] = part
        elif part:
            path.append(part)
    return ".".join(path)


def _scope(node: NodeProto) -> str | None:
    """The module path a node was exported from, or None when the exporter left none."""
    for prop in node.metadata_props:
        if prop.key == _SCOPES:
            simple = _SIMPLE_LIST.fullmatch(prop.value)
            try:
                scopes = _QUOTED.findall(prop.value) if simple else ast.literal_eval(prop.value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
            if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
                return next((s for s in reversed(scopes[:-1]) if s), "")
            return None
    name = str(node.name)
    if name.startswith("/"):
        return _fold(name.strip("/").split("/")[:-1])
    return None


def _folded(node: NodeProto) -> bool:
    """A node the dynamo exporter's optimiser made from two modules (batchnorm into a conv)."""
    return any(prop.key == _RULES and "FuseBatchNorm" in prop.value for prop in node.metadata_props)


def weight_path(node: NodeProto) -> str | None:
    """``layer1.0.conv1`` for a node reading ``layer1.0.conv1.weight``."""
    if node.op_type in _WEIGHTED and len(node.input) > 1:
        match = _PARAMETER.match(str(node.input[1]))
        if match:
            return match.group(1)
    return None


def sanitise(text: str) -> str:
    """Only ``[A-Za-z0-9_.-]``, no empty parts, short enough to take a ``_N`` suffix."""
    text = ".".join(part for part in _UNSAFE.sub("_", text[:1024]).split(".") if part)
    return text[: MAX_NAME_LENGTH - 8].strip(".")


class Namer:
    """Names for the nodes of one graph: readable, sanitised and unique."""

    def __init__(self, nodes: Sequence[NodeProto]) -> None:
        self._scopes: list[str | None] = []
        self._containers: set[str] = set()
        for node in nodes:
            scope = None if _folded(node) else _scope(node)
            self._scopes.append(scope)
            for path in (scope, weight_path(node)):
                parts = (path or "").split(".", _MAX_DEPTH)[:_MAX_DEPTH]
                # every proper prefix of a module path is a module holding others
                self._containers.update(".".join(parts[:i]) for i in range(1, len(parts)))
        self._used: set[str] = set()
        self._adopt_scopes(nodes)

    def _adopt_scopes(self, nodes: Sequence[NodeProto]) -> None:
        """A node the dynamo exporter's optimiser wrote without a scope (a Split for
        ``x.chunk``) takes the module its readers share: the common prefix of their paths."""
        if not any(scope for scope in self._scopes):
            return  # no scopes at all: not a torch export, names stay the file's
        readers: dict[str, list[int]] = {}
        for index, node in enumerate(nodes):
            for tensor in node.input:
                readers.setdefault(str(tensor), []).append(index)
        for index, node in enumerate(nodes):
            if self._scopes[index] is not None or _folded(node) or weight_path(node):
                continue
            paths = [
                self._scopes[i] if self._scopes[i] is not None else weight_path(nodes[i])
                for tensor in node.output
                for i in readers.get(str(tensor), [])
            ]
            if paths and all(path is not None for path in paths):
                split = [str(path).split(".") for path in paths]
                common = next(
                    (i for i, parts in enumerate(zip(*split, strict=False)) if len(set(parts)) > 1),
                    min(len(parts) for parts in split),
                )
                self._scopes[index] = ".".join(split[0][:common])

    def name(self, index: int, node: NodeProto, kind: str) -> str:
        """A unique name for the layer (of convcost kind `kind`) that node `index` becomes."""
        scope = self._scopes[index]
        if scope is None:
            base = weight_path(node) or str(node.name) or kind
        elif not scope:
            base = kind
        elif scope in self._containers:
            base = f"{scope}.{kind}"
        else:
            base = scope
        base = sanitise(base) or sanitise(kind) or "node"
        name, count = base, 0
        while name in self._used:
            count += 1
            name = f"{base}_{count}"
        self._used.add(name)
        return name
