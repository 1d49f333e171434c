"""Bulk worksheet rows as SpreadsheetML, built with Arrow compute and streamed into an xlsx.

openpyxl (`supplyseg.report.workbook`) writes each sheet's frame — header, styles, frozen pane,
filter, widths — and one probe row whose cells carry each column's style id. `fill_rows` swaps
that probe row for the table's rows, generated batch by batch as XML text by vectorised Arrow
kernels, and streams them into the zip package. openpyxl's per-cell writer managed ≈ 40k
cells/s (278 s for the Online Retail run's 12M cells); this path ≈ 1.8M cells/s.

Cells are what openpyxl itself writes: numbers ``t="n"``, dates as serial numbers (1900 date
system), booleans ``t="b"``, text as inline strings (never formulas: a value starting with
``=`` stays text). Non-finite numbers become empty cells; characters XML cannot hold are
dropped and text is cut at Excel's 32,767 characters.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["MAX_CELL_CHARS", "SheetFill", "fill_rows", "probe_value", "row_chunks"]

MAX_CELL_CHARS = 32_767
_EPOCH_SERIAL = 25_569  # 1970-01-01 as an Excel serial day
_PER_DAY = {"s": 86_400, "ms": 86_400e3, "us": 86_400e6, "ns": 86_400e9}
_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{FFFE}\x{FFFF}]"  # not in XML 1.0 (RE2 syntax)
_BATCH = 50_000
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_PROBE = re.compile(r'<row r="2"[^>]*>.*?</row>', re.S)
_PROBE_CELL = re.compile(r'<c r="([A-Z]+)2"([^>]*)>')


@dataclass(frozen=True)
class SheetFill:
    """Rows to stream into one sheet: its title, the Parquet file and how many rows to take."""

    sheet: str
    parquet: Path
    rows: int


def _kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return _kind(t.value_type)
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    return "text"


def probe_value(t: pa.DataType) -> Any:
    """A non-empty value of the column's kind, so openpyxl writes the probe cell with its style."""
    return {
        "bool": False,
        "number": 0,
        "date": date(2000, 1, 1),
        "timestamp": datetime(2000, 1, 1),
        "text": "x",
    }[_kind(t)]


def _as_text(arr: pa.Array) -> pa.Array:
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        # Nested or exotic types: their Python text, as a plain string column.
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())


def _values(arr: pa.Array) -> tuple[pa.Array, str, str]:
    """The cell's value text (null = empty cell) and the XML around it, by column kind."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr, t = arr.cast(t.value_type), t.value_type
    kind = _kind(t)
    if kind == "number":
        x = arr.cast(pa.float64()) if pa.types.is_decimal(t) else arr
        if pa.types.is_floating(x.type):
            x = pc.if_else(pc.is_finite(x), x, pa.scalar(None, x.type))
        return pc.cast(x, pa.string()), ' t="n"><v>', "</v></c>"
    if kind == "bool":
        return pc.cast(pc.cast(arr, pa.int8()), pa.string()), ' t="b"><v>', "</v></c>"
    if kind == "date":
        days = pc.add(pc.cast(arr.cast(pa.date32()), pa.int32()), _EPOCH_SERIAL)
        return pc.cast(days, pa.string()), ' t="n"><v>', "</v></c>"
    if kind == "timestamp":
        ticks = pc.cast(arr.cast(pa.timestamp(t.unit)), pa.int64())  # time zone dropped: UTC
        days = pc.add(pc.divide(pc.cast(ticks, pa.float64()), _PER_DAY[t.unit]), _EPOCH_SERIAL)
        return pc.cast(days, pa.string()), ' t="n"><v>', "</v></c>"
    text = pc.replace_substring_regex(_as_text(arr), pattern=_ILLEGAL, replacement="")
    text = pc.utf8_slice_codeunits(text, 0, MAX_CELL_CHARS)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)  # a blank cell
    # XML parsers turn a bare carriage return into a line feed: keep it as a reference.
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        text = pc.replace_substring(text, char, entity)
    return text, ' t="inlineStr"><is><t xml:space="preserve">', "</t></is></c>"


def _concatenated(arr: pa.Array) -> bytes:
    """All strings of a null-free string array, back to back (straight from its data buffer)."""
    arr = pc.cast(arr, pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = arr.buffers()[2]
    return b"" if data is None else data.to_pybytes()[offsets[0] : offsets[-1]]


def row_chunks(
    parquet: Path, rows: int, letters: list[str], styles: list[str | None]
) -> Iterator[bytes]:
    """``<row>`` elements for the first ``rows`` rows of ``parquet`` (sheet rows 2, 3, ...)."""
    done = 0
    for batch in pq.ParquetFile(parquet).iter_batches(batch_size=_BATCH):
        if done >= rows:
            return
        batch = batch.slice(0, rows - done)
        numbers = pc.cast(pa.array(np.arange(done + 2, done + 2 + batch.num_rows)), pa.string())
        cells = []
        for column, letter, style in zip(batch.columns, letters, styles, strict=True):
            value, before, after = _values(column)
            attrs = f' s="{style}"' if style is not None else ""
            cell = pc.binary_join_element_wise(
                f'<c r="{letter}', numbers, f'"{attrs}{before}', value, after, ""
            )
            cells.append(pc.fill_null(cell, ""))
        row = pc.binary_join_element_wise(
            '<row r="', numbers, '">', *cells, "</row>", ""
        ) if cells else pc.binary_join_element_wise('<row r="', numbers, '"/>', "")  # fmt: skip
        yield _concatenated(row)
        done += batch.num_rows


def _sheet_members(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> worksheet part name in the package (from workbook.xml and its rels)."""
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): str(r.get("Target")) for r in rels.iter(f"{_PKG_REL}Relationship")}
    book = ElementTree.fromstring(package.read("xl/workbook.xml"))
    members = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        part = target[sheet.get(f"{_REL}id")].lstrip("/")
        members[str(sheet.get("name"))] = part if part.startswith("xl/") else f"xl/{part}"
    return members


def fill_rows(skeleton: Path, out: Path, fills: list[SheetFill]) -> None:
    """Copy the openpyxl-written ``skeleton`` to ``out`` with each fill's rows in its sheet."""
    with zipfile.ZipFile(skeleton) as src:
        members = _sheet_members(src)
        by_part = {members[f.sheet]: f for f in fills if f.rows > 0}
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as dst:
            for info in src.infolist():
                fill = by_part.get(info.filename)
                if fill is None:
                    dst.writestr(info, src.read(info))
                    continue
                xml = src.read(info).decode("utf-8")
                probe = _PROBE.search(xml)
                if probe is None:
                    raise RuntimeError(f"{info.filename}: the probe row 2 is missing")
                found = {m.group(1): m.group(2) for m in _PROBE_CELL.finditer(probe.group())}
                letters = list(found)
                styles = [_style(found[c]) for c in letters]
                with dst.open(info.filename, "w", force_zip64=True) as part:
                    part.write(xml[: probe.start()].encode("utf-8"))
                    for chunk in row_chunks(fill.parquet, fill.rows, letters, styles):
                        part.write(chunk)
                    part.write(xml[probe.end() :].encode("utf-8"))


def _style(attrs: str) -> str | None:
    m = re.search(r'\bs="(\d+)"', attrs)
    return m.group(1) if m else None
