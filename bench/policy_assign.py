"""Benchmark `policy_outputs` (templates -> parameters per item-location) against a per-item loop.

Builds a synthetic demand profile of N item-locations (products x 1..5 DCs; demand patterns
smooth/erratic/intermittent/lumpy 40/20/25/15 %), a products table (lead times, unit cost, moq,
order multiple) and abc_xyz segments, then times `policy_outputs` with the built-in templates
(no history: lumpy items use gamma) and, separately, the stock-to-service curves inside it.
The naive baseline computes the same safety stock, reorder point / order-up-to level, order
quantity and value item by item with scipy.stats (the usual notebook); it runs on a sample and
is extrapolated per item (printed as such). Input generation and I/O are not timed.

    .venv/bin/python bench/policy_assign.py                          # 1,000,000 item-locations
    .venv/bin/python bench/policy_assign.py --items 100_000 --loop-sample 2_000
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import time

import numpy as np
import pandas as pd
import psutil
from scipy import stats

from supplyseg.config.policy import PolicySettings
from supplyseg.policy.assign import policy_outputs

STR = pd.StringDtype("pyarrow", na_value=np.nan)
SEGMENTS = ("AX", "AY", "AZ", "BX", "BY", "BZ", "CX", "CY", "CZ")
PATTERNS = ("smooth", "erratic", "intermittent", "lumpy")


def synthetic_inputs(n: int, seed: int) -> dict[str, pd.DataFrame]:
    """Demand profile (n item-locations), products and product segments."""
    rng = np.random.default_rng(seed)
    locs = rng.integers(1, 6, n)  # 1..5 DCs per product, about 3 on average
    cum = np.cumsum(locs)
    n_products = int(np.searchsorted(cum, n) + 1)  # the first product reaching n rows
    locs = locs[:n_products]
    locs[-1] -= int(cum[n_products - 1] - n)
    product = np.repeat(np.arange(n_products), locs)
    dc = np.arange(n) - np.repeat(np.cumsum(locs) - locs, locs)
    pids = pd.Series([f"P{i:07d}" for i in range(n_products)], dtype=STR)
    pattern = rng.choice(4, n_products, p=[0.40, 0.20, 0.25, 0.15])[product]
    mean = rng.gamma(1.2, 15.0, n) * np.where(pattern >= 2, 0.2, 1.0)
    cv = np.choose(
        pattern,
        [
            rng.uniform(0.1, 0.5, n),
            rng.uniform(0.7, 1.5, n),
            rng.uniform(1.0, 2.0, n),
            rng.uniform(2.0, 4.0, n),
        ],
    )
    demand = pd.DataFrame(
        {
            "product_id": pids.iloc[product].reset_index(drop=True),
            "location_id": pd.Series(
                np.asarray(["DC1", "DC2", "DC3", "DC4", "DC5"])[dc], dtype=STR
            ),
            "mean": mean,
            "std": mean * cv,
            "pattern": pd.Series(np.asarray(PATTERNS)[pattern], dtype=STR),
        }
    )
    lead = rng.choice([5.0, 7, 10, 14, 21, 28, 42, 56], n_products)
    products = pd.DataFrame(
        {
            "product_id": pids,
            "unit_cost": np.round(rng.lognormal(np.log(12.0), 1.0, n_products), 2),
            "lead_time_days": np.where(rng.random(n_products) < 0.05, np.nan, lead),
            "lead_time_std_days": np.round(lead * rng.uniform(0.1, 0.35, n_products), 1),
            "moq": rng.choice([1.0, 5, 10, 20, 50, 100], n_products),
            "order_multiple": rng.choice([1.0, 1, 5, 10, 12, 24], n_products),
        }
    )
    segments = pd.DataFrame(
        {
            "product_id": pids,
            "scheme": "abc_xyz",
            "segment": pd.Series(np.asarray(SEGMENTS)[rng.integers(0, 9, n_products)], dtype=STR),
            "rule": "bench",
            "explanation": "",
            "primary": True,
        }
    )
    return {"demand": demand, "products": products, "segments": segments}


def naive_loop(inputs: dict[str, pd.DataFrame], idx: np.ndarray) -> pd.DataFrame:
    """Safety stock, levels, Q and value item by item: dict lookups and scipy.stats calls."""
    s = PolicySettings()
    prod = inputs["products"].set_index("product_id")
    seg = dict(zip(inputs["segments"]["product_id"], inputs["segments"]["segment"], strict=True))
    from supplyseg.config.policy import resolve_template

    rows = []
    for i in idx:
        r = inputs["demand"].iloc[int(i)]
        p = prod.loc[r["product_id"]]
        t, _ = resolve_template(s, "abc_xyz", seg[r["product_id"]])  # type: ignore[misc]
        d, sd = float(r["mean"]), float(r["std"])
        lt_days = float(p["lead_time_days"])
        lt_days = lt_days if math.isfinite(lt_days) else s.default_lead_time_days
        lt = lt_days / 7
        slt = float(p["lead_time_std_days"]) / 7
        review = float(t.review_period or 0) / 7
        protect = lt + review
        alpha = float(t.service_target or 0)
        rule = t.inventory_rule
        if rule == "make_to_order":
            # Make-to-order only where the pattern and lead time allow it; else stocked.
            max_lt = t.make_to_order_max_lead_time_days
            lt_ok = max_lt is None or lt_days <= max_lt
            if r["pattern"] not in (t.mto_allowed_patterns or ()) or not lt_ok:
                rule = "order_up_to" if review > 0 else "rop_eoq"
        if rule == "make_to_order" or d <= 0:
            rows.append((0.0, 0.0))
            continue
        c = float(p["unit_cost"])
        if rule == "order_up_to":
            q_raw = d * review
        else:
            q_raw = math.sqrt(2 * s.order_cost * d * 365.25 / 7 / (s.holding_rate * c))
        m = float(p["order_multiple"])
        q = max(math.ceil(max(q_raw, float(p["moq"])) / m - 1e-9), 1) * m
        mu, sigma = d * protect, math.sqrt(protect * sd**2 + d**2 * slt**2)
        if r["pattern"] in ("intermittent", "lumpy"):
            if r["pattern"] == "intermittent" and d < s.slow_mover_mean:
                ss = float(stats.poisson.ppf(alpha, mu)) - mu
            else:
                ss = float(stats.gamma.ppf(alpha, (mu / sigma) ** 2, scale=sigma**2 / mu)) - mu
        else:
            ss = float(stats.norm.ppf(alpha)) * sigma
        ss = max(ss, 0.0)
        rows.append((ss, (ss + q / 2) * c))
    return pd.DataFrame(rows, columns=["safety_stock", "inventory_value"], index=idx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--loop-sample", type=lambda s: int(s.replace("_", "")), default=5_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    t0 = time.perf_counter()
    inputs = synthetic_inputs(args.items, args.seed)
    gen_s = time.perf_counter() - t0
    small = synthetic_inputs(1000, args.seed + 1)  # warm-up: imports, tables
    policy_outputs(
        small["segments"], small["demand"], small["products"], PolicySettings(), bucket="week"
    )

    t0, c0 = time.perf_counter(), time.process_time()
    result = policy_outputs(
        inputs["segments"], inputs["demand"], inputs["products"], PolicySettings(), bucket="week"
    )
    total_s, total_cpu = time.perf_counter() - t0, time.process_time() - c0
    params_s = total_s - result.seconds["stock_to_service"]

    sample = min(args.loop_sample, args.items)
    idx = np.sort(np.random.default_rng(args.seed + 1).choice(args.items, sample, replace=False))
    t0 = time.perf_counter()
    loop = naive_loop(inputs, idx)
    loop_s = time.perf_counter() - t0
    per_item = loop_s / sample
    pol = result.policies.iloc[idx]
    worst = 0.0
    for col in ("safety_stock", "inventory_value"):
        got, want = pol[col].to_numpy(dtype=float), loop[col].to_numpy(dtype=float)
        worst = max(worst, float(np.nanmax(np.abs(got - want) / (1 + np.abs(want)))))

    pol_all = result.policies
    mix = pol_all["distribution"].value_counts(normalize=True).round(3).to_dict()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    rss_mb = psutil.Process().memory_info().rss / 2**20
    print(f"policy_outputs, {args.items:,} item-locations (inputs built in {gen_s:.1f} s)")
    for name, s in result.seconds.items():
        print(f"  {name:<18} {s:8.3f} s")
    print(f"  {'parameters total':<18} {params_s:8.3f} s   (everything but the curves; budget 2 s)")
    print(f"  {'with curves':<18} {total_s:8.3f} s   ({len(result.stock_to_service)} curve points)")
    print(f"  {'CPU time':<18} {total_cpu:8.3f} s   (this process; wall > CPU = other load)")
    print(f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"distribution mix: {mix}")
    print(
        f"naive per-item loop: {sample:,} items in {loop_s:.2f} s ({per_item * 1e6:.0f} us/item),"
        f" extrapolated to {args.items:,}: {per_item * args.items:,.0f} s"
    )
    print(f"speed-up vs loop (extrapolated): {per_item * args.items / total_s:,.0f}x")
    print(f"max relative difference vs loop (safety stock, value): {worst:.2e}")
    print(f"peak RSS {peak_mb:,.0f} MiB (current {rss_mb:,.0f} MiB)")


if __name__ == "__main__":
    main()
