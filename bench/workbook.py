"""Benchmark the run workbook (XlsxWriter, constant_memory) against naive writers.

1. One table (default 20,000 rows x 30 columns: floats, ints, text, dates, booleans):
   ``write_workbook`` (XlsxWriter ``write_row`` per row, constant_memory) vs XlsxWriter
   ``write_column`` per column (needs the whole sheet in memory: constant_memory off) vs
   openpyxl's write-only writer cell by cell, plain and (the naive baseline) with each cell's
   number format, as the workbook needs them.
2. A synthetic run folder (default: 100,000 customers, 20,000 products): the workbook with the
   default detail cap and with no cap (every row of every table, as before the cap).

Each variant runs in its own process so its peak RSS is its own.

    .venv/bin/python bench/workbook.py --rows 20_000 --customers 100_000 --products 20_000
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

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "report"))

from synthetic_run import write_synthetic_run

from supplyseg.report import read_run_folder, write_workbook


def _int(s: str) -> int:
    return int(s.replace("_", ""))


def _table(rows: int) -> pa.Table:
    rng = np.random.default_rng(0)
    cols: dict[str, Any] = {}
    for j in range(12):
        cols[f"amount_{j}"] = rng.lognormal(5, 2, rows)
    for j in range(8):
        cols[f"count_{j}"] = rng.integers(0, 10**6, rows)
    for j in range(6):
        cols[f"id_{j}"] = pa.array([f"C{k:06d}" for k in rng.integers(0, 10**6, rows)])
    day = np.datetime64("2024-01-01")
    for j in range(2):
        cols[f"date_{j}"] = day + rng.integers(0, 365, rows).astype("timedelta64[D]")
    for j in range(2):
        cols[f"flag_{j}"] = rng.random(rows) < 0.5
    return pa.table(cols)


def _ours(folder: Path) -> dict[str, Any]:
    t = time.perf_counter()
    sheets = write_workbook(read_run_folder(folder), folder / "ours.xlsx")
    return {"s": time.perf_counter() - t, "bytes": (folder / "ours.xlsx").stat().st_size,
            "written": sum(s.written for s in sheets)}  # fmt: skip


def _write_column(folder: Path) -> dict[str, Any]:
    import xlsxwriter

    table = pq.read_table(folder / "t.parquet")
    t = time.perf_counter()
    book = xlsxwriter.Workbook(str(folder / "columns.xlsx"), {"strings_to_formulas": False,
                               "strings_to_urls": False})  # fmt: skip
    ws = book.add_worksheet("t")
    ws.write_row(0, 0, table.column_names)
    for j, column in enumerate(table.columns):
        ws.write_column(1, j, column.to_pylist())
    book.close()
    return {"s": time.perf_counter() - t, "bytes": (folder / "columns.xlsx").stat().st_size}


def _openpyxl_cells(folder: Path, styled: bool) -> dict[str, Any]:
    """openpyxl's write-only writer, cell by cell; ``styled``: each cell a WriteOnlyCell with
    its column's number format (what the workbook needs, and what took 278 s on 12M cells)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    table = pq.read_table(folder / "t.parquet")
    formats = ["#,##0.00" if pa.types.is_floating(f.type) else "#,##0"
               if pa.types.is_integer(f.type) else "yyyy-mm-dd"
               if pa.types.is_date(f.type) else None for f in table.schema]  # fmt: skip
    t = time.perf_counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("t")
    ws.append(table.column_names)
    for batch in table.to_batches(max_chunksize=10_000):
        for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
            if not styled:
                ws.append(list(row))
                continue
            cells = []
            for value, fmt in zip(row, formats, strict=True):
                cell = WriteOnlyCell(ws, value)
                if fmt is not None:
                    cell.number_format = fmt
                cells.append(cell)
            ws.append(cells)
    wb.save(folder / "naive.xlsx")
    return {"s": time.perf_counter() - t, "bytes": (folder / "naive.xlsx").stat().st_size}


def _run_workbook(folder: Path, cap: int | None) -> dict[str, Any]:
    run = read_run_folder(folder)
    t = time.perf_counter()
    sheets = write_workbook(run, folder / "wb.xlsx", detail_max_rows=cap)
    seconds = time.perf_counter() - t
    widths = {s.table: len(pq.ParquetFile(run.table_path(s.table)).schema_arrow) for s in sheets}
    return {
        "s": seconds,
        "bytes": (folder / "wb.xlsx").stat().st_size,
        "written": sum(s.written for s in sheets),
        "cells": sum(s.written * widths[s.table] for s in sheets),
        "cut": [(s.table, s.rows, s.written) for s in sheets if s.truncated],
    }


def _peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (reset by exec, unlike ru_maxrss, which a spawned child
    inherits from its parent on Linux), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], out: Any) -> None:
    start = _peak_rss_mb()  # after the imports
    result = fn(*args)
    result["rss_mb"] = _peak_rss_mb()
    result["rss_start_mb"] = start
    out.send(json.dumps(result))


def _rss(r: dict[str, Any]) -> str:
    return (
        f"peak RSS {r['rss_mb']:,.0f} MB (+{r['rss_mb'] - r['rss_start_mb']:,.0f} MB after imports)"
    )


def _measure(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``fn(*args)`` in a fresh process; its result with that process's peak RSS."""
    ctx = mp.get_context("spawn")  # a fresh process: its peak RSS is its own
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, args, send))
    proc.start()
    result: dict[str, Any] = json.loads(recv.recv())
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=_int, default=20_000)
    parser.add_argument("--customers", type=_int, default=100_000)
    parser.add_argument("--products", type=_int, default=20_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "one"
        folder.mkdir()
        table = _table(args.rows)
        pq.write_table(table, folder / "t.parquet")
        (folder / "manifest.json").write_text("{}")
        cells = table.num_rows * table.num_columns
        print(f"one table: {table.num_rows:,} rows x {table.num_columns} columns = {cells:,} cells")
        naive = _measure(_openpyxl_cells, folder, True)
        for name, fn, fn_args in (
            ("write_workbook (XlsxWriter write_row, constant_memory)", _ours, ()),
            ("XlsxWriter write_column, constant_memory off", _write_column, ()),
            ("openpyxl write-only, cell by cell, no formats", _openpyxl_cells, (False,)),
            ("naive: openpyxl write-only, cell by cell with formats", _openpyxl_cells, (True,)),
        ):
            r = naive if fn_args == (True,) else _measure(fn, folder, *fn_args)
            print(f"  {name}: {r['s']:.2f} s, {cells / r['s']:,.0f} cells/s,"
                  f" {r['bytes'] / 1e6:.1f} MB, {_rss(r)};"
                  f" {naive['s'] / r['s']:.1f}x the naive speed")  # fmt: skip

        run_dir = Path(tmp) / "run"
        t = time.perf_counter()
        write_synthetic_run(run_dir, n_customers=args.customers, n_products=args.products)
        print(f"synthetic run: {args.customers:,} customers, {args.products:,} products"
              f" (written in {time.perf_counter() - t:.1f} s)")  # fmt: skip
        for label, cap in (("default detail cap", 100_000), ("no detail cap", None)):
            r = _measure(_run_workbook, run_dir, cap)
            print(f"  {label}: {r['bytes'] / 1e6:.1f} MB, {r['written']:,} rows,"
                  f" {r['cells']:,} cells in {r['s']:.1f} s ({r['cells'] / r['s']:,.0f} cells/s),"
                  f" {_rss(r)}")  # fmt: skip
            for table_name, rows, written in r["cut"]:
                print(f"    {table_name}: {written:,} of {rows:,} rows on the sheet")


if __name__ == "__main__":
    main()
