"""Identical layers are parsed once per build (convcost/build.py, ``_parse_key``): what the
cache must never change — types, shapes, scopes and the location of every error."""

from __future__ import annotations

import pytest

import convcost
from convcost.build import _Builder
from convcost.errors import ShapeError, SpecError
from convcost.layers import Dropout
from convcost.network import GroupNode, LayerNode


def layers(text: str) -> list[LayerNode]:
    nodes = convcost.build(convcost.parse_spec(text, source="net.yaml")).nodes
    flat: list[LayerNode] = []
    pending = list(nodes)
    while pending:
        node = pending.pop(0)
        if isinstance(node, GroupNode):
            pending[:0] = node.children
        else:
            assert isinstance(node, LayerNode)
            flat.append(node)
    return flat


def test_a_later_identical_layer_reports_its_own_shape_error() -> None:
    # 8 → 6 → 4 → 2 with 3×3 kernels and no padding; the fourth conv has a 2×2 input
    text = "input: [1, 8, 8]\nlayers:\n" + "  - conv: {out: 1, kernel: 3}\n" * 4
    spec = convcost.parse_spec(text, source="net.yaml")
    with pytest.raises(ShapeError) as caught:
        convcost.build(spec)
    assert str(caught.value).startswith(
        "net.yaml:6:5: layer conv4, field conv.kernel: output size on axis H would be "
        "⌊(2 + 0 − 1·(3 − 1) − 1) / 1⌋ + 1 = 0, below 1"
    )


def test_values_equal_in_python_but_of_other_types_are_not_shared() -> None:
    # `bias: true` parsed first; `bias: 1` is an integer (1 == True in Python) and is refused
    # at its value: line 4, column 37 (counted in the text)
    text = (
        "input: [1, 8, 8]\nlayers:\n"
        "  - conv: {out: 1, kernel: 1, bias: true}\n"
        "  - conv: {out: 1, kernel: 1, bias: 1}\n"
    )
    with pytest.raises(
        SpecError,
        match=r"^net\.yaml:4:37: layer conv2, field conv\.bias: must be true or false, got 1$",
    ):
        layers(text)
    # `p: 1` and `p: 1.0` both read as the float 1.0: equal layers either way
    found = layers("input: [1, 8, 8]\nlayers:\n  - dropout: {p: 1}\n  - dropout: {p: 1.0}\n")
    assert [node.layer for node in found] == [Dropout(p=1.0), Dropout(p=1.0)]


def test_an_unknown_field_in_a_repeated_layer_is_reported_at_its_line() -> None:
    text = "input: [1, 8, 8]\nlayers:\n  - relu: {}\n  - relu: {}\n  - relu: {slope: 1}\n"
    with pytest.raises(
        SpecError,
        match=r"^net\.yaml:5:12: layer relu3, field relu\.slope: unknown field 'slope' for relu; allowed: none$",
    ):
        layers(text)


def test_the_scope_of_a_block_is_part_of_what_is_shared() -> None:
    # the body line `conv: {out: $width, kernel: 1}` read twice with the same input shape
    # (2×8×8: the block's second conv returns to 2 channels), with width 4, then 8
    text = """
input: [2, 8, 8]
blocks:
  widen:
    params: {width: 4}
    layers:
      - conv: {out: $width, kernel: 1}
      - conv: {out: 2, kernel: 1}
layers:
  - widen: {}
  - widen: {width: 8}
  - widen: {width: 8}
"""
    found = [(node.path, node.input_shape, node.output_shape) for node in layers(text)]
    assert found == [
        ("widen1.conv1", (2, 8, 8), (4, 8, 8)),
        ("widen1.conv2", (4, 8, 8), (2, 8, 8)),
        ("widen2.conv1", (2, 8, 8), (8, 8, 8)),
        ("widen2.conv2", (8, 8, 8), (2, 8, 8)),
        ("widen3.conv1", (2, 8, 8), (8, 8, 8)),
        ("widen3.conv2", (8, 8, 8), (2, 8, 8)),
    ]


_REPEATED = """\
input: [4, 8, 8]
blocks:
  res:
    params: {k: 3}
    layers:
      - add:
          body: [{conv: {out: 4, kernel: $k, padding: 1}}, {relu: {}}]
          shortcut: []
      - separable: {out: 4, kernel: 3, padding: 1}
layers:
  - res: {}
    repeat: 3
    name: rest
  - concat:
      a: [{relu: {}}]
      b: []
    repeat: 2
  - conv: {out: 4, kernel: 1}
    from: rest.2.add1.shortcut
  - conv: {out: 4, kernel: 1}
    from: concat1.1.b
"""


def _built_without_copies(text: str, monkeypatch: pytest.MonkeyPatch) -> convcost.Network:
    """The reference: every repetition built entry by entry (copying turned off)."""
    with monkeypatch.context() as patched:
        patched.setattr(_Builder, "_copied", lambda *args: None)
        return convcost.build(convcost.parse_spec(text, source="net.yaml"))


def test_copied_repetitions_are_the_repetitions_built_entry_by_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    copied = convcost.build(convcost.parse_spec(_REPEATED, source="net.yaml"))
    assert copied == _built_without_copies(_REPEATED, monkeypatch)
    *_, first, second = copied.nodes
    # an identity branch is its merge's input: rest.2 reads what rest.1 made, and the second
    # repetition of the concat what the first made
    assert (first.source, second.source) == ("rest.1", "concat1.0")
    assert copied.reads == ("rest.1", "concat1.0")


def test_a_repetition_that_reads_a_named_tensor_is_built_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _REPEATED.replace("shortcut: []", "shortcut: input")
    copied = convcost.build(convcost.parse_spec(text, source="net.yaml"))
    assert copied == _built_without_copies(text, monkeypatch)
    assert copied.reads[:3] == ("", "rest.0", "rest.1")  # each repetition's own input
