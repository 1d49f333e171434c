"""BG/NBD and Gamma-Gamma against published fits, numerical integration and simulation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.optimize import check_grad
from scipy.special import hyp2f1

from supplyseg.analytics.clv import (
    BGNBDFit,
    GammaGammaFit,
    _bgnbd_negll,
    _gg_negll,
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    rfm_summary,
    simulate_bgnbd,
)
from supplyseg.errors import ConfigError, DataContractError

CDNOW = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cdnow"
# Fader, Hardie & Lee (2005), Marketing Science 24(2), BG/NBD on the CDNOW 1/10th sample.
CDNOW_BGNBD = BGNBDFit(
    r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.43, converged=True, n_customers=0
)


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    path = CDNOW / "cdnow_sample.parquet"
    if not path.exists():
        pytest.skip(f"CDNOW sample not found at {path}")
    tx = pd.read_parquet(path)
    return rfm_summary(
        tx, "customer_id", "date", "dollar_value", calibration_end=date(1997, 9, 30), freq="W"
    )


# --------------------------------------------------------------------------- published fits


def test_cdnow_summary_matches_the_published_data_preparation(cdnow_summary: pd.DataFrame) -> None:
    assert len(cdnow_summary) == 2357
    assert cdnow_summary["frequency"].sum() == 2457  # repeat purchase days in weeks 1..39
    assert (cdnow_summary["frequency"] > 0).sum() == 946
    # Every first purchase is in 1997-01-01..1997-03-25, so T is 27..39 weeks.
    assert cdnow_summary["T"].max() == pytest.approx(272 / 7)
    assert cdnow_summary["T"].min() == pytest.approx(189 / 7)


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary
    fit = fit_bgnbd(s["frequency"], s["recency"], s["T"])
    assert fit.converged
    # Published: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.43.
    assert fit.r == pytest.approx(0.243, abs=5e-4)
    assert fit.alpha == pytest.approx(4.414, abs=5e-3)
    assert fit.a == pytest.approx(0.793, abs=5e-4)
    assert fit.b == pytest.approx(2.426, abs=5e-3)
    assert fit.log_likelihood == pytest.approx(-9582.43, abs=0.01)


def test_gamma_gamma_reproduces_fader_hardie_lee_2005_jmr(cdnow_summary: pd.DataFrame) -> None:
    # Fader, Hardie & Lee (2005) "RFM and CLV: using iso-value curves", J. Marketing Research,
    # and Hardie's note "The Gamma-Gamma model of monetary value" (2013): the 946 repeat
    # customers' average spend per repeat purchase day in weeks 1-39, first purchase excluded,
    # gives p = 6.25, q = 3.74, gamma = 15.44.
    rep = cdnow_summary[cdnow_summary["frequency"] > 0]
    assert len(rep) == 946
    fit = fit_gamma_gamma(rep["frequency"], rep["monetary_value"])
    assert fit.converged
    assert fit.p == pytest.approx(6.25, abs=5e-3)
    assert fit.q == pytest.approx(3.74, abs=5e-3)
    assert fit.v == pytest.approx(15.44, abs=5e-3)


def test_conditional_expectation_matches_the_published_example() -> None:
    # Fader, Hardie & Lee (2005) / Fader & Hardie's Excel note "Implementing the BG/NBD model":
    # a customer with x = 2, t_x = 30.43, T = 38.86 weeks is expected to make 1.226 purchases
    # in the next 39 weeks.
    e = CDNOW_BGNBD.expected_purchases(39, [2], [30.43], [38.86])
    assert e[0] == pytest.approx(1.226, abs=1e-3)


# --------------------------------------------------------------------------- formulas vs quadrature


def _posterior_by_quadrature(
    params: tuple[float, float, float, float], x: int, tx: float, big_t: float, t: float
) -> tuple[float, float]:
    """P(alive) and E[Y(t)] by integrating the model over (lambda, p) numerically.

    With u = lambda (alpha + T), the posterior is prior x likelihood:
    alive: u^(r+x-1) e^(-u) p^(a-1) (1-p)^(b+x-1);
    dropped out after the last purchase: u^(r+x-1) e^(-u c) p^a (1-p)^(b+x-2),
    with c = (alpha + t_x) / (alpha + T).
    An active customer buys (1/p)(1 - exp(-lambda p t)) times in the next t.
    """
    r, alpha, a, b = params
    c = (alpha + tx) / (alpha + big_t)

    def alive(p: float, u: float) -> float:
        return float(u ** (r + x - 1) * np.exp(-u) * p ** (a - 1) * (1 - p) ** (b + x - 1))

    def dead(p: float, u: float) -> float:
        return float(u ** (r + x - 1) * np.exp(-u * c) * p**a * (1 - p) ** (b + x - 2))

    def future(p: float, u: float) -> float:
        return alive(p, u) * float(-np.expm1(-u / (alpha + big_t) * p * t)) / p

    kw = {"epsabs": 0.0, "epsrel": 1e-10}
    a_mass = integrate.dblquad(alive, 0, np.inf, 0, 1, **kw)[0]
    d_mass = integrate.dblquad(dead, 0, np.inf, 0, 1, **kw)[0] if x > 0 else 0.0
    e_future = integrate.dblquad(future, 0, np.inf, 0, 1, **kw)[0]
    total = a_mass + d_mass
    return a_mass / total, e_future / total


@pytest.mark.parametrize(
    ("params", "x", "tx", "big_t", "t"),
    [
        ((0.243, 4.414, 0.793, 2.426), 0, 0.0, 38.86, 39.0),
        ((0.243, 4.414, 0.793, 2.426), 2, 30.43, 38.86, 39.0),
        ((0.243, 4.414, 0.793, 2.426), 5, 10.0, 38.0, 100.0),
        ((0.243, 4.414, 0.793, 2.426), 30, 30.0, 32.0, 52.0),
        ((0.5, 3.0, 1.0, 4.0), 3, 12.0, 20.0, 26.0),  # a = 1: the closed form is 0/0 there
        ((1.5, 10.0, 2.5, 1.5), 1, 0.5, 20.0, 10.0),
    ],
)
def test_p_alive_and_expected_purchases_match_numerical_integration(
    params: tuple[float, float, float, float], x: int, tx: float, big_t: float, t: float
) -> None:
    fit = BGNBDFit(*params, log_likelihood=0.0, converged=True, n_customers=0)
    p_alive, expected = _posterior_by_quadrature(params, x, tx, big_t, t)
    assert fit.p_alive([x], [tx], [big_t])[0] == pytest.approx(p_alive, rel=1e-7)
    assert fit.expected_purchases(t, [x], [tx], [big_t])[0] == pytest.approx(expected, rel=1e-6)


def test_expected_purchases_agrees_with_the_untransformed_hyp2f1_formula() -> None:
    # Fader, Hardie & Lee (2005) eq. 10 as printed, where it does not overflow.
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    x, tx, big_t, t = np.array([0.0, 1, 4, 12]), np.array([0.0, 5, 20, 30]), 38.0, 52.0
    z = t / (alpha + big_t + t)
    num = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    den = 1 + (x > 0) * a / (b + x - 1) * ((alpha + big_t) / (alpha + tx)) ** (r + x)
    printed = (a + b + x - 1) / (a - 1) * num / den
    ours = CDNOW_BGNBD.expected_purchases(t, x, tx, np.full(4, big_t))
    np.testing.assert_allclose(ours, printed, rtol=1e-9)


def test_expected_purchases_is_finite_and_bounded_for_heavy_buyers() -> None:
    # The printed form overflows for large x. Customers who just bought are almost surely alive
    # and cannot beat the posterior mean purchase rate (r + x) / (alpha + T) times t.
    x = np.array([200.0, 1000.0, 5000.0])
    e = CDNOW_BGNBD.expected_purchases(52, x, np.full(3, 38.86), np.full(3, 38.86))
    bound = (CDNOW_BGNBD.r + x) / (CDNOW_BGNBD.alpha + 38.86) * 52
    assert np.all(np.isfinite(e))
    assert np.all((e > 0.5 * bound) & (e <= bound))


def test_expected_purchases_is_continuous_across_a_equal_one() -> None:
    vals = [
        BGNBDFit(0.5, 3.0, a, 4.0, 0.0, True, 0).expected_purchases(26, [3], [12], [20])[0]
        for a in (1 - 2e-4, 1 - 5e-5, 1.0, 1 + 5e-5, 1 + 2e-4)
    ]
    assert np.all(np.abs(np.diff(vals)) < 1e-4 * vals[2])


# --------------------------------------------------------------------------- simulation


def test_population_expectation_matches_monte_carlo() -> None:
    # E[X(t)] of new customers vs the mean repeat count of 200k simulated ones.
    sim = simulate_bgnbd(0.243, 4.414, 0.793, 2.426, np.full(200_000, 52.0), seed=7)
    se = sim["frequency"].std() / np.sqrt(len(sim))
    expected = CDNOW_BGNBD.expected_purchases_new([52.0])[0]
    assert abs(sim["frequency"].mean() - expected) < 4 * se


def test_conditional_predictions_are_calibrated_on_simulated_customers() -> None:
    # Known parameters: the mean P(alive) is the share really alive at T, and the mean
    # conditional expectation is the mean number of holdout purchases.
    rng = np.random.default_rng(11)
    big_t = rng.uniform(20, 60, size=100_000)
    fit = BGNBDFit(0.8, 6.0, 1.3, 3.0, 0.0, True, 0)
    sim = simulate_bgnbd(fit.r, fit.alpha, fit.a, fit.b, big_t, holdout=30.0, seed=rng)
    pa = fit.p_alive(sim["frequency"], sim["recency"], sim["T"])
    alive = sim["alive"].to_numpy(float)
    assert abs(pa.mean() - alive.mean()) < 4 * alive.std() / np.sqrt(len(sim))
    e = fit.expected_purchases(30.0, sim["frequency"], sim["recency"], sim["T"])
    h = sim["holdout_purchases"].to_numpy()
    assert abs(e.mean() - h.mean()) < 4 * h.std() / np.sqrt(len(sim))
    repeaters = sim["frequency"].to_numpy() >= 3  # also within a sub-group
    sub = h[repeaters]
    assert abs(e[repeaters].mean() - sub.mean()) < 4 * sub.std() / np.sqrt(sub.size)


def test_bgnbd_mle_recovers_simulated_parameters() -> None:
    truth = (0.8, 6.0, 1.3, 3.0)
    big_t = np.random.default_rng(3).uniform(30, 80, size=30_000)
    sim = simulate_bgnbd(*truth, big_t, seed=4)
    fit = fit_bgnbd(sim["frequency"], sim["recency"], sim["T"])
    assert fit.converged
    # Tolerances are ~4 standard deviations of the estimates at this sample size (relative SDs
    # 0.8 %, 1.4 %, 3.2 %, 4.3 % measured over 20 seeds).
    for got, want, tol in zip(fit.params, truth, (0.035, 0.06, 0.13, 0.18), strict=True):
        assert got == pytest.approx(want, rel=tol)
    # The truth fits no better than the optimum.
    truth_nll, _ = _bgnbd_negll(
        np.log(truth), *(sim[c].to_numpy() for c in ("frequency", "recency", "T")), np.ones(30_000)
    )
    assert -truth_nll <= fit.log_likelihood + 1e-6


def test_gamma_gamma_mle_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(5)
    p, q, v, n = 6.0, 4.0, 15.0, 20_000
    x = rng.integers(1, 12, size=n).astype(float)
    nu = rng.gamma(q, 1 / v, size=n)  # per-customer scale: spend z ~ Gamma(p, rate nu)
    mean_spend = rng.gamma(p * x, 1 / nu) / x  # the mean of x such spends
    fit = fit_gamma_gamma(x, mean_spend)
    assert fit.converged
    # ~4 standard deviations (relative SDs over 30 seeds: p 6 %, q 1.4 %, v 7 %); p and v trade
    # off, their identified combination, the mean spend p v / (q - 1), has a relative SD of 0.5 %.
    for got, want, tol in zip((fit.p, fit.q, fit.v), (p, q, v), (0.24, 0.06, 0.28), strict=True):
        assert got == pytest.approx(want, rel=tol)
    assert fit.p * fit.v / (fit.q - 1) == pytest.approx(p * v / (q - 1), rel=0.02)


def test_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(1)
    sim = simulate_bgnbd(0.5, 2.0, 0.9, 2.0, rng.uniform(1, 3, 300), seed=rng)
    cols = [sim[c].to_numpy() for c in ("frequency", "recency", "T")]
    w = rng.integers(1, 4, 300).astype(float)
    for logp in (np.log([0.5, 2.0, 0.9, 2.0]), np.log([2.0, 0.3, 3.0, 0.6])):
        err = check_grad(
            lambda lp: _bgnbd_negll(lp, *cols, w)[0], lambda lp: _bgnbd_negll(lp, *cols, w)[1], logp
        )
        assert err < 1e-4 * np.linalg.norm(_bgnbd_negll(logp, *cols, w)[1]) + 1e-5
    x = rng.integers(1, 9, 200).astype(float)
    m = rng.gamma(3, 2, 200)
    for logp in (np.log([6.0, 3.0, 1.5]), np.log([0.5, 8.0, 20.0])):
        err = check_grad(
            lambda lp: _gg_negll(lp, x, m, np.ones(200))[0],
            lambda lp: _gg_negll(lp, x, m, np.ones(200))[1],
            logp,
        )
        assert err < 1e-4 * np.linalg.norm(_gg_negll(logp, x, m, np.ones(200))[1]) + 1e-5


@settings(max_examples=40, deadline=None)
@given(
    x=st.integers(0, 50),
    frac=st.floats(0, 1),
    big_t=st.floats(0.5, 200),
    t1=st.floats(0, 100),
    dt=st.floats(0.01, 100),
)
def test_expected_purchases_is_increasing_in_horizon_and_p_alive_in_unit_interval(
    x: int, frac: float, big_t: float, t1: float, dt: float
) -> None:
    tx = frac * big_t if x > 0 else 0.0
    e1 = CDNOW_BGNBD.expected_purchases(t1, [x], [tx], [big_t])[0]
    e2 = CDNOW_BGNBD.expected_purchases(t1 + dt, [x], [tx], [big_t])[0]
    assert 0 <= e1 <= e2
    assert 0 <= CDNOW_BGNBD.p_alive([x], [tx], [big_t])[0] <= 1


# --------------------------------------------------------------------------- CLV


def test_clv_without_discount_is_value_times_expected_purchases() -> None:
    gg = GammaGammaFit(p=6.25, q=3.74, v=15.44, log_likelihood=0, converged=True, n_customers=0)
    x, tx, big_t, m = [0, 2, 7], [0, 30.43, 35.86], [38.86] * 3, [0, 22.3, 40.0]
    clv = customer_lifetime_value(CDNOW_BGNBD, gg, x, tx, big_t, m, annual_discount_rate=0.0)
    year = 365.25 / 7
    want = gg.conditional_expected_average_value(x, m) * CDNOW_BGNBD.expected_purchases(
        year, x, tx, big_t
    )
    np.testing.assert_allclose(clv, want, rtol=1e-12)
    # Discounting lowers it; the step length changes it little (weekly steps discount each
    # purchase ~ 1/2 month - 1/2 week less: ~0.3 % at 10 %/year); margin scales it.
    disc = customer_lifetime_value(CDNOW_BGNBD, gg, x, tx, big_t, m, annual_discount_rate=0.1)
    weekly = customer_lifetime_value(
        CDNOW_BGNBD, gg, x, tx, big_t, m, annual_discount_rate=0.1, step="week"
    )
    assert np.all(disc < clv)
    assert np.all(disc > clv / 1.1)
    np.testing.assert_allclose(weekly, disc, rtol=5e-3)
    assert np.all(weekly > disc)
    half = customer_lifetime_value(CDNOW_BGNBD, gg, x, tx, big_t, m, margin=0.5)
    np.testing.assert_allclose(half, disc / 2, rtol=1e-12)


def test_gamma_gamma_expected_value_by_hand() -> None:
    gg = GammaGammaFit(p=6.0, q=4.0, v=15.0, log_likelihood=0, converged=True, n_customers=0)
    # p (v + x m) / (p x + q - 1): x = 0 -> 6*15/3 = 30; x = 2, m = 40 -> 6*95/15 = 38.
    np.testing.assert_allclose(gg.conditional_expected_average_value([0, 2], [0, 40]), [30, 38])
    with pytest.raises(ConfigError, match=r"q = 0\.9"):
        GammaGammaFit(1, 0.9, 1, 0, True, 0).conditional_expected_average_value([1], [1])


# --------------------------------------------------------------------------- data preparation


def test_rfm_summary_by_hand() -> None:
    tx = pd.DataFrame(
        {
            "cust": ["a", "a", "a", "a", "b", "c", "c"],
            "when": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:00",  # same day: one occasion, values summed
                    "2024-01-15 00:00",
                    "2024-01-29 00:00",
                    "2024-01-08 00:00",
                    "2024-01-10 00:00",
                    "2024-02-20 00:00",  # after the calibration end: ignored
                ]
            ),
            "value": [10.0, 5.0, 20.0, 40.0, 7.0, 3.0, 99.0],
        }
    )
    s = rfm_summary(tx, "cust", "when", "value", calibration_end=date(2024, 1, 29), freq="W")
    assert list(s["cust"]) == ["a", "b", "c"]
    np.testing.assert_allclose(s["frequency"], [2, 0, 0])
    np.testing.assert_allclose(s["recency"], [4, 0, 0])  # 28 days
    np.testing.assert_allclose(s["T"], [4, 3, 19 / 7])
    np.testing.assert_allclose(s["monetary_value"], [30, 0, 0])  # first day (15) excluded
    # Days as the unit, weekly occasions: 2024-01-01 (Mon) and -15, -29 are three weeks.
    d = rfm_summary(
        ibis.memtable(tx), "cust", "when", calibration_end="2024-01-29", freq="D", occasion="W"
    )
    np.testing.assert_allclose(d["frequency"], [2, 0, 0])
    np.testing.assert_allclose(d["T"], [28, 21, 21])  # c's week starts on Monday 2024-01-08
    assert "monetary_value" not in d.columns


# --------------------------------------------------------------------------- validation


def test_invalid_inputs_name_parameter_value_and_index() -> None:
    with pytest.raises(DataContractError, match=r"frequency\[1\] = -1.0"):
        fit_bgnbd([1, -1], [1, 1], [2, 2])
    with pytest.raises(DataContractError, match=r"recency\[0\] = 3.0: must lie in \[0, T\]"):
        CDNOW_BGNBD.p_alive([1], [3], [2])
    with pytest.raises(DataContractError, match=r"recency\[0\].*must be 0 when frequency is 0"):
        CDNOW_BGNBD.p_alive([0], [1], [2])
    with pytest.raises(DataContractError, match=r"T\[0\] = nan"):
        CDNOW_BGNBD.p_alive([0], [0], [np.nan])
    with pytest.raises(DataContractError, match=r"monetary_value\[0\] = 0.0: must be > 0"):
        fit_gamma_gamma([1, 2], [0, 3])
    with pytest.raises(ConfigError, match="t = -1"):
        CDNOW_BGNBD.expected_purchases(-1, [0], [0], [1])
    with pytest.raises(ConfigError, match="freq = 'Y'"):
        rfm_summary(pd.DataFrame({"c": [1], "d": [pd.Timestamp(0)]}), "c", "d", freq="Y")  # type: ignore[arg-type]
    with pytest.raises(DataContractError, match="column 'nope'"):
        rfm_summary(pd.DataFrame({"c": [1], "d": [pd.Timestamp(0)]}), "c", "nope")
