"""Tests for supplyseg.policy.cleansing: the median + k x MAD cap by hand and its invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from weekly import WEEKS, long

from supplyseg.errors import ConfigError
from supplyseg.policy.cleansing import CLEANSING_COLUMNS, demand_cleansing


def test_cap_by_hand() -> None:
    """Non-zero sizes 4 6 5 7 5 100 (zeros and the return -3 ignored): median 5.5, absolute
    deviations 1.5 0.5 0.5 1.5 0.5 94.5 -> MAD 1. k = 10: cap 15.5, only 100 changes."""
    y = [4.0, 0, 6, 5, 0, 7, -3, 5, 100, 0]
    out = demand_cleansing(long(a=y), k=10)
    assert tuple(out.columns) == CLEANSING_COLUMNS
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["unique_id"], r["ds"], r["y"], r["y_clean"]) == ("a", WEEKS[8], 100.0, 15.5)
    assert r["rule"] == "mad: capped at median + 10 x MAD of non-zero sizes = 15.5"
    # k = 1: cap 6.5 also takes the 7
    assert demand_cleansing(long(a=y), k=1)["y_clean"].tolist() == [6.5, 6.5]


def test_too_few_sizes_or_zero_mad_are_left_alone() -> None:
    few = [1.0, 0, 1, 0, 50, 2]  # four non-zero sizes < MIN_SIZES = 5
    flat = [12.0, 12, 12, 12, 120, 0]  # MAD 0: no spread to scale a cap
    assert demand_cleansing(long(a=few, b=flat), k=1).empty


@pytest.mark.parametrize("k", [0, -1.0, True, float("nan"), "5"])
def test_bad_k_raises(k: object) -> None:
    with pytest.raises(ConfigError, match=r"k=.*: not allowed; give a number > 0 \(default 10\)"):
        demand_cleansing(long(a=[1.0, 2.0]), k=k)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(
    y=st.lists(st.integers(-5, 200), min_size=1, max_size=40),
    k=st.floats(0.5, 20),
)
def test_cap_matches_numpy_and_only_lowers_large_values(y: list[int], k: float) -> None:
    ya = np.array(y, dtype=float)
    out = demand_cleansing(long(a=list(ya)), k=k)
    sizes = ya[ya > 0]
    expected = np.zeros(0, dtype=np.int64)
    if len(sizes) >= 5:
        med = np.median(sizes)
        mad = np.median(np.abs(sizes - med))
        if mad > 0:
            cap = med + k * mad
            expected = np.flatnonzero(ya > cap)
            assert np.allclose(out["y_clean"], cap)
    assert out["ds"].tolist() == list(WEEKS[expected])
    assert (out["y_clean"] < out["y"]).all()
