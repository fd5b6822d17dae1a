"""The ONNX graph an export is written into: nodes, initializers and constants, named from the
spec.

Every layer's output tensor is named by its path (``layer1.0.conv1``) and so is the node that
writes it; a layer made of several nodes names the others ``<path>/<OpType>`` and their
tensors ``<path>/<what>``; a layer's parameters are initializers ``<path>.weight``,
``<path>.bias`` (PyTorch's names, which :mod:`convcost.importer` reads back as the layer's name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Graph:
    """The nodes and initializers written so far (``onnx`` is the imported module)."""

    onnx: Any
    nodes: list[Any] = field(default_factory=list)
    initializers: list[Any] = field(default_factory=list)

    def op(
        self, op_type: str, inputs: list[str], output: str, *, name: str, **attributes: Any
    ) -> str:
        """Append one node writing ``output``; returns ``output``."""
        self.nodes.append(
            self.onnx.helper.make_node(op_type, inputs, [output], name=name, **attributes)
        )
        return output

    def array(self, name: str, values: Any) -> str:
        """A float initializer from a NumPy array (any layout; written in C order)."""
        self.initializers.append(self.onnx.numpy_helper.from_array(values, name))
        return name

    def ints(self, name: str, values: list[int]) -> str:
        """A 1-D int64 initializer (Reshape's shape, Slice's starts)."""
        tensor = self.onnx.helper.make_tensor(
            name, self.onnx.TensorProto.INT64, [len(values)], values
        )
        self.initializers.append(tensor)
        return name

    def floats(self, name: str, values: list[float], dims: list[int] | None = None) -> str:
        """A float32 initializer of ``values`` (a scalar when ``dims`` is ``[]``)."""
        shape = [len(values)] if dims is None else dims
        tensor = self.onnx.helper.make_tensor(
            name, self.onnx.TensorProto.FLOAT, shape, [float(v) for v in values]
        )
        self.initializers.append(tensor)
        return name
