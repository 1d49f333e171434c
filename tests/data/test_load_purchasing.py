"""Loading suppliers, purchase orders and sourcing options: purchasing exports' text markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplyseg.config import workspace_from_dict
from supplyseg.data.load import Dataset, load_dataset
from supplyseg.engine import connect

PO_HEADER = (
    "po_id,line_no,supplier_id,product_id,order_date,quantity,promised_date,receipt_date,"
    "received_quantity,unit_price,freight_cost,insurance_cost,duty_rate,incoterm,mode"
)
# Texts real purchasing exports hold in date and cost columns (e.g. USAID's SCMS delivery
# history: "Date Not Captured", "See DN-304 (ID#:10589)", "Freight Included in Commodity Cost").
MARKERS = (
    "Date Not Captured",
    "See ID#123",
    "Freight Included in Commodity Cost",
    "Invoiced Separately",
    "N/A - From RDC",
)


def _write(tmp: Path, name: str, text: str) -> str:
    (tmp / name).write_text(text, encoding="utf-8")
    return name


def _load(tmp: Path, po: str, options: str | None = None) -> Dataset:
    data: dict[str, Any] = {
        "order_lines": {
            "path": _write(
                tmp,
                "ol.csv",
                "order_id,customer_id,product_id,order_date,quantity,unit_price\n"
                "SO1,C1,P1,2024-01-01,1,2\n",
            )
        },
        "suppliers": {"path": _write(tmp, "sup.csv", "supplier_id,country\nS1,CN\nS2,DE\n")},
        "purchase_orders": {"path": _write(tmp, "po.csv", po)},
    }
    if options is not None:
        data["sourcing_options"] = {"path": _write(tmp, "so.csv", options)}
    ws = workspace_from_dict({"data": data}, root=tmp, origin="test.yaml")
    ds = load_dataset(ws, connect())
    for table in ds.accounts:
        acc = ds.accounts[table]
        loaded = ds.tables[table].row_number.to_pandas().tolist()
        rejected = ds.rejects.loc[ds.rejects["table"] == table, "row_number"].tolist()
        assert acc.read == acc.loaded + acc.rejected
        assert sorted(loaded + rejected) == list(range(1, acc.read + 1))
    return ds


def test_markers_in_optional_columns_are_unknown_and_counted(tmp_path: Path) -> None:
    po = (
        PO_HEADER
        + "\n"
        + "\n".join(
            [
                "PO1,1,S1,P1,2024-01-02,10,2024-02-01,2024-02-03,10,5.5,12,1,0.05,FOB,sea",
                "PO1,2,S1,P2,2024-01-02,5,Date Not Captured,2024-02-10,5,3,"
                "Freight Included in Commodity Cost,,,FOB,sea",
                "PO2,1,S2,P1,2024-01-03,4,2024-03-01,Date Not Captured,4,6,See ID#123,,,CIF,air",
                "PO3,1,S2,P1,2024-01-03,4,2024-03-01,2024-03-02,4,6,See ID#123,,,CIF,air",
            ]
        )
    )
    ds = _load(tmp_path, po)
    acc = ds.accounts["purchase_orders"]
    assert (acc.read, acc.loaded, acc.rejected) == (4, 4, 0)
    assert acc.nulled == {
        "freight_cost": {"See ID#123": 2, "Freight Included in Commodity Cost": 1},
        "promised_date": {"Date Not Captured": 1},
        "receipt_date": {"Date Not Captured": 1},
    }
    lines = ds.tables["purchase_orders"].to_pandas().sort_values("row_number")
    assert lines["freight_cost"].isna().tolist() == [False, True, True, True]
    assert lines["receipt_date"].isna().tolist() == [False, False, True, False]
    assert lines["freight_cost"].iloc[0] == 12.0
    note = next(n for n in ds.notes if "freight_cost" in n)
    assert "3 freight_cost value(s)" in note
    assert "'See ID#123' 2" in note


def test_markers_in_required_columns_and_impossible_dates_are_rejected(tmp_path: Path) -> None:
    po = (
        PO_HEADER
        + "\n"
        + "\n".join(
            [
                "PO1,1,S1,P1,Date Not Captured,10,,,,,,,,,",  # required date: a text
                "PO1,2,S1,P1,2024-01-02,See ID#123,,,,,,,,,",  # required number: a text
                "PO1,3,S1,P1,2024-03-02,1,,2024-03-01,,,,,,,",  # received before ordered
                "PO1,4,S9,P1,2024-03-02,1,,,,,,,,,",  # unknown supplier
                "PO1,5,S1,P1,2024-03-02,1,,,,-2,,,,,",  # negative price
                "PO1,6,S1,P1,2024-03-02,1,,,,,-1,,,,",  # negative freight
                "PO1,6,S1,P1,2024-03-02,1,,,,,,,,,",  # the first valid row with key PO1|6: kept
                "PO1,6,S1,P1,2024-03-02,1,,,,,,,,,",  # repeats that key
            ]
        )
    )
    ds = _load(tmp_path, po)
    rejects = ds.rejects[ds.rejects["table"] == "purchase_orders"].set_index("row_number")
    assert rejects["reason_code"].to_dict() == {
        1: "bad_date",
        2: "bad_type",
        3: "date_out_of_range",
        4: "unknown_supplier",
        5: "bad_price",
        6: "bad_value",
        8: "duplicate_key",
    }
    assert "Date Not Captured" in rejects.loc[1, "message"]
    assert "order_date" in rejects.loc[3, "message"]
    assert ds.accounts["purchase_orders"].loaded == 1


def test_sourcing_options_load_with_their_checks(tmp_path: Path) -> None:
    po = PO_HEADER + "\nPO1,1,S1,P1,2024-01-02,10,,,,,,,,,\n"
    options = (
        "product_id,supplier_id,unit_price,lead_time_days,freight_per_unit,incoterm\n"
        "P1,S1,5,60,Freight Included in Commodity Cost,FOB\n"
        "P1,S2,6,See ID#123,0.2,EXW\n"
        "P1,S2,6,10,0.2,EXW\n"  # duplicate key
        "P2,S1,Not Quoted,10,0.2,EXW\n"  # required price: a text
        "P2,S2,-1,10,0.2,EXW\n"
    )
    ds = _load(tmp_path, po, options)
    acc = ds.accounts["sourcing_options"]
    assert (acc.loaded, acc.rejected) == (2, 3)
    assert acc.reasons == {"bad_price": 1, "bad_type": 1, "duplicate_key": 1}
    assert acc.nulled == {
        "freight_per_unit": {"Freight Included in Commodity Cost": 1},
        "lead_time_days": {"See ID#123": 1},
    }


_CELL = st.one_of(
    st.sampled_from(MARKERS),
    st.sampled_from(["", "2024-02-01", "12.5", "0", "-3", "1e400"]),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(_CELL, min_size=9, max_size=9), min_size=1, max_size=6))
def test_any_mix_of_markers_is_accounted_never_a_crash(
    tmp_path: Path, cells: list[list[str]]
) -> None:
    rows = []
    for i, c in enumerate(cells):
        # order_date and quantity (required) and the seven lenient columns get random texts.
        rows.append(
            f"PO{i},1,S1,P1,{c[0] if c[0] != '' else '2024-01-01'},{c[1]},{c[2]},{c[3]},"
            f"{c[4]},{c[5]},{c[6]},{c[7]},{c[8]},FOB,sea"
        )
    ds = _load(tmp_path, PO_HEADER + "\n" + "\n".join(rows))
    acc = ds.accounts["purchase_orders"]
    loaded = ds.tables["purchase_orders"].to_pandas()
    # Every loaded value is a value or unknown; marker texts never reach the numbers.
    for col in ("freight_cost", "insurance_cost", "duty_rate", "received_quantity"):
        assert pd.to_numeric(loaded[col]).ge(0).where(loaded[col].notna(), True).all()
    assert sum(sum(v.values()) for v in acc.nulled.values()) <= 7 * acc.loaded


@pytest.mark.parametrize("marker", MARKERS)
def test_each_marker_in_a_cost_column_is_unknown_not_zero(tmp_path: Path, marker: str) -> None:
    po = PO_HEADER + f"\nPO1,1,S1,P1,2024-01-02,10,,,,{marker},{marker},{marker},{marker},,"
    ds = _load(tmp_path, po)
    line = ds.tables["purchase_orders"].to_pandas().iloc[0]
    for col in ("unit_price", "freight_cost", "insurance_cost", "duty_rate"):
        assert pd.isna(line[col])
        assert ds.accounts["purchase_orders"].nulled[col] == {marker: 1}
