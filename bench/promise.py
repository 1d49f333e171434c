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
import dataclasses
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from service import free_port, make_orders, pct, run_clients, start_server, synthetic_policy
from supplyseg.allocation import backorder_processing, nested_room, protection_by_level
from supplyseg.data.synth import synth_company, write_workspace
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


def _held_out_run(cover: float, folder: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The synthetic company's run with its last four weeks held out, as of four weeks before
    its "today", with scarce supply; returns the held-out lines and the run's tables."""
    from supplyseg.config import load_workspace
    from supplyseg.pipeline import run

    company = synth_company(customers=600, products=120, lines=60_000, seed=1)
    start = pd.Timestamp(TODAY) - pd.Timedelta(weeks=4)
    dates = pd.to_datetime(company.order_lines["order_date"], errors="coerce")
    future = company.order_lines[dates > start]
    # receipts follow the recent demand, held-out weeks included: the supply planner's view
    supply = synth_supply(company, weeks=4, cover=cover)
    supply["date"] = pd.to_datetime(supply["date"]) - pd.Timedelta(weeks=4)
    past = dataclasses.replace(company, order_lines=company.order_lines[~(dates > start)])
    yaml = write_workspace(past, folder)
    supply.assign(date=supply["date"].dt.date).to_parquet(folder / "data" / "supply.parquet")
    text = yaml.read_text(encoding="utf-8")
    end = text.split("  end: ")[1].split()[0]
    text = text.replace(f"  end: {end}", f"  end: {start.date().isoformat()}")
    text = text.replace("analysis:", "  supply:\n    path: data/supply.parquet\nanalysis:")
    yaml.write_text(text, encoding="utf-8")
    result = run(load_workspace(folder), report=False)
    names = ("allocation_shares", "allocation_protection", "allocation_products", "supply")
    tables = {n: pd.read_parquet(result.path / f"{n}.parquet") for n in names}
    seg = pd.read_parquet(result.path / "segments_customer.parquet")
    tables["segments_customer"] = seg[seg["primary"]]
    return future, tables


def bench_scarce(cover: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        future, t = _held_out_run(cover, Path(tmp))
        took = time.perf_counter() - t0
    lines = future.dropna(subset=["customer_id", "product_id", "quantity"])
    lines = lines[pd.to_numeric(lines["quantity"], errors="coerce") > 0]
    lines = lines.sort_values("order_date", kind="stable", ignore_index=True)
    segment_of = t["segments_customer"].set_index("customer_id")["segment"].astype(str)
    shares = t["allocation_shares"]
    prio = dict(zip(shares["customer_segment"], shares["priority"], strict=False))
    lowest = max(prio, key=prio.__getitem__)
    lines["segment"] = lines["customer_id"].astype(str).map(segment_of).fillna(lowest)
    product_segment = t["allocation_products"].set_index("product_id")["product_segment"]
    capacity = t["supply"].groupby("product_id")["quantity"].sum()
    protection = t["allocation_protection"]
    target = shares.groupby("customer_segment")["fill_target"].first()
    ways = ("fill target", "static target", "demand shares", "FCFS")
    granted = {w: np.zeros(len(lines)) for w in ways}
    for pid, idx in lines.groupby("product_id").indices.items():
        rows = shares[shares["product_segment"] == product_segment.get(pid)]
        kept = protection[protection["product_id"] == pid]
        for way in ways:
            granted[way][idx] = _replay(
                lines.iloc[idx], float(capacity.get(pid, 0.0)), rows, kept, way
            )
    lines = lines.assign(**granted)
    by = lines.groupby("segment")[["quantity", *ways]].sum()
    print(
        f"scarce supply (on hand + 4 weekly receipts at {cover:.0%} of recent demand): the run"
        f" as of 4 weeks before the end ({took:.1f} s), then the held-out {len(lines):,} lines"
        f" over {lines['product_id'].nunique()} products replayed in arrival order with the"
        " service's nesting (`nested_room`); confirmed share of demand per customer segment:"
    )
    head = "".join(f" {w:>14}" for w in ways)
    print(f"  {'segment':<20} {'prio':>4} {'target':>6} {'demand':>7}{head}")
    for seg in sorted(by.index, key=lambda s: (prio.get(s, 99), s)):
        row = by.loc[seg]
        goal = target.get(seg, np.nan)
        fills = "".join(f" {row[w] / row['quantity']:>14.1%}" for w in ways)
        print(
            f"  {seg:<20} {prio.get(seg, 0):>4} {'' if np.isnan(goal) else f'{goal:.0%}':>6}"
            f" {row['quantity'] / by['quantity'].sum():>7.1%}{fills}"
        )
    tot = by.sum()
    print(f"  {'all':<20} {'':>4} {'':>6} {'':>7}" + "".join(
        f" {tot[w] / tot['quantity']:>14.1%}" for w in ways))  # fmt: skip
    top = min(prio, key=prio.__getitem__)
    mine = lines[lines["segment"] == top].groupby("product_id")["quantity"].sum()
    bound = np.minimum(mine, capacity.reindex(mine.index).fillna(0.0)).sum() / mine.sum()
    kept = protection[protection["customer_segment"] == top]
    print(
        f"  {top}: forecast {kept['expected_demand'].sum():,.0f}, protected"
        f" {kept['protected_quantity'].sum():,.0f}, held-out demand {mine.sum():,.0f} units;"
        f" the most it could get (all supply) {bound:.1%}"
    )


def _replay(
    lines: pd.DataFrame, capacity: float, shares: pd.DataFrame, kept: pd.DataFrame, way: str
) -> np.ndarray:
    """Confirmed quantity per line of one product in arrival order, by the service's nesting
    rule: a protected quantity rolls down over its horizon on top of what the segment booked
    (``fill target``), or stays whole (``static target``); demand shares of capacity; none."""
    plan = {
        str(seg): (int(prio), float(share))
        for seg, prio, share in zip(
            shares["customer_segment"], shares["priority"], shares["share"], strict=True
        )
    }
    levels = sorted({p for p, _ in plan.values()})
    qty_of = dict(zip(kept["customer_segment"], kept["protected_quantity"], strict=True))
    start, end = (
        (pd.Timestamp(kept["horizon_start"].iloc[0]), pd.Timestamp(kept["horizon_end"].iloc[0]))
        if len(kept)
        else (None, None)
    )
    booked = np.zeros(max(len(levels), 1))
    by_segment: dict[str | None, float] = dict.fromkeys(plan, 0.0)
    out = np.zeros(len(lines))
    for j, (seg, qty, day) in enumerate(
        zip(lines["segment"], lines["quantity"], pd.to_datetime(lines["order_date"]), strict=True)
    ):
        left = 1.0 if start is None else min(max((end - day).days / (end - start).days, 0.0), 1.0)
        if way == "FCFS" or not plan:
            protected = np.zeros(len(booked))
        elif way == "demand shares":
            protected = protection_by_level(capacity, plan, {}, {}, 1.0)
        elif way == "static target":
            protected = protection_by_level(capacity, plan, qty_of, {}, 1.0)
        else:
            protected = protection_by_level(capacity, plan, qty_of, by_segment, left)
        k = levels.index(plan[seg][0]) if seg in plan else len(booked) - 1
        out[j] = g = max(min(float(qty), nested_room(capacity, protected, booked, k)), 0.0)
        booked[k] += g
        if seg in by_segment:
            by_segment[seg] += g
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
