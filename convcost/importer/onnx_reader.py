"""Read an ONNX file into a `Graph`: convcost layers and merges joined by tensors.

The file is decoded by convcost's own reader (`convcost.importer.onnx_file`, no ``onnx``
package), without its external data, and weights are never decoded: a weight is known by its
initializer's ``dims``. Shapes come from convcost's own inference
(`convcost.importer.shape_infer`); only where it leaves a shape unknown (an operator it has
no rule for) is ONNX's shape inference asked, when the ``onnx`` package is installed.
"""

from __future__ import annotations

import collections
import stat
from pathlib import Path

from convcost.errors import ModelError
from convcost.importer import onnx_file, ops_spatial
from convcost.importer.fusions import find_fusions
from convcost.importer.graph import INPUT, Graph, Node, Origin
from convcost.importer.onnx_proto import GraphProto, ModelProto, NodeProto, TensorProto
from convcost.importer.ops import CONVERTERS
from convcost.importer.ops_graph import Source, node_label
from convcost.importer.ops_names import Namer
from convcost.importer.ops_result import Context, Out, Unsupported
from convcost.importer.ops_shapes import input_shape_of, onnx_inference
from convcost.importer.ops_window import pad_fold
from convcost.importer.placeholder import placeholder
from convcost.importer.shape_infer import fallback_hint, gaps, infer
from convcost.importer.wire import WireError

MAX_MODEL_BYTES = 2**31 - 1
"""protobuf cannot write (nor parse) a message of 2 GiB or more: larger models keep weights
outside, so a larger file is not an ONNX model that any exporter wrote."""

_MISSING = "?"
"""Stands for a tensor an unsupported node produces, until the error listing them is raised."""

FOLDED_BATCHNORM = (
    "batchnorm was folded into the preceding convolutions by the exporter (eval mode): the "
    "parameter count is the graph's (folded weights and biases), not the PyTorch module's"
)

PLACEHOLDERS = (
    "imported with --allow-unsupported: a node convcost has no layer for is a placeholder of "
    "unknown cost (custom, unknown: true)"
)


def read_onnx(
    path: Path, *, input_shape: tuple[int, ...] | None = None, allow_unsupported: bool = False
) -> Graph:
    """Read the ONNX model at `path`; `input_shape` (without batch) fixes symbolic sizes.

    Raises `ModelError` with one line naming the file (and the node) for a file that is not
    an ONNX model, a truncated one, symbolic spatial sizes without `input_shape`, and every
    unsupported operator at once; with `allow_unsupported`, each unsupported node becomes a
    placeholder of unknown cost instead (`convcost.importer.placeholder`).
    """
    model = _load(path)
    return convert(
        model,
        file=path.name,
        directory=path.parent,
        input_shape=input_shape,
        allow_unsupported=allow_unsupported,
    )


def _load(path: Path) -> ModelProto:
    try:
        info = path.stat()
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else error.strerror
        raise ModelError(f"{path}: cannot read the model: {reason}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ModelError(f"{path} is a directory, not an ONNX file")
    if not stat.S_ISREG(info.st_mode):
        raise ModelError(f"{path} is not a regular file: convcost reads ONNX files")
    if info.st_size > MAX_MODEL_BYTES:
        raise ModelError(
            f"{path.name}: the file has {info.st_size:,} bytes, more than protobuf can parse"
            " (2 GiB): save the model with its weights as external data"
            " (onnx.save(model, path, save_as_external_data=True))"
        )
    try:
        model = onnx_file.load(path)
    except WireError as error:
        raise ModelError(
            f"{path.name}: not an ONNX model, or a truncated one (protobuf: {error})"
        ) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ModelError(f"{path}: cannot read the model: {reason}") from None
    if model.graph is None or not model.graph.node:
        raise ModelError(
            f"{path.name}: not an ONNX model, or an empty one: it holds no graph nodes"
        )
    return model


def convert(
    model: ModelProto,
    *,
    file: str,
    directory: Path,
    input_shape: tuple[int, ...] | None = None,
    allow_unsupported: bool = False,
) -> Graph:
    """The `Graph` of a decoded ONNX model (its external data not loaded)."""
    graph = model.graph
    assert graph is not None  # `_load` refuses a model without one
    initializers = {str(t.name): t for t in graph.initializer}
    inputs = [i for i in graph.input if str(i.name) not in initializers]
    if len(inputs) != 1:
        names = ", ".join(repr(str(i.name)) for i in inputs) or "none"
        raise ModelError(
            f"{file}: the graph has {len(inputs)} inputs ({names}); convcost reads models with one"
        )
    if len(graph.output) != 1:
        raise ModelError(
            f"{file}: the graph has {len(graph.output)} outputs; convcost reads models with one"
        )
    input_tensor = str(inputs[0].name)
    transpose, layout = _channels_last(graph, input_tensor)
    full_shape = input_shape_of(file, inputs[0], input_shape, layout)
    shape = tuple(full_shape[axis] for axis in layout or range(len(full_shape)))[1:]
    source = index(model, file=file, directory=directory)
    static = infer(source, input_tensor, full_shape)
    missing = gaps(source, static)
    if missing:
        static = onnx_inference(source, directory / file, input_tensor, full_shape, static)
        source.hint = "" if source.hint is None else fallback_hint(gaps(source, static))
    converter = _Converter(source, input_tensor, static, allow_unsupported=allow_unsupported)
    if transpose is not None:  # the channels-last input's Transpose: convcost's input itself
        converter.alias[str(source.nodes[transpose].output[0])] = INPUT
        converter.skipped.add(transpose)
    return converter.build(str(graph.output[0].name), file, shape)


def index(model: ModelProto, *, file: str, directory: Path) -> Source:
    """The model's graph indexed for conversion (no shapes yet: `shape_infer.infer`)."""
    graph = model.graph
    assert graph is not None
    constants = {
        str(node.output[0]): tensor
        for node in graph.node
        if node.op_type == "Constant" and node.output
        for tensor in [_constant(node)]
        if tensor is not None
    }
    source = Source(
        file=file,
        directory=directory,
        nodes=list(graph.node),
        producers={},
        consumers=collections.defaultdict(list),
        shapes={},
        initializers={t.name: t for t in graph.initializer},
        constants=constants,
        outputs=frozenset(str(o.name) for o in graph.output),
        opset=max(
            (int(o.version) for o in model.opset_import if str(o.domain) in ("", "ai.onnx")),
            default=0,
        ),
    )
    for index, node in enumerate(source.nodes):
        for tensor in node.output:
            source.producers[str(tensor)] = index
        for tensor in node.input:
            source.consumers[str(tensor)].append(index)
    return source


def _constant(node: NodeProto) -> TensorProto | None:
    """A Constant node's value as a TensorProto (``value``, or ``value_int(s)``/``_float(s)``)."""
    for attribute in node.attribute:
        name = attribute.name
        if name == "value":
            return attribute.t
        if name in ("value_int", "value_ints"):
            values = attribute.ints if name.endswith("s") else (attribute.i,)
            dims = (len(values),) if name.endswith("s") else ()
            return TensorProto(node.output[0], dims, data_type=7, int64_data=tuple(values))
        if name in ("value_float", "value_floats"):
            floats = attribute.floats if name.endswith("s") else (attribute.f,)
            dims = (len(floats),) if name.endswith("s") else ()
            return TensorProto(node.output[0], dims, data_type=1, float_data=tuple(floats))
    return None


def _channels_last(
    graph: GraphProto, input_tensor: str
) -> tuple[int | None, tuple[int, ...] | None]:
    """A channels-last input (TensorFlow's NHWC, as tf2onnx writes it) read through its one
    Transpose to channels first: that node's index and permutation, or (None, None)."""
    readers = [i for i, node in enumerate(graph.node) if input_tensor in node.input]
    if len(readers) != 1:
        return None, None
    node = graph.node[readers[0]]
    if node.op_type != "Transpose" or len(node.output) != 1:
        return None, None
    perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), [])
    rank = len(perm)
    if rank < 3 or perm != [0, rank - 1, *range(1, rank - 1)]:
        return None, None
    return readers[0], tuple(perm)


class _Converter:
    """The conversion loop: each ONNX node in order, into nodes of the `Graph`."""

    def __init__(
        self, source: Source, input_tensor: str, static: set[str], *, allow_unsupported: bool
    ) -> None:
        self.allow_unsupported = allow_unsupported
        self.ctx = Context(source, static=static)
        self.names = Namer(source.nodes)
        self.alias: dict[str, str] = {input_tensor: INPUT}
        self.nodes: list[Node] = []
        self.unsupported: dict[str, list[str]] = {}
        self.skipped: set[int] = set()
        """Nodes that are part of the input (a channels-last input's Transpose)."""

    def build(self, output: str, file: str, shape: tuple[int, ...]) -> Graph:
        source = self.ctx.source
        fusions = find_fusions(self.ctx)
        for index, node in enumerate(source.nodes):
            if index in self.skipped:
                continue
            fusion = fusions.get(index)
            if fusion is not None:
                if index == fusion.members[0]:
                    self._emit(index, node, fusion.out, fusion.label, named=fusion.named)
                continue
            self._convert(index, node)
        if self.unsupported:
            raise ModelError(_unsupported_message(file, self.unsupported))
        last = self.alias.get(output)
        if last is None or last == INPUT:
            raise ModelError(
                f"{file}: the graph's output {output!r} is not computed from its input"
            )
        notes = self.ctx.note_lines()
        if _folded_batchnorm(source):
            notes.insert(0, FOLDED_BATCHNORM)
        return Graph(
            name=Path(file).stem or "model",
            input_shape=shape,
            nodes=_reachable(self.nodes, last),
            output=last,
            notes=tuple(notes),
        )

    def _convert(self, index: int, node: NodeProto) -> None:
        source, ctx = self.ctx.source, self.ctx
        if node.output and all(str(t) in ctx.static for t in node.output):
            return  # a constant, or shape arithmetic (`ops_static`)
        try:
            if node.op_type == "Pad":
                pads = pad_fold(ctx, node)
                if pads is None:
                    outs = ops_spatial.pad(ctx, node)  # a layer of its own
                else:
                    ctx.folded_pads[str(node.output[0])] = pads
                    outs = [Out(str(node.output[0]), (str(node.input[0]),))]
            elif str(node.domain) not in ("", "ai.onnx"):
                raise Unsupported(f"{node.domain}.{node.op_type}")  # a runtime's or a function
            else:
                converter = CONVERTERS.get(str(node.op_type))
                if converter is None:
                    raise Unsupported(str(node.op_type))
                outs = converter(ctx, node)
        except Unsupported as verdict:
            if self.allow_unsupported:
                self._emit(index, node, placeholder(source, node), str(node.op_type))
                ctx.note(node, PLACEHOLDERS)
                return
            self.unsupported.setdefault(verdict.label, []).append(node_label(node))
            for tensor in node.output:
                self.alias[str(tensor)] = _MISSING
            return
        except ModelError:
            if not self.unsupported:
                raise
            for tensor in node.output:  # an unsupported node's consequence: listed instead
                self.alias[str(tensor)] = _MISSING
            return
        except (ValueError, TypeError) as error:  # a malformed attribute
            raise source.fail(node, str(error)) from None
        except IndexError:  # a hostile or broken file: Conv without a weight, Relu without output
            raise source.fail(node, "has fewer inputs or outputs than its operator needs") from None
        for out in outs:
            self._emit(index, node, out, str(node.op_type))

    def _emit(
        self, index: int, node: NodeProto, out: Out, label: str, *, named: int | None = None
    ) -> None:
        """Record `out`'s layers or merge, with `node` as their origin, named after node
        `named` (default: `index`, `node` itself)."""
        if named is not None:
            index = named
        inputs = []
        for tensor in out.inputs:
            resolved = self.alias.get(tensor)
            if resolved is None:
                what = "a constant" if tensor in self.ctx.static else "a tensor no node produces"
                raise self.ctx.source.fail(node, f"reads {what} ({tensor!r}) as its data input")
            inputs.append(resolved)
        origin = Origin(node_label(node), label)
        if out.merge is not None:
            name = self.names.name(index, self.ctx.source.nodes[index], out.merge)
            self.nodes.append(Node(name, origin, tuple(inputs), merge=out.merge))
            self.alias[out.tensor] = name
            return
        previous = inputs[0]
        for layer in out.layers:
            name = self.names.name(index, self.ctx.source.nodes[index], next(iter(layer)))
            self.nodes.append(Node(name, origin, (previous,), layer=layer))
            previous = name
        self.alias[out.tensor] = previous


def _unsupported_message(file: str, unsupported: dict[str, list[str]]) -> str:
    count = sum(len(names) for names in unsupported.values())
    listed = ", ".join(
        f'{label} ×{len(names)} (first: node "{names[0]}")' for label, names in unsupported.items()
    )
    nodes = "node has" if count == 1 else "nodes have"
    return f"{file}: {count} {nodes} no convcost layer: {listed}"


def _reachable(nodes: list[Node], output: str) -> tuple[Node, ...]:
    """The nodes the output depends on (dead ends, such as an unused split half, dropped)."""
    needed = {output}
    for node in reversed(nodes):
        if node.name in needed:
            needed.update(node.inputs)
    return tuple(node for node in nodes if node.name in needed)


def _folded_batchnorm(source: Source) -> bool:
    """Whether an exporter folded batchnorm into convolutions (no BatchNormalization left)."""
    for node in source.nodes:
        if node.op_type != "Conv":
            continue
        if str(node.input[1]).startswith("onnx::"):  # TorchScript renames a folded weight
            return True
        if any("FuseBatchNormIntoConv" in prop.value for prop in node.metadata_props):
            return True
    return False
