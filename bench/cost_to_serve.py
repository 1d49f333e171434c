"""Benchmark cost-to-serve on the engine against a plain pandas implementation, same data.

Target (issue): 10M order lines with shipments, invoices and returns in <= 20 s, peak RSS
<= 6 GB. Data: `supplyseg.data.synth.synth_company` (bad rows dropped, as the loader would),
loaded once into in-memory DuckDB. Both implementations compute the customer, order and
customer × product tables with the default pools; the customer tables must agree.

    .venv/bin/python bench/cost_to_serve.py                     # 10M lines
    .venv/bin/python bench/cost_to_serve.py --lines 1_000_000   # while developing
"""

from __future__ import annotations

import argparse
import gc
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa

from supplyseg.analytics.cost_to_serve import cost_to_serve
from supplyseg.analytics.whale import whale_summary
from supplyseg.config.cost_to_serve import CostToServeSettings
from supplyseg.data.synth import HORIZON_END, synth_company
from supplyseg.engine import connect

TABLES = ("order_lines", "customers", "products", "shipments", "invoices", "returns")


@contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """Sample this process's RSS every 20 ms; yields a dict that gets ``peak_mb``."""
    out = {"peak_mb": 0.0}
    proc, stop = psutil.Process(), threading.Event()

    def sample() -> None:
        while not stop.is_set():
            out["peak_mb"] = max(out["peak_mb"], proc.memory_info().rss / 2**20)
            stop.wait(0.02)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        yield out
    finally:
        stop.set()
        th.join()


def canonical_frames(lines: int, seed: int) -> dict[str, pd.DataFrame]:
    """The synthetic company's tables as the loader hands them over (good rows, dates as dates)."""
    c = synth_company(
        customers=max(200, lines // 500), products=max(100, lines // 500), lines=lines, seed=seed
    )
    ol = c.order_lines
    bad = c.truth_bad_rows
    bad_rows = bad.loc[bad["table"] == "order_lines", "row_number"].to_numpy()
    keep = np.ones(len(ol), bool)
    keep[bad_rows - 1] = False
    ol = ol[keep].reset_index(drop=True)
    ol["is_credit_note"] = ol["order_id"].str.startswith("CN").astype(bool)
    ol["row_number"] = np.flatnonzero(keep) + 1
    frames = {"order_lines": ol, **{t: getattr(c, t) for t in TABLES[1:]}}
    for df in frames.values():
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                df[col] = df[col].dt.date.astype("date32[pyarrow]")
    return frames


def engine_tables(frames: dict[str, pd.DataFrame]) -> dict[str, Any]:
    con = connect()
    return {
        name: con.create_table(name, pa.Table.from_pandas(df, preserve_index=False))
        for name, df in frames.items()
    }


# --- the baseline: the same pools in plain pandas (groupby/merge), default settings -----------
def pandas_cost_to_serve(f: dict[str, pd.DataFrame], as_of: Any) -> dict[str, pd.DataFrame]:
    """Customer, order and customer × product tables with the default pools, in pandas."""
    pools = {p.name: p for p in CostToServeSettings().pools}
    ol, prod = f["order_lines"], f["products"].set_index("product_id")
    sale = ~ol["is_credit_note"]
    weight = ol["quantity"] * ol["product_id"].map(prod["unit_weight"])
    unit_cost = ol["unit_cost"].fillna(ol["product_id"].map(prod["unit_cost"]))
    value = ol["quantity"] * ol["unit_price"]
    lines = pd.DataFrame(
        {
            "order_id": ol["order_id"],
            "customer_id": ol["customer_id"],
            "product_id": ol["product_id"],
            "value": value,
            "pos": value.clip(lower=0),
            "cogs": ol["quantity"] * unit_cost,
            "sale": sale,
            "sale_qty": ol["quantity"].where(sale, 0.0),
            "rush": sale & ol["rush"],
            "w": weight.where(sale, 0.0),
            "w_null": sale & weight.isna(),
            "v": value.where(sale, 0.0),
            "channel": ol["channel"].where(sale).str.lower(),
        }
    )
    g = lines.groupby("order_id", sort=False)
    orders = g.agg(
        customer_id=("customer_id", "first"),
        revenue=("value", "sum"),
        pos=("pos", "sum"),
        cogs=("cogs", "sum"),
        n_sale=("sale", "sum"),
        n_lines=("sale", "size"),
        units=("sale_qty", "sum"),
        rush_n=("rush", "sum"),
        w=("w", "sum"),
        w_null=("w_null", "sum"),
        v=("v", "sum"),
        channel=("channel", "min"),
    )
    ship = (
        f["shipments"]
        .groupby("order_id")
        .agg(n_ship=("shipment_id", "size"), fr=("freight_cost", "sum"))
    )
    orders = orders.join(ship).fillna({"n_ship": 0, "fr": 0.0})
    oh = pools["order_handling"]
    rate_ch = {k.lower(): r for k, r in oh.rate_by_channel.items()}
    orders["order_handling"] = np.where(
        orders["n_sale"] > 0, orders["channel"].map(rate_ch).fillna(oh.rate or 0.0), 0.0
    )
    orders["picking_lines"] = orders["n_sale"] * (pools["picking_lines"].rate or 0.0)
    orders["picking_units"] = orders["units"] * (pools["picking_units"].rate or 0.0)
    orders["packing"] = orders["n_ship"] * (pools["packing"].rate or 0.0)
    orders["freight"] = orders["fr"]
    orders["rush"] = orders["rush_n"] * (pools["rush"].rate or 0.0)
    opools = ["order_handling", "picking_lines", "picking_units", "packing", "freight", "rush"]

    # returns: handling + lost value at unit cost of the (order, product)'s sales lines
    ret = (
        f["returns"]
        .groupby(["order_id", "product_id"])
        .agg(n=("return_id", "size"), q=("quantity", "sum"))
    )
    sl = lines[lines["sale"]].groupby(["order_id", "product_id"])[["sale_qty", "cogs"]].sum()
    ret = ret.join(sl)
    uc = (ret["cogs"] / ret["sale_qty"]).fillna(
        ret.index.get_level_values(1).map(prod["unit_cost"]).to_series(index=ret.index)
    )
    rp = pools["returns"]
    ret["returns"] = ret["n"] * (rp.rate or 0.0) + (ret["q"] * uc).fillna(0.0) * rp.lost_value_share
    ret = ret.reset_index().merge(orders[["customer_id"]], left_on="order_id", right_index=True)

    # customer-level pools
    cust = orders.groupby("customer_id")[["revenue", "cogs", *opools]].sum()
    cust["returns"] = ret.groupby("customer_id")["returns"].sum().reindex(cust.index).fillna(0.0)
    inv = f["invoices"]
    end = pd.to_datetime(inv["paid_date"]).fillna(pd.Timestamp(as_of))
    days = (end - pd.to_datetime(inv["invoice_date"])).dt.days.clip(lower=0)
    credit = (
        (inv["amount"] * days).groupby(inv["customer_id"]).sum()
        * (pools["credit"].rate or 0.0)
        / 365
    )
    cust["credit"] = credit.reindex(cust.index).fillna(0.0)
    first = ol["order_date"].min()
    last = ol["order_date"].max()
    years = ((pd.Timestamp(last) - pd.Timestamp(first)).days + 1) / 365
    cust["account_service"] = years * (pools["account_service"].rate or 0.0)
    names = [*opools, "returns", "credit", "account_service"]
    cust["cts_total"] = cust[names].sum(axis=1)
    cust["net_profit"] = cust["revenue"] - cust["cogs"] - cust["cts_total"]

    # orders: customer-level pools by share of gross sales (positive line values), else lines
    cl = cust[["credit", "account_service"]]
    tot = orders.groupby("customer_id")["pos"].transform("sum")
    n = orders.groupby("customer_id")["n_lines"].transform("sum")
    share = np.where(tot > 0, orders["pos"] / tot.where(tot > 0, 1.0), orders["n_lines"] / n)
    for c in cl.columns:
        orders[c] = orders["customer_id"].map(cl[c]) * share
    orders["returns"] = ret.groupby("order_id")["returns"].sum().reindex(orders.index).fillna(0.0)

    # customer x product: order pools spread over the order's lines
    lo = lines.join(
        orders[[*opools, "n_sale", "n_lines", "units", "rush_n", "w", "w_null", "v"]],
        on="order_id",
        rsuffix="_o",
    )
    in_alloc = lo["sale"] | (lo["n_sale"] == 0)
    alloc_n = lo["n_sale"].where(lo["n_sale"] > 0, lo["n_lines"])
    by_w = (lo["w_null"] == 0) & (lo["w_o"] > 0)
    by_v = ~by_w & (lo["v_o"] > 0)
    fshare = np.where(
        by_w,
        lo["w"] / lo["w_o"].where(by_w, 1.0),
        np.where(by_v, lo["v"] / lo["v_o"].where(by_v, 1.0), in_alloc / alloc_n),
    )
    per_line = pd.DataFrame(
        {
            "customer_id": lo["customer_id"],
            "product_id": lo["product_id"],
            "revenue": lo["value"],
            "pos": lo["pos"],
            "one": 1.0,
            "cogs": lo["cogs"],
            "order_handling": lo["order_handling"] * in_alloc / alloc_n,
            "picking_lines": lo["picking_lines"] * in_alloc / alloc_n,
            "picking_units": (
                lo["picking_units"] * lo["sale_qty"] / lo["units"].where(lo["units"] > 0)
            ).fillna(0.0),
            "packing": lo["packing"] * in_alloc / alloc_n,
            "freight": lo["freight"] * fshare,
            "rush": (lo["rush"] * lo["rush_o"] / lo["rush_n"].where(lo["rush_n"] > 0)).fillna(0.0),
        }
    )
    cp = per_line.groupby(["customer_id", "product_id"], sort=False).sum()
    cp = cp.join(ret.groupby(["customer_id", "product_id"])["returns"].sum(), how="outer").fillna(
        0.0
    )
    cids = cp.index.get_level_values(0)
    tot = cp["pos"].groupby(cids).transform("sum")
    n = cp["one"].groupby(cids).transform("sum")
    share = np.where(tot > 0, cp["pos"] / tot.where(tot > 0, 1.0), cp["one"] / n)
    for c in cl.columns:
        cp[c] = cids.map(cl[c]) * share
    return {"customer": cust, "order": orders, "customer_product": cp}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lines", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline")
    args = ap.parse_args()

    t0 = time.perf_counter()
    frames = canonical_frames(args.lines, args.seed)
    t_synth = time.perf_counter() - t0
    print(
        f"data: {len(frames['order_lines']):,} order lines, {len(frames['shipments']):,} shipments,"
        f" {len(frames['invoices']):,} invoices, {len(frames['returns']):,} returns,"
        f" {len(frames['customers']):,} customers ({t_synth:.1f} s to make)"
    )
    t0 = time.perf_counter()
    tables = engine_tables(frames)
    print(f"load into DuckDB: {time.perf_counter() - t0:.1f} s")
    del frames  # the engine run is measured with the data in DuckDB only
    gc.collect()

    base_mb = psutil.Process().memory_info().rss / 2**20
    with peak_rss() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        res = cost_to_serve(tables, CostToServeSettings(), as_of=HORIZON_END)
        t_engine, c_engine = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"engine (Ibis/DuckDB): {t_engine:.2f} s wall, {c_engine:.2f} s CPU,"
        f" peak RSS {mem['peak_mb']:,.0f} MB"
        f" (+{mem['peak_mb'] - base_mb:,.0f} MB over the loaded data)"
    )
    print(
        f"  rows: customer {len(res.customer):,}, breakdown {len(res.breakdown):,},"
        f" order {len(res.order):,}, customer x product {len(res.customer_product):,}"
    )
    s = whale_summary(res.customer)
    share = s["peak_customer_share_pct"]
    print(
        f"  whale: peak {s['peak_profit_pct']:.0f} % of profit at {share:.0f} %"
        f" of customers; {s['profit_destroying_share_pct']:.0f} % of customers destroy profit"
    )
    for note in res.notes:
        print("  note:", note)
    pools = [p.name for p in CostToServeSettings().pools]
    customer, n_cp = res.customer, len(res.customer_product)
    level_sums = {
        "order": res.order[pools].sum(),
        "customer_product": res.customer_product[pools].sum(),
    }
    del res
    gc.collect()

    if not args.no_pandas:
        frames = {name: t.to_pyarrow().to_pandas() for name, t in tables.items()}
        with peak_rss() as mem:
            t0, c0 = time.perf_counter(), time.process_time()
            ref = pandas_cost_to_serve(frames, HORIZON_END)
            t_pandas, c_pandas = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"pandas baseline: {t_pandas:.2f} s wall, {c_pandas:.2f} s CPU,"
            f" peak RSS {mem['peak_mb']:,.0f} MB"
        )
        print(
            f"ratio pandas / engine: {t_pandas / t_engine:.2f}x wall,"
            f" {c_pandas / c_engine:.2f}x CPU"
            f" (load average {psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} CPUs)"
        )
        got = customer.set_index("customer_id").sort_index()
        want = ref["customer"].sort_index()
        cols = ["revenue", "cogs", "cts_total", "net_profit", "freight", "returns", "credit"]
        err = float(np.max(np.abs(got[cols].to_numpy() - want[cols].to_numpy())))
        print(f"  customer tables agree: max abs difference {err:.2e}")
        assert err < 1e-4 * max(1.0, float(want["revenue"].abs().max()))
        assert len(ref["customer_product"]) == n_cp
        for level, sums in level_sums.items():
            diff = float((ref[level][pools].sum() - sums).abs().max())
            print(f"  {level} table pool totals agree: max abs difference {diff:.2e}")
            assert diff < 1e-6 * max(1.0, float(sums.abs().max()))
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
