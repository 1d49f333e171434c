"""The run's tables as one Excel workbook for the planner: a README sheet, an Assumptions sheet
(the settings in force and where each came from, and the run's warnings), then one sheet per
table.

Each data sheet has a bold frozen header, an autofilter over its rows, number formats from the
column's unit (currency, %, counts, dates) and sensible widths. XlsxWriter writes the workbook in
``constant_memory`` mode: rows are streamed from Parquet in record batches, in sheet order, so
memory stays flat whatever the table's size.

What lands on a sheet (the README sheet says it, table by table):

- Summary tables (one row per customer, product, segment...) are written in full up to Excel's
  1,048,575 rows under the header; a longer table is cut there (first rows in file order).
- Detail tables (`DETAIL_TABLES`: one row per order, line or customer-product pair, or a
  repeat of other sheets) are for
  lookups, not for reading end to end, so a sheet holds at most ``detail_max_rows`` of them: the
  rows with the largest revenue when the table has a ``revenue`` column, else the first rows in
  file order.

Either way the full table stays in ``<table>.parquet`` in the run folder, next to the workbook.

Cells: an unknown value (null in the table, e.g. a margin without unit costs) is an empty cell,
never 0; numbers as numbers (XlsxWriter keeps 16 significant digits; Excel shows 15), dates and
timestamps as Excel dates (time zones shown in UTC), booleans as TRUE/FALSE, text as text (a
value starting with ``=`` is never a formula). Non-finite numbers, numbers beyond Excel's
±9.99999999999999E+307 and dates outside Excel's 1900-9999 range are empty cells; control
characters other than tab and line feed are dropped (a carriage return becomes a line feed)
and text is cut at Excel's 32,767 characters.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xlsxwriter

from supplyseg.errors import ConfigError
from supplyseg.report.columns import COLUMNS, Column, Unit, column_info
from supplyseg.report.run_folder import RunFolder, read_run_folder

__all__ = [
    "DETAIL_MAX_ROWS",
    "DETAIL_TABLES",
    "EXCEL_MAX_NUMBER",
    "EXCEL_MAX_ROWS",
    "MAX_CELL_CHARS",
    "SheetInfo",
    "WorkbookBuilder",
    "sheet_names",
    "write_workbook",
]

EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header included
MAX_CELL_CHARS = 32_767  # characters (UTF-16 code units) per cell
EXCEL_MAX_NUMBER = 9.99999999999999e307  # Excel's largest number (its specifications)
# Detail sheets are for a look (the rows with the largest revenue), the Parquet files for work:
# 5,000 rows each keep the workbook a few seconds behind the run's last step (XlsxWriter writes
# ~250k cells/s; at 20,000 the report step was a third of the Online Retail run).
DETAIL_MAX_ROWS = 5_000
DETAIL_TABLES = frozenset(
    {
        "cost_to_serve_order",
        "cost_to_serve_customer_product",
        "demand_customer_product",
        "segments_customer_product",
        "rejects",
        # Repeats of other sheets' columns.
        "customer_features",
        "whale_curve",
        "forecast",
        "forecast_path",
        "demand_cleansing",
    }
)
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
_WORKBOOK_OPTIONS = {
    "constant_memory": True,  # one row in memory per sheet; rows must come in order
    "strings_to_formulas": False,  # '=HYPERLINK(...)' in the data stays text
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": False,  # non-finite numbers are blanked before writing
}
_BATCH = 10_000  # rows per Arrow batch turned into Python values (bounds memory)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# Characters XML 1.0 cannot hold (XlsxWriter would write them as _xHHHH_ escapes, which most
# readers other than Excel show literally). RE2 syntax; \r is turned into \n before this.
_ILLEGAL = r"[\x00-\x08\x0b-\x1f\x{FFFE}\x{FFFF}]"
_EXCEL_DAYS = (-25_567, 2_932_896)  # 1900-01-01 and 9999-12-31 as days since 1970-01-01
_NULL_DATE = pa.scalar(None, pa.date32())
_PER_DAY = {"s": 86_400, "ms": 86_400 * 10**3, "us": 86_400 * 10**6, "ns": 86_400 * 10**9}


@dataclass(frozen=True)
class SheetInfo:
    """One table's sheet: its name, the table's rows, how many are on the sheet, and why."""

    table: str
    sheet: str
    rows: int
    written: int
    note: str = ""

    @property
    def truncated(self) -> bool:
        return self.written < self.rows

    @property
    def left_out(self) -> int:
        return self.rows - self.written


@dataclass(frozen=True)
class _Plan:
    info: SheetInfo
    parquet: pq.ParquetFile
    by_revenue: bool  # the rows on the sheet are the largest by revenue, largest first
    columns: list[Column]
    units: list[Unit]


def sheet_names(tables: Sequence[str]) -> dict[str, str]:
    """A unique Excel sheet name (≤ 31 characters, no ``[]:*?/\\``) per table name."""
    used = {"readme", "assumptions"}
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


# --- column units --------------------------------------------------------------------------


def _column(table: str, name: str, dtype: pa.DataType) -> Column:
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_duration(dtype) and name not in COLUMNS:
        return Column(name.replace("_", " ").capitalize() + " (days).", "days")
    np_dtype: Any = None
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        np_dtype = np.dtype("float64")
    elif pa.types.is_integer(dtype):
        np_dtype = np.dtype("int64")
    elif pa.types.is_boolean(dtype):
        np_dtype = np.dtype("bool")
    elif pa.types.is_date(dtype) or pa.types.is_timestamp(dtype):
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


def _units(table: str, parquet: pq.ParquetFile) -> tuple[list[Column], list[Unit]]:
    columns = [_column(table, f.name, f.type) for f in parquet.schema_arrow]
    units: list[Unit] = []
    for f, col in zip(parquet.schema_arrow, columns, strict=True):
        unit = col.unit
        if unit == "fraction" and _fraction_is_percent(parquet, f.name):
            unit = "percent"
        units.append(unit)
    return columns, units


# --- cell values: Arrow columns -> Python values XlsxWriter writes as the right cell type ---


def _as_text(arr: pa.Array) -> pa.Array:
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        # Nested or exotic types: their Python text, as a plain string column.
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())


def _utf16_cut(text: str) -> str:
    """``text`` cut at Excel's limit in UTF-16 code units (never splitting a surrogate pair)."""
    raw = text.encode("utf-16-le")
    if len(raw) <= 2 * MAX_CELL_CHARS:
        return text
    return raw[: 2 * MAX_CELL_CHARS].decode("utf-16-le", errors="ignore")


def _text_values(arr: pa.Array) -> list[Any]:
    text = pc.replace_substring_regex(_as_text(arr), pattern=r"\r\n?", replacement="\n")
    text = pc.replace_substring_regex(text, pattern=_ILLEGAL, replacement="")
    text = pc.utf8_slice_codeunits(text, 0, MAX_CELL_CHARS)
    values: list[Any] = text.to_pylist()
    # Characters outside the BMP count twice in Excel's limit: recheck only the long values.
    long = pc.greater(pc.utf8_length(text), MAX_CELL_CHARS // 2)
    for i in np.flatnonzero(long.to_numpy(zero_copy_only=False)):
        values[i] = _utf16_cut(values[i])
    return values  # '' is written as an empty cell by XlsxWriter


def _in_excel_range(ticks: pa.Array, per_day: int) -> pa.Array:
    lo, hi = _EXCEL_DAYS[0] * per_day, (_EXCEL_DAYS[1] + 1) * per_day - 1
    hi = min(hi, 2**63 - 1)
    return pc.and_(pc.greater_equal(ticks, lo), pc.less_equal(ticks, hi))


def _cell_values(arr: pa.Array) -> list[Any]:
    """The column's values as XlsxWriter writes them: float/int/bool/date/datetime/str/None."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr, t = arr.dictionary_decode(), t.value_type
    if pa.types.is_decimal(t):
        arr, t = pc.cast(arr, pa.float64()), pa.float64()
    if pa.types.is_floating(t):
        ok = pc.and_(pc.is_finite(arr), pc.less_equal(pc.abs(arr), EXCEL_MAX_NUMBER))
        finite = pc.if_else(ok, arr, pa.scalar(None, t))
        return list(finite.to_pylist())
    if pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_null(t):
        return list(arr.to_pylist())
    if pa.types.is_date(t):
        days = pc.cast(pc.cast(arr, pa.date32()), pa.int32())
        ok = _in_excel_range(days, 1)
        return list(pc.if_else(ok, pc.cast(arr, pa.date32()), _NULL_DATE).to_pylist())
    if pa.types.is_timestamp(t):
        naive = pc.cast(arr, pa.timestamp(t.unit))  # a time zone is dropped: the UTC moment
        ok = _in_excel_range(pc.cast(naive, pa.int64()), _PER_DAY[t.unit])
        micro = pc.cast(
            pc.if_else(ok, naive, pa.scalar(None, naive.type)), pa.timestamp("us"), safe=False
        )
        return list(micro.to_pylist())
    if pa.types.is_duration(t):
        ticks = pc.cast(pc.cast(arr, pa.int64()), pa.float64())
        return list(pc.divide(ticks, float(_PER_DAY[t.unit])).to_pylist())
    return _text_values(arr)


# --- which rows go on a sheet ----------------------------------------------------------------


def _has_revenue(schema: pa.Schema) -> bool:
    i = schema.get_field_index("revenue")
    return i >= 0 and bool(
        pa.types.is_floating(schema[i].type) or pa.types.is_integer(schema[i].type)
    )


def _plan(
    run: RunFolder, table: str, sheet: str, max_rows: int, detail_max_rows: int | None
) -> _Plan:
    # pre_buffer (the default) keeps every row group read so far: 7 GB and 53 s to iterate the
    # 90M customer x product rows of a 100M-line run, 0.3 GB and 12 s without.
    parquet = pq.ParquetFile(run.table_path(table), pre_buffer=False)
    rows = parquet.metadata.num_rows
    detail = table in DETAIL_TABLES and detail_max_rows is not None
    cap = min(max_rows, detail_max_rows or max_rows) if detail else max_rows
    written = min(rows, cap)
    by_revenue = detail and written < rows and _has_revenue(parquet.schema_arrow)
    note = ""
    if written < rows:
        left = f"{rows - written:,} rows left out; full table in {table}.parquet"
        if by_revenue:
            note = f"detail table: the {written:,} rows with the largest revenue; {left}"
        elif detail:
            note = f"detail table: the first {written:,} rows; {left}"
        elif max_rows == EXCEL_MAX_ROWS - 1:
            note = f"cut at Excel's limit of {written:,} rows; {left}"
        else:
            note = f"cut at the row cap of {written:,} rows; {left}"
    columns, units = _units(table, parquet)
    return _Plan(SheetInfo(table, sheet, rows, written, note), parquet, by_revenue, columns, units)


def _first_rows(parquet: pq.ParquetFile, n: int) -> Iterator[pa.RecordBatch]:
    done = 0
    for batch in parquet.iter_batches(batch_size=_BATCH):
        if done >= n:
            return
        batch = batch.slice(0, n - done)
        done += batch.num_rows
        yield batch


def _top_rows_by_revenue(parquet: pq.ParquetFile, n: int) -> Iterator[pa.RecordBatch]:
    """The ``n`` rows with the largest revenue, largest first (ties in file order; missing
    revenue last); only those rows are held in memory."""
    revenue = pc.cast(parquet.read(columns=["revenue"]).column(0), pa.float64())
    revenue = pc.if_else(pc.is_nan(revenue), pa.scalar(None, pa.float64()), revenue)
    # sort_indices is stable; NaN counts as missing so all missing rows keep file order.
    order = pc.sort_indices(
        pa.table({"revenue": revenue}), sort_keys=[("revenue", "descending", "at_end")]
    )
    top = order.slice(0, n).to_numpy()
    keep = np.sort(top)
    pieces, start = [], 0
    for batch in parquet.iter_batches(batch_size=_BATCH):
        lo, hi = np.searchsorted(keep, [start, start + batch.num_rows])
        if hi > lo:
            pieces.append(batch.take(pa.array(keep[lo:hi] - start)))
        start += batch.num_rows
    kept = pa.Table.from_batches(pieces, schema=parquet.schema_arrow)
    ranked = kept.take(pa.array(np.searchsorted(keep, top)))
    yield from ranked.to_batches(max_chunksize=_BATCH)


def _rows(plan: _Plan) -> Iterator[pa.RecordBatch]:
    if plan.by_revenue:
        return _top_rows_by_revenue(plan.parquet, plan.info.written)
    return _first_rows(plan.parquet, plan.info.written)


# --- sheets ----------------------------------------------------------------------------------


def _widths(plan: _Plan) -> list[int]:
    """Column widths from the header and the first 200 values (10 to 50 characters)."""
    schema = plan.parquet.schema_arrow
    widths = [max(10, min(len(f.name) + 3, 40)) for f in schema]
    first = next(plan.parquet.iter_batches(batch_size=200), None)
    if first is None:
        return widths
    for j, (column, unit) in enumerate(zip(first.columns, plan.units, strict=True)):
        sample = [_shown_len(v, unit) for v in _cell_values(column) if v is not None]
        if sample:
            widths[j] = max(widths[j], min(max(sample) + 2, 50))
    return widths


def _shown_len(value: Any, unit: Unit) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float) and unit != "text":
        return len(f"{value:,.2f}")
    return len(str(value).split("\n", 1)[0])


def _data_sheet(book: Any, plan: _Plan, formats: Callable[[Unit], Any], header_format: Any) -> None:
    info, schema = plan.info, plan.parquet.schema_arrow
    ws = book.add_worksheet(info.sheet)
    for j, (width, unit) in enumerate(zip(_widths(plan), plan.units, strict=True)):
        ws.set_column(j, j, width, formats(unit))
    ws.freeze_panes(1, 0)
    if len(schema):
        ws.autofilter(0, 0, info.written, len(schema) - 1)
    ws.write_row(0, 0, schema.names, header_format)
    row = 1
    for batch in _rows(plan):
        # Cells carry no format of their own: the column's format (set_column) applies.
        for values in zip(*(_cell_values(c) for c in batch.columns), strict=True):
            if ws.write_row(row, 0, values):
                raise RuntimeError(f"sheet {info.sheet!r} row {row + 1}: XlsxWriter refused it")
            row += 1


def _readme(
    book: Any,
    ws: Any,
    run: RunFolder,
    plans: list[_Plan],
    detail_max_rows: int | None,
    bold: Any,
) -> None:
    count = book.add_format({"num_format": _FORMATS["count"]})
    for col, width in enumerate((28, 34, 14, 70, 14, 14)):
        ws.set_column(col, col, width, count if col in (2, 4, 5) else None)
    ws.freeze_panes(1, 0)
    row = 0

    def line(*values: Any, strong: bool = False) -> None:
        nonlocal row
        ws.write_row(row, 0, values, bold if strong else None)
        row += 1

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
        f"Summary tables are written in full up to Excel's limit of {EXCEL_MAX_ROWS - 1:,}"
        " rows under the header; a longer table is cut there (first rows in file order)."
    )
    details = ", ".join(sorted(DETAIL_TABLES))
    if detail_max_rows is None:
        line(f"Detail tables ({details}) are written in full up to the same limit.")
    else:
        line(
            f"Detail tables, one row per order, line or pair ({details}), are for lookups:"
            f" a sheet holds at most {detail_max_rows:,} of their rows, those with the largest"
            " revenue when the table has a revenue column, else the first rows in file order."
        )
    line(
        "Every table is complete in <table>.parquet in the run folder, next to this workbook;"
        " the note below says how many rows each sheet left out."
    )
    line(
        "An empty cell is an unknown value (for example a margin or stock value when the data"
        " has no unit cost), never 0. Sheet Assumptions lists the settings the figures rest on."
    )
    line()
    line("sheet", "table", "rows", "note", "rows on sheet", "rows left out", strong=True)
    for plan in plans:
        info = plan.info
        target = info.sheet.replace("'", "''")  # quoted sheet name in a reference
        ws.write_url(row, 0, f"internal:'{target}'!A1", string=info.sheet)
        ws.write_row(row, 1, (info.table, info.rows, info.note, info.written, info.left_out))
        row += 1
    line()
    line("sheet", "column", "unit", "meaning", strong=True)
    for plan in plans:
        for f, meaning, unit in zip(
            plan.parquet.schema_arrow, plan.columns, plan.units, strict=True
        ):
            line(plan.info.sheet, f.name, unit, meaning.description)


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _assumptions_sheet(ws: Any, run: RunFolder, bold: Any) -> None:
    """The settings in force (setting, value, source) and the run's warnings."""
    ws.set_column(0, 0, 48)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 2, 20)
    ws.freeze_panes(1, 0)
    rows: list[tuple[Any, ...]] = []
    assumptions = run.assumptions
    defaults = len(run.defaults_in_force)
    if assumptions:
        rows.append(
            (
                f"{defaults:,} of these {len(assumptions):,} settings are built-in defaults:"
                " assumptions until you set them in supplyseg.yaml.",
            )
        )
    else:
        rows.append(
            ("This run's manifest records no assumptions (a run made before supplyseg kept them).",)
        )
    ws.write_row(0, 0, ("setting", "value", "source"), bold)
    for i, a in enumerate(assumptions, start=1):
        ws.write_row(i, 0, (a["setting"], _cell(a["value"]), a["source"]))
    row = len(assumptions) + 2
    for values in rows:
        ws.write_row(row, 0, values)
        row += 1
    row += 1
    warnings = run.warnings
    ws.write_row(row, 0, (f"Warnings ({len(warnings)})",), bold)
    for w in warnings or ["none"]:
        row += 1
        ws.write_row(row, 0, (w,))


def _check_rows(name: str, value: int | None, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < EXCEL_MAX_ROWS:
        allowed = f"1..{EXCEL_MAX_ROWS - 1}" + (" or None" if allow_none else "")
        raise ConfigError(f"{name}: {value!r} is out of range; allowed {allowed}")


def write_workbook(
    run: RunFolder,
    path: Path,
    *,
    max_rows: int = EXCEL_MAX_ROWS - 1,
    detail_max_rows: int | None = DETAIL_MAX_ROWS,
) -> list[SheetInfo]:
    """Write every table of ``run`` to ``path`` (xlsx); returns what each sheet holds.

    ``max_rows`` caps the data rows of every sheet (Excel's limit by default);
    ``detail_max_rows`` caps the sheets of `DETAIL_TABLES` (None: no extra cap).
    Raises ConfigError for a cap outside 1..1,048,575.
    """
    builder = WorkbookBuilder(run.path, path, max_rows=max_rows, detail_max_rows=detail_max_rows)
    try:
        builder.add(run.table_names())
        return builder.close()
    except BaseException:
        builder.abort()
        raise


class WorkbookBuilder:
    """A run's workbook written sheet by sheet, as its tables become final.

    The README and Assumptions sheets come first but are filled by `close`, from the manifest
    as it is then: the pipeline adds the tables of each finished step while later steps still
    run (`supplyseg.report.background`). The file is built in a temporary folder next to
    ``path`` and moved there by `close`: a reader never sees a half-written workbook.
    """

    def __init__(
        self,
        run_dir: Path,
        path: Path,
        *,
        max_rows: int = EXCEL_MAX_ROWS - 1,
        detail_max_rows: int | None = DETAIL_MAX_ROWS,
    ) -> None:
        _check_rows("max_rows", max_rows, allow_none=False)
        _check_rows("detail_max_rows", detail_max_rows, allow_none=True)
        self.run_dir, self.path = Path(run_dir), path
        self.max_rows, self.detail_max_rows = max_rows, detail_max_rows
        self.plans: list[_Plan] = []
        self._used: list[str] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = tempfile.TemporaryDirectory(dir=path.parent, prefix=".workbook-")
        self._staged = Path(self._tmp.name) / "workbook.xlsx"
        self.book = xlsxwriter.Workbook(
            str(self._staged), {**_WORKBOOK_OPTIONS, "tmpdir": self._tmp.name}
        )
        self.readme = self.book.add_worksheet("README")
        self.assumptions = self.book.add_worksheet("Assumptions")
        self.bold = self.book.add_format({"bold": True})
        self.header = self.book.add_format({"bold": True, "bg_color": "#E5E7EB", "valign": "top"})
        self._formats: dict[Unit, Any] = {}

    def _format(self, unit: Unit) -> Any:
        if unit == "text":
            return None
        if unit not in self._formats:
            self._formats[unit] = self.book.add_format({"num_format": _FORMATS[unit]})
        return self._formats[unit]

    def add(self, tables: Sequence[str]) -> None:
        """Write one sheet per table (``<table>.parquet`` in the run folder, final)."""
        run = RunFolder(self.run_dir, {})
        for table in tables:
            self._used.append(table)
            sheet = sheet_names(self._used)[table]
            plan = _plan(run, table, sheet, self.max_rows, self.detail_max_rows)
            self.plans.append(plan)
            _data_sheet(self.book, plan, self._format, self.header)
            plan.parquet.close()

    def close(self) -> list[SheetInfo]:
        """Fill README and Assumptions from the run folder's manifest and move the file."""
        run = read_run_folder(self.run_dir)
        try:
            self.book.set_properties({"title": f"supplyseg run {run.run_id}"})
            _readme(self.book, self.readme, run, self.plans, self.detail_max_rows, self.bold)
            _assumptions_sheet(self.assumptions, run, self.bold)
            self.book.close()
            os.replace(self._staged, self.path)
        finally:
            self._tmp.cleanup()
        return [p.info for p in self.plans]

    def abort(self) -> None:
        """Drop the half-built workbook."""
        with contextlib.suppress(Exception):
            self.book.close()
        self._tmp.cleanup()
