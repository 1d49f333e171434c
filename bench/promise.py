"""Benchmark of order promising: ``POST /promise`` latency, backorder processing at scale, and
differentiated allocation on the synthetic company with scarce supply.

1. ``/promise`` p50/p99 from ``--clients`` threads against uvicorn + SQLite (the synthetic
   policy of bench/service.py, one product segment, shares A 50 % / B 30 % / C 20 %, supply on
   hand plus four weekly receipts per product, ``--reserve`` orders placed first so promising
   sees reservations). Target (issue 20): p99 <= 50 ms at 8 clients.
2. Backorder processing over ``--bop-lines`` open lines on 2,000 products, most of them short
   (`supplyseg.allocation.backorder_processing`, one HiGHS LP). Target: <= 30 s for 100k.
3. Synthetic company, scarce supply (receipts at ``--cover`` of recent demand): the next four
   weeks' orders (the last four weeks replayed) are allocated per product in arrival order,
   nested by customer type (key accounts first, shares from demand) and first come first
   served; prints the fill rate per customer type under both.

    .venv/bin/python bench/promise.py --promises 400 --reserve 200     # small run
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from service import free_port, make_orders, pct, run_clients, start_server, synthetic_policy
from supplyseg.allocation import allocate_nested, allocation_shares, backorder_processing
from supplyseg.data.synth import synth_company
from supplyseg.data.synth_supply import TODAY, synth_supply
from supplyseg.service.commands import create_api_key, publish_policy
from supplyseg.service.promise_files import Allocation


def bench_promise(args: argparse.Namespace) -> None:
    doc = synthetic_policy()
    rng = random.Random(3)
    shares = [
        {"product_segment": "all", "customer_segment": s, "priority": p, "share": sh,
         "strategy": "gain" if p == 1 else "redistribute"}
        for s, p, sh in (("A", 1, 0.5), ("B", 2, 0.3), ("C", 3, 0.2))
    ]  # fmt: skip
    products = [{"product_id": p["product_id"], "product_segment": "all"} for p in doc["products"]]
    supply = []
    for p in doc["products"]:
        on_hand = {"date": pd.Timestamp("2026-03-01").date(), "kind": "on_hand"}
        supply.append({"product_id": p["product_id"], "location_id": "DC1", **on_hand,
                       "quantity": float(rng.randint(0, 200))})  # fmt: skip
        for w in range(1, 5):
            day = (pd.Timestamp("2026-03-01") + pd.Timedelta(weeks=w)).date()
            supply.append({"product_id": p["product_id"], "location_id": "DC1", "date": day,
                           "kind": "receipt", "quantity": float(rng.randint(0, 100))})  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'promise.db'}"
        publish_policy(url, doc, allocation=Allocation(shares, products, supply))
        key = create_api_key(url, "submitter", None)
        port = free_port()
        proc = start_server(url, port, "FULL")
        try:
            base = f"http://127.0.0.1:{port}"
            reserve = make_orders(args.reserve, 0.0, seed=5)
            _, codes, _ = run_clients(base, key, [reserve], "/orders")
            assert set(codes) <= {200, 201}, set(codes)
            bodies = make_orders(args.promises, 0.0, seed=6)
            jobs = [bodies[i :: args.clients] for i in range(args.clients)]
            server = psutil.Process(proc.pid)
            cpu0 = server.cpu_times()
            lat, codes, wall = run_clients(base, key, jobs, "/promise")
            cpu1 = server.cpu_times()
            assert set(codes) == {200}, set(codes)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    cpu_ms = ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)) * 1000
    print(
        f"/promise: {len(lat)} requests, {args.clients} clients, {len(lat) / wall:.0f} req/s,"
        f" p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms (target p99 <= 50 ms);"
        f" {args.reserve} orders reserved first; server CPU {cpu_ms / len(lat):.2f} ms/request;"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def bench_bop(n: int) -> None:
    rng = np.random.default_rng(0)
    n_products = 2000
    req = rng.integers(0, 60, n)
    qty = rng.integers(1, 20, n).astype(float)
    lines = pd.DataFrame(
        {
            "line_id": np.arange(n),
            "product_id": rng.integers(0, n_products, n).astype(str),
            "priority": rng.integers(1, 6, n),
            "strategy": rng.choice(
                ["win", "gain", "redistribute", "fill", "lose"], n, p=[0.05, 0.2, 0.6, 0.1, 0.05]
            ),
            "requested_period": req,
            "quantity": qty,
            "confirmed_quantity": qty * (rng.random(n) < 0.7),
            "confirmed_period": req + rng.integers(0, 5, n),
        }
    )
    total = lines.groupby("product_id")["quantity"].sum()
    rows = []
    for pid, tot in total.items():
        periods = np.sort(rng.choice(70, 6, replace=False))
        parts = rng.dirichlet(np.ones(6)) * tot * rng.uniform(0.6, 1.3)
        rows += [(pid, int(t), float(q)) for t, q in zip(periods, parts, strict=True)]
    available = pd.DataFrame(rows, columns=["product_id", "period", "quantity"])
    t0 = time.perf_counter()
    out = backorder_processing(lines, available)
    secs = time.perf_counter() - t0
    print(
        f"backorder processing: {n:,} open lines, {n_products} products (supply 60-130 % of"
        f" demand), {secs:.1f} s (target <= 30 s for 100k); changes"
        f" {out['change'].value_counts().to_dict()}"
    )


def bench_scarce(cover: float) -> None:
    company = synth_company(customers=600, products=120, lines=60_000, seed=1)
    kind = company.truth_customers.set_index("customer_id")["customer_type"]
    lines = company.order_lines.dropna(subset=["customer_id", "product_id", "quantity"])
    lines = lines[lines["quantity"] > 0].copy()
    lines["segment"] = lines["customer_id"].map(kind)
    lines = lines.dropna(subset=["segment"])
    dates = pd.to_datetime(lines["order_date"])
    start = pd.Timestamp(TODAY) - pd.Timedelta(weeks=4)
    future = lines[dates > start].sort_values("order_date")  # replayed as the next 4 weeks
    # expected demand of the 4 weeks per product and segment: the 13 weeks before, scaled
    before = lines[(dates <= start) & (dates > start - pd.Timedelta(weeks=13))]
    expected = before.groupby(["product_id", "segment"])["quantity"].sum() * 4 / 13
    mix = lines.groupby("segment", as_index=False).agg(quantity=("quantity", "sum"))
    prio = {"key_account": 1, "distributor": 2, "web_shop": 3, "project": 4}
    rules = pd.DataFrame(
        {"customer_segment": list(prio), "priority": list(prio.values()), "share": np.nan}
    )
    shares = allocation_shares(
        rules, mix.rename(columns={"segment": "customer_segment"}).assign(product_segment="all")
    )
    share = dict(zip(shares["customer_segment"], shares["share"], strict=True))
    supply = synth_supply(company, weeks=4, cover=cover)
    capacity = supply.groupby("product_id")["quantity"].sum()
    # protecting key accounts' whole demand: an explicit share (policies.customer.*.allocation)
    strict = {"key_account": 0.9, "distributor": 0.07, "web_shop": 0.03, "project": 0.0}
    nested = np.zeros(len(future))
    protect = np.zeros(len(future))
    fcfs = np.zeros(len(future))
    exp = np.zeros(len(future))
    zero = dict.fromkeys(prio, 0.0)
    for pid, idx in future.groupby("product_id").indices.items():
        req = future.iloc[idx][["segment", "quantity"]]
        cap = float(capacity.get(pid, 0.0))
        nested[idx] = allocate_nested(cap, req, share, prio)
        protect[idx] = allocate_nested(cap, req, strict, prio)
        fcfs[idx] = allocate_nested(cap, req, zero, list(prio))
        exp[idx] = allocate_nested(cap, req, expected_shares(cap, expected, pid, prio), prio)
    future = future.assign(nested=nested, protect=protect, fcfs=fcfs, expected=exp)
    cols = ["quantity", "nested", "protect", "fcfs", "expected"]
    by = future.groupby("segment")[cols].sum()
    print(
        f"scarce supply (on hand + 4 weekly receipts at {cover:.0%} of recent demand),"
        f" {len(future):,} lines over {future['product_id'].nunique()} products:"
    )
    print(
        f"  {'segment':<12} {'share':>6} {'fill nested':>12} {'key 90 %':>9}"
        f" {'expected':>9} {'fill FCFS':>10}"
    )
    for seg in prio:
        if seg in by.index:
            row = by.loc[seg]
            print(
                f"  {seg:<12} {share[seg]:>6.1%} {row['nested'] / row['quantity']:>12.1%}"
                f" {row['protect'] / row['quantity']:>9.1%}"
                f" {row['expected'] / row['quantity']:>9.1%} {row['fcfs'] / row['quantity']:>10.1%}"
            )
    tot = by.sum()
    fill = tot[["nested", "protect", "expected", "fcfs"]] / tot["quantity"]
    print(
        f"  {'all':<12} {'':>6} {fill['nested']:>12.1%} {fill['protect']:>9.1%}"
        f" {fill['expected']:>9.1%} {fill['fcfs']:>10.1%}"
    )


def expected_shares(
    capacity: float, expected: pd.Series, product_id: str, priority: dict[str, int]
) -> dict[str, float]:
    """Protection of each segment's expected demand in the period, highest priority first, as
    shares of ``capacity`` (what the capacity cannot cover is not protected)."""
    left = capacity
    out = {}
    for seg in sorted(priority, key=priority.__getitem__):
        want = float(expected.get((product_id, seg), 0.0))
        out[seg] = min(want, left) / capacity if capacity > 0 else 0.0
        left -= min(want, left)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--promises", type=int, default=2000)
    ap.add_argument("--reserve", type=int, default=500)
    ap.add_argument("--bop-lines", type=int, default=100_000)
    ap.add_argument("--cover", type=float, default=0.5)
    ap.add_argument("--parts", default="promise,bop,scarce", help="Comma-separated parts to run.")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if args.promises and "promise" in parts:
        bench_promise(args)
    if args.bop_lines and "bop" in parts:
        bench_bop(args.bop_lines)
    if "scarce" in parts:
        bench_scarce(args.cover)


if __name__ == "__main__":
    main()
