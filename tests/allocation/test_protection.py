"""Tests for supplyseg.allocation.protection: fill-rate protected quantities per product."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from supplyseg.allocation.protection import (
    PROTECTION_COLUMNS,
    allocation_protection,
    protected_quantity,
)
from supplyseg.errors import PolicyError


def test_protected_quantity_matches_the_unit_normal_loss_table() -> None:
    # Silver, Pyke & Peterson (1998), Table B.1: G(0.90) = 0.1004. With mu = 100 and
    # sigma = 50, a fill target of 1 - 0.1004 * 50 / 100 = 0.9498 gives k = 0.90: y = 145.0.
    y = protected_quantity(100.0, 50.0, 1 - 0.1004 * 50 / 100)
    assert y == pytest.approx([145.0], abs=0.05)


def test_no_spread_protects_the_target_share_and_nothing_expected_protects_nothing() -> None:
    y = protected_quantity([10.0, 0.0, 80.0], [0.0, 5.0, 0.0], [0.9, 0.99, 0.5])
    np.testing.assert_allclose(y, [9.0, 0.0, 40.0])


@pytest.mark.parametrize(
    ("args", "match"),
    [((np.nan, 1.0, 0.9), "NaN"), ((10.0, -1.0, 0.9), "negative"), ((10.0, 1.0, 1.0), "0 <")],
)
def test_bad_inputs_name_the_rule(args: tuple[float, float, float], match: str) -> None:
    with pytest.raises(PolicyError, match=match):
        protected_quantity(*args)


def _shortfall(y: float, mu: float, sigma: float) -> float:
    """E[(D - y)+] for D ~ N(mu, sigma) by numerical integration (independent of the loss
    function the kernel uses)."""
    value, _ = integrate.quad(lambda d: (d - y) * stats.norm.pdf(d, mu, sigma), y, mu + 40 * sigma)
    return float(value)


@given(
    mu=st.floats(1.0, 1e4),
    cv=st.floats(0.05, 2.0),
    beta=st.floats(0.5, 0.995),
)
def test_expected_shortfall_beyond_the_protection_is_the_allowed_share(
    mu: float, cv: float, beta: float
) -> None:
    sigma = cv * mu
    shortfall = _shortfall(float(protected_quantity(mu, sigma, beta)[0]), mu, sigma)
    assert shortfall == pytest.approx((1 - beta) * mu, rel=1e-5, abs=1e-6 * mu)


AS_OF = dt.date(2026, 1, 1)
POLICIES = pd.DataFrame(
    {  # P1 at two locations; P2 one with a 6-week lead time; P3 no forecast
        "product_id": ["P1", "P1", "P2", "P3"],
        "location_id": ["DC1", "DC2", "DC1", "DC1"],
        "demand_mean": [30.0, 10.0, 7.0, np.nan],
        "demand_std": [3.0, 4.0, 2.0, np.nan],
        "lead_time": [1.0, 1.0, 6.0, 1.0],
        "bucket": ["week"] * 4,
    }
)
MIX = pd.DataFrame(
    {
        "product_id": ["P1", "P1", "P2", "P3"],
        "customer_segment": ["key", "web", "key", "key"],
        "quantity": [75.0, 25.0, 10.0, 5.0],
    }
)
RULES = pd.DataFrame(
    {"customer_segment": ["key", "web"], "priority": [1, 3], "fill_target": [0.95, np.nan]}
)
SUPPLY = pd.DataFrame(
    {  # P1: receipts up to 4 weeks out; P2: on hand only (the lead time sets the horizon)
        "product_id": ["P1", "P1", "P2", "P3"],
        "date": [AS_OF, AS_OF + dt.timedelta(days=28), AS_OF, AS_OF],
    }
)


def test_allocation_protection_against_a_hand_computation() -> None:
    out = allocation_protection(POLICIES, MIX, RULES, SUPPLY, AS_OF)
    assert tuple(out.columns) == PROTECTION_COLUMNS
    # P3 has no forecast and web no fill target: only key on P1 and P2
    assert list(zip(out["product_id"], out["customer_segment"], strict=True)) == [
        ("P1", "key"),
        ("P2", "key"),
    ]
    p1, p2 = out.iloc[0], out.iloc[1]
    # P1: 40 a week over 4 weeks, 75 % of it key; weekly std sqrt(3^2 + 4^2) = 5
    assert (p1["horizon_days"], p1["demand_share"]) == (28.0, 0.75)
    assert p1["expected_demand"] == pytest.approx(40 * 4 * 0.75)
    assert p1["demand_std"] == pytest.approx(5 * np.sqrt(4 * 0.75))
    # P2: no receipt, so the horizon is the 6-week lead time
    assert (p2["horizon_days"], p2["demand_share"]) == (42.0, 1.0)
    assert p2["expected_demand"] == pytest.approx(7 * 6)
    for row in (p1, p2):
        mu, sigma = row["expected_demand"], row["demand_std"]
        loss = _shortfall(row["protected_quantity"], mu, sigma)
        assert loss == pytest.approx(0.05 * mu, rel=1e-5)


def test_no_target_no_supply_or_no_policies_give_an_empty_table() -> None:
    none = RULES.assign(fill_target=np.nan)
    for args in (
        (POLICIES, MIX, none, SUPPLY),
        (POLICIES, MIX, RULES, SUPPLY.iloc[:0]),
        (POLICIES.iloc[:0], MIX, RULES, SUPPLY),
    ):
        out = allocation_protection(*args, AS_OF)
        assert out.empty
        assert tuple(out.columns) == PROTECTION_COLUMNS
