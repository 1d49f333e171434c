"""Behaviour features per customer, cross-checked against a plain pandas computation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.engine import connect
from supplyseg.segment.features import customer_behaviour

END = dt.date(2025, 6, 30)


def _oracle(df: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    rows = []
    med_values = []
    for cid, g in df[~df["is_credit_note"]].groupby("customer_id"):
        orders = g["order_id"].nunique()
        revenue = float((g["quantity"] * g["unit_price"]).sum())
        dates = sorted(set(g["order_date"]))
        gaps = np.diff([d.toordinal() for d in dates])
        active = (end - min(dates)).days + 1
        months = max(active / 30.4375, 1.0)
        cv = float(np.std(gaps) / np.mean(gaps)) if len(gaps) >= 2 else np.nan
        rows.append(
            {
                "customer_id": cid,
                "orders": orders,
                "revenue": revenue,
                "product_breadth": g["product_id"].nunique(),
                "orders_per_month": orders / months,
                "interval_cv": cv,
                "rush_share": g["rush"].mean(),
            }
        )
        med_values.append(revenue / orders)
    out = pd.DataFrame(rows)
    out["order_value_ratio"] = (out["revenue"] / out["orders"]) / np.median(med_values)
    return out.sort_values("customer_id", ignore_index=True)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 10_000),
)
def test_features_match_pandas(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in rng.integers(0, max(1, n // 2), n)],
            "customer_id": [f"c{i}" for i in rng.integers(0, 5, n)],
            "product_id": [f"p{i}" for i in rng.integers(0, 7, n)],
            "order_date": [END - dt.timedelta(days=int(d)) for d in rng.integers(0, 200, n)],
            "quantity": rng.integers(1, 10, n).astype(float),
            "unit_price": rng.uniform(1, 5, n).round(2),
            "is_credit_note": rng.random(n) < 0.1,
            "rush": rng.random(n) < 0.3,
        }
    )
    # An order belongs to one customer on one day, as in real order data.
    first = df.groupby("order_id")[["customer_id", "order_date"]].transform("first")
    df[["customer_id", "order_date"]] = first
    if df["is_credit_note"].all():
        df.loc[0, "is_credit_note"] = False
    got = customer_behaviour(connect().create_table("lines", df), END)
    want = _oracle(df, END)
    assert got["customer_id"].tolist() == want["customer_id"].tolist()
    for col in want.columns.drop("customer_id"):
        np.testing.assert_allclose(
            got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float), rtol=1e-9, err_msg=col
        )
