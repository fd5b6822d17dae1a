"""``convcost report``'s page for every bundled model and example spec: valid HTML5 (see
tests/html_check.py), every layer present once in the diagram, the charts and the table, and
every number equal to the JSON report's (read back from the page, not recomputed)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from convcost import zoo
from convcost.html import bounds
from convcost.html.memory import live_bytes
from convcost.html.page import analyses, report_page
from convcost.serialize import report_to_dict
from convcost.spec import load_spec, parse_spec
from tests.html_check import Element, HTMLError, parse

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [zoo.find(name) for name in zoo.names()] + sorted((ROOT / "specs").glob("*.yaml"))


def _integer(text: str) -> int:
    assert re.fullmatch(r"-?[0-9]{1,3}(,[0-9]{3})*", text), text
    return int(text.replace(",", ""))


def _first_covering(data: dict[str, object]) -> str | None:
    """The first layer whose field is global or covers the input on every axis, from the
    JSON report alone."""
    sizes = data["input_shape"][1:]  # type: ignore[index]
    for layer in data["layers"]:  # type: ignore[attr-defined]
        if layer["receptive_field_coverage"] == "global":
            return str(layer["path"])
        field = layer["receptive_field"]
        if field is not None and all(r >= s for r, s in zip(field, sizes, strict=True)):
            return str(layer["path"])
    return None


def _check_section(section: Element, data: dict[str, object]) -> None:
    layers: list[dict[str, object]] = data["layers"]  # type: ignore[assignment]
    paths = [str(layer["path"]) for layer in layers]
    totals: dict[str, object] = data["totals"]  # type: ignore[assignment]

    # the layer table: every layer, in order, its integers as in the JSON
    rows = [tr for tr in section.find_all("tr") if "data-path" in tr.attrs]
    assert [tr.attrs["data-path"] for tr in rows] == paths
    for tr, layer in zip(rows, layers, strict=True):
        cells = [td.text() for td in tr.children]
        assert cells[2] == layer["kind"]
        assert cells[3] == "×".join(map(str, layer["output_shape"]))  # type: ignore[call-overload]
        assert [_integer(c) for c in cells[4:8]] == [
            layer["params"],
            layer["macs"],
            layer["ops"],
            layer["activation_bytes"],
        ]

    # the bars: one per layer, in execution order, holding the layer's exact figure
    for css, key in (("macs", "macs"), ("params", "params")):
        (chart,) = [svg for svg in section.find_all("svg") if css in svg.classes]
        bars = chart.find_all("rect", "bar")
        assert [bar.attrs["data-path"] for bar in bars] == paths
        assert [int(bar.attrs["data-value"]) for bar in bars] == [layer[key] for layer in layers]

    # the diagram: each layer and merge step once; one fold per block (merges and groups)
    (diagram,) = section.find_all("div", "diagram")
    boxes = [e.attrs["data-path"] for e in diagram.find_all(cls="node") if "data-path" in e.attrs]
    assert sorted(boxes) == sorted(paths)
    folds = [e for e in diagram.find_all("details") if e.classes & {"group", "merge"}]
    assert len(folds) == len(data["blocks"])  # type: ignore[arg-type]

    # the totals, exact in the detail column
    totals_rows = {
        tr.attrs["data-key"]: tr for tr in section.find_all("tr") if "data-key" in tr.attrs
    }
    assert _integer(totals_rows["macs"].children[2].text()) == totals["macs"]
    weights, biases = re.fullmatch(
        r"([0-9,]+) weights \+ ([0-9,]+) biases", totals_rows["params"].children[2].text()
    ).groups()  # type: ignore[union-attr]
    assert (_integer(weights), _integer(biases)) == (totals["weights"], totals["biases"])

    # live memory: one slot per layer, the peak marked where the JSON says, at its value
    (memory,) = [svg for svg in section.find_all("svg") if "memory" in svg.classes]
    slots = memory.find_all("rect", "hit")
    assert [slot.attrs["data-path"] for slot in slots] == paths
    (peak,) = memory.find_all("circle", "peak")
    assert int(peak.attrs["data-value"]) == totals["peak_activation_bytes"]
    assert peak.attrs["data-path"] == totals["peak_at"]
    assert max(int(slot.attrs["data-value"]) for slot in slots) == totals["peak_activation_bytes"]

    # receptive field: the input size as reference, the first covering layer marked
    (field,) = [svg for svg in section.find_all("svg") if "field" in svg.classes]
    references = {int(line.attrs["data-value"]) for line in field.find_all("line", "input-size")}
    assert references == set(data["input_shape"][1:])  # type: ignore[index]
    covers = [line.attrs["data-path"] for line in field.find_all("line", "covers")]
    expected = _first_covering(data)
    assert covers == ([] if expected is None else [expected])


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_report_page_matches_json(source: Path) -> None:
    spec = load_spec(source)
    found = analyses(spec)
    page = report_page(found)
    root = parse(page)
    sections = root.find_all("section", "network")
    assert [s.attrs["data-name"] for s in sections] == [a.report.name for a in found]
    assert len(sections) == len(spec.variants)
    for section, analysis in zip(sections, found, strict=True):
        _check_section(section, report_to_dict(analysis.report))


def test_densenet_page_is_small_and_quick() -> None:
    """Issue 15's bounds: under 2 MB, and under 1 s to render (CPU; ~35 ms on the benchmark
    machine, tests/bench/bench_report.py, so the bound leaves room for a loaded machine)."""
    found = analyses(load_spec(zoo.find("densenet121")))  # type: ignore[arg-type]
    start = time.process_time()
    page = report_page(found)
    assert time.process_time() - start < 1.0
    assert len(page.encode()) < 2 * 10**6


CHAIN = """
name: chain
input: [3, 8, 8]
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
  - relu: {}
  - maxpool: {kernel: 2}
  - flatten: {}
  - linear: {out: 5}
"""


def test_live_memory_of_a_chain_by_hand() -> None:
    """Each layer holds its input and its output; flatten is a view of the pool's output.
    Elements: input 3·8·8 = 192, conv and relu 4·8·8 = 256, pool 4·4·4 = 64, linear 5."""
    (analysis,) = analyses(parse_spec(CHAIN, source="chain.yaml"), batch=2, dtype="float16")
    by_hand = [192 + 256, 256 + 256, 256 + 64, 64, 64 + 5]
    assert live_bytes(analysis.network, analysis.report) == [n * 2 * 2 for n in by_hand]


def test_a_huge_network_stays_bounded() -> None:
    """2,501 layers: the charts bin runs of layers, the table and the diagram stop at their
    bounds, and the page stays small."""
    spec = parse_spec(
        """
name: huge
input: [1, 4, 4]
layers:
  - relu: {}
    repeat: 2500
  - flatten: {}
""",
        source="huge.yaml",
    )
    (analysis,) = analyses(spec)
    page = report_page([analysis])
    root = parse(page)
    bars = [
        bar
        for svg in root.find_all("svg")
        if "macs" in svg.classes
        for bar in svg.find_all("rect", "bar")
    ]
    assert len(bars) <= bounds.MAX_BARS
    # every layer is counted once across the runs: "first … last (n layers)"
    runs = [re.search(r" \((\d+) layers\)$", bar.attrs["data-path"]) for bar in bars]
    assert sum(1 if run is None else int(run.group(1)) for run in runs) == 2501
    rows = [tr for tr in root.find_all("tr") if "data-path" in tr.attrs]
    assert len(rows) == bounds.MAX_TABLE_ROWS
    assert "501 more layers not listed" in page
    boxes = root.find_all(cls="node")
    assert len(boxes) <= bounds.MAX_DIAGRAM_NODES + 1  # and the input's
    assert len(page) < 2_000_000


HOSTILE = '</title><script>alert(1)</script><b onmouseover="x">&amp;'


def test_hostile_names_stay_text() -> None:
    """Names with markup, quotes and ampersands appear as text, never as elements."""
    spec = parse_spec(
        f"""
name: {HOSTILE!r}
input: [3, 8, 8]
blocks:
  "<i>blk</i>":
    layers:
      - conv: {{out: 4, kernel: 3, padding: 1}}
layers:
  - conv: {{out: 4, kernel: 3}}
    name: "a<b>&c\\"d'e"
  - add:
      "<br>": [{{relu: {{}}}}]
      skip: []
  - "<i>blk</i>": {{}}
""",
        source="hostile.yaml",
    )
    page = report_page(analyses(spec))
    root = parse(page)  # no script, no event handler, every tag balanced
    for tag in ("script", "i", "br"):
        assert not root.find_all(tag), tag
    (head,) = root.find_all("head")
    (title,) = head.find_all("title")
    assert title.text() == f"convcost: {HOSTILE}"
    (heading,) = root.find_all("h2")
    assert heading.text() == HOSTILE
    assert "a<b>&c\"d'e" in {tr.attrs.get("data-path") for tr in root.find_all("tr")}


def test_the_checker_catches_broken_pages() -> None:
    """The oracle can fail: each page below breaks one rule."""
    good = report_page(analyses(parse_spec(CHAIN, source="chain.yaml")))
    parse(good)
    broken = [
        good.replace("<!DOCTYPE html>", ""),
        good.replace("</table>", "", 1),
        good.replace("<h1>", "<h1><script>x</script>", 1),
        good.replace("<h1>", "<h1>a & b", 1),
        good.replace("<summary>", "<div></div><summary>", 1),
        good.replace('<p class="meta">', '<p class="meta"><div></div>', 1),
        good.replace("<h1>", '<h1><a href="https://example.com">x</a>', 1),
    ]
    for page in broken:
        with pytest.raises(HTMLError, match="invalid HTML"):
            parse(page)
