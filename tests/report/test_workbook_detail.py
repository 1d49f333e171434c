"""The detail-table cap: one-row-per-order/line/pair tables keep their top rows, summaries all."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from supplyseg.report import DETAIL_MAX_ROWS, read_run_folder, write_report, write_workbook
from supplyseg.report.workbook import DETAIL_TABLES


def _run(folder: Path, tables: dict[str, pa.Table]) -> Path:
    (folder / "manifest.json").write_text(json.dumps({"run_id": "r1"}))
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet", row_group_size=4_000)
    return folder


def _column_a(path: Path, sheet: str) -> list[object]:
    book = load_workbook(path, read_only=True)
    try:
        return [r[0] for r in book[sheet].iter_rows(min_row=2, max_col=1, values_only=True)]
    finally:
        book.close()


def _readme(path: Path) -> list[list[object]]:
    book = load_workbook(path, read_only=True)
    try:
        return [list(r) for r in book["README"].iter_rows(values_only=True)]
    finally:
        book.close()


def _largest_revenue_first(revenue: list[float | None]) -> list[int]:
    """Oracle: positions by revenue, largest first; ties and missing (None/NaN) in file order."""
    present = [i for i, v in enumerate(revenue) if v is not None and not np.isnan(v)]
    missing = [i for i in range(len(revenue)) if i not in set(present)]
    return sorted(present, key=lambda i: -revenue[i]) + missing  # type: ignore[operator]


REVENUE = st.none() | st.sampled_from([0.0, 5.0, -3.0, float("nan")]) | st.floats(-1e6, 1e6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(REVENUE, min_size=1, max_size=40), st.integers(1, 45))
def test_a_capped_detail_table_keeps_its_largest_revenue_rows(
    revenue: list[float | None], cap: int
) -> None:
    n = len(revenue)
    ids = [f"L{i:03d}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        run = _run(
            Path(tmp),
            {
                "cost_to_serve_order": pa.table(
                    {"order_id": ids, "revenue": pa.array(revenue, pa.float64())}
                ),
                "rejects": pa.table({"row_number": pa.array(range(n), pa.int64())}),
                "demand_customer": pa.table({"customer_id": ids}),  # a summary table
            },
        )
        path = run / "wb.xlsx"
        info = {s.table: s for s in write_workbook(read_run_folder(run), path, detail_max_rows=cap)}
        kept = min(n, cap)
        # Cut: the largest revenue first; not cut: file order, as every other table.
        expected = [ids[i] for i in _largest_revenue_first(revenue)[:kept]] if cap < n else ids
        assert _column_a(path, "cost_to_serve_order") == expected
        assert _column_a(path, "rejects") == list(range(kept))  # no revenue: first rows
        assert _column_a(path, "demand_customer") == ids  # summaries are never capped
        assert info["cost_to_serve_order"].written == info["rejects"].written == kept
        assert info["cost_to_serve_order"].left_out == n - kept
        assert not info["demand_customer"].truncated
        readme = _readme(path)
        if cap < n:
            left = f"{n - kept:,} rows left out; full table in cost_to_serve_order.parquet"
            assert [
                "cost_to_serve_order", "cost_to_serve_order", n,
                f"detail table: the {kept:,} rows with the largest revenue; {left}", kept, n - kept,
            ] in readme  # fmt: skip
            left = f"{n - kept:,} rows left out; full table in rejects.parquet"
            assert [
                "rejects", "rejects", n, f"detail table: the first {kept:,} rows; {left}", kept,
                n - kept,
            ] in readme  # fmt: skip
        assert ["demand_customer", "demand_customer", n, None, n, 0] in readme


def test_the_top_rows_are_found_across_batches_and_row_groups(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n, cap = 25_000, 12_345
    revenue = rng.integers(0, 5_000, n).astype("float64")  # many ties
    revenue[rng.random(n) < 0.01] = np.nan
    run = _run(
        tmp_path,
        {"demand_customer_product": pa.table({"line": np.arange(n), "revenue": revenue})},
    )
    write_workbook(read_run_folder(run), tmp_path / "wb.xlsx", detail_max_rows=cap)
    frame = pd.DataFrame({"line": np.arange(n), "revenue": revenue})
    oracle = frame.sort_values("revenue", ascending=False, kind="stable", na_position="last")
    assert _column_a(tmp_path / "wb.xlsx", "demand_customer_product") == list(
        oracle["line"].head(cap)
    )


def test_the_default_cap_is_5k_rows_and_the_readme_states_the_policy(tmp_path: Path) -> None:
    assert DETAIL_MAX_ROWS == 5_000
    n = DETAIL_MAX_ROWS + 1
    run = _run(tmp_path, {"rejects": pa.table({"row_number": np.arange(n)})})
    (sheet,) = write_workbook(read_run_folder(run), tmp_path / "wb.xlsx")
    assert (sheet.rows, sheet.written, sheet.left_out) == (n, DETAIL_MAX_ROWS, 1)
    text = " ".join(str(v) for row in _readme(tmp_path / "wb.xlsx") for v in row if v)
    assert "at most 5,000 of their rows" in text
    assert "<table>.parquet in the run folder, next to this workbook" in text
    for table in DETAIL_TABLES:
        assert table in text


def test_no_detail_cap_writes_detail_tables_in_full(tmp_path: Path) -> None:
    ids = [f"L{i}" for i in range(30)]
    run = _run(tmp_path, {"segments_customer_product": pa.table({"id": ids})})
    (sheet,) = write_workbook(read_run_folder(run), tmp_path / "wb.xlsx", detail_max_rows=None)
    assert sheet.written == 30
    assert _column_a(tmp_path / "wb.xlsx", "segments_customer_product") == ids
    assert (
        write_workbook(read_run_folder(run), tmp_path / "wb.xlsx", detail_max_rows=7)[0].written
        == 7
    )


def test_write_report_passes_the_detail_cap_on(run_dir: Path) -> None:
    result = write_report(run_dir, detail_max_rows=10)
    info = {s.table: s for s in result.sheets}
    assert info["demand_customer_product"].written == 10
    assert info["demand_customer_product"].rows > 10
    assert info["demand_customer"].written == info["demand_customer"].rows == 150
