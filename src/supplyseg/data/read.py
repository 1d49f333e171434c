"""Read one source file (CSV, Parquet, Excel) into Arrow with a 1-based ``row_number`` column."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from supplyseg.config import Source
from supplyseg.errors import DataContractError

__all__ = ["ROW_NUMBER", "read_source"]

ROW_NUMBER = "row_number"


def _fail(path: Path, what: str, fix: str) -> DataContractError:
    return DataContractError(f"{path}: {what}; fix: {fix}")


def _read_csv(path: Path, delimiter: str) -> pa.Table:
    # Read every column as text so that the loader, not the reader, decides what a bad value is.
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh, delimiter=delimiter), None)
    if not header:
        raise _fail(path, "the file is empty (no header line)", "export the table with a header")
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, sheet: str | None) -> pa.Table:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    names = list(book.sheet_names)
    if sheet is not None and sheet not in names:
        raise _fail(path, f"no sheet named {sheet!r}; sheets present: {names}", "set `sheet:`")
    rows = book.get_sheet_by_name(sheet or names[0]).to_python(skip_empty_area=True)
    if not rows:
        raise _fail(path, "the sheet is empty (no header row)", "export the table with a header")
    header = [str(h).strip() for h in rows[0]]
    # Excel is capped at ~1M rows, so turning cells to text column by column is cheap enough.
    cols = {
        name: pa.array([_cell_text(r[i]) if i < len(r) else None for r in rows[1:]], pa.string())
        for i, name in enumerate(header)
        if name
    }
    return pa.table(cols)


def read_source(path: Path, source: Source) -> pa.Table:
    """Read ``path`` as ``source`` declares and append ``row_number`` (1-based data row).

    Raises `DataContractError` naming the file for a missing, unreadable or empty file.
    """
    if not path.exists():
        raise _fail(path, "file not found", "correct `path:` in supplyseg.yaml or create the file")
    fmt = source.file_format
    try:
        if fmt == "parquet":
            table = pq.read_table(path)
        elif fmt == "csv":
            table = _read_csv(path, source.delimiter)
        else:
            table = _read_xlsx(path, source.sheet)
    except DataContractError:
        raise
    except Exception as exc:  # each reader raises its own types for a corrupt file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _fail(
            path, f"cannot read it as {fmt} ({first})", f"check the file is valid {fmt}"
        ) from None
    if table.num_rows == 0:
        raise _fail(path, "the file has a header but no data rows", "export the data rows too")
    if ROW_NUMBER in table.column_names:
        table = table.drop_columns([ROW_NUMBER])
    return table.append_column(ROW_NUMBER, pa.array(np.arange(1, table.num_rows + 1)))
