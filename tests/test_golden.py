"""Golden outputs: every spec in specs/ rendered as a table and as JSON.

Regenerate with ``pytest tests/test_golden.py --update-golden`` and read the diff.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

import convcost
from convcost.render.formats import to_json
from convcost.render.table import print_reports
from convcost.report import total

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def table_text(reports: list[convcost.Report]) -> str:
    buffer = io.StringIO()
    print_reports(
        Console(file=buffer, width=100, color_system=None), reports, depth=None, exact=False
    )
    return buffer.getvalue()


def check(path: Path, text: str, update: bool) -> None:
    if update or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not update:
            pytest.fail(
                f"golden file {path.name} was missing and has been written: review and commit it"
            )
    assert text == path.read_text(encoding="utf-8"), (
        f"output differs from {path}; run with --update-golden"
    )


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_golden(spec_path: Path, update_golden: bool) -> None:
    spec = convcost.load_spec(spec_path.relative_to(ROOT))
    reports = list(convcost.analyze_all(spec))
    for report in reports:
        assert total([layer.cost for layer in report.layers]) == report.totals
    check(GOLDEN / f"{spec_path.stem}.txt", table_text(reports), update_golden)
    check(GOLDEN / f"{spec_path.stem}.json", to_json(reports), update_golden)
    json.loads((GOLDEN / f"{spec_path.stem}.json").read_text())
