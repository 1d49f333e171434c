"""The page: self-contained, safe against odd text, renders in headless Chromium without errors.

The browser test writes a full-page screenshot next to the report (``<run_dir>/report.png``).
Set SUPPLYSEG_REPORT_RUN=<out/run_id folder> to render a real run's report instead of the fake
one (the report is rewritten into that folder).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
from html_parts import ReportPage

from supplyseg.report import ReportResult, read_run_folder, render_html, write_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
# Data marks actually drawn inside each chart's plot area (bars, markers, lines, cells, links):
# a chart whose axes came out wrong renders its SVG but no visible mark.
DRAWN_MARKS = """
() => Array.from(document.querySelectorAll("div.chart")).map(div => {
  const box = div.getBoundingClientRect();
  let drawn = 0;
  div.querySelectorAll(".overplot path, .overplot image, .sankey path").forEach(m => {
    const b = m.getBoundingClientRect();
    if (b.width * b.height > 1 && b.right > box.left && b.left < box.right) drawn += 1;
  });
  return [div.dataset.chart, drawn];
})
"""


def test_page_is_self_contained_with_plotly_inlined_once(full_report: ReportResult) -> None:
    html = full_report.html.read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot(") == 1  # one drawing loop over every chart
    assert len(re.findall(r"\* plotly\.js v\d", html)) == 1  # the library, inlined once
    assert not re.search(r"<(script|img|iframe)[^>]+src=|<link[^>]+href=|@import|url\(http", html)
    # plotly.js itself names cdn.plot.ly (topojson for maps, unused); the browser test checks
    # that nothing is fetched.
    assert "fonts.googleapis" not in html


def test_text_in_the_data_cannot_break_the_page(run_dir: Path) -> None:
    cts = pd.read_parquet(run_dir / "cost_to_serve_customer.parquet")
    worst = cts["net_profit"].idxmin()
    cts.loc[worst, "customer_id"] = "</script><b>x"
    cts.to_parquet(run_dir / "cost_to_serve_customer.parquet")
    html = render_html(read_run_folder(run_dir))
    assert "</script><b>x" not in html
    assert "&lt;/script&gt;&lt;b&gt;x" in html  # shown as text in the table and chart title
    assert "\\u003c\\u002fscript\\u003e\\u003cb\\u003ex" in html  # escaped inside chart JSON
    assert ReportPage(html).tables["least_profitable"][1][0] == "</script><b>x"


@pytest.fixture(scope="module")
def rendered(full_report: ReportResult) -> ReportResult:
    real = os.environ.get("SUPPLYSEG_REPORT_RUN")
    return write_report(Path(real)) if real else full_report


def test_page_renders_every_chart_in_headless_chromium(rendered: ReportResult) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    problems: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    requests.append(r.url)
                    if not r.url.startswith(("file:", "data:", "blob:"))
                    else None
                ),
            )
            page.goto(rendered.html.resolve().as_uri(), wait_until="load")
            charts = page.locator("div.chart")
            n = charts.count()
            keys = [charts.nth(i).get_attribute("data-chart") for i in range(n)]
            empty = [
                k
                for i, k in enumerate(keys)
                if charts.nth(i).locator(".main-svg").count() == 0
                or "js-plotly-plot" not in (charts.nth(i).get_attribute("class") or "")
            ]
            blank = [key for key, drawn in page.evaluate(DRAWN_MARKS) if drawn == 0]
            page.screenshot(path=str(rendered.html.parent / "report.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert requests == []  # nothing fetched from the network
    assert n >= (1 if os.environ.get("SUPPLYSEG_REPORT_RUN") else 20)
    assert empty == []
    assert blank == []
    assert (rendered.html.parent / "report.png").stat().st_size > 10_000
