"""Tests for supplyseg.policy.accuracy: forecast value added by hand, unscored series apart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from supplyseg.policy.accuracy import ACCURACY_COLUMNS, forecast_accuracy


def test_fva_and_flags_by_hand() -> None:
    f = pd.DataFrame(
        {
            "pattern": ["smooth", "smooth", "lumpy", "lumpy", "lumpy", "lumpy"],
            "method": ["AutoETS", "HistoricAverage", "TSB", "TSB", "IMAPA", "TSB"],
            "mae": [1.0, 3.0, 2.0, np.nan, 0.5, 4.0],
            "baseline_mae": [2.0, 2.0, 1.0, np.nan, 0.0, 4.0],
            "segment": ["A", "B", "A", "A", "B", "B"],
        }
    )
    acc = forecast_accuracy(f)
    assert tuple(acc.columns) == ACCURACY_COLUMNS
    whole = acc[acc["segment"] == "all"].set_index("pattern")
    assert list(whole.index) == ["smooth", "lumpy", "all"]
    s = whole.loc["smooth"]
    assert (s["series"], s["series_beating"], s["share_beating"]) == (2, 1, 0.5)
    assert s["relative_mae"] == 1.0  # (1 + 3) / (2 + 2)
    assert s["fva"] == 0.0
    assert s["fva_geomean"] == pytest.approx(1 - math.sqrt(0.5 * 1.5))
    assert s["methods"] == "AutoETS 1, HistoricAverage 1"
    lumpy = whole.loc["lumpy"]
    # scored: 2 vs 1 and 4 vs 4; the NaN one is too short, the 0-baseline one apart
    assert (lumpy["series"], lumpy["series_too_short"], lumpy["series_zero_baseline"]) == (2, 1, 1)
    assert lumpy["relative_mae"] == pytest.approx(6 / 5)
    assert lumpy["fva"] == pytest.approx(-0.2)
    assert whole.loc["all", "relative_mae"] == pytest.approx(10 / 9)
    by_seg = acc[acc["segment"] != "all"].set_index(["segment", "pattern"])
    assert by_seg.loc[("A", "smooth"), "relative_mae"] == 0.5
    assert by_seg.loc[("B", "lumpy"), "series"] == 1
    assert by_seg.loc[("A", "all"), "series"] == 2


def test_no_ratio_from_a_zero_baseline() -> None:
    f = pd.DataFrame({"pattern": ["lumpy"], "mae": [3.0], "baseline_mae": [0.0]})
    r = forecast_accuracy(f).iloc[0]
    assert (r["series"], r["series_zero_baseline"]) == (0, 1)
    assert math.isnan(r["relative_mae"])
    assert math.isnan(r["share_beating"])


def test_forecast_accuracy_aggregates_by_hand() -> None:
    bt = pd.DataFrame(
        {
            "pattern": ["smooth", "smooth", "lumpy", "lumpy"],
            "method": ["AutoETS", "AutoETS", "ADIDA", "ADIDA"],
            "n_backtest": [4, 4, 4, 0],
            "mae": [1.0, 3.0, 2.0, np.nan],
            "rmse": [2.0, 4.0, 3.0, np.nan],
            "bias": [-1.0, 1.0, 0.5, np.nan],
            "mase": [0.5, np.nan, 1.0, np.nan],
            "baseline_mae": [2.0, 6.0, 1.0, np.nan],
            "baseline_mase": [1.0, np.nan, 0.5, np.nan],
        }
    )
    acc = forecast_accuracy(bt).set_index("pattern")  # a backtest table works too
    assert list(acc.index) == ["smooth", "lumpy", "all"]
    assert acc.loc["smooth", ["series", "mae", "rmse", "bias", "mase"]].tolist() == [
        2,
        2,
        3,
        0,
        0.5,
    ]
    assert acc.loc["smooth", "relative_mae"] == 0.5  # (1 + 3) / (2 + 6)
    assert acc.loc["lumpy", "relative_mae"] == 2.0
    assert acc.loc["all", "series"] == 3
    assert acc.loc["all", "relative_mae"] == pytest.approx(6 / 9)
