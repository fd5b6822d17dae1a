"""The ONNX graph an export is written into: nodes, initializers and constants, named from the
spec.

Every layer's output tensor is named by its path (``layer1.0.conv1``) and so is the node that
writes it; a layer made of several nodes names the others ``<path>/<OpType>`` and their
tensors ``<path>/<what>``; a layer's parameters are initializers ``<path>.weight``,
``<path>.bias`` (PyTorch's names, which :mod:`convcost.importer` reads back as the layer's name).
"""

from __future__ import annotations

from typing import Any

from convcost.valueclasses import dataclass


@dataclass(slots=True)
class Graph:
    """A ``ModelProto`` whose graph is written in place (``onnx`` is the imported module):
    initializers are filled where they live, so a weight's bytes are copied once (large models
    are mostly weights: VGG-16's are 553 MB)."""

    onnx: Any
    model: Any = None

    def __post_init__(self) -> None:
        self.model = self.onnx.ModelProto()

    @property
    def proto(self) -> Any:
        """The ``GraphProto`` being written."""
        return self.model.graph

    def op(
        self, op_type: str, inputs: list[str], output: str, *, name: str, **attributes: Any
    ) -> str:
        """Append one node writing ``output``; returns ``output``."""
        self.proto.node.append(
            self.onnx.helper.make_node(op_type, inputs, [output], name=name, **attributes)
        )
        return output

    def array(self, name: str, values: Any) -> str:
        """A float32 initializer from a NumPy array (any layout; written in C order)."""
        tensor = self.proto.initializer.add()
        tensor.name = name
        tensor.data_type = self.onnx.TensorProto.FLOAT
        tensor.dims.extend(int(d) for d in values.shape)
        tensor.raw_data = values.astype("<f4", copy=False).tobytes()
        return name

    def ints(self, name: str, values: list[int]) -> str:
        """A 1-D int64 initializer (Reshape's shape, Slice's starts)."""
        tensor = self.onnx.helper.make_tensor(
            name, self.onnx.TensorProto.INT64, [len(values)], values
        )
        self.proto.initializer.append(tensor)
        return name

    def floats(self, name: str, values: list[float], dims: list[int] | None = None) -> str:
        """A float32 initializer of ``values`` (a scalar when ``dims`` is ``[]``)."""
        shape = [len(values)] if dims is None else dims
        tensor = self.onnx.helper.make_tensor(
            name, self.onnx.TensorProto.FLOAT, shape, [float(v) for v in values]
        )
        self.proto.initializer.append(tensor)
        return name
