"""MBG/NBD against the published CDNOW fit, numerical integration, the printed formulas and
simulation; one-time buyers' P(alive) falls with silence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.optimize import check_grad
from scipy.special import hyp2f1

from supplyseg.analytics.clv import fit_bgnbd, rfm_summary
from supplyseg.analytics.mbgnbd import MBGNBDFit, _mbgnbd_negll, fit_mbgnbd, simulate_mbgnbd
from supplyseg.errors import ConfigError, DataContractError

CDNOW = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cdnow"
# BTYDplus mbgnbd.EstimateParameters on the CDNOW 1/10th sample, weeks 1-39 (quoted by the
# lifetimes test suite, ModifiedBetaGeoFitter.test_params_out_is_close_to_BTYDplus).
CDNOW_MBGNBD = MBGNBDFit(0.525, 6.183, 0.891, 1.614, 0.0, True, 0)


def fit_of(r: float, alpha: float, a: float, b: float) -> MBGNBDFit:
    return MBGNBDFit(r, alpha, a, b, log_likelihood=0.0, converged=True, n_customers=0)


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    path = CDNOW / "cdnow_sample.parquet"
    if not path.exists():
        pytest.skip(f"CDNOW sample not found at {path}")
    tx = pd.read_parquet(path)
    return rfm_summary(tx, "customer_id", "date", calibration_end=date(1997, 9, 30), freq="W")


def test_mbgnbd_reproduces_the_btydplus_cdnow_fit(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary
    fit = fit_mbgnbd(s["frequency"], s["recency"], s["T"])
    assert fit.converged
    assert not fit.problems()
    np.testing.assert_allclose(fit.params, CDNOW_MBGNBD.params, atol=1.5e-3)
    # Both models describe CDNOW about equally well (BG/NBD: -9582.43).
    bg = fit_bgnbd(s["frequency"], s["recency"], s["T"])
    assert abs(fit.log_likelihood - bg.log_likelihood) < 1.0


# --------------------------------------------------------------------------- formulas vs quadrature


def _likelihood_by_quadrature(
    params: tuple[float, float, float, float], x: int, tx: float, big_t: float
) -> float:
    """The individual likelihood integrated over lambda ~ Gamma(r, alpha), p ~ Beta(a, b).

    Individual level (Batislam et al. 2007): still active at T after x repeat purchases,
    (1-p)^(x+1) lambda^x e^(-lambda T); dropped out right after the x-th (or after the first
    purchase when x = 0), p (1-p)^x lambda^x e^(-lambda t_x). Each term is a product of a
    lambda and a p integral, each done by adaptive quadrature.
    """
    r, alpha, a, b = params
    lam, beta = stats.gamma(r, scale=1 / alpha), stats.beta(a, b)

    def quad(f: Callable[[float], float], hi: float) -> float:
        return float(integrate.quad(f, 0, hi, epsabs=0.0, epsrel=1e-11, limit=200)[0])

    def rate_term(until: float) -> float:
        return quad(lambda v: v**x * np.exp(-v * until) * lam.pdf(v), np.inf)

    active = quad(lambda p: (1 - p) ** (x + 1) * beta.pdf(p), 1) * rate_term(big_t)
    dropped = quad(lambda p: p * (1 - p) ** x * beta.pdf(p), 1) * rate_term(tx)
    return active + dropped


def _posterior_by_quadrature(
    params: tuple[float, float, float, float], x: int, tx: float, big_t: float, t: float
) -> tuple[float, float]:
    """P(alive) and E[Y(t)] by integrating over (lambda, p): with u = lambda (alpha + T),
    alive: u^(r+x-1) e^(-u) p^(a-1) (1-p)^(b+x); dropped: u^(r+x-1) e^(-u c) p^a (1-p)^(b+x-1),
    c = (alpha + t_x) / (alpha + T). An active customer buys (1/p)(1 - exp(-lambda p t)) times
    in the next t."""
    r, alpha, a, b = params
    c = (alpha + tx) / (alpha + big_t)

    def alive(p: float, u: float) -> float:
        return float(u ** (r + x - 1) * np.exp(-u) * p ** (a - 1) * (1 - p) ** (b + x))

    def dead(p: float, u: float) -> float:
        return float(u ** (r + x - 1) * np.exp(-u * c) * p**a * (1 - p) ** (b + x - 1))

    def future(p: float, u: float) -> float:
        return alive(p, u) * float(-np.expm1(-u / (alpha + big_t) * p * t)) / p

    kw = {"epsabs": 0.0, "epsrel": 1e-10}
    a_mass = integrate.dblquad(alive, 0, np.inf, 0, 1, **kw)[0]
    d_mass = integrate.dblquad(dead, 0, np.inf, 0, 1, **kw)[0]
    e_future = integrate.dblquad(future, 0, np.inf, 0, 1, **kw)[0]
    return a_mass / (a_mass + d_mass), e_future / (a_mass + d_mass)


CASES = [
    ((0.525, 6.183, 0.891, 1.614), 0, 0.0, 38.86, 39.0),
    ((0.525, 6.183, 0.891, 1.614), 2, 30.43, 38.86, 39.0),
    ((0.525, 6.183, 0.891, 1.614), 5, 10.0, 38.0, 100.0),
    ((0.5, 3.0, 1.0, 4.0), 3, 12.0, 20.0, 26.0),  # a = 1: the closed form is 0/0 there
    ((1.5, 10.0, 2.5, 1.5), 0, 0.0, 20.0, 10.0),
    ((1.5, 10.0, 2.5, 1.5), 1, 0.5, 20.0, 10.0),
]


@pytest.mark.parametrize(("params", "x", "tx", "big_t", "t"), CASES)
def test_likelihood_matches_numerical_integration(
    params: tuple[float, float, float, float], x: int, tx: float, big_t: float, t: float
) -> None:
    nll, _ = _mbgnbd_negll(
        np.log(params), np.array([float(x)]), np.array([tx]), np.array([big_t]), np.ones(1)
    )
    assert np.exp(-nll) == pytest.approx(_likelihood_by_quadrature(params, x, tx, big_t), rel=1e-6)


@pytest.mark.parametrize(("params", "x", "tx", "big_t", "t"), CASES)
def test_p_alive_and_expected_purchases_match_numerical_integration(
    params: tuple[float, float, float, float], x: int, tx: float, big_t: float, t: float
) -> None:
    fit = fit_of(*params)
    p_alive, expected = _posterior_by_quadrature(params, x, tx, big_t, t)
    assert fit.p_alive([x], [tx], [big_t])[0] == pytest.approx(p_alive, rel=1e-7)
    assert fit.expected_purchases(t, [x], [tx], [big_t])[0] == pytest.approx(expected, rel=1e-6)


def test_expected_purchases_agree_with_the_printed_formulas() -> None:
    # Batislam, Denizel & Filiztekin (2007): conditional expectation as printed (untransformed
    # hyp2f1) and the population one, E[X(t)] = b/(a-1) [1 - (alpha/(alpha+t))^r
    # 2F1(r, b+1; a+b; t/(alpha+t))].
    r, alpha, a, b = CDNOW_MBGNBD.params
    x, tx, big_t, t = np.array([0.0, 1, 4, 12]), np.array([0.0, 5, 20, 30]), 38.0, 52.0
    z = t / (alpha + big_t + t)
    num = 1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp2f1(
        r + x, b + x + 1, a + b + x, z
    )
    den = 1 + a / (b + x) * ((alpha + big_t) / (alpha + tx)) ** (r + x)
    printed = (a + b + x) / (a - 1) * num / den
    ours = CDNOW_MBGNBD.expected_purchases(t, x, tx, np.full(4, big_t))
    np.testing.assert_allclose(ours, printed, rtol=1e-9)
    ts = np.array([1.0, 13.0, 52.0, 78.0])
    z_t = ts / (alpha + ts)
    pop = b / (a - 1) * (1 - (alpha / (alpha + ts)) ** r * hyp2f1(r, b + 1, a + b, z_t))
    np.testing.assert_allclose(CDNOW_MBGNBD.expected_purchases_new(ts), pop, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    r=st.floats(0.05, 5.0),
    alpha=st.floats(0.5, 50.0),
    a=st.floats(0.05, 5.0),
    b=st.floats(0.05, 10.0),
    t1=st.floats(0.0, 100.0),
    dt=st.floats(0.01, 100.0),
)
def test_one_time_buyers_p_alive_falls_with_silence(
    r: float, alpha: float, a: float, b: float, t1: float, dt: float
) -> None:
    fit = fit_of(r, alpha, a, b)
    before, after = fit.p_alive([0, 0], [0, 0], [t1, t1 + dt])
    assert 0 < after < before <= 1
    # Closed form for x = 0: 1 / (1 + a/b ((alpha + T)/alpha)^r).
    want = 1 / (1 + a / b * ((alpha + t1 + dt) / alpha) ** r)
    assert after == pytest.approx(want, rel=1e-9)


# --------------------------------------------------------------------------- simulation


def test_conditional_predictions_are_calibrated_on_simulated_customers() -> None:
    rng = np.random.default_rng(12)
    fit = fit_of(0.8, 6.0, 1.3, 3.0)
    sim = simulate_mbgnbd(fit.r, fit.alpha, fit.a, fit.b, rng.uniform(20, 60, 100_000),
                          holdout=30.0, seed=rng)  # fmt: skip
    pa = fit.p_alive(sim["frequency"], sim["recency"], sim["T"])
    alive = sim["alive"].to_numpy(float)
    assert abs(pa.mean() - alive.mean()) < 4 * alive.std() / np.sqrt(len(sim))
    once = sim["frequency"].to_numpy() == 0  # the one-time buyers, where MBG/NBD differs
    assert abs(pa[once].mean() - alive[once].mean()) < 4 * alive[once].std() / np.sqrt(once.sum())
    e = fit.expected_purchases(30.0, sim["frequency"], sim["recency"], sim["T"])
    h = sim["holdout_purchases"].to_numpy()
    assert abs(e.mean() - h.mean()) < 4 * h.std() / np.sqrt(len(sim))


def test_population_expectation_matches_monte_carlo() -> None:
    sim = simulate_mbgnbd(*CDNOW_MBGNBD.params, np.full(200_000, 52.0), seed=8)
    se = sim["frequency"].std() / np.sqrt(len(sim))
    assert abs(sim["frequency"].mean() - CDNOW_MBGNBD.expected_purchases_new([52.0])[0]) < 4 * se


def test_mle_recovers_simulated_parameters() -> None:
    truth = (0.8, 6.0, 1.3, 3.0)
    sim = simulate_mbgnbd(*truth, np.random.default_rng(3).uniform(30, 80, 30_000), seed=4)
    fit = fit_mbgnbd(sim["frequency"], sim["recency"], sim["T"])
    assert fit.converged
    assert not fit.problems()
    # ~4 standard deviations at this sample size (as for BG/NBD in test_clv.py).
    for got, want, tol in zip(fit.params, truth, (0.05, 0.08, 0.15, 0.2), strict=True):
        assert got == pytest.approx(want, rel=tol)
    cols = [sim[c].to_numpy() for c in ("frequency", "recency", "T")]
    truth_nll, _ = _mbgnbd_negll(np.log(truth), *cols, np.ones(30_000))
    assert -truth_nll <= fit.log_likelihood + 1e-6


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    sim = simulate_mbgnbd(0.5, 2.0, 0.9, 2.0, rng.uniform(1, 3, 300), seed=rng)
    cols = [sim[c].to_numpy() for c in ("frequency", "recency", "T")]
    w = rng.integers(1, 4, 300).astype(float)
    for logp in (np.log([0.5, 2.0, 0.9, 2.0]), np.log([2.0, 0.3, 3.0, 0.6])):
        err = check_grad(
            lambda lp: _mbgnbd_negll(lp, *cols, w)[0],
            lambda lp: _mbgnbd_negll(lp, *cols, w)[1],
            logp,
        )
        assert err < 1e-4 * np.linalg.norm(_mbgnbd_negll(logp, *cols, w)[1]) + 1e-5


def test_a_fit_without_dropout_signal_is_flagged() -> None:
    # Everyone buys at the same steady pace and nobody stops: no heterogeneity to estimate, so
    # parameters run off to their bounds, and `problems` says so.
    n = 200
    big_t = np.full(n, 52.0)
    x = np.full(n, 51.0)
    fit = fit_mbgnbd(x, big_t, big_t)
    assert fit.at_bound
    assert any("bounds" in p for p in fit.problems())


def test_invalid_inputs_and_parameters() -> None:
    with pytest.raises(DataContractError, match="needs 2"):
        fit_mbgnbd([1], [1], [2])
    with pytest.raises(DataContractError, match=r"recency\[0\]"):
        fit_mbgnbd([0, 1], [1, 1], [2, 2])
    with pytest.raises(ConfigError, match="a = -1"):
        simulate_mbgnbd(1, 1, -1, 1, [1.0])
