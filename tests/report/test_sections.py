"""Which blocks appear, why the others are "not computed", and colours agreeing across charts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from html_parts import ReportPage
from synthetic_run import write_synthetic_run

from supplyseg.report import read_run_folder, render_html
from supplyseg.report.blocks import Chart, Missing
from supplyseg.report.sections import report_sections

ALL_CHARTS = {
    "inventory_by_policy", "rejects_by_reason", "pareto", "abc_xyz", "demand_pattern",
    "cost_by_pool", "whale_curve", "cts_margin", "waterfall_best", "waterfall_worst",
    "rfm_map", "otif_dso", "clv", "segment_sizes_cts_margin", "segment_sizes_rfm",
    "segment_sizes_abc_xyz", "migration_", "inventory_by_segment", "stock_to_service",
    "forecast_accuracy", "forecast_fva_segment", "service_replay",
}  # fmt: skip


def _page(path: Path) -> ReportPage:
    return ReportPage(render_html(read_run_folder(path)))


def test_a_complete_run_draws_every_chart_and_misses_nothing(run_dir: Path) -> None:
    page = _page(run_dir)
    assert set(page.charts) == ALL_CHARTS
    assert page.missing == {}


def test_an_absent_table_says_why_from_the_manifest_note(tmp_path: Path) -> None:
    path = write_synthetic_run(
        tmp_path / "r",
        omit={"cost_to_serve_customer", "cts_breakdown"},
        notes=["cost_to_serve: skipped, order_lines has no unit_cost column"],
    )
    page = _page(path)
    assert page.missing["cost_to_serve"] == (
        "Cost-to-serve: not computed because order_lines has no unit_cost column."
    )
    assert not {"whale_curve", "cts_margin", "waterfall_best"} & set(page.charts)


def test_an_absent_table_without_a_note_says_it_was_not_produced(tmp_path: Path) -> None:
    path = write_synthetic_run(
        tmp_path / "r", omit={"forecast_accuracy", "stock_to_service", "segment_migration"}
    )
    page = _page(path)
    assert page.missing == {
        "forecast_accuracy": "Forecast accuracy: not computed because the table was not"
        " produced by this run.",
        "stock_to_service": "Stock-to-service curves: not computed because the table was not"
        " produced by this run.",
        "migration": "Segment migration: not computed because there is no earlier run to"
        " compare with.",
    }


def test_a_run_with_only_the_loader_output_explains_every_section(tmp_path: Path) -> None:
    path = tmp_path / "run"
    path.mkdir()
    manifest = {
        "run_id": "run",
        "tables": {"order_lines": {"read": 3, "loaded": 3, "rejected": 0, "reasons": {}}},
        "notes": ["inventory: not provided; steps that need it are skipped"],
    }
    (path / "manifest.json").write_text(json.dumps(manifest))
    page = _page(path)
    assert page.charts == []
    assert set(page.missing) >= {
        "inventory_by_policy", "rejects", "demand", "cost_to_serve", "customers",
        "segment_profile", "segment_sizes", "migration", "inventory_by_segment",
        "stock_to_service", "forecast_accuracy",
    }  # fmt: skip
    assert page.missing["rejects"].endswith("not computed because no row was rejected.")
    # The loader's note about the missing inventory input explains the policy blocks.
    assert page.missing["inventory_by_segment"].endswith(
        "not computed because no inventory table was provided."
    )
    assert page.kpis["customers"]["text"] == "—"


def test_an_all_empty_column_is_explained_by_its_step_note(tmp_path: Path) -> None:
    path = write_synthetic_run(
        tmp_path / "r",
        notes=[
            "otif: skipped, order_lines has no delivered_date column",
            "dso: skipped, no invoices table",
            "clv: skipped, 3 customer(s) < clv.min_customers = 50",
        ],
    )
    metrics = pd.read_parquet(path / "customer_metrics.parquet")
    metrics[["otif", "dso_days", "clv_12m"]] = float("nan")
    metrics.to_parquet(path / "customer_metrics.parquet")
    page = _page(path)
    assert page.missing["otif_dso"] == (
        "OTIF and DSO by segment: not computed because order_lines has no delivered_date"
        " column; no invoices table."
    )
    assert page.missing["clv"] == (
        "Customer lifetime value: not computed because 3 customer(s) < clv.min_customers = 50."
    )


def _colours(chart: Chart) -> dict[str, str]:
    out: dict[str, str] = {}
    for trace in chart.figure.data:
        colour = trace.marker.color
        if isinstance(colour, str):
            out[trace.name] = colour
        else:
            out |= dict(zip(trace.x, colour, strict=True))
    return out


def test_a_segment_has_the_same_colour_in_every_chart(run_dir: Path) -> None:
    blocks = {b.key: b for s in report_sections(read_run_folder(run_dir)) for b in s.blocks}
    scatter = _colours(blocks["cts_margin"])  # type: ignore[arg-type]
    bars = _colours(blocks["otif_dso"])  # type: ignore[arg-type]
    sizes = _colours(blocks["segment_sizes_cts_margin"])  # type: ignore[arg-type]
    labels = {"protect", "fix cost-to-serve", "re-price or exit"} & set(scatter)
    assert labels
    for label in labels:
        assert scatter[label] == bars[label] == sizes[label], label
    # Within one scheme, segments never share a colour (abc_xyz has 9 segments).
    products = _colours(blocks["segment_sizes_abc_xyz"])  # type: ignore[arg-type]
    real = {k: v for k, v in products.items() if k and not k.startswith("%")}
    assert len(set(real.values())) == len(real) == 9
    assert not isinstance(blocks["cts_margin"], Missing)


def test_unknown_profit_keeps_the_cost_chart_and_names_the_cause(tmp_path: Path) -> None:
    cause = "no order_lines.unit_cost or products.unit_cost: COGS, margins and net profit are"
    path = write_synthetic_run(
        tmp_path / "r",
        notes=[
            "cost_to_serve: pool 'order_handling': no channel column; default rate",
            f"cost_to_serve: {cause} unknown (NaN)",
        ],
    )
    cts = pd.read_parquet(path / "cost_to_serve_customer.parquet")
    cts[["cogs", "gross_margin", "net_profit", "net_margin_pct", "cum_profit_share"]] = None
    cts.to_parquet(path / "cost_to_serve_customer.parquet")
    page = _page(path)
    assert "cost_by_pool" in page.charts
    assert not {"whale_curve", "cts_margin", "waterfall_best"} & set(page.charts)
    assert page.missing["profitability"].endswith(f"not computed because {cause} unknown (NaN).")
    # Some costs are known (stock values), so the card says "unknown" with the step's cause.
    assert page.kpis["unprofitable"]["text"] == "unknown"
    assert page.kpis["unprofitable"]["detail"] == f"unknown because {cause} unknown (NaN)"


def test_otif_is_one_figure_in_the_chart_and_the_table(run_dir: Path) -> None:
    run = read_run_folder(run_dir)
    blocks = {b.key: b for s in report_sections(run) for b in s.blocks}
    chart = blocks["otif_dso"]
    assert isinstance(chart, Chart)
    bars = dict(zip(chart.figure.data[0].x, chart.figure.data[0].y, strict=True))
    # Oracle: the segment's OTIF lines over its due lines, from customer_metrics alone.
    metrics = pd.read_parquet(run_dir / "customer_metrics.parquet")
    seg = pd.read_parquet(run_dir / "segments_customer.parquet")
    seg = seg[seg["scheme"] == "cts_margin"].merge(metrics, on="customer_id")
    seg["otif_lines"] = seg["otif"] * seg["lines_due"]
    sums = seg.groupby("segment")[["otif_lines", "lines_due"]].sum()
    expected = 100 * sums["otif_lines"] / sums["lines_due"]
    for segment, value in expected.items():
        assert bars[segment] == pytest.approx(value), segment
    page = ReportPage(render_html(run))
    rows = [r for r in page.tables["segment_profile"] if r and r[0] == "cts_margin"]
    otif = page.headers["segment_profile"].index("otif")
    assert {r[1]: r[otif] for r in rows} == {s: f"{v:.1f} %" for s, v in expected.items()}
    assert "early counts as on time" in chart.caption


def test_a_partly_unknown_inventory_value_is_summed_over_the_known_items(run_dir: Path) -> None:
    pol = pd.read_parquet(run_dir / "policies.parquet")
    pol.loc[pol.index[:5], "inventory_value"] = None
    pol.to_parquet(run_dir / "policies.parquet")
    page = ReportPage(render_html(read_run_folder(run_dir)))
    card = page.kpis["inventory"]
    assert float(card["value"]) == pytest.approx(pol["inventory_value"].sum())
    assert "5 items without a unit cost are not included" in card["detail"]
