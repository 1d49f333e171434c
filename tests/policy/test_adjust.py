"""A scenario's lead-time change and the planner's lead-time overrides reach the lead times
learned per item-location, as they reach the products table's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from supplyseg.config import workspace_from_dict
from supplyseg.policy.adjust import adjusted_policy_inputs
from supplyseg.policy.overrides import OVERRIDE_COLUMNS, Overrides, read_overrides

DEMAND = pd.DataFrame(
    {"product_id": ["P1", "P1", "P2"], "location_id": ["DC1", "DC2", "DC1"], "mean": 5.0}
)
HISTORY = pd.DataFrame({"unique_id": ["P1@DC1"], "ds": [pd.Timestamp("2025-01-06")], "y": [5.0]})
PRODUCTS = pd.DataFrame({"product_id": ["P1", "P2"], "lead_time_days": [20.0, 30.0]})
ITEMS = pd.DataFrame(
    {
        "product_id": ["P1", "P1", "P2"],
        "location_id": ["DC1", "DC2", "DC1"],
        "lead_time_days": [10.0, 40.0, 30.0],
        "lead_time_std_days": [2.0, 8.0, 3.0],
    }
)


def _inputs(tmp_path: Path, scenario: dict[str, object], overrides: Overrides) -> pd.DataFrame:
    raw = {"data": {"order_lines": {"path": "lines.csv"}}, "scenario": scenario}
    ws = workspace_from_dict(raw, root=tmp_path, origin="test.yaml")
    got = adjusted_policy_inputs(
        ws, overrides, None, DEMAND, None, None, HISTORY, PRODUCTS, ITEMS
    ).item_lead_times
    assert got is not None
    return got.set_index(["product_id", "location_id"])


def test_a_scenarios_lead_time_change_scales_each_location(tmp_path: Path) -> None:
    got = _inputs(tmp_path, {"lead_time_change_pct": {"all": 25}}, Overrides.none())
    assert got["lead_time_days"].tolist() == pytest.approx([12.5, 50.0, 37.5])
    assert got["lead_time_std_days"].tolist() == [2.0, 8.0, 3.0]  # the change moves the mean
    same = _inputs(tmp_path, {}, Overrides.none())
    assert same["lead_time_days"].tolist() == [10.0, 40.0, 30.0]


def test_a_planner_lead_time_override_wins_at_every_location(tmp_path: Path) -> None:
    file = tmp_path / "overrides.csv"
    file.write_text(",".join(OVERRIDE_COLUMNS) + "\nproduct,P1,lead_time_days,63,new source,ann,\n")
    overrides = read_overrides(file, today=date(2026, 1, 1))
    got = _inputs(tmp_path, {"lead_time_change_pct": {"all": 10}}, overrides)
    # P1's locations give way to the override (in the products table); P2 keeps its own.
    assert list(got.index) == [("P2", "DC1")]
    assert got.loc[("P2", "DC1"), "lead_time_days"] == pytest.approx(33.0)
