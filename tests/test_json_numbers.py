"""``quotient_json``, how JSON writes an intensity without making a ``Fraction``, against
``fraction_json`` of the ``Fraction`` (the standard library's arithmetic) on hand-picked and
random cases: whole quotients, floats, ties past the float range."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from convcost.serialize import fraction_json, quotient_json

BIG = 10**400  # past the largest float (~1.8e308)


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [
        (0, 7),
        (12, 4),  # whole: an int
        (1, 3),
        (2, 3),
        (10**20 + 1, 10**20),
        (BIG, 3),  # no float holds it: the nearest integer
        (2 * BIG + 1, 2),  # a tie: to the even neighbour, BIG
        (2 * BIG + 3, 2),  # a tie: to BIG + 2
        (BIG * 6, 3),
    ],
)
def test_quotient_is_written_as_the_fraction_is(numerator: int, denominator: int) -> None:
    expected = fraction_json(Fraction(numerator, denominator))
    got = quotient_json(numerator, denominator)
    assert (type(got), got) == (type(expected), expected)


def test_random_quotients_are_written_as_the_fractions_are() -> None:
    rng = random.Random(18)
    for _ in range(2_000):
        numerator = rng.randrange(10 ** rng.randrange(1, 330))
        denominator = rng.randrange(1, 10 ** rng.randrange(1, 25))
        expected = fraction_json(Fraction(numerator, denominator))
        got = quotient_json(numerator, denominator)
        assert (type(got), got) == (type(expected), expected), (numerator, denominator)


def test_a_tie_past_the_float_range_rounds_to_even() -> None:
    # hand-computed: (2·BIG + 1) / 2 = BIG + 1/2, BIG is even
    assert quotient_json(2 * BIG + 1, 2) == BIG
