"""Tests for supplyseg.policy.inventory: textbook cases, a scipy.stats loop oracle, invariants."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from supplyseg.errors import PolicyError
from supplyseg.policy.inventory import (
    empirical_reorder_point,
    eoq,
    expected_backorders,
    fill_rate,
    gamma_reorder_point,
    newsvendor,
    normal_loss,
    order_up_to,
    poisson_base_stock,
    reorder_point,
    safety_stock,
)

# Chopra & Meindl, Supply Chain Management: Strategy, Planning, and Operation, 6th ed.
# (Pearson, 2016), ch. 12 "Managing Uncertainty in a Supply Chain: Safety Inventory", is cited
# as CM6. Its Lego/Walmart examples share weekly demand N(2500, 500), lead time 2 weeks,
# lot size Q = 10,000. The book prints rounded figures: each test compares to the printed figure
# with half a unit of its last digit, and to our exact value (scipy.stats) to 1e-6.
CM_D, CM_SD, CM_L, CM_Q = 2500.0, 500.0, 2.0, 10_000.0


# --------------------------------------------------------------------------- textbook values


def test_eoq_snyder_shen_example() -> None:
    # Snyder & Shen, Fundamentals of Supply Chain Theory, 2nd ed. (Wiley, 2019), ch. 3, EOQ
    # example (Example 3.1): K = 8, h = 0.225, lambda = 1300 -> Q* = 304.05.
    assert eoq(1300, 8, 0.225) == pytest.approx(304.0467800264368, abs=1e-6)


def test_newsvendor_snyder_shen_example() -> None:
    # Snyder & Shen, 2nd ed., ch. 4, normal newsvendor example (Example 4.1): h = 0.18,
    # p = 0.7, D ~ N(50, 8^2) -> S* = 56.60.
    assert newsvendor(50, 8, 0.18, 0.7) == pytest.approx(56.603955927433887, abs=1e-6)


def test_eoq_nahmias_pencils() -> None:
    # Nahmias & Olsen, Production and Operations Analysis, 7th ed. (2015), ch. 4, Example 4.1
    # (pencils at the campus bookstore): 60/week = 3120/year, K = $12, h = 25% of $0.02
    # -> Q* = 3,870 printed.
    q = eoq(60 * 52, 12.0, 0.25 * 0.02)
    assert q == pytest.approx(3870, abs=0.5)
    assert q == pytest.approx(3869.883719183304, abs=1e-6)


def test_eoq_chopra_meindl_best_buy() -> None:
    # Chopra & Meindl, 6th ed., ch. 11 (cycle inventory), Example 11-1 (Best Buy): demand
    # 1,000/month, S = $4,000 per lot, C = $500, h = 20%/year -> Q* = 980 printed.
    q = eoq(12_000, 4_000.0, 0.2 * 500)
    assert q == pytest.approx(980, abs=0.5)
    assert q == pytest.approx(979.7958971132713, abs=1e-6)


# CM6 Example 12-6 (Dell, impact of lead-time uncertainty): daily demand N(2500, 500), lead time
# 7 days, CSL 90 %, sigma_L reduced from 7 to 0 days. Printed table (sigma_L, sigma_DL, ss),
# and our exact ss.
DELL_TABLE = [
    (7, 17_550, 22_491, 22491.138696520975),
    (6, 15_058, 19_298, 19297.885859213202),
    (5, 12_570, 16_109, 16108.853391649915),
    (4, 10_087, 12_927, 12927.165069785942),
    (3, 7_616, 9_760, 9760.005946652354),
    (2, 5_172, 6_628, 6628.236236379748),
    (1, 2_828, 3_625, 3624.7752097472926),
    (0, 1_323, 1_695, 1695.3333673682525),
]


@pytest.mark.parametrize(("lead_time_std", "sigma_dl", "printed", "exact"), DELL_TABLE)
def test_safety_stock_lead_time_uncertainty_chopra_meindl_dell(
    lead_time_std: float, sigma_dl: float, printed: float, exact: float
) -> None:
    ss = safety_stock(2500, 500, 7, lead_time_std, service_level=0.90)
    z = stats.norm.ppf(0.90)
    assert ss / z == pytest.approx(sigma_dl, abs=0.5)
    assert ss == pytest.approx(printed, abs=0.5)
    assert ss == pytest.approx(exact, abs=1e-6)


def test_dell_table_in_one_vectorised_call() -> None:
    lts = np.array([row[0] for row in DELL_TABLE], dtype=float)
    ss = safety_stock(2500, 500, 7, lts, service_level=0.90)
    assert isinstance(ss, np.ndarray)
    np.testing.assert_allclose(ss, [row[3] for row in DELL_TABLE], rtol=0, atol=1e-6)


def test_safety_stock_and_rop_for_cycle_service_chopra_meindl() -> None:
    # CM6 Example 12-4 (safety inventory given a CSL of 90 %): sigma_L = 707, ss = 906,
    # ROP = 5,906 printed.
    ss = safety_stock(CM_D, CM_SD, CM_L, service_level=0.90)
    rop = reorder_point(CM_D, CM_SD, CM_L, service_level=0.90)
    assert ss == pytest.approx(906, abs=0.5)
    assert rop == pytest.approx(5906, abs=0.5)
    assert ss == pytest.approx(906.1938024368231, abs=1e-6)
    assert rop == pytest.approx(5906.193802436823, abs=1e-6)


def test_fill_rate_given_safety_stock_chopra_meindl() -> None:
    # CM6 Example 12-3 (fill rate given ss = 1,000, Q = 10,000): ESC = 25.13, fr = 0.9975
    # printed. With ss = 0 the chapter's fill-rate table prints 0.9718 (ESC = sigma_L * G(0)).
    esc = expected_backorders(CM_D, CM_SD, CM_L, 1000.0)
    fr = fill_rate(CM_D, CM_SD, CM_L, 1000.0, CM_Q)
    assert esc == pytest.approx(25.13, abs=0.005)
    assert fr == pytest.approx(0.9975, abs=5e-5)
    assert esc == pytest.approx(25.127270830006143, abs=1e-6)
    assert fr == pytest.approx(0.9974872729169993, abs=1e-9)
    assert fill_rate(CM_D, CM_SD, CM_L, 0.0, CM_Q) == pytest.approx(0.9718, abs=5e-5)


def test_safety_stock_given_fill_rate_chopra_meindl() -> None:
    # CM6 Example 12-5 (safety inventory for a 97.5 % fill rate, Q = 10,000): ESC = 250,
    # ss = 67 printed (Excel Goal Seek). Exact value from scipy.optimize.brentq on
    # sigma_L * G(ss / sigma_L) = 250: 66.69755794644148.
    ss = safety_stock(CM_D, CM_SD, CM_L, 0.0, 0.975, "fill_rate", CM_Q)
    assert ss == pytest.approx(67, abs=0.5)
    assert ss == pytest.approx(66.69755794644148, abs=1e-6)
    assert expected_backorders(CM_D, CM_SD, CM_L, ss) == pytest.approx(250.0, abs=1e-6)
    rop = reorder_point(CM_D, CM_SD, CM_L, 0.0, 0.975, "fill_rate", CM_Q)
    assert rop == pytest.approx(CM_D * CM_L + 66.69755794644148, abs=1e-6)


def test_order_up_to_periodic_review_chopra_meindl() -> None:
    # CM6 ch. 12, periodic-review example: weekly N(2500, 500), L = 2, review every T = 4 weeks,
    # CSL 90 % -> sigma_{T+L} = 1,225, ss = 1,570, OUL = 16,570 printed.
    s = order_up_to(CM_D, CM_SD, CM_L, 4.0, service_level=0.90)
    assert s == pytest.approx(16_570, abs=0.5)
    assert s == pytest.approx(16569.573707324613, abs=1e-6)


@pytest.mark.parametrize(
    ("z", "tabled"),
    [(-1.0, 1.0833), (0.0, 0.3989), (0.5, 0.1978), (1.0, 0.0833), (1.5, 0.0293), (2.0, 0.0085)],
)
def test_normal_loss_table_values(z: float, tabled: float) -> None:
    # Four-decimal standard normal loss table G(z) = E[(Z - z)+], as printed in OM textbook
    # appendices (e.g. Silver, Pyke & Thomas, 4th ed., 2017); checked here to its rounding.
    assert normal_loss(z) == pytest.approx(tabled, abs=5e-5)


def test_normal_loss_closed_forms() -> None:
    # G(0) = phi(0) = 1/sqrt(2 pi); G(z) - G(-z) = -z; G(1) = phi(1) - (1 - Phi(1)).
    assert normal_loss(0.0) == pytest.approx(0.3989422804014327, abs=1e-15)
    assert normal_loss(0.0) == pytest.approx(1 / math.sqrt(2 * math.pi), abs=1e-15)
    phi1 = math.exp(-0.5) / math.sqrt(2 * math.pi)
    assert normal_loss(1.0) == pytest.approx(phi1 - 0.5 * math.erfc(1 / math.sqrt(2)), abs=1e-15)
    z = np.linspace(-6, 6, 49)
    np.testing.assert_allclose(normal_loss(z) - normal_loss(-z), -z, atol=1e-12)


def test_poisson_base_stock_hand_computed() -> None:
    # Discrete newsvendor rule (Snyder & Shen, ch. 4): smallest S with F(S) >= p / (p + h).
    # Poisson(2): F(3) = 19 e^-2 / 3 = 0.857, F(4) = 7 e^-2 = 0.947; ratio 9 / (9 + 1) = 0.9.
    assert 19 / 3 * math.exp(-2) < 0.9 <= 7 * math.exp(-2)
    assert poisson_base_stock(2.0, 1.0, 9.0) == 4.0
    # F(0) = e^-2 = 0.135 already meets a ratio of 0.1; zero mean needs no stock.
    assert poisson_base_stock(2.0, 9.0, 1.0) == 0.0
    assert poisson_base_stock(0.0, 1.0, 99.0) == 0.0


def test_gamma_reorder_point_exponential_closed_form() -> None:
    # Gamma with mean = std is exponential: quantile = -mean * ln(1 - alpha).
    assert gamma_reorder_point(2.0, 0.0, 5.0, 5.0, 0.95) == pytest.approx(
        -10 * math.log(0.05), abs=1e-9
    )
    assert gamma_reorder_point(5.0, 0.0, 4.0) == 20.0  # no spread: the mean


def test_gamma_reorder_point_tiny_spread_is_finite_and_continuous() -> None:
    # Hypothesis found it: sd 7.9e-160 made (mean / sd)^2 overflow to inf and the quantile NaN.
    # Lead-time demand is then all but certain: the quantile is the mean, 1/7.
    assert gamma_reorder_point(1.0, 7.9e-160, 1 / 7) == pytest.approx(1 / 7, rel=1e-15)
    # Either side of the switch to Wilson-Hilferty (shape 1e10) both match scipy's gamma.ppf
    # (computed here with the scale as mean / shape, which does not underflow at these sizes).
    z = stats.norm.ppf(0.95)
    for shape in (1e8, 1e10 * 0.99, 1e10 * 1.01, 1e14):
        cv = shape**-0.5
        got = gamma_reorder_point(100.0, 100.0 * cv, 1.0, 0.0, 0.95)
        assert got == pytest.approx(stats.gamma(a=shape, scale=100.0 / shape).ppf(0.95), rel=1e-13)
        assert got == pytest.approx(100.0 * (1 + z * cv), rel=10 * cv**2)  # normal limit


def test_gamma_reorder_point_rejects_zero_mean_with_spread() -> None:
    with pytest.raises(PolicyError, match=r"demand_mean \* lead_time: value 0\.0 at index 1"):
        gamma_reorder_point([1.0, 0.0], [1.0, 2.0], 3.0)
    with pytest.raises(PolicyError, match=r"value 0\.0 at index 2 .* spread 1\.0"):
        gamma_reorder_point(1.0, 0.0, [1.0, 2.0, 0.0], 1.0)


# --------------------------------------------------------------------------- documented edges


def test_fill_rate_safety_stock_can_be_negative_and_still_meets_target() -> None:
    # With Q = 100,000 the allowed shortage per cycle (2,500) far exceeds sigma_L * G(0) = 282.
    ss = safety_stock(CM_D, CM_SD, CM_L, 0.0, 0.975, "fill_rate", 100_000.0)
    assert ss < 0
    assert fill_rate(CM_D, CM_SD, CM_L, ss, 100_000.0) == pytest.approx(0.975, abs=1e-12)


def test_deterministic_demand_limits() -> None:
    # sigma_DL = 0: cycle ss is 0, fill-rate ss is the limit -(1 - beta) Q, shortage max(-ss, 0).
    assert safety_stock(10.0, 0.0, 3.0, 0.0, 0.99) == 0.0
    ss = safety_stock(10.0, 0.0, 3.0, 0.0, 0.9, "fill_rate", 50.0)
    assert ss == pytest.approx(-5.0, abs=1e-12)
    assert expected_backorders(10.0, 0.0, 3.0, ss) == pytest.approx(5.0, abs=1e-12)
    assert fill_rate(10.0, 0.0, 3.0, ss, 50.0) == pytest.approx(0.9, abs=1e-12)
    assert fill_rate(10.0, 0.0, 3.0, -500.0, 50.0) == 0.0  # clipped, documented


def test_scalar_in_float_out_and_broadcasting() -> None:
    assert type(safety_stock(1.0, 1.0, 1.0)) is float
    assert type(eoq(np.float64(1.0), 1, 1)) is float
    out = safety_stock(np.array([[10.0], [20.0]]), 2.0, np.array([1.0, 4.0, 9.0]))
    assert isinstance(out, np.ndarray)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out[0], stats.norm.ppf(0.95) * 2 * np.sqrt([1, 4, 9]))


# --------------------------------------------------------------------------- empirical method


def test_empirical_reorder_point_hand_cases() -> None:
    assert empirical_reorder_point([5.0] * 10, 3) == 15.0
    alternating = [0.0, 10.0] * 20
    # Consecutive pairs always sum to 10; triples are 10 or 20 with probability 1/2 each.
    assert empirical_reorder_point(alternating, 2, 0.99) == 10.0
    assert empirical_reorder_point(alternating, 3, 0.9) == 20.0
    assert empirical_reorder_point(alternating, 3, 0.3) == 10.0
    # iid pairs: 0 (1/4), 10 (1/2), 20 (1/4); quantiles far from the jumps.
    for level, expected in [(0.9, 20.0), (0.5, 10.0), (0.1, 0.0)]:
        got = empirical_reorder_point(alternating, 2, level, method="iid", n_samples=4000)
        assert got == expected
    assert empirical_reorder_point(alternating, 0, 0.9) == 0.0


def test_empirical_reorder_point_per_item_arrays_and_seed() -> None:
    history = np.array([[5.0] * 8, [0.0, 10.0] * 4, [1.0, 2.0, 3.0, 4.0] * 2])
    out = empirical_reorder_point(history, [2, 3, 8], [0.5, 0.9, 0.5])
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [10.0, 20.0, 20.0])
    rng = np.random.default_rng(7)
    lumpy = rng.poisson(0.2, (50, 30)) * rng.integers(1, 40, (50, 30)).astype(float)
    a = empirical_reorder_point(lumpy, 4, method="iid", seed=3)
    b = empirical_reorder_point(lumpy, 4, method="iid", seed=3)
    np.testing.assert_array_equal(a, b)
    # Every block answer is an actual sum of 4 consecutive periods (loop oracle).
    block = empirical_reorder_point(lumpy, 4)
    for item, value in zip(lumpy, np.asarray(block), strict=True):
        windows = {float(item[t : t + 4].sum()) for t in range(len(item) - 3)}
        assert float(value) in windows


def test_empirical_reorder_point_errors() -> None:
    with pytest.raises(PolicyError, match=r"lead_time: value 2\.5 at index 1 is not a whole"):
        empirical_reorder_point(np.ones((2, 5)), [1, 2.5])
    with pytest.raises(PolicyError, match=r"lead_time: value 6\.0 .*\[0, 5\]"):
        empirical_reorder_point(np.ones(5), 6)
    with pytest.raises(PolicyError, match=r"history: value -1\.0 at index \(1, 0\)"):
        empirical_reorder_point(np.array([[1.0, 1.0], [-1.0, 1.0]]), 1)
    with pytest.raises(PolicyError, match="method: value 'x'"):
        empirical_reorder_point(np.ones(5), 1, method="x")  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="n_samples: value 0"):
        empirical_reorder_point(np.ones(5), 1, n_samples=0)


# --------------------------------------------------------------------------- loop oracle


def _oracle_fill_rate_ss(beta: float, q: float, sigma: float) -> float:
    def loss(z: float) -> float:
        return float(stats.norm.pdf(z) - z * stats.norm.sf(z))

    target = (1 - beta) * q / sigma
    z = optimize.brentq(lambda z: loss(z) - target, -target - 1, 40, xtol=1e-14, rtol=1e-14)
    return float(z) * sigma


def test_vectorised_kernels_match_per_item_scipy_loop() -> None:
    rng = np.random.default_rng(20240501)
    n = 150
    d = rng.gamma(2.0, 20.0, n)
    sd = d * rng.uniform(0.05, 1.5, n)
    lt = rng.uniform(0.5, 12.0, n)
    slt = lt * rng.uniform(0.0, 0.5, n)
    level = rng.uniform(0.5, 0.999, n)
    q = rng.uniform(1.0, 2000.0, n)
    r = rng.uniform(0.0, 4.0, n)
    h, p = rng.uniform(0.1, 5.0, n), rng.uniform(0.1, 50.0, n)

    ss_c = np.asarray(safety_stock(d, sd, lt, slt, level))
    ss_f = np.asarray(safety_stock(d, sd, lt, slt, level, "fill_rate", q))
    rop_f = np.asarray(reorder_point(d, sd, lt, slt, level, "fill_rate", q))
    esc = np.asarray(expected_backorders(d, sd, lt, ss_c, slt))
    fr = np.asarray(fill_rate(d, sd, lt, ss_c, q, slt))
    s_rs = np.asarray(order_up_to(d, sd, lt, r, slt, level))
    g = np.asarray(gamma_reorder_point(d, sd, lt, slt, level))
    base = np.asarray(poisson_base_stock(d, h, p))
    nv = np.asarray(newsvendor(d, sd, h, p))
    for i in range(n):
        sigma = math.sqrt(lt[i] * sd[i] ** 2 + d[i] ** 2 * slt[i] ** 2)
        z = stats.norm.ppf(level[i])
        assert ss_c[i] == pytest.approx(z * sigma, rel=1e-9)
        oracle_f = _oracle_fill_rate_ss(level[i], q[i], sigma)
        assert ss_f[i] == pytest.approx(oracle_f, rel=1e-8, abs=1e-6)
        assert rop_f[i] == pytest.approx(d[i] * lt[i] + oracle_f, rel=1e-8, abs=1e-6)
        loss = stats.norm.expect(lambda x, c=ss_c[i] / sigma: x - c, lb=ss_c[i] / sigma)
        assert esc[i] == pytest.approx(sigma * loss, rel=1e-6)
        assert fr[i] == pytest.approx(max(0.0, 1 - sigma * loss / q[i]), rel=1e-6)
        sigma_rs = math.sqrt((r[i] + lt[i]) * sd[i] ** 2 + d[i] ** 2 * slt[i] ** 2)
        assert s_rs[i] == pytest.approx(d[i] * (r[i] + lt[i]) + z * sigma_rs, rel=1e-9)
        m = d[i] * lt[i]
        gamma = stats.gamma(a=(m / sigma) ** 2, scale=sigma**2 / m)
        assert g[i] == pytest.approx(gamma.ppf(level[i]), rel=1e-8)
        ratio = p[i] / (p[i] + h[i])
        s = 0
        while stats.poisson.cdf(s, d[i]) < ratio:
            s += 1
        assert base[i] == s
        assert nv[i] == pytest.approx(d[i] + sd[i] * stats.norm.ppf(ratio), rel=1e-9)


# --------------------------------------------------------------------------- invariants

levels = st.floats(0.5, 0.999)
betas = st.floats(0.5, 0.9999)
pos = st.floats(0.01, 1e4)
nonneg = st.floats(0.0, 1e3)


@settings(max_examples=150, deadline=None)
@given(d=pos, sd=pos, lt=pos, slt=nonneg, a1=levels, a2=levels, f=st.floats(1.0, 3.0))
def test_cycle_safety_stock_monotone(
    d: float, sd: float, lt: float, slt: float, a1: float, a2: float, f: float
) -> None:
    lo, hi = sorted((a1, a2))
    base = float(safety_stock(d, sd, lt, slt, lo))
    tol = 1e-9 * (1 + abs(base))
    assert safety_stock(d, sd, lt, slt, hi) >= base - tol
    assert safety_stock(d, sd * f, lt, slt, lo) >= base - tol
    assert safety_stock(d, sd, lt * f, slt, lo) >= base - tol
    assert safety_stock(d, sd, lt, slt * f + 0.1, lo) >= base - tol


@settings(max_examples=150, deadline=None)
@given(d=pos, sd=pos, lt=pos, slt=nonneg, b1=betas, b2=betas, q=pos, f=st.floats(1.0, 3.0))
def test_fill_rate_safety_stock_invariants(
    d: float, sd: float, lt: float, slt: float, b1: float, b2: float, q: float, f: float
) -> None:
    lo, hi = sorted((b1, b2))
    kw: dict[str, Any] = {"service_type": "fill_rate"}
    base = safety_stock(d, sd, lt, slt, lo, order_quantity=q, **kw)
    assert isinstance(base, float)
    tol = 1e-9 * (1 + abs(base))
    assert safety_stock(d, sd, lt, slt, hi, order_quantity=q, **kw) >= base - tol
    assert safety_stock(d, sd * f, lt, slt, lo, order_quantity=q, **kw) >= base - tol
    assert safety_stock(d, sd, lt * f, slt, lo, order_quantity=q, **kw) >= base - tol
    assert safety_stock(d, sd, lt, slt * f + 0.1, lo, order_quantity=q, **kw) >= base - tol
    assert safety_stock(d, sd, lt, slt, lo, order_quantity=q * f, **kw) <= base + tol
    assert fill_rate(d, sd, lt, base, q, slt) >= lo - 1e-9


@settings(max_examples=150, deadline=None)
@given(mean=st.floats(0.0, 500.0), h=pos, p=pos)
def test_poisson_base_stock_is_smallest_meeting_ratio(mean: float, h: float, p: float) -> None:
    s = float(poisson_base_stock(mean, h, p))
    ratio = p / (p + h)
    assert s == int(s)
    assert stats.poisson.cdf(s, mean) >= ratio
    assert s == 0 or stats.poisson.cdf(s - 1, mean) < ratio


@settings(max_examples=100, deadline=None)
@given(z=st.floats(-30.0, 30.0))
def test_normal_loss_bounds(z: float) -> None:
    g = normal_loss(z)
    assert g >= max(0.0, -z) - 1e-12
    assert g <= max(0.0, -z) + 0.3989422804014327 + 1e-12


# --------------------------------------------------------------------------- error messages


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda: safety_stock([1.0, 2.0, 3.0], [1.0, 1.0, -2.0], 1.0),
            r"demand_std: value -2\.0 at index 2 is outside the allowed range; allowed range"
            r" \[0, inf\)",
        ),
        (
            lambda: safety_stock(1.0, 1.0, 1.0, service_level=1.0),
            r"service_level: value 1\.0 is outside the allowed range; allowed range \(0, 1\)",
        ),
        (
            lambda: safety_stock(1.0, 1.0, [2.0, -1.0]),
            r"lead_time: value -1\.0 at index 1 .* \[0, inf\)",
        ),
        (
            lambda: reorder_point([1.0, math.nan], 1.0, 1.0),
            r"demand_mean: value nan at index 1 is not a finite number; allowed range \[0, inf\)",
        ),
        (
            lambda: safety_stock(1.0, 1.0, 1.0, service_type="fill_rate"),
            r"order_quantity: value None is missing.*\(0, inf\)",
        ),
        (
            lambda: safety_stock(1.0, 1.0, 1.0, service_type="fill_rate", order_quantity=[5, 0]),
            r"order_quantity: value 0\.0 at index 1 .* \(0, inf\)",
        ),
        (
            lambda: safety_stock(1.0, 1.0, 1.0, service_type="alpha"),  # type: ignore[arg-type]
            r"service_type: value 'alpha' is unknown; allowed 'cycle' or 'fill_rate'",
        ),
        (
            lambda: eoq(100.0, [5.0, 0.0], 1.0),
            r"order_cost: value 0\.0 at index 1 .* \(0, inf\)",
        ),
        (lambda: eoq(100.0, 5.0, -1.0), r"holding_cost: value -1\.0 .* \(0, inf\)"),
        (lambda: newsvendor(10.0, 2.0, 1.0, 0.0), r"shortage_cost: value 0\.0 .* \(0, inf\)"),
        (lambda: poisson_base_stock(-1.0, 1.0, 1.0), r"mean: value -1\.0 .* \[0, inf\)"),
        (
            lambda: order_up_to(1.0, 1.0, 1.0, [1.0, -7.0]),
            r"review_period: value -7\.0 at index 1 .* \[0, inf\)",
        ),
        (
            lambda: fill_rate(1.0, 1.0, 1.0, math.inf, 5.0),
            r"safety_stock: value inf is not a finite number; allowed range \(-inf, inf\)",
        ),
        (lambda: normal_loss("abc"), r"z: value 'abc' is not numeric"),
        (
            lambda: safety_stock([1.0, 2.0], [1.0, 2.0, 3.0], 1.0),
            r"do not broadcast.*demand_mean \(2,\), demand_std \(3,\)",
        ),
    ],
)
def test_error_messages_name_argument_value_index_and_range(call: Any, pattern: str) -> None:
    with pytest.raises(PolicyError, match=pattern):
        call()


def test_error_index_is_first_offender_in_large_array() -> None:
    levels_ = np.full(1_000_000, 0.95)
    levels_[[123_456, 700_000]] = [1.2, -0.1]
    with pytest.raises(PolicyError, match=re.escape("value 1.2 at index 123456")):
        safety_stock(1.0, 1.0, 1.0, service_level=levels_)
