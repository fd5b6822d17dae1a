"""Readable layer names from what the exporters keep: weight names and module scopes.

PyTorch's TorchScript exporter names a node ``/layer1/layer1.0/conv1/Conv``; the dynamo one
``node_conv2d_3``, with the module path in the node's ``pkg.torch.onnx.name_scopes`` metadata.
Both keep a parameter's name (``layer1.0.conv1.weight``) unless batchnorm was folded into it.
So a node is named, in order of preference, after its weight, its module, or its operator:
``layer1.0.conv1``, ``layer1.0.relu``; an operator called in a module's ``forward`` (the add of
a residual block) is named inside that module, after the layer it becomes: ``layer1.0.add``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import Any

from convcost.limits import MAX_NAME_LENGTH

_WEIGHTED = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization"})
_PARAMETER = re.compile(r"^(?!onnx::)(.+)\.(weight|scale)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_SCOPES = "pkg.torch.onnx.name_scopes"
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


def _scope(node: Any) -> str | None:
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


def weight_path(node: Any) -> str | None:
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

    def __init__(self, nodes: Iterable[Any]) -> None:
        self._scopes: list[str | None] = []
        self._containers: set[str] = set()
        for node in nodes:
            scope = _scope(node)
            self._scopes.append(scope)
            for path in (scope, weight_path(node)):
                parts = (path or "").split(".", _MAX_DEPTH)[:_MAX_DEPTH]
                # every proper prefix of a module path is a module holding others
                self._containers.update(".".join(parts[:i]) for i in range(1, len(parts)))
        self._used: set[str] = set()

    def name(self, index: int, node: Any, kind: str) -> str:
        """A unique name for the layer (of convcost kind `kind`) that node `index` becomes."""
        base = weight_path(node)
        if base is None:
            scope = self._scopes[index]
            if scope is None:
                base = str(node.name) or kind
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
