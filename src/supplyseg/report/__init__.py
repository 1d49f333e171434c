"""The planner's report of a run: ``report.html`` (self-contained) and ``workbook.xlsx``.

``write_report(run_dir)`` reads what ``out/<run_id>/`` holds (manifest, rejects, the analytics
tables) and writes both files into that folder. Sections whose tables are absent say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from supplyseg.report.headline import headline_numbers
from supplyseg.report.html import render_html, write_html
from supplyseg.report.run_folder import RunFolder, read_run_folder
from supplyseg.report.sections import report_sections
from supplyseg.report.workbook import DETAIL_MAX_ROWS, EXCEL_MAX_ROWS, SheetInfo, write_workbook

if TYPE_CHECKING:
    from supplyseg.report.background import BackgroundWorkbook

__all__ = [
    "DETAIL_MAX_ROWS",
    "EXCEL_MAX_ROWS",
    "ReportResult",
    "RunFolder",
    "SheetInfo",
    "headline_numbers",
    "read_run_folder",
    "render_html",
    "report_sections",
    "write_html",
    "write_report",
    "write_workbook",
]


@dataclass(frozen=True)
class ReportResult:
    """Where the report went and what the workbook holds."""

    html: Path
    workbook: Path
    sheets: tuple[SheetInfo, ...]


def write_report(
    run_dir: Path,
    *,
    max_rows: int = EXCEL_MAX_ROWS - 1,
    detail_max_rows: int | None = DETAIL_MAX_ROWS,
    background: BackgroundWorkbook | None = None,
) -> ReportResult:
    """Write ``report.html`` and ``workbook.xlsx`` into the run folder ``run_dir``.

    ``max_rows`` caps the rows per workbook sheet (Excel's limit by default) and
    ``detail_max_rows`` the sheets of the detail tables (one row per order, line or pair; None:
    no extra cap); the full tables stay in the run folder's Parquet files. Raises
    DataContractError when ``run_dir`` is not a run folder. ``background``: the workbook is
    being written by that worker (`supplyseg.report.background`, same caps); the HTML is
    written while it finishes. Should a table have changed after its sheet was written, the
    worker is dropped and the workbook written here.
    """
    run = read_run_folder(run_dir)
    if background is not None:
        background.sync(hold=())  # the last tables go to the worker before the HTML starts
        if background.stale:
            background.abort()
            background = None
    html = write_html(run, run.path / "report.html")
    workbook = run.path / "workbook.xlsx"
    if background is not None:
        sheets = background.finish()
    else:
        sheets = write_workbook(run, workbook, max_rows=max_rows, detail_max_rows=detail_max_rows)
    return ReportResult(html, workbook, tuple(sheets))
