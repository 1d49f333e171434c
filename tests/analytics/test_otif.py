"""OTIF: line flags and customer counts by hand, the early-delivery default, exact roll-ups."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from otif_cases import AS_OF, CASES, OTIF_TOL
from pydantic import ValidationError

from supplyseg.analytics.customer import customer_metrics
from supplyseg.analytics.otif import OTIF_COUNT_COLUMNS, otif_by_customer, otif_lines, otif_summary
from supplyseg.config.customer import CustomerSettings, OtifSettings
from supplyseg.errors import DataContractError

_DATES = ("order_date", "requested_date", "promised_date", "delivered_date")


def _d(s: str | None) -> date | None:
    return None if s is None else date.fromisoformat(s)


def ln(oid: str, cust: str, req: str | None, deliv: str | None, q: float, dq: float | None,
       promised: str | None = "req", credit: bool = False) -> dict[str, Any]:  # fmt: skip
    return {
        "order_id": oid, "customer_id": cust, "product_id": "p", "order_date": _d("2024-03-01"),
        "quantity": float(q), "unit_price": 1.0, "is_credit_note": credit,
        "requested_date": _d(req), "promised_date": _d(req if promised == "req" else promised),
        "delivered_date": _d(deliv), "delivered_quantity": dq,
    }  # fmt: skip


def table(rows: list[dict[str, Any]]) -> ir.Table:
    types = {c: pa.date32() for c in _DATES} | {"delivered_quantity": pa.float64()}
    cols = {c: pa.array([r[c] for r in rows], type=types.get(c)) for c in rows[0]}
    return ibis.memtable(pa.table(cols))


def rows() -> list[dict[str, Any]]:
    return [ln(*case[:6], **case[6]) for case in CASES]


def test_otif_lines_flags_by_hand() -> None:
    flags = otif_lines(table(rows()), OTIF_TOL, AS_OF).to_pandas().set_index("order_id")
    assert "L10" not in flags.index
    cols = ["measured", "not_due", "delivered", "on_time", "in_full", "otif", "early"]
    want = {
        "L1": [1, 0, 1, 1, 1, 1, 0],
        "L2": [1, 0, 1, 1, 1, 1, 1],
        "L3": [1, 0, 1, 0, 1, 0, 1],
        "L4": [1, 0, 1, 1, 0, 0, 0],
        "L5": [1, 0, 1, 0, 1, 0, 0],
        "L6": [1, 0, 0, 0, 0, 0, 0],
        "L7": [0, 1, 0, 0, 0, 0, 0],
        "L8": [0, 1, 1, 0, 1, 0, 1],  # 6 days early, and excluded anyway
        "L9": [0, 0, 1, 0, 1, 0, 0],
        "L11": [1, 0, 0, 0, 0, 0, 0],
        "L12": [1, 0, 1, 1, 1, 1, 0],
        "L13": [1, 0, 1, 1, 1, 1, 0],
        "N1": [0, 1, 0, 0, 0, 0, 0],
    }
    for oid, expected in want.items():
        assert list(flags.loc[oid, cols].astype(int)) == expected, oid
    assert not flags.loc["L9", "has_reference"]


def test_otif_by_customer_by_hand() -> None:
    per = otif_by_customer(table(rows()), OTIF_TOL, AS_OF).to_pandas()
    per = per.set_index("customer_id").sort_index()
    a = per.loc["a"]
    # Measured: L1-L6, L11-L13 (9); on time L1 L2 L4 L12 L13; in full L1 L2 L3 L5 L12 L13;
    # both L1 L2 L12 L13; early (before the due date) L2 L3.
    counts = [a[c] for c in (*OTIF_COUNT_COLUMNS, "lines_no_reference")]
    assert counts == [9, 4, 5, 6, 2, 7, 2, 1]
    assert a.on_time == pytest.approx(5 / 9)
    assert a.in_full == pytest.approx(6 / 9)
    assert a.otif == pytest.approx(4 / 9)
    assert per.loc["b", "otif"] == 0  # 3 days after the requested date
    assert per.loc["c", "lines_due"] == 0
    assert np.isnan(per.loc["c", "otif"])
    promised = OTIF_TOL.model_copy(update={"reference_date": "promised"})
    per = otif_by_customer(table(rows()), promised, AS_OF).to_pandas().set_index("customer_id")
    assert per.loc["b", "otif"] == 1  # 1 day after the promised date, within tolerance


def test_early_deliveries_are_on_time_by_default() -> None:
    # Common practice (on time = not later than due + late tolerance): L3, 2 days early, is on
    # time unless an early window is set. The default has no early window.
    assert OtifSettings().early_tolerance_days is None
    late_only = OtifSettings(late_tolerance_days=2, in_full_tolerance_pct=10)
    flags = otif_lines(table(rows()), late_only, AS_OF).to_pandas().set_index("order_id")
    assert flags.loc["L3", "on_time"]
    assert flags.loc["L3", "otif"]
    per = otif_by_customer(table(rows()), late_only, AS_OF).to_pandas().set_index("customer_id")
    assert per.loc["a", "on_time"] == pytest.approx(6 / 9)
    assert per.loc["a", "otif"] == pytest.approx(5 / 9)
    # A delivery 30 days early is still on time without a window, and fails a 0-day window.
    early = [ln("E1", "e", "2024-03-30", "2024-02-29", 1, 1)]
    assert otif_lines(table(early), OtifSettings(), AS_OF).to_pandas()["on_time"].item()
    exact = OtifSettings(early_tolerance_days=0)
    assert not otif_lines(table(early), exact, AS_OF).to_pandas()["on_time"].item()


def test_early_tolerance_accepts_null_in_yaml_and_rejects_negatives() -> None:
    assert CustomerSettings.model_validate({"otif": {"early_tolerance_days": None}})
    with pytest.raises(ValidationError):
        OtifSettings(early_tolerance_days=-1)


def test_otif_summary_is_the_pooled_line_ratio_not_a_mean_of_customers() -> None:
    lines = otif_lines(table(rows()), OTIF_TOL, AS_OF).to_pandas()
    m = customer_metrics(
        {"order_lines": table(rows())}, CustomerSettings(otif=OTIF_TOL, clv={"enabled": False}),
        as_of=AS_OF,
    ).table  # fmt: skip
    total = otif_summary(m)
    # Independent: the share of measured lines that are OTIF, straight from the line flags.
    due = lines[lines["measured"]]
    assert total["otif"].item() == pytest.approx(due["otif"].mean())  # 4 / 10
    assert total["otif"].item() == pytest.approx(0.4)
    assert total["lines_due"].item() == 10
    assert m["otif"].mean() == pytest.approx((4 / 9 + 0) / 2)  # what a plain mean would say
    # By group: a and c in one segment, b in another; c has nothing due and adds nothing.
    m["segment"] = m["customer_id"].map({"a": "s1", "b": "s2", "c": "s1"})
    by = otif_summary(m, "segment").set_index("segment")
    assert by.loc["s1", "otif"] == pytest.approx(4 / 9)
    assert by.loc["s2", "on_time"] == 0
    assert by.loc["s1", "in_full"] == pytest.approx(6 / 9)
    nothing_due = otif_summary(m[m["customer_id"] == "c"])
    assert np.isnan(nothing_due["otif"].item())  # unknown, not 0
    with pytest.raises(DataContractError, match="lines_otif"):
        otif_summary(pd.DataFrame({"lines_due": [1]}))
