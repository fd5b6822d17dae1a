"""The graph input's shape, fixed; and ONNX's shape inference on a light copy of the graph, for
the shapes convcost's own inference (`convcost.importer.shape_infer`) leaves unknown, when
the ``onnx`` package is installed.

The copy holds the nodes and only the tiny initializers (Reshape shapes, Pad pads, …); every
other one becomes a typed graph input of its ``dims``, so inference never sees a weight's bytes
and a model whose external data is absent infers as well as one whose data is present.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convcost.errors import ModelError
from convcost.importer.onnx_proto import ValueInfoProto
from convcost.importer.ops_graph import Source
from convcost.importer.ops_static import MAX_SHAPE_ELEMENTS, fold

_Dim = int | str


def _declared(value_info: ValueInfoProto) -> list[_Dim]:
    """A graph input's dims: ints where known, the symbol (or ``?``) where not."""
    return [d if isinstance(d, int) and d > 0 else str(d) or "?" for d in value_info.shape or ()]


def _dims(value_info: Any) -> list[_Dim]:
    """A value's dims: ints where known, the symbol (or ``?``) where not."""
    dims: list[_Dim] = []
    for dim in value_info.type.tensor_type.shape.dim:
        if dim.HasField("dim_value") and dim.dim_value > 0:
            dims.append(int(dim.dim_value))
        else:
            dims.append(str(dim.dim_param) or "?")
    return dims


def channels_first(layout: tuple[int, ...] | None, dims: Sequence[_Dim]) -> list[_Dim]:
    """The dims as convcost reads them: through the input's Transpose to channels first."""
    return list(dims) if layout is None else [dims[axis] for axis in layout]


def input_shape_of(
    file: str,
    value_info: ValueInfoProto,
    given: tuple[int, ...] | None,
    layout: tuple[int, ...] | None = None,
) -> tuple[int, ...]:
    """The input's full shape as the graph holds it: its own, or `given` (channels first,
    without batch) where it is symbolic. `layout` is the permutation of a channels-last
    input's Transpose (TensorFlow's NHWC: ``[0, 3, 1, 2]``), None for a channels-first input.

    The batch is the graph's when it is a number (an exporter may have written it into a
    Reshape's target, [2, 1568]), else 1; convcost's spec leaves it out either way."""
    name = value_info.name
    if not value_info.tensor or value_info.shape is None:
        raise ModelError(f'{file}: input "{name}" has no tensor shape')
    dims = _declared(value_info)
    shown = "[" + ", ".join(str(d) for d in dims) + "]"
    if not 3 <= len(dims) <= 5:
        raise ModelError(
            f'{file}: input "{name}" is {shown}; convcost reads [N, C, L], [N, C, H, W]'
            " or [N, C, D, H, W]"
        )
    ordered = channels_first(layout, dims)
    batch = ordered[0] if isinstance(ordered[0], int) else 1
    if given is None:
        symbolic = [str(d) for d in ordered[1:] if isinstance(d, str)]
        if symbolic:
            example = "x".join(str(d) if isinstance(d, int) else "224" for d in ordered[1:])
            raise ModelError(
                f'{file}: input "{name}" is {shown}, with symbolic sizes ({", ".join(symbolic)}):'
                f" give the input shape without batch, e.g. --input {example}"
            )
        wanted = (batch, *(int(d) for d in ordered[1:]))
    else:
        wanted = (batch, *given)
        if len(given) != len(dims) - 1 or any(
            isinstance(d, int) and d != g for d, g in zip(ordered, wanted, strict=False)
        ):
            text = "x".join(str(g) for g in given)
            raise ModelError(
                f'{file}: input "{name}" is {shown}: the input shape {text} does not fit it'
            )
    full = [0] * len(dims)
    for position, axis in enumerate(layout or range(len(dims))):
        full[axis] = wanted[position]
    return tuple(full)


def _light_model(
    onnx: Any, model: Any, source: Source, input_tensor: str, shape: tuple[int, ...]
) -> Any:
    helper = onnx.helper
    graph = model.graph
    inputs = [helper.make_tensor_value_info(input_tensor, _elem_type(graph), list(shape))]
    # (the onnx package's model: its initializers are onnx's TensorProtos)
    small = []
    for tensor in graph.initializer:
        count = 1
        for dim in tensor.dims:
            count *= int(dim)
        if count <= MAX_SHAPE_ELEMENTS:  # a shape, axes, pads, scales: inference needs its value
            if int(tensor.data_location) == 1:  # EXTERNAL: inline its few bytes in the copy
                try:
                    values = source.numbers(tensor, str(tensor.name))
                except ModelError:
                    values = None
                if values is not None:
                    small.append(
                        helper.make_tensor(
                            tensor.name, tensor.data_type, list(tensor.dims), list(values)
                        )
                    )
                    continue
            else:
                small.append(tensor)
                continue
        inputs.append(
            helper.make_tensor_value_info(tensor.name, tensor.data_type, list(tensor.dims))
        )
    # shape arithmetic computed by `ops_static` replaces the nodes that compute it
    fed = []
    for name, values in source.values.items():
        if name in source.initializers or name not in source.types:
            continue
        dims = list(source.shapes.get(name, (len(values),)))
        numbers = [int(v) for v in values] if source.types[name] in _INTEGER_TYPES else list(values)
        fed.append(helper.make_tensor(name, source.types[name], dims, numbers))
    computed = {str(t.name) for t in fed}
    nodes = [n for n in graph.node if not n.output or any(str(o) not in computed for o in n.output)]
    small.extend(fed)
    light = onnx.ModelProto()
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    light.functions.extend(model.functions)
    light.graph.name = graph.name
    light.graph.node.extend(nodes)
    light.graph.input.extend(inputs)
    light.graph.output.extend(graph.output)
    light.graph.initializer.extend(small)
    return light


_INTEGER_TYPES = frozenset({2, 3, 4, 5, 6, 7, 12, 13})
"""TensorProto's integer element types."""


def _elem_type(graph: Any) -> int:
    for value in graph.input:
        if value.type.HasField("tensor_type"):
            return int(value.type.tensor_type.elem_type) or 1
    return 1


def infer_shapes(model: Any, source: Source, input_tensor: str, shape: tuple[int, ...]) -> None:
    """Record each tensor's full shape (the input's batch first) where inference finds every dim, and
    its element type, in ``source.shapes`` and ``source.types``."""
    import onnx  # noqa: PLC0415  (the onnx extra is optional)

    light = _light_model(onnx, model, source, input_tensor, shape)
    try:
        inferred = onnx.shape_inference.infer_shapes(light, strict_mode=False, data_prop=True)
    except Exception as error:  # onnx raises its own InferenceError and ValidationError
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"{source.file}: ONNX shape inference failed: {reason}") from None
    shapes, types = source.shapes, source.types
    for tensor in source.initializers.values():
        shapes[str(tensor.name)] = tuple(int(d) for d in tensor.dims)
        types[str(tensor.name)] = int(tensor.data_type)
    for name, tensor in source.constants.items():
        shapes[name] = tuple(int(d) for d in tensor.dims)
        types[name] = int(tensor.data_type)
    graph = inferred.graph
    for value in (*graph.input, *graph.value_info, *graph.output):
        if not value.type.HasField("tensor_type") or not value.type.tensor_type.HasField("shape"):
            continue
        types[str(value.name)] = int(value.type.tensor_type.elem_type)
        dims = _dims(value)
        if all(isinstance(d, int) for d in dims):
            shapes[str(value.name)] = tuple(int(d) for d in dims)


MAX_INFERENCE_PASSES = 32
"""Shape inference reruns while shape arithmetic yields new values (one per dependent chunk)."""


def onnx_inference(
    source: Source, path: Path, input_tensor: str, shape: tuple[int, ...], static: set[str]
) -> set[str]:
    """The shapes convcost's inference left unknown, from ONNX's shape inference when the
    ``onnx`` package is installed (`source.hint` is then None); else `static` unchanged."""
    try:
        import onnx  # noqa: PLC0415  (the onnx extra is optional)
    except ImportError:
        return static
    source.hint = None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        return static
    for _ in range(MAX_INFERENCE_PASSES):
        # each pass may compute shape arithmetic (a chunk's start) that a later shape needs
        known = len(source.values)
        try:
            infer_shapes(model, source, input_tensor, shape)
        except ModelError:
            raise
        except Exception:  # onnx on a hostile graph: keep the shapes convcost found
            return static
        static = fold(source)
        if len(source.values) == known or _shapes_known(source, static):
            break
    return static


def _shapes_known(source: Source, static: set[str]) -> bool:
    """Whether every tensor the model computes at run time has a known shape."""
    return all(
        str(tensor) in source.shapes or not tensor or str(tensor) in static
        for node in source.nodes
        for tensor in node.output
    )
