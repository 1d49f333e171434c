"""Shared kernels of the BG/NBD and MBG/NBD purchase-count models ("buy till you die").

Both models share the purchase process (Poisson with rate lambda ~ Gamma(r, alpha) while
active) and the dropout mechanism (after a purchase a customer drops out with probability
p ~ Beta(a, b)); they differ only in *which* purchases may be followed by a dropout:

- BG/NBD (Fader, Hardie & Lee 2005, Marketing Science 24(2)): repeat purchases only, so a
  customer with no repeat purchase is certainly alive (P(alive) = 1 however long silent);
- MBG/NBD (Batislam, Denizel & Filiztekin 2007, IJRM 24(3)): the first purchase too, so a
  one-time buyer may have dropped out right after it and P(alive) falls with silence.

Per customer the likelihood is L = exp(A) (exp(t1) + [x > 0 or MBG] exp(t2)) with
A = ln G(r+x) - ln G(r) + r ln alpha - ln B(a, b), t1 = ln B(a, b+x+s) - (r+x) ln(alpha+T),
t2 = ln B(a+1, b+x+s-1) - (r+x) ln(alpha+t_x), where s = 0 for BG/NBD and s = 1 for MBG/NBD:
the MBG/NBD formulas are the BG/NBD ones with b+1 for b inside the per-customer terms and the
dropout term kept at x = 0. The same substitution gives its P(alive) and conditional
expectation (Batislam et al. 2007, eqs. 5-6). Log-likelihoods are vectorised over customers and
written with log-space special functions; parameters are optimised in log space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from supplyseg.errors import ConfigError, DataContractError

__all__ = ["PARAMETER_BOUND", "PurchaseCountFit"]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

PARAMETER_BOUND = 1e4
"""A fitted parameter at or above this value marks a degenerate fit (the likelihood keeps rising
towards a limit of the model, e.g. no heterogeneity); the upper bound BTYDplus places on its
BG/NBD and MBG/NBD estimates (``max.param.value = 10000``)."""

_LOG_BOUND = 20.0  # the optimiser's box in log space: exp(+-20)


# --------------------------------------------------------------------------- validation helpers


def vector(name: str, values: ArrayLike, *, n: int | None = None) -> FloatArray:
    """``values`` as a finite 1-d float array (of length ``n`` when given)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise DataContractError(f"{name}: expected a 1-d array, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise DataContractError(f"{name}: length {arr.shape[0]} differs from frequency's {n}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise DataContractError(f"{name}[{i}] = {float(arr[i])!r}: values must be finite numbers")
    return arr


def check(name: str, arr: FloatArray, ok: npt.NDArray[np.bool_], allowed: str) -> None:
    """Raise `DataContractError` naming the first value of ``arr`` where ``ok`` is False."""
    bad = np.flatnonzero(~ok)
    if bad.size:
        i = int(bad[0])
        raise DataContractError(
            f"{name}[{i}] = {float(arr[i])!r}: {allowed} ({bad.size} offending value(s))"
        )


def customers(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated (x, t_x, T) arrays."""
    x = vector("frequency", frequency)
    tx = vector("recency", recency, n=x.shape[0])
    big_t = vector("T", T, n=x.shape[0])
    check("frequency", x, (x >= 0) & (x == np.floor(x)), "must be a whole number >= 0")
    check("T", big_t, big_t >= 0, "must be >= 0")
    check("recency", tx, (tx >= 0) & (tx <= big_t), "must lie in [0, T]")
    check("recency", tx, (x > 0) | (tx == 0), "must be 0 when frequency is 0")
    return x, tx, big_t


def horizon(t: float) -> float:
    """A validated prediction horizon."""
    if not np.isfinite(t) or t < 0:
        raise ConfigError(f"t = {t!r}: the prediction horizon must be a finite number >= 0")
    return float(t)


# --------------------------------------------------------------------------- likelihood


def count_objective(
    x: FloatArray, tx: FloatArray, big_t: FloatArray, w: FloatArray, *, modified: bool
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Weighted (M)BG/NBD negative log-likelihood and gradient in the log-parameters.

    See the module docstring for the formula. The special functions depend on x only, so they
    are evaluated once per distinct x and gathered; per customer only logs and exps remain
    (fast for a million customers).
    """
    s = 1.0 if modified else 0.0
    ux, xi = np.unique(x, return_inverse=True)
    n_x = np.bincount(xi, weights=w, minlength=ux.size)
    # Customers with a dropout term; uxm keeps betaln's argument positive where it is masked.
    has_t2 = np.ones(ux.size, dtype=bool) if modified else ux > 0
    uxm = np.maximum(ux + s, 1.0)
    total = float(w.sum())

    def fun(logp: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(logp)
        r, alpha, a, b = params
        b2 = np.where(has_t2, betaln(a + 1.0, b + uxm - 1.0), -np.inf)
        rx = r + x
        log_at = np.log(alpha + big_t)
        log_atx = np.log(alpha + tx)
        t1 = betaln(a, b + ux + s)[xi] - rx * log_at
        t2 = b2[xi] - rx * log_atx
        lse = np.logaddexp(t1, t2)
        ll = (
            n_x @ gammaln(r + ux)
            + total * (r * np.log(alpha) - gammaln(r) - betaln(a, b))
            + w @ lse
        )
        w1 = w * np.exp(t1 - lse)  # posterior weight of "alive at T" per customer
        w2 = w * np.exp(t2 - lse)
        w1_x = np.bincount(xi, weights=w1, minlength=ux.size)
        w2_x = np.bincount(xi, weights=w2, minlength=ux.size)
        psi_abx = digamma(a + b + ux + s)
        g_r = (
            n_x @ digamma(r + ux)
            + total * (np.log(alpha) - digamma(r))
            - w1 @ log_at
            - w2 @ log_atx
        )
        g_alpha = total * r / alpha - (w1 * rx) @ (1.0 / (alpha + big_t))
        g_alpha -= (w2 * rx) @ (1.0 / (alpha + tx))
        g_a = -total * (digamma(a) - digamma(a + b)) + w1_x @ (digamma(a) - psi_abx)
        g_a += w2_x @ (digamma(a + 1.0) - psi_abx)
        g_b = -total * (digamma(b) - digamma(a + b)) + w1_x @ (digamma(b + ux + s) - psi_abx)
        g_b += w2_x @ (digamma(b + uxm - 1.0) - psi_abx)
        grad = np.array([g_r, g_alpha, g_a, g_b]) * params
        return -float(ll), -grad

    return fun


# --------------------------------------------------------------------------- predictions


def log_alive_odds(
    params: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray, *, modified: bool
) -> FloatArray:
    """log of P(dropped out) / P(alive) given (x, t_x, T).

    BG/NBD: a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x) for x > 0, -inf at x = 0 (alive for sure);
    MBG/NBD: a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x) for every x.
    """
    r, alpha, a, b = params
    s = 1.0 if modified else 0.0
    xm = np.maximum(x + s, 1.0)
    odds = np.log(a) - np.log(b + xm - 1.0) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
    return odds if modified else np.where(x > 0, odds, -np.inf)


def expected_purchases_at(
    params: FloatArray,
    ts: Sequence[float],
    x: FloatArray,
    tx: FloatArray,
    big_t: FloatArray,
    *,
    modified: bool,
) -> list[FloatArray]:
    """E[Y(t) | x, t_x, T] for each horizon t in ``ts``.

    BG/NBD: Fader, Hardie & Lee (2005), eq. 10; MBG/NBD: the same with b+1 for b and the
    MBG/NBD P(alive) (Batislam et al. 2007). Written overflow-safe: Euler's transformation
    2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns
    ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b'+x; a+b'+x-1; z) into
    (1-z)^(a-1) * 2F1(a+b'-1-r, a-1; a+b'+x-1; z), whose parameters stay small for large x.
    """
    r, alpha, a, b = params
    if abs(a - 1.0) < 1e-4:
        # The formula is 0/0 at a = 1 but smooth through it: interpolate linearly between
        # a = 1 -+ 2e-4, where cancellation still leaves ~12 correct digits.
        h = 2e-4
        lo, hi = params.copy(), params.copy()
        lo[2], hi[2] = 1.0 - h, 1.0 + h
        w = float((a - (1.0 - h)) / (2.0 * h))
        below = expected_purchases_at(lo, ts, x, tx, big_t, modified=modified)
        above = expected_purchases_at(hi, ts, x, tx, big_t, modified=modified)
        return [(1.0 - w) * lo_t + w * hi_t for lo_t, hi_t in zip(below, above, strict=True)]
    b1 = b + (1.0 if modified else 0.0)
    alive = expit(-log_alive_odds(params, x, tx, big_t, modified=modified))
    factor = (a + b1 + x - 1.0) / (a - 1.0) * alive
    # hyp2f1 is the costly part and depends on (x, T) only: evaluate it per distinct pair.
    pairs, inverse = np.unique(x + 1j * big_t, return_inverse=True)
    ux, ut = pairs.real, pairs.imag
    c = a + b1 + ux - 1.0
    out: list[FloatArray] = []
    for t in ts:
        z = t / (alpha + ut + t)
        tail = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(a + b1 - 1.0 - r, a - 1.0, c, z)
        out.append(factor * (1.0 - tail[inverse]))
    return out


@dataclass(frozen=True)
class PurchaseCountFit:
    """A fitted purchase-count model: rate lambda ~ Gamma(r, alpha), dropout p ~ Beta(a, b).

    ``alpha`` is in the time unit of the data it was fitted on. ``log_likelihood`` is the
    maximised sum over customers in that unit. ``at_bound`` names the parameters that ran to
    the optimiser's limits or beyond `PARAMETER_BOUND` (a degenerate fit, see `problems`).
    """

    MODEL: ClassVar[str] = ""
    MODIFIED: ClassVar[bool] = False

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool
    n_customers: int
    message: str = ""
    at_bound: tuple[str, ...] = ()

    @property
    def params(self) -> FloatArray:
        """(r, alpha, a, b) as an array."""
        return np.array([self.r, self.alpha, self.a, self.b])

    def expected_purchases(
        self,
        t: float,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> FloatArray:
        """Expected repeat purchases in the next ``t`` time units for customers (x, t_x, T)."""
        x, tx, big_t = customers(frequency, recency, T)
        return self.expected_purchases_at([horizon(t)], x, tx, big_t)[0]

    def expected_purchases_at(
        self, ts: Sequence[float], x: FloatArray, tx: FloatArray, big_t: FloatArray
    ) -> list[FloatArray]:
        """E[Y(t) | x, t_x, T] for several horizons on validated arrays (one P(alive) pass)."""
        return expected_purchases_at(self.params, ts, x, tx, big_t, modified=self.MODIFIED)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected repeat purchases in (0, t] of a customer who has just made a first."""
        ts = vector("t", t)
        check("t", ts, ts >= 0, "must be >= 0")
        zero = np.zeros(1)
        at = self.expected_purchases_at([float(s) for s in ts], zero, zero, zero)
        return np.array([e[0] for e in at])

    def p_alive(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> FloatArray:
        """P(customer still active at T | x, t_x, T)."""
        x, tx, big_t = customers(frequency, recency, T)
        odds = log_alive_odds(self.params, x, tx, big_t, modified=self.MODIFIED)
        out: FloatArray = expit(-odds)
        return out

    def problems(self) -> list[str]:
        """Why the fit cannot be trusted (empty when it can): non-convergence, bounds."""
        out = []
        if not self.converged:
            out.append(f"the fit did not converge ({self.message})")
        if self.at_bound:
            shown = ", ".join(f"{k} = {getattr(self, k):.4g}" for k in self.at_bound)
            out.append(f"parameter(s) at their bounds ({shown}): a degenerate fit")
        return out


def minimise(
    fun: Callable[[FloatArray], tuple[float, FloatArray]], start: FloatArray
) -> tuple[FloatArray, float, bool, str]:
    """L-BFGS-B with the analytic gradient; Nelder-Mead polishes if it stops short."""
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * start.shape[0]  # far outside any sensible value
    res = minimize(fun, start, jac=True, method="L-BFGS-B", bounds=bounds)
    if res.success:
        return np.asarray(res.x), float(res.fun), True, str(res.message)
    nm = minimize(
        lambda p: fun(p)[0],
        res.x,
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 4000},
    )
    better = nm.fun <= res.fun
    best = np.asarray(nm.x if better else res.x)
    return best, float(min(nm.fun, res.fun)), bool(nm.success), f"{res.message}; {nm.message}"


def fit_counts(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    *,
    modified: bool,
) -> dict[str, object]:
    """Maximum-likelihood (M)BG/NBD parameters as keyword arguments of a `PurchaseCountFit`.

    Time is rescaled internally so the mean T is 1 (a well-conditioned alpha); the returned
    alpha and log-likelihood are in the input's time unit.
    """
    name = "MBG/NBD" if modified else "BG/NBD"
    x, tx, big_t = customers(frequency, recency, T)
    if x.shape[0] < 2:
        raise DataContractError(f"frequency: {x.shape[0]} customer(s); the {name} fit needs 2")
    if not np.any(big_t > 0):
        raise DataContractError(f"T: all values are 0; the {name} fit needs observed time")
    scale = 1.0 / float(np.mean(big_t))
    # Start from a unit-scale prior whose mean rate matches the observed repeat rate.
    rate = max(float(np.sum(x) / np.sum(big_t * scale)), 1e-3)
    start = np.log(np.array([1.0, 1.0 / rate, 1.0, 1.0]))
    fun = count_objective(x, tx * scale, big_t * scale, np.ones_like(x), modified=modified)
    best, nll, ok, msg = minimise(fun, start)
    r, alpha_s, a, b = np.exp(best)
    # alpha^r / (alpha + T)^(r + x) picks up scale^(-x) under t -> scale * t: undo it.
    ll = -nll + float(np.sum(x)) * np.log(scale)
    values = {"r": float(r), "alpha": float(alpha_s / scale), "a": float(a), "b": float(b)}
    edge = np.abs(best) >= _LOG_BOUND - 1e-3
    at_bound = tuple(
        k
        for i, k in enumerate(values)
        if edge[i] or (k != "alpha" and values[k] >= PARAMETER_BOUND)
    )
    return values | {
        "log_likelihood": float(ll),
        "converged": ok,
        "n_customers": int(x.shape[0]),
        "message": msg,
        "at_bound": at_bound,
    }


# --------------------------------------------------------------------------- simulation


def simulate_counts(
    params: tuple[float, float, float, float],
    T: ArrayLike,  # noqa: N803
    *,
    holdout: float,
    seed: int | np.random.Generator | None,
    modified: bool,
) -> pd.DataFrame:
    """Simulated (M)BG/NBD customers: frequency, recency, T, alive, holdout_purchases."""
    for name, val in zip(("r", "alpha", "a", "b"), params, strict=True):
        if not np.isfinite(val) or val <= 0:
            raise ConfigError(f"{name} = {val!r}: model parameters must be > 0")
    r, alpha, a, b = params
    big_t = vector("T", T)
    check("T", big_t, big_t > 0, "must be > 0")
    if not np.isfinite(holdout) or holdout < 0:
        raise ConfigError(f"holdout = {holdout!r}: must be >= 0")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = big_t.shape[0]
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    # The repeat purchase after which the customer drops out; MBG/NBD also allows "after the
    # first purchase", i.e. 0 repeat purchases.
    lives = rng.geometric(p) - (1 if modified else 0)
    arrivals = rng.poisson(lam * big_t)  # Poisson arrivals in (0, T] had the customer lived
    x = np.minimum(lives, arrivals)
    alive = lives > arrivals
    # The x-th of `arrivals` uniform arrival times on (0, T] is T * Beta(x, arrivals - x + 1).
    safe_x = np.maximum(x, 1)
    tx = np.where(x > 0, big_t * rng.beta(safe_x, np.maximum(arrivals - safe_x + 1, 1)), 0.0)
    future = rng.poisson(lam * holdout)
    holdout_purchases = np.where(alive, np.minimum(lives - x, future), 0)
    return pd.DataFrame(
        {
            "frequency": x.astype(np.float64),
            "recency": tx,
            "T": big_t,
            "alive": alive,
            "holdout_purchases": holdout_purchases.astype(np.float64),
        }
    )
