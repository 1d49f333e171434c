"""The workbook reopened with openpyxl: sheets, row counts, frozen headers, filters, formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from supplyseg.errors import ConfigError
from supplyseg.report import ReportResult, read_run_folder, write_workbook
from supplyseg.report.workbook import EXCEL_MAX_ROWS, sheet_names


def test_one_sheet_per_table_with_every_row(full_report: ReportResult, book: Workbook) -> None:
    run = full_report.workbook.parent
    tables = {p.stem: pd.read_parquet(p) for p in run.glob("*.parquet")}
    wb = book
    assert wb.sheetnames[:2] == ["README", "Assumptions"]
    assert sorted(wb.sheetnames[2:]) == sorted(tables)
    for name, frame in tables.items():
        ws = wb[name]
        header = [c.value for c in ws[1]]
        assert header == list(frame.columns), name
        assert ws.max_row - 1 == len(frame), name
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{len(frame) + 1}"
        assert ws["A1"].font.b
    info = {s.table: s for s in full_report.sheets}
    assert all(s.rows == s.written == len(tables[s.table]) for s in info.values())


def test_values_and_number_formats_follow_the_column_units(
    full_report: ReportResult, book: Workbook
) -> None:
    run = full_report.workbook.parent
    cts = pd.read_parquet(run / "cost_to_serve_customer.parquet")
    ws = book["cost_to_serve_customer"]
    col = {c.value: c.column for c in ws[1]}
    row = ws[2]
    assert row[col["customer_id"] - 1].value == cts["customer_id"].iloc[0]
    assert row[col["revenue"] - 1].value == pytest.approx(cts["revenue"].iloc[0])
    assert row[col["revenue"] - 1].number_format == "#,##0.00"
    assert row[col["freight"] - 1].number_format == "#,##0.00"  # a cost pool is an amount
    assert row[col["cts_pct_revenue"] - 1].number_format == '0.0"%"'  # already x 100
    assert row[col["cum_profit_share"] - 1].number_format == "0.0%"  # a 0-1 share
    assert row[col["profit_rank"] - 1].number_format == "#,##0"
    demand = book["demand_product"]
    dcol = {c.value: c.column for c in demand[1]}
    assert demand.cell(2, dcol["first_period"]).number_format == "yyyy-mm-dd"
    assert demand.cell(2, dcol["first_period"]).is_date


def test_dangerous_text_is_written_as_plain_text(book: Workbook) -> None:
    ws = book["rejects"]
    col = {c.value: c.column for c in ws[1]}
    values = [ws.cell(r, col["value"]).value for r in range(2, ws.max_row + 1)]
    types = [ws.cell(r, col["value"]).data_type for r in range(2, ws.max_row + 1)]
    # A value that looks like a formula stays text; control characters are dropped.
    assert '=HYPERLINK("http://x")' in values
    assert "f" not in types
    assert not any("\x07" in str(v) for v in values)


def test_missing_and_infinite_numbers_are_empty_cells(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "manifest.json").write_text("{}")
    frame = pd.DataFrame({"pattern": ["smooth", "lumpy"], "relative_mae": [np.inf, np.nan]})
    frame.to_parquet(run_dir / "forecast_accuracy.parquet")
    path = tmp_path / "wb.xlsx"
    write_workbook(read_run_folder(run_dir), path)
    ws = load_workbook(path)["forecast_accuracy"]
    assert [ws.cell(r, 2).value for r in (2, 3)] == [None, None]


def _readme(path: Path) -> list[list[object]]:
    book = load_workbook(path)
    return [[c.value for c in row] for row in book["README"].iter_rows()]


def test_a_table_longer_than_the_row_cap_is_cut_and_the_readme_says_so(
    run_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "wb.xlsx"
    sheets = write_workbook(read_run_folder(run_dir), path, max_rows=50)
    wb = load_workbook(path)
    info = {s.table: s for s in sheets}
    assert info["cts_breakdown"].rows == 600
    assert info["cts_breakdown"].written == 50
    assert info["cts_breakdown"].truncated
    assert wb["cts_breakdown"].max_row == 51
    first = pd.read_parquet(run_dir / "cts_breakdown.parquet").head(50)  # first rows, file order
    assert [c.value for c in wb["cts_breakdown"]["A"][1:]] == list(first["customer_id"])
    assert not info["segment_summary"].truncated
    readme = _readme(path)
    note = "cut at the row cap of 50 rows; 550 rows left out; full table in cts_breakdown.parquet"
    assert ["cts_breakdown", "cts_breakdown", 600, note, 50, 550] in readme
    assert info["cts_breakdown"].note == note
    described = {(r[0], r[1]) for r in readme if len(r) >= 4 and r[2] is not None}
    assert ("customer_metrics", "otif") in described
    link = next(c for c in wb["README"]["A"] if c.value == "cts_breakdown" and c.hyperlink)
    assert link.hyperlink.location == "'cts_breakdown'!A1"


def test_row_caps_outside_excel_limits_are_refused(run_dir: Path, tmp_path: Path) -> None:
    run = read_run_folder(run_dir)
    for bad in (0, EXCEL_MAX_ROWS, True):
        with pytest.raises(ConfigError, match="max_rows"):
            write_workbook(run, tmp_path / "wb.xlsx", max_rows=bad)
        with pytest.raises(ConfigError, match=rf"detail_max_rows: {bad!r} .* or None"):
            write_workbook(run, tmp_path / "wb.xlsx", detail_max_rows=bad)
    assert not (tmp_path / "wb.xlsx").exists()


def test_sheet_names_are_unique_short_and_legal() -> None:
    names = sheet_names(
        ["cost_to_serve_customer_product_extra_long", "cost_to_serve_customer_product_extra_x",
         "a/b:c", "README"]
    )  # fmt: skip
    values = list(names.values())
    assert len({v.lower() for v in values}) == len(values)
    assert all(len(v) <= 31 for v in values)
    assert names["a/b:c"] == "a_b_c"
    assert names["README"].lower() != "readme"
