"""Tests for supplyseg.analytics.whale's profit columns (the curve itself is tested with the
cost-to-serve tables in test_cost_to_serve.py)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.analytics.whale import profit_columns, with_profit


def test_percentages_of_revenue_are_unknown_where_revenue_is_float_residue() -> None:
    # Online Retail customer 13672: sales and credit notes that cancel net to 1.4e-14 or 0.0
    # depending on the summation order; its CTS % of revenue read 5.2e17 or unknown.
    df = pd.DataFrame(
        {
            "customer_id": ["residue", "zero", "credit", "real"],
            "revenue": [1.4e-14, 0.0, -20.0, 200.0],
            "cogs": [0.0, 0.0, -10.0, 120.0],
            "order": [7.3, 7.3, 7.3, 10.0],
            "n_cost_missing": [0, 0, 0, 0],
        }
    )
    out = with_profit(df, ["order"], ["customer_id"])
    assert out["cts_pct_revenue"].isna().tolist() == [True, True, True, False]
    assert out["cts_pct_revenue"].iloc[3] == pytest.approx(5.0)  # 10 of 200
    assert out["net_margin_pct"].iloc[3] == pytest.approx(35.0)  # (200 - 120 - 10) / 200
    np.testing.assert_allclose(out["net_profit"], [-7.3, -7.3, -17.3, 70.0])


money = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, 1e-14]))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(money, money, st.integers(0, 2), money, money), min_size=1, max_size=20)
)
def test_profit_columns_on_the_engine_are_with_profit(
    rows: list[tuple[float | None, float | None, int, float | None, float | None]],
) -> None:
    # The per-order and per-pair tables get their profit columns on the engine (written to
    # Parquet by it): the same figures, bit for bit, as the pandas formula; unknown is null
    # there and NaN here.
    df = pd.DataFrame(rows, columns=["revenue", "cogs", "n_cost_missing", "order", "returns"])
    df = df.astype(dict.fromkeys(("revenue", "cogs", "order", "returns"), "float64"))
    df.insert(0, "customer_id", [f"C{i}" for i in range(len(df))])
    pools = ["order", "returns"]
    got = profit_columns(ibis.memtable(df), pools, ["customer_id"]).to_pandas()
    got = got.sort_values("customer_id", key=lambda s: s.str[1:].astype(int), ignore_index=True)
    want = with_profit(df, pools, ["customer_id"])
    assert list(got.columns) == list(want.columns)
    for c in want.columns[1:]:
        np.testing.assert_array_equal(got[c].to_numpy("float64"), want[c].to_numpy("float64"), c)
