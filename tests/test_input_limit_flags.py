"""``--max-spec-bytes`` and ``--max-yaml-nodes`` on every command that loads a spec, through the
CLI in child processes: the default bound refuses a spec past it (exit 4, one line), the raised
bound lets the same spec through, and a lowered node bound refuses a small spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from convcost.limits import DEFAULT_LIMITS
from tests.bounds import run_cli

SPEC = "params:\n  w: 8\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: $w, kernel: 3}\n"
"""A one-layer spec with a parameter (``sweep`` varies it): 14 YAML nodes (the mapping, its 3
keys, ``params``' mapping, key and value, the input list and its 3 items, the layer list, the
item mapping, its key and the arguments' mapping with 2 keys and 2 values: more than 5)."""

COMMANDS = {
    "check": ["check", "{spec}", "--max-params", "1M"],
    "compare": ["compare", "{spec}", "{spec}"],
    "explain": ["explain", "{spec}"],
    "report": ["report", "{spec}", "-o", "report.html"],
    "sweep": ["sweep", "{spec}", "--grid", "w=4,8"],
    "export": ["export", "{spec}", "--to", "pytorch", "-o", "net.py"],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("limits")
    # one byte past the default bound (16 MiB): a comment line pads the spec
    padding = DEFAULT_LIMITS.max_spec_bytes + 1 - len(SPEC) - len("# \n")
    (folder / "big.yaml").write_text(f"# {'x' * padding}\n{SPEC}", encoding="utf-8")
    (folder / "small.yaml").write_text(SPEC, encoding="utf-8")
    assert (folder / "big.yaml").stat().st_size == 16 * 2**20 + 1
    return folder


def command(name: str, spec: str, *options: str) -> list[str]:
    return [part.format(spec=spec) for part in COMMANDS[name]] + list(options)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_raised_spec_size_bound_lets_a_big_spec_through(name: str, folder: Path) -> None:
    refused = run_cli(*command(name, "big.yaml"), cwd=folder)
    assert refused.exit_code == 4
    # 16 MiB = 16 × 1,048,576 bytes, and the spec is one byte more
    assert refused.stderr.strip() == (
        "error: big.yaml is 16777217 bytes; a spec may have at most 16777216 bytes "
        "(Limits.max_spec_bytes)"
    )
    accepted = run_cli(*command(name, "big.yaml", "--max-spec-bytes", "17MiB"), cwd=folder)
    assert accepted.exit_code == 0, accepted.stderr
    nodes = run_cli(*command(name, "small.yaml", "--max-yaml-nodes", "5"), cwd=folder)
    assert nodes.exit_code == 4
    assert "max_yaml_nodes" in nodes.stderr
    assert run_cli(*command(name, "small.yaml"), cwd=folder).exit_code == 0
