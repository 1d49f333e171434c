"""Tests for supplyseg.analytics.whale's profit columns (the curve itself is tested with the
cost-to-serve tables in test_cost_to_serve.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supplyseg.analytics.whale import with_profit


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
