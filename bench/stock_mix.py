"""Benchmark the stock-mix optimiser on many items against a per-item scipy.stats loop.

Solves the least safety-stock value for an aggregate (demand-value weighted) fill rate, the
same in budget mode, and a four-point frontier. The naive baseline is the same Lagrangian
with the textbook method, written as a notebook would: 100 bisection steps on log lambda, each
a Python loop over the items with scalar scipy.stats calls. It runs on a sample and is
extrapolated per item (printed as such); its answer on the sample is checked against
`stock_mix` on the same sample.

    .venv/bin/python bench/stock_mix.py                      # 1,000,000 items, 300 loop sample
    .venv/bin/python bench/stock_mix.py --items 100_000 --loop-sample 100
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np
import pandas as pd
from scipy import stats

from supplyseg.policy.optimise import stock_mix, stock_to_service_frontier

TARGET = 0.98


def synthetic_items(n: int, seed: int) -> pd.DataFrame:
    """Plausible items: skewed weekly demand, noisy lead times, lots of 1-20 weeks of demand."""
    rng = np.random.default_rng(seed)
    d = rng.gamma(1.5, 20.0, n)
    cost = rng.lognormal(2.0, 1.0, n)
    return pd.DataFrame(
        {
            "item_id": np.arange(n),
            "demand_mean": d,
            "demand_std": d * rng.uniform(0.1, 1.5, n),
            "lead_time": rng.integers(1, 12, n).astype(float),
            "lead_time_std": rng.uniform(0.0, 2.0, n),
            "order_quantity": d * rng.uniform(1.0, 20.0, n),
            "unit_cost": cost,
            "weight": d * cost,
        }
    )


def naive_stock_mix(items: pd.DataFrame, target: float) -> np.ndarray:
    """Log-space bisection on lambda, item by item with scalar scipy.stats (the usual notebook)."""
    rows = list(items.itertuples(index=False))
    total_w = sum(r.weight for r in rows)
    sigma = [
        math.sqrt(r.lead_time * r.demand_std**2 + r.demand_mean**2 * r.lead_time_std**2)
        for r in rows
    ]

    def stocks(lam: float) -> tuple[list[float], float]:
        ss, fill = [], 0.0
        for r, s in zip(rows, sigma, strict=True):
            ratio = r.unit_cost * r.order_quantity * total_w / (lam * r.weight)
            z = float(stats.norm.isf(ratio)) if ratio < 0.5 else 0.0
            loss = float(stats.norm.pdf(z) - z * stats.norm.sf(z))
            ss.append(s * z)
            fill += r.weight * (1.0 - s * loss / r.order_quantity)
        return ss, fill / total_w

    lo, hi = math.log(1e-6), math.log(1e12)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if stocks(math.exp(mid))[1] >= target:
            hi = mid
        else:
            lo = mid
    return np.asarray(stocks(math.exp(hi))[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--loop-sample", type=lambda s: int(s.replace("_", "")), default=300)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    items = synthetic_items(args.items, args.seed)
    stock_mix(items.iloc[:1000], TARGET)  # warm-up: imports, tables

    t0 = time.perf_counter()
    out = stock_mix(items, TARGET)
    target_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    dual = stock_mix(items, budget=out.attrs["safety_stock_value"])
    budget_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    frontier = stock_to_service_frontier(items, [0.95, 0.97, 0.98, 0.99])
    frontier_s = time.perf_counter() - t0

    sample = items.sample(min(args.loop_sample, args.items), random_state=args.seed + 1)
    t0 = time.perf_counter()
    naive = naive_stock_mix(sample, TARGET)
    loop_s = time.perf_counter() - t0
    loop_extrapolated = loop_s / len(sample) * args.items
    same = stock_mix(sample, TARGET)["safety_stock"].to_numpy()
    worst = float(np.max(np.abs(same - naive) / (1.0 + np.abs(naive))))

    a = out.attrs
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"stock-mix optimiser, {args.items:,} items, aggregate fill rate {TARGET}")
    print(f"  target mode            {target_s:8.3f} s   budget 10.000 s")
    print(
        f"  budget mode (dual)     {budget_s:8.3f} s"
        f"   fill rate {dual.attrs['weighted_fill_rate']:.9f}"
    )
    print(f"  frontier, 4 targets    {frontier_s:8.3f} s")
    print(
        f"  safety-stock value optimised {a['safety_stock_value']:,.0f}, uniform target"
        f" {a['uniform_fill_rate']:.4f} {a['uniform_safety_stock_value']:,.0f}:"
        f" uniform costs {a['uniform_cost_ratio']:.3f}x"
    )
    print(frontier.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    print(
        f"naive per-item scipy.stats loop (100 bisection steps): {len(sample):,} items in"
        f" {loop_s:.2f} s, extrapolated to {args.items:,} items: {loop_extrapolated:,.0f} s"
    )
    print(f"speed-up vs loop (extrapolated): {loop_extrapolated / target_s:,.0f}x")
    print(f"max relative difference optimiser vs loop on the sample: {worst:.2e}")
    print(f"peak RSS {peak_mb:,.0f} MiB")


if __name__ == "__main__":
    main()
