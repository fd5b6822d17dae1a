"""Hostile spec texts, generated (the big ones are never committed), and the good specs beside them."""

from __future__ import annotations

from pathlib import Path

from tests.attacks.harness import ROOT

GOOD = {
    "quickstart.yaml": (ROOT / "specs" / "quickstart.yaml").read_text(encoding="utf-8"),
    "googlenet.yaml": (ROOT / "specs" / "googlenet-5x5-branch.yaml").read_text(encoding="utf-8"),
}
"""Two budgeted specs within their budgets (``check`` exits 0 on them alone)."""

HUGE = "1" + "0" * 5000
"""An integer literal past Python's 4,300-digit ``int()`` limit."""


def plain(
    layers: str, *, name: str = "net", input_shape: str = "[3, 8, 8]", extra: str = ""
) -> str:
    """A plain spec: ``layers`` is the YAML of the layer list (indented by two spaces)."""
    return f"name: {name}\ninput: {input_shape}\nlayers:\n{layers}{extra}"


def one(layer: str, **options: str) -> str:
    """A plain spec of one layer given in flow style: ``one("conv: {out: 4, kernel: 3}")``."""
    return plain(f"  - {layer}\n", **options)


def named(name: str, *, quoted: bool = True) -> str:
    """A spec whose name and layer names are ``name`` (double-quoted YAML: escapes allowed)."""
    text = f'"{name}"' if quoted else name
    return (
        f"name: {text}\ninput: [3, 8, 8]\nlayers:\n"
        f"  - conv: {{out: 4, kernel: 3}}\n    name: {text}\n"
        f"  - relu: {{}}\n"
    )


def titled(name: str) -> str:
    """A spec named ``name`` (double-quoted YAML) whose layers have plain names."""
    return f'name: "{name}"\ninput: [3, 8, 8]\nlayers:\n  - conv: {{out: 4, kernel: 3}}\n  - relu: {{}}\n'


def alias_bomb(depth: int, *, used: bool) -> str:
    """Ten-way nested aliases: ``10**depth`` leaves in a few hundred bytes.

    ``used``: the bomb is a layer's ``kernel``; otherwise block parameter defaults that no
    layer reads (the issue's 624-byte, 3.5 GB case).
    """
    lines = ["name: bomb", "input: [3, 8, 8]", "blocks:", "  unused:", "    params:"]
    lines.append("      a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]")
    for level in range(1, depth + 1):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"      a{level}: &a{level} [{refs}]")
    lines += ["    layers:", "      - relu: {}", "layers:"]
    lines.append(f"  - conv: {{out: 4, kernel: *a{depth}}}" if used else "  - relu: {}")
    return "\n".join(lines) + "\n"


def nested_repeats(levels: int, count: int) -> str:
    """``count ** levels`` relus through blocks that repeat the one below."""
    lines = ["name: repeats", "input: [3, 8, 8]", "blocks:"]
    lines += ["  b1:", "    layers:", f"      - relu: {{}}\n        repeat: {count}"]
    for level in range(2, levels + 1):
        lines += [
            f"  b{level}:",
            "    layers:",
            f"      - b{level - 1}: {{}}\n        repeat: {count}",
        ]
    lines += ["layers:", f"  - b{levels}: {{}}"]
    return "\n".join(lines) + "\n"


def doubling(levels: int) -> str:
    """``2 ** levels`` relus: each block uses the one below twice."""
    lines = ["name: doubling", "input: [3, 8, 8]", "blocks:", "  d0:", "    layers: [{relu: {}}]"]
    for level in range(1, levels + 1):
        below = f"d{level - 1}"
        lines += [f"  d{level}:", f"    layers: [{{{below}: {{}}}}, {{{below}: {{}}}}]"]
    lines += ["layers:", f"  - d{levels}: {{}}"]
    return "\n".join(lines) + "\n"


def squaring(steps: int) -> str:
    """Block parameter defaults that square the previous one: ``3 ** (2 ** steps)``."""
    lines = ["name: squares", "input: [3, 8, 8]", "blocks:", "  sq:", "    params:", "      a0: 3"]
    lines += [f'      a{i}: "${{a{i - 1} * a{i - 1}}}"' for i in range(1, steps + 1)]
    lines += ["    layers:", f"      - conv: {{out: $a{steps}, kernel: 1}}"]
    lines += ["layers:", "  - sq: {}"]
    return "\n".join(lines) + "\n"


def block_chain(length: int) -> str:
    """Block ``c0`` uses ``c1`` … uses ``c{length-1}``, which is a relu."""
    lines = ["name: chain", "input: [3, 8, 8]", "blocks:"]
    for index in range(length - 1):
        lines += [f"  c{index}:", f"    layers: [{{c{index + 1}: {{}}}}]"]
    lines += [f"  c{length - 1}:", "    layers: [{relu: {}}]"]
    lines += ["layers:", "  - c0: {}"]
    return "\n".join(lines) + "\n"


def flow_nesting(depth: int) -> str:
    """``input:`` as a flow list nested ``depth`` deep."""
    return f"name: deep\ninput: {'[' * depth}3{']' * depth}\nlayers:\n  - relu: {{}}\n"


def map_nesting(depth: int) -> str:
    """A layer field holding a flow mapping nested ``depth`` deep."""
    return one(f"conv: {{out: 4, kernel: {'{a: ' * depth}1{'}' * depth}}}")


def expression(body: str, field: str = "out") -> str:
    """A conv whose ``field`` is the expression ``"${body}"`` (quoted, so that YAML passes a
    ``#`` on to the expression instead of reading a comment)."""
    other = "kernel: 1" if field == "out" else "out: 4"
    return plain(f'  - conv:\n      {field}: "${{{body}}}"\n      {other}\n')


def big_file(path: Path, megabytes: int) -> None:
    """A spec of ``megabytes`` MB whose top-level key on line 4 is unknown."""
    head = "name: big\ninput: [3, 8, 8]\nlayers:\nbogus_key: 1\nmore:\n"
    line = "  - relu: {}\n"
    count = megabytes * 2**20 // len(line)
    with path.open("w", encoding="ascii") as handle:
        handle.write(head)
        chunk = line * 10_000
        for _ in range(count // 10_000):
            handle.write(chunk)


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth
