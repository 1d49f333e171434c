"""Tests for supplyseg.allocation.nesting: the worked example, hand cases, an explicit-limit
oracle and the protection invariants of standard nesting (Talluri & van Ryzin 2004, §2.1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.allocation.nesting import (
    allocate_nested,
    booking_limits,
    nested_room,
    protection_by_level,
    segment_ranks,
)
from supplyseg.errors import DataContractError, PolicyError

SHARES = {"gold": 0.5, "silver": 0.3, "bronze": 0.2}
ORDER = ["gold", "silver", "bronze"]


def _req(*pairs: tuple[str, float]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["segment", "quantity"])


def test_worked_example() -> None:
    # protection y = 50, 80, 100; booking limits b = 100, 50, 20
    granted = allocate_nested(
        100, _req(("bronze", 30), ("silver", 40), ("gold", 60)), SHARES, ORDER
    )
    assert granted.tolist() == [20.0, 30.0, 50.0]
    assert booking_limits(100, [0.5, 0.3, 0.2]).tolist() == [100.0, 50.0, 20.0]


def test_higher_segment_uses_what_is_left() -> None:
    granted = allocate_nested(100, _req(("gold", 90), ("silver", 40)), SHARES, ORDER)
    assert granted.tolist() == [90.0, 10.0]
    # arrival order matters: silver first is capped by its booking limit, gold gets the rest
    granted = allocate_nested(100, _req(("silver", 90), ("gold", 90)), SHARES, ORDER)
    assert granted.tolist() == [50.0, 50.0]


def test_edge_cases() -> None:
    assert allocate_nested(0, _req(("gold", 5)), SHARES, ORDER).tolist() == [0.0]
    assert allocate_nested(-5, _req(("gold", 5)), SHARES, ORDER).tolist() == [0.0]
    assert allocate_nested(10, _req(), SHARES, ORDER).tolist() == []
    assert allocate_nested(10, _req(("bronze", 0)), SHARES, ORDER).tolist() == [0.0]
    # shares below 1: the lowest segment books what the others do not protect
    granted = allocate_nested(100, _req(("bronze", 60)), {"gold": 0.2, "bronze": 0.1}, ORDER[::2])
    assert granted.tolist() == [60.0]


def test_equal_priorities_share_one_level() -> None:
    prio = {"gold": 1, "silver": 1, "bronze": 2}
    assert segment_ranks(prio) == {"gold": 0, "silver": 0, "bronze": 1}
    # gold and silver together protect 80: bronze books at most 20, either books up to 100
    granted = allocate_nested(100, _req(("bronze", 50), ("silver", 70), ("gold", 30)), SHARES, prio)
    assert granted.tolist() == [20.0, 70.0, 10.0]


def test_validation_messages() -> None:
    with pytest.raises(PolicyError, match="not ranked"):
        allocate_nested(10, _req(("tin", 1)), SHARES, ORDER)
    with pytest.raises(PolicyError, match=r"sum 1\.1 > 1"):
        allocate_nested(10, _req(), {"gold": 0.6, "silver": 0.5}, ["gold", "silver"])
    with pytest.raises(PolicyError, match="no share"):
        allocate_nested(10, _req(), {"gold": 0.6}, ["gold", "silver"])
    with pytest.raises(PolicyError, match="each segment once"):
        allocate_nested(10, _req(), SHARES, ["gold", "gold"])
    with pytest.raises(PolicyError, match=">= 0"):
        allocate_nested(10, _req(("gold", -1)), SHARES, ORDER)
    with pytest.raises(DataContractError, match="quantity"):
        allocate_nested(10, pd.DataFrame({"segment": ["gold"]}), SHARES, ORDER)


def _oracle(cap: float, ranks: list[int], asked: list[float], shares: list[float]) -> list[float]:
    """Independent computation: before each grant, sum what every group of ranks >= i booked
    and compare it with that group's booking limit."""
    y = [cap * sum(shares[: i + 1]) for i in range(len(shares))]
    limit = [cap] + [cap - y[i - 1] for i in range(1, len(shares))]
    grants: list[float] = []
    for r, a in zip(ranks, asked, strict=True):
        rooms = []
        for i in range(r + 1):
            booked = sum(g for g, rr in zip(grants, ranks, strict=False) if rr >= i)
            rooms.append(limit[i] - booked)
        grants.append(max(0.0, min(a, *rooms)))
    return grants


@st.composite
def scenario(draw: st.DrawFn) -> tuple[float, list[int], list[float], list[float]]:
    k = draw(st.integers(1, 4))
    raw = draw(st.lists(st.integers(0, 10), min_size=k, max_size=k))
    total = sum(raw) or 1
    shares = [v / total for v in raw]
    n = draw(st.integers(0, 12))
    ranks = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    asked = draw(st.lists(st.integers(0, 60).map(float), min_size=n, max_size=n))
    cap = float(draw(st.integers(0, 150)))
    return cap, ranks, asked, shares


def _run(cap: float, ranks: list[int], asked: list[float], shares: list[float]) -> np.ndarray:
    names = [f"s{i}" for i in range(len(shares))]
    req = pd.DataFrame({"segment": [names[r] for r in ranks], "quantity": asked})
    return allocate_nested(cap, req, dict(zip(names, shares, strict=True)), names)


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_invariants(sc: tuple[float, list[int], list[float], list[float]]) -> None:
    cap, ranks, asked, shares = sc
    granted = _run(cap, ranks, asked, shares)
    np.testing.assert_allclose(granted, _oracle(cap, ranks, asked, shares), atol=1e-9)
    # never more than capacity, never more than asked, never negative
    assert granted.sum() <= cap + 1e-9
    assert (granted <= np.array(asked) + 1e-9).all()
    assert (granted >= 0).all()
    r = np.array(ranks, dtype=int)
    k = len(shares)
    # the lowest segment's effective share is what the others leave
    eff = [*shares[:-1], 1.0 - sum(shares[:-1])]
    by_rank = np.array([granted[r == i].sum() for i in range(k)])
    asked_by_rank = np.array([np.array(asked)[r == i].sum() for i in range(k)])
    for i in range(k):
        # lower segments never eat into the protection of rank i and those above
        assert by_rank[i + 1 :].sum() <= cap * (1 - sum(shares[: i + 1])) + 1e-9
        # a segment gets at least what it would alone within its protection, less only what
        # higher segments took beyond their own protection
        excess = sum(max(0.0, by_rank[j] - cap * eff[j]) for j in range(i))
        assert by_rank[i] >= min(asked_by_rank[i], cap * eff[i]) - excess - 1e-9


@settings(max_examples=200, deadline=None)
@given(scenario())
def test_a_segment_alone_gets_its_booking_limit(
    sc: tuple[float, list[int], list[float], list[float]],
) -> None:
    cap, ranks, asked, shares = sc
    if not ranks:
        return
    k = ranks[0]
    alone = [k] * len(ranks)
    granted = _run(cap, alone, asked, shares)
    limit = booking_limits(cap, shares)[k]
    assert granted.sum() == pytest.approx(min(sum(asked), limit))


def test_nested_room_gives_the_worked_example() -> None:
    # capacity 100, gold .5 / silver .3 / bronze .2; bronze 30 then silver 40 then gold 60
    protected, booked, granted = [50.0, 30.0, 20.0], np.zeros(3), []
    for rank, asked in ((2, 30.0), (1, 40.0), (0, 60.0)):
        g = min(asked, nested_room(100.0, protected, booked, rank))
        granted.append(g)
        booked[rank] += g
    assert granted == [20.0, 30.0, 50.0]


@settings(max_examples=200, deadline=None)
@given(scenario(), st.floats(0.0, 2.0))
def test_nested_room_grants_what_allocate_nested_grants(
    sc: tuple[float, list[int], list[float], list[float]], scale: float
) -> None:
    cap, ranks, asked, shares = sc
    # quantities protected as shares of capacity; protection beyond capacity is capped
    protected = np.array(shares) * cap * scale
    booked = np.zeros(len(shares))
    granted = np.zeros(len(asked))
    for j, (rank, qty) in enumerate(zip(ranks, asked, strict=True)):
        granted[j] = max(min(qty, nested_room(cap, protected, booked, rank)), 0.0)
        booked[rank] += granted[j]
    capped = np.diff(np.minimum(np.cumsum(protected), cap), prepend=0.0)
    expected = _run(cap, ranks, asked, list(capped / cap) if cap > 0 else [0.0] * len(shares))
    np.testing.assert_allclose(granted, expected, atol=1e-9)


def test_protection_by_level_puts_kept_quantities_and_shares_on_their_levels() -> None:
    shares = {"key": (1, 0.5), "vip": (1, 0.1), "mid": (2, 0.3), "tail": (3, 0.2)}
    # key keeps 40 by fill target (its share is ignored): 10 booked + half of 40 still ahead;
    # vip shares level 1 with its 0.1 of 200; mid 0.3 of 200; tail 0.2 of 200
    out = protection_by_level(200.0, shares, {"key": 40.0}, {"key": 10.0, "mid": 99.0}, 0.5)
    np.testing.assert_allclose(out, [10 + 20 + 20, 60, 40])
