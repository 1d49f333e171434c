"""A fake run folder: every output table with exactly the contract's columns, random but coherent.

Used by the report tests (small) and bench/report.py (100k customers). Revenue agrees between
demand_customer, cost_to_serve_customer and customer_metrics; the manifest's row accounting
agrees with rejects.parquet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import synthetic_trust as trust

POOLS = ("orders", "order_lines", "freight", "receivable_days")
PATTERN_CUTS = (1.32, 0.49)
REASONS = {"bad_date": 7, "missing_required": 4, "negative_quantity": 2, "unknown_customer": 1}


def _classes(values: np.ndarray, cuts: tuple[float, ...], labels: str) -> np.ndarray:
    return np.asarray(list(labels))[np.searchsorted(np.asarray(cuts), values, side="left")]


def demand_profile(rng: np.random.Generator, ids: dict[str, np.ndarray]) -> pd.DataFrame:
    """demand_<grain>: ids, then the profile columns in contract order, ABC-ranked by revenue."""
    n = len(next(iter(ids.values())))
    revenue = rng.lognormal(7.0, 1.6, n).round(2)
    order = np.argsort(-revenue, kind="stable")
    ids = {k: v[order] for k, v in ids.items()}
    revenue = revenue[order]
    n_periods = rng.integers(1, 105, n)
    n_nonzero = np.minimum(n_periods, rng.integers(1, 105, n))
    quantity = rng.integers(1, 5000, n).astype("float64")
    mean = quantity / n_periods
    std = mean * rng.gamma(1.5, 0.5, n)
    adi = n_periods / n_nonzero
    cv2 = rng.lognormal(-1.0, 1.0, n)
    cv2[rng.random(n) < 0.03] = 0.0  # constant order sizes
    pattern = np.where(
        adi < PATTERN_CUTS[0],
        np.where(cv2 < PATTERN_CUTS[1], "smooth", "erratic"),
        np.where(cv2 < PATTERN_CUTS[1], "intermittent", "lumpy"),
    ).astype(object)
    short = n_nonzero < 2
    pattern[short] = "insufficient_history"
    adi = np.where(n_nonzero > 0, adi, np.nan)
    cv2 = np.where(short, np.nan, cv2)
    share = revenue / revenue.sum()
    cum = np.cumsum(share)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    frame = pd.DataFrame(
        {
            **ids,
            "revenue": revenue,
            "margin": (revenue * rng.uniform(0.2, 0.45, n)).round(2),
            "quantity": quantity,
            "order_lines": rng.integers(1, 400, n),
            "orders": rng.integers(1, 200, n),
            "first_period": start.date,
            "last_period": (start + pd.to_timedelta(n_periods * 7, unit="D")).date,
            "n_periods": n_periods,
            "n_nonzero": n_nonzero,
            "mean": mean,
            "std": std,
            "cv": std / mean,
            "xyz_class": _classes(std / mean, (0.5, 1.0), "XYZ"),
            "adi": adi,
            "cv2": cv2,
            "pattern": pattern,
            "share": share,
            "cum_share": cum,
            "rank": np.arange(1, n + 1),
            "abc_class": _classes(cum - share, (0.8, 0.95), "ABC"),
        }
    )
    return frame


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.asarray([f"{prefix}{i:06d}" for i in range(n)], dtype=object)


def cost_to_serve(rng: np.random.Generator, customers: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """cost_to_serve_customer and cts_breakdown for the demand_customer revenue."""
    n = len(customers)
    rev = customers["revenue"].to_numpy()
    cts = pd.DataFrame({"customer_id": customers["customer_id"].to_numpy(), "revenue": rev})
    cts["cogs"] = (rev * rng.uniform(0.55, 0.75, n)).round(2)
    cts["gross_margin"] = cts["revenue"] - cts["cogs"]
    # Activity grows with revenue, with a wide spread in order size: small orderers lose money.
    orders = np.ceil(rev / rng.lognormal(6.0, 0.8, n))
    drivers = {
        "orders": ("orders", orders, 12.0),
        "order_lines": ("lines", np.ceil(orders * rng.uniform(1, 6, n)), 1.5),
        "freight": ("weight_kg", rev * rng.uniform(0.02, 0.2, n), 0.4),
        "receivable_days": ("receivable_days", rev * rng.uniform(10, 70, n), 0.08 / 365),
    }
    breakdown = []
    for pool, (driver, qty, rate) in drivers.items():
        cts[pool] = (qty * rate).round(2)
        breakdown.append(
            pd.DataFrame(
                {
                    "customer_id": cts["customer_id"],
                    "pool": pool,
                    "driver": driver,
                    "driver_quantity": qty,
                    "rate": rate,
                    "cost": cts[pool],
                }
            )
        )
    cts["cts_total"] = cts[list(POOLS)].sum(axis=1)
    cts["net_profit"] = cts["gross_margin"] - cts["cts_total"]
    positive = cts["revenue"].where(cts["revenue"] > 0)
    cts["cts_pct_revenue"] = 100.0 * cts["cts_total"] / positive
    cts["net_margin_pct"] = 100.0 * cts["net_profit"] / positive
    cts = cts.sort_values(["net_profit", "customer_id"], ascending=[False, True]).reset_index(
        drop=True
    )
    cts["profit_rank"] = np.arange(1, n + 1)
    cts["cum_profit_share"] = cts["net_profit"].cumsum() / cts["net_profit"].sum()
    return cts, pd.concat(breakdown, ignore_index=True)


def customer_metrics(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    n = len(customers)
    end = pd.Timestamp("2024-12-31")
    last = end - pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    freq = rng.integers(1, 40, n)
    monetary = customers["revenue"].to_numpy()
    r, f, m = (rng.integers(1, 6, n) for _ in range(3))
    seg = np.where((r >= 4) & (f >= 4), "champions", np.where(r <= 2, "at risk", "loyal")).astype(
        object
    )
    otif = rng.beta(8, 2, n)
    online = rng.uniform(0, 1, n)
    p_alive = rng.uniform(0.05, 1.0, n)
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "first_order": (last - pd.to_timedelta(rng.integers(0, 700, n), unit="D")).date,
            "last_order": last.date,
            "recency_days": (end - last).days.to_numpy(),
            "frequency": freq,
            "monetary": monetary,
            "aov": monetary / freq,
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_segment": seg,
            "repeat_customer": freq > 1,
            "interpurchase_days_median": np.where(freq > 1, rng.gamma(2.0, 20.0, n), np.nan),
            "churn_risk": 1 - p_alive,
            "churned": p_alive < 0.2,
            "otif": otif,
            "on_time": np.minimum(1.0, otif + 0.05),
            "in_full": np.minimum(1.0, otif + 0.03),
            "lines_delivered": rng.integers(1, 300, n),
            "lines_due": rng.integers(1, 300, n),
            "dso_days": rng.gamma(6.0, 7.0, n),
            "channel_share_online": online,
            "channel_share_retail": 1 - online,
            "clv_12m": rng.lognormal(5.0, 1.2, n),
            "p_alive": p_alive,
            "expected_purchases_12m": rng.gamma(2.0, 2.0, n),
            "expected_avg_value": rng.lognormal(4.0, 0.6, n),
        }
    )


def _segments(ids: pd.Series, id_col: str, scheme: str, labels: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            id_col: ids.to_numpy(),
            "scheme": scheme,
            "segment": labels,
            "rule": [f"{scheme}: {s}" for s in labels],
            "explanation": [f"in {s} by the {scheme} rules" for s in labels],
        }
    )


def write_synthetic_run(
    path: Path,
    *,
    n_customers: int = 150,
    n_products: int = 60,
    seed: int = 7,
    omit: Iterable[str] = (),
    notes: Iterable[str] = (),
    unit_costs: bool = True,
    legacy: bool = False,
) -> Path:
    """Write a complete fake run folder at ``path`` (minus the ``omit`` tables); returns it.

    ``unit_costs=False`` writes the run of data without unit costs: every cost-derived column
    (margin, COGS, net profit, inventory and stock values, CLV) is null and customers fall back
    to RFM segments. ``legacy=True`` writes the folder as runs did before the assumptions,
    simulation, lifecycle and FVA outputs existed.
    """
    rng = np.random.default_rng(seed)
    omit = set(omit)
    path.mkdir(parents=True, exist_ok=True)
    tables: dict[str, pd.DataFrame] = {}
    customers = _ids("C", n_customers)
    products = _ids("P", n_products)
    locations = np.asarray(["DC1", "DC2", "DC3"], dtype=object)
    tables["demand_product"] = demand_profile(rng, {"product_id": products})
    pl = np.repeat(products, 2), np.tile(locations[:2], n_products)
    tables["demand_product_location"] = demand_profile(
        rng, {"product_id": pl[0], "location_id": pl[1]}
    )
    tables["demand_customer"] = demand_profile(rng, {"customer_id": customers})
    pick = rng.integers(0, n_products, n_customers * 3)
    cp = pd.DataFrame({"customer_id": np.repeat(customers, 3), "product_id": products[pick]})
    cp = cp.drop_duplicates()
    tables["demand_customer_product"] = demand_profile(
        rng,
        {"customer_id": cp["customer_id"].to_numpy(), "product_id": cp["product_id"].to_numpy()},
    )
    dc = tables["demand_customer"]
    cts, breakdown = cost_to_serve(rng, dc)
    tables["cost_to_serve_customer"], tables["cts_breakdown"] = cts, breakdown
    tables["customer_metrics"] = customer_metrics(rng, dc)

    cm = cts.set_index("customer_id")
    cts_seg = np.where(
        cm["cts_pct_revenue"] < 10,
        np.where(cm["net_margin_pct"] >= 15, "protect", "grow"),
        np.where(cm["net_margin_pct"] >= 15, "fix cost-to-serve", "re-price or exit"),
    )
    rfm = tables["customer_metrics"]
    tables["segments_customer"] = pd.concat(
        [
            _segments(pd.Series(cm.index), "customer_id", "cts_margin", cts_seg),
            _segments(rfm["customer_id"], "customer_id", "rfm", rfm["rfm_segment"].to_numpy()),
        ],
        ignore_index=True,
    )
    dp = tables["demand_product"]
    abc_xyz = (dp["abc_class"] + dp["xyz_class"]).to_numpy()
    tables["segments_product"] = _segments(dp["product_id"], "product_id", "abc_xyz", abc_xyz)
    summary = (
        tables["segments_customer"]
        .merge(cts[["customer_id", "revenue", "gross_margin", "cts_total"]], on="customer_id")
        .groupby(["scheme", "segment"], as_index=False)
        .agg(
            entities=("customer_id", "size"),
            revenue=("revenue", "sum"),
            margin=("gross_margin", "sum"),
            cts=("cts_total", "sum"),
        )
    )
    summary["entity_share"] = summary["entities"] / summary.groupby("scheme")["entities"].transform(
        "sum"
    )
    summary["revenue_share"] = summary["revenue"] / summary.groupby("scheme")["revenue"].transform(
        "sum"
    )
    summary["cts_pct"] = 100 * summary.pop("cts") / summary["revenue"]
    summary["otif"] = rng.uniform(0.8, 0.99, len(summary))
    tables["segment_summary"] = summary[
        [
            "scheme",
            "segment",
            "entities",
            "entity_share",
            "revenue_share",
            "margin",
            "cts_pct",
            "otif",
        ]
    ]
    labels = np.unique(cts_seg)
    frm = np.asarray([*labels, "(new)"], dtype=object)
    to = np.asarray([*labels, "(gone)"], dtype=object)
    mig = pd.DataFrame(
        [(a, b) for a in frm for b in to if not (a == "(new)" and b == "(gone)")],
        columns=["from", "to"],
    )
    mig["entities"] = rng.integers(1, max(2, n_customers // 10), len(mig))
    mig["revenue"] = mig["entities"] * rng.uniform(500, 3000, len(mig))
    tables["segment_migration"] = mig

    pol = tables["demand_product_location"][["product_id", "location_id"]].copy()
    seg_of = dict(zip(dp["product_id"], abc_xyz, strict=True))
    pol["product_segment"] = pol["product_id"].map(seg_of)
    pol["service_type"] = np.where(
        pol["product_segment"].str.startswith("A"), "fill_rate", "cycle_service"
    )
    target = {"A": 0.98, "B": 0.95, "C": 0.90}
    pol["service_target"] = pol["product_segment"].str[0].map(target)
    pol["safety_stock"] = rng.gamma(2.0, 30.0, len(pol)).round(1)
    pol["reorder_point"] = pol["safety_stock"] + rng.gamma(2.0, 50.0, len(pol)).round(1)
    pol["inventory_value"] = (pol["safety_stock"] * rng.uniform(5, 40, len(pol))).round(2)
    if not legacy:
        pol = trust.with_policy_trust(rng, pol)
        sim = trust.policy_simulation(rng, pol)
        pol = trust.mark_target_met(pol, sim)
        tables["policy_simulation"] = sim
        tables["obsolete_stock"] = trust.obsolete_stock(rng, pol)
        tables["demand_cleansing"] = trust.demand_cleansing(rng, pol)
    tables["policies"] = pol
    grid = np.asarray([0.80, 0.85, 0.90, 0.95, 0.97, 0.98, 0.99, 0.995])
    z = np.asarray([0.84, 1.04, 1.28, 1.64, 1.88, 2.05, 2.33, 2.58])
    tables["stock_to_service"] = pd.concat(
        [
            pd.DataFrame(
                {
                    "segment": s,
                    "service_target": grid,
                    "inventory_value": z
                    * pol.loc[pol["product_segment"] == s, "inventory_value"].sum()
                    / 1.64,
                }
            )
            for s in sorted(pol["product_segment"].unique())
        ],
        ignore_index=True,
    )
    if legacy:
        acc = pd.DataFrame({"pattern": ["smooth", "erratic", "intermittent", "lumpy"]})
        acc["baseline_mae"] = [4.0, 9.0, 2.5, 6.0]
        acc["mae"] = acc["baseline_mae"] * np.asarray([0.7, 0.9, 0.95, 1.1])
        acc["rmse"] = acc["mae"] * 1.3
        acc["bias"] = [0.2, -0.5, 0.1, 0.8]
        acc["mase"] = acc["mae"] / 3.0
        acc["relative_mae"] = acc["mae"] / acc["baseline_mae"]
        tables["forecast_accuracy"] = acc[
            ["pattern", "mae", "rmse", "bias", "mase", "baseline_mae", "relative_mae"]
        ]
    else:
        segments = sorted(dp["abc_class"].unique())
        tables["forecast_accuracy"] = trust.forecast_accuracy(rng, segments)
    if not unit_costs:
        trust.drop_unit_costs(tables)

    rejects = []
    row = 10
    for code, n in REASONS.items():
        for i in range(n):
            row += 3
            value = {
                "bad_date": "2024-13-07",
                "missing_required": "",
                "negative_quantity": "-4",
                "unknown_customer": '=HYPERLINK("http://x")',
            }[code]
            rejects.append(
                (
                    "order_lines",
                    row,
                    code,
                    "order_date",
                    value + ("\x07" if i == 0 else ""),
                    f"{code} on row {row}; fix the source",
                )
            )
    tables["rejects"] = pd.DataFrame(
        rejects, columns=["table", "row_number", "reason_code", "field", "value", "message"]
    )
    for name, frame in tables.items():
        if name not in omit:
            frame.to_parquet(path / f"{name}.parquet", index=False)
    read = 5_000
    rejected = sum(REASONS.values())
    manifest = {
        "run_id": path.name,
        "workspace": "synthetic workspace",
        "created": "2025-01-02T03:04:05+00:00",
        "supplyseg_version": "0.1.0",
        "config_hash": "abc123def4567890",
        "tables": {
            "order_lines": {
                "source": "/data/lines.csv",
                "read": read,
                "loaded": read - rejected,
                "rejected": rejected,
                "reasons": dict(REASONS),
            },
            "customers": {
                "source": "/data/customers.csv",
                "read": n_customers,
                "loaded": n_customers,
                "rejected": 0,
                "reasons": {},
            },
        },
        "rows": {
            "read": read + n_customers,
            "loaded": read + n_customers - rejected,
            "rejected": rejected,
        },
        "timings_seconds": {"load": 1.5, "load.order_lines": 1.2, "demand": 0.7},
        "outputs": sorted(f"{n}.parquet" for n in tables if n not in omit),
        "notes": [
            "products: not provided; steps that need it are skipped",
            *([] if unit_costs else [trust.NO_COST_NOTE]),
            *notes,
        ],
    }
    if not legacy:
        manifest["timings_seconds"] |= {"policy": 2.25, "report": 4.0}
        manifest["assumptions"] = trust.ASSUMPTIONS
        manifest["warnings"] = trust.WARNINGS
        manifest["segmentation"] = trust.segmentation(unit_costs)
        manifest["summaries"] = {
            "simulation": trust.simulation_summary(tables["policy_simulation"]),
            "policy": trust.policy_summary(tables["policies"], tables["obsolete_stock"]),
        }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path
