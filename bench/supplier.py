"""Benchmark the supplier analytics on a million purchase-order lines against naive pandas.

Times, on DuckDB through Ibis: `lead_times` (supplier x product x location with fallbacks),
`product_lead_times`, `supplier_metrics` with Kraljic `supplier_segments`, and `landed_cost`
of every sourcing option (the target: all of it in <= 10 s for 1M lines). The naive baseline
is what a notebook does with the same pandas frame: groupby-apply per supplier x product x
location for the lead-time statistics and a groupby-apply per supplier for the metrics; it is
measured in the same run and its lead-time means are checked against ours.

    .venv/bin/python bench/supplier.py                    # 1,000,000 lines, 20,000 products
    .venv/bin/python bench/supplier.py --lines 100_000 --products 2_000
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from supplyseg.analytics.landed_cost import landed_cost
from supplyseg.analytics.lead_times import current_suppliers, lead_times, product_lead_times
from supplyseg.analytics.supplier import supplier_metrics
from supplyseg.config.supplier import SupplierSettings
from supplyseg.data.synth import synth_company
from supplyseg.engine import connect
from supplyseg.segment.suppliers import supplier_segments


def _naive(po: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-group Python functions, as written without thinking about speed."""

    def stats(g: pd.DataFrame) -> pd.Series:
        days = (g["receipt_date"] - g["order_date"]).dt.days.dropna()
        return pd.Series(
            {"n": len(days), "mean": days.mean(), "std": days.std(), "p90": days.quantile(0.9)}
        )

    def metrics(g: pd.DataFrame) -> pd.Series:
        judged = g.dropna(subset=["receipt_date", "promised_date", "received_quantity"])
        hit = (judged["receipt_date"] <= judged["promised_date"]) & (
            judged["received_quantity"] >= judged["quantity"]
        )
        return pd.Series(
            {
                "spend": (g["quantity"] * g["unit_price"]).sum(),
                "lines": len(g),
                "otif": hit.mean(),
                "lt_mean": (g["receipt_date"] - g["order_date"]).dt.days.mean(),
            }
        )

    keys = ["supplier_id", "product_id", "location_id"]
    lt = po.groupby(keys)[["order_date", "receipt_date"]].apply(stats)
    sm = po.groupby("supplier_id")[list(po.columns)].apply(metrics)
    return lt, sm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    number = lambda s: int(s.replace("_", ""))  # noqa: E731
    parser.add_argument("--lines", type=number, default=1_000_000)
    parser.add_argument("--products", type=number, default=20_000)
    parser.add_argument("--suppliers", type=number, default=400)
    args = parser.parse_args()

    started = time.perf_counter()
    c = synth_company(
        customers=100, products=args.products, lines=1_000, suppliers=args.suppliers,
        po_lines=args.lines, seed=0,
    )  # fmt: skip
    assert c.purchase_orders is not None
    assert c.sourcing_options is not None
    po, options = c.purchase_orders, c.sourcing_options
    print(
        f"data: {len(po):,} PO lines, {po['product_id'].nunique():,} products,"
        f" {po['supplier_id'].nunique():,} suppliers, {len(options):,} sourcing options"
        f" ({time.perf_counter() - started:.1f} s to generate)"
    )
    con = connect()
    table = con.create_table("purchase_orders", po)
    rng = np.random.default_rng(0)
    demand = pd.DataFrame(
        {
            "product_id": c.products["product_id"].to_numpy(dtype=object),
            "demand_per_day": rng.gamma(1.5, 5.0, len(c.products)),
        }
    ).assign(demand_std_per_day=lambda f: f["demand_per_day"] * rng.uniform(0.3, 1.5, len(f)))

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    lt = lead_times(table)
    timings["lead_times"] = time.perf_counter() - t0
    t = time.perf_counter()
    per_product = product_lead_times(table)
    timings["product_lead_times"] = time.perf_counter() - t
    t = time.perf_counter()
    metrics = supplier_segments(supplier_metrics(table, c.suppliers), SupplierSettings())
    timings["supplier_metrics+segments"] = time.perf_counter() - t
    t = time.perf_counter()
    pair = lead_times(table, by_location=False)
    lc = landed_cost(
        options, demand, holding_rate=0.25, lead_times=pair, current=current_suppliers(table)
    )
    timings["landed_cost"] = time.perf_counter() - t
    ours = time.perf_counter() - t0
    for name, sec in timings.items():
        print(f"  {name:<28} {sec:6.2f} s")
    print(
        f"supplyseg: {ours:.2f} s for {len(po):,} lines (target <= 10 s):"
        f" {len(lt):,} lead-time rows, {len(per_product):,} products, {len(metrics):,}"
        f" suppliers, {len(lc):,} landed-cost options"
    )

    t = time.perf_counter()
    naive_lt, _ = _naive(po)
    naive = time.perf_counter() - t
    print(f"naive pandas groupby-apply (lead times + supplier metrics only): {naive:.2f} s")
    print(f"speed-up: {naive / ours:.1f}x (ours does more: fallbacks, segments, landed cost)")
    mine = lt[lt["source"] == "supplier_product_location"].set_index(
        ["supplier_id", "product_id", "location_id"]
    )
    both = mine.join(naive_lt, how="inner", rsuffix="_naive")
    np.testing.assert_allclose(both["mean_days"], both["mean"], rtol=1e-9)
    print(f"checked: {len(both):,} lead-time means agree with the naive ones")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
