from __future__ import annotations

import importlib
import os
from collections.abc import Generator
from types import ModuleType

import pytest

import convcost
from convcost.report import Report

REQUIRE_ORACLES = "CONVCOST_REQUIRE_ORACLES"
"""Set (to anything but ``""`` or ``0``) by ``.ci/run``: a missing reference fails, never skips."""

_SKIPPED_IMPORT = "could not import"
"""How ``pytest.importorskip`` words its skip: the safety net below recognises it."""


def oracles_required() -> bool:
    return os.environ.get(REQUIRE_ORACLES, "") not in ("", "0")


def require(module: str) -> ModuleType:
    """Import an independent reference (torch, hypothesis, jsonschema, …) for the tests.

    Without it the test (or, at module level, the whole module) skips cleanly, so users without
    torch can run the suite; with ``CONVCOST_REQUIRE_ORACLES=1`` (CI) it fails instead.
    """
    __tracebackhide__ = True  # report the skip at the test that asked, not here
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        error = exc
    reason = f"{_SKIPPED_IMPORT} {module!r}: {error}"
    if oracles_required():
        pytest.fail(f"{reason} ({REQUIRE_ORACLES} is set: install it)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def _fail_missing_oracle(report: pytest.CollectReport | pytest.TestReport) -> None:
    """Safety net for a bare ``pytest.importorskip``: under CI its skip becomes a failure."""
    if not (report.skipped and oracles_required()):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if _SKIPPED_IMPORT in reason:
        report.outcome = "failed"
        report.longrepr = f"{reason} ({REQUIRE_ORACLES} is set: install it)"


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _fail_missing_oracle(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _fail_missing_oracle(report)
    return report


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


@pytest.fixture(scope="session")
def onnx_exports(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The zoo's torch references as ONNX files, each exported once per session
    (:class:`tests.onnx_exports.Exports`); needs torch and onnx."""
    require("torch")
    require("onnx")
    require("onnxscript")
    from tests.onnx_exports import Exports  # noqa: PLC0415 (imports torch)

    return Exports(tmp_path_factory.mktemp("onnx"))


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> object:
    """A folder with the model files the docs and ``--help`` examples name
    (:func:`tests.onnx_exports.model_folder`); needs torch, onnx and onnxscript."""
    require("torch")
    require("onnx")
    require("onnxscript")
    from tests.onnx_exports import model_folder  # noqa: PLC0415 (imports torch)

    folder = tmp_path_factory.mktemp("models")
    model_folder(folder)
    return folder
