"""Scenario runs and their comparison: a service change moves only its segment's safety stock,
by the normal kernel's z ratio; less demand, less inventory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from supplyseg import compare_scenarios
from supplyseg.commands.scenario import scenario_notes
from supplyseg.config import load_workspace
from supplyseg.errors import ConfigError
from supplyseg.scenario.compare import COMPARISON_COLUMNS, METRICS, latest_scenario_run
from supplyseg.scenario.page import delta_text, write_comparison

from .workspaces import small_workspace

SEGMENT, BEFORE, AFTER = "BX", 0.96, 0.98  # the built-in abc_xyz target of BX, +2 points


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    ws = small_workspace(tmp_path_factory.mktemp("scen"))
    (ws / "scenarios").mkdir()
    (ws / "scenarios" / "service.yaml").write_text(
        f"policies:\n  product:\n    {SEGMENT}: {{service_target: {AFTER}}}\n"
    )
    (ws / "scenarios" / "low_demand.yaml").write_text(
        "scenario:\n  description: demand down a fifth\n  demand_change_pct: {all: -20}\n"
    )
    return ws, compare_scenarios(ws, "base", ["service", "low_demand"])


def _policies(ws: Path, name: str | None) -> pd.DataFrame:
    marker = ws / "out" / ("latest" if name is None else f"latest-scenario-{name}")
    folder = ws / "out" / marker.read_text().strip()
    return pd.read_parquet(folder / "policies.parquet")


def test_the_table_has_every_metric_for_every_scenario(
    compared: tuple[Path, pd.DataFrame],
) -> None:
    _, table = compared
    assert tuple(table.columns) == COMPARISON_COLUMNS
    whole = table[table["segment"] == "all"]
    for name in ("base", "service", "low_demand"):
        assert set(whole.loc[whole["scenario"] == name, "metric"]) == set(METRICS)
    base = table[table["scenario"] == "base"]
    assert (base["delta"].fillna(0) == 0).all()


def test_two_points_more_service_raises_only_that_segments_safety_stock(
    compared: tuple[Path, pd.DataFrame],
) -> None:
    ws, table = compared
    base, svc = _policies(ws, None), _policies(ws, "service")
    keys = ["product_id", "location_id"]
    both = base.merge(svc, on=keys, suffixes=("_b", "_s"))
    assert len(both) == len(base) == len(svc)
    mine = both["product_segment_b"] == SEGMENT
    others = both[~mine]
    np.testing.assert_array_equal(others["safety_stock_b"], others["safety_stock_s"])
    # Normal lead-time demand with a cycle target: SS = z(target) * sigma (Silver, Pyke &
    # Peterson 1998, eq. 7.5), so the new safety stock is the old times z(0.98) / z(0.96).
    normal = both[mine & (both["distribution_b"] == "normal") & (both["service_type_b"] == "cycle")]
    assert len(normal) >= 3
    ratio = norm.ppf(AFTER) / norm.ppf(BEFORE)
    np.testing.assert_allclose(
        normal["safety_stock_s"], normal["safety_stock_b"] * ratio, rtol=1e-9
    )
    assert (normal["safety_stock_s"] > normal["safety_stock_b"]).any()
    # The comparison's safety-stock value moves by the same amount, in that segment only.
    rows = table[(table["scenario"] == "service") & (table["metric"] == "safety_stock_value")]
    by_segment = rows.set_index("segment")["delta"]
    extra = ((both["safety_stock_s"] - both["safety_stock_b"]) * both["unit_cost_b"])[mine].sum()
    assert by_segment[SEGMENT] == pytest.approx(extra)
    assert by_segment.drop([SEGMENT, "all"]).abs().max() == 0
    assert by_segment["all"] == pytest.approx(extra)
    # History does not change with a service target: exactly no difference, not float noise
    # that would print as "+0.0%".
    history = table[
        (table["scenario"] == "service") & table["metric"].isin(["cost_to_serve", "net_profit"])
    ]
    assert len(history) > 0
    assert (history["delta"].dropna() == 0).all()


def test_twenty_percent_less_demand_lowers_inventory(compared: tuple[Path, pd.DataFrame]) -> None:
    ws, table = compared
    base, low = _policies(ws, None), _policies(ws, "low_demand")
    np.testing.assert_allclose(low["demand_mean"], base["demand_mean"] * 0.8, rtol=1e-9, atol=1e-6)
    rows = table[(table["scenario"] == "low_demand") & (table["metric"] == "inventory_value")]
    whole = rows.set_index("segment").loc["all"]
    assert whole["delta"] < 0
    assert whole["delta_pct"] < -5


def test_scenario_runs_are_ordinary_runs_that_leave_latest_alone(
    compared: tuple[Path, pd.DataFrame],
) -> None:
    ws, _ = compared
    latest = (ws / "out" / "latest").read_text().strip()
    assert json.loads((ws / "out" / latest / "manifest.json").read_text())["scenario"] is None
    svc = (ws / "out" / "latest-scenario-service").read_text().strip()
    manifest = json.loads((ws / "out" / svc / "manifest.json").read_text())
    assert manifest["scenario"] == "service"
    assert manifest["status"] == "complete"
    # Comparing again reuses the runs made from the same configuration.
    before = sorted(p.name for p in (ws / "out").iterdir())
    again = compare_scenarios(ws, "base", ["service"])
    assert sorted(p.name for p in (ws / "out").iterdir()) == before
    assert len(again) > 0
    # Changing the scenario file makes its run stale.
    (ws / "scenarios" / "service.yaml").write_text("policies: {holding_rate: 0.3}\n")
    from supplyseg.scenario.overlay import load_scenario

    assert latest_scenario_run(load_scenario(ws, "service")) is None
    assert latest_scenario_run(load_workspace(ws)) is not None


def test_the_page_is_self_contained(compared: tuple[Path, pd.DataFrame], tmp_path: Path) -> None:
    _, table = compared
    parquet, page = write_comparison(table, tmp_path / "cmp")
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), table)
    text = page.read_text()
    # Nothing loaded from elsewhere (plotly.js itself names cdn.plot.ly for unused maps).
    assert not re.search(r"<(script|img|iframe)[^>]+src=|<link[^>]+href=|@import|url\(http", text)
    assert "Plotly.newPlot" in text
    assert text.count('class="card"') == len(METRICS)
    assert "grid-template-columns: repeat(2" in text


def test_compare_needs_a_scenario_besides_the_base(compared: tuple[Path, pd.DataFrame]) -> None:
    ws, _ = compared
    with pytest.raises(ConfigError, match="at least one scenario"):
        compare_scenarios(ws, "base", ["base"])


def test_delta_text_reads_rates_in_points_and_unknown_as_unknown() -> None:
    assert delta_text("simulated_fill_rate", 0.841 - 0.887, -5.19) == "-4.6 pts"
    assert delta_text("safety_stock_value", -94878.0, -20.01) == "-20.0%"
    assert delta_text("net_profit", 0.0, 0.0) == "same"
    assert delta_text("net_profit", 500.0, float("nan")) == "+500"  # base 0: the amount
    assert delta_text("inventory_value", float("nan"), float("nan")) == "unknown"


def test_scenario_notes_keep_what_the_scenario_changed_and_what_matched_nothing() -> None:
    manifest = {
        "notes": [
            "scenario low: demand scaled per item by 0.8..0.8",
            "policy: policies.product: no segment ['A_X'] in this run; templates unused",
            "scenario: lead_time_change_pct.category ['toys']: no such products.category",
            "demand: 12 items",
        ]
    }
    assert scenario_notes(manifest) == manifest["notes"][:3]
