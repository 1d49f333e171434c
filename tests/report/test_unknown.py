"""Unknown is never 0: a run without unit costs reads "unknown (no unit cost)" in cards, tables
and charts, and its workbook cells are empty; the banner, warnings, fallback and footer."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from html_parts import ReportPage, column
from openpyxl import load_workbook
from synthetic_run import write_synthetic_run
from synthetic_trust import ASSUMPTIONS, WARNINGS

from supplyseg.report import ReportResult, read_run_folder, render_html, write_report
from supplyseg.report.unknown import cost_unknown_reason, known_total


@pytest.fixture(scope="module")
def no_cost(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    path = tmp_path_factory.mktemp("run") / "20250102T030405-nocost"
    return write_report(write_synthetic_run(path, unit_costs=False))


@pytest.fixture(scope="module")
def page(no_cost: ReportResult) -> ReportPage:
    return ReportPage(no_cost.html.read_text(encoding="utf-8"))


def test_known_total_of_nothing_known_is_unknown_not_zero() -> None:
    assert pd.isna(known_total(pd.Series([None, None], dtype="float64")))
    assert pd.Series([None, None], dtype="float64").sum() == 0  # the pandas trap it avoids
    assert known_total(pd.Series([1.5, None])) == 1.5


def test_cost_cards_read_unknown_with_the_reason(page: ReportPage) -> None:
    for key in ("inventory", "unprofitable"):
        card = page.kpis[key]
        assert card["text"] == "unknown (no unit cost)", key
        assert card["value"] == "", key  # no data-value: nothing to read as a number
        assert card["detail"].startswith("unknown because"), key
        assert "unit_cost" in card["detail"], key
    assert page.kpis["revenue"]["value"] != ""  # revenue needs no cost: still known
    assert "0.00" not in page.kpis["inventory"]["text"] + page.kpis["inventory"]["detail"]


def test_charts_that_need_costs_say_why_instead_of_empty_axes(page: ReportPage) -> None:
    for key in ("inventory_by_policy", "inventory_by_segment", "stock_to_service"):
        assert key not in page.charts
        assert "unknown: the data has no unit cost" in page.missing[key], key
    assert "profitability" in page.missing
    assert {"cost_by_pool", "service_replay", "forecast_accuracy", "otif_dso", "clv"} <= set(
        page.charts
    )  # none of them needs a unit cost


def test_table_cells_of_unknown_costs_read_unknown(page: ReportPage) -> None:
    assert set(column(page, "policy_summary", "inventory value")) == {"unknown"}
    assert set(column(page, "segment_profile", "margin")) == {"unknown"}
    assert set(column(page, "obsolete_stock_table", "value")) == {"unknown"}
    assert "unknown" not in column(page, "obsolete_stock_table", "on hand")  # units are known
    assert "margin: unknown (no unit cost)." in page.notes["segment_profile"]


def test_a_zero_margin_from_an_older_step_reads_unknown_when_costs_are_unknown(
    tmp_path: Path,
) -> None:
    path = write_synthetic_run(tmp_path / "r", unit_costs=False)
    summary = pd.read_parquet(path / "segment_summary.parquet")
    summary["margin"] = 0.0  # what a pandas sum of an all-null column gives
    summary.to_parquet(path / "segment_summary.parquet")
    page = ReportPage(render_html(read_run_folder(path)))
    assert set(column(page, "segment_profile", "margin")) == {"unknown"}


def test_workbook_cells_of_unknown_values_are_empty(no_cost: ReportResult) -> None:
    book = load_workbook(no_cost.workbook, read_only=True)
    sheet = book["policies"]
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows))
    i = header.index("inventory_value")
    assert {r[i] for r in rows} == {None}
    readme = [r[0] for r in book["README"].iter_rows(values_only=True)]
    assert any(str(v).startswith("An empty cell is an unknown value") for v in readme)


def test_the_assumptions_banner_lists_the_defaults_and_warnings_come_first(
    page: ReportPage, no_cost: ReportResult
) -> None:
    html = no_cost.html.read_text(encoding="utf-8")
    banner = html[html.index('data-alert="assumptions"') :]
    banner = banner[: banner.index("</div>")]
    for a in ASSUMPTIONS:
        assert (a["setting"] in banner) == (a["source"] == "built-in default"), a
    assert "supplyseg.yaml" in banner
    warnings = html.index('data-alert="warnings"')
    assert warnings < html.index('<nav class="toc">')  # above the sections, not in the notes
    for w in WARNINGS:
        assert w in html[warnings : html.index('<nav class="toc">')]


def test_the_workbook_has_an_assumptions_sheet(no_cost: ReportResult) -> None:
    book = load_workbook(no_cost.workbook, read_only=True)
    assert book.sheetnames[:2] == ["README", "Assumptions"]
    rows = list(book["Assumptions"].iter_rows(values_only=True))
    assert rows[0][:3] == ("setting", "value", "source")
    got = [r[:3] for r in rows[1 : 1 + len(ASSUMPTIONS)]]
    assert got == [(a["setting"], a["value"], a["source"]) for a in ASSUMPTIONS]
    flat = [v for r in rows for v in r if v]
    assert "Warnings (1)" in flat
    assert WARNINGS[0] in flat


def test_the_segments_section_says_why_customers_fell_back_to_rfm(no_cost: ReportResult) -> None:
    html = no_cost.html.read_text(encoding="utf-8")
    assert (
        "Customers are segmented by RFM (recency, frequency, monetary value), not by"
        " cost-to-serve and net margin as configured, because no unit costs: net margins are"
        " unknown." in html
    )
    assert html.index('data-note="segmentation_fallback"') > html.index('id="segments"')


def test_cost_unknown_is_not_claimed_when_some_costs_are_known(run_dir: Path) -> None:
    assert cost_unknown_reason(read_run_folder(run_dir)) is None


def test_footer_totals_every_step_and_says_when_the_report_is_not_in_it(tmp_path: Path) -> None:
    path = write_synthetic_run(tmp_path / "r")
    html = render_html(read_run_folder(path))
    # load 1.5 + demand 0.7 + policy 2.25 + report 4.0; load.order_lines is part of load.
    assert "run time 8.4 s (all steps, report included)" in html
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["timings_seconds"]["report"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    assert "run time 4.5 s before the report" in render_html(read_run_folder(path))


def test_zeros_written_for_unknown_costs_do_not_pass_for_figures(tmp_path: Path) -> None:
    # As the Online Retail run wrote them: make-to-order items at 0, the stocked ones null,
    # the stock-to-service curves summed to 0, notes prefixed with their step.
    path = write_synthetic_run(
        tmp_path / "r",
        unit_costs=False,
        notes=["customer: otif: skipped, order_lines has no delivered_date column"],
    )
    pol = pd.read_parquet(path / "policies.parquet")
    pol.loc[pol["inventory_rule"] == "make_to_order", "inventory_value"] = 0.0
    pol.to_parquet(path / "policies.parquet")
    sts = pd.read_parquet(path / "stock_to_service.parquet")
    sts["inventory_value"] = 0.0
    sts.to_parquet(path / "stock_to_service.parquet")
    metrics = pd.read_parquet(path / "customer_metrics.parquet")
    metrics["otif"] = float("nan")
    metrics.to_parquet(path / "customer_metrics.parquet")
    html = render_html(read_run_folder(path))
    page = ReportPage(html)
    assert page.kpis["inventory"]["text"] == "unknown (no unit cost)"
    assert "items with stock have no inventory value" in page.kpis["inventory"]["detail"]
    for key in ("inventory_by_policy", "inventory_by_segment", "stock_to_service"):
        assert key not in page.charts
        assert "no unit cost" in page.missing[key], key
    # The step's note, found under its step prefix, explains the OTIF bars that are missing.
    assert "OTIF: order_lines has no delivered_date column." in html
