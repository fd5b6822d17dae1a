"""Receptive fields checked by hand: the exact per-position map of :mod:`convcost.receptive`.

Each expected value is derived in the comment above it from PyTorch's definition of the layer
(which input positions an output position reads); tests/test_receptive_torch.py checks random
stacks against the gradient support of torch models.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import convcost
from convcost.receptive import AxisMap, Coverage, ReceptiveField, merge
from tests.conftest import run

ZOO = Path(convcost.__file__).parent / "zoo"


def fields(text: str) -> list[ReceptiveField]:
    return [layer.receptive_field for layer in run(text).layers]


def test_transposed_conv_between_pools_from_the_issue() -> None:
    # avgpool 2: output y reads input 2y, 2y+1. conv_transpose k2 s2: output z reads y = ⌊z/2⌋,
    # so input 2⌊z/2⌋ … 2⌊z/2⌋+1 (2 wide, jump 1). conv 3 (no padding): w reads z = w … w+2,
    # so y = ⌊w/2⌋ … ⌊w/2⌋+1 and input 2⌊w/2⌋ … 2⌊w/2⌋+3: 4 wide at every w. avgpool 2: v reads
    # w = 2v and 2v+1, both with ⌊w/2⌋ = v: input 2v … 2v+3, 4 wide, jump 2. The old
    # recurrence said 5 (issue 17).
    got = fields(
        "input: [1, 32, 32]\nlayers:\n"
        "  - avgpool: {kernel: 2}\n"
        "  - conv_transpose: {out: 1, kernel: 2, stride: 2}\n"
        "  - conv: {out: 1, kernel: 3}\n"
        "  - avgpool: {kernel: 2}\n"
    )
    assert [(f.size, f.jump, f.varies) for f in got] == [
        ((2, 2), (2, 2), False),
        ((2, 2), (1, 1), False),
        ((4, 4), (1, 1), False),
        ((4, 4), (2, 2), False),
    ]


def test_transposed_conv_undone_by_a_pool_from_the_issue() -> None:
    # avgpool 2 → conv_transpose k2 s2 → avgpool 2: v reads z = 2v, 2v+1, both ⌊z/2⌋ = v, so
    # input 2v, 2v+1: 2 wide (the old recurrence said 3)
    got = fields(
        "input: [1, 32, 32]\nlayers:\n"
        "  - avgpool: {kernel: 2}\n"
        "  - conv_transpose: {out: 1, kernel: 2, stride: 2}\n"
        "  - avgpool: {kernel: 2}\n"
    )
    assert (got[-1].size, got[-1].jump, got[-1].first) == ((2, 2), (2, 2), (0, 0))


def test_a_kernel_that_does_not_divide_the_stride_varies_by_position() -> None:
    # conv k2 s2: y reads input 2y, 2y+1. conv_transpose k3 s2: z takes y with z − 2y ∈ {0, 1, 2}:
    # an even z = 2m from y = m and m − 1 (input 2m − 2 … 2m + 1, 4 wide), an odd z = 2m + 1
    # from y = m (input 2m … 2m + 1, 2 wide): the field is the larger, 4, and varies; outputs
    # are one input apart (jump 2/2). conv k3 s2: w reads z = 2w (y = w − 1, w), 2w + 1 (y = w)
    # and 2w + 2 (y = w, w + 1): y = w − 1 … w + 1, input 2w − 2 … 2w + 3: 6 wide, jump 2.
    got = fields(
        "input: [1, 16]\nlayers:\n"
        "  - conv: {out: 1, kernel: 2, stride: 2}\n"
        "  - conv_transpose: {out: 1, kernel: 3, stride: 2}\n"
        "  - conv: {out: 1, kernel: 3, stride: 2}\n"
    )
    assert [(f.size, f.jump, f.varies) for f in got] == [
        ((2,), (2,), False),
        ((4,), (1,), True),
        ((6,), (2,), False),
    ]
    assert got[1].maps == (AxisMap(period=2, shift=2, lo=(-2, 0), hi=(1, 1)),)


def test_adaptive_pool_that_does_not_divide() -> None:
    # 7 → 3: windows [0, 3), [2, 5), [4, 7) (PyTorch's ⌊i·7/3⌋ to ⌈(i+1)·7/3⌉): 3 wide each,
    # repeating every 3 outputs 7 inputs further: jump 7/3. Then 3 → 1 on H reads all three
    # (input 0 … 6: 7 wide, jump 7) and 3 → 3 on W keeps each.
    first, second = fields(
        "input: [1, 7, 7]\nlayers:\n"
        "  - adaptive_avgpool: {size: 3}\n"
        "  - adaptive_avgpool: {size: [1, 3]}\n"
    )
    assert (first.size, first.jump, first.varies) == ((3, 3), (Fraction(7, 3),) * 2, False)
    assert (second.size, second.jump) == ((7, 3), (7, Fraction(7, 3)))
    assert type(second.jump[0]) is int


def test_dead_taps_of_a_dilated_conv_do_not_count() -> None:
    # 3×3 at dilation 36, padding 36 on 28×28: output o reads o − 36, o, o + 36; for o in
    # [0, 28) the outer two are always in the padding. Only the centre tap is live: field 1.
    (got,) = fields(
        "input: [1, 28, 28]\nlayers:\n  - conv: {out: 1, kernel: 3, padding: 36, dilation: 36}\n"
    )
    assert (got.size, got.first) == ((1, 1), (0, 0))
    # at dilation 20 the outer taps reach the input for some outputs (o ≥ 20, o < 8): kept
    (wide,) = fields(
        "input: [1, 28, 28]\nlayers:\n  - conv: {out: 1, kernel: 3, padding: 20, dilation: 20}\n"
    )
    assert wide.size == (41, 41)


def test_dead_taps_warn_with_the_effective_field() -> None:
    report = run(
        "input: [1, 28, 28]\nlayers:\n  - conv: {out: 1, kernel: 3, padding: 36, dilation: 36}\n"
    )
    # per axis 2 of the 3 taps are dead (above), so 1·1 of the 3·3 taps are live; the full
    # window would be 36·(3 − 1) + 1 = 73 wide
    assert [w.message for w in report.warnings] == [
        "8 of 9 kernel taps read only padding at every output position (2 of 3 on axis H, "
        "2 of 3 on axis W): the receptive field counts the live ones (window 1×1, not 73×73)"
    ]


def test_a_global_gate_keeps_the_local_field() -> None:
    # squeeze-and-excitation: the gate branch is global, the identity branch keeps r = 3
    report = run(
        "input: [4, 16, 16]\nlayers:\n"
        "  - conv: {out: 4, kernel: 3, padding: 1}\n"
        "  - multiply:\n"
        "      identity: []\n"
        "      gate: [{global_avgpool: {}}, {conv: {out: 4, kernel: 1}}, {sigmoid: {}}]\n"
        "  - conv: {out: 4, kernel: 3, padding: 1}\n"
    )
    conv, pool, _, _, multiply, last = (layer.receptive_field for layer in report.layers)
    assert (conv.size, conv.global_context) == ((3, 3), False)
    assert pool.coverage is Coverage.GLOBAL
    assert (multiply.coverage, multiply.size, multiply.global_context) == (
        Coverage.LOCAL,
        (3, 3),
        True,
    )
    # 3 + 2·1 = 5, still marked
    assert (last.size, last.global_context) == ((5, 5), True)


def test_merged_windows_that_do_not_start_together_take_their_hull() -> None:
    # output o of branch a sees o … o + 2, of branch b o + 3 (jump 1 both): the union is
    # o … o + 3, 4 wide, where the larger of the two alone would say 3
    a = ReceptiveField(Coverage.LOCAL, (3,), (1,), (0,))
    b = ReceptiveField(Coverage.LOCAL, (1,), (1,), (3,))
    merged, problem = merge([a, b])
    assert problem is None
    assert (merged.size, merged.first) == ((4,), (0,))


def test_mobilenet_v3_small_shows_a_local_field_at_every_spatial_layer() -> None:
    # issue 17: from the first squeeze-and-excitation gate on, the field read "global". Now
    # every layer outside the gates and before the head is local, and each SE multiply has
    # the field of its identity branch: the layer before its gate, marked global context.
    report = convcost.analyze(convcost.load_spec(ZOO / "mobilenet_v3_small.yaml"))
    paths = [layer.path for layer in report.layers]
    head = paths.index("global_avgpool1")
    spatial = [layer for layer in report.layers[:head] if ".gate." not in layer.path]
    assert all(layer.receptive_field.coverage is Coverage.LOCAL for layer in spatial)
    multiplies = [i for i, layer in enumerate(report.layers) if layer.kind == "multiply"]
    assert len(multiplies) == 9  # the SE blocks of torchvision's mobilenet_v3_small
    for index in multiplies:
        gate = paths.index(f"{paths[index]}.gate.global_avgpool1")
        before = report.layers[gate - 1].receptive_field
        after = report.layers[index].receptive_field
        assert (after.size, after.jump, after.global_context) == (before.size, before.jump, True)
    assert report.layers[head - 1].receptive_field.global_context


def test_a_map_with_too_many_phases_is_unknown_with_a_warning() -> None:
    # 7 → 10⁹ windows repeat every 10⁹/gcd(7, 10⁹) = 10⁹ outputs; a stride of 10⁶ has 10⁶
    # phases: both past the 1,024 convcost follows, so the field is unknown, said once
    for layer in (
        "adaptive_avgpool: {size: 1000000000}",
        "conv_transpose: {out: 1, kernel: 2, stride: 1000000}",
    ):
        report = run(f"input: [1, 7, 7]\nlayers:\n  - {layer}\n  - relu: {{}}\n")
        assert [f.receptive_field.coverage for f in report.layers] == [Coverage.UNKNOWN] * 2
        assert [w.message for w in report.warnings] == [
            "receptive field unknown from here: the windows repeat only after more than 1,024 "
            "output positions"
        ]


def test_table_marks() -> None:
    from convcost.render.numbers import receptive  # noqa: PLC0415 (rich)

    # a transposed conv k3 s2 (windows 1 and 2 wide, above), then an SE-like gated multiply
    report = run(
        "input: [1, 8, 8]\nlayers:\n"
        "  - conv_transpose: {out: 1, kernel: 3, stride: 2}\n"
        "  - multiply:\n"
        "      identity: []\n"
        "      gate: [{global_avgpool: {}}]\n"
    )
    shown = [receptive(layer.receptive_field) for layer in report.layers]
    assert shown == ["≤2", "global", "≤2+g"]
