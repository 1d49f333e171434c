"""Cells written by XlsxWriter read back with openpyxl as the Parquet table holds them.

Numbers keep XlsxWriter's 16 significant digits (Excel itself shows 15), so floats are compared
to 1e-15 relative; integers up to 2**53, booleans, text and dates compare exactly.
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from supplyseg.report import read_run_folder, write_workbook
from supplyseg.report.workbook import EXCEL_MAX_NUMBER, MAX_CELL_CHARS

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.sampled_from(
    ["=1+1", " lead", "a & b < c > d", "", "\x07bell", "é€😀", "-4", "a\r\nb\rc", "\ufffe", "{=A1}"]
)
FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from(
    [0.1, -0.0, 1.7976931348623155e308, 5e-324]
)
DAY = st.dates(min_value=date(1900, 3, 1), max_value=date(2200, 1, 1))
MOMENT = st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2200, 1, 1))


def _clean_text(v: str) -> str:
    """The oracle: line breaks become \\n, other control characters (but tab) are dropped."""
    v = v.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        c for c in v if not (ord(c) < 32 and c not in "\t\n") and c not in "\ufffe\uffff"
    )


def _roundtrip(frame: pa.Table) -> list[list[object]]:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        (run / "manifest.json").write_text(json.dumps({"run_id": "x"}))
        pq.write_table(frame, run / "t.parquet")
        write_workbook(read_run_folder(run), run / "wb.xlsx")
        ws = load_workbook(run / "wb.xlsx")["t"]
        assert [c.value for c in ws[1]] == frame.column_names
        return [
            [ws.cell(r + 2, j + 1).value for j in range(frame.num_columns)]
            for r in range(frame.num_rows)
        ]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.none() | FLOAT,
            st.none() | st.integers(-(2**53), 2**53),
            st.none() | st.booleans(),
            st.none() | TEXT,
            st.none() | DAY,
            st.none() | MOMENT,
        ),
        min_size=1,
        max_size=20,
    )
)
def test_every_kind_of_value_reads_back(rows: list[tuple[object, ...]]) -> None:
    cols = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "f": pa.array(cols[0], pa.float64()),
            "i": pa.array(cols[1], pa.int64()),
            "b": pa.array(cols[2], pa.bool_()),
            "s": pa.array(cols[3], pa.string()),
            "d": pa.array(cols[4], pa.date32()),
            "t": pa.array(cols[5], pa.timestamp("us")),
        }
    )
    got = _roundtrip(table)
    for row, back in zip(rows, got, strict=True):
        f, i, b, s, d, t = row
        if f is None or not math.isfinite(f) or abs(f) > EXCEL_MAX_NUMBER:  # type: ignore[arg-type]
            assert back[0] is None
        else:
            assert back[0] == pytest.approx(f, rel=1e-15, abs=1e-300)
        assert back[1] == i
        assert back[2] == b
        assert back[3] == (None if s is None or _clean_text(s) == "" else _clean_text(s))  # type: ignore[arg-type]
        assert back[4] == (None if d is None else datetime.combine(d, datetime.min.time()))  # type: ignore[arg-type]
        if t is None:
            assert back[5] is None
        else:
            assert abs(back[5] - t) < timedelta(milliseconds=1)  # type: ignore[operator]


def test_time_zones_dictionaries_durations_and_long_text() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    astral = "😀" * (MAX_CELL_CHARS // 2 + 5)  # 2 UTF-16 units each: over Excel's limit
    table = pa.table(
        {
            "tz": pa.array([moment, None], pa.timestamp("ms", tz="Europe/Berlin")),
            "ns": pa.array([1_700_000_000_123_456_789, None], pa.timestamp("ns")),
            "cat": pa.array(["west", None]).dictionary_encode(),
            "long": pa.array(["y" * (MAX_CELL_CHARS + 10), astral]),
            "dur": pa.array([timedelta(days=1, hours=12), None], pa.duration("s")),
            "old": pa.array([date(1850, 1, 1), date(1900, 1, 1)], pa.date32()),
            "dec": pa.array([Decimal("12.50"), None], pa.decimal128(10, 2)),
            "tags": pa.array([["a", "b"], None], pa.list_(pa.string())),
        }
    )
    first, second = _roundtrip(table)
    tz, ns, cat, long, dur, old, dec, tags = first
    assert tz == moment.replace(tzinfo=None)  # shown in UTC: Excel has no time zones
    assert abs(ns - datetime(2023, 11, 14, 22, 13, 20, 123457)) < timedelta(milliseconds=1)
    assert cat == "west"
    assert long == "y" * MAX_CELL_CHARS
    assert dur == 1.5  # days
    assert old is None  # before Excel's first date
    assert dec == 12.5
    assert tags == "['a', 'b']"
    assert second[3] == "😀" * (MAX_CELL_CHARS // 2)  # cut whole characters, not halves
    assert second[5] == datetime(1900, 1, 1)
    assert [second[j] for j in (0, 1, 2, 4, 6, 7)] == [None] * 6


def test_an_empty_table_gets_its_header_only(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    pq.write_table(pa.table({"a": pa.array([], pa.int64())}), tmp_path / "t.parquet")
    write_workbook(read_run_folder(tmp_path), tmp_path / "wb.xlsx")
    ws = load_workbook(tmp_path / "wb.xlsx")["t"]
    assert [[c.value for c in r] for r in ws.iter_rows()] == [["a"]]


@pytest.mark.parametrize("rows", [1, 9_999, 10_001, 20_000])  # batches of 10,000 rows
def test_rows_across_batch_boundaries_keep_their_order(tmp_path: Path, rows: int) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    pq.write_table(pa.table({"n": pa.array(range(rows), pa.int64())}), tmp_path / "t.parquet")
    write_workbook(read_run_folder(tmp_path), tmp_path / "wb.xlsx")
    book = load_workbook(tmp_path / "wb.xlsx", read_only=True)
    try:
        values = [r[0] for r in book["t"].iter_rows(min_row=2, values_only=True)]
    finally:
        book.close()
    assert values == list(range(rows))
