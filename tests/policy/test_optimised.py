"""Optimised targets in the policies table: each scope meets its target at less stock."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from supplyseg.config.optimise import OptimiseSettings
from supplyseg.policy.optimised import optimise_policies


def _policies(n: int = 40, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = rng.uniform(5, 50, n)
    cv = rng.uniform(0.2, 1.0, n)
    q = np.ceil(d * rng.uniform(1, 6, n))
    lead = rng.uniform(1, 4, n)
    sigma = np.sqrt(lead) * d * cv
    ss = stats.norm.ppf(0.95) * sigma
    rule = np.where(np.arange(n) % 10 == 9, "make_to_order", "rop_eoq")
    return pd.DataFrame(
        {
            "product_id": [f"P{i:03d}" for i in range(n)],
            "location_id": None,
            "product_segment": np.where(np.arange(n) % 2 == 0, "AX", "BY"),
            "service_target": np.where(np.arange(n) % 2 == 0, 0.98, 0.95),
            "demand_mean": d,
            "demand_std": d * cv,
            "lead_time": lead,
            "lead_time_std": 0.0,
            "review_period": 0.0,
            "order_quantity": np.where(rule == "rop_eoq", q, np.nan),
            "unit_cost": rng.uniform(1, 100, n),
            "safety_stock": np.where(rule == "rop_eoq", ss, 0.0),
            "reorder_point": np.where(rule == "rop_eoq", d * lead + ss, 0.0),
            "order_up_to": np.nan,
            "expected_fill_rate": np.nan,
            "inventory_value": np.nan,
            "inventory_rule": rule,
            "rationale": pd.Categorical(["template"] * n),
        }
    )


def _weighted_fill(rows: pd.DataFrame) -> float:
    w = rows["demand_mean"] * rows["unit_cost"]
    return float((w * rows["optimised_target"]).sum() / w.sum())


@pytest.mark.parametrize("scope", ["segment", "overall"])
def test_each_scope_meets_its_target_for_less_stock_than_a_uniform_target(scope: str) -> None:
    before = _policies()
    result = optimise_policies(before, OptimiseSettings(enabled=True, scope=scope))
    after = result.policies
    stocked = after["inventory_rule"] == "rop_eoq"
    groups = (
        after[stocked].groupby("product_segment")
        if scope == "segment"
        else [("all", after[stocked])]
    )
    for _, rows in groups:
        w = rows["demand_mean"] * rows["unit_cost"]
        target = float((rows["service_target"] * w).sum() / w.sum())
        assert _weighted_fill(rows) >= target - 1e-6
    assert len(result.summary) == (2 if scope == "segment" else 1)
    for row in result.summary:
        assert row["safety_stock_value"] <= row["uniform_safety_stock_value"] + 1e-6
        assert row["saving_pct"] >= 0
    # The reorder point moves with the safety stock; make-to-order rows are left alone.
    shift = after["reorder_point"] - after["safety_stock"]
    assert np.allclose(shift[stocked], (before["reorder_point"] - before["safety_stock"])[stocked])
    kept = [c for c in before.columns if c != "rationale"]
    pd.testing.assert_frame_equal(
        after.loc[~stocked, kept].reset_index(drop=True),
        before.loc[~stocked, kept].reset_index(drop=True),
    )
    assert (after.loc[~stocked, "rationale"].astype(str) == "template").all()
    assert after.loc[~stocked, "optimised_target"].isna().all()
    assert after.loc[stocked, "rationale"].astype(str).str.contains("optimised").all()


def test_the_frontier_compares_optimised_and_uniform_stock_per_scope() -> None:
    result = optimise_policies(
        _policies(), OptimiseSettings(enabled=True), frontier_targets=(0.9, 0.95, 0.99, 1.0)
    )
    frontier = result.frontier
    assert set(frontier["scope"]) == {"AX", "BY"}
    assert sorted(set(frontier["target"])) == [0.9, 0.95, 0.99]  # 1.0 cannot be reached
    assert (frontier["optimised_ss_value"] <= frontier["uniform_ss_value"] + 1e-6).all()
    for _, part in frontier.groupby("scope"):
        assert part.sort_values("target")["optimised_ss_value"].is_monotonic_increasing
