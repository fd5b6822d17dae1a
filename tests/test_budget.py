"""Units and budgets: parsing, errors naming the line, within/over for every metric."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

import convcost
from convcost.budget import (
    Budget,
    Budgeted,
    Limit,
    Status,
    budget_for,
    evaluate,
    read_budget,
)
from convcost.check import flag_limit
from convcost.errors import ExitStatus, SpecError
from convcost.receptive import Coverage
from convcost.units import UnitError, parse_bytes, parse_count, parse_percent
from tests.bounds import run_cli

# quickstart-like net on [3, 8, 8]: conv 3→4 k3 p1 (112 params, 4·64·27 = 6,912 MACs),
# relu, conv 4→2 k3 (2·4·9 + 2 = 74 params; 6×6 out: 2·36·36 = 2,592 MACs).
NET = """
input: [3, 8, 8]
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
  - relu: {}
  - conv: {out: 2, kernel: 3}
"""
PARAMS, MACS = 112 + 74, 6912 + 2592
# activations: 256 + 256 + 72 = 584 elements → 2,336 bytes; peak: relu1 256 + 256 = 512
# elements → (512 + 186) · 4 = 2,792 bytes; receptive field 5 (two 3×3, stride 1).
ACTIVATION_BYTES, PEAK_BYTES = 584 * 4, (512 + PARAMS) * 4


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5M", 5_000_000),
        ("600M", 600_000_000),
        ("1.2G", 1_200_000_000),
        ("2.5k", 2_500),
        ("7T", 7 * 10**12),
        ("1_000", 1000),
        (" 12 K ", 12_000),
        (42, 42),
        ("42", 42),
    ],
)
def test_parse_count(text: object, value: int) -> None:
    assert parse_count(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("64MiB", 64 * 2**20),
        ("64 MiB", 64 * 2**20),
        ("1.5GB", 1_500_000_000),
        ("1KiB", 1024),
        ("2TiB", 2 * 2**40),
        ("10KB", 10_000),
        ("512B", 512),
        (4096, 4096),
        ("0.5KiB", 512),
    ],
)
def test_parse_bytes(text: object, value: int) -> None:
    assert parse_bytes(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.5", "must be a whole number, got '1.5' = 1.5"),
        ("1.0001K", r"must be a whole number, got '1.0001K' = 1000.1"),
        ("5X", "must be an integer, or a number with K, M, G or T"),
        ("-3", "got '-3'"),
        (-3, r"got -3 \(negative\)"),
        (True, r"got True \(a boolean\)"),
        (1.5, "got 1.5"),
        ("5MiB", "got '5MiB'"),
    ],
)
def test_parse_count_rejects(text: object, message: str) -> None:
    with pytest.raises(UnitError, match=message):
        parse_count(text)


def test_parse_bytes_rejects_ambiguous_suffix_with_a_hint() -> None:
    with pytest.raises(UnitError, match=r"got '64M' \(write MiB for powers of 1024 or MB"):
        parse_bytes("64M")
    with pytest.raises(UnitError, match="got '3 bytes'"):
        parse_bytes("3 bytes")
    with pytest.raises(UnitError, match=r"whole number, got '0.3B'"):
        parse_bytes("0.3B")


def test_parse_percent() -> None:
    assert parse_percent("2%") == Fraction(1, 50)
    assert parse_percent("0.5%") == Fraction(1, 200)
    assert parse_percent("10") == Fraction(1, 10)
    with pytest.raises(UnitError, match="must be a percentage"):
        parse_percent("two")


def spec_with(budget: str) -> convcost.Spec:
    return convcost.parse_spec(f"{NET}budget:\n{budget}", source="net.yaml")


def check(budget: str) -> dict[Budgeted, Status]:
    spec = spec_with(budget)
    report = convcost.analyze(spec)
    return {r.metric: r.status for r in evaluate(budget_for(spec, spec.variants[0]), report)}


@pytest.mark.parametrize(
    ("metric", "exact", "unit"),
    [
        ("params", PARAMS, ""),
        ("macs", MACS, ""),
        ("flops", 2 * MACS, ""),
        ("activation_memory", ACTIVATION_BYTES, "B"),
        ("peak_memory", PEAK_BYTES, "B"),
    ],
)
def test_within_and_over_each_maximum(metric: str, exact: int, unit: str) -> None:
    # exactly at the limit is within; one below it is exceeded
    assert check(f"  {metric}: {exact}{unit}\n") == {Budgeted(metric): Status.WITHIN}
    assert check(f"  {metric}: {exact - 1}{unit}\n") == {Budgeted(metric): Status.EXCEEDED}


def test_receptive_field_minimum_every_axis_and_per_axis() -> None:
    assert check("  receptive_field: {min: 5}\n") == {Budgeted.RECEPTIVE_FIELD: Status.WITHIN}
    assert check("  receptive_field: {min: 6}\n") == {Budgeted.RECEPTIVE_FIELD: Status.EXCEEDED}
    assert check("  receptive_field: {min: [5, 4]}\n") == {Budgeted.RECEPTIVE_FIELD: Status.WITHIN}
    assert check("  receptive_field: {min: [5, 6]}\n") == {
        Budgeted.RECEPTIVE_FIELD: Status.EXCEEDED
    }


def test_margins_in_percent_of_the_limit() -> None:
    spec = spec_with("  params: 200\n  receptive_field: {min: 4}\n  macs: 9K\n")
    results = evaluate(budget_for(spec, spec.variants[0]), convcost.analyze(spec))
    by_metric = {r.metric: r for r in results}
    assert by_metric[Budgeted.PARAMS].margin == pytest.approx(100 * (200 - 186) / 200)
    assert by_metric[Budgeted.MACS].margin == pytest.approx(100 * (9000 - 9504) / 9000)
    assert by_metric[Budgeted.RECEPTIVE_FIELD].margin == pytest.approx(25.0)  # 5 vs 4
    # results come in metric order whatever the order in the file
    assert [r.metric for r in results] == [Budgeted.PARAMS, Budgeted.MACS, Budgeted.RECEPTIVE_FIELD]


def test_global_receptive_field_passes_any_minimum() -> None:
    spec = convcost.parse_spec(
        "input: [3, 8, 8]\nlayers:\n  - global_avgpool: {}\nbudget:\n"
        "  receptive_field: {min: 1000}\n"
    )
    (result,) = evaluate(budget_for(spec, spec.variants[0]), convcost.analyze(spec))
    assert result.actual is Coverage.GLOBAL
    assert result.status is Status.WITHIN


def test_unknown_receptive_field_is_not_a_pass() -> None:
    # both branches give 2×4×4, but with jumps 2 (stride 2) and 1 (5×5 valid): field unknown
    spec = convcost.parse_spec(
        "input: [3, 8, 8]\nlayers:\n  - concat:\n      a: [{conv: {out: 2, kernel: 2, stride: 2}}]\n"
        "      b: [{conv: {out: 2, kernel: 5}}]\n"
        "budget:\n  receptive_field: {min: 1}\n"
    )
    report = convcost.analyze(spec)
    assert report.receptive_field.coverage is Coverage.UNKNOWN
    (result,) = evaluate(budget_for(spec, spec.variants[0]), report)
    assert result.status is Status.UNKNOWN
    assert not result.status.passed


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        (
            "  parms: 5M\n",
            r"net.yaml:8:3: field budget.parms: unknown budget 'parms'; did you mean 'params'\?",
        ),
        (  # cut as every unknown key is (tree.shown: past 80 characters, the first 60)
            "  " + "p" * 100 + ": 5M\n",
            r"net.yaml:8:3: field budget\.p{100}: unknown budget 'p{60}'… \(100 characters\); "
            r"allowed: params, macs",
        ),
        (
            "  params: 5X\n",
            r"net.yaml:8:11: field budget.params: must be an integer, or a number with K, M, G or T",
        ),
        ("  macs: 1.5\n", r"net.yaml:8:9: field budget.macs: must be a whole number"),
        ("  peak_memory: 64M\n", r"net.yaml:8:16: field budget.peak_memory: .*write MiB"),
        ("  flops: [1]\n", r"net.yaml:8:10: field budget.flops: must be .*, got a list"),
        (
            "  receptive_field: 224\n",
            r"net.yaml:8:20: field budget.receptive_field: must be a mapping \{min: N\}",
        ),
        (
            "  receptive_field: {mni: 3}\n",
            r"net.yaml:8:21: field budget.receptive_field.mni: unknown key 'mni'; did you mean 'min'",
        ),
        (
            "  receptive_field: {min: 0}\n",
            r"net.yaml:8:26: field budget.receptive_field.min: must be an integer >= 1, got 0",
        ),
    ],
)
def test_budget_errors_name_file_line_and_field(budget: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        spec_with(budget)  # budgets are read when the spec is loaded


def test_per_axis_minimum_must_match_the_rank() -> None:
    spec = spec_with("  receptive_field: {min: [5, 5, 5]}\n")
    with pytest.raises(SpecError, match=r"net.yaml:8:3: .*3 values but the network has 2 spatial"):
        evaluate(budget_for(spec, spec.variants[0]), convcost.analyze(spec))


VARIANTS = """
input: [3, 8, 8]
budget:
  params: 100
  macs: 1M
variants:
  small:
    - conv: {out: 2, kernel: 1}
  big:
    budget:
      params: 1K
    layers:
      - conv: {out: 40, kernel: 1}
"""


def test_variant_budget_overrides_the_top_level_one_and_flags_override_both() -> None:
    spec = convcost.parse_spec(VARIANTS, source="v.yaml")
    small, big = spec.variants
    assert budget_for(spec, small).get(Budgeted.PARAMS) == Limit(
        metric=Budgeted.PARAMS, value=(100,), location=convcost.Location("v.yaml", 4, 3)
    )
    big_budget = budget_for(spec, big)
    assert big_budget.get(Budgeted.PARAMS) == Limit(
        metric=Budgeted.PARAMS, value=(1000,), location=convcost.Location("v.yaml", 11, 7)
    )
    assert big_budget.get(Budgeted.MACS) is not None  # inherited from the top level
    flags = Budget((Limit(metric=Budgeted.PARAMS, value=(7,)),))
    limit = budget_for(spec, big, flags).get(Budgeted.PARAMS)
    assert limit is not None
    assert limit.value == (7,)
    assert limit.origin == "--max-params"
    # small: 3·2 + 2 = 8 params; big: 3·40 + 40 = 160 params
    statuses = [
        r.status
        for variant in spec.variants
        for r in evaluate(budget_for(spec, variant), convcost.analyze(spec, variant=variant.name))
    ]
    assert statuses == [Status.WITHIN, Status.WITHIN, Status.WITHIN, Status.WITHIN]


def test_variant_budget_errors_name_the_variant() -> None:
    with pytest.raises(SpecError, match=r"v.yaml:11:7: field variants.big.budget.prams"):
        convcost.parse_spec(VARIANTS.replace("params: 1K", "prams: 1K"), source="v.yaml")


def test_empty_budget() -> None:
    assert not read_budget(None)
    spec = convcost.parse_spec(NET)
    assert not budget_for(spec, spec.variants[0])


# ---------------------------------------------------------------------------------------------
# Budgets are read when the spec is loaded; every malformed value is one line

COUNTS = "must be an integer, or a number with K, M, G or T (powers of 1000), e.g. 5M, 1.2G, got"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", f"{COUNTS} -5 (negative)"),
        ("1.7", "must be a whole number, got '1.7' = 1.7"),
        ("true", f"{COUNTS} true (a boolean)"),
        (
            "null",
            "must be an integer, or a number with K, M, G or T (powers of 1000), e.g. 5M, 1.2G, got null",
        ),
        ("Infinity", f"{COUNTS} 'Infinity'"),
        ("1e400", f"{COUNTS} '1e400'"),  # YAML 1.1 reads it as a string
        ("1.0e400", f"{COUNTS} '1.0e400'"),  # YAML 1.1 reads it as the float inf
        (
            '"9300000T"',  # 9.3·10^18 > 2^63 - 1 ≈ 9.22·10^18
            "must be at most 9,223,372,036,854,775,807, got '9300000T'",
        ),
        (
            '"' + "9" * 5000 + '"',
            "must be at most 9,223,372,036,854,775,807, got a number of 5000 digits",
        ),
        ("0x10", f"{COUNTS} 0x10, which YAML 1.1 reads as 16: write the number in decimal digits"),
    ],
)
def test_a_malformed_budget_value_is_one_line_at_load(value: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        spec_with(f"  params: {value}\n")
    assert str(caught.value) == f"net.yaml:8:11: field budget.params: {message}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "9223372036854775808",  # 2^63
            "the integer 9223372036854775808 is too large: integers must be at most 9223372036854775807",
        ),
        ("017", "017 is octal 15 in YAML 1.1: write 15, or 17"),
        ("1:30", "1:30 is 90 in YAML 1.1 (base 60, like a time): write 90, or quote it for text"),
    ],
)
def test_yaml_traps_in_a_budget_are_refused_by_the_loader(value: str, message: str) -> None:
    # the loader refuses these integers wherever they are written, before budgets are read
    with pytest.raises(SpecError) as caught:
        spec_with(f"  params: {value}\n")
    assert str(caught.value) == f"net.yaml:8:11: field budget.params: {message}"


def test_the_largest_budget_value_is_max_int() -> None:
    spec = spec_with("  params: 9223372036854775807\n  macs: 1_000\n")
    budget = budget_for(spec, spec.variants[0])
    assert [limit.value for limit in budget.limits] == [(2**63 - 1,), (1000,)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "  parms: 5M\n",
            "net.yaml:8:3: field budget.parms: unknown budget 'parms'; did you mean 'params'?; allowed: params, macs, flops, activation_memory, peak_memory, receptive_field, latency",
        ),
        (
            VARIANTS.replace("params: 1K", "params: 1:30"),
            "net.yaml:11:15: field variants.big.budget.params: 1:30 is 90 in YAML 1.1 (base 60, like a time): write 90, or quote it for text",
        ),
    ],
    ids=["top-level", "variant"],
)
def test_analyze_refuses_a_bad_budget_with_exit_2(text: str, message: str, tmp_path: Path) -> None:
    spec = text if text.startswith("\n") else f"{NET}budget:\n{text}"
    (tmp_path / "net.yaml").write_text(spec, encoding="utf-8")
    finished = run_cli("analyze", "net.yaml", cwd=tmp_path)
    assert (finished.exit_code, finished.stdout) == (ExitStatus.INVALID_INPUT, "")
    assert finished.stderr == f"error: {message}\n"


@pytest.mark.parametrize(
    ("metric", "text", "message"),
    [
        (
            Budgeted.RECEPTIVE_FIELD,
            "²",  # str.isdigit() is true for it, int() refuses it
            "must be an integer >= 1, or one per spatial axis (at most 3) such as 224x224, got '²'",
        ),
        (
            Budgeted.PARAMS,
            "9" * 5000,  # refused before any parsing: int() of it would raise ValueError
            "must be at most 64 characters, got 5,000",
        ),
        (
            Budgeted.MACS,
            "99999999999999999999",
            "must be at most 9,223,372,036,854,775,807, got '99999999999999999999'",
        ),
    ],
)
def test_a_malformed_flag_value_is_a_unit_error(metric: Budgeted, text: str, message: str) -> None:
    with pytest.raises(UnitError) as caught:
        flag_limit(metric, text)
    assert str(caught.value) == message


def test_a_receptive_field_flag_of_the_wrong_rank_names_the_flag() -> None:
    spec = convcost.parse_spec(NET, source="net.yaml")
    flags = Budget((flag_limit(Budgeted.RECEPTIVE_FIELD, "5x5x5"),))
    with pytest.raises(SpecError) as caught:
        evaluate(budget_for(spec, spec.variants[0], flags), convcost.analyze(spec))
    error = caught.value
    assert (str(error), error.field) == (
        "--min-receptive-field has 3 values but the network has 2 spatial axes",
        None,
    )
