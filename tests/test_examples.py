"""The seeds' examples in specs/, asserted exactly (figures derived in each spec's header)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import convcost
from convcost.report import Report

SPECS = Path(__file__).parent.parent / "specs"


def variants(name: str) -> dict[str, Report]:
    return {
        report.name: report for report in convcost.analyze_all(convcost.load_spec(SPECS / name))
    }


def test_googlenet_5x5_branch() -> None:
    reports = variants("googlenet-5x5-branch.yaml")
    direct, bottleneck = reports["direct"], reports["bottleneck"]
    # 28·28·32 outputs × 192·5·5 = 120,422,400
    assert direct.totals.macs == 120_422_400
    # 28·28·16·192 + 28·28·32·16·25 = 2,408,448 + 10,035,200
    assert bottleneck.totals.macs == 12_443_648
    # 5·5·192·32 + 32 and (192·16 + 16) + (5·5·16·32 + 32)
    assert (direct.totals.params, bottleneck.totals.params) == (153_632, 15_920)
    assert direct.output_shape == bottleneck.output_shape == (32, 28, 28)


def test_3x3_vs_1x1_weights() -> None:
    reports = variants("conv3x3-vs-1x1.yaml")
    # 3·3·256·128 and 1·1·256·128
    assert reports["conv3x3"].totals.weights == 294_912
    assert reports["conv1x1"].totals.weights == 32_768


def test_one_5x5_vs_two_3x3() -> None:
    reports = variants("one5x5-vs-two3x3.yaml")
    one, two = reports["one5x5"], reports["two3x3"]
    assert [layer.output_shape for layer in one.layers] == [(64, 44, 44)]
    assert [layer.output_shape for layer in two.layers] == [(64, 46, 46), (64, 44, 44)]
    assert one.receptive_field.size == two.receptive_field.size == (5, 5)
    # 64·64·25 + 64 against 2·(64·64·9 + 64)
    assert (one.totals.params, two.totals.params) == (102_464, 73_856)


def test_dilated_stack() -> None:
    reports = variants("dilated-stack.yaml")
    dense, dilated = reports["dense"], reports["dilated"]
    assert dense.receptive_field.size == (7, 7)
    assert dilated.receptive_field.size == (15, 15)
    assert dense.totals == dilated.totals


def test_factorized_3x3() -> None:
    reports = variants("factorized-3x3.yaml")
    assert (
        reports["square"].receptive_field.size
        == reports["factorized"].receptive_field.size
        == (3, 3)
    )
    # 64·64·9 against 2·64·64·3
    assert (reports["square"].totals.weights, reports["factorized"].totals.weights) == (
        36_864,
        24_576,
    )


def test_separable_ratio_is_one_over_cout_plus_one_over_k2() -> None:
    reports = variants("separable-vs-standard.yaml")
    standard, separable = reports["standard"].totals.macs, reports["separable"].totals.macs
    # 112·112·64·32·9 and 112·112·32·9 + 112·112·64·32
    assert (standard, separable) == (231_211_008, 29_302_784)
    assert Fraction(separable, standard) == Fraction(1, 64) + Fraction(1, 9)


def test_grouped_conv_halves_weights() -> None:
    reports = variants("grouped-conv.yaml")
    # 256·96·25 and 256·48·25; MACs 27·27·256·96·25 and half
    assert (reports["groups1"].totals.weights, reports["groups2"].totals.weights) == (
        614_400,
        307_200,
    )
    assert (reports["groups1"].totals.macs, reports["groups2"].totals.macs) == (
        447_897_600,
        223_948_800,
    )


def test_stem_11x11_vs_3x3_stack() -> None:
    reports = variants("stem-11x11-vs-3x3.yaml")
    alexnet, stacked = reports["alexnet"], reports["stacked"]
    # r: 11 with jump 4; stacked: 3 (j 2), 3 + 2·2 = 7, 7 + 2·2 = 11 (j 4)
    assert alexnet.receptive_field.size == stacked.receptive_field.size == (11, 11)
    assert alexnet.receptive_field.jump == stacked.receptive_field.jump == (4, 4)
    assert (alexnet.output_shape, stacked.output_shape) == ((64, 55, 55), (64, 56, 56))


def test_quickstart() -> None:
    report = convcost.analyze(convcost.load_spec(SPECS / "quickstart.yaml"))
    # stem 3·32·9 = 864; bn 64; conv 32·64·9 = 18,432; bn 128; conv 64·64·9 = 36,864; bn 128; head 64·10 + 10
    assert report.totals.params == 864 + 64 + 18_432 + 128 + 36_864 + 128 + 650
    assert report.output_shape == (10,)
