from __future__ import annotations

import pytest

import convcost
from convcost.report import Report


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output (review the diff)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def run(text: str, **options: object) -> Report:
    """Analyze a spec given as YAML text."""
    return convcost.analyze(convcost.parse_spec(text), **options)  # type: ignore[arg-type]


def one_layer(input_shape: list[int], layer: str) -> Report:
    """A spec with one layer, written inline: ``one_layer([3, 8, 8], "conv: {out: 4, kernel: 3}")``."""
    return run(f"input: {input_shape}\nlayers:\n  - {layer}\n")
