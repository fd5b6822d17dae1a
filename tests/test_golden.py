"""Golden outputs: every spec in specs/ rendered as a table and as JSON.

Regenerate with ``make golden`` (``pytest tests/test_golden.py tests/test_compare.py -k golden
--update-golden``) and read the diff. The goldens do not depend on the working directory (specs
are loaded by absolute path and the JSON's ``source`` is stored relative to the repository) nor
on the release (``convcost_version`` is asserted here and left out of the file), and the JSON is
stored as parsed data, so how the renderer escapes non-ASCII text does not churn them.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import convcost
from convcost.render.formats import to_json
from convcost.render.table import print_reports

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
    """Compare ``text`` with the golden file ``path``, or write it under ``--update-golden``."""
    if update or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not update:
            pytest.fail(
                f"golden file {path.name} was missing and has been written: review and commit it"
            )
    assert text == path.read_text(encoding="utf-8"), (
        f"output differs from {path}; run with --update-golden"
    )


def portable_json(text: str, spec_path: Path) -> str:
    """The JSON without what depends on the checkout or the release, as stable text."""
    data: Any = json.loads(text)
    for report in data if isinstance(data, list) else [data]:
        assert report.pop("convcost_version") == convcost.__version__
        assert report["source"] == str(spec_path)  # loaded by absolute path
        report["source"] = spec_path.relative_to(ROOT).as_posix()
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_golden(spec_path: Path, update_golden: bool) -> None:
    reports = list(convcost.analyze_all(convcost.load_spec(spec_path)))
    check(GOLDEN / f"{spec_path.stem}.txt", table_text(reports), update_golden)
    check(
        GOLDEN / f"{spec_path.stem}.json", portable_json(to_json(reports), spec_path), update_golden
    )


def test_goldens_do_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `cd tests && pytest` used to fail every golden: the specs were loaded by relative path
    monkeypatch.chdir(tmp_path)
    spec_path = ROOT / "specs" / "quickstart.yaml"
    reports = list(convcost.analyze_all(convcost.load_spec(spec_path)))
    golden = (GOLDEN / "quickstart.json").read_text(encoding="utf-8")
    assert portable_json(to_json(reports), spec_path) == golden
    assert json.loads(golden)["source"] == "specs/quickstart.yaml"
    assert "convcost_version" not in golden


def test_goldens_are_exactly_the_bundled_specs() -> None:
    # a golden left behind by a renamed or deleted spec would never be checked again
    stems = {path.stem for path in SPECS}
    assert {path.stem for path in GOLDEN.glob("*.txt")} == stems
    assert {path.stem for path in GOLDEN.glob("*.json")} == stems
