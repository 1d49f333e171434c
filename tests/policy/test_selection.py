"""Tests for supplyseg.policy.selection: the method chosen on the earlier rolling-origin windows
and its held-out score, against a plain-numpy re-computation (HistoricAverage / Naive /
SeasonalNaive, whose forecasts need no fitting)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from weekly import WEEKS, long

from supplyseg.policy.forecast import demand_forecast


def patterns(*ids: str, **extra: object) -> pd.DataFrame:
    """insufficient_history: default HistoricAverage, no other candidate but the baselines."""
    return pd.DataFrame(
        {"unique_id": list(ids), "pattern": "insufficient_history", "method": "HistoricAverage"}
        | {k: [v] * len(ids) for k, v in extra.items()}
    )


def forecast(y: np.ndarray, method: str, origin: int, h: int, m: int = 1) -> np.ndarray:
    train = y[:origin]
    if method == "HistoricAverage":
        return np.full(h, train.mean())
    if method == "Naive":
        return np.full(h, train[-1])
    return np.array([train[origin - m + (j % m)] for j in range(h)])  # SeasonalNaive


def oracle(
    y: np.ndarray,
    h: int,
    nw: int,
    holdout: int,
    step: int,
    margin: float,
    names: list[str],
    m: int = 1,
) -> dict[str, object]:
    """Choose among ``names`` (rank order, first = default) on windows 1..nw-holdout by pooled
    MAE; switch from the default only when more than ``margin`` better; score on the rest."""
    n = len(y)
    origins = [n - h - (nw - 1 - k) * step for k in range(nw)]
    usable = [o >= 2 for o in origins]
    sel = [k for k in range(nw - holdout) if usable[k]]
    hold = [k for k in range(nw - holdout, nw) if usable[k]]

    def mae(name: str, windows: list[int]) -> float:
        err = [
            forecast(y, name, origins[k], h, m) - y[origins[k] : origins[k] + h] for k in windows
        ]
        return float(np.mean(np.abs(np.concatenate(err)))) if err else math.nan

    chosen = names[0]
    if sel:
        scores = [mae(c, sel) for c in names]
        best = min(range(len(names)), key=lambda i: (scores[i], i))
        if scores[best] < (1 - margin) * scores[0]:
            chosen = names[best]
    baseline = "SeasonalNaive" if "SeasonalNaive" in names else "Naive"
    return {
        "method": chosen,
        "mae": mae(chosen, hold),
        "baseline_mae": mae(baseline, hold),
        "n_backtest": h * len(hold),
        "selected": bool(sel),
    }


def test_selection_by_hand() -> None:
    """y = 1 1 1 1 1 9 1 9 1 9 | 1 9, h = 2, windows of 2 starting at periods 6, 8, 10.

    Selection windows 1-2 (origins 6, 8; targets 1 9 and 1 9): HistoricAverage forecasts 14/6
    and 24/8 = 3, both between 1 and 9, so MAE = (8 + 8) / 4 = 4; Naive forecasts 9 and 9,
    MAE = (8 + 0 + 8 + 0) / 4 = 4. A tie: the default (HistoricAverage) wins. Held out
    (origin 10): HistoricAverage 34/10, Naive 9 against 1 9.
    """
    y = np.array([1, 1, 1, 1, 1, 9, 1, 9, 1, 9, 1, 9], dtype=float)
    out = demand_forecast(
        long(a=list(y)),
        patterns("a"),
        h=2,
        n_windows=3,
        cleansing_k=None,
        select_baselines=True,
        selection_margin=0.0,
    ).iloc[0]
    assert out["method"] == "HistoricAverage"
    assert out["selected_on"] == "windows 1-2 of 3, MAE"
    assert out["candidates"] == "HistoricAverage, Naive"
    # held out: origin 10, HistoricAverage 34/10 vs 1, 9; Naive 9 vs 1, 9
    assert out["mae"] == pytest.approx((abs(3.4 - 1) + abs(3.4 - 9)) / 2)
    assert out["baseline_mae"] == pytest.approx(4.0)
    assert out["baseline_method"] == "Naive"
    # a level shift: the last values repeat, Naive is exact on the selection windows
    z = np.array([1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5], dtype=float)
    out = demand_forecast(
        long(a=list(z)),
        patterns("a"),
        h=2,
        n_windows=3,
        cleansing_k=None,
        select_baselines=True,
    ).iloc[0]
    assert (out["method"], out["mae"], out["baseline_mae"]) == ("Naive", 0.0, 0.0)
    # without select_baselines Naive is scored but never chosen
    out = demand_forecast(long(a=list(z)), patterns("a"), h=2, n_windows=3, cleansing_k=None)
    assert out.iloc[0]["method"] == "HistoricAverage"
    assert out.iloc[0]["demand_mean"] == pytest.approx(36 / 12)


def test_seasonal_flag_adds_seasonal_naive_and_baseline() -> None:
    """m = 4, 10 periods, h = 2, windows at 6 and 8: 6 >= m periods before the first window
    (one season) but < 2m, so SeasonalNaive is a candidate and the baseline, AutoETS_seasonal
    (needs 8) is not. y repeats 0 2 4 8: SeasonalNaive is exact."""
    y = [0.0, 2, 4, 8] * 2 + [0.0, 2]
    kw = {"h": 2, "n_windows": 2, "season_length": 4, "cleansing_k": None}
    out = demand_forecast(long(a=y), patterns("a", seasonal=True), select_baselines=True, **kw)
    r = out.iloc[0]
    assert r["candidates"] == "HistoricAverage, Naive, SeasonalNaive"
    assert (r["method"], r["season_length"], r["baseline_method"]) == (
        "SeasonalNaive",
        4,
        "SeasonalNaive",
    )
    assert r["baseline_mae"] == 0.0
    assert bool(r["seasonal_candidates"])
    assert r["demand_mean"] == pytest.approx(6.0)  # next two periods one season ago: 4, 8
    # unknown flag: two seasons needed before the first window -> not seasonal here
    r = demand_forecast(long(a=y), patterns("a", seasonal=None), **kw).iloc[0]
    assert (r["baseline_method"], bool(r["seasonal_candidates"])) == ("Naive", False)
    r = demand_forecast(long(a=y), patterns("a", seasonal=False), **kw).iloc[0]
    assert r["candidates"] == "HistoricAverage, Naive"


def test_too_little_history_keeps_the_default() -> None:
    """b starts 3 periods before the end: no window has 2 training periods -> NaN scores."""
    s = pd.concat(
        [long(a=[3.0] * 10), pd.DataFrame({"unique_id": "b", "ds": WEEKS[7:10], "y": [4.0, 0, 2]})]
    )
    out = demand_forecast(s, patterns("a", "b"), h=2, n_windows=3).set_index("unique_id")
    assert out.loc["b", "selected_on"] == "too little history: pattern default"
    assert math.isnan(out.loc["b", "mae"])
    assert out.loc["b", "n_backtest"] == 0
    assert out.loc["b", "demand_mean"] == pytest.approx(2.0)
    assert out.loc["a", "selected_on"] == "windows 1-2 of 3, MAE"


@settings(max_examples=40, deadline=None)
@given(
    y=st.lists(st.integers(0, 20), min_size=6, max_size=24),
    h=st.integers(1, 3),
    nw=st.integers(2, 4),
    holdout=st.integers(1, 3),
    step=st.integers(1, 3),
    margin=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_selection_matches_numpy_oracle(
    y: list[int], h: int, nw: int, holdout: int, step: int, margin: float
) -> None:
    holdout = min(holdout, nw - 1)
    ya = np.array(y, dtype=float)
    out = demand_forecast(
        long(a=list(ya)),
        patterns("a"),
        h=h,
        n_windows=nw,
        holdout_windows=holdout,
        step_size=step,
        cleansing_k=None,
        select_baselines=True,
        selection_margin=margin,
    ).iloc[0]
    want = oracle(ya, h, nw, holdout, step, margin, ["HistoricAverage", "Naive"])
    if want["selected"]:
        assert out["method"] == want["method"]
    else:
        assert out["selected_on"] == "too little history: pattern default"
    assert out["n_backtest"] == want["n_backtest"]
    for col in ("mae", "baseline_mae"):
        if math.isnan(want[col]):  # type: ignore[arg-type]
            assert math.isnan(out[col])
        else:
            assert out[col] == pytest.approx(want[col], rel=1e-9, abs=1e-9)


def test_tsb_needs_a_positive_demand_in_its_history() -> None:
    """Net returns only: TSB (the intermittent default) cannot size demand -> HistoricAverage."""
    y = [0.0, 0, -2, 0, 0, -1, 0, 0]
    m = pd.DataFrame({"unique_id": ["a"], "pattern": ["intermittent"], "method": ["TSB"]})
    r = demand_forecast(long(a=y), m, h=2, n_windows=2).iloc[0]
    assert "TSB" not in r["candidates"]
    assert (r["method"], bool(r["fallback"])) == ("HistoricAverage", True)
    r = demand_forecast(long(a=y[:3]), m, h=2, n_windows=2).iloc[0]  # no window at all
    assert (r["method"], r["demand_mean"]) == ("HistoricAverage", 0.0)


def test_windows_before_the_first_period_are_skipped() -> None:
    """5 periods, h = 2, 4 windows of 2: origins -3, -1, 1, 3; only the last has 2 periods."""
    r = demand_forecast(long(a=[1.0, 2, 3, 4, 5]), patterns("a"), h=2, n_windows=4).iloc[0]
    assert r["selected_on"] == "too little history: pattern default"
    assert r["n_backtest"] == 2
    assert r["mae"] == pytest.approx((abs(2 - 4) + abs(2 - 5)) / 2)  # mean of 1 2 3 = 2
