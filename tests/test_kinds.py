"""The layer-kind contract: a kind module is numpy-free and loads neither explain nor the
executor until they are asked for (its steps and its op are imported lazily)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
SHUFFLENET = ROOT / "convcost" / "zoo" / "shufflenet_v2_x1_0.yaml"
WATCHED = ("numpy", "convcost.executor", "convcost.explain")


def _loaded_after(command: str) -> list[str]:
    code = (
        "import sys; from typer.testing import CliRunner; from convcost.cli import app; "
        f"result = CliRunner().invoke(app, {command}); assert result.exit_code == 0, result.output; "
        f"print(' '.join(name for name in {WATCHED!r} if name in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    return done.stdout.split()


def test_analyze_loads_neither_numpy_nor_the_executor_nor_explain() -> None:
    assert _loaded_after(f"['analyze', {str(SHUFFLENET)!r}]") == []


def test_explain_loads_explain_but_not_the_executor() -> None:
    assert _loaded_after(f"['explain', {str(SHUFFLENET)!r}]") == ["convcost.explain"]
