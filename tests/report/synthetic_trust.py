"""The newer outputs of a fake run: policy replay, lifecycle, obsolete stock, cleansing, FVA,
assumptions and the segmentation fallback, plus the "no unit cost" variant of every table.

Kept apart from synthetic_run.py (which writes the classic tables) so both stay readable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

LIFECYCLES = ("new", "active", "dormant", "obsolete")
DEFAULT, YAML = "built-in default", "supplyseg.yaml"
ASSUMPTIONS = [
    {"setting": "cost_to_serve.pools.order_handling.rate", "value": 12, "source": DEFAULT},
    {"setting": "cost_to_serve.pools.order_lines.rate", "value": 1.5, "source": DEFAULT},
    {"setting": "cost_to_serve.capital_rate", "value": 0.08, "source": YAML},
    {"setting": "policy.lead_time_days", "value": 14, "source": DEFAULT},
    {"setting": "policy.simulation.weeks", "value": 26, "source": DEFAULT},
]
WARNINGS = [
    "policy: 14 items use the default lead time of 14 days; map products.lead_time_days",
]
NO_COST_NOTE = (
    "cost_to_serve: no order_lines.unit_cost or products.unit_cost: COGS, margins and net"
    " profit are unknown (NaN)"
)
# Columns that need a unit cost, per table: null in a run without unit costs.
COST_COLUMNS: dict[str, tuple[str, ...]] = {
    "demand_product": ("margin",),
    "demand_product_location": ("margin",),
    "demand_customer": ("margin",),
    "demand_customer_product": ("margin",),
    "cost_to_serve_customer": (
        "cogs", "gross_margin", "net_profit", "net_margin_pct", "profit_rank", "cum_profit_share",
    ),
    "segment_summary": ("margin",),
    "policies": ("inventory_value", "unit_cost"),
    "stock_to_service": ("inventory_value",),
    "policy_simulation": ("avg_on_hand_value",),
    "obsolete_stock": ("unit_cost", "value"),
}  # fmt: skip


def with_policy_trust(rng: np.random.Generator, pol: pd.DataFrame) -> pd.DataFrame:
    """policies plus ``lifecycle, target_met, demand_source, inventory_rule`` (some no_stock)."""
    n = len(pol)
    out = pol.copy()
    out["lifecycle"] = rng.choice(LIFECYCLES, n, p=[0.1, 0.7, 0.12, 0.08])
    rule = np.where(out["product_segment"].str.endswith("Z"), "make_to_order", "rop_eoq")
    rule = rule.astype(object)
    rule[(out["lifecycle"] == "obsolete").to_numpy()] = "no_stock"
    out["inventory_rule"] = rule
    out["demand_source"] = np.where(rng.random(n) < 0.8, "forecast", "history")
    return out


def policy_simulation(rng: np.random.Generator, pol: pd.DataFrame) -> pd.DataFrame:
    """One replayed row per stocked item; C items fall a few points short of their target."""
    stocked = pol[pol["inventory_rule"] != "no_stock"].reset_index(drop=True)
    n = len(stocked)
    target = stocked["service_target"].to_numpy(dtype="float64")
    short = np.where(stocked["product_segment"].str.startswith("C"), 0.05, -0.005)
    achieved = np.clip(target - short + rng.normal(0, 0.01, n), 0, 1)
    on_hand = rng.gamma(2.0, 40.0, n)
    return pd.DataFrame(
        {
            "unique_id": stocked["product_id"] + "|" + stocked["location_id"],
            "product_id": stocked["product_id"],
            "location_id": stocked["location_id"],
            "product_segment": stocked["product_segment"],
            "service_type": stocked["service_type"],
            "service_target": target,
            "achieved_fill_rate": achieved,
            "achieved_cycle_service": np.clip(achieved - 0.02, 0, 1),
            "avg_on_hand": on_hand,
            "avg_on_hand_value": on_hand * rng.uniform(5, 40, n),
            "stockout_buckets": rng.integers(0, 4, n),
            "orders": rng.integers(1, 30, n),
            "demand": rng.gamma(2.0, 200.0, n),
        }
    )


def _weighted(g: pd.DataFrame, col: str) -> float:
    w = g["demand"].to_numpy(dtype="float64")
    v = g[col].to_numpy(dtype="float64")
    ok = np.isfinite(v)
    return float(np.average(v[ok], weights=w[ok])) if ok.any() and w[ok].sum() > 0 else np.nan


def simulation_summary(sim: pd.DataFrame) -> list[dict[str, Any]]:
    """``summaries.simulation``: demand-weighted rows per product_segment and service_type."""
    rows = []
    for (segment, stype), g in sim.groupby(["product_segment", "service_type"], sort=True):
        value = g["avg_on_hand_value"].sum(min_count=1)
        rows.append(
            {
                "product_segment": segment,
                "service_type": stype,
                "items": len(g),
                "target": _weighted(g, "service_target"),
                "achieved_fill_rate": _weighted(g, "achieved_fill_rate"),
                "achieved_cycle_service": _weighted(g, "achieved_cycle_service"),
                "avg_on_hand_value": None if pd.isna(value) else float(value),
            }
        )
    return rows


def mark_target_met(pol: pd.DataFrame, sim: pd.DataFrame) -> pd.DataFrame:
    achieved = np.where(
        sim["service_type"] == "fill_rate", sim["achieved_fill_rate"], sim["achieved_cycle_service"]
    )
    met = pd.Series(achieved >= sim["service_target"].to_numpy() - 1e-9, index=sim["unique_id"])
    key = pol["product_id"] + "|" + pol["location_id"]
    # Items without stock (no_stock) have no replay: their target is not at stake.
    return pol.assign(target_met=~key.isin(met.index[~met]).to_numpy())


def obsolete_stock(rng: np.random.Generator, pol: pd.DataFrame) -> pd.DataFrame:
    old = pol[pol["lifecycle"] == "obsolete"]
    n = len(old)
    on_hand = rng.integers(1, 400, n).astype("float64")
    cost = rng.uniform(2, 30, n)
    return pd.DataFrame(
        {
            "product_id": old["product_id"].to_numpy(),
            "location_id": old["location_id"].to_numpy(),
            "last_demand_date": pd.Timestamp("2023-06-01")
            + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
            "on_hand": on_hand,
            "unit_cost": cost,
            "value": on_hand * cost,
        }
    )


def demand_cleansing(
    rng: np.random.Generator, pol: pd.DataFrame, periods: int = 20
) -> pd.DataFrame:
    ids = (pol["product_id"] + "|" + pol["location_id"]).to_numpy()
    uid = np.repeat(ids, periods)
    ds = np.tile(pd.date_range("2024-01-01", periods=periods, freq="W-MON"), len(ids))
    y = rng.gamma(1.5, 20.0, len(uid)).round()
    clean = y.copy()
    rule = np.full(len(uid), None, dtype=object)
    spikes = rng.random(len(uid)) < 0.02
    clean[spikes] = np.round(y[spikes] / 3)
    rule[spikes] = "outlier_cap"
    stockouts = ~spikes & (rng.random(len(uid)) < 0.01)
    clean[stockouts] = y[stockouts] + 10
    rule[stockouts] = "stockout_fill"
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y, "y_clean": clean, "rule": rule})


def forecast_accuracy(rng: np.random.Generator, segments: list[str]) -> pd.DataFrame:
    """Per pattern and per (pattern, segment): series, MAE, baseline MAE, FVA; the series
    without enough history in a row of their own (not scored)."""
    rows = []
    fva_of = {"smooth": 0.3, "erratic": 0.12, "intermittent": 0.05, "lumpy": -0.1}
    for pattern, fva in fva_of.items():
        for segment in [None, *segments]:
            series = int(rng.integers(3, 40))
            base = float(rng.uniform(2, 9))
            f = fva + (0 if segment is None else float(rng.normal(0, 0.05)))
            rows.append(
                {
                    "pattern": pattern,
                    "segment": segment,
                    "series": series,
                    "mae": base * (1 - f),
                    "baseline_mae": base,
                    "fva": f,
                    "share_beating_baseline": float(np.clip(0.5 + f, 0, 1)),
                    "scored": True,
                }
            )
    rows.append(
        {
            "pattern": "insufficient_history",
            "segment": None,
            "series": 17,
            "mae": np.nan,
            "baseline_mae": np.nan,
            "fva": np.nan,
            "share_beating_baseline": np.nan,
            "scored": False,
        }
    )
    return pd.DataFrame(rows)


def policy_summary(pol: pd.DataFrame, obsolete: pd.DataFrame) -> dict[str, Any]:
    value = obsolete["value"].sum(min_count=1)
    return {
        "items": len(pol),
        "make_to_order_share": float((pol["inventory_rule"] == "make_to_order").mean()),
        "no_stock_items": int((pol["inventory_rule"] == "no_stock").sum()),
        "target_not_met": int((~pol["target_met"]).sum()),
        "obsolete_stock_value": None if pd.isna(value) else float(value),
    }


def segmentation(unit_costs: bool) -> dict[str, Any]:
    """``manifest["segmentation"]`` as the pipeline writes it (per entity)."""
    product = {"requested": "abc_xyz", "used": "abc_xyz", "fallback": False, "reason": None}
    if unit_costs:
        customer = {"requested": "cts_margin", "used": "cts_margin", "fallback": False}
        return {"customer": {**customer, "reason": None}, "product": product}
    customer = {
        "requested": "cts_margin",
        "used": "rfm",
        "fallback": True,
        "reason": "no unit costs: net margins are unknown",
    }
    return {"customer": customer, "product": product}


def drop_unit_costs(tables: dict[str, pd.DataFrame]) -> None:
    """Null every cost-derived column and the cts_margin scheme (it needs net margin)."""
    for name, columns in COST_COLUMNS.items():
        if name in tables:
            frame = tables[name].copy()
            for c in columns:
                if c in frame.columns:
                    frame[c] = pd.Series(np.nan, index=frame.index, dtype="float64")
            tables[name] = frame
    for name in ("segments_customer", "segment_summary"):
        frame = tables[name]
        tables[name] = frame[frame["scheme"] != "cts_margin"].reset_index(drop=True)
