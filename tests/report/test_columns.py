"""Units and formatting of output columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supplyseg.report.columns import column_info, format_value, fraction_scale


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1234567.891, "currency", "1,234,568"),
        (12.5, "currency", "12.50"),
        (0.1234, "fraction", "12.3 %"),
        (55.55, "percent", "55.5 %"),
        (12345, "count", "12,345"),
        (0.012345, "number", "0.0123"),
        (float("nan"), "currency", ""),
        (None, "text", ""),
        (True, "text", "yes"),
        (float("inf"), "number", "∞"),
        ("a\x07b", "text", "a\\x07b"),
        (pd.Timestamp("2024-03-01 10:00"), "date", "2024-03-01"),
    ],
)
def test_format_value(value: object, unit: str, text: str) -> None:
    assert format_value(value, unit) == text  # type: ignore[arg-type]


def test_currency_code_and_fixed_decimals() -> None:
    assert format_value(1500.0, "currency", "EUR") == "EUR 1,500"
    assert format_value(1500.0, "currency", "", decimals=2) == "1,500.00"


def test_units_of_contract_and_pattern_columns() -> None:
    assert column_info("cts_pct_revenue").unit == "percent"
    assert column_info("share").unit == "fraction"
    assert column_info("channel_share_web").unit == "fraction"
    assert column_info("freight", np.dtype("float64"), table="cost_to_serve_customer").unit == (
        "currency"
    )
    assert column_info("freight", np.dtype("float64")).unit == "number"
    assert column_info("n_things", np.dtype("int64")).unit == "count"


def test_fraction_scale_tells_fractions_from_percentages() -> None:
    assert fraction_scale(pd.Series([0.2, 0.95, np.nan])) == 100.0
    assert fraction_scale(pd.Series([20.0, 95.0])) == 1.0
    assert fraction_scale(pd.Series([np.nan])) == 100.0
