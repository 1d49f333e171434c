"""Benchmark: the whole ``supplyseg run`` as a user runs it, every step and the report.

Runs the command line in a fresh process on a workspace (default: the shipped Online Retail
example, 541,909 lines, with its output redirected to a temporary folder), samples the peak RSS
of the process tree (the run and its workbook worker) with psutil, and prints the wall time,
the CPU time of the tree, the manifest's seconds per step, the report's share of the run, the
peak memory and the load average (other work on the machine inflates wall times; CPU time and
peak RSS are the figures to compare). The baseline in the same run is ``supplyseg check``
(load + validate only): the cost of everything after loading is the difference.

    .venv/bin/python bench/run.py                                  # Online Retail
    .venv/bin/python bench/run.py --workspace demo-workspace       # any workspace folder
    .venv/bin/python bench/run.py --lines 10_000_000 --workspace /tmp/ws10m   # synthetic
    .venv/bin/python bench/run.py --workspace /tmp/ws10m \
        --backend 'duckdb:////tmp/ws10m.ddb?memory_limit=2GB'      # out of core
    .venv/bin/python bench/run.py --workspace /data/ws100m --without-pairs \
        --backend 'duckdb:////data/ws100m.ddb?memory_limit=4GB'    # the 100M-line recipe

``--lines`` writes a synthetic company (`synth_company`: 1 customer per 500 lines, 1 product
per 2,000) into ``--workspace`` first, unless it already holds one; above 10M lines with
`write_workspace_chunked` (same design, one week of lines at a time, bounded memory).

Measured on the 2-core, 24 GB development machine shared with other jobs (load average in
brackets; it inflates wall times, so compare CPU time and peak RSS), 10M synthetic lines
(20,000 customers, 5,000 products, 6.1M customer x product pairs), the whole run with
forecast, policies, simulation and report:

==============================  =======  ==========  ===========  ================
run (10M lines)                 wall s   CPU s       peak RSS GB  engine steps s
==============================  =======  ==========  ===========  ================
before (51c4a1b), in-process    342      181 [5]     12.5         235 [5]
in-memory DuckDB (2a5293f)      111      172 [2]     6.3          62 [2]
  same, re-measured 2026-12-05  161      177 [2]     6.37         84 [2]
in-memory DuckDB, now           178      173 [5]     4.43         113 [5]
  same, quiet machine           122      174 [1.6]   4.81         69 [1.6]
engine-sorted pairs (2280629)   124      183 [1.6]   4.54         68 [1.6]
DuckDB file, memory_limit=2GB   117      183 [2]     5.0          67 [2]
same as 2280629, next stop      114.5    165 [1.7]   4.17         64 [1.7]
CTS written by DuckDB (ff8daa3) 107.5    165 [1.7]   4.31         58 [1.7]
row groups' own categories      105.2    159 [1.7]   4.15         57.5 [1.7]
re-measured next stop (*)     103.0    156 [1.6]   4.16         54.4 [1.6]
allocation from the lines     105.0    160 [1.8]   4.15         56.6 [1.8]
  same, --without-pairs         81.2    122 [1.8]   3.90         31.1 [1.8]
engine pair segments, 3 runs  104-108  164-168     4.18-4.36    54.1-57.5 [2]
==============================  =======  ==========  ===========  ================

(*) With a Parquet-encoding change since reverted: it saved 0.4 s of writing, files 5-10 %
larger.

The last row: ``segments_customer_product`` joined to the segment texts and written by DuckDB,
and the demand pairs' batches written on a thread while the next is fetched (the pairs alone:
17.7 -> 14.8 s); three runs on the same code, so the spread is run-to-run variation.

(CPU: the process tree, workbook worker included; "before" counts the main process only.
Engine steps: load, demand, cost-to-serve, customer KPIs, segmentation. Wall times at load
average 5 are not comparable with those at 2: compare CPU and peak RSS.)

Now: the order lines held compressed by in-memory DuckDB (1.9 GB -> 0.2 GB, +3-7 s to
load), ``demand_customer_product`` written in batches from one unsorted engine result (the
engine's sorted result was held twice: +2 GB at the demand step's peak), the allocation mix
and micro-segments by codes per distinct id. Peak RSS per step (main process, GB, before ->
after): load 3.8 -> 3.9, demand 6.2 -> 3.3, cost-to-serve 5.3 -> 3.6, segment 3.5 -> 2.0,
policy 4.8 -> 2.4. Then (2280629): ``demand_customer_product`` put in ABC order on the engine
(a temporary table sorted twice, streamed; the client holds ABC's per-pair arrays only) and
DuckDB without insertion order; demand 25 -> 22 s, peak 4.81 -> 4.54 GB. The pair tables'
later readers (segment, allocation) read them back as categoricals when they need them,
which is what lets 100M lines run with the default grains (README, "Scaling to 100M lines").
Then (ff8daa3): cost-to-serve per order and per pair gets its profit columns on the engine and
DuckDB writes those files itself (cost-to-serve 18.9 -> 14.0 s); the allocation step sums the
pairs a row group at a time; a categorical's row groups store only the categories they use.
Then: the allocation plan sums the order lines per product and customer segment on the engine
(no pass over the pairs); ``--without-pairs`` measures a run without the customer x product
tables (``demand.grains``, ``cost_to_serve.details``), the README's 100M-line recipe.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "online_retail"
SHARED = ROOT.parent / "shared"


def _workspace(source: Path, into: Path, without_pairs: bool) -> Path:
    """A copy of the workspace's yaml whose data paths still resolve, writing into ``into``;
    ``without_pairs``: no customer x product tables (the 100M-line recipe of the README)."""
    text = (source / "supplyseg.yaml").read_text(encoding="utf-8")
    if source == EXAMPLE:
        text = text.replace("../../../shared", str(SHARED))
    else:
        for data in source.iterdir():
            if data.is_dir() and data.name != "out":
                (into / data.name).symlink_to(data.resolve())
    if without_pairs:
        raw = yaml.safe_load(text)
        raw.setdefault("demand", {})["grains"] = ["product", "product_location", "customer"]
        raw.setdefault("cost_to_serve", {})["details"] = ["order"]
        text = yaml.safe_dump(raw, sort_keys=False)
    (into / "supplyseg.yaml").write_text(text, encoding="utf-8")
    return into


def _timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (GB) of the process tree, and stdout; prints CPU and load."""
    started = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [proc, *proc.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {proc.returncode}")
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    load = " ".join(f"{x:.1f}" for x in psutil.getloadavg())
    print(f"  {command[1]}: CPU {cpu:.1f} s (process tree), load average {load}")
    return time.perf_counter() - started, peak / 1e9, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=EXAMPLE)
    parser.add_argument(
        "--lines", type=lambda s: int(s.replace("_", "")), help="synthetic company size"
    )
    parser.add_argument("--backend", help="supplyseg run --backend, e.g. an Ibis DuckDB URL")
    parser.add_argument(
        "--without-pairs",
        action="store_true",
        help="leave out the customer x product tables (demand.grains, cost_to_serve.details)",
    )
    args = parser.parse_args()
    if args.lines and not (args.workspace / "supplyseg.yaml").exists():
        n = args.lines
        sizes = (max(200, n // 500), max(50, n // 2000), n)
        if n > 10_000_000:  # in memory the company takes ~2 GB per 10M lines: write in chunks
            from supplyseg.data.synth_chunks import write_workspace_chunked

            write_workspace_chunked(args.workspace, *sizes, seed=1)
        else:  # up to 10M the same workspace as the figures below were measured on
            from supplyseg.data.synth import synth_company, write_workspace

            write_workspace(synth_company(*sizes, seed=1), args.workspace)
    cli = str(Path(sys.executable).parent / "supplyseg")
    backend = ["--backend", args.backend] if args.backend else []
    with tempfile.TemporaryDirectory() as tmp:
        ws = _workspace(args.workspace.resolve(), Path(tmp), args.without_pairs)
        check_s, check_gb, _ = _timed([cli, "check", str(ws), *backend])
        run_s, run_gb, out = _timed([cli, "run", str(ws), *backend])
        folder = Path(out.strip().splitlines()[-1])
        manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
        shutil.rmtree(ws / "out", ignore_errors=True)
    steps = {k: v for k, v in manifest["timings_seconds"].items() if "." not in k}
    lines = manifest["tables"]["order_lines"]["read"]
    print(f"workspace {args.workspace} ({lines:,} order lines)")
    print(f"{'step':<14}{'seconds':>10}")
    for name, seconds in steps.items():
        print(f"{name:<14}{seconds:>10.2f}")
    total = sum(steps.values())
    print(f"{'steps total':<14}{total:>10.2f}")
    print(
        f"\nrun   wall {run_s:6.1f} s  peak RSS {run_gb:5.2f} GB"
        f"  (report {steps.get('report', 0.0) / total:.0%} of the steps)"
    )
    print(f"check wall {check_s:6.1f} s  peak RSS {check_gb:5.2f} GB  (baseline: load only)")
    print(f"run / check: {run_s / check_s:.1f}x; process start-up and imports are in both")


if __name__ == "__main__":
    main()
