"""Benchmark customer KPIs: RFM + OTIF on the engine vs plain pandas, and the BG/NBD fit.

Targets (issue): 1M customers' RFM + OTIF on 10M order lines <= 20 s; BG/NBD fit on 100k
customers (simulated from the CDNOW parameters) <= 10 s.

    .venv/bin/python bench/customer.py                       # full size
    .venv/bin/python bench/customer.py --lines 1_000_000 --customers 100_000 --fit-customers 20_000
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from supplyseg.analytics.clv import fit_bgnbd, simulate_bgnbd
from supplyseg.analytics.customer import customer_metrics, quintile_scores
from supplyseg.config.customer import ClvSettings, CustomerSettings
from supplyseg.engine import connect

START = date(2023, 1, 1)
AS_OF = date(2024, 12, 31)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_lines(n_lines: int, n_customers: int, seed: int = 0) -> pa.Table:
    """Order lines with ~2.5 lines per order, skewed customers, due and delivery dates."""
    rng = np.random.default_rng(seed)
    n_orders = max(n_lines * 2 // 5, 1)
    # Skewed but covering: every customer gets an order, the rest follow a power law.
    cust = np.concatenate(
        [
            np.arange(n_customers),
            (n_customers * rng.power(0.3, n_orders - n_customers)).astype(np.int64),
        ]
    )[:n_orders]
    days = (AS_OF - START).days
    order_day = rng.integers(0, days + 30, n_orders)  # some after as_of: filtered out
    order_of_line = np.sort(rng.integers(0, n_orders, n_lines))
    order_of_line[:n_orders] = np.arange(n_orders)  # every order has >= 1 line
    order_of_line.sort()
    line_no = np.arange(n_lines) - np.searchsorted(order_of_line, order_of_line, side="left") + 1
    qty = rng.integers(1, 20, n_lines).astype(np.float64)
    credit = rng.random(n_lines) < 0.01
    qty[credit] = -qty[credit]
    lead = rng.integers(1, 15, n_lines)
    req = order_day[order_of_line] + lead
    delay = rng.choice([-2, -1, 0, 0, 0, 0, 1, 3], n_lines)
    delivered = req + delay
    undelivered = rng.random(n_lines) < 0.03
    short = rng.random(n_lines) < 0.05
    dq = np.where(short, np.floor(qty * 0.8), qty)
    epoch = np.datetime64(START, "D")

    def as_date(d: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
        return pa.array(epoch + d.astype("timedelta64[D]"), type=pa.date32(), mask=mask)

    return pa.table(
        {
            "order_no": pa.array(order_of_line),
            "customer_no": pa.array(cust[order_of_line]),
            "product_no": pa.array(rng.integers(0, 20_000, n_lines)),
            "order_date": as_date(order_day[order_of_line]),
            "quantity": pa.array(qty),
            "unit_price": pa.array(np.round(rng.gamma(2.0, 10.0, n_lines), 2)),
            "line_no": pa.array(line_no),
            "is_credit_note": pa.array(credit),
            "row_number": pa.array(np.arange(1, n_lines + 1)),
            "channel": pa.array(
                np.array(["web", "edi", "phone", "store"])[cust[order_of_line] % 4]
            ),
            "requested_date": as_date(req),
            "delivered_date": as_date(delivered, mask=undelivered),
            "delivered_quantity": pa.array(dq, mask=undelivered),
        }
    )


def canonical(con: ibis.BaseBackend, raw: pa.Table) -> ir.Table:
    """String ids as the loader hands them over, materialised on the engine."""
    t = con.create_table("raw_lines", raw, overwrite=True)
    expr = t.mutate(
        order_id="O" + t.order_no.cast("string"),
        customer_id="C" + t.customer_no.cast("string"),
        product_id="P" + t.product_no.cast("string"),
    ).drop("order_no", "customer_no", "product_no")
    out = con.create_table("order_lines", expr, overwrite=True)
    con.drop_table("raw_lines")
    return out


def pandas_rfm_otif(df: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The naive baseline: the same RFM + OTIF definitions in plain pandas."""
    ts = pd.Timestamp(as_of)
    df = df[df["order_date"] <= ts]
    purchase = ~df["is_credit_note"]
    df = df.assign(revenue=df["quantity"] * df["unit_price"])
    p = df[purchase]
    rfm = p.groupby("customer_id").agg(
        first_order=("order_date", "min"),
        last_order=("order_date", "max"),
        frequency=("order_id", "nunique"),
    )
    rfm["monetary"] = df.groupby("customer_id")["revenue"].sum()
    rfm["recency_days"] = (ts - rfm["last_order"]).dt.days
    rfm["r_score"] = quintile_scores(rfm["recency_days"], higher_is_better=False)
    rfm["f_score"] = quintile_scores(rfm["frequency"])
    rfm["m_score"] = quintile_scores(rfm["monetary"])
    lines = p[p["quantity"] > 0]
    due, when = lines["requested_date"], lines["delivered_date"]
    delivered = when.notna() & (when <= ts)
    not_due = due.notna() & (due > ts)  # zero tolerances: open lines are due at due date
    measured = due.notna() & ~not_due
    on_time = delivered & (when == due)
    in_full = delivered & (
        lines["delivered_quantity"].fillna(lines["quantity"]) >= lines["quantity"]
    )
    flags = (
        pd.DataFrame(
            {
                "customer_id": lines["customer_id"],
                "due": measured,
                "on_time": measured & on_time,
                "in_full": measured & in_full,
                "otif": measured & on_time & in_full,
            }
        )
        .groupby("customer_id")
        .sum()
    )
    for c in ("on_time", "in_full", "otif"):
        rfm[c] = flags[c] / flags["due"].where(flags["due"] > 0)
    return rfm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lines", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--customers", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--fit-customers", type=lambda s: int(s.replace("_", "")), default=100_000)
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline")
    args = ap.parse_args()

    t0 = time.perf_counter()
    raw = synthetic_lines(args.lines, args.customers)
    con = connect()
    lines = canonical(con, raw)
    del raw
    print(
        f"data: {args.lines:,} lines, {args.customers:,} customers"
        f" generated in {time.perf_counter() - t0:.1f} s"
    )

    rfm_otif = CustomerSettings(clv=ClvSettings(enabled=False))
    t0, c0 = time.perf_counter(), time.process_time()
    res = customer_metrics({"order_lines": lines}, rfm_otif, as_of=AS_OF)
    engine_s = time.perf_counter() - t0
    print(
        f"engine RFM + OTIF + channels: {engine_s:.2f} s wall, {time.process_time() - c0:.2f} s"
        f" CPU (all threads) for {len(res.table):,} customers"
        f" (target <= 20 s at 10M lines / 1M customers); peak RSS {_peak_rss_mb():,.0f} MB"
    )

    if not args.no_pandas:
        df = lines.to_pandas()
        for c in ("order_date", "requested_date", "delivered_date"):
            df[c] = pd.to_datetime(df[c])
        t0, c0 = time.perf_counter(), time.process_time()
        base = pandas_rfm_otif(df, AS_OF)
        pandas_s = time.perf_counter() - t0
        print(f"  (pandas CPU {time.process_time() - c0:.2f} s)")
        print(
            f"pandas RFM + OTIF baseline: {pandas_s:.2f} s (data already in memory);"
            f" engine speed-up x{pandas_s / engine_s:.1f}; peak RSS {_peak_rss_mb():,.0f} MB"
        )
        merged = res.table.set_index("customer_id").join(base, rsuffix="_pd")
        for c in ("frequency", "monetary", "r_score", "otif"):
            diff = np.nanmax(np.abs(merged[c].astype(float) - merged[f"{c}_pd"].astype(float)))
            print(f"  check {c}: max |engine - pandas| = {diff:.3g}")
        del df

    t0, c0 = time.perf_counter(), time.process_time()
    full = customer_metrics({"order_lines": lines}, CustomerSettings(), as_of=AS_OF)
    print(
        f"engine full customer_metrics incl. CLV: {time.perf_counter() - t0:.2f} s wall,"
        f" {time.process_time() - c0:.2f} s CPU"
        f" ({'; '.join(n for n in full.notes if n.startswith('clv: BG'))})"
    )

    rng = np.random.default_rng(1)
    big_t = rng.uniform(27, 39, args.fit_customers)  # CDNOW-like observation windows (weeks)
    sim = simulate_bgnbd(0.243, 4.414, 0.793, 2.426, big_t, seed=rng)
    t0, c0 = time.perf_counter(), time.process_time()
    fit = fit_bgnbd(sim["frequency"], sim["recency"], sim["T"])
    print(
        f"BG/NBD fit on {args.fit_customers:,} simulated customers:"
        f" {time.perf_counter() - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU"
        f" (target <= 10 s at 100k);"
        f" r={fit.r:.3f} alpha={fit.alpha:.3f} a={fit.a:.3f} b={fit.b:.3f}"
        f" (truth 0.243, 4.414, 0.793, 2.426)"
    )
    print(f"peak RSS {_peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
