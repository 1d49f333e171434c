"""Tests for supplyseg.policy.optimise: the stock-mix optimum against independent solvers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, sparse, stats

from supplyseg.errors import DataContractError, PolicyError
from supplyseg.policy.inventory import safety_stock
from supplyseg.policy.optimise import (
    FRONTIER_COLUMNS,
    STOCK_MIX_COLUMNS,
    stock_mix,
    stock_to_service_frontier,
)


def random_items(n: int, seed: int) -> pd.DataFrame:
    """Plausible items: skewed demand, noisy lead times, order quantities of 1-20 buckets."""
    rng = np.random.default_rng(seed)
    d = rng.gamma(1.5, 20.0, n)
    cost = rng.lognormal(2.0, 1.0, n)
    return pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n)],
            "demand_mean": d,
            "demand_std": d * rng.uniform(0.1, 1.5, n),
            "lead_time": rng.integers(1, 12, n).astype(float),
            "lead_time_std": rng.uniform(0.0, 2.0, n),
            "order_quantity": d * rng.uniform(1.0, 20.0, n),
            "unit_cost": cost,
            "weight": d * cost * rng.uniform(0.2, 1.0, n),
        }
    )


def sigma_dl(items: pd.DataFrame) -> np.ndarray:
    d, sd = items["demand_mean"].to_numpy(), items["demand_std"].to_numpy()
    lt, slt = items["lead_time"].to_numpy(), items["lead_time_std"].to_numpy()
    return np.sqrt(lt * sd**2 + d**2 * slt**2)


def model_fill(items: pd.DataFrame, ss: np.ndarray) -> np.ndarray:
    """Unclipped textbook fill rate, written out with scipy.stats (independent of the module)."""
    sigma, q = sigma_dl(items), items["order_quantity"].to_numpy()
    k = ss / sigma
    loss = stats.norm.pdf(k) - k * stats.norm.sf(k)
    return 1.0 - sigma * loss / q


def weighted(items: pd.DataFrame, fill: np.ndarray) -> float:
    w = items["weight"].to_numpy()
    return float(np.dot(w, fill) / w.sum())


def lp_lower_bound(items: pd.DataFrame, target: float, cuts: int = 1500) -> float:
    """Least cost of the outer (tangent-cut) approximation of the concave fill-rate curves.

    HiGHS (scipy.optimize.linprog) over x = (SS_1..n, beta_1..n): beta_i below every tangent
    of beta_i(SS) at SS = sigma_i z_k, z_k on a fine grid in [0, 8]. A relaxation, so its
    cost is a lower bound that tightens as the grid gets finer.
    """
    n = len(items)
    sigma, q = sigma_dl(items), items["order_quantity"].to_numpy()
    c, w = items["unit_cost"].to_numpy(), items["weight"].to_numpy()
    z = np.linspace(0.0, 8.0, cuts)
    loss = stats.norm.pdf(z) - z * stats.norm.sf(z)
    rows, cols, vals, rhs = [], [], [], []
    for i in range(n):
        slope = stats.norm.sf(z) / q[i]  # d beta / d SS at the cut
        level = 1.0 - sigma[i] * loss / q[i]
        r = np.arange(i * cuts, (i + 1) * cuts)
        rows += [r, r]
        cols += [np.full(cuts, n + i), np.full(cuts, i)]
        vals += [np.ones(cuts), -slope]
        rhs.append(level - slope * sigma[i] * z)
    a_cut = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n * cuts, 2 * n),
    )
    a_service = sparse.csr_matrix(np.concatenate([np.zeros(n), -w / w.sum()])[None, :])
    res = optimize.linprog(
        np.concatenate([c, np.zeros(n)]),
        A_ub=sparse.vstack([a_cut, a_service]),
        b_ub=np.concatenate([*rhs, [-target]]),
        bounds=[(0.0, 8.0 * s) for s in sigma] + [(None, 1.0)] * n,
        method="highs",
    )
    assert res.status == 0, res.message
    return float(res.fun)


@pytest.mark.parametrize(("seed", "target"), [(1, 0.95), (2, 0.98), (3, 0.995), (4, 0.97)])
def test_cost_matches_highs_on_tangent_cut_lp(seed: int, target: float) -> None:
    items = random_items(25, seed)
    out = stock_mix(items, target)
    cost = float(np.dot(items["unit_cost"], out["safety_stock"]))
    bound = lp_lower_bound(items, target)
    assert cost == pytest.approx(out.attrs["safety_stock_value"], rel=1e-12)
    assert bound <= cost * (1 + 1e-9)  # a relaxation cannot cost more than the optimum
    assert cost > 0
    assert (cost - bound) / cost < 1e-4  # measured 2-7e-6: the cut grid, not the optimiser
    achieved = weighted(items, model_fill(items, out["safety_stock"].to_numpy()))
    assert 0.0 <= achieved - target <= 1e-6


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_cost_matches_slsqp_on_tiny_instances(seed: int) -> None:
    items = random_items(3, seed)
    target = 0.97
    c = items["unit_cost"].to_numpy()
    res = optimize.minimize(
        lambda s: float(np.dot(c, s)),
        x0=sigma_dl(items) * 2.0,
        jac=lambda s: c,
        constraints=[
            {"type": "ineq", "fun": lambda s: weighted(items, model_fill(items, s)) - target}
        ],
        bounds=[(0.0, None)] * 3,
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert res.success, res.message
    out = stock_mix(items, target)
    assert out.attrs["safety_stock_value"] == pytest.approx(res.fun, rel=1e-3)
    np.testing.assert_allclose(out["safety_stock"], res.x, rtol=1e-3, atol=1e-3)


def test_kkt_equal_marginal_service_per_unit_of_money() -> None:
    items = random_items(200, 11)
    out = stock_mix(items, 0.97)
    ss, sigma = out["safety_stock"].to_numpy(), sigma_dl(items)
    w, q, c = (items[k].to_numpy() for k in ("weight", "order_quantity", "unit_cost"))
    marginal = w * stats.norm.sf(ss / sigma) / (q * c)  # service bought per unit of money
    interior = ss > 0
    assert 10 < interior.sum() < len(items)  # the instance has both kinds of item
    common = np.median(marginal[interior])
    np.testing.assert_allclose(marginal[interior], common, rtol=1e-6)
    assert np.all(marginal[~interior] <= common * (1 + 1e-9))  # nobody at 0 would gain
    assert 0.0 <= out.attrs["weighted_fill_rate"] - 0.97 <= 1e-9  # the constraint is active
    # The multiplier is the price of service: lambda = W / common marginal, per point / 100.
    assert out.attrs["marginal_value_per_point"] == pytest.approx(w.sum() / common / 100, rel=1e-6)


def test_marginal_value_is_the_derivative_of_the_cost() -> None:
    items, h = random_items(100, 12), 1e-5
    up = stock_mix(items, 0.96 + h).attrs["safety_stock_value"]
    down = stock_mix(items, 0.96 - h).attrs["safety_stock_value"]
    per_point = stock_mix(items, 0.96).attrs["marginal_value_per_point"]
    assert (up - down) / (2 * h) / 100 == pytest.approx(per_point, rel=1e-4)


def test_one_item_is_the_textbook_fill_rate_safety_stock() -> None:
    # Chopra & Meindl, Supply Chain Management, "Evaluating safety inventory given a desired
    # fill rate": weekly demand 2,500, sd 500, lead time 2 weeks, lot 10,000, fill rate 0.975
    # -> safety inventory 67 units.
    one = pd.DataFrame(
        {
            "item_id": ["a"],
            "demand_mean": [2500.0],
            "demand_std": [500.0],
            "lead_time": [2.0],
            "lead_time_std": [0.0],
            "order_quantity": [10_000.0],
            "unit_cost": [3.0],
            "weight": [1.0],
        }
    )
    out = stock_mix(one, 0.975)
    assert out["safety_stock"].iloc[0] == pytest.approx(67.0, abs=1.0)
    exact = safety_stock(2500, 500, 2, 0, 0.975, "fill_rate", 10_000)
    assert out["safety_stock"].iloc[0] == pytest.approx(exact, rel=1e-6)
    assert out["fill_rate"].iloc[0] == pytest.approx(0.975, abs=1e-9)
    assert out.attrs["uniform_cost_ratio"] == pytest.approx(1.0, rel=1e-6)


def test_all_weight_on_one_item() -> None:
    items = random_items(10, 13)
    items["weight"] = 0.0
    items.loc[4, "weight"] = 7.0
    out = stock_mix(items, 0.99)
    assert (out["safety_stock"].drop(index=4) == 0).all()
    row = items.iloc[4]
    exact = safety_stock(
        row.demand_mean,
        row.demand_std,
        row.lead_time,
        row.lead_time_std,
        0.99,
        "fill_rate",
        row.order_quantity,
    )
    assert out["safety_stock"].iloc[4] == pytest.approx(max(exact, 0.0), rel=1e-6)


def test_items_without_uncertainty_need_no_stock() -> None:
    items = random_items(5, 14)
    items["demand_std"] = 0.0
    items["lead_time_std"] = 0.0
    for target in (0.99, 1.0):
        out = stock_mix(items, target)
        assert (out["safety_stock"] == 0).all()
        assert (out["fill_rate"] == 1).all()
    mixed = random_items(6, 14)
    mixed.loc[[0, 1], ["demand_std", "lead_time_std"]] = 0.0
    out = stock_mix(mixed, 0.98)
    assert (out["safety_stock"].iloc[:2] == 0).all()
    assert (out["fill_rate"].iloc[:2] == 1).all()


def test_target_reached_without_stock_gives_zeros() -> None:
    items = random_items(50, 15)
    items["order_quantity"] = sigma_dl(items) * 100.0  # beta at SS 0 = 1 - 0.004
    out = stock_mix(items, 0.99)
    assert (out["safety_stock"] == 0).all()
    assert out.attrs["safety_stock_value"] == 0.0
    assert out.attrs["uniform_safety_stock_value"] == 0.0
    assert out.attrs["uniform_cost_ratio"] == 1.0


def test_budget_mode_is_the_dual_of_target_mode() -> None:
    items = random_items(300, 16)
    by_target = stock_mix(items, 0.975)
    by_budget = stock_mix(items, budget=by_target.attrs["safety_stock_value"])
    assert by_budget.attrs["weighted_fill_rate"] == pytest.approx(0.975, abs=1e-9)
    assert by_budget.attrs["safety_stock_value"] <= by_target.attrs["safety_stock_value"]
    np.testing.assert_allclose(by_budget["safety_stock"], by_target["safety_stock"], atol=1e-6)
    assert (stock_mix(items, budget=0)["safety_stock"] == 0).all()
    rich = stock_mix(items, budget=1e12)
    assert rich.attrs["weighted_fill_rate"] == pytest.approx(1.0, abs=1e-12)


def test_weight_zero_items_get_no_stock_and_unknown_cost_is_assumed() -> None:
    items = random_items(40, 17)
    items.loc[3, "weight"] = 0.0
    items.loc[[5, 6], "unit_cost"] = np.nan
    out = stock_mix(items, 0.98)
    assert out["safety_stock"].iloc[3] == 0
    assert out["inventory_value"].iloc[[5, 6]].isna().all()
    assert out["inventory_value"].drop(index=[5, 6]).notna().all()
    assert out.attrs["unit_cost_unknown_items"] == 2
    median = float(items["unit_cost"].median())
    assert out.attrs["unit_cost_assumed"] == pytest.approx(median)
    # The optimum is the one with the median cost filled in.
    filled = stock_mix(items.fillna({"unit_cost": median}), 0.98)
    np.testing.assert_allclose(out["safety_stock"], filled["safety_stock"], rtol=1e-9)
    assert list(out.columns) == list(STOCK_MIX_COLUMNS)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 40),
    target=st.floats(0.5, 0.999),
)
def test_optimised_never_costs_more_than_uniform(seed: int, n: int, target: float) -> None:
    out = stock_mix(random_items(n, seed), target)
    optimised, uniform = (
        out.attrs[k] for k in ("safety_stock_value", "uniform_safety_stock_value")
    )
    assert optimised <= uniform * (1 + 1e-9) + 1e-9
    assert out.attrs["weighted_fill_rate"] - target >= 0.0
    assert (out["safety_stock"] >= 0).all()


def test_frontier_rises_and_matches_stock_mix() -> None:
    items = random_items(100, 18)
    targets = [0.9, 0.95, 0.98, 0.99]
    f = stock_to_service_frontier(items, targets)
    assert list(f.columns) == list(FRONTIER_COLUMNS)
    assert f["target"].tolist() == targets
    assert f["optimised_ss_value"].is_monotonic_increasing
    assert (f["optimised_ss_value"] <= f["uniform_ss_value"]).all()
    cycle = float(np.dot(items["unit_cost"], items["order_quantity"]) / 2)
    np.testing.assert_allclose(f["optimised_inventory_value"] - f["optimised_ss_value"], cycle)
    one = stock_mix(items, 0.98)
    assert f["optimised_ss_value"].iloc[2] == pytest.approx(one.attrs["safety_stock_value"])
    assert one["inventory_value"].sum() == pytest.approx(f["optimised_inventory_value"].iloc[2])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.drop(columns="weight"), "weight"),
        (lambda df: df.assign(demand_std=-1.0), "demand_std"),
        (lambda df: df.assign(order_quantity=0.0), "order_quantity"),
        (lambda df: df.assign(unit_cost=0.0), "unit_cost"),
        (lambda df: df.assign(weight=0.0), "weight"),
        (lambda df: df.assign(lead_time=np.inf), "lead_time"),
        (lambda df: df.assign(item_id="same"), "item_id"),
        (lambda df: df.assign(demand_mean="x"), "demand_mean"),
        (lambda df: df.iloc[:0], "no rows"),
    ],
)
def test_bad_items_are_data_contract_errors(change: object, message: str) -> None:
    items = change(random_items(4, 19))  # type: ignore[operator]
    with pytest.raises(DataContractError, match=message):
        stock_mix(items, 0.95)


def test_bad_targets_and_budgets_are_policy_errors() -> None:
    items = random_items(4, 20)
    with pytest.raises(PolicyError, match="maximum reachable"):
        stock_mix(items, 1.0)
    with pytest.raises(PolicyError, match="maximum reachable"):
        stock_mix(items, 1.5)
    for bad in (0.0, math.nan, True):
        with pytest.raises(PolicyError, match="target_fill_rate"):
            stock_mix(items, bad)
    with pytest.raises(PolicyError, match="exactly one"):
        stock_mix(items)
    with pytest.raises(PolicyError, match="exactly one"):
        stock_mix(items, 0.9, budget=10.0)
    with pytest.raises(PolicyError, match="budget"):
        stock_mix(items, budget=-1.0)
    with pytest.raises(PolicyError, match="targets"):
        stock_to_service_frontier(items, [])


def test_uniform_target_reaches_the_same_aggregate() -> None:
    items = random_items(60, 21)
    out = stock_mix(items, 0.97)
    b = out.attrs["uniform_fill_rate"]
    sigma, q = sigma_dl(items), items["order_quantity"].to_numpy()
    beta0 = 1.0 - sigma * stats.norm.pdf(0) / q  # fill rate at SS 0: G(0) = phi(0)
    assert weighted(items, np.maximum(b, beta0)) == pytest.approx(0.97, abs=1e-9)
