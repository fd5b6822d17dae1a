"""What a converted ONNX node becomes: convcost layers on its input, a merge, or nothing."""

from __future__ import annotations

from collections.abc import Mapping

from convcost.importer.graph import Merge
from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops_graph import Source, node_label
from convcost.valueclasses import dataclass, field

Layer = Mapping[str, object]
"""A layer entry's kind and fields, e.g. ``{"conv": {"out": 64, "kernel": 3}}``."""


@dataclass(frozen=True, slots=True)
class Out:
    """What one output tensor of a (fused) node becomes.

    With `layers`, the layers applied in turn to ``inputs[0]``; with `merge`, the merge of
    `inputs`; with neither, the tensor is ``inputs[0]`` under another name (Identity, Dropout).
    """

    tensor: str
    inputs: tuple[str, ...]
    layers: tuple[Layer, ...] = ()
    merge: Merge | None = None


class Unsupported(Exception):
    """A node convcost has no layer for; `label` is how the error lists it, e.g. ``Resize``."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


@dataclass(slots=True)
class Context:
    """A conversion in progress: the source graph and what earlier nodes left for later ones."""

    source: Source
    folded_pads: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """A Pad folded into its consumer: its output tensor → ONNX spatial pads (begins, ends)."""
    notes: dict[str, list[str]] = field(default_factory=dict)
    """Facts for every report on the model, each with the nodes it is about."""
    static: set[str] = field(default_factory=set)
    """Tensors known before the model runs: constants and shape computations on them."""

    def note(self, node: NodeProto, text: str) -> None:
        self.notes.setdefault(text, []).append(node_label(node))

    def note_lines(self) -> list[str]:
        """Each note once, naming its first node and how many more it applies to."""
        lines = []
        for text, nodes in self.notes.items():
            more = f" and {len(nodes) - 1} more" if len(nodes) > 1 else ""
            lines.append(f'{text} (node "{nodes[0]}"{more})')
        return lines
