"""Read one source file (CSV, Parquet, Excel) into Arrow with a 1-based ``row_number`` column.

Every value is read as the file holds it (CSV fields as text, Parquet and Excel cells as typed),
so that the loader, not the reader, decides what a bad value is. Only an empty field is missing
here; ``null_values`` and number and date formats are the loader's business.

A CSV row that cannot be split into the header's columns (a stray delimiter, a missing field,
an unclosed quote) is set aside as a `BadRow` with its own row number, and the rest of the file
is read. Finding them costs a second, single-threaded read, on the error path only.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from supplyseg.config import Source

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend
from supplyseg.errors import DataContractError

__all__ = ["ROW_NUMBER", "BadRow", "SourceRows", "arrow_rows", "engine_rows", "read_source"]

ROW_NUMBER = "row_number"
# Internal names of header-less columns: never a real header, never mapped.
_UNNAMED = "\u2063unnamed\u2063"
# More unclosed quotes than this in one file is not a few broken rows but a wrong setting.
_MAX_BROKEN_DEPTH = 50
_SHOWN_CHARS = 200
_FILE_ROW = "file_row_number"  # DuckDB's row position in a Parquet file (0-based)


@dataclass(frozen=True)
class BadRow:
    """A CSV row that does not split into the header's columns."""

    row_number: int
    line: int | None
    text: str
    problem: str


@dataclass
class SourceRows:
    """What a file held: the rows read (with ``row_number``), the rows set aside, notes."""

    table: pa.Table
    bad_rows: list[BadRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Rows the engine reads from the file itself (`engine_rows`); ``table`` is empty then.
    on_engine: int = 0

    @property
    def read(self) -> int:
        """Data rows in the file: loaded-or-checked rows plus bad rows."""
        return int(self.table.num_rows) + len(self.bad_rows) + self.on_engine


def _fail(path: Path, what: str, fix: str) -> DataContractError:
    return DataContractError(f"{path}: {what}; fix: {fix}")


def _encoding_error(path: Path, encoding: str, detail: str) -> DataContractError:
    return _fail(
        path,
        f"not readable as {encoding} text ({detail})",
        "set `encoding:` for this table (cp1252 or latin-1 for most Windows exports, utf-16 for"
        " Excel 'Unicode text')",
    )


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _csv_header(path: Path, source: Source) -> list[str]:
    encoding = "utf-8-sig" if _is_utf8(source.encoding) else source.encoding
    try:
        with (
            _open_binary(path) as raw,
            io.TextIOWrapper(raw, encoding=encoding, newline="") as fh,
        ):
            header = next(csv.reader(fh, delimiter=source.separator), None)
    except UnicodeError as exc:
        raise _encoding_error(path, source.encoding, str(exc)) from None
    except (OSError, EOFError, csv.Error) as exc:
        raise _fail(path, f"cannot read it as csv ({exc})", "check the file is valid csv") from None
    if not header or header == [""]:
        raise _fail(path, "the file is empty (no header line)", "export the table with a header")
    return header


def _column_names(path: Path, header: list[str]) -> list[str]:
    """The header as column names: duplicates refused, blank ones given internal names."""
    named = [h for h in header if h.strip()]
    dups = sorted({h for h in named if named.count(h) > 1}) if len(set(named)) < len(named) else []
    if dups:
        raise _fail(
            path,
            f"duplicate column name(s) {dups} in the header (which one to read is ambiguous)",
            "rename them in the file so that each column has its own name",
        )
    return [h if h.strip() else f"{_UNNAMED}{i + 1}" for i, h in enumerate(header)]


def _without_unnamed(path: Path, table: pa.Table) -> tuple[pa.Table, list[str]]:
    """Drop header-less columns, with a note saying which and whether they held values."""
    unnamed = [n for n in table.column_names if n.startswith(_UNNAMED)]
    if not unnamed:
        return table, []
    empty: list[int] = []
    filled: list[int] = []
    for name in unnamed:
        col = table[name]
        if col.type != pa.string():
            col = pc.cast(col, pa.string())
        longest = pc.max(pc.utf8_length(pc.utf8_trim_whitespace(col))).as_py()
        (filled if longest else empty).append(int(name.removeprefix(_UNNAMED)))
    notes = []
    if empty:
        notes.append(
            f"{path.name}: ignored {len(empty)} empty column(s) without a header (position(s)"
            f" {', '.join(map(str, empty))}; spreadsheets saved as CSV leave them)"
        )
    if filled:
        notes.append(
            f"{path.name}: ignored column(s) at position(s) {', '.join(map(str, filled))}: they"
            " hold values but have no header; give them one to map them"
        )
    return table.drop_columns(unnamed), notes


def _parse(
    data: Path | bytes,
    names: list[str],
    source: Source,
    *,
    header: bool,
    threads: bool,
    encoding: str,
) -> tuple[pa.Table, list[Any]]:
    """Parse CSV text into string columns; rows that do not split are returned apart."""
    invalid: list[Any] = []

    def keep(row: Any) -> str:
        invalid.append(row)
        return "skip"

    table = pacsv.read_csv(
        data if isinstance(data, Path) else io.BytesIO(data),
        read_options=pacsv.ReadOptions(
            column_names=names,
            skip_rows=1 if header else 0,
            use_threads=threads,
            encoding="utf8" if _is_utf8(encoding) else encoding,
        ),
        parse_options=pacsv.ParseOptions(delimiter=source.separator, invalid_row_handler=keep),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            # Only an empty field is missing: NA is Namibia, NULL may be a product code.
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return table, invalid


def _problem(row: Any, delimiter: str) -> str:
    if "\n" in row.text or "\r" in row.text:
        return (
            "a quote opened on this line is not closed (the line and the ones after it ran"
            " together); the lines after it were read on their own"
        )
    if row.actual_columns > row.expected_columns:
        return (
            f"{row.actual_columns} fields where the header has {row.expected_columns} (a stray"
            f" {delimiter!r}, or a value holding one without quotes)"
        )
    return f"{row.actual_columns} field(s) where the header has {row.expected_columns}"


@dataclass
class _Rows:
    """Rows collected from a file and the broken rows' continuations, numbered in file order."""

    tables: list[pa.Table] = field(default_factory=list)
    numbers: list[np.ndarray] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def _walk(
    data: Path | bytes,
    names: list[str],
    source: Source,
    out: _Rows,
    *,
    first_row: int,
    first_line: int,
    depth: int,
) -> int:
    """Parse ``data`` (a file with a header, or the text after a broken row), number its rows
    from ``first_row`` and add them to ``out``; returns how many rows it held.

    pyarrow counts rows (not lines) in `InvalidRow.number`, the header included; a row whose
    unclosed quote swallowed the following lines is cut at its first line end and the rest is
    walked again, its rows numbered right after it.
    """
    if depth > _MAX_BROKEN_DEPTH:
        raise DataContractError(
            f"{source.path}: more than {_MAX_BROKEN_DEPTH} rows with an unclosed quote; fix:"
            " check `delimiter:` and the quoting of the export"
        )
    header = isinstance(data, Path)
    table, invalid = _parse(
        data,
        names,
        source,
        header=header,
        threads=False,
        encoding=source.encoding if header else "utf-8",
    )
    slots = table.num_rows + len(invalid)
    offset = 1 if header else 0
    positions = [None if r.number is None else r.number - offset for r in invalid]
    if any(p is None or not 1 <= p <= slots for p in positions) or len(set(positions)) < len(
        positions
    ):
        positions = list(range(table.num_rows + 1, slots + 1))  # no usable numbers: last
    extra = np.zeros(len(invalid), dtype=np.int64)  # rows a broken row's continuation held
    shift = 0
    for i, (row, slot) in enumerate(zip(invalid, positions, strict=True)):
        number = first_row + int(slot) - 1 + shift  # type: ignore[arg-type]
        line = None if row.number is None else first_line + row.number - 1
        first, *rest = re.split(r"\r\n|\r|\n", row.text, maxsplit=1)
        out.bad.append(BadRow(number, line, first[:_SHOWN_CHARS], _problem(row, source.separator)))
        if rest and rest[0].strip():
            extra[i] = _walk(
                rest[0].encode("utf-8"),
                names,
                source,
                out,
                first_row=number + 1,
                first_line=(line or 0) + 1,
                depth=depth + 1,
            )
            shift += int(extra[i])
    bad_slots = np.asarray(positions, dtype=np.int64)
    order = np.argsort(bad_slots)
    good = np.setdiff1d(np.arange(1, slots + 1), bad_slots)
    # Each good row moves down by the continuation rows of the broken rows before it.
    before = np.searchsorted(bad_slots[order], good)
    shifts = np.concatenate([[0], np.cumsum(extra[order])])[before]
    out.tables.append(table)
    out.numbers.append(first_row + good - 1 + shifts)
    return int(slots) + int(extra.sum())


def _read_csv(path: Path, source: Source) -> SourceRows:
    names = _column_names(path, _csv_header(path, source))
    table, invalid = _parse(
        path, names, source, header=True, threads=True, encoding=source.encoding
    )
    if not invalid:
        numbers = np.arange(1, table.num_rows + 1)
        bad: list[BadRow] = []
    else:
        out = _Rows()
        _walk(path, names, source, out, first_row=1, first_line=1, depth=0)
        table = pa.concat_tables(out.tables)
        numbers = np.concatenate(out.numbers)
        bad = out.bad
        if len(numbers):
            order = np.argsort(numbers, kind="stable")
            table, numbers = table.take(order), numbers[order]
    table, notes = _without_unnamed(path, table)
    return SourceRows(_numbered(table, numbers), bad, notes)


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


def _read_xlsx(path: Path, sheet: str | None) -> SourceRows:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    names = list(book.sheet_names)
    if sheet is not None and sheet not in names:
        raise _fail(path, f"no sheet named {sheet!r}; sheets present: {names}", "set `sheet:`")
    rows = book.get_sheet_by_name(sheet or names[0]).to_python(skip_empty_area=True)
    if not rows:
        raise _fail(path, "the sheet is empty (no header row)", "export the table with a header")
    header = _column_names(path, [(_cell_text(h) or "").strip() for h in rows[0]])
    # Excel is capped at ~1M rows, so turning cells to text column by column is cheap enough.
    table = pa.table(
        {
            name: pa.array(
                [_cell_text(r[i]) if i < len(r) else None for r in rows[1:]], pa.string()
            )
            for i, name in enumerate(header)
        }
    )
    table, notes = _without_unnamed(path, table)
    return SourceRows(_numbered(table, np.arange(1, table.num_rows + 1)), [], notes)


def _read_parquet(path: Path) -> SourceRows:
    return arrow_rows(pq.read_table(path), str(path))


def arrow_rows(table: pa.Table, origin: str) -> SourceRows:
    """An Arrow table (a Parquet file's, or a data frame's) as numbered rows for the loader.

    Typed values stay as they are, but for what the engines cannot take: nanosecond
    timestamps (pandas writes them; Spark cannot read them back, and days need no more than
    microseconds) and dictionary-encoded columns (pandas categoricals), decoded.
    """
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, pc.cast(table[i], f.type.value_type))
            f = table.schema.field(i)
        if pa.types.is_timestamp(f.type) and f.type.unit == "ns":
            us = pa.timestamp("us", tz=f.type.tz)
            table = table.set_column(i, f.name, pc.cast(table[i], us, safe=False))
    names = table.column_names
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise DataContractError(
            f"{origin}: duplicate column name(s) {dups} (which one to read is ambiguous); fix:"
            " give the columns distinct names"
        )
    return SourceRows(_numbered(table, np.arange(1, table.num_rows + 1)))


def engine_rows(
    con: BaseBackend, path: Path, source: Source, name: str
) -> tuple[ir.Table, SourceRows] | None:
    """A Parquet file as view ``name`` that DuckDB reads itself, streaming and in parallel, with
    the ``row_number`` the Arrow route gives; None when that route must read it instead.

    The Arrow route holds the whole table in this process and then copies it into the engine:
    at 10M order lines that is the load step's peak (over 3 GB), and out of core (a DuckDB
    file database at 100M lines) it cannot work at all. Files the Arrow route reads
    differently (dictionary columns, nanosecond timestamps, text dates parsed by
    ``date_format``) or reports on (duplicate column names, no rows, unreadable) go that way.
    """
    if con.name != "duckdb" or source.file_format != "parquet" or source.date_format is not None:
        return None
    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except Exception:  # missing or corrupt: read_source names the problem
        return None
    names = schema.names
    arrow_only = any(
        pa.types.is_dictionary(f.type) or (pa.types.is_timestamp(f.type) and f.type.unit == "ns")
        for f in schema
    )
    if arrow_only or meta.num_rows == 0 or len(set(names)) < len(names) or _FILE_ROW in names:
        return None
    view = con.read_parquet(str(path.resolve()), table_name=name, file_row_number=True)
    table = view.select(*[c for c in names if c != ROW_NUMBER], **{ROW_NUMBER: view[_FILE_ROW] + 1})
    return table, SourceRows(pa.table({}), on_engine=int(meta.num_rows))


def _numbered(table: pa.Table, numbers: np.ndarray) -> pa.Table:
    if ROW_NUMBER in table.column_names:
        table = table.drop_columns([ROW_NUMBER])
    return table.append_column(ROW_NUMBER, pa.array(numbers, pa.int64()))


def read_source(path: Path, source: Source) -> SourceRows:
    """Read ``path`` as ``source`` declares; rows carry ``row_number`` (1-based data row).

    Raises `DataContractError` naming the file for a missing, unreadable or empty file, a
    duplicate column name, or text that is not in the table's ``encoding``.
    """
    if not path.exists():
        raise _fail(path, "file not found", "correct `path:` in supplyseg.yaml or create the file")
    fmt = source.file_format
    try:
        if fmt == "parquet":
            rows = _read_parquet(path)
        elif fmt == "csv":
            rows = _read_csv(path, source)
        else:
            rows = _read_xlsx(path, source.sheet)
    except DataContractError:
        raise
    except Exception as exc:  # each reader raises its own types for a corrupt file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, UnicodeError) or "invalid UTF8" in first:
            raise _encoding_error(path, source.encoding, first) from None
        raise _fail(
            path, f"cannot read it as {fmt} ({first})", f"check the file is valid {fmt}"
        ) from None
    if rows.read == 0:
        raise _fail(path, "the file has a header but no data rows", "export the data rows too")
    return rows
