"""Benchmark: demand profiles (ABC, XYZ, SBC pattern) of N order lines, weekly, all four grains.

The synthetic company (`supplyseg.data.synth.synth_company`: ~20k customers, ~5k products,
3 locations, 2 years) is written once as Parquet; then two child processes each read it and
compute the four demand tables (product, product x location, customer, customer x product):

- engine: `supplyseg.analytics.demand.demand_outputs` on DuckDB (Ibis expressions);
- pandas: a straightforward pandas groupby implementation of the same numbers (already using
  the sums-of-squares shortcut, not a densified series: the strongest simple baseline).

Each child prints read time, compute wall and CPU time and peak RSS; the parent checks that
both give the same class counts and prints the ratios (CPU time too: on a shared machine the
wall time says more about the neighbours than about the code). Targets (demand issue): 10M
lines, compute <= 20 s on the engine, >= 3x faster than pandas, peak RSS <= 6 GB.

    .venv/bin/python bench/demand.py --lines 10_000_000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHILD_ENGINE = """
import json, resource, sys, time
from supplyseg.analytics.demand import demand_outputs
from supplyseg.engine import connect
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
con = connect()
t0 = time.perf_counter()
lines = con.create_table("order_lines", con.read_parquet(sys.argv[1]))
t1, c1 = time.perf_counter(), cpu()
out = demand_outputs(lines, bucket="week")
t2, c2 = time.perf_counter(), cpu()
counts = {
    name: {"rows": len(df), **{c: df[c].value_counts().sort_index().to_dict()
                               for c in ("abc_class", "xyz_class", "pattern")}}
    for name, df in out.tables.items()
}
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
print(json.dumps({"read": t1 - t0, "seconds": t2 - t1, "cpu": c2 - c1, "rss_gb": rss,
                  "counts": counts}))
"""

# The baseline: plain pandas groupbys, same definitions (weeks from Monday, horizon = last
# date, series from the item's first week, ABC on revenue 80/95, XYZ 0.5/1.0, SBC 1.32/0.49).
CHILD_PANDAS = """
import json, resource, sys, time
import numpy as np, pandas as pd
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0 = time.perf_counter()
df = pd.read_parquet(sys.argv[1])
t1, c1 = time.perf_counter(), cpu()
GRAINS = {"product": ["product_id"], "product_location": ["product_id", "location_id"],
          "customer": ["customer_id"], "customer_product": ["customer_id", "product_id"]}
day = pd.to_datetime(df["order_date"])
df["week"] = (day - pd.to_timedelta(day.dt.dayofweek, unit="D"))
df["revenue"] = df["quantity"] * df["unit_price"]
df["margin"] = df["quantity"] * (df["unit_price"] - df["unit_cost"])
horizon = df["week"].max()
live = df[~df["is_credit_note"]]
out = {}
for name, ids in GRAINS.items():
    per = df.groupby([*ids, "week"], observed=True, sort=False)["quantity"].sum().reset_index()
    y = per["quantity"]
    per["y2"] = y * y
    per["pos"] = y.where(y > 0)
    per["pos2"] = per["pos"] ** 2
    item = per.groupby(ids, observed=True).agg(
        first=("week", "min"), last=("week", "max"), T=("quantity", "sum"), S2=("y2", "sum"),
        n_nonzero=("pos", "count"), ps=("pos", "sum"), ps2=("pos2", "sum"))
    meas = df.groupby(ids, observed=True)[["revenue", "margin", "quantity"]].sum()
    g = live.groupby(ids, observed=True)
    meas["order_lines"] = g.size()
    meas["orders"] = g["order_id"].nunique()
    p = meas.join(item)
    p[["order_lines", "orders"]] = p[["order_lines", "orders"]].fillna(0)
    n = ((horizon - p["first"]).dt.days // 7 + 1).astype(float)
    p["n_periods"] = n
    vn = n * p["S2"] - p["T"] ** 2
    p["mean"] = p["T"] / n
    p["std"] = np.sqrt(np.maximum(vn, 0) / n**2)
    p["cv"] = np.where(p["T"] > 0, p["std"] / p["mean"], np.nan)
    p["xyz_class"] = np.select(
        [p["T"] <= 0, vn <= 0.25 * p["T"] ** 2, vn <= p["T"] ** 2], ["Z", "X", "Y"], "Z")
    m = p["n_nonzero"]
    vn2 = m * p["ps2"] - p["ps"] ** 2
    p["adi"] = np.where(m > 0, n / m.where(m > 0), np.nan)
    p["cv2"] = np.where(m >= 2, np.maximum(vn2, 0) / p["ps"] ** 2, np.nan)
    low_adi, low_cv2 = p["adi"] < 1.32, vn2 < 0.49 * p["ps"] ** 2
    p["pattern"] = np.select(
        [m < 2, low_adi & low_cv2, low_adi, low_cv2],
        ["insufficient_history", "smooth", "erratic", "intermittent"], "lumpy")
    p = p.reset_index()
    p["_r"] = p["revenue"].round(6)
    p = p.sort_values(["_r", *ids], ascending=[False] + [True] * len(ids), ignore_index=True)
    pos = p["_r"].clip(lower=0)
    total = pos.sum()
    cum = pos.cumsum()
    before = cum - pos
    p["share"], p["cum_share"] = pos / total, cum / total
    p["rank"] = np.arange(1, len(p) + 1)
    p["abc_class"] = np.select(
        [pos <= 0, before < 0.8 * total, before < 0.95 * total], ["C", "A", "B"], "C")
    out[name] = p
t2, c2 = time.perf_counter(), cpu()
counts = {
    f"demand_{name}": {"rows": len(df_), **{c: df_[c].value_counts().sort_index().to_dict()
                                           for c in ("abc_class", "xyz_class", "pattern")}}
    for name, df_ in out.items()
}
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
print(json.dumps({"read": t1 - t0, "seconds": t2 - t1, "cpu": c2 - c1, "rss_gb": rss,
                  "counts": counts}))
"""


def _write_lines(path: Path, n_lines: int, seed: int) -> float:
    """Canonical order lines of a synthetic company as Parquet; returns the seconds it took."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from supplyseg.data.synth import synth_company

    t0 = time.perf_counter()
    company = synth_company(
        customers=20_000, products=5_000, lines=n_lines, seed=seed, locations=3, bad_share=0.0
    )
    ol = company.order_lines
    table = pa.table(
        {
            "order_id": pa.array(ol["order_id"]),
            "customer_id": pa.array(ol["customer_id"]),
            "product_id": pa.array(ol["product_id"]),
            "location_id": pa.array(ol["location_id"]),
            "order_date": pa.array(ol["order_date"].dt.date, type=pa.date32()),
            "quantity": pa.array(ol["quantity"]),
            "unit_price": pa.array(ol["unit_price"]),
            "unit_cost": pa.array(ol["unit_cost"]),
            # What the loader sets for the synth's `order_id starts with CN` rule.
            "is_credit_note": pa.array(ol["order_id"].str.startswith("CN")),
        }
    )
    pq.write_table(table, path)
    return time.perf_counter() - t0


def _run(code: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"child failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lines", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-pandas", action="store_true", help="engine only (no baseline)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_demand_") as tmp:
        path = Path(tmp) / "order_lines.parquet"
        gen = _write_lines(path, args.lines, args.seed)
        print(f"synthetic order lines: {args.lines:,} written in {gen:.1f} s")
        eng = _run(CHILD_ENGINE, path)
        pdx = None if args.skip_pandas else _run(CHILD_PANDAS, path)

    print(f"\n{'':<10}{'read s':>9}{'compute s':>11}{'cpu s':>9}{'peak RSS GB':>13}")
    for name, r in (("engine", eng), ("pandas", pdx)):
        if r is not None:
            row = f"{r['read']:>9.2f}{r['seconds']:>11.2f}{r['cpu']:>9.2f}{r['rss_gb']:>13.2f}"
            print(f"{name:<10}{row}")
    for table, c in eng["counts"].items():
        print(f"  {table:<26} rows {c['rows']:>9,}  ABC {c['abc_class']}  XYZ {c['xyz_class']}")
        print(f"  {'':<26} pattern {c['pattern']}")
    ok = eng["seconds"] <= 20 and eng["rss_gb"] <= 6
    if pdx is not None:
        ratio = pdx["seconds"] / eng["seconds"]
        cpu_ratio = pdx["cpu"] / eng["cpu"]
        same = pdx["counts"] == eng["counts"]
        print(f"\nspeed-up vs pandas: {ratio:.1f}x wall, {cpu_ratio:.1f}x cpu")
        print(f"same class counts: {same}")
        ok = ok and ratio >= 3 and same
    print(f"targets (<= 20 s, >= 3x, <= 6 GB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
