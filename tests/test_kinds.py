"""The layer-kind contract: a kind module is numpy-free and loads neither explain nor the
executor until they are asked for (its steps and its op are imported lazily)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from convcost.layers.registry import DECLARED, KINDS, declared_by

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


def test_the_registry_table_names_each_modules_declared_kinds() -> None:
    listed: dict[str, set[str]] = {}
    for module, names in DECLARED:
        listed.setdefault(module, set()).update(names)
    # every module under convcost/layers that declares kinds is in the table, with exactly them
    declaring = {
        path.stem
        for path in (ROOT / "convcost" / "layers").glob("*.py")
        if hasattr(importlib.import_module(f"convcost.layers.{path.stem}"), "KINDS")
        and path.stem != "registry"
    }
    assert set(listed) == declaring
    for module, names in listed.items():
        declared = importlib.import_module(f"convcost.layers.{module}").KINDS
        assert {kind.name for kind in declared} == names, module
    assert all(KINDS[name].name == name for name in KINDS)


def test_a_spec_loads_only_the_kind_modules_it_uses() -> None:
    code = (
        "import sys, convcost; "
        "convcost.analyze(convcost.parse_spec('input: [3, 8, 8]\\nlayers:\\n  - conv: {out: 4, kernel: 3}\\n')); "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('convcost.layers.'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    loaded = set(done.stdout.split())
    assert "convcost.layers.conv" in loaded
    for unused in ("upsample", "attention", "normalization", "custom", "border", "rectifiers"):
        assert f"convcost.layers.{unused}" not in loaded


def test_declared_by_gives_a_family_as_its_modules_declare_it() -> None:
    """A per-target table (an exporter's, a peer convention's) that treats a family alike reads
    it with declared_by: the kinds the module itself declares, in its order."""
    for modules in (("pool",), ("activation",), ("activation", "rectifiers", "softmax")):
        declared = tuple(
            kind.name
            for module in modules
            for kind in importlib.import_module(f"convcost.layers.{module}").KINDS
        )
        assert declared_by(*modules) == declared
