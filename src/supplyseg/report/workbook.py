"""The run's tables as one Excel workbook: a README sheet, then one sheet per output table.

Each data sheet has a bold frozen header, an autofilter over its rows, number formats from the
column's unit (currency, %, counts, dates) and sensible widths. openpyxl writes the workbook
(README, header, styles, panes, filters); the data rows are streamed from Parquet in batches as
sheet XML built with Arrow compute (`supplyseg.report.xlsx_rows`), so large tables take seconds
and memory stays flat.

Excel holds at most 1,048,576 rows per sheet (1,048,575 under the header). A longer table is cut
there: its first rows (in the Parquet file's order) are on the sheet, the README sheet says how
many rows were left out, and the full table stays in ``<table>.parquet`` in the run folder.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from supplyseg.errors import ConfigError
from supplyseg.report.columns import Column, Unit, column_info
from supplyseg.report.run_folder import RunFolder
from supplyseg.report.xlsx_rows import SheetFill, fill_rows, probe_value

__all__ = ["EXCEL_MAX_ROWS", "SheetInfo", "sheet_names", "write_workbook"]

EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header included
_FORMATS: dict[Unit, str] = {
    "currency": "#,##0.00",
    "percent": '0.0"%"',
    "fraction": "0.0%",
    "count": "#,##0",
    "days": "#,##0.0",
    "number": "#,##0.00",
    "date": "yyyy-mm-dd",
    "text": "General",
}
_HEADER_FILL = PatternFill("solid", fgColor="E5E7EB")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class SheetInfo:
    """One table's sheet: its name, the table's rows and how many are on the sheet."""

    table: str
    sheet: str
    rows: int
    written: int

    @property
    def truncated(self) -> bool:
        return self.written < self.rows


def sheet_names(tables: Sequence[str]) -> dict[str, str]:
    """A unique Excel sheet name (≤ 31 characters, no ``[]:*?/\\``) per table name."""
    used = {"readme"}
    names: dict[str, str] = {}
    for table in tables:
        base = _BAD_SHEET_CHARS.sub("_", table)[:31]
        name, i = base, 2
        while name.lower() in used:
            suffix = f"~{i}"
            name, i = base[: 31 - len(suffix)] + suffix, i + 1
        used.add(name.lower())
        names[table] = name
    return names


def _column(table: str, name: str, dtype: pa.DataType) -> Column:
    np_dtype: Any = None
    if pa.types.is_floating(dtype):
        np_dtype = np.dtype("float64")
    elif pa.types.is_integer(dtype):
        np_dtype = np.dtype("int64")
    elif pa.types.is_boolean(dtype):
        np_dtype = np.dtype("bool")
    elif pa.types.is_temporal(dtype):
        np_dtype = np.dtype("datetime64[ns]")
    return column_info(name, np_dtype, table=table)


def _fraction_is_percent(parquet: pq.ParquetFile, name: str) -> bool:
    """A share column holding values in % (not 0–1) is formatted as a plain % number."""
    col = parquet.read(columns=[name]).column(0)
    if not pa.types.is_floating(col.type) and not pa.types.is_integer(col.type):
        return False
    values = col.cast(pa.float64())
    top = pc.max(pc.abs(pc.if_else(pc.is_finite(values), values, None))).as_py()
    return top is not None and top > 1.5


def _widths(parquet: pq.ParquetFile, schema: pa.Schema) -> list[int]:
    """Column widths from the header and the first 200 values (10 to 50 characters)."""
    widths = [max(10, min(len(f.name) + 3, 40)) for f in schema]
    first = next(parquet.iter_batches(batch_size=200), None)
    if first is None:
        return widths
    for j, column in enumerate(first.columns):
        sample = [len(str(v)) for v in column.to_pylist() if v is not None]
        if sample:
            widths[j] = max(widths[j], min(max(sample) + 2, 50))
    return widths


def _sheet_frame(wb: Workbook, run: RunFolder, table: str, sheet: str, max_rows: int) -> SheetFill:
    """The sheet's frame in openpyxl (widths, frozen styled header, filter) and a probe row
    whose cells carry each column's number format; `fill_rows` replaces it with the data."""
    path = run.table_path(table)
    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    rows = min(parquet.metadata.num_rows, max_rows)
    ws = wb.create_sheet(sheet)
    for j, width in enumerate(_widths(parquet, schema), start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(schema), 1))}{rows + 1}"
    header = []
    for f in schema:
        cell = WriteOnlyCell(ws, f.name)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="top")
        header.append(cell)
    ws.append(header)
    if rows:
        probe = []
        for f in schema:
            unit: Unit = _column(table, f.name, f.type).unit
            if unit == "fraction" and _fraction_is_percent(parquet, f.name):
                unit = "percent"
            cell = WriteOnlyCell(ws, probe_value(f.type))
            cell.number_format = _FORMATS[unit]
            probe.append(cell)
        ws.append(probe)
    return SheetFill(sheet, path, rows)


def _readme(
    wb: Workbook, run: RunFolder, infos: list[SheetInfo], columns: dict[str, list[Column]]
) -> None:
    ws = wb.create_sheet("README", 0)
    for col, width in zip("ABCDE", (28, 34, 14, 70, 14), strict=True):
        ws.column_dimensions[col].width = width
    bold = Font(bold=True)

    def line(*values: Any, strong: bool = False) -> None:
        row = []
        for v in values:
            cell = WriteOnlyCell(ws, v)
            if isinstance(v, str) and v.startswith("="):
                cell.data_type = "s"
            if strong:
                cell.font = bold
            row.append(cell)
        ws.append(row)

    m = run.manifest
    line("supplyseg run workbook", strong=True)
    for key in ("run_id", "workspace", "created", "supplyseg_version", "config_hash"):
        line(key, str(m.get(key, "")))
    line()
    line(
        "One sheet per output table of the run; headers are frozen and filterable. Amounts"
        " are in the data's currency; % columns are shares of the total."
    )
    line(
        f"A sheet holds at most {EXCEL_MAX_ROWS - 1:,} rows under its header; a longer table"
        " is cut there (first rows in file order) and the full table is <table>.parquet in the"
        " run folder."
    )
    line()
    line("sheet", "table", "rows", "note", "rows on sheet", strong=True)
    for info in infos:
        note = (
            f"cut at {info.written:,} rows; full table in {info.table}.parquet"
            if info.truncated
            else ""
        )
        line(info.sheet, info.table, info.rows, note, info.written)
    line()
    line("sheet", "column", "unit", "meaning", strong=True)
    for info in infos:
        pf = pq.ParquetFile(run.table_path(info.table))
        for f, meaning in zip(pf.schema_arrow, columns[info.table], strict=True):
            line(info.sheet, f.name, meaning.unit, meaning.description)
    ws.freeze_panes = "A2"


def write_workbook(
    run: RunFolder, path: Path, *, max_rows: int = EXCEL_MAX_ROWS - 1
) -> list[SheetInfo]:
    """Write every table of ``run`` to ``path`` (xlsx); returns what each sheet holds.

    ``max_rows`` caps the data rows per sheet (Excel's limit by default).
    """
    if not 1 <= max_rows <= EXCEL_MAX_ROWS - 1:
        raise ConfigError(f"max_rows: {max_rows} is out of range; allowed 1..{EXCEL_MAX_ROWS - 1}")
    wb = Workbook(write_only=True)
    tables = run.table_names()
    names = sheet_names(tables)
    fills = [_sheet_frame(wb, run, t, names[t], max_rows) for t in tables]
    infos = [
        SheetInfo(t, names[t], pq.ParquetFile(run.table_path(t)).metadata.num_rows, f.rows)
        for t, f in zip(tables, fills, strict=True)
    ]
    columns = {
        t: [_column(t, f.name, f.type) for f in pq.ParquetFile(run.table_path(t)).schema_arrow]
        for t in tables
    }
    _readme(wb, run, infos, columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Build next to the target, then move: a reader never sees a half-written workbook.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".workbook-") as tmp:
        skeleton, staged = Path(tmp) / "skeleton.xlsx", Path(tmp) / "workbook.xlsx"
        wb.save(skeleton)
        fill_rows(skeleton, staged, fills)
        os.replace(staged, path)
    return infos
