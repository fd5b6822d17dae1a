"""Counts and byte sizes as people write them: digit grouping and the MAX_INT bound."""

from __future__ import annotations

import pytest

from convcost.limits import MAX_INT
from convcost.units import UnitError, parse_bytes, parse_count, parse_percent

COUNT_FORMS = "an integer, or a number with K, M, G or T (powers of 1000), e.g. 5M, 1.2G"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1_000", 1_000),  # Python's grouping: one underscore between two digits
        ("1_000_000", 1_000_000),
        ("1.2_5K", 1_250),
        ("9223372036854775807", MAX_INT),
        ("9_223_372_036_854_775_807", MAX_INT),
    ],
)
def test_grouped_digits(text: str, value: int) -> None:
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["1__0", "1_", "1_K", "1._5", "1_.5", "_1", "1__000M"])
def test_bad_underscores(text: str) -> None:
    # 1__0 used to be read as 10
    with pytest.raises(UnitError) as caught:
        parse_count(text)
    assert str(caught.value) == f"must be {COUNT_FORMS}, got {text!r}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9223372036854775808", "got '9223372036854775808'"),  # MAX_INT + 1
        ("10T", None),
        ("9223372036854776KB", "got '9223372036854776KB'"),  # 1000 x 9.2e15
        (2**63, "got 9223372036854775808"),
        ("1" + "0" * 400, "got a number of 401 digits"),
        ("9" * 5000, "got a number of 5000 digits"),  # past int()'s 4,300-digit limit
    ],
)
def test_values_past_max_int(value: object, message: str | None) -> None:
    if message is None:
        assert parse_count(value) == 10 * 10**12
        return
    with pytest.raises(UnitError) as caught:
        parse_bytes(value)
    assert str(caught.value) == f"must be at most 9,223,372,036,854,775,807, {message}"


def test_long_text_is_cut_short_in_messages() -> None:
    with pytest.raises(UnitError) as caught:
        parse_count("9" * 5000 + "x")
    assert str(caught.value) == f"must be {COUNT_FORMS}, got {'9' * 40!r}… (5001 characters)"
    with pytest.raises(UnitError) as percent:
        parse_percent("1" * 5000)
    assert str(percent.value) == (
        "must be a percentage such as 2% or 0.5% (the % may be left out), "
        f"got {'1' * 40!r}… (5000 characters)"
    )
