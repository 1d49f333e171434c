"""Source values to canonical ones: null words, non-finite numbers, float ids, time zones,
number and date formats, derived columns. Every load checks read = loaded + rejected.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from supplyseg.data.parse import EXACT_INT

CDNOW = Path(__file__).resolve().parents[3] / "shared" / "data" / "cdnow" / "cdnow_master.parquet"


def test_null_words_are_values_unless_listed(intake: Any) -> None:
    ds = intake.load("null_words.csv")
    lines = intake.lines(ds)
    assert (lines.loc["O1", "customer_id"], lines.loc["O1", "product_id"]) == ("NA", "NULL")
    assert lines.loc["O1", "channel"] == "N/A"
    assert lines.loc["O2", "product_id"] == "NaN"
    assert pd.isna(lines.loc["O2", "channel"])  # only the empty field is missing
    ds = intake.load("null_words.csv", null_values=["NA", "N/A"])
    assert intake.reasons(ds) == {1: "missing_required"}
    assert ds.rejects.iloc[0]["field"] == "customer_id"


def test_non_finite_numbers_are_bad_values(intake: Any) -> None:
    ds = intake.load("not_finite.csv")
    assert intake.reasons(ds) == dict.fromkeys((1, 2, 3, 4, 5), "bad_value")
    rejects = ds.rejects.set_index("row_number")
    assert rejects.loc[3, "field"] == "unit_price"
    assert rejects.loc[5, "value"] == "-inf"  # not negative_quantity: -inf is no quantity
    assert "is not a finite number" in rejects.loc[1, "message"]


def test_non_finite_numbers_in_parquet_are_bad_values(intake: Any, tmp_path: Path) -> None:
    frame = pd.read_csv(intake.bad / "good_lines.csv", dtype={"customer_id": str})
    frame = pd.concat([frame] * 3, ignore_index=True)
    frame["order_id"] = [f"O{i}" for i in range(6)]
    quantity = [3.0, np.nan, np.inf, -np.inf, 2.0, 1.0]
    price = [10.0, 10.0, 10.0, 10.0, np.nan, 1.5]
    table = pa.Table.from_pandas(frame.drop(columns=["quantity", "unit_price"]))
    # pyarrow, polars and Spark keep NaN as a value (pandas writes it as null, i.e. missing).
    table = table.append_column("quantity", pa.array(quantity, from_pandas=False))
    table = table.append_column("unit_price", pa.array(price, from_pandas=False))
    pq.write_table(table, tmp_path / "lines.parquet")
    assert pq.read_table(tmp_path / "lines.parquet")["quantity"].null_count == 0
    ds = intake.load("lines.parquet", root=tmp_path)
    assert intake.reasons(ds) == {2: "bad_value", 3: "bad_value", 4: "bad_value", 5: "bad_value"}
    assert ds.rejects.set_index("row_number").loc[2, "value"] == "NaN"
    frame["quantity"], frame["unit_price"] = quantity, price
    frame.to_parquet(tmp_path / "pandas.parquet")
    ds = intake.load("pandas.parquet", root=tmp_path)
    assert intake.reasons(ds) == {2: "missing_required", 3: "bad_value", 4: "bad_value",
                                  5: "missing_required"}  # fmt: skip


def test_parquet_float_ids_load_as_whole_numbers(intake: Any, tmp_path: Path) -> None:
    # pandas stores an integer column with a gap as float64: 123.0, NaN.
    frame = pd.read_csv(intake.bad / "good_lines.csv")
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    frame["order_id"] = [101.0, 102.0, 103.0]
    frame["customer_id"] = [123.0, np.nan, 9_007_199_254_740_993.0]
    frame["product_id"] = [7.5, 7.0, 7.0]
    frame.to_parquet(tmp_path / "ids.parquet")
    assert pq.read_schema(tmp_path / "ids.parquet").field("customer_id").type == pa.float64()
    ds = intake.load("ids.parquet", root=tmp_path)
    lines = intake.lines(ds)
    assert lines.index.tolist() == ["101", "103"]
    assert lines.loc["101", "customer_id"] == "123"
    assert lines.loc["101", "product_id"] == "7.5"
    assert lines.loc["103", "customer_id"] == "9007199254740992.0"  # past 2^53: not exact
    assert intake.reasons(ds) == {2: "missing_required"}


def test_same_instant_same_date_from_csv_text_or_parquet(intake: Any, tmp_path: Path) -> None:
    # 23:30 in New York on 31 January is 04:30 UTC on 1 February: the date is the UTC date.
    instants = ["2025-01-31T23:30:00-05:00", "2025-02-01T04:30:00Z", "2025-02-01 10:00:00+05:30"]
    noon = "2025-01-31T12:00:00-05:00"
    naive = "2025-01-31 23:30:00"  # no zone: taken as written
    body = "".join(f"O{i},1,C1,P1,{v},1,1\n" for i, v in enumerate([*instants, noon, naive]))
    from_csv = intake.lines(intake.load(intake.write("tz.csv", body), root=tmp_path))
    feb1, jan31 = pd.Timestamp(dt.date(2025, 2, 1)), pd.Timestamp(dt.date(2025, 1, 31))
    assert from_csv["order_date"].tolist() == [feb1, feb1, feb1, jan31, jan31]
    frame = pd.read_csv(tmp_path / "tz.csv", dtype=str).iloc[:4]
    for zone in ("America/New_York", "UTC", "Asia/Kolkata"):
        stamps = pd.to_datetime([*instants, noon], utc=True, format="ISO8601")
        frame["order_date"] = stamps.tz_convert(zone)
        frame.to_parquet(tmp_path / "tz.parquet")
        assert pq.read_schema(tmp_path / "tz.parquet").field("order_date").type.tz == zone
        from_parquet = intake.lines(intake.load("tz.parquet", root=tmp_path))
        assert from_parquet["order_date"].tolist() == [feb1, feb1, feb1, jan31], zone


def test_decimal_comma_thousands_and_day_first_dates(intake: Any) -> None:
    ds = intake.load(
        "european.csv", delimiter=";", decimal=",", thousands=".", date_format="%d/%m/%Y"
    )
    lines = intake.lines(ds)
    assert lines.loc["O1", "quantity"] == 1234.5
    assert lines.loc["O1", "unit_price"] == 10.25
    assert lines.loc["O1", "order_date"] == pd.Timestamp(dt.date(2025, 1, 31))
    assert lines.loc["O2", "order_date"] == pd.Timestamp(dt.date(2025, 2, 1))  # ISO still reads
    assert lines.loc["O2", "unit_price"] == 1000
    # 13/13/2025 is no date; 1,234.5 has its separators the wrong way round (not 1.2345).
    assert intake.reasons(ds) == {3: "bad_date", 4: "bad_type"}


def test_without_settings_local_numbers_are_not_guessed(intake: Any) -> None:
    ds = intake.load("european.csv", delimiter=";")
    # The defaults are ISO dates and a decimal point: 31/01/2025 is no date, 1.000 is 1.0.
    assert intake.reasons(ds) == {1: "bad_date", 3: "bad_date", 4: "bad_date"}
    assert intake.lines(ds).loc["O2", "unit_price"] == 1.0
    ds = intake.load("european.csv", delimiter=";", decimal=",", date_format="%d/%m/%Y")
    # With a decimal comma and no thousands separator, a dot in a number is refused.
    assert intake.reasons(ds) == {1: "bad_type", 2: "bad_type", 3: "bad_date", 4: "bad_type"}
    assert ds.rejects.set_index("row_number").loc[2, "field"] == "unit_price"


def test_us_short_dates(intake: Any) -> None:
    body = "O1,1,C1,P1,01/31/25,1,1\nO2,1,C1,P1,12/31/99,1,1\nO3,1,C1,P1,31/01/25,1,1\n"
    ds = intake.load(intake.write("us.csv", body), root=intake.tmp, date_format="%m/%d/%y")
    dates = intake.lines(ds)["order_date"].tolist()
    assert dates == [pd.Timestamp(dt.date(2025, 1, 31)), pd.Timestamp(dt.date(1999, 12, 31))]
    # 31/01/25 does not match; the ISO fallback reads it as the year 31, out of 1900..2100.
    assert intake.reasons(ds) == {3: "date_out_of_range"}


def test_huge_or_infinite_line_numbers_are_bad_types(intake: Any) -> None:
    ds = intake.load("line_no_overflow.csv")
    assert intake.reasons(ds) == {1: "bad_type", 2: "bad_type"}
    assert "line_no = '1e19' is not a whole number" in ds.rejects.iloc[0]["message"]
    body = f"O1,{EXACT_INT - 1},C1,P1,2025-01-06,1,1\nO2,{EXACT_INT},C1,P1,2025-01-06,1,1\n"
    ds = intake.load(intake.write("big.csv", body), root=intake.tmp)
    assert intake.lines(ds)["line_no"].tolist() == [EXACT_INT - 1]


def test_cdnow_style_file_with_constant_and_derived_columns(intake: Any) -> None:
    # customer, date, number_of_cds, dollar_value: one order per customer and day.
    columns = {
        "order_id": {"concat": ["customer", "date"], "sep": "-"},
        "customer_id": "customer",
        "order_date": "date",
        "quantity": "number_of_cds",
        "product_id": {"value": "CD"},
        "unit_price": {"divide": ["dollar_value", "number_of_cds"]},
    }
    ds = intake.load("cdnow_style.csv", columns=columns, date_format="%Y%m%d")
    lines = intake.lines(ds)
    assert lines.index.tolist() == ["1-19970101", "2-19970112", "2-19970112", "3-19970102"]
    assert lines["product_id"].unique().tolist() == ["CD"]
    assert lines["unit_price"].tolist() == pytest.approx([11.77, 12.0, 77.0 / 5, 10.0])
    assert lines["line_no"].tolist() == [1, 1, 2, 1]
    assert (lines["quantity"] * lines["unit_price"]).sum() == pytest.approx(120.77)


def test_division_by_zero_and_bad_operands_are_rejected(intake: Any) -> None:
    packs = ((1, 5), (2, 0), (3, "x"))
    body = "".join(f"O{i},1,C1,P1,2025-01-06,2,10,{pack}\n" for i, pack in packs)
    header = f"{intake.header},pack"
    name = intake.write("packs.csv", body, header=header)
    columns = {"unit_price": {"divide": ["unit_price", "pack"]}, "unit_cost": {"multiply": [
        "unit_price", 0.5]}}  # fmt: skip
    ds = intake.load(name, root=intake.tmp, columns=columns)
    assert intake.reasons(ds) == {2: "bad_value", 3: "bad_type"}
    rejects = ds.rejects.set_index("row_number")
    assert rejects.loc[2, "value"] == "10 / 0"
    assert "divides by zero (pack is 0)" in rejects.loc[2, "message"]
    assert rejects.loc[3, "value"] == "10 / x"
    lines = intake.lines(ds)
    assert (lines.loc["O1", "unit_price"], lines.loc["O1", "unit_cost"]) == (2.0, 5.0)


def test_a_constant_value_is_typed_like_source_text(intake: Any) -> None:
    columns = {"channel": {"value": "web"}, "rush": {"value": "yes"}}
    ds = intake.load("good_lines.csv", columns=columns)
    lines = intake.lines(ds)
    assert lines["channel"].tolist() == ["web", "web"]
    assert lines["rush"].tolist() == [True, True]


@pytest.mark.skipif(not CDNOW.exists(), reason="../shared/data/cdnow not present")
def test_real_cdnow_master_file(intake: Any) -> None:
    columns = {
        "order_id": {"concat": ["customer_id", "date"], "sep": "@"},
        "order_date": "date",
        "quantity": "number_of_cds",
        "product_id": {"value": "CD"},
        "unit_price": {"divide": ["dollar_value", "number_of_cds"]},
    }
    ds = intake.load(CDNOW.name, root=CDNOW.parent, columns=columns)
    acc = ds.accounts["order_lines"]
    raw = pd.read_parquet(CDNOW)
    # README: 69,659 rows; 80 have dollar_value 0 (no positive price).
    assert acc.read == len(raw) == 69_659
    assert acc.reasons == {"bad_price": int((raw["dollar_value"] <= 0).sum())} == {"bad_price": 80}
    lines = ds.tables["order_lines"]
    revenue = (lines.quantity * lines.unit_price).sum().to_pyarrow().as_py()
    assert revenue == pytest.approx(raw["dollar_value"].sum())
    assert lines.customer_id.nunique().to_pyarrow().as_py() <= 23_570
