"""The report pages in a real browser (headless Chromium): no console message, a page of
reasonable height, no element wider than its container and no SVG label outside its chart,
with every block unfolded; and screenshots of three models for a person to look at.

Chromium is an oracle like torch: missing, the test skips locally and FAILS in CI
(``CONVCOST_REQUIRE_ORACLES=1``; ``.ci/run`` installs Debian's ``chromium``). Screenshots go to
``$CONVCOST_SCREENSHOTS`` when set, else to a ``report-screenshots`` folder under pytest's
temporary directory; the test prints where.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from convcost import zoo
from convcost.compare import collect, compare
from convcost.html.comparison import comparison_page
from convcost.html.page import analyses, document, report_page
from convcost.spec import load_spec
from tests.conftest import REQUIRE_ORACLES, oracles_required

MODELS = ("densenet121", "googlenet", "unet")
"""The largest zoo model, the widest merges, and an encoder-decoder with long skips."""
WIDTH = 1280
MARKER = "convcost-check: ran"

CHECK = """<script>
(function () {
  const root = document.documentElement;
  const closedHeight = root.scrollHeight;
  for (const d of document.querySelectorAll("details")) d.open = true;
  const name = (e) => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined
    ? "." + String(e.className).split(" ").join(".") : "") +
    (e.dataset && e.dataset.path ? "[" + e.dataset.path + "]" : "");
  const wide = [];
  for (const el of document.querySelectorAll("main *")) {
    if (el.closest("svg")) continue;
    const parent = el.parentElement;
    if (getComputedStyle(parent).overflowX !== "visible") continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const p = parent.getBoundingClientRect();
    if (r.left < p.left - 1 || r.right > p.right + 1) wide.push(name(el) + " in " + name(parent));
  }
  const outside = [];
  for (const svg of document.querySelectorAll("svg")) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll("text")) {
      const r = t.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
          r.bottom > box.bottom + 1) outside.push(t.textContent);
    }
  }
  const body = document.body;
  body.dataset.closedHeight = closedHeight;
  body.dataset.pageWidth = root.scrollWidth;
  body.dataset.wide = JSON.stringify(wide.slice(0, 20));
  body.dataset.outside = JSON.stringify(outside.slice(0, 20));
  console.log("MARKER");
})();
</script>""".replace("MARKER", MARKER)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    reason = "no chromium on PATH (apt-get install chromium)"
    if oracles_required():
        pytest.fail(f"{reason}; {REQUIRE_ORACLES} is set: install it", pytrace=False)
    pytest.skip(reason)


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        browser,
        "--headless=new",
        "--no-sandbox",  # CI runs as root in a container
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _console(stderr: str) -> list[str]:
    return re.findall(r":CONSOLE[^\]]*\] (.*)", stderr)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _measure(browser: str, tmp: Path, name: str, page: str) -> dict[str, str]:
    """Open ``page`` with the check script; its findings, and every console line."""
    checked = tmp / f"{name}-check.html"
    checked.write_text(page.replace("</main>", "</main>" + CHECK, 1), encoding="utf-8")
    result = _run(
        browser,
        tmp / f"profile-{name}",
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size={WIDTH},900",
        "--dump-dom",
        checked.as_uri(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = _console(result.stderr)
    assert len(console) == 1, console  # the check's own line: no error, no warning
    assert MARKER in console[0], console
    (body,) = re.findall(r"<body([^>]*)>", result.stdout)
    attributes = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body))
    return {key: value.replace("&quot;", '"') for key, value in attributes.items()}


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("CONVCOST_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("report-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_reports_in_chromium(screenshots: Path, tmp_path: Path) -> None:
    browser = _chromium()
    pages = {
        name: report_page(analyses(load_spec(zoo.find(name))))  # type: ignore[arg-type]
        for name in MODELS
    }
    specs = [
        load_spec(zoo.find(name)) for name in ("resnet18", "resnet50", "mobilenet_v2", "alexnet")
    ]  # type: ignore[arg-type]
    pages["comparison"] = comparison_page(compare(collect(specs)))
    for name, page in pages.items():
        found = _measure(browser, tmp_path, name, page)
        assert json.loads(found["wide"]) == [], (name, found["wide"])
        assert json.loads(found["outside"]) == [], (name, found["outside"])
        assert int(found["page-width"]) <= WIDTH, name
        height = int(found["closed-height"])
        # folded blocks: the totals, the top level and four charts, not a page per layer
        assert (1000 if name != "comparison" else 400) < height < 6000, (name, height)
        if name == "comparison":
            continue
        shot = screenshots / f"{name}.png"
        plain = tmp_path / f"{name}.html"
        plain.write_text(page, encoding="utf-8")
        result = _run(
            browser,
            tmp_path / f"profile-{name}",
            f"--window-size={WIDTH},{height}",
            f"--screenshot={shot}",
            plain.as_uri(),
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert _png_size(shot) == (WIDTH, height)
        assert shot.stat().st_size > 20_000  # drawn, not blank
    print(f"\nreport screenshots: {screenshots}")


def test_the_browser_check_can_fail(tmp_path: Path) -> None:
    """A page with a paragraph wider than its box (inside a folded block) and a label past
    its chart's edge: the check finds both."""
    browser = _chromium()
    page = document(
        "broken",
        '<h1>x</h1><div><p style="width:3000px">wide</p></div>'
        '<svg viewBox="0 0 100 50" width="100"><text x="95" y="20">cut label</text></svg>'
        '<details><summary>s</summary><div style="width:2000px">hidden wide</div></details>',
    )
    found = _measure(browser, tmp_path, "broken", page)
    assert json.loads(found["wide"]) == ["p in div", "div in details"]
    assert json.loads(found["outside"]) == ["cut label"]
    assert int(found["page-width"]) > WIDTH
