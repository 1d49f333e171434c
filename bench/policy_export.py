"""Benchmark writing ``erp_parameters.xlsx``: XlsxWriter (constant memory) against openpyxl.

Builds the policies of N synthetic item-locations with `policy_outputs` (as in
``bench/policy_assign.py``; not timed), takes the ERP table (`erp_parameters`: 25 columns,
numbers rounded) and times, each in its own process so its peak RSS is its own:

- ours: `supplyseg.policy.export`'s XlsxWriter writer (constant_memory, frozen bold header,
  autofilter, number formats, sheets of at most 1,048,575 rows);
- naive baseline: the writer it replaced, openpyxl's write-only workbook appending each row's
  Python values (no header style, filter or formats).

    .venv/bin/python bench/policy_export.py                        # 100,000 and 1,000,000 rows
    .venv/bin/python bench/policy_export.py --rows 20_000 --no-baseline-above 0
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policy_assign import synthetic_inputs
from supplyseg.config.policy import PolicySettings
from supplyseg.policy import export
from supplyseg.policy.assign import policy_outputs


def _int(s: str) -> int:
    return int(s.replace("_", ""))


def _ours(table: Path, out: Path) -> dict[str, Any]:
    erp = pd.read_pickle(table)
    t = time.perf_counter()
    export._write_xlsx(erp, out, "erp_parameters")
    return {"s": time.perf_counter() - t, "bytes": out.stat().st_size}


def _openpyxl_write_only(table: Path, out: Path) -> dict[str, Any]:
    """The writer `export` used before: openpyxl write-only, one ``append`` per row."""
    from openpyxl import Workbook

    erp = pd.read_pickle(table)
    t = time.perf_counter()
    wb = Workbook(write_only=True)
    header = list(erp.columns)
    columns = []
    for c in header:
        values = erp[c].to_numpy(dtype=object)
        values[pd.isna(values)] = None
        columns.append(values)
    for part, start in enumerate(range(0, max(len(erp), 1), export.XLSX_MAX_ROWS)):
        ws = wb.create_sheet("erp_parameters" if part == 0 else f"erp_parameters_{part + 1}")
        ws.append(header)
        stop = min(start + export.XLSX_MAX_ROWS, len(erp))
        for row in zip(*(col[start:stop].tolist() for col in columns), strict=True):
            ws.append(row)
    wb.save(out)
    return {"s": time.perf_counter() - t, "bytes": out.stat().st_size}


def _peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (reset by exec), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], out: Any) -> None:
    result = fn(*args)
    result["rss_mb"] = _peak_rss_mb()
    out.send(json.dumps(result))


def _measure(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``fn(*args)`` in a fresh process; its result with that process's peak RSS."""
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, args, send))
    proc.start()
    result: dict[str, Any] = json.loads(recv.recv())
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=lambda s: [_int(x) for x in s.split(",")], default=[100_000, 1_000_000]
    )
    parser.add_argument(
        "--no-baseline-above", type=_int, default=None, help="skip openpyxl above this many rows"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            inputs = synthetic_inputs(n, 42)
            t = time.perf_counter()
            result = policy_outputs(
                inputs["segments"],
                inputs["demand"],
                inputs["products"],
                PolicySettings(),
                bucket="week",
            )
            erp = export.erp_parameters(result.policies)
            table = Path(tmp) / f"erp_{n}.pkl"
            erp.to_pickle(table)
            cells = erp.shape[0] * erp.shape[1]
            print(
                f"erp_parameters: {erp.shape[0]:,} rows x {erp.shape[1]} columns = {cells:,}"
                f" cells (policies built in {time.perf_counter() - t:.1f} s, not timed)"
            )
            ours = _measure(_ours, table, Path(tmp) / "ours.xlsx")
            print(
                f"  XlsxWriter (ours):        {ours['s']:7.1f} s, {cells / ours['s']:,.0f} cells/s,"
                f" {ours['bytes'] / 1e6:.1f} MB, peak RSS {ours['rss_mb']:,.0f} MB"
            )
            if args.no_baseline_above is not None and n > args.no_baseline_above:
                continue
            naive = _measure(_openpyxl_write_only, table, Path(tmp) / "naive.xlsx")
            print(
                f"  openpyxl write-only (was): {naive['s']:6.1f} s,"
                f" {cells / naive['s']:,.0f} cells/s, {naive['bytes'] / 1e6:.1f} MB,"
                f" peak RSS {naive['rss_mb']:,.0f} MB"
            )
            print(f"  ours is {naive['s'] / ours['s']:.1f}x the speed of the previous writer")


if __name__ == "__main__":
    main()
