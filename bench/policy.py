"""Benchmark the inventory kernels on many item-locations against a per-item scipy.stats loop.

Computes, for every item-location: EOQ, cycle-service safety stock, fill-rate safety stock,
reorder point, (R, S) order-up-to level, expected backorders per cycle and achieved fill rate.
The naive baseline does the same per item with scalar scipy.stats calls and brentq; it runs on a
sample and is extrapolated per item (printed as such).

    .venv/bin/python bench/policy.py                      # 1,000,000 items, 10,000 loop sample
    .venv/bin/python bench/policy.py --items 100_000 --loop-sample 1_000
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil
from scipy import optimize, stats

from supplyseg.policy.inventory import (
    eoq,
    expected_backorders,
    fill_rate,
    order_up_to,
    reorder_point,
    safety_stock,
)

PERIODS_PER_YEAR = 250.0
ORDER_COST = 50.0
HOLDING_RATE = 0.25


def synthetic_items(n: int, seed: int) -> dict[str, np.ndarray]:
    """Plausible item-location parameters: daily demand, lead times, segment service levels."""
    rng = np.random.default_rng(seed)
    d = rng.gamma(1.5, 20.0, n)
    return {
        "d": d,
        "sd": d * rng.uniform(0.1, 1.5, n),
        "lt": rng.integers(1, 30, n).astype(float),
        "slt": rng.uniform(0.0, 5.0, n),
        "level": rng.choice([0.90, 0.95, 0.98, 0.99], n),
        "review": rng.choice([1.0, 5.0, 20.0], n),
        "unit_cost": rng.lognormal(2.0, 1.0, n),
    }


def vectorised(p: dict[str, np.ndarray]) -> tuple[dict[str, Any], dict[str, float]]:
    """All policy parameters with one library call each; returns results and seconds per step."""
    times: dict[str, float] = {}
    out: dict[str, Any] = {}

    def timed(name: str, fn: Callable[[], Any]) -> None:
        t0 = time.perf_counter()
        out[name] = fn()
        times[name] = time.perf_counter() - t0

    d, sd, lt, slt, level = p["d"], p["sd"], p["lt"], p["slt"], p["level"]
    h = HOLDING_RATE * p["unit_cost"]
    timed("eoq", lambda: eoq(d * PERIODS_PER_YEAR, ORDER_COST, h))
    q = np.maximum(out["eoq"], 1.0)
    timed("ss_cycle", lambda: safety_stock(d, sd, lt, slt, level))
    timed("ss_fill_rate", lambda: safety_stock(d, sd, lt, slt, level, "fill_rate", q))
    timed("reorder_point", lambda: reorder_point(d, sd, lt, slt, level))
    timed("order_up_to", lambda: order_up_to(d, sd, lt, p["review"], slt, level))
    timed("expected_backorders", lambda: expected_backorders(d, sd, lt, out["ss_cycle"], slt))
    timed("fill_rate", lambda: fill_rate(d, sd, lt, out["ss_cycle"], q, slt))
    return out, times


def naive_loop(p: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    """The same parameters, item by item, with scalar scipy.stats calls (the usual notebook)."""

    def loss(z: float) -> float:
        return float(stats.norm.pdf(z) - z * stats.norm.sf(z))

    res = {k: np.empty(len(idx)) for k in ("eoq", "ss_cycle", "ss_fill_rate", "order_up_to")}
    res.update({k: np.empty(len(idx)) for k in ("reorder_point", "esc", "fill_rate")})
    for j, i in enumerate(idx):
        d, sd, lt, slt, level = (float(p[k][i]) for k in ("d", "sd", "lt", "slt", "level"))
        q_star = math.sqrt(
            2 * ORDER_COST * d * PERIODS_PER_YEAR / (HOLDING_RATE * float(p["unit_cost"][i]))
        )
        q = max(q_star, 1.0)
        sigma = math.sqrt(lt * sd**2 + d**2 * slt**2)
        z = float(stats.norm.ppf(level))
        ss = z * sigma
        target = (1 - level) * q / sigma
        z_f = optimize.brentq(lambda x, t=target: loss(x) - t, -target - 1, 40, xtol=1e-12)
        protection = lt + float(p["review"][i])
        sigma_rs = math.sqrt(protection * sd**2 + d**2 * slt**2)
        esc = sigma * loss(ss / sigma)
        res["eoq"][j] = q_star
        res["ss_cycle"][j] = ss
        res["ss_fill_rate"][j] = z_f * sigma
        res["reorder_point"][j] = d * lt + ss
        res["order_up_to"][j] = d * protection + float(stats.norm.ppf(level)) * sigma_rs
        res["esc"][j] = esc
        res["fill_rate"][j] = max(0.0, 1 - esc / q)
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--loop-sample", type=lambda s: int(s.replace("_", "")), default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    params = synthetic_items(args.items, args.seed)
    vectorised({k: v[:1000] for k, v in params.items()})  # warm-up: imports, tables

    t0 = time.perf_counter()
    out, times = vectorised(params)
    vec_s = time.perf_counter() - t0

    sample = min(args.loop_sample, args.items)
    idx = np.random.default_rng(args.seed + 1).choice(args.items, sample, replace=False)
    t0 = time.perf_counter()
    loop = naive_loop(params, idx)
    loop_sample_s = time.perf_counter() - t0
    loop_per_item = loop_sample_s / sample
    loop_extrapolated = loop_per_item * args.items

    names = {"esc": "expected_backorders"}
    worst = max(
        float(np.max(np.abs(np.asarray(out[names.get(k, k)])[idx] - v) / (1 + np.abs(v))))
        for k, v in loop.items()
    )

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    rss_mb = psutil.Process().memory_info().rss / 2**20
    print(f"inventory kernels, {args.items:,} item-locations")
    for name, s in times.items():
        print(f"  {name:<20} {s:8.3f} s")
    print(f"  {'total (vectorised)':<20} {vec_s:8.3f} s   budget 2.000 s")
    print(
        f"naive per-item scipy.stats loop: measured on a sample of {sample:,} items in"
        f" {loop_sample_s:.2f} s ({loop_per_item * 1e6:.0f} us/item), extrapolated to"
        f" {args.items:,} items: {loop_extrapolated:,.0f} s"
    )
    print(f"speed-up vs loop (extrapolated): {loop_extrapolated / vec_s:,.0f}x   (target >= 100x)")
    print(f"max relative difference vectorised vs loop on the sample: {worst:.2e}")
    print(f"peak RSS {peak_mb:,.0f} MiB (current {rss_mb:,.0f} MiB)")


if __name__ == "__main__":
    main()
