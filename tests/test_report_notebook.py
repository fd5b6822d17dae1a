"""Notebook display: ``Report._repr_html_`` and ``Comparison._repr_html_`` stay short and
valid; ``Report.to_dataframe()`` has one row per layer with the JSON report's figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import convcost
from convcost import zoo
from convcost.compare import collect, compare
from convcost.errors import ConvcostError
from convcost.serialize import report_to_dict
from tests.conftest import require
from tests.html_check import parse


def _report(name: str) -> convcost.Report:
    return convcost.analyze(convcost.load_spec(zoo.find(name)))


def test_report_repr_html_is_short_and_valid() -> None:
    report = _report("densenet121")  # 427 layers
    html = report._repr_html_()
    assert len(html) < 20_000  # `repr(report)` is over 100,000 characters
    root = parse(html, fragment=True)
    bars = root.find_all("rect", "bar")
    assert 0 < len(bars) <= 120
    # the binned bars still add up to every MAC of the network
    assert (
        sum(int(bar.attrs["data-value"]) for bar in bars)
        == report_to_dict(report)["totals"]["macs"]
    )
    assert "densenet121" in root.text()


def test_comparison_repr_html() -> None:
    specs = [convcost.load_spec(zoo.find(name)) for name in ("resnet18", "alexnet")]
    result = compare(collect(specs))
    root = parse(result._repr_html_(), fragment=True)
    assert [p.attrs["data-name"] for p in root.find_all("circle", "point")] == [
        "resnet18",
        "alexnet",
    ]
    assert len(root.find_all("table")) == 1


def test_to_dataframe_matches_the_json_report() -> None:
    require("pandas")
    report = _report("googlenet")
    frame = report.to_dataframe()
    layers = report_to_dict(report)["layers"]
    assert len(frame) == len(layers)
    assert list(frame["path"]) == [layer["path"] for layer in layers]
    for column in ("params", "macs", "ops", "activation_bytes"):
        assert [int(v) for v in frame[column]] == [layer[column] for layer in layers], column
    assert frame["output_shape"].iloc[0] == tuple(layers[0]["output_shape"])
    assert int(frame["macs"].sum()) == report.totals.macs


def test_to_dataframe_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    with pytest.raises(ConvcostError, match=r"pip install 'convcost\[pandas\]'"):
        _report("alexnet").to_dataframe()


def test_analyze_loads_neither_html_nor_pandas() -> None:
    """The notebook methods import their modules when called: a plain analysis (and its text
    repr) loads no convcost.html and no pandas."""
    code = (
        "import sys, convcost; "
        "r = convcost.analyze(convcost.load_spec('specs/quickstart.yaml')); repr(r); "
        "print(sorted(m for m in ('convcost.html', 'pandas') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        check=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert result.stdout.strip() == "[]"
