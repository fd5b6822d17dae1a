"""``--execute --backend onnxruntime``: run the exported network on ONNX Runtime, confirm every
shape, and time every layer with ORT's profiler.

The network is exported (:mod:`convcost.export.onnx_model`) with the weights
:func:`~convcost.executor.prepared.prepare` draws for the seed, and the input is the one the NumPy
backend draws next from the same generator: both backends compute on identical values.

Two sessions, each doing one job:

- **Shapes.** A session without graph optimisations whose outputs are every layer's and
  merge's output runs the input once: each real array's shape is compared with the engine's
  prediction (an :class:`ExecutionError`, exit 3, names the layer that differs). Exposing every
  tensor would stop ORT fusing across layers, so this session is not timed.
- **Time.** A session with ORT's full optimisations (its default) and the network's output alone
  runs one untimed warm-up pass, then ``repeat`` timed ones with ``enable_profiling``; the
  forward time is the median wall time of ``session.run``. Each profiler node event is
  attributed to the layer its node is named after (nodes are named by layer path). ORT fuses a
  conv with the batchnorm and activation after it into one kernel named after the *last* of
  them: that kernel's time shows on that layer's row and the layers fused into it show 0.

MACs per layer are counted from the exported model (Conv, ConvTranspose and Gemm: the output
elements ORT produced times the reduction length of the weight's shape), parameters from the
sizes of the layer's initializers: neither uses convcost's cost formulas (an attention layer's
MatMuls are not counted: its rows show no GFLOP/s).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from convcost.errors import ExecutionError, SpecError
from convcost.execution import Execution, LayerRun
from convcost.executor import kernels
from convcost.executor.prepared import Progress, prepare
from convcost.executor.process import current_rss_bytes, peak_rss_bytes, reset_peak
from convcost.network import GroupNode, LayerNode, MergeNode, Network, Node

BACKENDS = ("numpy", "onnxruntime")
"""The ``--backend`` names."""


def load_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or a :class:`SpecError` (exit 2) naming the extra."""
    try:
        import onnxruntime  # noqa: PLC0415  (optional: imported on first use)
    except ImportError:
        raise SpecError(
            "--backend onnxruntime needs the onnxruntime package: pip install 'convcost[ort]'"
        ) from None
    return onnxruntime


def execute_ort(
    network: Network,
    *,
    batch: int = 1,
    dtype: str = "float32",
    seed: int = 0,
    threads: int | None = None,
    repeat: int = 1,
    progress: Progress | None = None,
    fastest: bool = False,
) -> Execution:
    """Run ``network`` on ONNX Runtime's CPU provider (see the module's note): every shape
    checked, ``repeat`` timed passes after one warm-up, times as medians (``fastest``: as the
    shortest pass and each layer's shortest time, as calibration keeps them: a shared
    machine's load only ever adds to a time). ``threads`` sets ORT's intra-op threads
    (default: ORT's own, one per core)."""
    from convcost.export.onnx_model import load_onnx, network_model  # noqa: PLC0415

    if dtype != "float32":
        raise SpecError(f"--backend onnxruntime runs in float32 only, got {dtype!r}")
    ort = load_onnxruntime()
    onnx = load_onnx()
    reset_peak()
    baseline = current_rss_bytes()
    prepared = prepare(network, dtype=dtype, seed=seed)
    arrays = {path: step.arrays for path, step in prepared.steps.items()}
    x = np.ascontiguousarray(kernels.to_channels_first(prepared._input(batch)))
    model = network_model(onnx, network, arrays, name=network.name)
    data = model.SerializeToString()
    shapes = _check_shapes(ort, onnx, data, x, network, threads, progress)
    macs, params = _counts(model, shapes, network, batch)
    seconds, measured, passes = _timed(ort, data, x, threads, repeat, network, fastest)
    per_layer = _fused_back(measured, list(shapes), macs)
    runs = tuple(
        LayerRun(
            path=path,
            shape=shape,
            seconds=per_layer.get(path, 0.0),
            macs=macs.get(path, 0),
            params=params.get(path, 0),
        )
        for path, shape in shapes.items()
    )
    return Execution(
        layers=runs,
        seconds=seconds,
        batch=batch,
        dtype=dtype,
        seed=seed,
        estimated_bytes=0,
        peak_rss_bytes=peak_rss_bytes(),
        baseline_rss_bytes=baseline,
        repeat=passes,
        warm_up=True,
        backend="onnxruntime",
        threads=threads,
    )


def _owner(initializer: str, paths: dict[str, tuple[int, ...]]) -> str | None:
    """The layer a learned initializer belongs to: ``path.weight``, ``path.bias``,
    ``path.in_proj.weight``, ``path.relative.0`` (not a batchnorm's running statistics, which
    are buffers, nor the constants a layer's inner nodes read, named ``path/…``)."""
    parts = initializer.split(".")
    learned = parts[-1] in ("weight", "bias") or (
        len(parts) > 2 and parts[-2] == "relative" and parts[-1].isdigit()
    )
    for cut in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in paths:
            return prefix if learned else None
    return None


def _fused_back(
    measured: dict[str, float], order: list[str], macs: dict[str, int]
) -> dict[str, float]:
    """Kernel times moved from the last layer of a fused chain to the conv that starts it.

    ORT runs a conv with the batchnorm and activation after it as one kernel named after the
    last of them: a layer without MACs whose own kernel ran, right after layers without a
    kernel of their own, gives its time to the last of those that multiplies (the conv)."""
    result = dict(measured)
    pending: list[str] = []
    for path in order:
        if not result.get(path):
            pending.append(path)
            continue
        starts = [p for p in pending if macs.get(p, 0)]
        if starts and not macs.get(path, 0):
            result[starts[-1]] = result.pop(path)
        pending = []
    return result


def _options(ort: Any, threads: int | None) -> Any:
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: no warnings about unused initializers
    return options


def _session(ort: Any, data: bytes, options: Any) -> Any:
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _steps(nodes: tuple[Node, ...]) -> list[LayerNode | MergeNode]:
    """Leaf layers and merges in execution order (as the NumPy runner reports them)."""
    result: list[LayerNode | MergeNode] = []
    for node in nodes:
        if isinstance(node, LayerNode):
            result.append(node)
        elif isinstance(node, GroupNode):
            result += _steps(node.children)
        else:
            for branch in node.branches:
                result += _steps(branch.nodes)
            result.append(node)
    return result


def _check_shapes(
    ort: Any,
    onnx: Any,
    data: bytes,
    x: Any,
    network: Network,
    threads: int | None,
    progress: Callable[[str, int, int], None] | None,
) -> dict[str, tuple[int, ...]]:
    """Each step's real per-sample shape (channels first) from ORT's outputs, by path."""
    steps = _steps(network.nodes)
    # every step's output as a graph output too, without writing the model again: serialized
    # protobuf messages concatenated parse as one message, their repeated fields appended
    extra = onnx.ModelProto()
    extra.graph.output.extend(
        onnx.helper.make_tensor_value_info(step.path, onnx.TensorProto.FLOAT, None)
        for step in steps[:-1]
    )
    options = _options(ort, threads)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = _session(ort, data + extra.SerializeToString(), options)
    names = [output.name for output in session.get_outputs()]
    values = dict(zip(names, session.run(names, {"input": x}), strict=True))
    shapes: dict[str, tuple[int, ...]] = {}
    for index, step in enumerate(steps):
        # a step that writes no tensor of its own (an empty merge of identities) reads its input
        tensor = step.path if step.path in values else None
        real = tuple(int(v) for v in values[tensor].shape[1:]) if tensor else step.input_shape
        if real != step.output_shape:
            raise ExecutionError(
                f"onnxruntime's output shape {list(real)} differs from the predicted "
                f"{list(step.output_shape)}",
                location=step.location,
                layer=step.path,
            )
        shapes[step.path] = real
        if progress is not None:
            progress(step.path, index + 1, len(steps))
    return shapes


def _counts(
    model: Any, shapes: dict[str, tuple[int, ...]], network: Network, batch: int
) -> tuple[dict[str, int], dict[str, int]]:
    """MACs (Conv, ConvTranspose, Gemm) and parameters per layer, read from the model's
    weight shapes and ORT's real output shapes."""
    sizes = {t.name: tuple(int(d) for d in t.dims) for t in model.graph.initializer}
    params: dict[str, int] = {}
    for name, dims in sizes.items():
        path = _owner(name, shapes)
        if path is not None:
            params[path] = params.get(path, 0) + math.prod(dims)
    tensors = {"input": network.input_shape, **shapes}
    macs: dict[str, int] = {}
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose", "Gemm") or node.name not in shapes:
            continue
        weight = sizes[str(node.input[1])]
        if node.op_type == "ConvTranspose":  # (C_in, out/g, *k): each input adds out/g · ∏k
            elements, reads = math.prod(tensors[str(node.input[0])]), math.prod(weight[1:])
        elif node.op_type == "Conv":  # (out, C/g, *k): each output reads C/g · ∏k inputs
            elements, reads = math.prod(shapes[node.name]), math.prod(weight[1:])
        else:  # Gemm: (in, out), or (out, in) with transB: each output reads `in` inputs
            transposed = any(a.name == "transB" and a.i for a in node.attribute)
            elements, reads = math.prod(shapes[node.name]), weight[1 if transposed else 0]
        macs[node.name] = batch * elements * reads
    return macs, params


def _timed(
    ort: Any,
    data: bytes,
    x: Any,
    threads: int | None,
    repeat: int,
    network: Network,
    fastest: bool = False,
) -> tuple[float, dict[str, float], int]:
    """(median seconds per pass, median seconds per layer, passes timed); ``fastest``: the
    minima instead."""
    keep: Callable[[list[float]], float] = min if fastest else statistics.median
    options = _options(ort, threads)
    folder = tempfile.mkdtemp(prefix="convcost-ort-")
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(folder, "profile")
    session = _session(ort, data, options)
    feeds = {"input": x}
    session.run(None, feeds)  # warm-up: first-run allocations and kernel selection
    walls = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(None, feeds)
        walls.append(time.perf_counter() - start)
    profile = Path(session.end_profiling())
    try:
        events = json.loads(profile.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    per_pass = _per_layer(events, {step.path for step in _steps(network.nodes)}, repeat + 1)
    timed = per_pass[1:]  # the warm-up pass is not counted
    layers = {
        path: keep([run.get(path, 0.0) for run in timed])
        for path in {p for run in timed for p in run}
    }
    return keep(walls), layers, repeat


def _per_layer(
    events: list[dict[str, Any]], paths: set[str], passes: int
) -> list[dict[str, float]]:
    """Node kernel times (µs in the profile) summed per layer, one dict per ``session.run``
    (a run's node events come before its ``model_run`` event)."""
    runs: list[dict[str, float]] = []
    current: dict[str, float] = {}
    for event in events:
        name = str(event.get("name", ""))
        if event.get("cat") == "Session" and name == "model_run":
            runs.append(current)
            current = {}
        elif event.get("cat") == "Node" and name.endswith("_kernel_time"):
            layer = _layer_of(name.removesuffix("_kernel_time"), paths)
            if layer is not None:
                current[layer] = current.get(layer, 0.0) + float(event.get("dur", 0)) / 1e6
    return runs[-passes:]


def _layer_of(node: str, paths: set[str]) -> str | None:
    """The layer a profiled node belongs to: its name (ORT may add a suffix for a layout
    transform such as ``_nchwc``, or the prefix ``fused `` for a Gemm with its activation) or
    the path before ``/`` for a layer's inner nodes."""
    base = node.removeprefix("fused ").split("/", 1)[0]
    while base:
        if base in paths:
            return base
        cut = base.rfind("_")
        if cut <= 0:
            return None
        base = base[:cut]
    return None
