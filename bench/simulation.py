"""Benchmark the policy simulation: many items x buckets, against a per-item Python loop.

Builds a synthetic policies table (rop_eoq, order_up_to and base_stock items, make-to-order
ones that are skipped) and a sparse long history (``unique_id, ds, y``; ``--density`` of the
item-buckets have demand), then times `policy_simulation` end to end (ids matched, demand
matrix built, replay, table) and the replay kernel alone. The naive baseline replays a sample
of the same items one by one in plain Python (`supplyseg.policy._replay.replay_loop`, also the
tests' oracle); its result must equal the vectorised one exactly, and its time is extrapolated
per item (printed as such).

    .venv/bin/python bench/simulation.py                     # 100,000 items x 104 weeks
    .venv/bin/python bench/simulation.py --items 20_000 --loop-sample 500
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from supplyseg.policy._replay import Outcome, replay, replay_loop
from supplyseg.policy.simulate import _stocked_plan, policy_simulation, simulation_summary


def synthetic(n: int, buckets: int, density: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A policies table of ``n`` items and a sparse weekly history of ``buckets`` periods."""
    rng = np.random.default_rng(seed)
    d = rng.gamma(1.2, 8.0, n)
    lead = rng.uniform(0.5, 8.0, n)
    rule = rng.choice(
        ["rop_eoq", "order_up_to", "base_stock", "make_to_order"], n, p=[0.6, 0.2, 0.1, 0.1]
    )
    review = np.where(rule == "order_up_to", rng.choice([1.0, 2.0, 4.0], n), 0.0)
    # Rows hold gamma(1.5) sizes in a share ``density`` of the weeks: sigma per week below.
    sigma = d * np.sqrt(2.5 / (1.5 * density) - 1.0)
    ss = 1.65 * sigma * np.sqrt(lead + review)
    q = np.ceil(np.where(rule == "base_stock", 1.0, d * rng.uniform(1.0, 6.0, n)))
    base = d * (lead + review) + ss
    stock = rule != "make_to_order"
    policies = pd.DataFrame(
        {
            "product_id": [f"P{i:06d}" for i in range(n)],
            "location_id": "DC1",
            "product_segment": rng.choice(["AX", "AY", "BX", "BY", "CZ"], n),
            "service_type": np.where(stock, "cycle", "none"),
            "service_target": np.where(stock, 0.95, np.nan),
            "demand_mean": d,
            "lead_time": lead,
            "safety_stock": np.where(stock, ss, 0.0),
            "reorder_point": np.select([rule == "order_up_to", stock], [np.nan, base], 0.0),
            "order_quantity": np.where(stock, q, np.nan),
            "order_up_to": np.select(
                [rule == "order_up_to", rule == "base_stock"], [base, base + q], np.nan
            ),
            "review_period": review,
            "inventory_rule": rule,
            "unit_cost": rng.lognormal(2.0, 1.0, n),
            "bucket": "week",
        }
    )
    cells = int(n * buckets * density)
    item = rng.integers(0, n, cells)
    week = rng.integers(0, buckets, cells)
    keep = np.unique(week.astype(np.int64) * n + item)  # one row per item and week
    item, week = keep % n, keep // n
    y = np.round(rng.gamma(1.5, d[item] / (1.5 * density)))
    start = pd.Timestamp("2023-01-02")
    history = pd.DataFrame(
        {
            "unique_id": (policies["product_id"].to_numpy()[item] + "@DC1"),
            "ds": (start + pd.to_timedelta(week * 7, unit="D")).date,
            "y": y,
        }
    )
    return policies, history


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=lambda s: int(s.replace("_", "")), default=100_000)
    ap.add_argument("--buckets", type=int, default=104)
    ap.add_argument("--density", type=float, default=0.09, help="share of item-weeks with rows")
    ap.add_argument("--loop-sample", type=lambda s: int(s.replace("_", "")), default=2_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    policies, history = synthetic(a.items, a.buckets, a.density, a.seed)
    print(f"policies: {len(policies):,} items; history: {len(history):,} rows, {a.buckets} weeks")

    t0 = time.perf_counter()
    sim = policy_simulation(policies, history, buckets=a.buckets)
    total = time.perf_counter() - t0
    summary = simulation_summary(sim)
    print(f"policy_simulation: {len(sim):,} stocked items x {a.buckets} buckets in {total:.2f} s")

    # The kernel alone, on the same demand matrix, against the loop on a sample.
    _, plan = _stocked_plan(policies)
    n = len(sim)
    rng = np.random.default_rng(a.seed)
    demand = rng.gamma(1.5, plan.d / 1.5, (a.buckets, n))
    t0 = time.perf_counter()
    fast = replay(demand, plan)
    kernel = time.perf_counter() - t0
    pick = np.sort(rng.choice(n, min(a.loop_sample, n), replace=False))
    sub = type(plan)(**{k: getattr(plan, k)[pick] for k in plan.__dataclass_fields__})
    t0 = time.perf_counter()
    slow = replay_loop(demand[:, pick], sub)
    loop = time.perf_counter() - t0
    for name in Outcome.__dataclass_fields__:
        if not np.array_equal(getattr(fast, name)[pick], getattr(slow, name)):
            raise SystemExit(f"loop and vectorised replay differ in {name}")
    per_fast, per_loop = kernel / n, loop / len(pick)
    print(f"replay kernel: {kernel:.2f} s ({per_fast * 1e6:.2f} us per item)")
    print(
        f"naive per-item loop: {loop:.2f} s for {len(pick):,} items ({per_loop * 1e6:.0f} us per"
        f" item; extrapolated {per_loop * n:.0f} s for all) -> vectorised is"
        f" {per_loop / per_fast:.0f}x faster; results identical"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
