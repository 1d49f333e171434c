"""Policy trust: the replay per segment, its sentence, shortfalls, lifecycle, obsolete stock,
cleansing, and forecast value added — against hand-computed cases and plain pandas oracles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from html_parts import ReportPage
from synthetic_run import write_synthetic_run

from supplyseg.report import figures_policy as fp
from supplyseg.report import read_run_folder, render_html, write_report
from supplyseg.report.style import Palette
from supplyseg.report.trust import forecast_value_added, replay_sentence, simulation_by_segment


def _sim_run(path: Path, summary: list[dict[str, object]] | None = None) -> Path:
    """Three replayed items in two segments; hand-checkable demand weights."""
    path.mkdir(parents=True)
    manifest: dict[str, object] = {"run_id": "sim", "notes": []}
    if summary is not None:
        manifest["summaries"] = {"simulation": summary}
    (path / "manifest.json").write_text(json.dumps(manifest))
    pd.DataFrame(
        {
            "unique_id": ["P1|D", "P2|D", "P3|D"],
            "product_id": ["P1", "P2", "P3"],
            "location_id": ["D", "D", "D"],
            "product_segment": ["AX", "AX", "CZ"],
            "service_type": ["fill_rate", "fill_rate", "cycle_service"],
            "service_target": [0.98, 0.98, 0.90],
            "achieved_fill_rate": [0.99, 0.93, 0.95],
            "achieved_cycle_service": [0.97, 0.90, 0.85],
            "avg_on_hand": [10.0, 20.0, 5.0],
            "avg_on_hand_value": [np.nan, np.nan, np.nan],
            "stockout_buckets": [0, 2, 1],
            "orders": [5, 6, 7],
            "demand": [300.0, 100.0, 50.0],
        }
    ).to_parquet(path / "policy_simulation.parquet")
    return path


def test_replay_per_segment_is_demand_weighted_in_the_policys_own_measure(tmp_path: Path) -> None:
    rows = simulation_by_segment(read_run_folder(_sim_run(tmp_path / "r")))
    assert rows is not None
    ax = rows.set_index("product_segment").loc["AX"]
    # Hand: (0.99 * 300 + 0.93 * 100) / 400 = 0.975 fill rate (AX is a fill-rate segment).
    assert ax["achieved"] == pytest.approx(0.975)
    assert ax["items"] == 2
    cz = rows.set_index("product_segment").loc["CZ"]
    assert cz["achieved"] == pytest.approx(0.85)  # cycle service for a cycle-service policy
    assert np.isnan(cz["avg_on_hand_value"])  # unknown stays unknown, not 0


def test_replay_sentence_names_the_largest_miss_first(tmp_path: Path) -> None:
    run = read_run_folder(_sim_run(tmp_path / "r"))
    rows = simulation_by_segment(run)
    assert rows is not None
    text = replay_sentence(run, rows)
    assert text == (
        "Replaying past demand against these policies (3 items), 0 of 2 segment groups reached"
        " their service target; segment CZ reached 85.0 % cycle service against 90.0 %;"
        " segment AX reached 97.5 % fill rate against 98.0 %."
    )


def test_replay_sentence_names_the_window_the_run_replayed(tmp_path: Path) -> None:
    run = read_run_folder(_sim_run(tmp_path / "r"))
    window = {"start": "2011-06-13", "end": "2011-12-09", "days": 180, "buckets": 26}
    run.manifest.setdefault("summaries", {})["simulation_window"] = {**window, "bucket": "week"}
    rows = simulation_by_segment(run)
    assert rows is not None
    assert replay_sentence(run, rows).startswith(
        "Replaying the 180 days from 2011-06-13 to 2011-12-09 against policies computed from"
        " the data before them (3 items), 0 of 2 segment groups reached their service target"
    )


def test_the_manifest_summary_is_used_when_the_run_wrote_it(tmp_path: Path) -> None:
    summary = [
        {"product_segment": "AX", "service_type": "fill_rate", "items": 2, "target": 0.98,
         "achieved_fill_rate": 0.961, "achieved_cycle_service": 0.9, "avg_on_hand_value": 10.0},
    ]  # fmt: skip
    run = read_run_folder(_sim_run(tmp_path / "r", summary))
    rows = simulation_by_segment(run)
    assert rows is not None
    assert replay_sentence(run, rows).endswith(
        "0 of 1 segment groups reached their service target; segment AX reached 96.1 % fill"
        " rate against 98.0 %."
    )


def test_the_replay_chart_marks_met_and_short_segments() -> None:
    rows = pd.DataFrame(
        {
            "label": ["AX", "CZ"], "segment": ["AX", "CZ"], "target_pct": [98.0, 90.0],
            "achieved_pct": [98.5, 85.0], "items": [2, 1], "measure": ["fill rate"] * 2,
        }
    )  # fmt: skip
    fig = fp.service_target_vs_achieved(rows, Palette.build([]))
    traces = {t.name: t for t in fig.data if t.name}
    assert list(traces["achieved: met"].x) == ["AX"]
    assert list(traces["achieved: short"].y) == [85.0]
    assert list(traces["target"].y) == [98.0, 90.0]


def test_fva_per_pattern_leaves_series_without_history_apart() -> None:
    acc = pd.DataFrame(
        {
            "pattern": ["smooth", "lumpy", "insufficient_history"],
            "series": [10, 4, 17],
            "mae": [3.0, 6.0, np.nan],
            "baseline_mae": [4.0, 5.0, np.nan],
            "fva": [0.25, -0.2, np.nan],
            "share_beating_baseline": [0.7, 0.25, np.nan],
            "scored": [True, True, False],
        }
    )
    fva = forecast_value_added(acc)
    assert fva.per_pattern["pattern"].tolist() == ["smooth", "lumpy"]
    assert fva.unscored_series == 17
    # Pooled over series: 1 - (3 * 10 + 6 * 4) / (4 * 10 + 5 * 4) = 1 - 54 / 60 = 0.1.
    assert fva.overall == pytest.approx(0.1)


def test_fva_comes_from_relative_mae_in_older_runs_and_a_huge_ratio_is_cut() -> None:
    acc = pd.DataFrame({"pattern": ["smooth", "lumpy", "all"], "relative_mae": [0.8, 201, 1.5]})
    fva = forecast_value_added(acc)
    assert fva.per_pattern["fva"].tolist() == pytest.approx([0.2, -200.0])
    assert fva.overall == pytest.approx(-0.5)  # the pipeline's "all" row
    fig = fp.fva_by_pattern(fva.per_pattern, Palette.build([]), fva.overall)
    bars = fig.data[0]
    assert list(bars.y) == pytest.approx([20.0, fp.FVA_FLOOR])  # cut at the axis...
    assert list(bars.text) == ["+20 %", "-20000 %"]  # ...the label keeps the value
    assert fig.layout.yaxis.range[0] >= fp.FVA_FLOOR - 5  # smooth's bar stays readable


def test_fva_per_segment_is_pooled_into_patterns_when_no_total_rows() -> None:
    acc = pd.DataFrame(
        {
            "pattern": ["smooth", "smooth"],
            "segment": ["A", "B"],
            "series": [3, 1],
            "mae": [1.0, 4.0],
            "baseline_mae": [2.0, 4.0],
            "fva": [0.5, 0.0],
        }
    )
    fva = forecast_value_added(acc)
    # 1 - (1 * 3 + 4 * 1) / (2 * 3 + 4 * 1) = 1 - 7 / 10
    assert fva.per_pattern["fva"].tolist() == pytest.approx([0.3])
    assert fva.per_segment is not None
    assert len(fva.per_segment) == 2


def test_policy_cards_and_tables_agree_with_the_tables(run_dir: Path) -> None:
    page = ReportPage(render_html(read_run_folder(run_dir)))
    pol = pd.read_parquet(run_dir / "policies.parquet")
    obsolete = pd.read_parquet(run_dir / "obsolete_stock.parquet")
    cleansing = pd.read_parquet(run_dir / "demand_cleansing.parquet")
    missed = int((~pol["target_met"]).sum())
    assert page.kpis["target_not_met"]["text"] == f"{missed:,}"
    assert page.kpis["obsolete_stock"]["text"] == f"{obsolete['on_hand'].sum():,.0f} units"
    assert f"worth {obsolete['value'].sum():,.0f}" in page.kpis["obsolete_stock"]["detail"]
    assert page.kpis["cleansed"]["text"] == f"{cleansing['rule'].notna().sum():,}"
    counts = pol["lifecycle"].value_counts()
    assert f"active {counts['active']:,}" in page.kpis["policy_items"]["detail"]
    assert len(page.tables["target_not_met"]) - 1 == min(15, missed)
    mto = (pol["inventory_rule"] == "make_to_order").mean()
    assert page.kpis["make_to_order"]["text"] == f"{100 * mto:.1f} %"


def test_a_run_from_before_the_replay_still_renders_and_says_what_is_missing(
    tmp_path: Path,
) -> None:
    path = write_synthetic_run(tmp_path / "old", legacy=True)
    page = ReportPage(render_html(read_run_folder(path)))
    assert "forecast_accuracy" in page.charts
    assert "service_replay" not in page.charts
    assert "no policy_simulation.parquet" in page.missing["service_replay"]
    assert "no target_met column" in page.missing["target_not_met"]
    assert not {"policy_items", "target_not_met", "obsolete_stock"} & set(page.kpis)


def test_an_optimised_run_shows_its_frontier_and_saving(tmp_path: Path) -> None:
    path = write_synthetic_run(tmp_path / "r")
    manifest = json.loads((path / "manifest.json").read_text())
    rows = [
        {"scope": "AX", "items": 2, "target_fill_rate": 0.98, "safety_stock_value": 80.0,
         "uniform_safety_stock_value": 100.0, "saving_pct": 20.0, "unit_cost_unknown_items": 0},
        {"scope": "BY", "items": 3, "target_fill_rate": 0.95, "safety_stock_value": 90.0,
         "uniform_safety_stock_value": 100.0, "saving_pct": 10.0, "unit_cost_unknown_items": 1},
    ]  # fmt: skip
    manifest.setdefault("summaries", {})["optimise"] = rows
    (path / "manifest.json").write_text(json.dumps(manifest))
    pd.DataFrame(
        {
            "scope": ["AX", "AX", "BY", "BY"],
            "target": [0.95, 0.98, 0.95, 0.98],
            "optimised_ss_value": [60.0, 80.0, 90.0, 120.0],
            "uniform_ss_value": [70.0, 100.0, 100.0, 140.0],
            "optimised_inventory_value": [160.0, 180.0, 190.0, 220.0],
            "uniform_inventory_value": [170.0, 200.0, 200.0, 240.0],
        }
    ).to_parquet(path / "stock_to_service_frontier.parquet")
    html = write_report(path).html.read_text(encoding="utf-8")
    assert 'data-chart="stock_to_service_frontier"' in html
    assert "Same service for less safety stock: AX 20 %, BY 10 %." in html
    assert "1 item without a unit cost" in html
    # The card pools the scopes: 1 - 170 / 200.
    assert "Same service, less safety stock" in html
    assert "15.0 %" in html
