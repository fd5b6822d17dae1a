"""``convcost export --to pytorch``: the file PyTorch runs has convcost's numbers exactly.

For every zoo model, every spec in specs/ and every variant, the generated file is executed
with torch and its network built; the oracle is PyTorch itself: ``sum(p.numel())`` of the real
modules, the output shape of every conv and linear module seen by forward hooks, and conv +
linear MACs counted in the hooks from each module's own attributes (in_channels, groups,
kernel_size, in_features) and the shape it really produced. The big models run on the meta
device (shapes without arithmetic); the specs in specs/ also run a real forward pass.
"""

from __future__ import annotations

import inspect
import math
import time
from pathlib import Path
from typing import Any

import pytest

from convcost import zoo
from convcost.engine import analyze
from convcost.errors import SpecError
from convcost.export.pytorch import kinds, pytorch_source
from convcost.export.pytorch.names import Namespace
from convcost.layers.registry import KIND_NAMES, MERGE_KINDS
from convcost.report import Report
from convcost.spec import load_spec, parse_spec
from tests.conftest import require

torch = require("torch")
nn = torch.nn

pytestmark = pytest.mark.torch

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
MODELS = [zoo.find(name) for name in zoo.names()]
CONV_LINEAR = frozenset({"conv", "depthwise", "pointwise", "conv_transpose", "linear"})


def _cases() -> list[Any]:
    cases = []
    for path in [*(m for m in MODELS if m is not None), *SPECS]:
        spec = load_spec(path)
        for variant in spec.variants:
            name = variant.name if spec.has_variants else None
            label = f"{path.parent.name}/{path.stem}" + (f"[{name}]" if name else "")
            cases.append(pytest.param(path, name, id=label))
    return cases


def load(source: str) -> dict[str, Any]:
    """Run the exported file's text as a module; its globals."""
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(source, "<exported>", "exec"), namespace)
    return namespace


def networks(namespace: dict[str, Any]) -> list[type]:
    """The network classes of an exported file (the ones with an ``input_shape``), in order."""
    return [
        value
        for value in namespace.values()
        if isinstance(value, type) and issubclass(value, nn.Module) and "input_shape" in vars(value)
    ]


COUNTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
COUNTED += (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


class Hooked:
    """Conv and linear modules' outputs and MACs, counted by forward hooks on a model."""

    def __init__(self, model: Any) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.macs = 0
        self.hooks = [
            module.register_forward_hook(self.record)
            for module in model.modules()
            if isinstance(module, COUNTED)
        ]

    def record(self, module: Any, inputs: tuple[Any, ...], output: Any) -> None:
        # batch 1: MACs per sample; a bias add is not a MAC (convcost's convention)
        if isinstance(module, nn.Linear):
            self.macs += output.numel() * module.in_features
        elif isinstance(module, nn.ConvTranspose1d | nn.ConvTranspose2d | nn.ConvTranspose3d):
            per_input = module.out_channels // module.groups * math.prod(module.kernel_size)
            self.macs += inputs[0].numel() * per_input
        else:
            per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
            self.macs += output.numel() * per_output
        self.shapes.append(tuple(output.shape[1:]))

    def remove(self) -> None:
        for hook in self.hooks:
            hook.remove()


def check_against(model: Any, report: Report, device: str) -> Any:
    model.eval()  # batchnorm on a [1, C, 1, 1] batch: running statistics
    params = sum(p.numel() for p in model.parameters())
    assert params == report.totals.weights + report.totals.biases
    hooked = Hooked(model)
    try:
        with torch.no_grad():
            output = model(torch.zeros(1, *report.input_shape, device=device))
    finally:
        hooked.remove()
    layers = [layer for layer in report.layers if layer.kind in CONV_LINEAR]
    assert hooked.shapes == [layer.output_shape for layer in layers]
    assert hooked.macs == sum(layer.cost.macs for layer in layers)
    assert tuple(output.shape[1:]) == report.output_shape
    return output


@pytest.mark.parametrize(("path", "variant"), _cases())
def test_export_has_convcost_numbers(path: Path, variant: str | None) -> None:
    spec = load_spec(path)
    (network,) = networks(load(pytorch_source(spec, variant=variant)))
    report = analyze(spec, variant=variant)
    assert network.input_shape == report.input_shape
    with torch.device("meta"):
        model = network()
    check_against(model, report, "meta")


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_specs_run_for_real_with_a_class_per_variant(path: Path) -> None:
    """Without --variant a file holds a class per variant; each runs a real forward pass."""
    spec = load_spec(path)
    found = networks(load(pytorch_source(spec)))
    assert len(found) == len(spec.variants)
    torch.manual_seed(0)
    for network, variant in zip(found, spec.variants, strict=True):
        name = variant.name if spec.has_variants else None
        output = check_against(network(), analyze(spec, variant=name), "cpu")
        assert bool(torch.isfinite(output).all())


def test_every_kind_has_an_entry_or_a_reason() -> None:
    covered = set(kinds.EMITTERS) | set(kinds.MERGES) | set(kinds.UNSUPPORTED) | kinds.COMPOSITE
    assert covered == set(KIND_NAMES)
    assert set(MERGE_KINDS) <= set(kinds.MERGES)
    assert not set(kinds.UNSUPPORTED) & set(kinds.EMITTERS)
    assert all(reason for reason in kinds.UNSUPPORTED.values())


def test_a_custom_layer_is_refused_in_one_line_naming_it() -> None:
    spec = parse_spec(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3}\n"
        "  - custom: {unknown: true}\n    name: mystery\n",
        source="net.yaml",
    )
    with pytest.raises(SpecError) as caught:
        pytorch_source(spec)
    assert str(caught.value) == (
        "net.yaml:4:5: layer mystery: cannot export custom to PyTorch: "
        "a custom layer states only its costs, not what it computes"
    )


# -- kinds the zoo and specs/ do not use, against a hand-written torch module ------------------

SMALL_KINDS = """
name: kinds
input: [6, 12, 12]
layers:
  - conv: {out: 8, kernel: [3, 2], padding: [[1, 0], [0, 1]], bias: false}
  - conv: {out: 8, kernel: 2, padding: same, dilation: 2}
  - conv_transpose: {out: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1}
  - avgpool: {kernel: 3, stride: 2, padding: 1, ceil_mode: true}
  - maxpool: {kernel: 2, stride: 1, dilation: 2}
  - pad: {padding: [[1, 2], [0, 1]], mode: reflect}
  - crop: {size: [7, 6]}
  - groupnorm: {groups: 3}
  - instancenorm: {affine: true}
  - layernorm: {}
  - layer_scale: {init: 0.5}
  - prelu: {}
  - leaky_relu: {slope: 0.2}
  - elu: {alpha: 0.5}
  - gelu: {approximate: tanh}
  - mish: {}
  - hardswish: {}
  - channel_shuffle: {groups: 2}
  - pixel_unshuffle: {factor: 1}
  - upsample: {scale: 2, mode: bilinear, align_corners: true}
  - adaptive_maxpool: {size: [3, 4]}
  - attention: {heads: 2, key_dim: 4, value_dim: 3, out: 5, relative_position: true}
  - softmax: {}
  - dropout: {p: 0.1, mode: spatial}
  - global_maxpool: {}
  - flatten: {}
  - linear: {out: 3, bias: false}
"""


ONE_D = """
input: [4, 16]
layers:
  - conv: {out: 6, kernel: 3, stride: 2, padding: [[2, 1]], groups: 2}
  - batchnorm: {eps: 0.001}
  - maxpool: {kernel: 2, stride: 1, ceil_mode: true}
  - upsample: {scale: 2, mode: linear}
  - avgpool: {kernel: 3, stride: 2, padding: 1}
  - instancenorm: {}
  - pad: {padding: 2, mode: replicate}
  - dropout: {p: 0.2, mode: spatial}
  - conv_transpose: {out: 3, kernel: 4, stride: 2, padding: 1}
  - global_avgpool: {}
  - flatten: {}
  - linear: {out: 2}
"""

THREE_D = """
input: [2, 6, 6, 6]
layers:
  - conv: {out: 4, kernel: 3, padding: 1, bias: false}
  - batchnorm: {}
  - maxpool: {kernel: 2}
  - upsample: {size: [4, 5, 6], mode: trilinear}
  - pad: {padding: 1, mode: reflect}
  - conv_transpose: {out: 2, kernel: 2, stride: 2}
  - adaptive_avgpool: {size: 2}
  - global_maxpool: {}
  - flatten: {}
  - linear: {out: 3}
"""


@pytest.mark.parametrize("text", [ONE_D, THREE_D], ids=["1-D", "3-D"])
def test_one_and_three_dimensional_maps(text: str) -> None:
    spec = parse_spec(text)
    (network,) = networks(load(pytorch_source(spec)))
    torch.manual_seed(0)
    output = check_against(network(), analyze(spec), "cpu")
    assert bool(torch.isfinite(output).all())


def test_kinds_beyond_the_zoo_run_with_convcost_numbers() -> None:
    spec = parse_spec(SMALL_KINDS)
    (network,) = networks(load(pytorch_source(spec)))
    torch.manual_seed(0)
    model = network().eval()
    output = check_against(model, analyze(spec), "cpu")
    assert bool(torch.isfinite(output).all())


def test_block_parameters_are_constructor_arguments() -> None:
    """One class for every use of a block: its parameters are keyword arguments."""
    source = pytorch_source(load_spec(zoo.find("resnet50") or ""))
    namespace = load(source)
    with torch.device("meta"):
        wide = namespace["Downsample"](256, mid=128, stride=2)
    # hand count: 1×1 256→128, 3×3 128→128, 1×1 128→512, each with batchnorm (2 per channel),
    # plus the projection shortcut 1×1 256→512 and its batchnorm
    expected = 256 * 128 + 2 * 128 + 9 * 128 * 128 + 2 * 128 + 128 * 512 + 2 * 512
    expected += 256 * 512 + 2 * 512
    assert sum(p.numel() for p in wide.parameters()) == expected
    assert wide.out_channels == 512
    assert source.count("class Downsample") == 1  # the four stages share it


def test_names_become_distinct_identifiers() -> None:
    spec = parse_spec(
        "input: [3, 8, 8]\nlayers:\n"
        "  - conv: {out: 4, kernel: 1}\n    name: a-b\n"
        "  - conv: {out: 4, kernel: 1}\n    name: a_b\n"
        "  - relu: {}\n    name: forward\n"
        "  - relu: {}\n    name: '0'\n"
    )
    source = pytorch_source(spec)
    for line in ("self.a_b = ", "self.a_b_2 = ", "self.forward_2 = ", "self.layer_0 = "):
        assert line in source
    (network,) = networks(load(source))
    check_against(network(), analyze(spec), "cpu")


def test_names_and_values_cannot_break_out_of_the_file() -> None:
    """A spec's names land in docstrings and its values in code: quotes and backslashes stay
    text, an infinite parameter default stays a float (the file is run by whoever trains it)."""
    spec = parse_spec(
        'name: "x\\"\\"\\" ; import os; r\\"\\"\\" \\\\"\n'
        "input: [2, 4, 4]\n"
        "blocks:\n"
        '  "q\\"\\"\\"b":\n'
        "    params: {v: .inf, w: 3}\n"
        "    layers:\n"
        "      - conv: {out: $w, kernel: 1}\n"
        "layers:\n"
        '  - "q\\"\\"\\"b": {}\n'
        "  - pad: {padding: 1, value: -7.5}\n"
    )
    assert spec.name == 'x""" ; import os; r""" \\'
    namespace = load(pytorch_source(spec))
    assert "os" not in namespace
    (network,) = networks(namespace)
    assert network.__doc__.startswith(spec.name + ":")
    assert inspect.signature(namespace["QB"]).parameters["v"].default == math.inf
    output = network()(torch.zeros(1, 2, 4, 4))
    assert output.shape == (1, 3, 6, 6)
    assert output[0, 0, 0, 0] == -7.5  # the pad's value


def test_uses_that_read_differently_get_a_class_each() -> None:
    """A block whose layers follow from the input's size (a flatten's features) cannot be one
    class for inputs of two sizes: each reading is its own class, and both are right."""
    spec = parse_spec(
        "input: [2, 6, 6]\n"
        "blocks:\n"
        "  head:\n"
        "    params: {classes: 4}\n"
        "    layers:\n"
        "      - flatten: {}\n"
        "      - linear: {out: $classes}\n"
        "layers:\n"
        "  - concat:\n"
        "      big: [{head: {classes: 3}}]\n"
        "      small: [{maxpool: {kernel: 2}}, {head: {classes: 5}}]\n"
    )
    source = pytorch_source(spec)
    assert "class Head(" in source
    assert "class Head_2(" in source
    # 2·6·6 = 72 and 2·3·3 = 18 features
    assert "ch = 72\n" in source
    assert "ch = 18\n" in source
    (network,) = networks(load(source))
    check_against(network(), analyze(spec), "cpu")


def test_a_name_wanted_many_times_costs_linear_time() -> None:
    """A long unrolled repeat of merges wants the same branch variable thousands of times:
    each is found in O(1) (a search from ``_2`` every time would take minutes here)."""
    names = Namespace({"x"})
    start = time.process_time()
    taken = [names.take("body") for _ in range(50_000)]
    assert time.process_time() - start < 2.0
    assert taken[:3] == ["body", "body_2", "body_3"]
    assert taken[-1] == "body_50000"
    names.taken.discard("body_50000")  # given back: the next one is the same again
    assert names.take("body") == "body_50000"
    assert names.take("x") == "x_2"
