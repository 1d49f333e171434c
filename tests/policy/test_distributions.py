"""Tests for supplyseg.policy._distributions: safety stock per model against scipy.stats, one
target per item against the grid of targets, and the history bootstrap's series (zero-filled
to the table's last bucket, block or independent draws) against the kernel on hand-built ones."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from supplyseg.config.policy import PolicySettings
from supplyseg.policy._codes import EMPIRICAL, GAMMA, NORMAL, POISSON
from supplyseg.policy._distributions import (
    LeadTimeDemand,
    empirical_demand,
    empirical_fill_rate_levels,
    empirical_service,
    safety_stocks,
)

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


def _normal_fill_oracle(sigma: float, q: float, level: float) -> float:
    """Normal loss: sigma * G(k) = (1 - beta) Q, G(k) = pdf(k) - k (1 - cdf(k)); bisect on k."""
    lo, hi = -1e7, 50.0  # G falls from about -lo to 0
    for _ in range(200):
        k = (lo + hi) / 2
        g = stats.norm.pdf(k) - k * stats.norm.sf(k)
        lo, hi = (k, hi) if sigma * g > (1 - level) * q else (lo, k)
    return (lo + hi) / 2 * sigma


def _shortage(dist: int, mean: float, sigma: float, r: float) -> float:
    """Expected shortage per cycle E(X - r)+ = integral of P(X > x) over [r, inf), by
    numerical integration (gamma) or an exact sum (Poisson), with scipy.stats."""
    if dist == POISSON:
        whole = math.floor(r)
        head = stats.poisson.sf(whole, mean) * (whole + 1 - r)  # the part of [r, whole + 1)
        top = int(mean + 40 * math.sqrt(mean) + 50)  # sf is below 1e-300 beyond
        return float(head + sum(stats.poisson.sf(x, mean) for x in range(whole + 1, top)))
    law = stats.gamma((mean / sigma) ** 2, scale=sigma**2 / mean)
    return float(integrate.quad(law.sf, r, np.inf, limit=200, epsabs=1e-12)[0])


def _oracle(x: LeadTimeDemand, i: int, level: float) -> float | None:
    """Safety stock of item i with scipy.stats, straight from the textbook definitions (None:
    a fill-rate target under gamma/Poisson, checked by `_check_fill` instead)."""
    d, sd, p, slt, q = x.d[i], x.sd[i], x.p[i], x.slt[i], x.q[i]
    mean, sigma = d * p, math.sqrt(p * sd**2 + d**2 * slt**2)
    if x.fill[i] and x.dist[i] == NORMAL:  # a cycle's demand: max(Q, E X+)
        positive = integrate.quad(lambda v: stats.norm.sf(v, mean, sigma), 0, np.inf)[0]
        return _normal_fill_oracle(sigma, max(q, positive), level)
    if x.fill[i]:
        return None
    if x.dist[i] == NORMAL:
        return float(stats.norm.ppf(level)) * sigma
    if x.dist[i] == POISSON:
        return float(stats.poisson.ppf(level, mean)) - mean
    return float(stats.gamma.ppf(level, (mean / sigma) ** 2, scale=sigma**2 / mean)) - mean


def _check_fill(x: LeadTimeDemand, i: int, level: float, ss: float) -> None:
    """The fill-rate level r = mean + ss is the smallest r >= 0 with 1 - ESC / max(Q, d P)
    >= beta (continuous review)."""
    d, sd, p, slt, q = x.d[i], x.sd[i], x.p[i], x.slt[i], x.q[i]
    mean, sigma = d * p, math.sqrt(p * sd**2 + d**2 * slt**2)
    dist = int(x.dist[i])
    r = mean + ss
    allowed = (1 - level) * max(q, mean)
    assert r >= -1e-9
    assert _shortage(dist, mean, sigma, r) <= allowed * (1 + 1e-6) + 1e-9
    if r > 1e-6:
        below = r - 1.0 if dist == POISSON else r * (1 - 1e-5)
        assert _shortage(dist, mean, sigma, max(below, 0.0)) >= allowed * (1 - 1e-4) - 1e-12


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
            want = _oracle(x, i, t)
            if want is None:
                _check_fill(x, i, t, float(per_item[i]))
            else:
                assert per_item[i] == pytest.approx(want, rel=1e-6, abs=1e-6)


def _monday(week: int) -> pd.Timestamp:
    return pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=week)


def test_empirical_series_run_to_the_tables_last_bucket() -> None:
    # Items 5 and 7 (of a bigger table) have history; item 9 has none. The table's last bucket
    # is week 11 (a row of an item not asked for), so item 5's series (weeks 0..9) gets two
    # zero weeks and item 7's (weeks 8..11) is [4, 0, 9, 0]. A week of net returns is 0.
    y5 = [3.0, 0.0, 7.0, -2.0, 1.0, 0.0, 0.0, 12.0, 2.0, 5.0]
    ds = [_monday(w) for w in range(10)] + [_monday(8), _monday(10), _monday(11)]
    history = pd.DataFrame({"ds": ds, "y": [*y5, 4.0, 9.0, 6.0]})
    rows = np.array([5] * 10 + [7, 7, -1], dtype=np.int64)
    s = PolicySettings(empirical_samples=4000, seed=3)
    lead = np.array([2, 6, 1], dtype=np.int64)  # item 7: 6 weeks > its 4 -> independent draws
    level = np.array([0.9, 0.8, 0.9])
    emp = empirical_demand(history, rows, np.array([5, 7, 9]), lead, "week", s)
    got = emp.quantile(level)
    assert emp.found.tolist() == [True, True, False]
    assert math.isnan(got[2])
    # Item 5: the 11 sums of two consecutive weeks of the dense series, by hand.
    series5 = [3.0, 0.0, 7.0, 0.0, 1.0, 0.0, 0.0, 12.0, 2.0, 5.0, 0.0, 0.0]
    sums = sorted(a + b for a, b in itertools.pairwise(series5))  # 3 7 7 1 1 0 12 14 7 5 0
    assert got[0] == sums[math.ceil(0.9 * len(sums)) - 1] == 12.0
    r = np.array([12.0, 20.0, 0.0])
    fill, csl = empirical_service(emp, None, r, np.array([4.0, 10.0, 1.0]))
    assert csl[0] == pytest.approx(np.mean(np.array(sums) <= 12.0))
    # Shortage per cycle E(X - 12)+: only the sum 14 exceeds 12 (by 2).
    assert fill[0] == pytest.approx(1 - (2 / 11) / 4.0)
    # Periodic review: less the backorders at the cycle's start, E(X_L - 12)+ over the
    # one-week scenarios (the single week of 12 does not exceed 12): the same here.
    one = empirical_demand(history, rows, np.array([5, 7, 9]), np.array([1, 1, 1]), "week", s)
    assert one.loss(r)[0] == 0.0
    fill_p, _ = empirical_service(emp, one, r, np.array([4.0, 10.0, 1.0]))
    assert fill_p[0] == pytest.approx(fill[0])
    # Item 7: six independent draws from [4, 0, 9, 0]; against the exact distribution of
    # that sum (all 4^6 equally likely draws).
    draws = np.array(list(itertools.product([4.0, 0.0, 9.0, 0.0], repeat=6))).sum(axis=1)
    # Sampling error of 4,000 draws: the exact CDF at the sampled quantile is within 2 points.
    assert np.mean(draws <= got[1]) >= 0.78
    assert np.mean(draws < got[1]) <= 0.82
    again = empirical_demand(history, rows, np.array([5, 7, 9]), lead, "week", s)
    assert again.quantile(level)[1] == got[1]  # seeded


def test_empirical_months_are_consecutive() -> None:
    history = pd.DataFrame(
        {"ds": pd.to_datetime(["2023-11-01", "2024-01-01", "2024-02-01"]), "y": [5.0, 8.0, 1.0]}
    )
    emp = empirical_demand(
        history,
        np.zeros(3, dtype=np.int64),
        np.array([0]),
        np.array([2]),
        "month",
        PolicySettings(),
    )
    # Series [5, 0, 8, 1]: two-month sums 5, 8, 9; the 95 % quantile is the largest.
    assert emp.quantile(np.array([0.95]))[0] == 9.0
    assert emp.quantile(np.array([0.5]))[0] == 8.0
    # A fill-rate level: the smallest r with E(X - r)+ <= 0.1 * 1 (a cycle's demand 1).
    r = empirical_fill_rate_levels(emp, None, np.array([1.0]), np.array([0.9]))[0]
    assert r == pytest.approx(8.7, abs=1e-6)  # (9 - r) / 3 = 0.1 at r = 8.7
