"""Benchmark the report on a synthetic run folder (default: the issue's 100k customers).

Prints seconds, peak RSS and sizes of report.html and workbook.xlsx, and compares the page with a
naive build measured in the same run: every chart a full Plotly HTML export (plotly.js inlined per
chart) with every point drawn (no sampling or thinning).

    .venv/bin/python bench/report.py --customers 100_000 --products 20_000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import plotly.io as pio
import pyarrow.parquet as pq
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "report"))

from synthetic_run import write_synthetic_run

from supplyseg.report import figures, read_run_folder, write_html, write_workbook
from supplyseg.report.blocks import Chart
from supplyseg.report.sections import report_sections


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _naive_html_bytes(run_dir: Path) -> int:
    """Every chart exported on its own with plotly.js, and scatters drawn in full."""
    with (
        mock.patch.object(figures, "sampled", lambda frame, *a, **k: frame),
        mock.patch.object(figures, "curve_index", lambda n, keep=(): np.arange(n)),
    ):
        sections = report_sections(read_run_folder(run_dir))
    charts = [b for s in sections for b in s.blocks if isinstance(b, Chart)]
    return sum(len(pio.to_html(c.figure, include_plotlyjs=True).encode()) for c in charts)


def _workbook_ratio(run_dir: Path, table: str, rows: int) -> None:
    """Ours vs openpyxl's own write-only writer, cell by cell, on the same ``rows`` rows."""
    frame = pq.read_table(run_dir / f"{table}.parquet").slice(0, rows)
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp)
        pq.write_table(frame, one / f"{table}.parquet")
        (one / "manifest.json").write_text("{}")
        t = time.perf_counter()
        write_workbook(read_run_folder(one), one / "ours.xlsx")
        ours = time.perf_counter() - t
        t = time.perf_counter()
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(table)
        ws.append(frame.column_names)
        for row in frame.to_pylist():
            ws.append(list(row.values()))
        wb.save(one / "naive.xlsx")
        naive = time.perf_counter() - t
    cells = frame.num_rows * frame.num_columns
    print(f"workbook rows, {table} x {frame.num_rows:,}: ours {cells / ours:,.0f} cells/s,"
          f" openpyxl cell by cell {cells / naive:,.0f} cells/s;"
          f" ratio {naive / ours:.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=lambda s: int(s.replace("_", "")), default=100_000)
    parser.add_argument("--products", type=lambda s: int(s.replace("_", "")), default=20_000)
    parser.add_argument("--skip-workbook", action="store_true", help="time the page only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        t = time.perf_counter()
        write_synthetic_run(run_dir, n_customers=args.customers, n_products=args.products)
        print(f"synthetic run: {args.customers:,} customers, {args.products:,} products,"
              f" written in {time.perf_counter() - t:.1f} s")  # fmt: skip
        run = read_run_folder(run_dir)

        t = time.perf_counter()
        html = write_html(run, run_dir / "report.html")
        html_s = time.perf_counter() - t
        size = html.stat().st_size
        print(f"report.html: {size / 1e6:.2f} MB in {html_s:.1f} s, peak RSS {_rss_mb():,.0f} MB")

        t = time.perf_counter()
        naive = _naive_html_bytes(run_dir)
        naive_s = time.perf_counter() - t
        print(f"naive page (plotly.js per chart, every point): {naive / 1e6:.1f} MB"
              f" in {naive_s:.1f} s; ratio naive / ours = {naive / size:.1f}x")  # fmt: skip

        if not args.skip_workbook:
            t = time.perf_counter()
            sheets = write_workbook(run, run_dir / "workbook.xlsx")
            wb_s = time.perf_counter() - t
            widths = {s.table: pq.ParquetFile(run.table_path(s.table)).schema_arrow for s in sheets}
            cells = sum(s.written * len(widths[s.table]) for s in sheets)
            wb_size = (run_dir / "workbook.xlsx").stat().st_size
            print(f"workbook.xlsx: {wb_size / 1e6:.1f} MB, {len(sheets)} sheets,"
                  f" {sum(s.written for s in sheets):,} rows, {cells:,} cells in {wb_s:.1f} s"
                  f" ({cells / wb_s:,.0f} cells/s), peak RSS {_rss_mb():,.0f} MB")  # fmt: skip
            for s in sorted(sheets, key=lambda s: -s.written)[:4]:
                print(f"  {s.sheet}: {s.written:,} rows")
            _workbook_ratio(run_dir, "customer_metrics", min(args.customers, 50_000))


if __name__ == "__main__":
    main()
