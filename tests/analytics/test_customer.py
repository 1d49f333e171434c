"""Customer KPIs: hand-computed edge cases, a plain-Python oracle, CDNOW CLV end to end."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from otif_cases import CASES, OTIF_TOL
from pydantic import ValidationError

from supplyseg.analytics.customer import (
    CUSTOMER_METRICS_COLUMNS,
    churned,
    customer_metrics,
    dso_by_customer,
    quintile_scores,
    rfm_segments,
)
from supplyseg.analytics.otif import otif_lines
from supplyseg.config.customer import (
    DEFAULT_RFM_SEGMENTS,
    ClvSettings,
    CustomerSettings,
    OtifSettings,
    RfmSegmentRule,
)
from supplyseg.errors import DataContractError

CDNOW = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cdnow"
AS_OF = date(2024, 3, 31)
NO_CLV = CustomerSettings(clv=ClvSettings(enabled=False))

_TYPES: dict[str, pa.DataType] = {
    "order_id": pa.string(),
    "customer_id": pa.string(),
    "product_id": pa.string(),
    "order_date": pa.date32(),
    "quantity": pa.float64(),
    "unit_price": pa.float64(),
    "line_no": pa.int64(),
    "is_credit_note": pa.bool_(),
    "row_number": pa.int64(),
    "channel": pa.string(),
    "requested_date": pa.date32(),
    "promised_date": pa.date32(),
    "delivered_date": pa.date32(),
    "delivered_quantity": pa.float64(),
    "invoice_id": pa.string(),
    "invoice_date": pa.date32(),
    "due_date": pa.date32(),
    "amount": pa.float64(),
    "paid_date": pa.date32(),
}


def d(s: str | None) -> date | None:
    return None if s is None else date.fromisoformat(s)


def table(rows: Sequence[dict[str, Any]]) -> ir.Table:
    """An Ibis memtable with canonical types from row dicts (all rows share the keys)."""
    cols = list(rows[0])
    return ibis.memtable(
        pa.table({c: pa.array([r[c] for r in rows], type=_TYPES[c]) for c in cols})
    )


def line(
    order_id: str,
    customer_id: str,
    order_date: str,
    quantity: float = 1.0,
    unit_price: float = 1.0,
    *,
    credit: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": customer_id,
        "product_id": "p",
        "order_date": d(order_date),
        "quantity": quantity,
        "unit_price": unit_price,
        "line_no": 1,
        "is_credit_note": credit,
        "row_number": 1,
    }
    for k, v in extra.items():
        row[k] = d(v) if k.endswith("_date") and (v is None or isinstance(v, str)) else v
    return row


# --------------------------------------------------------------------------- config


def test_default_segment_map_names_every_r_f_cell() -> None:
    r, f = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    names = rfm_segments(r.ravel(), f.ravel(), np.ones(25), DEFAULT_RFM_SEGMENTS, "Other")
    assert "Other" not in set(names)
    assert {"Champions", "Loyal", "New", "At risk", "Can't lose", "Hibernating", "Lost"} <= set(
        names
    )


def test_settings_reject_bad_values() -> None:
    with pytest.raises(ValidationError, match="1 <= low <= high <= 5"):
        RfmSegmentRule(name="x", r=(0, 3))
    with pytest.raises(ValidationError, match="extra"):
        CustomerSettings.model_validate({"otif": {"late_tolerance": 2}})
    with pytest.raises(ValidationError, match="more than once"):
        CustomerSettings.model_validate(
            {"rfm": {"segments": [{"name": "A"}, {"name": "A", "r": [1, 2]}]}}
        )
    with pytest.raises(ValidationError, match="reference_date"):
        CustomerSettings.model_validate({"otif": {"reference_date": "shipped"}})
    ok = CustomerSettings.model_validate(
        {"rfm": {"segments": [{"name": "Top", "r": [4, 5], "f": [4, 5]}], "default_segment": "X"}}
    )
    assert ok.rfm.segments[0].m == (1, 5)


# --------------------------------------------------------------------------- scoring


def test_quintile_scores_by_hand() -> None:
    # n_worse = [0, 1, 1, 3, 4] -> 1 + floor(5 * n_worse / 5); the tie shares score 2, 3 is skipped
    assert list(quintile_scores([10, 20, 20, 30, 40])) == [1, 2, 2, 4, 5]
    assert list(quintile_scores(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(quintile_scores([7, 7, 7])) == [1, 1, 1]
    assert list(quintile_scores([3.0])) == [1]
    # Recency: smaller is better.
    assert list(quintile_scores([0, 10, 10, 400], higher_is_better=False)) == [4, 2, 2, 1]
    # 60 % single-order customers: they get 1, the next value 1 + floor(5 * 6 / 10) = 4.
    assert list(quintile_scores([1] * 6 + [2, 2, 3, 9])) == [1] * 6 + [4, 4, 5, 5]
    with pytest.raises(DataContractError, match=r"values\[1\] = nan"):
        quintile_scores([1.0, np.nan])


def test_rfm_segments_first_match_wins_then_default() -> None:
    rules = [
        RfmSegmentRule(name="Top", r=(4, 5), f=(4, 5)),
        RfmSegmentRule(name="Recent", r=(4, 5)),  # overlaps Top: Top wins for (5, 5)
        RfmSegmentRule(name="Big spender", m=(5, 5)),
    ]
    got = rfm_segments([5, 5, 1, 2], [5, 1, 1, 3], [1, 5, 5, 2], rules, "Other")
    assert list(got) == ["Top", "Recent", "Big spender", "Other"]


def test_churned_uses_the_larger_of_window_and_own_cadence() -> None:
    got = churned(
        [200, 200, 100, 400, 181],
        [10, 100, np.nan, 150, np.nan],
        window_days=180,
        interpurchase_multiple=3,
    )
    # limits: 180, 300, 180, 450, 180
    assert list(got) == [True, False, False, False, True]


# --------------------------------------------------------------------------- RFM end to end


def rfm_lines(channel: bool = False) -> list[dict[str, Any]]:
    rows = [
        line("o1", "a", "2024-01-01", 2, 10, channel="Web Shop"),
        line("o1", "a", "2024-01-01", 1, 5, channel="Web Shop"),
        line("o2", "a", "2024-03-01", 1, 30, channel="EDI"),
        line("cn1", "a", "2024-03-05", -1, 10, credit=True, channel="Web Shop"),
        line("o3", "b", "2024-03-31", 1, 100, channel="Web Shop"),
        line("o4a", "c", "2023-06-01", 1, 10, channel="EDI"),
        line("o4b", "c", "2023-06-11", 1, 10, channel="EDI"),
        line("o4c", "c", "2023-07-01", 1, 10, channel="EDI"),
        line("o5", "d", "2024-02-01", 1, 20, channel="EDI"),
        line("o6", "d", "2024-02-01", 1, 20, channel=None),  # same day: one purchase day
        line("cn2", "e", "2024-02-01", -1, 5, credit=True, channel="EDI"),  # credit only
        line("o7", "f", "2022-01-01", 1, 10, channel="Key-Account"),
        line("o8", "f", "2023-01-01", 1, 10, channel="Key-Account"),
        line("o9", "g", "2024-04-02", 1, 10, channel="EDI"),  # after as_of: ignored
    ]
    if not channel:
        for r in rows:
            del r["channel"]
    return rows


def test_rfm_repeat_and_churn_by_hand() -> None:
    res = customer_metrics({"order_lines": table(rfm_lines())}, NO_CLV, as_of=AS_OF)
    t = res.table.set_index("customer_id")
    assert list(t.index) == ["a", "b", "c", "d", "f"]  # e: credit notes only; g: after as_of
    assert "customers: 1 customer(s) with credit notes only are not scored" in res.notes
    assert t.loc["a", "first_order"] == pd.Timestamp("2024-01-01")
    assert t.loc["a", "last_order"] == pd.Timestamp("2024-03-01")  # the credit note is no order
    assert list(t["recency_days"]) == [30, 0, 274, 59, 455]
    assert list(t["frequency"]) == [2, 1, 3, 2, 2]  # d: two orders on one day
    np.testing.assert_allclose(t["monetary"], [45, 100, 30, 40, 20])  # a: 25 + 30 - 10
    np.testing.assert_allclose(t["aov"], [22.5, 100, 10, 20, 10])
    assert list(t["r_score"]) == [4, 5, 2, 3, 1]
    assert list(t["f_score"]) == [2, 1, 5, 2, 2]
    assert list(t["m_score"]) == [4, 5, 2, 3, 1]
    assert list(t["rfm_segment"]) == [
        "Potential loyalist",
        "New",
        "Can't lose",
        "About to sleep",
        "Lost",
    ]
    assert list(t["repeat_customer"]) == [True, False, True, False, True]
    np.testing.assert_allclose(t["interpurchase_days_median"], [60, np.nan, 15, np.nan, 365])
    # c: 274 > max(180, 3 * 15); f: 455 < 3 * 365 (its own cadence); b, a, d: recent.
    assert list(t["churned"]) == [False, False, True, False, False]
    assert t["churn_risk"].isna().all()
    assert "channels: skipped, order_lines has no channel column" in res.notes
    assert any(n.startswith("otif: skipped") for n in res.notes)
    assert "dso: skipped, no invoices table" in res.notes
    assert list(res.table.columns) == list(CUSTOMER_METRICS_COLUMNS)
    assert res.table["otif"].isna().all()


def test_rfm_window_limits_frequency_and_monetary() -> None:
    s = CustomerSettings(rfm={"window_days": 90}, clv={"enabled": False})
    t = customer_metrics({"order_lines": table(rfm_lines())}, s, as_of=AS_OF).table
    t = t.set_index("customer_id")
    # Window (2024-01-01, 2024-03-31]: a keeps o2 and the credit note.
    assert list(t["frequency"]) == [1, 1, 0, 2, 0]
    np.testing.assert_allclose(t["monetary"], [20, 100, 0, 40, 0])
    assert t.loc["c", "aov"] != t.loc["c", "aov"]  # NaN without orders in the window
    assert list(t["recency_days"]) == [30, 0, 274, 59, 455]  # recency ignores the window


def test_channel_shares() -> None:
    lines = table(rfm_lines(channel=True))
    t = customer_metrics({"order_lines": lines}, NO_CLV, as_of=AS_OF).table.set_index("customer_id")
    shares = [c for c in t.columns if c.startswith("channel_share_")]
    # Ordered by purchase revenue: Web Shop 125, EDI 80, then the 20-20 tie by name.
    assert shares == [
        "channel_share_web_shop",
        "channel_share_edi",
        "channel_share_key_account",
        "channel_share_unknown",
    ]
    np.testing.assert_allclose(
        t.loc["a", shares].to_numpy(float), [25 / 55, 30 / 55, 0, 0]
    )  # credits ignored
    np.testing.assert_allclose(t.loc["d", shares].to_numpy(float), [0, 0.5, 0, 0.5])
    assert (
        list(t.columns).index("channel_share_web_shop") == list(t.columns).index("open_amount") + 1
    )
    s = CustomerSettings(channels={"basis": "orders", "max_channels": 2}, clv={"enabled": False})
    t = customer_metrics({"order_lines": lines}, s, as_of=AS_OF).table.set_index("customer_id")
    shares = [c for c in t.columns if c.startswith("channel_share_")]
    assert shares == ["channel_share_web_shop", "channel_share_edi", "channel_share_other"]
    np.testing.assert_allclose(t.loc["a", shares].to_numpy(float), [0.5, 0.5, 0])  # one order each
    np.testing.assert_allclose(t.loc["d", shares].to_numpy(float), [0, 0.5, 0.5])
    np.testing.assert_allclose(t.loc["f", shares].to_numpy(float), [0, 0, 1])


# --------------------------------------------------------------------------- OTIF


def otif_rows() -> list[dict[str, Any]]:
    def ln(oid: str, cust: str, req: str | None, deliv: str | None, q: float, dq: float | None,
           **kw: Any) -> dict[str, Any]:  # fmt: skip
        prom = kw.pop("promised", req)
        return line(oid, cust, "2024-03-01", q, 1.0, requested_date=req, promised_date=prom,
                    delivered_date=deliv, delivered_quantity=dq, **kw)  # fmt: skip

    return [ln(*case[:6], **case[6]) for case in CASES]


def test_otif_in_customer_metrics_and_skips() -> None:
    rows = otif_rows()
    s = CustomerSettings(otif=OTIF_TOL, clv={"enabled": False})
    res = customer_metrics({"order_lines": table(rows)}, s, as_of=AS_OF)
    t = res.table.set_index("customer_id")
    assert t.loc["a", "otif"] == pytest.approx(4 / 9)
    assert list(t["lines_due"]) == [9, 1, 0]
    assert list(t["lines_not_due"]) == [2, 0, 1]
    assert "otif: 3 line(s) not yet due at 2024-03-31 excluded" in res.notes
    assert "otif: 1 line(s) without a requested date excluded" in res.notes
    # Without delivered_quantity every delivered line is in full, and a note says so.
    for r in rows:
        del r["delivered_quantity"]
    res = customer_metrics({"order_lines": table(rows)}, s, as_of=AS_OF)
    assert res.table.set_index("customer_id").loc["a", "in_full"] == pytest.approx(7 / 9)
    assert any("no delivered_quantity" in n for n in res.notes)
    # Without the reference date OTIF is skipped with a note.
    for r in rows:
        del r["requested_date"]
    res = customer_metrics({"order_lines": table(rows)}, s, as_of=AS_OF)
    assert res.table["otif"].isna().all()
    assert res.table["lines_due"].isna().all()
    assert any(n.startswith("otif: skipped, order_lines has no requested_date") for n in res.notes)
    with pytest.raises(DataContractError, match="requested_date"):
        otif_lines(table(rows), s.otif, AS_OF)


# --------------------------------------------------------------------------- DSO


def invoice(
    iid: str, cust: str, inv: str, due: str, amount: float, paid: str | None
) -> dict[str, Any]:
    return {
        "invoice_id": iid,
        "customer_id": cust,
        "invoice_date": d(inv),
        "due_date": d(due),
        "amount": amount,
        "paid_date": d(paid),
    }


INVOICES = [
    invoice("i1", "a", "2024-01-01", "2024-01-31", 100, "2024-01-21"),  # 20 days, on time
    invoice("i2", "a", "2024-02-01", "2024-03-02", 300, "2024-03-12"),  # 40 days, 10 late
    invoice("i3", "b", "2024-03-01", "2024-03-31", 50, None),  # open: age 30, not overdue
    invoice("i4", "b", "2024-01-31", "2024-03-01", 150, "2024-04-10"),  # paid after as_of: open
    invoice("i5", "b", "2024-04-05", "2024-05-05", 999, None),  # after as_of: ignored
    invoice("i6", "c", "2024-01-01", "2024-01-31", 0, None),  # zero amount: ignored
    invoice("i7", "c", "2024-01-01", "2024-01-31", -20, "2024-01-02"),  # credit memo: ignored
    invoice("i8", "d", "2024-03-01", "2024-03-31", 80, "2024-02-25"),  # paid before invoice
]


def test_dso_by_hand() -> None:
    per = dso_by_customer(table(INVOICES), AS_OF).to_pandas().set_index("customer_id")
    assert sorted(per.index) == ["a", "b", "d"]
    # a: (100*20 + 300*40) / 400; past due (300*10) / 400
    assert per.loc["a", "dso_days"] == pytest.approx(35.0)
    assert per.loc["a", "days_past_due"] == pytest.approx(7.5)
    assert per.loc["a", "open_amount"] == 0
    # b: (50*30 + 150*60) / 200; past due (150*30) / 200; both open
    assert per.loc["b", "dso_days"] == pytest.approx(52.5)
    assert per.loc["b", "days_past_due"] == pytest.approx(22.5)
    assert per.loc["b", "open_amount"] == 200
    assert per.loc["d", "dso_days"] == 0  # negative days are clipped
    # Without paid_date every invoice is open: a = (100*90 + 300*59) / 400.
    no_paid = table([{k: v for k, v in r.items() if k != "paid_date"} for r in INVOICES])
    per = dso_by_customer(no_paid, AS_OF).to_pandas().set_index("customer_id")
    assert per.loc["a", "dso_days"] == pytest.approx(66.75)


def test_dso_in_customer_metrics() -> None:
    tables = {"order_lines": table(rfm_lines()), "invoices": table(INVOICES)}
    res = customer_metrics(tables, NO_CLV, as_of=AS_OF)
    t = res.table.set_index("customer_id")
    np.testing.assert_allclose(t["dso_days"], [35, 52.5, np.nan, 0, np.nan])
    np.testing.assert_allclose(t["open_amount"], [0, 200, np.nan, 0, np.nan])
    assert not any(n.startswith("dso") for n in res.notes)


def test_missing_inputs_raise_or_skip() -> None:
    with pytest.raises(DataContractError, match="order_lines: table missing"):
        customer_metrics({}, NO_CLV)
    bad = table([{k: v for k, v in line("o", "a", "2024-01-01").items() if k != "unit_price"}])
    with pytest.raises(DataContractError, match=r"missing column\(s\) \['unit_price'\]"):
        customer_metrics({"order_lines": bad}, NO_CLV)
    res = customer_metrics({"order_lines": table(rfm_lines())}, CustomerSettings())
    assert res.as_of == date(2024, 4, 2)  # defaults to the last order date
    assert res.clv_fit is None
    assert any(n.startswith("clv: skipped, 6 customer(s)") for n in res.notes)


# --------------------------------------------------------------------------- oracle


def _oracle(
    lines: list[dict[str, Any]],
    invoices: list[dict[str, Any]],
    otif: OtifSettings,
    as_of: date,
) -> pd.DataFrame:
    """Plain-Python loops over rows: the definitions in the module docstring, nothing shared."""
    out: dict[str, dict[str, Any]] = {}
    live = [r for r in lines if r["order_date"] <= as_of]
    for cust in sorted({r["customer_id"] for r in live}):
        mine = [r for r in live if r["customer_id"] == cust]
        buys = [r for r in mine if not r["is_credit_note"]]
        if not buys:
            continue
        days = sorted({r["order_date"] for r in buys})
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        row: dict[str, Any] = {
            "recency_days": (as_of - days[-1]).days,
            "frequency": len({r["order_id"] for r in buys}),
            "monetary": sum(r["quantity"] * r["unit_price"] for r in mine),
            "interpurchase_days_median": float(np.median(gaps)) if gaps else np.nan,
        }
        due = on_time = in_full = both = not_due = 0
        for r in buys:
            if r["quantity"] <= 0 or r["requested_date"] is None:
                continue
            ref, when = r["requested_date"], r["delivered_date"]
            delivered = when is not None and when <= as_of
            late_end = ref + timedelta(days=otif.late_tolerance_days)
            if ref > as_of or (not delivered and late_end > as_of):
                not_due += 1
                continue
            due += 1
            early_end = (
                ref - timedelta(days=otif.early_tolerance_days)
                if otif.early_tolerance_days is not None
                else date.min
            )
            ok_time = delivered and early_end <= when <= late_end
            got = r["quantity"] if r["delivered_quantity"] is None else r["delivered_quantity"]
            ok_full = delivered and got * 100 >= r["quantity"] * (100 - otif.in_full_tolerance_pct)
            on_time += ok_time
            in_full += ok_full
            both += ok_time and ok_full
        row.update(
            lines_due=due,
            lines_not_due=not_due,
            on_time=on_time / due if due else np.nan,
            in_full=in_full / due if due else np.nan,
            otif=both / due if due else np.nan,
        )
        weight = days_w = late_w = 0.0
        for inv in invoices:
            if inv["customer_id"] != cust or inv["invoice_date"] > as_of or inv["amount"] <= 0:
                continue
            paid = inv["paid_date"] is not None and inv["paid_date"] <= as_of
            end = inv["paid_date"] if paid else as_of
            weight += inv["amount"]
            days_w += inv["amount"] * max((end - inv["invoice_date"]).days, 0)
            late_w += inv["amount"] * max((end - inv["due_date"]).days, 0)
        row["dso_days"] = days_w / weight if weight else np.nan
        row["days_past_due"] = late_w / weight if weight else np.nan
        out[cust] = row
    df = pd.DataFrame.from_dict(out, orient="index")
    n = len(df)
    if n == 0:
        return df
    for col, sign in (("recency_days", -1), ("frequency", 1), ("monetary", 1)):
        v = sign * df[col].to_numpy(float)
        df[col[0] + "_score"] = [1 + 5 * int(np.sum(v < vi)) // n for vi in v]
    return df


ORACLE_AS_OF = date(2024, 3, 1)
# Dates cluster around as-of, where the OTIF windows and DSO cut-offs have their edges.
_day = st.integers(-8, 6).map(lambda k: ORACLE_AS_OF + timedelta(days=k))
_order_day = st.integers(-60, 3).map(lambda k: ORACLE_AS_OF + timedelta(days=k))
_line = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(["a", "b", "c", "d", "e"]),
        "order_id": st.sampled_from([f"o{i}" for i in range(12)]),
        "order_date": _order_day,
        "quantity": st.integers(-3, 12).filter(lambda q: q != 0).map(float),
        "unit_price": st.sampled_from([0.5, 1.0, 2.0, 9.99]),
        "requested_date": st.one_of(st.none(), _day),
        "delivered_date": st.one_of(st.none(), _day),
        "delivered_quantity": st.one_of(st.none(), st.integers(0, 14).map(float)),
    }
)
_invoice = st.fixed_dictionaries(
    {
        "customer_id": st.sampled_from(["a", "b", "c", "x"]),
        "invoice_date": _order_day,
        "due_date": _day,
        "amount": st.sampled_from([-5.0, 0.0, 10.0, 25.5, 100.0]),
        "paid_date": st.one_of(st.none(), _day),
    }
)


@settings(max_examples=30, deadline=None)
@given(
    raw_lines=st.lists(_line, min_size=1, max_size=25),
    raw_invoices=st.lists(_invoice, min_size=1, max_size=10),
    early=st.one_of(st.none(), st.integers(0, 3)),
    late=st.integers(0, 3),
    pct=st.sampled_from([0.0, 10.0, 25.0]),
)
def test_customer_metrics_matches_plain_python_oracle(
    raw_lines: list[dict[str, Any]],
    raw_invoices: list[dict[str, Any]],
    early: int | None,
    late: int,
    pct: float,
) -> None:
    lines = []
    for i, r in enumerate(raw_lines):
        # An order belongs to one customer; negative quantities are credit notes.
        oid = f"{r['customer_id']}-{r['order_id']}"
        extra = {"line_no": i, "is_credit_note": r["quantity"] < 0, "row_number": i + 1}
        lines.append({**r, "order_id": oid, "product_id": "p", **extra})
    invoices = [{**r, "invoice_id": f"i{i}"} for i, r in enumerate(raw_invoices)]
    as_of = ORACLE_AS_OF
    otif = OtifSettings(early_tolerance_days=early, late_tolerance_days=late,
                        in_full_tolerance_pct=pct)  # fmt: skip
    want = _oracle(lines, invoices, otif, as_of)
    s = CustomerSettings(otif=otif, clv={"enabled": False})
    res = customer_metrics({"order_lines": table(lines), "invoices": table(invoices)}, s, as_of)
    got = res.table.set_index("customer_id")
    assert list(got.index) == list(want.index)
    if want.empty:
        return
    for col in ("recency_days", "frequency", "r_score", "f_score", "m_score", "lines_due"):
        assert list(got[col].astype(int)) == list(want[col].astype(int)), col
    assert list(got["lines_not_due"].astype(int)) == list(want["lines_not_due"])
    for col in (
        "monetary",
        "interpurchase_days_median",
        "on_time",
        "in_full",
        "otif",
        "dso_days",
        "days_past_due",
    ):
        np.testing.assert_allclose(got[col].astype(float), want[col].astype(float), err_msg=col)


# --------------------------------------------------------------------------- CLV end to end


@pytest.fixture(scope="module")
def cdnow_lines() -> ir.Table:
    path = CDNOW / "cdnow_sample.parquet"
    if not path.exists():
        pytest.skip(f"CDNOW sample not found at {path}")
    tx = pd.read_parquet(path)
    n = len(tx)
    lines = pa.table(
        {
            "order_id": pa.array([f"r{i}" for i in range(n)]),
            "customer_id": pa.array(tx["customer_id"].astype(str)),
            "product_id": pa.array(["cd"] * n),
            "order_date": pa.array(tx["date"].dt.date, type=pa.date32()),
            "quantity": pa.array(np.ones(n)),
            "unit_price": pa.array(tx["dollar_value"].to_numpy(float)),
            "line_no": pa.array(np.ones(n, dtype=np.int64)),
            "is_credit_note": pa.array(np.zeros(n, dtype=bool)),
            "row_number": pa.array(np.arange(1, n + 1)),
        }
    )
    return ibis.memtable(lines)


def test_cdnow_bgnbd_clv_through_customer_metrics(cdnow_lines: ir.Table) -> None:
    s = CustomerSettings(clv={"model": "bgnbd"})
    res = customer_metrics({"order_lines": cdnow_lines}, s, as_of=date(1997, 9, 30))
    # Fader, Hardie & Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 (weeks).
    bg = res.clv_fit
    assert bg is not None
    assert bg.MODEL == "bgnbd"
    assert len(res.table) == 2357
    np.testing.assert_allclose(
        [bg.r, bg.alpha, bg.a, bg.b], [0.243, 4.414, 0.793, 2.426], rtol=2e-3
    )
    assert bg.log_likelihood == pytest.approx(-9582.43, abs=0.01)
    # Gamma-Gamma (Fader, Hardie & Lee 2005, JMR): p = 6.25, q = 3.74, gamma = 15.44.
    gg = res.spend_fit
    assert gg is not None
    assert gg.n_customers == 946
    np.testing.assert_allclose([gg.p, gg.q, gg.v], [6.25, 3.74, 15.44], rtol=2e-3)
    t = res.table
    np.testing.assert_allclose(t["churn_risk"], 1 - t["p_alive"])
    assert t["clv_12m"].notna().all()
    assert (t["clv_12m"] > 0).all()
    assert ((t["p_alive"] > 0) & (t["p_alive"] <= 1)).all()
    # A one-time buyer's expected spend is the population mean p v / (q - 1).
    once = t["repeat_customer"].to_numpy() == 0
    np.testing.assert_allclose(t.loc[once, "expected_avg_value"], gg.p * gg.v / (gg.q - 1))
    # BG/NBD's known property: no repeat purchase, never dropped out.
    assert (t.loc[once, "p_alive"] == 1).all()
    assert (t["clv_basis"] == "revenue").all()


def test_cdnow_mbgnbd_is_the_default_and_one_time_buyers_fade(cdnow_lines: ir.Table) -> None:
    res = customer_metrics({"order_lines": cdnow_lines}, as_of=date(1997, 9, 30))
    fit = res.clv_fit
    assert fit is not None
    assert fit.MODEL == "mbgnbd"
    # BTYDplus mbgnbd.EstimateParameters on the same data, as quoted by the lifetimes test
    # suite (ModifiedBetaGeoFitter: "params out is close to BTYDplus"): 0.525, 6.183, 0.891,
    # 1.614.
    np.testing.assert_allclose(
        [fit.r, fit.alpha, fit.a, fit.b], [0.525, 6.183, 0.891, 1.614], atol=1.5e-3
    )
    t = res.table
    once = t[~t["repeat_customer"]]
    assert (once["p_alive"] < 1).all()
    # The longer silent (the earlier the single purchase), the less likely alive.
    by_silence = once.sort_values("recency_days")
    assert np.all(np.diff(by_silence["p_alive"].to_numpy()) <= 1e-12)
    assert by_silence["p_alive"].iloc[-1] < by_silence["p_alive"].iloc[0]
    assert t["clv_12m"].notna().all()
    assert not res.warnings
    assert "clv: clv_12m is expected revenue (clv.margin = 1), not profit" in res.notes


def test_clv_basis_says_margin_when_a_margin_is_set(cdnow_lines: ir.Table) -> None:
    s = CustomerSettings(clv={"margin": 0.3})
    res = customer_metrics({"order_lines": cdnow_lines}, s, as_of=date(1997, 9, 30))
    assert (res.table["clv_basis"] == "margin").all()
    assert not any("expected revenue" in n for n in res.notes)


def _no_dropout_lines(n: int = 60) -> ir.Table:
    """Customers who all buy every 7 days without fail: no dropout, no heterogeneity."""
    rows = []
    start = date(2024, 1, 1)
    for c in range(n):
        for k in range(c % 3, 20):
            day = start + timedelta(days=7 * k)
            rows.append(line(f"o{c}-{k}", f"c{c:03d}", day.isoformat(), 1.0, 10.0 + c % 5))
    return table(rows)


def test_a_degenerate_clv_fit_is_a_warning_and_unknown_values() -> None:
    lines = _no_dropout_lines()
    res = customer_metrics({"order_lines": lines}, as_of=date(2024, 5, 20))
    fit = res.clv_fit
    assert fit is not None
    assert fit.problems()
    assert any(w.startswith("clv: the MBG/NBD fit cannot be trusted") for w in res.warnings)
    t = res.table
    for c in ("clv_12m", "p_alive", "expected_purchases_12m", "churn_risk"):
        assert t[c].isna().all(), c  # unknown, never 0


def test_bgnbd_runs_off_to_its_bounds_where_mbgnbd_fits() -> None:
    # 40 one-time buyers long silent among 60 buyers of varied rates: BG/NBD cannot let the
    # one-time buyers drop out, so a and b run off (a ~ 7.6e4, b ~ 2e6: the "a = 8,791,
    # b = 1.5e6" of the Online Retail report); MBG/NBD fits the same data.
    rows = [line(f"x{i}", f"x{i:02d}", "2023-11-01") for i in range(40)]
    rng = np.random.default_rng(3)
    for c in range(60):
        day, stop = 0.0, rng.exponential(200.0)
        rate = rng.gamma(2.0, 1 / 20.0)
        while day < min(stop, 130.0):
            when = (date(2024, 1, 1) + timedelta(days=int(day))).isoformat()
            rows.append(line(f"w{c}-{day:.0f}", f"w{c:02d}", when, 1.0, 5.0 + c % 7))
            day += 1.0 + rng.exponential(1 / rate)
    bg = customer_metrics(
        {"order_lines": table(rows)}, CustomerSettings(clv={"model": "bgnbd"}), date(2024, 5, 20)
    )
    assert bg.clv_fit is not None
    assert set(bg.clv_fit.at_bound) >= {"a", "b"}
    assert len(bg.warnings) == 1
    assert "parameter(s) at their bounds" in bg.warnings[0]
    assert bg.table["clv_12m"].isna().all()
    assert bg.table["p_alive"].isna().all()
    mbg = customer_metrics({"order_lines": table(rows)}, as_of=date(2024, 5, 20))
    assert mbg.clv_fit is not None
    assert not mbg.clv_fit.problems()
    assert not mbg.warnings
    t = mbg.table.set_index("customer_id")
    assert t.loc["x00", "churned"]
    assert t.loc["x00", "p_alive"] < 0.5
    assert t["clv_12m"].notna().all()


def test_churned_customers_the_model_thinks_alive_are_a_warning(cdnow_lines: ir.Table) -> None:
    # CDNOW to mid 1998: most one-time buyers are over a year silent (churned by the 180-day
    # rule); BG/NBD keeps them at p_alive = 1, and the warning names the fix. MBG/NBD agrees
    # with the rule for nearly all of them.
    s = CustomerSettings(clv={"model": "bgnbd"})
    res = customer_metrics({"order_lines": cdnow_lines}, s)
    assert any("have p_alive > 0.5" in w and "clv.model: mbgnbd" in w for w in res.warnings)
    res = customer_metrics({"order_lines": cdnow_lines})
    t = res.table
    assert not res.warnings
    assert (t["churned"] & (t["p_alive"] > 0.5)).sum() <= 0.1 * t["churned"].sum()
