"""Tests for supplyseg.policy._distributions: safety stock per model against scipy.stats, one
target per item against the grid of targets, and the history bootstrap's series (zero-filled
to the table's last bucket, block or independent draws) against the kernel on hand-built ones."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from supplyseg.config.policy import PolicySettings
from supplyseg.policy._codes import EMPIRICAL, GAMMA, NORMAL, POISSON
from supplyseg.policy._distributions import (
    LeadTimeDemand,
    empirical_reorder_points,
    safety_stocks,
)
from supplyseg.policy.inventory import empirical_reorder_point

ITEM = st.tuples(
    st.sampled_from([NORMAL, GAMMA, POISSON, EMPIRICAL]),
    st.booleans(),  # fill-rate target
    st.floats(0.05, 100.0),  # d
    st.floats(0.01, 3.0),  # cv of d
    st.floats(0.1, 10.0),  # protection interval, buckets
    st.floats(0.0, 1.0),  # lead-time std, buckets
    st.floats(1.0, 500.0),  # Q
)


def _demand(items: list[tuple[Any, ...]]) -> LeadTimeDemand:
    col = list(zip(*items, strict=True))
    d = np.array(col[2])
    return LeadTimeDemand(
        dist=np.array(col[0], dtype=np.int64),
        fill=np.array(col[1], dtype=bool),
        d=d,
        sd=d * np.array(col[3]),
        p=np.array(col[4]),
        slt=np.array(col[5]),
        q=np.array(col[6]),
    )


def _oracle(x: LeadTimeDemand, i: int, level: float) -> float:
    """Safety stock of item i with scipy.stats, straight from the textbook definitions."""
    d, sd, p, slt, q = x.d[i], x.sd[i], x.p[i], x.slt[i], x.q[i]
    mean, sigma = d * p, math.sqrt(p * sd**2 + d**2 * slt**2)
    if x.fill[i]:  # normal loss: sigma * G(k) = (1 - beta) Q, G(k) = pdf(k) - k (1 - cdf(k))
        lo, hi = -1e7, 50.0  # G falls from about -lo to 0: bisect on k
        for _ in range(200):
            k = (lo + hi) / 2
            g = stats.norm.pdf(k) - k * stats.norm.sf(k)
            lo, hi = (k, hi) if sigma * g > (1 - level) * q else (lo, k)
        return (lo + hi) / 2 * sigma
    if x.dist[i] == NORMAL:
        return float(stats.norm.ppf(level)) * sigma
    if x.dist[i] == POISSON:
        return float(stats.poisson.ppf(level, mean)) - mean
    return float(stats.gamma.ppf(level, (mean / sigma) ** 2, scale=sigma**2 / mean)) - mean


@settings(max_examples=60, deadline=None)
@given(
    st.lists(ITEM, min_size=1, max_size=10),
    st.lists(st.floats(0.5, 0.999), min_size=1, max_size=4, unique=True),
)
def test_safety_stocks_match_scipy_per_item_and_on_the_grid(
    items: list[tuple[Any, ...]], targets: list[float]
) -> None:
    x = _demand(items)
    levels = np.array(targets)
    grid = safety_stocks(x, levels, grid=True)
    assert grid.shape == (len(items), len(targets))
    for j, t in enumerate(targets):
        per_item = safety_stocks(x, np.full(len(items), t))
        assert per_item == pytest.approx(grid[:, j], rel=1e-9, abs=1e-9)
        for i in range(len(items)):
            assert per_item[i] == pytest.approx(_oracle(x, i, t), rel=1e-6, abs=1e-6)


def _monday(week: int) -> pd.Timestamp:
    return pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=week)


def test_bootstrap_series_run_to_the_tables_last_bucket() -> None:
    # Items 5 and 7 (of a bigger table) have history; item 9 has none. The table's last bucket
    # is week 11 (a row of an item not asked for), so item 5's series (weeks 0..9) gets two
    # zero weeks and item 7's (weeks 8..11) is [4, 0, 9, 0]. A week of net returns is 0.
    y5 = [3.0, 0.0, 7.0, -2.0, 1.0, 0.0, 0.0, 12.0, 2.0, 5.0]
    ds = [_monday(w) for w in range(10)] + [_monday(8), _monday(10), _monday(11)]
    history = pd.DataFrame({"ds": ds, "y": [*y5, 4.0, 9.0, 6.0]})
    rows = np.array([5] * 10 + [7, 7, -1], dtype=np.int64)
    s = PolicySettings(empirical_samples=500, seed=3)
    lead = np.array([2, 6, 1], dtype=np.int64)  # item 7: 6 weeks > its 4 -> independent draws
    level = np.array([0.9, 0.8, 0.9])
    got, has = empirical_reorder_points(history, rows, np.array([5, 7, 9]), lead, level, "week", s)
    assert has.tolist() == [True, True, False]
    assert math.isnan(got[2])
    series5 = np.array([3.0, 0.0, 7.0, 0.0, 1.0, 0.0, 0.0, 12.0, 2.0, 5.0, 0.0, 0.0])
    kw: dict[str, Any] = {"n_samples": 500, "seed": 3}
    assert got[0] == empirical_reorder_point(series5, 2, 0.9, method="block", **kw)
    series7 = np.array([4.0, 0.0, 9.0, 0.0])
    assert got[1] == empirical_reorder_point(series7, 6, 0.8, method="iid", **kw)


def test_bootstrap_months_are_consecutive() -> None:
    history = pd.DataFrame(
        {"ds": pd.to_datetime(["2023-11-01", "2024-01-01", "2024-02-01"]), "y": [5.0, 8.0, 1.0]}
    )
    got, _ = empirical_reorder_points(
        history,
        np.zeros(3, dtype=np.int64),
        np.array([0]),
        np.array([2]),
        np.array([0.95]),
        "month",
        PolicySettings(),
    )
    want = empirical_reorder_point(np.array([5.0, 0.0, 8.0, 1.0]), 2, 0.95, n_samples=1000)
    assert got[0] == want
