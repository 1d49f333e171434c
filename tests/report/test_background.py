"""The workbook written by a worker process as tables become final equals the one written at
the end; a table rewritten after its sheet, a failing worker and an abort are handled."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from synthetic_run import write_synthetic_run

from supplyseg.report import write_report, write_workbook
from supplyseg.report.background import BackgroundWorkbook, WorkbookError
from supplyseg.report.run_folder import read_run_folder


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_sheets_written_in_steps_equal_the_workbook_written_at_once(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run")
    tables = read_run_folder(run_dir).table_names()
    bg = BackgroundWorkbook(run_dir, run_dir / "workbook.xlsx", detail_max_rows=50)
    bg.add(tables[:3])  # as after a first step
    bg.add(tables[:5])  # tables already sent are not sent twice
    result = write_report(run_dir, detail_max_rows=50, background=bg)
    background = _cells(result.workbook)
    reference = tmp_path / "reference.xlsx"
    write_workbook(read_run_folder(run_dir), reference, detail_max_rows=50)
    at_once = _cells(reference)
    assert list(background) == list(at_once)  # same sheets, same order (report order)
    for sheet, rows in at_once.items():
        assert background[sheet] == rows, sheet
    assert [s.table for s in result.sheets] == tables
    assert not list(run_dir.glob(".workbook-*"))  # the staging folder is gone


def test_a_table_rewritten_after_its_sheet_is_written_again(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run")
    bg = BackgroundWorkbook(run_dir, run_dir / "workbook.xlsx")
    bg.sync()
    policies = run_dir / "policies.parquet"
    frame = pd.read_parquet(policies)
    frame["product_id"] = "REWRITTEN"
    frame.to_parquet(policies, index=False)
    result = write_report(run_dir, background=bg)
    assert bg.stale
    sheet = _cells(result.workbook)["policies"]
    assert {row[0] for row in sheet[1:]} == {"REWRITTEN"}


def test_a_failing_worker_is_an_error_with_its_message(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run")
    (run_dir / "broken.parquet").write_bytes(b"not parquet")
    bg = BackgroundWorkbook(run_dir, run_dir / "workbook.xlsx")
    with pytest.raises(WorkbookError, match=r"broken\.parquet|Parquet"):
        bg.finish()
    assert not (run_dir / "workbook.xlsx").exists()


def test_abort_stops_the_worker_and_leaves_no_workbook(tmp_path: Path) -> None:
    run_dir = write_synthetic_run(tmp_path / "run")
    bg = BackgroundWorkbook(run_dir, run_dir / "workbook.xlsx")
    bg.sync()
    bg.abort()
    bg.abort()  # twice is harmless
    assert not (run_dir / "workbook.xlsx").exists()
