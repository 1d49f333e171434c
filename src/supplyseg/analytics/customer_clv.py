"""The CLV columns of `customer_metrics`: fit, predict, and say plainly when not to trust them.

Per customer, from purchase days up to as_of (time in ``clv.time_unit``): x = purchase days - 1,
t_x = last minus first purchase day, T = as_of minus first purchase day, and the mean gross value
of the repeat purchase days. The purchase-count model (``clv.model``: MBG/NBD by default, or
BG/NBD) gives ``p_alive`` and ``expected_purchases_12m``; Gamma-Gamma the ``expected_avg_value``;
``clv_12m`` is their discounted product times ``clv.margin``. ``clv_basis`` is ``"revenue"`` when
margin = 1 (the value is expected revenue, not profit) and ``"margin"`` otherwise.

A value that cannot be trusted is NaN (unknown), never 0, and a **warning** says why:

- the count model did not converge, or a parameter ran to its bound (>= 1e4, BTYDplus' bound,
  or the optimiser's box): every prediction of the fit is unknown;
- a prediction is not a finite number (e.g. overflow on extreme parameters): that customer's;
- Gamma-Gamma did not converge or has q <= 1 (infinite mean spend): every clv_12m is unknown.

Customers with repeat purchases worth 0 in total have no Gamma-Gamma spend: their
expected_avg_value and clv_12m are unknown (a note counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from supplyseg.analytics._btyd import PurchaseCountFit
from supplyseg.analytics.clv import (
    TIME_UNIT_DAYS,
    GammaGammaFit,
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
)
from supplyseg.analytics.mbgnbd import fit_mbgnbd
from supplyseg.config.customer import ClvSettings
from supplyseg.errors import DataContractError

__all__ = ["CLV_COLUMNS", "ClvColumns", "clv_basis", "clv_columns"]

CLV_COLUMNS: tuple[str, ...] = (
    "clv_12m",
    "clv_basis",
    "p_alive",
    "expected_purchases_12m",
    "expected_avg_value",
)
_NUMERIC = ("clv_12m", "p_alive", "expected_purchases_12m", "expected_avg_value")
_NAMES = {"mbgnbd": "MBG/NBD", "bgnbd": "BG/NBD"}


@dataclass
class ClvColumns:
    """The CLV columns (index of the input frame), the fitted models, notes and warnings."""

    table: pd.DataFrame
    purchase_fit: PurchaseCountFit | None = None
    spend_fit: GammaGammaFit | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def clv_basis(settings: ClvSettings) -> str:
    """``"revenue"`` when clv.margin is 1 (CLV counts revenue), else ``"margin"``."""
    return "revenue" if settings.margin == 1.0 else "margin"


def _unknown(out: pd.DataFrame, columns: tuple[str, ...], where: np.ndarray | None = None) -> None:
    for c in columns:
        if where is None:
            out[c] = np.nan
        else:
            out.loc[where, c] = np.nan


def clv_columns(df: pd.DataFrame, settings: ClvSettings) -> ClvColumns:
    """CLV columns for the per-customer frame of `customer_metrics`.

    ``df`` has, per customer, ``occasions`` (purchase days), ``occasion_span_days``,
    ``age_days``, ``total_value`` and ``first_value`` (gross value of all / the first purchase
    day). See the module docstring for what is computed and when values are unknown.
    """
    n = len(df)
    basis = clv_basis(settings)
    out = pd.DataFrame({c: np.full(n, np.nan) for c in _NUMERIC}, index=df.index)
    out.insert(1, "clv_basis", pd.Series(basis, index=df.index, dtype="string"))
    res = ClvColumns(out)
    if not settings.enabled:
        res.notes.append("clv: disabled (clv.enabled = false)")
        return res
    if n < settings.min_customers:
        res.notes.append(
            f"clv: skipped, {n} customer(s) < clv.min_customers = {settings.min_customers}"
        )
        return res
    name = _NAMES[settings.model]
    unit = TIME_UNIT_DAYS[settings.time_unit]
    x = df["occasions"].to_numpy(np.float64) - 1.0
    tx = df["occasion_span_days"].to_numpy(np.float64) / unit
    big_t = df["age_days"].to_numpy(np.float64) / unit
    repeat_total = df["total_value"].to_numpy(np.float64) - df["first_value"].to_numpy(np.float64)
    m = np.where(x > 0, repeat_total / np.maximum(x, 1.0), 0.0)
    fit_counts = fit_mbgnbd if settings.model == "mbgnbd" else fit_bgnbd
    try:
        fit: PurchaseCountFit = fit_counts(x, tx, big_t)
    except DataContractError as exc:
        res.notes.append(f"clv: skipped, the {name} fit is impossible on this data ({exc})")
        return res
    res.purchase_fit = fit
    shown = (
        f"{name} r={fit.r:.4g}, alpha={fit.alpha:.4g} ({settings.time_unit}), a={fit.a:.4g},"
        f" b={fit.b:.4g}, log-likelihood {fit.log_likelihood:.2f} on {n} customers"
    )
    if problems := fit.problems():
        res.warnings.append(
            f"clv: the {name} fit cannot be trusted: {'; '.join(problems)} [{shown}];"
            " clv_12m, p_alive and expected purchases are unknown (NaN). Fix: check the order"
            " dates and customer ids, or try clv.model: "
            + ("bgnbd" if settings.model == "mbgnbd" else "mbgnbd")
        )
        return res
    res.notes.append(f"clv: {shown}")
    year = 12 * TIME_UNIT_DAYS["M"] / unit
    out["p_alive"] = fit.p_alive(x, tx, big_t)
    out["expected_purchases_12m"] = fit.expected_purchases(year, x, tx, big_t)
    bad = ~np.isfinite(out["p_alive"].to_numpy()) | ~np.isfinite(
        out["expected_purchases_12m"].to_numpy()
    )
    if bad.any():
        res.warnings.append(
            f"clv: the {name} predictions are not finite numbers for {int(bad.sum())} of {n}"
            " customer(s) (extreme parameters); their p_alive, expected purchases and clv_12m"
            " are unknown (NaN)"
        )
        _unknown(out, ("p_alive", "expected_purchases_12m"), bad)
    _spend(res, x, tx, big_t, m, settings, bad)
    return res


def _spend(
    res: ClvColumns,
    x: np.ndarray,
    tx: np.ndarray,
    big_t: np.ndarray,
    m: np.ndarray,
    settings: ClvSettings,
    bad: np.ndarray,
) -> None:
    """Gamma-Gamma spend and the discounted CLV into ``res`` (in place)."""
    out = res.table
    spenders = (x > 0) & (m > 0)
    if int(spenders.sum()) < settings.min_repeat_customers:
        res.notes.append(
            f"clv: Gamma-Gamma skipped, {int(spenders.sum())} repeat customer(s) with positive"
            f" spend < clv.min_repeat_customers = {settings.min_repeat_customers}; clv_12m is"
            " unknown"
        )
        return
    gg = fit_gamma_gamma(x[spenders], m[spenders])
    res.spend_fit = gg
    if gg.q <= 1.0 or not gg.converged:
        res.warnings.append(
            f"clv: the Gamma-Gamma spend fit is unusable (q = {gg.q:.4g} must be > 1,"
            f" converged = {gg.converged}): spend is too heavy-tailed for the model;"
            " clv_12m and expected_avg_value are unknown (NaN)"
        )
        return
    corr = float(np.corrcoef(x[spenders], m[spenders])[0, 1]) if spenders.sum() > 2 else 0.0
    if abs(corr) > 0.3:
        res.notes.append(
            f"clv: Gamma-Gamma assumes spend independent of frequency; their correlation among"
            f" repeat customers is {corr:.2f}, so expected_avg_value may be biased"
        )
    res.notes.append(f"clv: Gamma-Gamma p={gg.p:.4g}, q={gg.q:.4g}, v={gg.v:.4g}")
    # Repeat buyers whose repeat days are worth nothing have no spend the model can use.
    no_spend = (x > 0) & (m <= 0)
    if no_spend.any():
        res.notes.append(
            f"clv: {int(no_spend.sum())} customer(s) with repeat purchases worth 0 in total:"
            " expected_avg_value and clv_12m unknown"
        )
    ok = ~no_spend & ~bad
    xs, ms = np.where(no_spend, 0.0, x), np.where(no_spend, 0.0, m)
    value = gg.conditional_expected_average_value(xs, ms)
    out["expected_avg_value"] = np.where(no_spend, np.nan, value)
    if res.purchase_fit is None:
        return
    clv = np.full(x.shape[0], np.nan)
    clv[ok] = customer_lifetime_value(
        res.purchase_fit,
        gg,
        x[ok],
        tx[ok],
        big_t[ok],
        m[ok],
        months=12,
        time_unit=settings.time_unit,
        annual_discount_rate=settings.annual_discount_rate,
        step=settings.discount_step,
        margin=settings.margin,
    )
    lost = ok & ~np.isfinite(clv)
    if lost.any():
        res.warnings.append(
            f"clv: clv_12m is not a finite number for {int(lost.sum())} customer(s); unknown (NaN)"
        )
        clv[lost] = np.nan
    out["clv_12m"] = clv
    if settings.margin == 1.0:
        res.notes.append("clv: clv_12m is expected revenue (clv.margin = 1), not profit")
