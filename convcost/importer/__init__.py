"""Models people already have, as convcost specs: ONNX files and torch modules.

A command tells a ``.onnx`` argument from a spec with :func:`is_model_path`, which lives in
:mod:`convcost.file_paths` (re-exported here) so that a spec's command never loads this package.

:func:`import_model` turns an ONNX file into the text of a spec a person can read and edit;
:func:`load_model` turns it straight into a :class:`~convcost.spec.Spec`, which is what every
command does with a ``.onnx`` argument; :func:`import_torch` exports a ``torch.nn.Module`` to
ONNX in memory first. An ONNX file is read by convcost's own decoder, without the ``onnx``
package; ``onnx`` (the ``convcost[onnx]`` extra) and ``torch`` are optional, imported on first
use (by ``import_torch``, and for ONNX's shape inference on an operator convcost has no shape
rule for), and the absence of one that is needed is one :class:`ModelError` naming it.

The import runs in two halves joined by :class:`~convcost.importer.graph.Graph`: the reader
(:mod:`convcost.importer.onnx_reader`) and the structurer (:mod:`convcost.importer.structure`).
A spec error in the generated text names the ONNX node the layer came from, never a line of
YAML the user has not seen (:func:`load_model`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from convcost.errors import ModelError, ResourceLimitError, SpecError
from convcost.file_paths import MODEL_SUFFIXES as MODEL_SUFFIXES
from convcost.file_paths import is_model_path, path_name
from convcost.limits import DEFAULT_LIMITS, Limits
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.importer.graph import Graph, Node
    from convcost.importer.torch_export import Exporter
    from convcost.spec import Spec

__all__ = [
    "Model",
    "import_model",
    "import_torch",
    "is_model_path",
    "load_model",
    "open_model",
    "read_model",
]


def read_model(
    path: str | os.PathLike[str],
    *,
    input_shape: tuple[int, ...] | None = None,
    allow_unsupported: bool = False,
) -> Graph:
    """The :class:`~convcost.importer.graph.Graph` of the ONNX file ``path``.

    ``input_shape`` (channels first, without batch) replaces the graph input's shape; it is
    needed when the model's spatial sizes are symbolic. Raises :class:`ModelError` (exit 2),
    listing every node of an operator convcost has no layer for, unless ``allow_unsupported``:
    then each is a ``custom`` placeholder of unknown cost, which every report notes.
    """
    from pathlib import Path  # noqa: PLC0415  (the reader's argument; the command line needs none)

    from convcost.importer.onnx_reader import read_onnx  # noqa: PLC0415  (imports onnx on use)

    return read_onnx(Path(path), input_shape=input_shape, allow_unsupported=allow_unsupported)


def import_model(
    path: str | os.PathLike[str],
    *,
    input_shape: tuple[int, ...] | None = None,
    flat: bool = False,
    allow_unsupported: bool = False,
) -> str:
    """The YAML text of a spec for the ONNX file ``path``: repeated subgraphs become reusable
    blocks unless ``flat``. The same file always gives the same text, byte for byte.

    The spec is checked as :func:`load_model` checks it, so an error in it names the node.
    """
    return _imported(
        path,
        input_shape=input_shape,
        flat=flat,
        limits=DEFAULT_LIMITS,
        allow_unsupported=allow_unsupported,
    )[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class Model:
    """An imported model: its graph, and the spec every command analyzes."""

    graph: Graph
    spec: Spec
    notes: tuple[str, ...]
    """Facts every report on it should carry (batchnorm folded by the exporter, …)."""


def open_model(
    path: str | os.PathLike[str],
    *,
    input_shape: tuple[int, ...] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    allow_unsupported: bool = False,
) -> Model:
    """Import the ONNX file ``path`` in memory as a checked :class:`Model` (see :func:`load_model`)."""
    graph, _, spec = _imported(
        path,
        input_shape=input_shape,
        flat=False,
        limits=limits,
        allow_unsupported=allow_unsupported,
    )
    return Model(graph=graph, spec=spec, notes=graph.notes)


def load_model(
    path: str | os.PathLike[str],
    *,
    input_shape: tuple[int, ...] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    allow_unsupported: bool = False,
) -> Spec:
    """The :class:`~convcost.spec.Spec` of the ONNX file ``path``, imported in memory.

    The spec is built once here, so that any error in it (a shape that does not fit, an
    output size below 1 at this ``input_shape``) is a :class:`ModelError` naming the ONNX node
    and operator the layer came from. Raises :class:`ResourceLimitError` past ``limits``.
    """
    return open_model(
        path, input_shape=input_shape, limits=limits, allow_unsupported=allow_unsupported
    ).spec


def import_torch(
    module: object,
    input_shape: tuple[int, ...],
    *,
    flat: bool = False,
    exporter: Exporter = "dynamo",
    name: str | None = None,
    allow_unsupported: bool = False,
) -> str:
    """The YAML text of a spec for the ``torch.nn.Module`` ``module`` at ``input_shape``
    (channels first, without batch): exported with ``torch.onnx.export`` in eval mode into a
    temporary folder (removed afterwards), then imported as :func:`import_model` does. The
    spec is named ``name`` (default: the module's class name).

    ``exporter`` is ``"dynamo"`` (the default: ``torch.export``, PyTorch's default exporter) or
    ``"torchscript"`` (the deprecated tracer); see :mod:`convcost.importer.torch_export`.
    """
    import tempfile  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from convcost.importer.torch_export import export_torch  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="convcost-") as folder:
        stem = name or type(module).__name__
        path = Path(folder) / f"{stem}.onnx"
        export_torch(module, input_shape, path, exporter=exporter)
        label = f"the PyTorch module {stem} (exporter {exporter})"
        return _imported(
            path,
            input_shape=None,
            flat=flat,
            limits=DEFAULT_LIMITS,
            label=label,
            allow_unsupported=allow_unsupported,
        )[1]


def _imported(
    path: str | os.PathLike[str],
    *,
    input_shape: tuple[int, ...] | None,
    flat: bool,
    limits: Limits,
    label: str | None = None,
    allow_unsupported: bool = False,
) -> tuple[Graph, str, Spec]:
    """The graph of ``path``, its spec's text, and that text parsed and built (checked);
    ``label`` names the model in the spec's header and in errors (default: the file name)."""
    try:
        graph = read_model(path, input_shape=input_shape, allow_unsupported=allow_unsupported)
        name = label or path_name(path)
        text = _to_spec(graph, flat=flat, source=name)
        spec = _checked(graph, text, flat=flat, name=name, source=os.fspath(path), limits=limits)
    except ModelError as error:
        shown = _one_line(error.message)
        if shown == error.message:
            raise
        raise ModelError(shown) from None
    return graph, text, spec


def _one_line(text: str) -> str:
    """``text`` with a line break or other control character (from a node or tensor name in
    the file) written as its escape, so an error stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _to_spec(graph: Graph, *, flat: bool, source: str) -> str:
    from convcost.importer.structure import to_spec  # noqa: PLC0415

    return to_spec(graph, flat=flat, source=source)


def _checked(
    graph: Graph, text: str, *, flat: bool, name: str, source: str, limits: Limits
) -> Spec:
    """``text`` (the spec of ``graph``) parsed and built: an error in it names the ONNX node,
    never a line of YAML the user has not seen; ``name`` is the model file's, ``source`` its
    path (the spec's source)."""
    from convcost.build import build  # noqa: PLC0415
    from convcost.spec import parse_spec  # noqa: PLC0415

    def parsed(text: str) -> Spec:
        spec = parse_spec(text, source=source, limits=limits)
        for variant in spec.variants:
            build(spec, variant)
        return spec

    try:
        return parsed(text)
    except ResourceLimitError as error:
        raise ResourceLimitError(f"{name}: {error.message}") from None
    except SpecError as error:
        first = error
    # Written flat, every layer and merge is named after its node: the flat spec's error
    # names the node, where the structured one's may name a layer inside a reused block.
    try:
        parsed(text if flat else _to_spec(graph, flat=True, source=name))
    except SpecError as error:
        node = _node_of(graph, error.layer)
        if node is not None:
            raise ModelError(f"{name}: {_described(node)}: {error.message}") from None
    where = f"layer {first.layer}: " if first.layer else ""
    raise ModelError(
        f"{name}: the imported spec is invalid (a convcost bug): {where}{first.message}"
    ) from None


def _node_of(graph: Graph, layer: str | None) -> Node | None:
    """The node a layer path of the flat spec names: its last name that is a node's."""
    from convcost.importer.structure import spec_names  # noqa: PLC0415  (the one naming rule)

    if not layer:
        return None
    names = spec_names(node.name for node in graph.nodes)
    nodes = {names[node.name]: node for node in graph.nodes}
    for name in reversed(layer.split(".")):
        if name in nodes:
            return nodes[name]
    return None


def _described(node: Node) -> str:
    return f'node "{node.origin.name}" ({node.origin.op_type})'
