"""The oracle switch: a missing reference skips locally and fails under CI.

``.ci/run`` sets ``CONVCOST_REQUIRE_ORACLES=1``; ``tests.conftest.require`` then turns the skip of
a missing module into a failure, and the conftest's hooks do the same for a bare
``pytest.importorskip``. Each case runs in a pytest subprocess on a module that cannot exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_ORACLES, oracles_required

ROOT = Path(__file__).parent.parent
MISSING = "convcost_no_such_module"
PYTEST = (sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider")

FILES = {
    # the suite's hooks and helper, exactly as tests/ has them
    "conftest.py": "from tests.conftest import *  # noqa: F403\n",
    "test_in_test.py": (
        f"from tests.conftest import require\n\ndef test_require():\n    require({MISSING!r})\n"
    ),
    "test_module_level.py": (
        f"from tests.conftest import require\n\nrequire({MISSING!r})\n\n"
        "def test_never_collected():\n    pass\n"
    ),
    "test_bare_in_test.py": (
        f"import pytest\n\ndef test_bare():\n    pytest.importorskip({MISSING!r})\n"
    ),
    "test_bare_module_level.py": (
        f"import pytest\n\npytest.importorskip({MISSING!r})\n\n"
        "def test_never_collected():\n    pass\n"
    ),
    "test_present.py": (
        "from tests.conftest import require\n\n"
        "def test_present():\n    assert require('json').dumps(1) == '1'\n"
    ),
}


def run_suite(tmp_path: Path, variable: str | None) -> subprocess.CompletedProcess[str]:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != REQUIRE_ORACLES}
    env["PYTHONPATH"] = str(ROOT)
    if variable is not None:
        env[REQUIRE_ORACLES] = variable
    return subprocess.run(
        [*PYTEST, "--continue-on-collection-errors", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("value", "required"), [(None, False), ("", False), ("0", False), ("1", True), ("yes", True)]
)
def test_the_variable_is_on_unless_empty_or_zero(
    monkeypatch: pytest.MonkeyPatch, value: str | None, required: bool
) -> None:
    monkeypatch.delenv(REQUIRE_ORACLES, raising=False)
    if value is not None:
        monkeypatch.setenv(REQUIRE_ORACLES, value)
    assert oracles_required() is required


def test_without_the_variable_a_missing_oracle_skips(tmp_path: Path) -> None:
    result = run_suite(tmp_path, None)
    assert result.returncode == pytest.ExitCode.OK, result.stdout
    assert result.stdout.splitlines()[-1].startswith("1 passed, 4 skipped")
    assert f"could not import '{MISSING}': No module named '{MISSING}'" in result.stdout
    # each skip is reported where the test asked for the module, not inside the helper
    assert "SKIPPED [1] test_in_test.py:4: could not import" in result.stdout
    assert "SKIPPED [1] test_module_level.py:3: could not import" in result.stdout


def test_with_the_variable_every_missing_oracle_fails(tmp_path: Path) -> None:
    result = run_suite(tmp_path, "1")
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    summary = [line.split(" - ")[0] for line in result.stdout.splitlines()]
    for line in (
        "FAILED test_in_test.py::test_require",
        "FAILED test_bare_in_test.py::test_bare",
        "ERROR test_module_level.py",
        "ERROR test_bare_module_level.py",
        "PASSED test_present.py::test_present",
    ):
        assert line in summary, result.stdout
    assert result.stdout.splitlines()[-1].startswith("2 failed, 1 passed, 2 errors")
    assert f"({REQUIRE_ORACLES} is set: install it)" in result.stdout
