"""Tests for supplyseg.allocation.backorder: hand-checked cases per strategy, the LP against the
covered fast path, and the supply invariant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.allocation import backorder as bop
from supplyseg.allocation.backorder import BOP_COLUMNS, backorder_processing
from supplyseg.errors import DataContractError, PolicyError


def _lines(*rows: tuple[str, int, str, int, float, float, int | None]) -> pd.DataFrame:
    """rows: product, priority, strategy, requested, quantity, confirmed, confirmed period."""
    df = pd.DataFrame(
        rows,
        columns=[
            "product_id",
            "priority",
            "strategy",
            "requested_period",
            "quantity",
            "confirmed_quantity",
            "confirmed_period",
        ],
    )
    df.insert(0, "line_id", range(1, len(df) + 1))
    return df


def _av(*rows: tuple[str, int, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["product_id", "period", "quantity"])


def _by_line(out: pd.DataFrame) -> dict[int, tuple[float, float, object]]:
    return {
        int(r.line_id): (r.confirmed_quantity, r.on_time_quantity, r.promised_period)
        for r in out.itertuples()
    }


def test_redistribute_follows_priority_and_waits_for_the_receipt() -> None:
    # 8 now, 4 in period 3; three lines of 5 wanted now, all confirmed before a PO slipped
    lines = _lines(*[("p", prio, "redistribute", 0, 5.0, 5.0, 0) for prio in (1, 2, 3)])
    out = backorder_processing(lines, _av(("p", 0, 8.0), ("p", 3, 4.0)))
    assert list(out.columns) == list(BOP_COLUMNS)
    got = _by_line(out)
    assert got[1] == (5.0, 5.0, 0)
    assert got[2] == (pytest.approx(5.0), pytest.approx(3.0), 3)  # 3 on time, 2 at period 3
    assert got[3] == (pytest.approx(2.0), 0.0, 3)
    assert out["change"].tolist() == ["unchanged", "later", "lost"]


def test_earlier_request_first_within_a_priority() -> None:
    lines = _lines(
        ("p", 1, "redistribute", 2, 5.0, 0.0, None), ("p", 1, "redistribute", 1, 5.0, 0, None)
    )
    got = _by_line(backorder_processing(lines, _av(("p", 0, 5.0))))
    assert got[2][1] == 5.0
    assert got[1][0] == 0.0


def test_win_beats_a_higher_priority_redistribute() -> None:
    lines = _lines(("p", 1, "redistribute", 0, 5.0, 5.0, 0), ("p", 4, "win", 0, 5.0, 0.0, None))
    got = _by_line(backorder_processing(lines, _av(("p", 0, 6.0))))
    assert got[2] == (5.0, 5.0, 0)
    assert got[1][0] == pytest.approx(1.0)


def test_gain_keeps_its_confirmation_against_a_higher_priority() -> None:
    lines = _lines(("p", 3, "gain", 0, 5.0, 5.0, 0), ("p", 1, "redistribute", 0, 5.0, 0.0, None))
    got = _by_line(backorder_processing(lines, _av(("p", 0, 5.0))))
    assert got[1][0] == 5.0
    assert got[2][0] == 0.0
    # as redistribute it would have lost to priority 1
    lines.loc[0, "strategy"] = "redistribute"
    got = _by_line(backorder_processing(lines, _av(("p", 0, 5.0))))
    assert (got[1][0], got[2][0]) == (0.0, 5.0)


def test_gain_improves_when_supply_allows() -> None:
    lines = _lines(("p", 3, "gain", 0, 5.0, 2.0, 4), ("q", 1, "gain", 0, 5.0, 2.0, 4))
    out = backorder_processing(lines, _av(("p", 0, 9.0), ("q", 0, 3.0)))
    got = _by_line(out)
    assert got[1] == (5.0, 5.0, 0)  # covered: full and on time
    assert got[2] == (pytest.approx(3.0), pytest.approx(3.0), 0)  # short: all there is
    assert out["change"].tolist() == ["gained", "gained"]


def test_fill_never_gains_and_lose_gives_up() -> None:
    lines = _lines(
        ("p", 1, "fill", 0, 5.0, 2.0, 3),
        ("p", 1, "lose", 0, 5.0, 5.0, 0),
        ("q", 1, "fill", 0, 5.0, 4.0, 1),
        ("q", 2, "redistribute", 0, 9.0, 0.0, None),
    )
    out = backorder_processing(lines, _av(("p", 0, 100.0), ("q", 0, 6.0)))
    got = _by_line(out)
    assert got[1] == (2.0, 0.0, 3)  # neither more nor earlier, though stock is plenty
    assert got[2][0] == 0.0
    assert pd.isna(got[2][2])
    assert got[3][0] == 4.0  # q is short: fill keeps its 4 (tier above redistribute) ...
    assert got[3][2] == 1
    assert got[4][0] == pytest.approx(2.0)  # ... the redistribute line gets the other 2
    assert out["change"].tolist() == ["unchanged", "lost", "unchanged", "gained"]


def test_fill_loses_when_supply_is_gone() -> None:
    lines = _lines(("p", 1, "fill", 0, 5.0, 5.0, 0))
    got = _by_line(backorder_processing(lines, _av(("p", 0, 3.0), ("p", 5, 10.0))))
    assert got[1] == (pytest.approx(5.0), pytest.approx(3.0), 5)  # 3 now, 2 delayed


def test_validation() -> None:
    lines = _lines(("p", 1, "steal", 0, 5.0, 0.0, None))
    with pytest.raises(PolicyError, match="allowed: win, gain, redistribute, fill, lose"):
        backorder_processing(lines, _av(("p", 0, 1.0)))
    with pytest.raises(DataContractError, match="strategy"):
        backorder_processing(lines.drop(columns="strategy"), _av(("p", 0, 1.0)))
    lines = _lines(("p", 1, "win", 0, -5.0, 0.0, None))
    with pytest.raises(PolicyError, match=r"lines\.quantity"):
        backorder_processing(lines, _av(("p", 0, 1.0)))


def test_no_lines() -> None:
    assert backorder_processing(_lines(), _av(("p", 0, 1.0))).empty


@st.composite
def scenario(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(1, 10))
    rows = []
    for _ in range(n):
        q = float(draw(st.integers(1, 10)))
        c = float(draw(st.integers(0, int(q))))
        r = draw(st.integers(0, 4))
        rows.append(
            (
                draw(st.sampled_from(["p", "q"])),
                draw(st.integers(1, 3)),
                draw(st.sampled_from(["win", "gain", "redistribute", "fill", "lose"])),
                r,
                q,
                c,
                r + draw(st.integers(0, 3)),
            )
        )
    supply = [
        (prod, t, float(draw(st.integers(0, 12))))
        for prod in ("p", "q")
        for t in range(draw(st.integers(1, 5)))
    ]
    return _lines(*rows), _av(*supply)


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_invariants(sc: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lines, av = sc
    out = backorder_processing(lines, av)
    assert (out["confirmed_quantity"] <= out["quantity"] + 1e-6).all()
    assert (out["on_time_quantity"] <= out["confirmed_quantity"] + 1e-6).all()
    assert (out.loc[out["strategy"] == "lose", "confirmed_quantity"] == 0).all()
    fill = out[out["strategy"] == "fill"]
    assert (fill["confirmed_quantity"] <= fill["previous_quantity"] + 1e-6).all()
    assert not fill["change"].isin(["gained", "earlier"]).any()
    for prod, part in out.groupby("product_id"):
        sup = av[av["product_id"] == prod]
        # total confirmed by period t never exceeds cumulative supply to t
        for t in range(0, 10):
            done = part.loc[part["promised_period"].fillna(99) <= t, "confirmed_quantity"].sum()
            assert done <= sup.loc[sup["period"] <= t, "quantity"].sum() + 1e-6
        assert part["confirmed_quantity"].sum() <= sup["quantity"].sum() + 1e-6


@settings(max_examples=60, deadline=None)
@given(scenario())
def test_the_lp_agrees_with_the_covered_fast_path(sc: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    lines, av = sc
    df, avv = bop._validated(lines, av.assign(quantity=av["quantity"] + 100.0))
    assert bop._covered(df, avv).all()
    fast = backorder_processing(lines, av.assign(quantity=av["quantity"] + 100.0))
    cols = bop._variables(df, avv)
    x = bop._solve(df, avv, cols)
    by_line = np.bincount(cols["line"], weights=x, minlength=len(df))
    np.testing.assert_allclose(by_line, fast["confirmed_quantity"], atol=1e-6)
