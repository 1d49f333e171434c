"""Tests for supplyseg.policy.simulate: hand-worked replays, the vectorised kernel against the
item-by-item loop (hypothesis), textbook service levels on long i.i.d. normal simulations,
the table wrapper (items, ids, window, errors) and the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from supplyseg.config.policy import policy_settings
from supplyseg.errors import DataContractError
from supplyseg.policy._replay import MIN_MAX, ORDER_UP_TO, REORDER_Q, Outcome, Plan, replay_loop
from supplyseg.policy._replay import replay as replay_vectorised
from supplyseg.policy.assign import policy_outputs
from supplyseg.policy.inventory import normal_loss
from supplyseg.policy.simulate import (
    SIMULATION_COLUMNS,
    SUMMARY_COLUMNS,
    policy_simulation,
    simulation_summary,
    split_history,
    window_start,
)


def _plan(**kw: Any) -> Plan:
    n = len(kw["logic"])
    base: dict[str, Any] = {
        "s": np.full(n, -np.inf),
        "q": np.full(n, np.nan),
        "big_s": np.full(n, np.inf),
        "review": np.ones(n, dtype=np.int64),
        "lead": np.zeros(n, dtype=np.int64),
        "d": np.zeros(n),
    }
    base.update({k: np.asarray(v) for k, v in kw.items()})
    return Plan(**base)


def _same(a: Outcome, b: Outcome) -> None:
    for name in Outcome.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


# --------------------------------------------------------------------------- hand-worked


def test_reorder_point_replay_by_hand() -> None:
    # s = 5, Q = 10, L = 1, d = 2: starts at position s + Q/2 = 10, of which d * L = 2 on
    # order (arriving at the start of bucket 1) and 8 on hand.
    # t0: 8 -> 5.   t1: 5 + 2 = 7 -> 1, position 1 <= 5: order 10 (arrives t3).
    # t2: 1 -> -3 (3 backordered).   t3: -3 + 10 = 7, cycle closed with a stockout; y = 0.
    # t4: a return of 2: 7 -> 9.
    plan = _plan(
        logic=[REORDER_Q], s=[5.0], q=[10.0], lead=[1], d=[2.0], ip0=[10.0], big_s=[np.inf]
    )
    demand = np.array([[3.0], [6.0], [4.0], [0.0], [-2.0]])
    for replay in (replay_vectorised, replay_loop):
        out = replay(demand, plan)
        assert out.demand[0] == 13.0  # the return is not demand
        assert out.short[0] == 3.0
        # Time-average on hand: (8+5)/2, (7+1)/2, 1 * 1/4 / 2 (zero a quarter in), 7, (7+9)/2.
        assert out.on_hand[0] == pytest.approx(6.5 + 4.0 + 0.125 + 7.0 + 8.0)
        assert (out.stockout_buckets[0], out.orders[0]) == (1, 1)
        assert (out.cycles[0], out.failed[0]) == (1, 1)


def test_order_up_to_replay_by_hand() -> None:
    # (R, S) = (2, 20), L = 0: reviews at the end of buckets 1 and 3, each ordering 16.
    plan = _plan(logic=[ORDER_UP_TO], big_s=[20.0], review=[2], d=[5.0], ip0=[20.0])
    out = replay_vectorised(np.full((4, 1), 8.0), plan)
    assert (out.orders[0], out.cycles[0], out.failed[0], out.short[0]) == (2, 1, 0, 0.0)
    assert out.on_hand[0] == pytest.approx(16.0 + 8.0 + 16.0 + 8.0)


def test_several_lots_when_the_position_falls_far_below_the_reorder_point() -> None:
    # Position 10 - 37 = -27 <= s = 0: the smallest multiple of Q = 10 above s is 3 lots.
    plan = _plan(logic=[REORDER_Q], s=[0.0], q=[10.0], lead=[5], d=[0.0], ip0=[10.0])
    out = replay_vectorised(np.array([[37.0], [0.0]]), plan)
    assert out.orders[0] == 1
    assert out.short[0] == 27.0


def test_min_max_orders_up_to_the_maximum() -> None:
    plan = _plan(logic=[MIN_MAX], s=[4.0], big_s=[10.0], d=[0.0], ip0=[7.0])
    demand = np.array([[5.0], [0.0], [3.0], [0.0]])  # 7 -> 2: order 8 -> 10 -> 7 (no order)
    out = replay_vectorised(demand, plan)
    assert (out.orders[0], out.cycles[0]) == (1, 1)
    assert out.on_hand[0] == pytest.approx(4.5 + 10.0 + 8.5 + 7.0)


# --------------------------------------------------------------------------- oracle


@st.composite
def _cases(draw: st.DrawFn) -> tuple[FloatMatrix, Plan]:
    n = draw(st.integers(1, 6))
    t = draw(st.integers(1, 25))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    logic = rng.integers(0, 3, n)
    s = np.round(rng.uniform(-5, 30, n), draw(st.sampled_from([0, 2])))
    q = np.round(rng.uniform(0.5, 25, n), 1)
    big_s = s + np.round(rng.uniform(0.5, 30, n), 1)
    ip0 = np.select([logic == REORDER_Q, logic == MIN_MAX], [s + q / 2, (s + big_s) / 2], big_s)
    plan = Plan(
        logic=logic,
        s=np.where(logic == ORDER_UP_TO, -np.inf, s),
        q=np.where(logic == REORDER_Q, q, np.nan),
        big_s=np.where(logic == REORDER_Q, np.inf, big_s),
        review=rng.integers(1, 5, n),
        lead=rng.integers(0, 40 if draw(st.booleans()) else 4, n),
        d=np.round(rng.uniform(0, 6, n), 2),
        ip0=ip0,
    )
    demand = np.round(rng.normal(4, 5, (t, n)), draw(st.sampled_from([0, 3])))
    demand[rng.random((t, n)) < 0.3] = 0.0  # sparse buckets
    return demand, plan


FloatMatrix = np.ndarray[Any, np.dtype[np.float64]]


@settings(max_examples=150, deadline=None)
@given(_cases())
def test_vectorised_replay_equals_the_item_by_item_loop(case: tuple[FloatMatrix, Plan]) -> None:
    demand, plan = case
    _same(replay_vectorised(demand, plan), replay_loop(demand, plan))


@settings(max_examples=60, deadline=None)
@given(_cases())
def test_invariants(case: tuple[FloatMatrix, Plan]) -> None:
    demand, plan = case
    out = replay_vectorised(demand, plan)
    assert np.all(out.short <= out.demand + 1e-9)
    assert np.all(out.on_hand >= 0)
    assert np.all(out.failed <= out.cycles)
    assert np.all(out.cycles <= out.orders)
    assert np.all(out.stockout_buckets <= demand.shape[0])
    assert np.all((out.short > 0) == (out.stockout_buckets > 0))


# --------------------------------------------------------------------------- outside truth


def _long_run(
    logic: int,
    *,
    d: float,
    sd: float,
    lead: int,
    review: int,
    s: float,
    q: float,
    big_s: float,
    n: int = 100,
    t: int = 10_000,
) -> tuple[float, float]:
    """Pooled fill rate and cycle service of ``n`` independent items x ``t`` buckets of
    i.i.d. normal demand (fixed seed)."""
    rng = np.random.default_rng(20_240_611)
    ip0 = s + q / 2 if logic == REORDER_Q else big_s
    plan = _plan(
        logic=np.full(n, logic),
        s=np.full(n, s),
        q=np.full(n, q),
        big_s=np.full(n, big_s),
        review=np.full(n, review),
        lead=np.full(n, lead),
        d=np.full(n, d),
        ip0=np.full(n, ip0),
    )
    out = replay_vectorised(rng.normal(d, sd, (t, n)), plan)
    assert out.cycles.sum() > 50_000
    return 1 - out.short.sum() / out.demand.sum(), 1 - out.failed.sum() / out.cycles.sum()


def test_reorder_point_policy_meets_silver_pyke_thomas_in_the_continuous_review_limit() -> None:
    # Silver, Pyke & Thomas (2017), ch. 6 (s, Q) with normal lead-time demand and backorders:
    # s = x_L + k sigma_L, P1 (cycle service) = Phi(k), P2 (fill rate) = 1 - sigma_L G(k) / Q
    # (Axsäter 2015, ch. 5, the same). They assume continuous review; a check at the end of
    # each bucket approaches it when a bucket's demand is small against sigma_L (here
    # 400 buckets of lead time, d = 1, sigma = 0.3 per bucket: sigma_L = 6).
    d, sd, lead, k, q = 1.0, 0.3, 400, 2.0, 40.0
    sigma_l = sd * np.sqrt(lead)
    beta, alpha = _long_run(
        REORDER_Q,
        d=d,
        sd=sd,
        lead=lead,
        review=1,
        s=d * lead + k * sigma_l,
        q=q,
        big_s=np.inf,
        n=200,
        t=20_000,
    )
    assert alpha == pytest.approx(stats.norm.cdf(k), abs=0.01)
    assert beta == pytest.approx(1 - sigma_l * float(normal_loss(k)) / q, abs=0.01)


def _second_order_loss(x: float) -> float:
    """G2(x) = integral of G from x to infinity = ((x^2 + 1)(1 - Phi(x)) - x phi(x)) / 2."""
    return 0.5 * ((x * x + 1) * stats.norm.sf(x) - x * stats.norm.pdf(x))


def test_reorder_point_policy_checked_per_bucket_meets_the_discrete_time_theory() -> None:
    # Coarse buckets (d = 10, sigma = 3, L = 4): the position undershoots s by about
    # E[y^2] / (2 E[y]) = 5.45 units before the check sees it, so Phi(k) no longer holds.
    # Exact discrete-time results instead (Axsäter 2015, ch. 5, periodic review (R, Q)):
    # the position after ordering is uniform on (s, s + Q], so a bucket's expected shortage is
    # E[B(L + 1)] - E[B(L)], E[B(m)] = (sigma_m^2 / Q) (G2(k_s) - G2(k_{s+Q})); a cycle has a
    # stockout when D_L + U > s, U the undershoot with the equilibrium-excess density
    # (1 - F(u)) / d of renewal theory (Hadley & Whitin 1963).
    d, sd, lead, k, q = 10.0, 3.0, 4, 1.0, 60.0
    s = d * lead + k * sd * np.sqrt(lead)

    def backorders(m: int) -> float:
        mu, sg = d * m, sd * np.sqrt(m)
        return (
            sg
            * sg
            / q
            * (_second_order_loss((s - mu) / sg) - _second_order_loss((s + q - mu) / sg))
        )

    beta_exact = 1 - (backorders(lead + 1) - backorders(lead)) / d
    sigma_l = sd * np.sqrt(lead)

    def density(u: float) -> float:
        return float(stats.norm.cdf((s - u - d * lead) / sigma_l) * stats.norm.sf(u, d, sd) / d)

    alpha_exact = integrate.quad(density, 0.0, d + 10 * sd)[0]
    beta, alpha = _long_run(REORDER_Q, d=d, sd=sd, lead=lead, review=1, s=s, q=q, big_s=np.inf)
    assert beta == pytest.approx(beta_exact, abs=0.01)
    assert alpha == pytest.approx(alpha_exact, abs=0.01)
    assert alpha < stats.norm.cdf(k) - 0.2  # the continuous-review value is far off here


def test_order_up_to_policy_meets_silver_pyke_thomas() -> None:
    # Silver, Pyke & Thomas (2017), ch. 7 (R, S): S = x_{R+L} + k sigma_{R+L},
    # P1 = Phi(k), P2 = 1 - sigma_{R+L} G(k) / (d R); exact in discrete time for P1.
    d, sd, lead, review, k = 10.0, 3.0, 2, 4, 1.0
    sigma = sd * np.sqrt(lead + review)
    beta, alpha = _long_run(
        ORDER_UP_TO,
        d=d,
        sd=sd,
        lead=lead,
        review=review,
        s=-np.inf,
        q=np.nan,
        big_s=d * (lead + review) + k * sigma,
    )
    assert alpha == pytest.approx(stats.norm.cdf(k), abs=0.01)
    assert beta == pytest.approx(1 - sigma * float(normal_loss(k)) / (d * review), abs=0.01)


# --------------------------------------------------------------------------- the table


def _policies(**over: Any) -> pd.DataFrame:
    rows = {
        "product_id": ["P1", "P1", "P2", "P3", "P4", "P5"],
        "location_id": ["DC1", "DC2", "DC1", "DC1", "DC1", "DC1"],
        "product_segment": ["AX", "AX", "BY", "CZ", "CX", "AY"],
        "service_type": ["cycle", "cycle", "fill_rate", "none", "cycle", "cycle"],
        "service_target": [0.95, 0.95, 0.98, np.nan, 0.9, 0.95],
        "demand_mean": [10.0, 4.0, 5.0, 1.0, 0.0, 6.0],
        "lead_time": [1.5, 1.49, 2.0, 1.0, 1.0, 1.0],
        "safety_stock": [5.0, 2.0, 3.0, 0.0, 0.0, 4.0],
        "reorder_point": [20.0, 6.0, np.nan, 0.0, 0.0, 10.0],
        "order_quantity": [30.0, 12.0, 10.0, np.nan, np.nan, 1.0],
        "order_up_to": [np.nan, np.nan, 25.0, np.nan, np.nan, 11.0],
        "review_period": [0.0, 0.0, 2.0, 0.0, 0.0, 0.0],
        "inventory_rule": [
            "rop_eoq",
            "rop_eoq",
            "order_up_to",
            "make_to_order",
            "rop_eoq",
            "base_stock",
        ],
        "unit_cost": [2.0, 2.0, np.nan, 1.0, 1.0, 3.0],
        "bucket": "week",
    }
    rows.update(over)
    return pd.DataFrame(rows)


def _history(weeks: int = 30, start: str = "2024-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ds = pd.date_range(start, periods=weeks, freq="7D")
    frames = []
    for uid, mean in (("P1@DC1", 10), ("P1@DC2", 4), ("P2@DC1", 5), ("P3@DC1", 1), ("X@DC1", 3)):
        y = rng.poisson(mean, weeks).astype(float)
        keep = y != 0  # sparse: no rows for empty buckets
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds[keep].date, "y": y[keep]}))
    return pd.concat(frames, ignore_index=True)


def test_one_row_per_stocked_item_with_the_documented_columns() -> None:
    sim = policy_simulation(_policies(), _history(), buckets=8)
    assert tuple(sim.columns) == SIMULATION_COLUMNS
    # P3 make-to-order and P4 (no demand: no lot size) hold no stock; P5 has no history.
    assert list(sim["unique_id"]) == ["P1@DC1", "P1@DC2", "P2@DC1", "P5@DC1"]
    p5 = sim.iloc[3]
    assert p5["demand"] == 0.0
    assert np.isnan(p5["achieved_fill_rate"])  # no demand: unknown, not 100 %
    assert np.isnan(p5["achieved_cycle_service"])
    # (s + S)/2 = 10.5 of which d * L = 6 on order, arriving at the start of bucket 1.
    assert p5["avg_on_hand"] == pytest.approx((4.5 + 7 * 10.5) / 8)
    assert np.isnan(sim.loc[2, "avg_on_hand_value"])  # P2 has no cost
    assert sim.loc[0, "avg_on_hand_value"] == pytest.approx(2 * sim.loc[0, "avg_on_hand"])


def test_table_matches_a_replay_of_the_rounded_parameters() -> None:
    pol, hist = _policies(), _history()
    sim = policy_simulation(pol, hist, buckets=8)
    start = window_start(hist, 8, bucket="week")
    ds = pd.to_datetime(hist["ds"])
    y = hist[(hist["unique_id"] == "P1@DC1") & (ds >= start)].sort_values("ds")
    weeks = ((pd.to_datetime(y["ds"]) - start).dt.days // 7).to_numpy()
    demand = np.zeros((8, 1))
    demand[weeks, 0] = y["y"].to_numpy()
    # lead 1.5 buckets rounds (halves up) to 2; P1@DC2's 1.49 to 1.
    plan = _plan(logic=[REORDER_Q], s=[20.0], q=[30.0], lead=[2], d=[10.0], ip0=[35.0])
    out = replay_loop(demand, plan)
    row = sim.iloc[0]
    assert row["demand"] == out.demand[0]
    assert row["orders"] == out.orders[0]
    assert row["avg_on_hand"] == pytest.approx(out.on_hand[0] / 8)
    assert row["achieved_fill_rate"] == pytest.approx(1 - out.short[0] / out.demand[0])


def test_lead_time_rounding_halves_up() -> None:
    hist = pd.DataFrame({"unique_id": ["P1@DC1"], "ds": ["2024-03-04"], "y": [0.0]})
    on_hand = {}
    for lt in (1.49, 1.5, 2.49):
        pol = _policies().iloc[:1].assign(lead_time=lt, demand_mean=10.0)
        sim = policy_simulation(pol, hist, buckets=1)
        on_hand[lt] = sim.loc[0, "avg_on_hand"]  # 35 on position, d * L on order
    assert on_hand == {1.49: 25.0, 1.5: 15.0, 2.49: 15.0}


def test_items_without_a_location_match_by_product_id() -> None:
    pol = _policies().iloc[:1].assign(location_id=np.nan)
    hist = pd.DataFrame({"unique_id": ["P1", "P1@DC1"], "ds": ["2024-03-04"] * 2, "y": [4.0, 9.0]})
    sim = policy_simulation(pol, hist, buckets=1)
    assert sim.loc[0, "unique_id"] == "P1"
    assert sim.loc[0, "demand"] == 4.0
    assert pd.isna(sim.loc[0, "location_id"])


def test_duplicate_rows_in_a_bucket_add_up_and_returns_are_not_demand() -> None:
    pol = _policies().iloc[:1]
    hist = pd.DataFrame(
        {
            "unique_id": ["P1@DC1"] * 3,
            "ds": ["2024-03-04", "2024-03-04", "2024-03-11"],
            "y": [4.0, 3.0, -2.0],
        }
    )
    sim = policy_simulation(pol, hist, buckets=2)
    assert sim.loc[0, "demand"] == 7.0


def test_window_and_split() -> None:
    hist = _history(weeks=30)
    start = window_start(hist, 8, bucket="week")
    assert start == pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=22)
    before, window = split_history(hist, 8, bucket="week")
    assert len(before) + len(window) == len(hist)
    assert pd.to_datetime(before["ds"]).max() < start <= pd.to_datetime(window["ds"]).min()
    # The window alone or the whole history replay the same.
    pd.testing.assert_frame_equal(
        policy_simulation(_policies(), window, buckets=8, start=start),
        policy_simulation(_policies(), hist, buckets=8),
    )
    end = pd.Timestamp("2024-04-01")
    before, window = split_history(hist, 4, bucket="week", end=end)
    assert pd.to_datetime(window["ds"]).max() <= end
    assert pd.to_datetime(window["ds"]).min() >= end - pd.Timedelta(weeks=3)


def test_monthly_window() -> None:
    hist = pd.DataFrame(
        {
            "unique_id": "P1@DC1",
            "ds": pd.date_range("2023-01-01", periods=12, freq="MS"),
            "y": np.arange(1.0, 13.0),
        }
    )
    assert window_start(hist, 3, bucket="month") == pd.Timestamp("2023-10-01")
    pol = _policies().iloc[:1].assign(bucket="month")
    assert policy_simulation(pol, hist, buckets=3)["demand"].iloc[0] == 10.0 + 11.0 + 12.0
    before, window = split_history(hist, 3, bucket="month")
    assert (len(before), len(window)) == (9, 3)


def test_errors_name_the_problem() -> None:
    hist = _history()
    with pytest.raises(DataContractError, match="after the last period"):
        policy_simulation(_policies(), hist, buckets=8, start="2024-07-01")
    with pytest.raises(DataContractError, match="inventory_rule: value 'kanban'"):
        policy_simulation(_policies(inventory_rule="kanban"), hist)
    with pytest.raises(DataContractError, match="lead_time"):
        policy_simulation(_policies(lead_time=np.nan), hist)
    with pytest.raises(DataContractError, match="demand_mean"):
        policy_simulation(_policies().drop(columns="demand_mean"), hist)
    with pytest.raises(DataContractError, match="bucket"):
        policy_simulation(_policies().drop(columns="bucket"), hist)
    with pytest.raises(DataContractError, match=r"history\.y"):
        policy_simulation(_policies(), hist.assign(y=np.nan))
    with pytest.raises(DataContractError, match="buckets"):
        policy_simulation(_policies(), hist, buckets=0)
    with pytest.raises(DataContractError, match="appears twice"):
        policy_simulation(pd.concat([_policies(), _policies()]), hist)


def test_a_window_to_the_horizon_end_may_pass_the_last_demand() -> None:
    """Sparse history ends at its last demand; the weeks after it had none, and the horizon
    end says the data covers them (a synthetic run crashed here before)."""
    hist = _history()
    last = pd.Timestamp(hist["ds"].max())
    start = last - pd.Timedelta(weeks=5)
    with pytest.raises(DataContractError, match="after the last period"):
        policy_simulation(_policies(), hist, buckets=8, start=start)
    sim = policy_simulation(
        _policies(), hist, buckets=8, start=start, horizon_end=last + pd.Timedelta(weeks=2)
    )
    assert len(sim) == len(policy_simulation(_policies(), hist, buckets=8))  # every stocked item
    assert sim["demand"].sum() > 0
    with pytest.raises(DataContractError, match="after the last period"):
        policy_simulation(
            _policies(), hist, buckets=8, start=start, horizon_end=last + pd.Timedelta(weeks=1)
        )


def test_summary_weights_by_demand() -> None:
    sim = pd.DataFrame(
        {
            "unique_id": ["a", "b", "c", "d"],
            "product_id": ["a", "b", "c", "d"],
            "location_id": pd.Series([None] * 4, dtype=object),
            "product_segment": ["AX", "AX", "AX", "BY"],
            "service_type": ["cycle", "cycle", "cycle", "fill_rate"],
            "service_target": [0.9, 0.99, 0.95, 0.98],
            "achieved_fill_rate": [0.8, 1.0, np.nan, 0.97],
            "achieved_cycle_service": [0.5, np.nan, np.nan, 1.0],
            "avg_on_hand": [1.0, 2.0, 3.0, 4.0],
            "avg_on_hand_value": [10.0, np.nan, 30.0, np.nan],
            "stockout_buckets": [1, 0, 0, 0],
            "orders": [2, 1, 0, 1],
            "demand": [100.0, 300.0, 0.0, 50.0],
        }
    )
    out = simulation_summary(sim)
    assert tuple(out.columns) == SUMMARY_COLUMNS
    ax, by = out.iloc[0], out.iloc[1]
    assert (ax["items"], ax["demand"], ax["items_cost_unknown"]) == (3, 400.0, 1)
    assert ax["service_target"] == pytest.approx((0.9 * 100 + 0.99 * 300) / 400)
    assert ax["achieved_fill_rate"] == pytest.approx((80 + 300) / 400)
    assert ax["achieved_cycle_service"] == pytest.approx(0.5)
    assert ax["avg_on_hand_value"] == 40.0
    assert np.isnan(by["avg_on_hand_value"])  # no known cost: unknown, not 0
    assert by["achieved_fill_rate"] == pytest.approx(0.97)


def test_out_of_sample_replay_of_assigned_policies() -> None:
    # The way the pipeline uses it: policies from the history before the window, replayed on
    # the window. Stationary Poisson demand, (R, S) template: the fill rate achieved is close
    # to the 95 % target across 300 items.
    rng = np.random.default_rng(3)
    n, weeks = 300, 130
    ids = [f"P{i:03d}" for i in range(n)]
    y = rng.poisson(20, (weeks, n)).astype(float)
    ds = pd.date_range("2022-01-03", periods=weeks, freq="7D").date
    hist = pd.DataFrame(
        {"unique_id": np.tile(ids, weeks), "ds": np.repeat(ds, n), "y": y.reshape(-1)}
    )
    before, window = split_history(hist, 26, bucket="week")
    yb = before.pivot(index="ds", columns="unique_id", values="y")
    demand = pd.DataFrame(
        {
            "product_id": ids,
            "mean": yb.mean().to_numpy(),
            "std": yb.std(ddof=0).to_numpy(),
            "pattern": "smooth",
        }
    )
    seg = pd.DataFrame({"product_id": ids, "scheme": "custom", "segment": "A", "primary": True})
    raw = {
        "builtin_defaults": False,
        "default_lead_time_days": 14,
        "product": {
            "A": {
                "service_type": "fill_rate",
                "service_target": 0.95,
                "inventory_rule": "order_up_to",
                "review_period": 14,
            }
        },
    }
    pol = policy_outputs(seg, demand, None, policy_settings(raw), bucket="week").policies
    sim = policy_simulation(pol, window, buckets=26, start=window_start(hist, 26, bucket="week"))
    assert len(sim) == n
    summary = simulation_summary(sim)
    assert summary.loc[0, "achieved_fill_rate"] == pytest.approx(0.95, abs=0.02)


# --------------------------------------------------------------------------- real data

ONLINE_RETAIL = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "online_retail"
) / "online_retail.parquet"


@pytest.mark.slow
def test_online_retail_out_of_sample_replay_reconciles_with_the_order_lines() -> None:
    """Policies from the weeks before the last 13, replayed on those 13 weeks of the UCI
    Online Retail data: every simulated item's demand equals its positive weekly net
    quantity summed straight from the order lines with pandas."""
    if not ONLINE_RETAIL.exists():
        pytest.skip(f"{ONLINE_RETAIL} absent")
    from supplyseg.analytics.demand import demand_profile, demand_series

    raw = pd.read_parquet(ONLINE_RETAIL, columns=["StockCode", "InvoiceDate", "Quantity"])
    lines = pd.DataFrame(
        {
            "unique_id": raw["StockCode"].astype(str),
            "ds": raw["InvoiceDate"].dt.normalize(),
            "y": raw["Quantity"].astype(float),
        }
    )
    history = demand_series(lines, bucket="week")
    start = window_start(history, 13, bucket="week")
    before, _ = split_history(history, 13, bucket="week")
    profile = demand_profile(lines[lines["ds"] < start], bucket="week")
    profile = profile.rename(columns={"unique_id": "product_id"})
    seg = pd.DataFrame(
        {"product_id": profile["product_id"], "scheme": "custom", "segment": "A", "primary": True}
    )
    raw_settings = {
        "builtin_defaults": False,
        "product": {
            "A": {"service_type": "fill_rate", "service_target": 0.95, "inventory_rule": "rop_eoq"}
        },
    }
    policies = policy_outputs(
        seg, profile, None, policy_settings(raw_settings), bucket="week", history=before
    ).policies
    sim = policy_simulation(policies, history, buckets=13, start=start)
    stocked = policies["order_quantity"].notna() & policies["reorder_point"].notna()
    assert len(sim) == int(stocked.sum()) > 3000

    week = raw["InvoiceDate"].dt.normalize()
    week = week - pd.to_timedelta(week.dt.weekday, unit="D")  # Monday starts, as ds
    in_window = (week >= start) & (week < start + pd.Timedelta(weeks=13))
    net = raw[in_window].groupby([raw["StockCode"].astype(str), week[in_window]])["Quantity"].sum()
    truth = net.clip(lower=0).groupby(level=0).sum().astype(float)
    got = sim.set_index("product_id")["demand"]
    np.testing.assert_array_equal(got.to_numpy(), truth.reindex(got.index, fill_value=0.0))
    assert sim["achieved_fill_rate"].dropna().between(0, 1).all()
    assert (sim["stockout_buckets"] <= 13).all()
