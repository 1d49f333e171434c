"""Customer lifetime value: BG/NBD purchase counts and Gamma-Gamma spend, fitted by ML.

The models are those of Fader, Hardie & Lee (2005), "Counting your customers the easy way: an
alternative to the Pareto/NBD model", Marketing Science 24(2) (BG/NBD), and Fader, Hardie & Lee
(2005), "RFM and CLV: using iso-value curves for customer base analysis", Journal of Marketing
Research 42(4) (Gamma-Gamma). Log-likelihoods are vectorised over customers and written with
log-space special functions; parameters are optimised in log space so they stay positive.
No dependency on the archived ``lifetimes`` package.

Inputs per customer (Fader-Hardie notation): ``frequency`` x = number of repeat purchase occasions
(distinct purchase periods - 1), ``recency`` t_x = time of the last purchase measured from the
first, ``T`` = time from the first purchase to the end of the calibration period, all in one time
unit (weeks by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import digamma, gammaln

from supplyseg.analytics._btyd import (
    PurchaseCountFit,
    check,
    count_objective,
    customers,
    fit_counts,
    minimise,
    simulate_counts,
    vector,
)
from supplyseg.errors import ConfigError, DataContractError

__all__ = [
    "TIME_UNIT_DAYS",
    "BGNBDFit",
    "GammaGammaFit",
    "customer_lifetime_value",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "purchase_occasions",
    "rfm_summary",
    "simulate_bgnbd",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

TIME_UNIT_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}
"""Length in days of the time units ``rfm_summary`` and the CLV horizon understand."""

_DAYS_PER_YEAR = 365.25


# --------------------------------------------------------------------------- BG/NBD


@dataclass(frozen=True)
class BGNBDFit(PurchaseCountFit):
    """A fitted BG/NBD model (Fader, Hardie & Lee 2005); see `PurchaseCountFit`.

    A customer without repeat purchases has P(alive) = 1 however long silent (the model lets
    customers drop out only after a repeat purchase); `supplyseg.analytics.mbgnbd` does not.
    """

    MODEL: ClassVar[str] = "bgnbd"
    MODIFIED: ClassVar[bool] = False


def _bgnbd_negll(
    logp: FloatArray, x: FloatArray, tx: FloatArray, big_t: FloatArray, w: FloatArray
) -> tuple[float, FloatArray]:
    """Weighted negative log-likelihood and its gradient with respect to the log-parameters."""
    return count_objective(x, tx, big_t, w, modified=False)(logp)


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
) -> BGNBDFit:
    """Fit the BG/NBD model by maximum likelihood (Fader, Hardie & Lee 2005).

    Parameters are optimised as logs (always positive) with L-BFGS-B and the analytic gradient.
    Time is rescaled internally so the mean T is 1 (a well-conditioned alpha); the returned
    alpha and log-likelihood are in the input's time unit.
    """
    return BGNBDFit(**fit_counts(frequency, recency, T, modified=False))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Gamma-Gamma


def _gg_objective(
    x: FloatArray, m: FloatArray, w: FloatArray
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Weighted Gamma-Gamma negative log-likelihood and gradient in the log-parameters.

    Per customer (Fader, Hardie & Lee 2005, JMR; Fader & Hardie 2013 note, eq. 3):
    ln L = ln G(px+q) - ln G(px) - ln G(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(v+xm).
    Gamma functions are evaluated per distinct x; sums over customers are precomputed.
    """
    ux, xi = np.unique(x, return_inverse=True)
    n_x = np.bincount(xi, weights=w, minlength=ux.size)
    total = float(w.sum())
    wx = w * x
    log_m = np.log(m)
    s_xlm = float(wx @ log_m)  # sum of w x ln m
    s_lm = float(w @ log_m)
    s_xlx = float(n_x @ (ux * np.log(ux)))  # sum of w x ln x

    def fun(logp: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = np.exp(logp)
        pu = p * ux
        inv = 1.0 / (v + x * m)
        log_vxm = -np.log(inv)
        s_xl = float(wx @ log_vxm)
        s_l = float(w @ log_vxm)
        psi = digamma(pu + q)
        ll = (
            n_x @ (gammaln(pu + q) - gammaln(pu))
            + total * (q * np.log(v) - gammaln(q))
            + p * (s_xlm + s_xlx - s_xl)
            - s_lm
            - q * s_l
        )
        g_p = n_x @ (ux * (psi - digamma(pu))) + s_xlm + s_xlx - s_xl
        g_q = n_x @ psi + total * (np.log(v) - digamma(q)) - s_l
        g_v = total * q / v - p * float(wx @ inv) - q * float(w @ inv)
        grad = np.array([g_p, g_q, g_v]) * np.array([p, q, v])
        return -float(ll), -grad

    return fun


def _gg_negll(
    logp: FloatArray, x: FloatArray, m: FloatArray, w: FloatArray
) -> tuple[float, FloatArray]:
    """Weighted Gamma-Gamma negative log-likelihood and gradient in the log-parameters."""
    return _gg_objective(x, m, w)(logp)


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma spend model: per-transaction spend ~ Gamma(p, nu), nu ~ Gamma(q, v).

    ``v`` (gamma in Fader-Hardie) is in currency units. The mean spend is p v / (q - 1), finite
    only for q > 1.
    """

    p: float
    q: float
    v: float
    log_likelihood: float
    converged: bool
    n_customers: int
    message: str = ""

    def conditional_expected_average_value(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray:
        """E[M | x, m_x] = p (v + x m_x) / (p x + q - 1); the population mean for x = 0."""
        if self.q <= 1.0:
            raise ConfigError(
                f"q = {self.q!r}: the expected spend is infinite for q <= 1; the Gamma-Gamma"
                " model does not fit this data (too few repeat customers or heavy-tailed spend)"
            )
        x = vector("frequency", frequency)
        m = vector("monetary_value", monetary_value, n=x.shape[0])
        check("frequency", x, (x >= 0) & (x == np.floor(x)), "must be a whole number >= 0")
        check("monetary_value", m, (m > 0) | (x == 0), "must be > 0 when frequency > 0")
        m = np.where(x > 0, m, 0.0)
        out: FloatArray = self.p * (self.v + x * m) / (self.p * x + self.q - 1.0)
        return out


def fit_gamma_gamma(frequency: ArrayLike, monetary_value: ArrayLike) -> GammaGammaFit:
    """Fit the Gamma-Gamma spend model by maximum likelihood (Fader, Hardie & Lee 2005, JMR).

    Pass repeat customers only: ``frequency`` >= 1 repeat transactions and ``monetary_value`` > 0,
    their average spend per repeat transaction. Spend is rescaled internally to mean 1.
    """
    x = vector("frequency", frequency)
    m = vector("monetary_value", monetary_value, n=x.shape[0])
    check("frequency", x, (x >= 1) & (x == np.floor(x)), "must be a whole number >= 1")
    check("monetary_value", m, m > 0, "must be > 0")
    if x.shape[0] < 2:
        raise DataContractError(
            f"frequency: {x.shape[0]} repeat customer(s); the Gamma-Gamma fit needs at least 2"
        )
    scale = float(np.mean(m))
    fun = _gg_objective(x, m / scale, np.ones_like(x))
    best, nll, ok, msg = minimise(fun, np.zeros(3))
    p, q, v = np.exp(best)
    # Each spend density picks up 1/scale under m -> m / scale: undo it.
    ll = -nll - x.shape[0] * np.log(scale)
    return GammaGammaFit(
        p=float(p),
        q=float(q),
        v=float(v * scale),
        log_likelihood=float(ll),
        converged=ok,
        n_customers=int(x.shape[0]),
        message=msg,
    )


# --------------------------------------------------------------------------- CLV


def customer_lifetime_value(
    purchase_model: PurchaseCountFit,
    gamma_gamma: GammaGammaFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    monetary_value: ArrayLike,
    *,
    months: int = 12,
    time_unit: Literal["D", "W", "M"] = "W",
    annual_discount_rate: float = 0.10,
    step: Literal["month", "week"] = "month",
    margin: float = 1.0,
) -> FloatArray:
    """Discounted value of each customer's expected purchases over the next ``months`` months.

    The horizon is cut into equal steps (``months`` steps of a month, or
    round(months * 52 / 12) steps of about a week); the expected purchases falling in step k,
    E[Y(t_k)] - E[Y(t_(k-1))], times the Gamma-Gamma expected spend times ``margin`` are
    discounted by (1 + annual_discount_rate)^(-t_k in years) and summed.
    ``purchase_model`` is a fitted BG/NBD or MBG/NBD model (`supplyseg.analytics.mbgnbd`) and
    ``time_unit`` the unit it was fitted in. With ``margin`` = 1 the value is revenue.
    """
    if time_unit not in TIME_UNIT_DAYS:
        raise ConfigError(f"time_unit = {time_unit!r}: allowed {sorted(TIME_UNIT_DAYS)}")
    if step not in ("month", "week"):
        raise ConfigError(f"step = {step!r}: allowed 'month', 'week'")
    if not isinstance(months, int) or months < 1:
        raise ConfigError(f"months = {months!r}: must be a whole number >= 1")
    if not np.isfinite(annual_discount_rate) or not 0 <= annual_discount_rate < 10:
        raise ConfigError(
            f"annual_discount_rate = {annual_discount_rate!r}: must be in [0, 10), e.g. 0.1"
        )
    if not np.isfinite(margin) or margin < 0:
        raise ConfigError(f"margin = {margin!r}: must be a number >= 0 (1 = revenue)")
    x, tx, big_t = customers(frequency, recency, T)
    value = gamma_gamma.conditional_expected_average_value(x, monetary_value)
    n_steps = months if step == "month" else round(months * 52 / 12)
    horizon_days = months * _DAYS_PER_YEAR / 12.0
    unit = TIME_UNIT_DAYS[time_unit]
    days = [horizon_days * k / n_steps for k in range(1, n_steps + 1)]
    cumulative = purchase_model.expected_purchases_at([d / unit for d in days], x, tx, big_t)
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for d, now in zip(days, cumulative, strict=True):
        total += (now - previous) / (1.0 + annual_discount_rate) ** (d / _DAYS_PER_YEAR)
        previous = now
    out: FloatArray = margin * value * total
    return out


# --------------------------------------------------------------------------- data preparation


def _day(col: ir.Value) -> ir.DateValue:
    out: ir.DateValue = col.date() if col.type().is_timestamp() else col
    return out


def _validated_table(transactions: pd.DataFrame | ir.Table, *columns: str | None) -> ir.Table:
    t = ibis.memtable(transactions) if isinstance(transactions, pd.DataFrame) else transactions
    for name in columns:
        if name is not None and name not in t.columns:
            raise DataContractError(
                f"column {name!r} is not in the transactions; columns: {list(t.columns)}"
            )
    return t


def purchase_occasions(
    transactions: ir.Table,
    customer_id_col: str,
    datetime_col: str,
    calibration_end: date,
    monetary_value_col: str | None = None,
    occasion: Literal["D", "W", "M"] = "D",
    *,
    gaps: bool = False,
) -> ir.Table:
    """Per-customer purchase-occasion statistics as an (unexecuted) Ibis expression.

    Rows dated after ``calibration_end`` are dropped; a purchase occasion is a distinct day (or
    week / month start for ``occasion`` W / M), its value the sum of its rows. Columns:
    ``customer_id_col``, occasions, recency_days (last minus first occasion), age_days
    (calibration_end minus first occasion), total_value, first_value (value of the first
    occasion) and, with ``gaps``, interpurchase_days_median (median days between consecutive
    occasions; null for a single occasion). Generic Ibis only, so it runs on any backend.
    """
    if occasion not in TIME_UNIT_DAYS:
        raise ConfigError(f"occasion = {occasion!r}: allowed {sorted(TIME_UNIT_DAYS)}")
    t = _validated_table(transactions, customer_id_col, datetime_col, monetary_value_col)
    if not t[datetime_col].type().is_temporal():
        raise DataContractError(
            f"column {datetime_col!r} has type {t[datetime_col].type()}; expected a date or"
            " timestamp"
        )
    day = _day(t[datetime_col])
    t = t.filter(day <= calibration_end)
    day = _day(t[datetime_col])
    occ_day = day if occasion == "D" else day.truncate(occasion)
    value = t[monetary_value_col].cast("float64") if monetary_value_col else ibis.literal(0.0)
    tx = t.select(cid=t[customer_id_col], occ=occ_day, value=value)
    occ = tx.group_by("cid", "occ").agg(value=tx.value.sum())
    aggs: dict[str, ir.Value] = {}
    if gaps:
        prev = occ.occ.lag().over(group_by=occ.cid, order_by=occ.occ)
        occ = occ.mutate(gap=occ.occ.delta(prev, unit="day"))
        aggs["interpurchase_days_median"] = occ.gap.cast("float64").median()
    first = occ.occ.min()
    per = occ.group_by("cid").agg(
        occasions=occ.count(),
        recency_days=occ.occ.max().delta(first, unit="day"),
        age_days=ibis.literal(calibration_end).delta(first, unit="day"),
        total_value=occ.value.sum(),
        first_value=occ.value.argmin(occ.occ),
        **aggs,
    )
    return per.rename({customer_id_col: "cid"}) if customer_id_col != "cid" else per


def rfm_summary(
    transactions: pd.DataFrame | ir.Table,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    calibration_end: date | datetime | str | None = None,
    freq: Literal["D", "W", "M"] = "W",
    occasion: Literal["D", "W", "M"] = "D",
) -> pd.DataFrame:
    """Per-customer (frequency, recency, T, monetary_value) for BG/NBD and Gamma-Gamma.

    Aggregated on the engine (pandas input is wrapped as an Ibis memtable). Transactions after
    ``calibration_end`` (default: the last transaction date) are ignored. A purchase occasion is
    a distinct ``occasion`` period (day by default; several transactions on one day are one
    occasion, their values summed). ``frequency`` = occasions - 1; ``recency`` = last minus first
    occasion and ``T`` = calibration_end minus first occasion, in ``freq`` units with day
    precision (W = 7 days, M = 365.25/12 days); ``monetary_value`` = mean value of the repeat
    occasions, the first one excluded (0 when frequency is 0), as Gamma-Gamma expects.

    Returns one row per customer with columns customer_id_col, frequency, recency, T,
    monetary_value (the last only with ``monetary_value_col``), sorted by customer.
    """
    if freq not in TIME_UNIT_DAYS:
        raise ConfigError(f"freq = {freq!r}: allowed {sorted(TIME_UNIT_DAYS)}")
    t = _validated_table(transactions, customer_id_col, datetime_col, monetary_value_col)
    if calibration_end is None:
        end = pd.Timestamp(_day(t[datetime_col]).max().to_pandas()).date()
    else:
        end = pd.Timestamp(calibration_end).date()
    per = purchase_occasions(t, customer_id_col, datetime_col, end, monetary_value_col, occasion)
    df = per.order_by(customer_id_col).to_pandas()
    unit = TIME_UNIT_DAYS[freq]
    frequency = df["occasions"].to_numpy(np.float64) - 1.0
    repeat_total = df["total_value"].to_numpy(np.float64) - df["first_value"].to_numpy(np.float64)
    out = pd.DataFrame(
        {
            customer_id_col: df[customer_id_col].to_numpy(),
            "frequency": frequency,
            "recency": df["recency_days"].to_numpy(np.float64) / unit,
            "T": df["age_days"].to_numpy(np.float64) / unit,
        }
    )
    if monetary_value_col:
        safe = np.maximum(frequency, 1.0)
        out["monetary_value"] = np.where(frequency > 0, repeat_total / safe, 0.0)
    return out


# --------------------------------------------------------------------------- simulation


def simulate_bgnbd(
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: ArrayLike,  # noqa: N803
    *,
    holdout: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate BG/NBD customers observed for ``T`` time units, and ``holdout`` units after.

    Each customer draws lambda ~ Gamma(r, rate alpha) and p ~ Beta(a, b); repeat purchases arrive
    as a Poisson(lambda) process and after each one the customer drops out with probability p.
    Returns frequency, recency, T, alive (still active at T) and holdout_purchases.
    """
    return simulate_counts((r, alpha, a, b), T, holdout=holdout, seed=seed, modified=False)
