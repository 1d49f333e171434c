"""Benchmark: the engine steps of a run on DuckDB and on Spark (``local[2]``), same company.

One synthetic company (``synth_company``, 1 customer per 500 lines and 1 product per 2,000, as
bench/load.py) is written once; then, each in a fresh process, the steps of ``supplyseg run``
that run on the engine: load + validate, demand (every grain), cost-to-serve, customer KPIs,
behaviour features + segmentation. Forecast, policies and the report run in pandas on the same
per-item results whatever the engine, so they are left out. Printed per engine: seconds per
step, total, and peak RSS of the whole process tree (Python and, for Spark, the JVM), sampled
by psutil; then the Spark / DuckDB ratios, and a check that both engines produced the same
row counts, classes and cost totals.

    .venv/bin/python bench/scale.py                        # 10M lines (the issue's size)
    .venv/bin/python bench/scale.py --lines 200_000        # while developing
    .venv/bin/python bench/scale.py --lines 1_000_000 --workspace /tmp/scale-1m  # keep data
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

# The worker: one engine, the pipeline's engine steps in the pipeline's order, JSON out.
WORKER = """
import json, sys, time
t0 = time.perf_counter()
from supplyseg.analytics.cost_to_serve import cost_to_serve
from supplyseg.analytics.customer import customer_metrics
from supplyseg.analytics.demand import demand_outputs
from supplyseg.config import load_workspace
from supplyseg.data.load import load_dataset
from supplyseg.engine import backend_label, connect
from supplyseg.segment.features import customer_behaviour
from supplyseg.segment.segmentation import customer_feature_table, segmentation

ws = load_workspace(sys.argv[1])
engine, conf = sys.argv[2], json.loads(sys.argv[3])
seconds, facts = {}, {}
def step(name, fn):
    t = time.perf_counter()
    out = fn()
    seconds[name] = round(time.perf_counter() - t, 2)
    return out
seconds["import"] = round(time.perf_counter() - t0, 2)
con = step("connect", lambda: connect(engine, spark=conf) if engine != "duckdb" else connect())
ds = step("load", lambda: load_dataset(ws, con))
as_of, a = ws.analysis.end, ws.analysis
demand = step("demand", lambda: demand_outputs(ds.tables["order_lines"], ws.demand,
              bucket=a.bucket, start=a.start, end=a.end))
cts = step("cost_to_serve", lambda: cost_to_serve(ds.tables, ws.cost_to_serve, as_of=as_of))
cm = step("customer", lambda: customer_metrics(ds.tables, ws.customer, as_of=as_of))
def segment():
    behaviour = customer_behaviour(ds.tables["order_lines"], as_of)
    customers = customer_feature_table(behaviour, cts.customer, cm.table,
                                       demand.tables.get("demand_customer"))
    return segmentation(ws.segmentation, customers=customers,
                        products=demand.tables.get("demand_product"),
                        pairs=demand.tables.get("demand_customer_product"))
seg = step("segment", segment)
facts["loaded"] = {n: acc.loaded for n, acc in ds.accounts.items()}
facts["rejected"] = sum(acc.rejected for acc in ds.accounts.values())
for name, df in demand.tables.items():
    classes = df["abc_class"] + df["xyz_class"] + " " + df["pattern"]
    facts[name] = classes.value_counts().to_dict()
facts["cts_total"] = float(cts.customer["cts_total"].sum())
facts["cts_customer_product_rows"] = len(cts.customer_product)
facts["customers_scored"] = len(cm.table)
facts["segments"] = seg.customer[seg.customer["primary"]]["segment"].value_counts().to_dict()
print(json.dumps({"label": backend_label(con), "seconds": seconds, "facts": facts}))
"""
STEPS = ("connect", "load", "demand", "cost_to_serve", "customer", "segment")


def _measured(engine: str, ws: Path, conf: dict[str, str]) -> dict[str, Any]:
    """Run the worker for ``engine``; its JSON plus the peak RSS of its process tree (MB)."""
    cmd = [sys.executable, "-c", WORKER, str(ws), engine, json.dumps(conf)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, stop = [0.0], threading.Event()

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree)
            except psutil.Error:  # a process ended between listing and reading
                continue
            peak[0] = max(peak[0], rss / 2**20)
            stop.wait(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    stop.set()
    th.join()
    if proc.returncode:
        sys.exit(f"{engine} worker failed:\n{err[-4000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = peak[0]
    return result


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)
    return bool(a == b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--workspace", type=Path, help="folder to keep (and reuse) the company in")
    ap.add_argument("--engines", default="duckdb,spark", help="comma-separated: duckdb, spark")
    ap.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    ap.add_argument(
        "--driver-memory", help="Spark driver (local JVM) heap; default: supplyseg's (RAM / 4)"
    )
    ap.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="more Spark settings"
    )
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="supplyseg-scale-")
    ws = args.workspace or Path(tmp.name)
    if not (ws / "supplyseg.yaml").exists():
        from supplyseg.data.synth import synth_company, write_workspace

        t0 = time.perf_counter()
        customers, products = max(200, args.lines // 500), max(50, args.lines // 2000)
        write_workspace(synth_company(customers, products, args.lines, seed=1), ws)
        print(
            f"generated {args.lines:,} lines ({customers:,} customers, {products:,} products)"
            f" in {time.perf_counter() - t0:.1f} s -> {ws}"
        )
    conf = {"spark.driver.memory": args.driver_memory} if args.driver_memory else {}
    conf |= dict(kv.split("=", 1) for kv in args.conf)
    results: dict[str, dict[str, Any]] = {}
    for engine in args.engines.split(","):
        target = args.master if engine == "spark" else engine
        results[engine] = r = _measured(target, ws, conf)
        steps = "  ".join(f"{s} {r['seconds'][s]:.1f}" for s in STEPS)
        total = sum(r["seconds"][s] for s in STEPS)
        r["total"] = total
        print(f"{r['label']:<28} total {total:7.1f} s   peak RSS {r['peak_mb'] / 1024:5.2f} GB")
        print(f"    {steps}  (s)")
    if {"duckdb", "spark"} <= results.keys():
        d, s = results["duckdb"], results["spark"]
        print(
            f"ratio Spark / DuckDB: {s['total'] / d['total']:.1f}x time,"
            f" {s['peak_mb'] / d['peak_mb']:.1f}x peak memory;"
            f" without the session start {(s['total'] - s['seconds']['connect']) / d['total']:.1f}x"
        )
        same = _same(d["facts"], s["facts"])
        print(f"same results (row counts, class counts, cost totals): {'yes' if same else 'NO'}")
        if not same:
            print(json.dumps({"duckdb": d["facts"], "spark": s["facts"]}, indent=1))


if __name__ == "__main__":
    main()
