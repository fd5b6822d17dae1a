"""The structurer: an importer `Graph` (a DAG of convcost layers) as a readable spec.

Oracles: the bundled zoo specs (written by hand from torchvision's code and pinned to PyTorch
by tests/test_zoo.py and tests/test_torch_shapes.py), hand-computed costs, PyYAML's own
reading of scalars, and the exact text a person would write.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

import convcost
from convcost.errors import ModelError
from convcost.importer.graph import INPUT, Graph
from convcost.importer.structure import to_spec
from convcost.importer.writer import scalar
from convcost.zoo import find
from tests import import_graphs
from tests.import_graphs import Builder

ZOO_GRAPHS: dict[str, Callable[[], Graph]] = {
    "resnet18": import_graphs.resnet18,  # add: the first stage without a projection
    "resnet50": import_graphs.resnet50,  # add: identity and projection shortcuts
    "googlenet": import_graphs.googlenet,  # concat of four towers
    "densenet121": import_graphs.densenet121,  # concat(x, f(x)), 58 times in a row
    "mobilenet_v3_small": import_graphs.mobilenet_v3_small,  # multiply(x, gate(x)) inside adds
}


def _rows(report: convcost.Report) -> list[tuple[object, ...]]:
    """Every layer's kind, shapes and costs in execution order (paths differ by design)."""
    return [
        (row.kind, row.input_shape, row.output_shape, row.cost, row.receptive_field)
        for row in report.layers
    ]


@pytest.mark.parametrize("flat", [False, True], ids=["blocks", "flat"])
@pytest.mark.parametrize("model", sorted(ZOO_GRAPHS))
def test_a_graph_of_a_zoo_model_analyses_as_the_zoo_spec(model: str, flat: bool) -> None:
    text = to_spec(ZOO_GRAPHS[model](), flat=flat)
    imported = convcost.analyze(convcost.parse_spec(text))
    path = find(model)
    assert path is not None
    zoo = convcost.analyze(convcost.load_spec(path))
    assert imported.totals == zoo.totals
    assert _rows(imported) == _rows(zoo)
    assert imported.receptive_field == zoo.receptive_field
    assert imported.output_shape == zoo.output_shape
    assert ("blocks:" in text) is not flat


@pytest.mark.parametrize("model", sorted(ZOO_GRAPHS))
def test_flat_writes_every_node_under_its_name(model: str) -> None:
    graph = ZOO_GRAPHS[model]()
    report = convcost.analyze(convcost.parse_spec(to_spec(graph, flat=True)))
    names = [row.path.rsplit(".", 1)[-1] for row in report.layers]  # merges have rows too
    assert names == [node.name for node in graph.nodes]


@pytest.mark.parametrize("flat", [False, True], ids=["blocks", "flat"])
@pytest.mark.parametrize("model", [*sorted(ZOO_GRAPHS), "unet"])
def test_the_same_graph_gives_the_same_bytes(model: str, flat: bool) -> None:
    build = ZOO_GRAPHS.get(model, import_graphs.unet)
    assert to_spec(build(), flat=flat) == to_spec(build(), flat=flat)


def test_resnet50_becomes_bottleneck_blocks_in_stages() -> None:
    text = to_spec(import_graphs.resnet50())
    flat = to_spec(import_graphs.resnet50(), flat=True)
    # 65 lines against 386 flat (the hand-written zoo spec has 66)
    assert (len(text.splitlines()), len(flat.splitlines())) == (65, 386)
    assert "  residual_proj:\n    params: {out: null, stride: null}\n" in text
    assert '- conv: {out: "${out * 4}", kernel: 1, stride: $stride, bias: false}' in text
    assert "  residual:\n    params: {out: null}\n" in text
    assert (
        "  stage:\n"
        "    params: {out: null, stride: null, count: null}\n"
        "    layers:\n"
        "      - residual_proj: {out: $out, stride: $stride}\n"
        "      - residual: {out: $out}\n"
        "        repeat: $count\n"
    ) in text
    # torchvision's stages: 3, 4, 6 and 3 bottlenecks, the first with a projection shortcut;
    # a stage is named by what its nodes' names share
    assert (
        "  - stage: {out: 64, stride: 1, count: 2}\n"
        "    name: layer1\n"
        "  - stage: {out: 128, stride: 2, count: 3}\n"
        "    name: layer2\n"
        "  - stage: {out: 256, stride: 2, count: 5}\n"
        "    name: layer3\n"
        "  - stage: {out: 512, stride: 2, count: 2}\n"
        "    name: layer4\n"
    ) in text
    report = convcost.analyze(convcost.parse_spec(text))
    assert [block.path for block in report.blocks if "." not in block.path] == [
        "layer1",
        "layer2",
        "layer3",
        "layer4",
    ]


def test_resnet18_stages_start_at_their_projection() -> None:
    # the first stage has no projection: two identity blocks; every other stage is a
    # projection block and an identity block, so a stage starts where the resolution changes
    text = to_spec(import_graphs.resnet18())
    assert (
        "  - residual: {out: 64}\n"
        "    repeat: 2\n"
        "    name: layer1\n"
        "  - stage: {out: 128}\n"
        "    name: layer2\n"
        "  - stage: {out: 256}\n"
        "    name: layer3\n"
        "  - stage: {out: 512}\n"
        "    name: layer4\n"
    ) in text


def test_fields_spelled_differently_give_the_same_spec() -> None:
    # no `stride: 1` and `kernel: [3, 3]` in the terse graph: the spec is the same, byte for byte
    assert to_spec(import_graphs.resnet50(terse=True)) == to_spec(import_graphs.resnet50())


def test_densenet_layers_repeat_within_each_dense_block() -> None:
    text = to_spec(import_graphs.densenet121())
    assert [line.strip() for line in text.splitlines() if "repeat" in line] == [
        "repeat: $count",  # a transition, then a dense block
        "repeat: 6",  # the first dense block
    ]
    assert "    layers:\n      - concat:\n          identity: []\n          norm1:\n" in text
    assert (
        "  - stage: {out: 128, count: 12}\n"
        "  - stage: {out: 256, count: 24}\n"
        "  - stage: {out: 512, count: 16}\n"
    ) in text


def test_a_unet_nests_its_skips_and_keeps_the_concat_order() -> None:
    text = to_spec(import_graphs.unet())
    assert text == UNET
    report = convcost.analyze(convcost.parse_spec(text))
    # by hand, 3×64×64 in: conv 3→16 k3 448 params, 64·64·16·27 = 1,769,472 MACs; conv 16→32
    # k3 on 32×32 4,640 / 32·32·32·144 = 4,718,592; conv 32→64 k3 on 16×16 18,496 / 4,718,592;
    # transposed 64→32 k2 s2 8,224 / 32·32·32·64 = 2,097,152; conv 64→32 k3 on 32×32 18,464 /
    # 18,874,368; transposed 32→16 k2 s2 2,064 / 64·64·16·32 = 2,097,152; conv 32→16 k3 on
    # 64×64 4,624 / 18,874,368; conv 16→2 k1 34 / 131,072.
    assert report.totals.params == 56_994
    assert report.totals.macs == 53_280_768
    assert report.output_shape == (2, 64, 64)
    concats = {block.path: block.output_shape for block in report.blocks}
    assert concats == {"cat1": (32, 64, 64), "cat1.pool1.cat2": (64, 32, 32)}


UNET = """\
# unet: imported by convcost import
name: unet
input: [3, 64, 64]
layers:
  - conv: {out: 16, kernel: 3, padding: 1}  # /enc1/conv/Conv
    name: enc1_conv
  - relu: {}  # /enc1/relu/Relu
    name: enc1_relu
  - concat:  # /cat1 (Concat)
      pool1:
        - maxpool: {kernel: 2}  # /pool1/MaxPool
          name: pool1
        - conv: {out: 32, kernel: 3, padding: 1}  # /enc2/conv/Conv
          name: enc2_conv
        - relu: {}  # /enc2/relu/Relu
          name: enc2_relu
        - concat:  # /cat2 (Concat)
            pool2:
              - maxpool: {kernel: 2}  # /pool2/MaxPool
                name: pool2
              - conv: {out: 64, kernel: 3, padding: 1}  # /bottom/conv/Conv
                name: bottom_conv
              - relu: {}  # /bottom/relu/Relu
                name: bottom_relu
              - conv_transpose: {out: 32, kernel: 2, stride: 2}  # /up2/ConvTranspose
                name: up2
            identity: []
          name: cat2
        - conv: {out: 32, kernel: 3, padding: 1}  # /dec2/conv/Conv
          name: dec2_conv
        - relu: {}  # /dec2/relu/Relu
          name: dec2_relu
        - conv_transpose: {out: 16, kernel: 2, stride: 2}  # /up1/ConvTranspose
          name: up1
      identity: []
    name: cat1
  - conv: {out: 16, kernel: 3, padding: 1}  # /dec1/conv/Conv
    name: dec1_conv
  - relu: {}  # /dec1/relu/Relu
    name: dec1_relu
  - conv: {out: 2, kernel: 1}  # /head/Conv
    name: head
"""


def test_a_fork_inside_a_branch_nests_and_notes_head_the_spec() -> None:
    b = Builder()
    x = b.layer("stem", INPUT, "conv", "Conv", out=8, kernel=3, padding=1)
    p = b.layer("p", x, "conv", "Conv", out=8, kernel=1)
    q = b.layer("q", x, "conv", "Conv", out=8, kernel=3, padding=1)
    total = b.merge("sum", "add", p, q)
    out = b.merge("cat", "concat", x, total)  # concat(x, y) with y = p(x) + q(x)
    graph = b.graph("nested", (3, 8, 8), out, ("batchnorm folded into the convolutions",))
    assert to_spec(graph, source="nested.onnx") == (
        "# nested: imported by convcost import from nested.onnx\n"
        "# batchnorm folded into the convolutions\n"
        "name: nested\n"
        "input: [3, 8, 8]\n"
        "layers:\n"
        "  - conv: {out: 8, kernel: 3, padding: 1}  # /stem/Conv\n"
        "    name: stem\n"
        "  - concat:  # /cat (Concat)\n"
        "      identity: []\n"
        "      sum:\n"
        "        - add:  # /sum (Add)\n"
        "            p:\n"
        "              - conv: {out: 8, kernel: 1}  # /p/Conv\n"
        "                name: p\n"
        "            q:\n"
        "              - conv: {out: 8, kernel: 3, padding: 1}  # /q/Conv\n"
        "                name: q\n"
        "          name: sum\n"
        "    name: cat\n"
    )


def test_branches_follow_the_merge_input_order_and_identities_are_empty() -> None:
    b = Builder()
    x = b.layer("stem", INPUT, "conv", "Conv", out=4, kernel=1)
    wide = b.layer("wide", x, "conv", "Conv", out=6, kernel=1)
    narrow = b.layer("narrow", x, "conv", "Conv", out=2, kernel=1)
    out = b.merge("cat", "concat", narrow, x, wide, x)  # x twice: two identity branches
    doubled = b.merge("twice", "add", out, out)  # add(a, a): the fork is a itself
    report = convcost.analyze(
        convcost.parse_spec(to_spec(b.graph("order", (3, 4, 4), doubled), flat=True))
    )
    assert [(row.path, row.output_shape) for row in report.layers] == [
        ("stem", (4, 4, 4)),
        ("cat.narrow.narrow", (2, 4, 4)),
        ("cat.wide.wide", (6, 4, 4)),
        ("cat", (2 + 4 + 6 + 4, 4, 4)),
        ("twice", (16, 4, 4)),
    ]
    text = to_spec(b.graph("order", (3, 4, 4), doubled))
    assert "      narrow:\n" in text
    assert "      identity: []\n      wide:\n" in text
    assert "      identity2: []\n" in text
    assert "  - add:  # /twice (Add)\n      shortcut: []\n      shortcut2: []\n" in text


def test_an_n_shaped_graph_names_the_node_whose_output_escapes_its_block() -> None:
    # a feeds c and d; d also reads b: a's output is used inside the block that d opens and
    # outside it, in c: no nesting of sequences and merges computes each node once.
    b = Builder()
    a = b.layer("a", INPUT, "conv", "Conv", out=4, kernel=1)
    other = b.layer("b", INPUT, "conv", "Conv", out=4, kernel=1)
    c = b.layer("c", a, "relu", "Relu")
    d = b.merge("d", "add", a, other)
    out = b.merge("out", "add", c, d)
    with pytest.raises(ModelError) as caught:
        to_spec(b.graph("n", (3, 4, 4), out))
    assert str(caught.value) == (
        'node "/a/Conv" (Conv): the graph is not series-parallel here: its output is read by '
        '"/c/Relu" (Relu) and "/d" (Add), which do not meet in one merge block (a spec\'s '
        "branches each start from the block's input)"
    )


def test_a_merge_of_two_forks_that_cannot_nest_names_the_shared_node() -> None:
    # y = conv(x); z = x + relu(y); out = concat(y, z): y is read inside z's block and by out
    b = Builder()
    x = b.layer("x", INPUT, "conv", "Conv", out=4, kernel=1)
    y = b.layer("y", x, "conv", "Conv", out=4, kernel=3, padding=1)
    r = b.layer("r", y, "relu", "Relu")
    z = b.merge("z", "add", x, r)
    out = b.merge("out", "concat", y, z)
    with pytest.raises(
        ModelError,
        match=r'^node "/y/Conv" \(Conv\): the graph is not series-parallel here: its output is read by "/r/Relu" \(Relu\) and "/out" \(Concat\),',
    ):
        to_spec(b.graph("forks", (3, 4, 4), out))


def _nested(levels: int) -> Graph:
    """``levels`` adds nested like a U-Net's skips: each around the one before."""
    b = Builder()
    x = b.layer("x0", INPUT, "relu", "Relu")
    skips = [x]
    for level in range(1, levels + 1):
        x = b.layer(f"x{level}", x, "relu", "Relu")
        skips.append(x)
    for level in range(levels, 0, -1):
        x = b.merge(f"m{level}", "add", x, skips[level - 1])
    return b.graph("deep", (1, 2), x)


def test_merges_nest_as_deep_as_a_spec_allows_and_no_deeper() -> None:
    # 19: (64 levels of YAML − 6) // 3, see MAX_MERGE_NESTING; the deepest layer here is the
    # relu x19 inside 19 adds.
    report = convcost.analyze(convcost.parse_spec(to_spec(_nested(19), flat=True)))
    assert len(report.blocks) == 19
    assert (
        report.layers[19].path == ".".join(f"m{level}.x{level}" for level in range(1, 20)) + ".x19"
    )
    with pytest.raises(
        ModelError,
        match=r'^node "/x20/Relu" \(Relu\): merge blocks nest more than 19 deep here, and a spec nests lists and mappings at most 64 levels deep$',
    ):
        to_spec(_nested(20))


def test_a_node_reading_an_unknown_tensor_is_named() -> None:
    b = Builder()
    b.layer("a", "nowhere", "relu", "Relu")
    with pytest.raises(
        ModelError, match=r'^node "/a/Relu" \(Relu\) reads "nowhere", not produced before it$'
    ):
        to_spec(b.graph("bad", (1, 2), "a"))


def test_nodes_off_the_way_to_the_output_are_left_out_and_said_so() -> None:
    b = Builder()
    a = b.layer("a", INPUT, "conv", "Conv", out=4, kernel=1)
    b.layer("aux", a, "conv", "Conv", out=9, kernel=1)
    b.layer("aux_relu", "aux", "relu", "Relu")
    out = b.layer("c", a, "relu", "Relu")
    text = to_spec(b.graph("aux", (3, 4, 4), out))
    assert (
        '# left out: 2 node(s) whose output does not reach the model\'s output, the first node "/aux/Conv" (Conv)\n'
        in text
    )
    report = convcost.analyze(convcost.parse_spec(text))
    assert report.totals.params == 4 * 3 + 4  # the one 1×1 conv 3→4 with bias


@pytest.mark.parametrize(
    "name",
    ["yes", "No", "on", "OFF", "null", "true", "017", "0x10", "1_000", "1e6", "12", "-3", "a-b"],
)
def test_names_yaml_would_misread_are_quoted(name: str) -> None:
    b = Builder()
    first = b.layer(name, INPUT, "relu", "Relu")
    out = b.merge("m", "add", first, INPUT)
    report = convcost.analyze(convcost.parse_spec(to_spec(b.graph(name, (1, 2), out))))
    assert report.name == name
    assert [row.path for row in report.layers] == [f"m.{name}.{name}", "m"]


def test_node_names_become_path_names() -> None:
    b = Builder()
    a = b.layer("layer1.0.conv1", INPUT, "relu", "Relu")  # a dot separates path names
    out = b.layer("x y", a, "relu", "Relu")
    report = convcost.analyze(convcost.parse_spec(to_spec(b.graph("n", (1, 2), out), flat=True)))
    assert [row.path for row in report.layers] == ["layer1_0_conv1", "x_y"]


def test_a_default_name_never_takes_a_name_given_further_down() -> None:
    # two equal relus become one entry with repeat (named relu1 by default), but a later
    # node is called relu1: the repeated entry gets a name of its own
    b = Builder()
    x = b.layer("a", INPUT, "relu", "Relu")
    x = b.layer("b", x, "relu", "Relu")
    x = b.layer("c", x, "conv", "Conv", out=2, kernel=1)
    x = b.layer("relu1", x, "relu", "Relu")
    report = convcost.analyze(convcost.parse_spec(to_spec(b.graph("n", (1, 2), x))))
    assert [row.path for row in report.layers] == ["relu1_.0", "relu1_.1", "c", "relu1"]


@pytest.mark.parametrize(
    "value", [1e-05, 0.001, 1e20, 2.5, -0.0, 1.0, 123456789.125, 1e-300, float("inf")]
)
def test_floats_read_back_as_the_same_float(value: float) -> None:
    assert yaml.safe_load(scalar(value)) == value
    assert isinstance(yaml.safe_load(scalar(value)), float)


@pytest.mark.parametrize(
    "value", ["same", "yes", "017", "1:30", "0o17", "${out * 4}", "$out", "a b", 'q"uote', "é", "~"]
)
def test_strings_read_back_as_the_same_string(value: str) -> None:
    assert yaml.safe_load(f"key: {scalar(value)}") == {"key": value}
    assert yaml.safe_load(f"{{key: {scalar(value)}}}") == {"key": value}


def test_default_fields_are_left_out_and_per_axis_lists_of_one_value_shortened() -> None:
    b = Builder()
    x = b.layer(
        "c",
        INPUT,
        "conv",
        "Conv",
        out=4,
        kernel=[3, 3],
        stride=[1, 1],
        padding=[[1, 1], [1, 1]],
        dilation=1,
        groups=1,
        bias=True,
    )
    x = b.layer(
        "t", x, "conv", "Conv", out=4, kernel=2, stride=2, padding=[[0, 1], [0, 1]], bias=False
    )
    x = b.layer(
        "p", x, "maxpool", "MaxPool", kernel=[2, 2], stride=[2, 2], padding=[0, 0], ceil_mode=False
    )
    x = b.layer("q", x, "avgpool", "AveragePool", kernel=2, stride=1)
    text = to_spec(b.graph("tidy", (3, 9, 9), x))
    assert text.split("layers:\n")[1] == (
        "  - conv: {out: 4, kernel: 3, padding: 1}  # /c/Conv\n"
        "    name: c\n"
        "  - conv: {out: 4, kernel: 2, stride: 2, padding: [[0, 1], [0, 1]], bias: false}  # /t/Conv\n"
        "    name: t\n"
        "  - maxpool: {kernel: 2}  # /p/MaxPool\n"
        "    name: p\n"
        "  - avgpool: {kernel: 2, stride: 1}  # /q/AveragePool\n"
        "    name: q\n"
    )
    explicit = convcost.parse_spec(
        """
input: [3, 9, 9]
layers:
  - conv: {out: 4, kernel: [3, 3], stride: [1, 1], padding: [[1, 1], [1, 1]], dilation: 1, groups: 1, bias: true}
  - conv: {out: 4, kernel: 2, stride: 2, padding: [[0, 1], [0, 1]], bias: false}
  - maxpool: {kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceil_mode: false}
  - avgpool: {kernel: 2, stride: 1}
"""
    )
    assert _rows(convcost.analyze(convcost.parse_spec(text))) == _rows(convcost.analyze(explicit))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("", "model"), (" net ", "net"), ("n\net", "n_et"), ("a\x1bb", "a_b"), ("x" * 200, "x" * 128)],
)
def test_the_model_name_becomes_a_spec_name(name: str, expected: str) -> None:
    b = Builder()
    graph = b.graph(name, (1, 2), b.layer("r", INPUT, "relu", "Relu"))
    assert convcost.analyze(convcost.parse_spec(to_spec(graph))).name == expected
