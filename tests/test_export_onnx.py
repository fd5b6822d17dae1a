"""ONNX export and the ONNX Runtime backend.

Oracles: ``onnx.checker`` (full check, with shape inference); convcost's ONNX importer reading
the exported file back (a separate code path: it reads ONNX operators, not layers); ONNX
Runtime's real output arrays and values against the NumPy executor's on the same weights.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import require
from typer.testing import CliRunner

from convcost import zoo
from convcost.build import build
from convcost.cli import app
from convcost.engine import analyze_all
from convcost.errors import ExitStatus, SpecError
from convcost.executor import prepare
from convcost.executor.kernels import to_channels_first
from convcost.executor.ort import _steps, execute_ort
from convcost.export import onnx_kinds
from convcost.export.onnx_model import network_model, onnx_bytes, onnx_model
from convcost.importer import load_model
from convcost.layers.registry import KIND_NAMES
from convcost.spec import Spec, load_spec, parse_spec

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
ZOO = [zoo.ZOO_DIR / f"{name}.yaml" for name in zoo.names()]
CASES = [(path, variant.name) for path in [*ZOO, *SPECS] for variant in load_spec(path).variants]
IDS = [f"{path.stem}:{variant}" for path, variant in CASES]

# the importer skips ONNX Identity nodes (identity, dropout at inference); depthwise and
# pointwise are display labels of a conv, which an imported conv does not carry
SKIPPED_ON_IMPORT = {"identity", "dropout"}
# ONNX has no adaptive pool: one whose output divides its input is written as the window pool
# it equals (same shapes, costs and receptive field), and is read back as that pool
LABELS = {
    "depthwise": "conv",
    "pointwise": "conv",
    "adaptive_avgpool": "avgpool",
    "adaptive_maxpool": "maxpool",
}

ALL_KINDS = """
name: kinds
input: [8, 12, 12]
layers:
  - conv: {out: 8, kernel: 3, padding: 1}
  - sigmoid: {}
  - swish: {}
  - mish: {}
  - gelu: {approximate: tanh}
  - leaky_relu: {slope: 0.1}
  - prelu: {}
  - elu: {alpha: 0.5}
  - tanh: {}
  - pad: {padding: 1, mode: reflect}
  - pad: {padding: [1, 2], mode: replicate}
  - crop: {size: 12}
  - groupnorm: {groups: 2}
  - instancenorm: {affine: true}
  - layernorm: {over: all}
  - pixel_unshuffle: {factor: 2}
  - pixel_shuffle: {factor: 2}
  - conv_transpose: {out: 8, kernel: 3, stride: 2, padding: 1, output_padding: 1}
  - upsample: {size: [12, 12], mode: bilinear}
  - upsample: {scale: 2, mode: bicubic, align_corners: true}
  - upsample: {scale: 2}
  - adaptive_maxpool: {size: 12}
  - avgpool: {kernel: 3, stride: 2, padding: 1, ceil_mode: true}
  - maxpool: {kernel: 3, stride: 2, dilation: 2}
  - attention: {heads: 2, key_dim: 4, relative_position: true}
  - attention: {heads: 2, value_dim: 3, bias: false, projection: false}
  - softmax: {}
  - global_maxpool: {}
  - flatten: {}
  - layernorm: {}
  - linear: {out: 5}
"""


def test_every_kind_is_written_or_declared_unsupported() -> None:
    covered = (
        set(onnx_kinds.WRITERS)
        | set(onnx_kinds.UNSUPPORTED)
        | set(onnx_kinds.BUILT_AS)
        | set(onnx_kinds.MERGES)
    )
    assert covered == KIND_NAMES
    assert not set(onnx_kinds.WRITERS) & set(onnx_kinds.UNSUPPORTED)
    assert all(len(reason) > 20 for reason in onnx_kinds.UNSUPPORTED.values())


@pytest.mark.parametrize(("path", "variant"), CASES, ids=IDS)
def test_checker_round_trip_and_ort_shapes(path: Path, variant: str, tmp_path: Path) -> None:
    """For every zoo model and spec variant, one export (zero weights) is checked three ways:

    - the ONNX checker (full, with shape inference) passes;
    - importing the file back gives the same totals, and the same per-layer kinds, output
      shapes and receptive fields in order;
    - ONNX Runtime, with every layer's and merge's output exposed as a graph output, produces
      arrays of exactly the predicted shapes.
    """
    onnx = require("onnx")
    ort = require("onnxruntime")

    spec = load_spec(path)
    chosen = next(v for v in spec.variants if v.name == variant)
    file = tmp_path / f"{variant}.onnx"
    data = onnx_bytes(spec, variant=variant, zeros=True)
    file.write_bytes(data)
    onnx.checker.check_model(str(file), full_check=True)

    report = analyze_all(spec)[spec.variants.index(chosen)]
    back = analyze_all(load_model(file))[0]
    for field in ("params", "macs", "flops", "ops"):
        assert getattr(back.totals, field) == getattr(report.totals, field), field
    assert back.receptive_field == report.receptive_field
    assert back.output_shape == report.output_shape

    def rows(layers: Any) -> list[tuple[str, tuple[int, ...], Any]]:
        return [
            (LABELS.get(layer.kind, layer.kind), layer.output_shape, layer.receptive_field)
            for layer in layers
            if layer.kind not in SKIPPED_ON_IMPORT
        ]

    assert rows(back.layers) == rows(report.layers)

    network = build(spec, chosen)
    steps = _steps(network.nodes)
    # every step's output as a graph output too, without parsing and writing the model again:
    # serialized protobuf messages concatenated parse as one, repeated fields appended
    extra = onnx.ModelProto()
    extra.graph.output.extend(
        onnx.helper.make_tensor_value_info(step.path, onnx.TensorProto.FLOAT, None)
        for step in steps[:-1]
    )
    # ORT's default optimisations: fusions that would hide an exposed output are not applied
    # (U-Net's 192 GMACs run 20% faster than without optimisations)
    session = ort.InferenceSession(
        data + extra.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    x = np.zeros((1, *network.input_shape), np.float32)
    real = dict(zip(names, session.run(names, {"input": x}), strict=True))
    assert {step.path for step in steps} <= set(real)
    for step in steps:
        assert real[step.path].shape == (1, *step.output_shape), step.path


def test_names_come_from_the_spec() -> None:
    onnx = require("onnx")
    model = onnx.load_from_string(onnx_bytes(load_spec(ROOT / "specs/quickstart.yaml")))
    assert model.graph.name == "quickstart"
    assert (model.opset_import[0].version, model.ir_version) == (onnx_kinds.OPSET, 8)
    assert [node.name for node in model.graph.node][:3] == ["stem", "batchnorm1", "relu1"]
    initializers = {t.name: list(t.dims) for t in model.graph.initializer}
    assert initializers["stem.weight"] == [32, 3, 3, 3]  # PyTorch's (out, in, kH, kW)
    assert initializers["head.weight"] == [64, 10]  # Gemm's B: (in, out)
    assert model.graph.output[0].name == "head"


def test_zeros_and_seed() -> None:
    onnx = require("onnx")
    spec = load_spec(ROOT / "specs/quickstart.yaml")

    def weights(**options: Any) -> Any:
        model = onnx.load_from_string(onnx_bytes(spec, **options))
        return {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}[
            "stem.weight"
        ]

    assert not weights(zeros=True).any()
    first, again, other = weights(seed=1), weights(seed=1), weights(seed=2)
    assert (first == again).all()
    assert not (first == other).all()
    # He-uniform for the stem's fan-in 3·3·3 = 27: every weight within ±√(6/27)
    assert np.abs(first).max() <= (6 / 27) ** 0.5


def test_all_kinds_agree_with_numpy() -> None:
    """A spec of the kinds the zoo and specs/ do not use: checker, ORT shapes and values."""
    _agree(parse_spec(ALL_KINDS, source="kinds.yaml"), None)


@pytest.mark.parametrize("size", ["[8, 5]", "[8, 3, 4]", "[8, 2, 3, 4]"])
def test_attention_agrees_with_numpy(size: str) -> None:
    """Relative-position attention on 1-, 2- and 3-D maps of unequal sides (an axis mixed up
    in the relative logits would change the values)."""
    text = (
        f"name: a\ninput: {size}\nlayers:\n"
        "  - attention: {heads: 2, key_dim: 3, value_dim: 5, relative_position: true}\n"
        "  - attention: {heads: 4, bias: false}\n"
    )
    _agree(parse_spec(text, source="a.yaml"), None)


def _ort_run(network: Any, arrays: Any, x: Any) -> Any:
    onnx = require("onnx")
    ort = require("onnxruntime")
    model = network_model(onnx, network, arrays, name=network.name)
    onnx.checker.check_model(model, full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, {"input": x}), strict=True))


def _agree(spec: Spec, variant: str | None, input_shape: tuple[int, ...] | None = None) -> None:
    """ORT and the NumPy executor agree on the same weights and input.

    rtol 1e-4 (float32), and atol 1e-4 of the output's largest magnitude: the two sum the
    products of each conv in different orders, so an output near 0 made of terms of the
    output's size carries a rounding error of that size's order (≈ 1e-7 per term) rather than
    of its own; 1e-4 of the scale is ~1000× that bound and far below any real difference
    (a wrong weight layout moves outputs by O(1) of the scale)."""

    chosen = next(v for v in spec.variants if variant in (None, v.name))
    network = build(spec, chosen, input_shape=input_shape)
    prepared = prepare(network, seed=3)
    x = np.ascontiguousarray(to_channels_first(prepared._input(2)))
    arrays = {path: step.arrays for path, step in prepared.steps.items()}
    got = _ort_run(network, arrays, x)
    final = next(iter(got.values()))
    expected = prepared.output(x)
    assert final.shape == expected.shape == (2, *network.output_shape)
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(final, expected, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_specs_agree_with_numpy(path: Path) -> None:
    spec = load_spec(path)
    for variant in spec.variants:
        _agree(spec, variant.name)


@pytest.mark.parametrize(
    ("name", "size"),
    [("mobilenet_v3_small", 64), ("shufflenet_v2_x1_0", 64), ("convnext_tiny", 64)],
)
def test_zoo_models_agree_with_numpy(name: str, size: int) -> None:
    """Three models covering hard-swish and squeeze-excite, channel shuffle and split,
    LayerNorm, GELU and layer scale; at 64×64 to keep the test short."""
    _agree(load_spec(zoo.ZOO_DIR / f"{name}.yaml"), None, (3, size, size))


def test_cli_execute_onnxruntime() -> None:
    require("onnxruntime")
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"})
    result = runner.invoke(
        app,
        [
            "analyze",
            "specs/quickstart.yaml",
            "--execute",
            "--backend",
            "onnxruntime",
            "--threads",
            "1",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == ExitStatus.OK, result.stderr
    execution = json.loads(result.stdout)["execution"]
    assert execution["backend"] == "onnxruntime"
    assert execution["threads"] == 1
    # the stem conv: 32 out × 32×32 positions × 3·3·3 inputs (hand count), counted from ORT
    layers = {layer["path"]: layer for layer in execution["layers"]}
    assert layers["stem"]["output_shape"] == [32, 32, 32]
    assert layers["head"]["output_shape"] == [10]
    assert (
        execution["params"]
        == 32 * 27 + 2 * 32 + 64 * 32 * 9 + 2 * 64 + 64 * 64 * 9 + 2 * 64 + 64 * 10 + 10
    )
    assert execution["seconds"] > 0


def test_cli_compare_onnxruntime() -> None:
    require("onnxruntime")
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"})
    result = runner.invoke(
        app,
        [
            "compare",
            "specs/separable-vs-standard.yaml",
            "--execute",
            "--backend",
            "onnxruntime",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert "time" in result.stdout


def test_numpy_threads() -> None:
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"})
    result = runner.invoke(
        app, ["analyze", "specs/quickstart.yaml", "--execute", "--threads", "1", "--format", "json"]
    )
    assert result.exit_code == ExitStatus.OK, result.stderr
    execution = json.loads(result.stdout)["execution"]
    assert (execution["backend"], execution["threads"]) == ("numpy", 1)


def test_unknown_backend() -> None:
    result = CliRunner().invoke(
        app, ["analyze", "specs/quickstart.yaml", "--execute", "--backend", "tensorrt"]
    )
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "'tensorrt' is not one of 'numpy', 'onnxruntime'" in result.stderr


def test_missing_onnxruntime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import raises ImportError
    result = CliRunner().invoke(
        app, ["analyze", "specs/quickstart.yaml", "--execute", "--backend", "onnxruntime"]
    )
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == (
        "error: --backend onnxruntime needs the onnxruntime package: pip install 'convcost[ort]'\n"
    )


def test_missing_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(
        SpecError,
        match=r"^exporting to ONNX needs the onnx package: pip install 'convcost\[onnx\]'$",
    ):
        onnx_bytes(load_spec(ROOT / "specs/quickstart.yaml"))


def test_float64_on_onnxruntime() -> None:
    require("onnxruntime")
    result = CliRunner().invoke(
        app,
        [
            "analyze",
            "specs/quickstart.yaml",
            "--execute",
            "--backend",
            "onnxruntime",
            "--dtype",
            "float64",
        ],
    )
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == "error: --backend onnxruntime runs in float32 only, got 'float64'\n"


def test_unsupported_kind_names_the_layer() -> None:
    require("onnx")
    spec = parse_spec(
        "name: c\ninput: [4, 8, 8]\nlayers:\n  - custom: {params: 1}\n    name: mystery\n",
        source="c.yaml",
    )
    with pytest.raises(SpecError) as error:
        onnx_model(spec)
    assert str(error.value) == (
        "c.yaml:4:5: layer mystery: cannot export custom to ONNX: "
        + onnx_kinds.UNSUPPORTED["custom"]
    )


def test_adaptive_pool_that_does_not_divide() -> None:
    require("onnx")
    spec = parse_spec(
        "name: a\ninput: [4, 7, 7]\nlayers:\n  - adaptive_avgpool: {size: 3}\n", source="a.yaml"
    )
    with pytest.raises(
        SpecError,
        match=r"^a\.yaml:4:5: layer adaptive_avgpool1: cannot export to ONNX: adaptive pool from \[7, 7\] to \[3, 3\]",
    ):
        onnx_model(spec)


def _doc_commands(name: str) -> list[str]:
    """``convcost …`` lines of the ```sh blocks of docs/NAME."""
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [line for block in blocks for line in block.splitlines() if "onnx" in line]


@pytest.mark.parametrize("command", _doc_commands("export-onnx.md") + _doc_commands("execute.md"))
def test_doc_commands_run(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require("onnxruntime")
    args = shlex.split(command)[1:]
    args = [str(tmp_path / a) if a.endswith(".onnx") else a for a in args]
    monkeypatch.chdir(ROOT)
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"}).invoke(app, args)
    assert result.exit_code == ExitStatus.OK, f"{command}: {result.stderr}"


def test_ort_backend_counts_params_from_the_model() -> None:
    """Parameters read from the exported initializers (by layer) equal convcost's, attention's
    packed projections and relative tables included; every step confirmed and timed."""
    require("onnxruntime")
    spec = parse_spec(
        "name: att\ninput: [16, 6, 8]\nlayers:\n"
        "  - conv: {out: 16, kernel: 3, padding: 1}\n  - batchnorm: {}\n  - relu: {}\n"
        "  - attention: {heads: 2, relative_position: true}\n"
        "  - attention: {heads: 4, bias: false, projection: false}\n",
        source="att.yaml",
    )
    report = analyze_all(spec)[0]
    run = execute_ort(build(spec), batch=2, repeat=2, threads=1)
    assert [layer.params for layer in run.layers] == [row.cost.params for row in report.layers]
    assert [layer.shape for layer in run.layers] == [row.output_shape for row in report.layers]
    # conv1: 2 samples × 16·6·8 outputs × 16·3·3 inputs each (hand count)
    assert run.layers[0].macs == 2 * 16 * 6 * 8 * 16 * 9
    assert (run.backend, run.threads, run.repeat) == ("onnxruntime", 1, 2)
    assert run.seconds > 0


def test_ort_backend_finds_a_wrong_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shape check is a real one: a maxpool written with stride 1 (a bug planted in the
    writer) makes ORT's array 16×16 where 8×8 is predicted: exit 3 naming the layer."""
    require("onnxruntime")

    def wrong(g: Any, node: Any, x: str, arrays: Any) -> str:
        return g.op("MaxPool", [x], node.path, name=node.path, kernel_shape=[1, 1])

    monkeypatch.setitem(onnx_kinds.WRITERS, "maxpool", wrong)
    result = CliRunner().invoke(
        app, ["analyze", "specs/quickstart.yaml", "--execute", "--backend", "onnxruntime"]
    )
    assert result.exit_code == ExitStatus.SHAPE_MISMATCH
    assert result.stderr.endswith(
        "layer maxpool1: onnxruntime's output shape [64, 16, 16] differs from the predicted "
        "[64, 8, 8]\n"
    )


def test_ort_backend_on_an_unexportable_layer() -> None:
    require("onnxruntime")
    text = "name: c\ninput: [4, 8, 8]\nlayers:\n  - custom: {params: 1}\n    name: mystery\n"
    result = CliRunner().invoke(
        app, ["analyze", "-", "--execute", "--backend", "onnxruntime"], input=text
    )
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr.count("\n") == 1
    assert "layer mystery: cannot export custom to ONNX" in result.stderr
