"""Python names for what a spec names: attributes, local variables and classes.

A spec name may hold any printable character (docs/spec-format.md, *Names*); a Python name may
not. :func:`identifier` maps one to the other, and a :class:`Namespace` gives each wanted name
the first free one of ``name``, ``name_2``, ``name_3``… in the order they are asked for, so the
same spec always gives the same file.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

MODULE_ATTRIBUTES = frozenset(
    {
        "add_module",
        "apply",
        "buffers",
        "children",
        "cpu",
        "cuda",
        "double",
        "dump_patches",
        "eval",
        "extra_repr",
        "float",
        "forward",
        "get_buffer",
        "get_parameter",
        "get_submodule",
        "half",
        "in_channels",
        "input_shape",
        "load_state_dict",
        "modules",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "out_channels",
        "parameters",
        "register_buffer",
        "register_module",
        "register_parameter",
        "requires_grad_",
        "share_memory",
        "state_dict",
        "to",
        "train",
        "training",
        "type",
        "zero_grad",
    }
)
"""Attributes of ``nn.Module`` (and the two the exported classes set) a layer must not shadow."""


def identifier(name: str, *, empty: str = "layer") -> str:
    """``name`` as a Python identifier: other characters become ``_``; a name that starts with
    a digit or ``_`` gets ``empty`` in front; a keyword gets ``_`` after it."""
    text = re.sub(r"\W", "_", name, flags=re.ASCII)
    if not text or text[0].isdigit() or text[0] == "_":
        text = f"{empty}_{text}" if text and text[0] != "_" else f"{empty}{text}"
    if keyword.iskeyword(text) or keyword.issoftkeyword(text):
        text += "_"
    return text


def class_name(name: str) -> str:
    """``dense_layer`` → ``DenseLayer``, ``resnet-18`` → ``Resnet18``."""
    parts = [part for part in re.split(r"\W|_", name, flags=re.ASCII) if part]
    text = "".join(part[0].upper() + part[1:] for part in parts)
    if not text or text[0].isdigit():
        text = "Net" + text
    return text


class Namespace:
    """Names given out in one scope (a class's attributes, a function's locals)."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self.taken = set(reserved)
        self.counts: dict[str, int] = {}
        """The last suffix given for each wanted name: the next search starts there, so a
        name wanted n times costs O(n), not O(n²)."""

    def take(self, wanted: str) -> str:
        """The first free one of ``wanted``, ``wanted_2``, ``wanted_3``…, now taken."""
        count = self.counts.get(wanted, 1)
        name = wanted if count == 1 else f"{wanted}_{count}"
        while name in self.taken:
            count += 1
            name = f"{wanted}_{count}"
        self.counts[wanted] = count
        self.taken.add(name)
        return name
