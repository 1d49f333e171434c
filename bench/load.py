"""Benchmark: load + validate N synthetic order lines (and their side tables) on the engine.

Prints wall time and peak RSS of supplyseg's loader, and the same for a straightforward pandas
validation of the same rules, measured in the same run. Targets (issue 3): 10M lines <= 30 s,
peak RSS <= 6 GB.

    .venv/bin/python bench/load.py --lines 10000000
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

CHILD_LOADER = """
import json, resource, sys, time
from supplyseg.config import load_workspace
from supplyseg.data.load import load_dataset
from supplyseg.engine import connect
ws = load_workspace(sys.argv[1])
t0 = time.perf_counter()
ds = load_dataset(ws, connect())
seconds = time.perf_counter() - t0
acc = {n: [a.read, a.loaded, a.rejected] for n, a in ds.accounts.items()}
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
print(json.dumps({"seconds": seconds, "rss_gb": rss, "accounts": acc}))
"""

# The naive baseline: pandas, the same order_lines checks, column masks (no engine).
CHILD_PANDAS = """
import json, resource, sys, time
import pandas as pd
t0 = time.perf_counter()
df = pd.read_parquet(sys.argv[1] + "/data/order_lines.parquet")
customers = pd.read_parquet(sys.argv[1] + "/data/customers.parquet")
products = pd.read_parquet(sys.argv[1] + "/data/products.parquet")
reason = pd.Series(None, index=df.index, dtype="object")
def assign(mask, code):
    reason[mask & reason.isna()] = code
credit = df["order_id"].str.startswith("CN")
for col in ["order_id", "customer_id", "product_id", "order_date", "quantity", "unit_price"]:
    assign(df[col].isna(), "missing_required")
assign(df["quantity"] == 0, "zero_quantity")
assign((df["quantity"] < 0) & ~credit, "negative_quantity")
assign(df["unit_price"] <= 0, "bad_price")
assign(df.duplicated(["order_id", "line_no"]) & reason.isna(), "duplicate_key")
assign(~df["customer_id"].isin(customers["customer_id"]), "unknown_customer")
assign(~df["product_id"].isin(products["product_id"]), "unknown_product")
loaded = df[reason.isna()]
seconds = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
print(json.dumps({"seconds": seconds, "rss_gb": rss, "loaded": len(loaded)}))
"""


def _child(code: str, arg: str) -> dict[str, Any]:
    # A fresh process per measurement, so peak RSS is that step's alone.
    out = subprocess.run(
        [sys.executable, "-c", code, arg], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--workspace", type=Path, help="reuse a synthetic workspace folder")
    args = parser.parse_args()

    from supplyseg.data.synth import synth_company, write_workspace

    tmp = tempfile.TemporaryDirectory(prefix="supplyseg-bench-")
    ws = args.workspace or Path(tmp.name)
    if not (ws / "supplyseg.yaml").exists():
        t0 = time.perf_counter()
        company = synth_company(
            customers=max(200, args.lines // 500),
            products=max(50, args.lines // 2000),
            lines=args.lines,
            seed=1,
        )
        write_workspace(company, ws)
        del company
        print(f"generated {args.lines:,} lines in {time.perf_counter() - t0:.1f} s -> {ws}")

    engine = _child(CHILD_LOADER, str(ws))
    naive = _child(CHILD_PANDAS, str(ws))
    read, loaded, rejected = engine["accounts"]["order_lines"]
    print(f"order_lines read {read:,} = loaded {loaded:,} + rejected {rejected:,}")
    for label, r in (
        ("supplyseg load+validate, all tables", engine),
        ("pandas, order_lines", naive),
    ):
        print(f"{label:<36} {r['seconds']:7.2f} s   peak RSS {r['rss_gb']:.2f} GB")
    print(
        f"ratio pandas / supplyseg: {naive['seconds'] / engine['seconds']:.2f}x time,"
        f" {naive['rss_gb'] / engine['rss_gb']:.2f}x peak memory"
    )
    print("targets at 10M lines: <= 30 s, <= 6 GB")


if __name__ == "__main__":
    main()
