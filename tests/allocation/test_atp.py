"""Tests for supplyseg.allocation.atp: Oracle's published example, a stack oracle, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.allocation.atp import atp, earliest_available, promised_period
from supplyseg.errors import PolicyError

# Oracle Global Order Promising Implementation and User's Guide, "ATP Based on Planned Output"
# / "Backward consumption": supply 6,4,2,4,8,4,4,4 against demand 6,2,3,6,6,1,2,2 gives the
# period ATP 0,0,0,-1,2,3,2,2 (period 3's shortfall takes period 2's surplus, period 4's takes
# what is left and stays at -1).
ORACLE_SUPPLY = [6, 4, 2, 4, 8, 4, 4, 4]
ORACLE_DEMAND = [6, 2, 3, 6, 6, 1, 2, 2]
ORACLE_ATP = [0, 0, 0, -1, 2, 3, 2, 2]


def _stack_atp(supply: list[float], demand: list[float]) -> list[float]:
    """Independent oracle: walk the periods, a shortfall takes from the latest surplus first."""
    out = [s - d for s, d in zip(supply, demand, strict=True)]
    for t, v in enumerate(out):
        need = -v
        q = t - 1
        while need > 0 and q >= 0:
            take = min(max(out[q], 0.0), need)
            out[q] -= take
            need -= take
            q -= 1
        out[t] = -need if v < 0 else v
    return out


def test_oracle_published_example() -> None:
    assert atp(ORACLE_SUPPLY, ORACLE_DEMAND).tolist() == ORACLE_ATP
    assert _stack_atp(ORACLE_SUPPLY, ORACLE_DEMAND) == ORACLE_ATP


def test_two_dimensional_rows_are_products() -> None:
    supply = np.array([ORACLE_SUPPLY, [0, 0, 5, 0, 0, 0, 0, 0]])
    demand = np.array([ORACLE_DEMAND, [1, 0, 0, 0, 3, 0, 0, 0]])
    got = atp(supply, demand)
    assert got[0].tolist() == ORACLE_ATP
    # no forward consumption: period 0's shortfall is not covered by the later receipt
    assert got[1].tolist() == [-1, 0, 2, 0, 0, 0, 0, 0]


def test_edge_cases() -> None:
    assert atp([], []).tolist() == []
    assert atp([0, 0], [0, 0]).tolist() == [0, 0]
    assert atp([5], [7]).tolist() == [-2]
    # a shortfall spanning several earlier surpluses empties them latest first
    assert atp([5, 0, 4, 0], [0, 3, 0, 6]).tolist() == [0, 0, 0, 0]
    assert atp([5, 0, 4, 0], [0, 3, 0, 5]).tolist() == [1, 0, 0, 0]


def test_validation_messages() -> None:
    with pytest.raises(PolicyError, match="shape"):
        atp([1, 2], [1])
    with pytest.raises(PolicyError, match="NaN"):
        atp([1, float("nan")], [0, 0])
    with pytest.raises(PolicyError, match="allowed: a finite number > 0"):
        earliest_available([1, 2], 0)
    with pytest.raises(PolicyError, match="1-D"):
        earliest_available([[1, 2]], 1)


def test_earliest_available_on_the_oracle_atp() -> None:
    # cumulative 0,0,0,-1,1,4,6,8; min over later periods -1,-1,-1,-1,1,4,6,8
    assert earliest_available(ORACLE_ATP, 1) == 4
    assert earliest_available(ORACLE_ATP, 4) == 5
    assert earliest_available(ORACLE_ATP, 8) == 7
    assert earliest_available(ORACLE_ATP, 8.5) is None
    assert promised_period(ORACLE_ATP, 1, requested=6) == 6
    assert promised_period(ORACLE_ATP, 4, requested=1) == 5
    assert promised_period(ORACLE_ATP, 9, requested=1) is None


def test_earliest_available_protects_later_commitments() -> None:
    # 10 on hand now, but period 2 has a commitment 8 beyond its own supply: only 2 free now
    free = atp([10, 0, 0], [0, 0, 8])
    assert free.tolist() == [2, 0, 0]
    assert earliest_available(free, 2) == 0
    assert earliest_available(free, 3) is None


periods = st.integers(min_value=1, max_value=12)
qty = st.integers(min_value=0, max_value=20)


@st.composite
def supply_demand(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    n = draw(periods)
    s = draw(st.lists(qty, min_size=n, max_size=n))
    d = draw(st.lists(qty, min_size=n, max_size=n))
    return [float(v) for v in s], [float(v) for v in d]


@settings(max_examples=200, deadline=None)
@given(supply_demand())
def test_atp_matches_the_stack_oracle_and_conserves_net(
    sd: tuple[list[float], list[float]],
) -> None:
    s, d = sd
    got = atp(s, d)
    np.testing.assert_allclose(got, _stack_atp(s, d), atol=1e-9)
    assert got.sum() == pytest.approx(sum(s) - sum(d))


@settings(max_examples=200, deadline=None)
@given(supply_demand(), st.integers(min_value=1, max_value=40), st.integers(0, 11))
def test_a_promise_never_exceeds_cumulative_supply(
    sd: tuple[list[float], list[float]], q: int, requested: int
) -> None:
    s, d = sd
    requested = min(requested, len(s) - 1)
    before = atp(s, d)
    p = promised_period(before, q, requested)
    if p is None:
        return
    d2 = list(d)
    d2[p] += q
    after = atp(s, d2)
    # the promise creates no new shortfall anywhere: what was covered stays covered
    assert after.clip(max=0).sum() == pytest.approx(before.clip(max=0).sum())
    # and cumulative commitments from p on never exceed cumulative supply more than before
    cum_gap = np.cumsum(np.array(s) - np.array(d2))
    cum_gap_before = np.cumsum(np.array(s) - np.array(d))
    assert (np.minimum(cum_gap, 0) >= np.minimum(cum_gap_before, 0) - 1e-9).all()
