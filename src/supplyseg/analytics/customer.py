"""Customer KPIs, one row per customer: RFM, repeat and churn, OTIF, DSO, channel shares, CLV.

Everything that touches order lines or invoices is an Ibis expression aggregated on the engine
(generic Ibis only, so the same code runs on DuckDB and PySpark); only the per-customer result
comes back to pandas, where the scores, segments and the CLV models are computed.

Definitions (``as_of`` defaults to the last order date; later rows are ignored):

- Purchases are order lines that are not credit notes. ``first_order`` / ``last_order`` are the
  first and last purchase dates; ``recency_days`` = as_of - last_order. ``frequency`` = distinct
  purchase orders and ``monetary`` = net revenue (sum of quantity x unit_price, credit notes
  netting) within ``rfm.window_days`` before as_of (all history by default); ``aov`` =
  monetary / frequency. Customers with credit notes only are not scored (counted in a note).
- RFM scores 1-5 (see `quintile_scores`): score = 1 + floor(5 x n_worse / n), n_worse = number of
  customers with a strictly worse value (larger recency, smaller frequency or monetary). Tied
  customers always share a score, the one of the lowest-ranked member of the tie, so a large
  tie can skip scores (e.g. 60 % single-order customers: f = 1 for them, 4 for the next).
  ``rfm_segment`` is the first rule of ``rfm.segments`` whose score ranges match.
- ``repeat_customer``: purchases on at least two distinct days;
  ``interpurchase_days_median``: median days between consecutive purchase days.
- ``churned``: recency_days > max(churn.window_days, churn.interpurchase_multiple x the
  customer's own median inter-purchase days); ``churn_risk`` = 1 - p_alive when CLV is fitted.
- OTIF per purchase line with quantity > 0 (see `otif_lines`), rolled up per customer as shares
  of the lines due: ``on_time``, ``in_full``, ``otif``; ``lines_due`` is that denominator,
  ``lines_delivered`` the due lines delivered by as_of, ``lines_not_due`` the excluded lines.
- DSO from invoices dated by as_of with amount > 0 (see `dso_by_customer`): ``dso_days``,
  ``days_past_due`` (both amount-weighted means), ``open_amount``; invoices of customers
  without purchases are not reported.
- ``channel_share_<channel>``: share of the customer's gross purchase revenue (or distinct
  orders) per order_lines.channel over all history, the ``channels.max_channels`` largest
  channels by revenue, the rest as ``other``; null channel = ``unknown``.
- CLV (see `supplyseg.analytics.clv`): BG/NBD on purchase days (frequency = days - 1, time in
  ``clv.time_unit``) and Gamma-Gamma on the mean gross value of repeat purchase days, calibrated
  on everything up to as_of; ``expected_purchases_12m``, ``p_alive``, ``expected_avg_value`` and
  ``clv_12m`` (discounted, times ``clv.margin``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from supplyseg.analytics.clv import (
    TIME_UNIT_DAYS,
    BGNBDFit,
    GammaGammaFit,
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    purchase_occasions,
)
from supplyseg.config.customer import (
    ChannelSettings,
    ClvSettings,
    CustomerSettings,
    OtifSettings,
    RfmSegmentRule,
)
from supplyseg.errors import ConfigError, DataContractError

__all__ = [
    "CUSTOMER_METRICS_COLUMNS",
    "CustomerMetricsResult",
    "churned",
    "customer_metrics",
    "dso_by_customer",
    "otif_by_customer",
    "otif_lines",
    "quintile_scores",
    "rfm_segments",
]

CUSTOMER_METRICS_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "first_order",
    "last_order",
    "recency_days",
    "frequency",
    "monetary",
    "aov",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "repeat_customer",
    "interpurchase_days_median",
    "churn_risk",
    "churned",
    "otif",
    "on_time",
    "in_full",
    "lines_delivered",
    "lines_due",
    "lines_not_due",
    "dso_days",
    "days_past_due",
    "open_amount",
    # channel_share_<channel> columns go here
    "clv_12m",
    "p_alive",
    "expected_purchases_12m",
    "expected_avg_value",
)
"""Columns of `customer_metrics` in order; the channel shares sit before ``clv_12m``."""

_REQUIRED_LINES = ("order_id", "customer_id", "order_date", "quantity", "unit_price")
_REQUIRED_INVOICES = ("invoice_id", "customer_id", "invoice_date", "due_date", "amount")
# Strings stay Arrow-backed: converting a million ids to Python objects is slow.
_STRINGS = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}
# Relative slack when comparing delivered with ordered quantities: absorbs float noise only.
_QTY_EPS = 1e-9


@dataclass(frozen=True)
class CustomerMetricsResult:
    """`customer_metrics`' output: the table, notes for the manifest, and the fitted models."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    clv_fit: BGNBDFit | None = None
    spend_fit: GammaGammaFit | None = None
    as_of: date | None = None


# --------------------------------------------------------------------------- scoring (pandas)


def quintile_scores(
    values: npt.ArrayLike, *, higher_is_better: bool = True
) -> npt.NDArray[np.int64]:
    """Scores 1-5 by quintile: 1 + floor(5 x n_worse / n); ties share the lower score.

    ``n_worse`` counts the values strictly worse than the customer's (smaller when
    ``higher_is_better``), so equal values always get equal scores.
    """
    v = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        i = int(bad[0])
        raise DataContractError(f"values[{i}] = {float(v[i])!r}: scores need finite numbers")
    if v.size == 0:
        return np.zeros(0, dtype=np.int64)
    key = v if higher_is_better else -v
    # n_worse = position of the first of equal values in sorted order (one argsort, no
    # binary searches: much faster on a million customers).
    order = np.argsort(key, kind="stable")
    ranked = key[order]
    starts = np.r_[True, ranked[1:] != ranked[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(v.size), 0))
    n_worse = np.empty(v.size, dtype=np.int64)
    n_worse[order] = first
    out: npt.NDArray[np.int64] = 1 + (5 * n_worse) // v.size
    return out


def rfm_segments(
    r: npt.ArrayLike,
    f: npt.ArrayLike,
    m: npt.ArrayLike,
    rules: Sequence[RfmSegmentRule],
    default: str = "Other",
) -> npt.NDArray[np.object_]:
    """Segment name per customer: the first rule whose r, f and m ranges all match, else default."""
    rs, fs, ms = (np.asarray(a, dtype=np.int64) for a in (r, f, m))
    out = np.full(rs.shape, default, dtype=object)
    open_ = np.ones(rs.shape, dtype=bool)
    for rule in rules:
        hit = open_.copy()
        for scores, (lo, hi) in ((rs, rule.r), (fs, rule.f), (ms, rule.m)):
            hit &= (scores >= lo) & (scores <= hi)
        out[hit] = rule.name
        open_ &= ~hit
    return out


def churned(
    recency_days: npt.ArrayLike,
    interpurchase_days_median: npt.ArrayLike,
    *,
    window_days: float,
    interpurchase_multiple: float,
) -> npt.NDArray[np.bool_]:
    """recency > max(window_days, multiple x own median gap); a missing gap uses the window."""
    if window_days <= 0 or interpurchase_multiple <= 0:
        raise ConfigError(
            f"window_days = {window_days!r}, interpurchase_multiple = {interpurchase_multiple!r}:"
            " both must be > 0"
        )
    rec = np.asarray(recency_days, dtype=np.float64)
    gap = np.asarray(interpurchase_days_median, dtype=np.float64)
    limit = np.fmax(window_days, interpurchase_multiple * gap)  # fmax ignores NaN gaps
    out: npt.NDArray[np.bool_] = rec > limit
    return out


# --------------------------------------------------------------------------- engine expressions


def _require(t: ir.Table, table: str, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in t.columns]
    if missing:
        raise DataContractError(
            f"{table}: missing column(s) {missing}; columns present: {list(t.columns)}"
        )


def _is_purchase(lines: ir.Table) -> ir.BooleanValue:
    if "is_credit_note" in lines.columns:
        out: ir.BooleanValue = ~lines.is_credit_note.fill_null(False)
        return out
    return ibis.literal(True)


def _reference_column(settings: OtifSettings) -> str:
    return f"{settings.reference_date}_date"


def _otif_skip_reason(lines: ir.Table, settings: OtifSettings) -> str | None:
    ref = _reference_column(settings)
    missing = [c for c in (ref, settings.delivery_date) if c not in lines.columns]
    if not missing:
        return None
    return (
        f"otif: skipped, order_lines has no {' or '.join(missing)} column"
        f" (otif.reference_date = {settings.reference_date},"
        f" otif.delivery_date = {settings.delivery_date}); map the column(s) to measure OTIF"
    )


def _with_otif_flags(t: ir.Table, settings: OtifSettings, as_of: date) -> ir.Table:
    """Add never-null boolean OTIF flags (_eligible, _has_ref, _not_due, _measured, _delivered,
    _on_time, _in_full) to order lines; lines that are not purchases with quantity > 0 get
    False everywhere. Staged mutates keep each flag computed once in the generated SQL."""
    ref, when = _reference_column(settings), settings.delivery_date
    t = t.mutate(
        _eligible=(_is_purchase(t) & (t.quantity > 0)).fill_null(False),
        _due=t[ref],
        _when=t[when],
        _delivered=(t[when] <= as_of).fill_null(False),
        _got=t.delivered_quantity.fill_null(t.quantity)
        if "delivered_quantity" in t.columns
        else t.quantity,
    )
    open_until = as_of - timedelta(days=settings.late_tolerance_days)
    t = t.mutate(
        _has_ref=t._eligible & t._due.notnull(),
        _not_due=(
            t._eligible & ((t._due > as_of) | (~t._delivered & (t._due > open_until)))
        ).fill_null(False),
        _lateness=t._when.delta(t._due, unit="day"),
    )
    need = 1.0 - settings.in_full_tolerance_pct / 100.0 - _QTY_EPS
    return t.mutate(
        _measured=t._has_ref & ~t._not_due,
        _on_time=(
            t._eligible
            & t._delivered
            & (t._lateness >= -settings.early_tolerance_days)
            & (t._lateness <= settings.late_tolerance_days)
        ).fill_null(False),
        _in_full=(t._eligible & t._delivered & (t._got >= t.quantity * need)).fill_null(False),
    )


def otif_lines(order_lines: ir.Table, settings: OtifSettings, as_of: date) -> ir.Table:
    """Per purchase line with quantity > 0 ordered by as_of: its OTIF flags (Ibis expression).

    Columns: customer_id, order_id, due_date (the reference date), delivery_date, has_reference,
    not_due, measured, delivered, on_time, in_full, otif (booleans, never null).

    - delivered: a delivery date on or before as_of (a later one is not yet known at as_of).
    - not_due (excluded): the due date is after as_of, or the line is undelivered and its late
      tolerance has not run out (due_date + late_tolerance_days > as_of), so an open line is
      never failed before it could still arrive on time.
    - measured: has a due date and is not ``not_due``; due lines never delivered are failures.
    - on_time: delivered within [due - early_tolerance_days, due + late_tolerance_days].
    - in_full: delivered_quantity >= quantity x (1 - in_full_tolerance_pct / 100); without the
      delivered_quantity column, or where it is null, a delivered line counts as in full.
    """
    _require(order_lines, "order_lines", _REQUIRED_LINES)
    reason = _otif_skip_reason(order_lines, settings)
    if reason:
        raise DataContractError(reason)
    t = _with_otif_flags(order_lines.filter(order_lines.order_date <= as_of), settings, as_of)
    t = t.filter(t._eligible)
    return t.select(
        customer_id=t.customer_id,
        order_id=t.order_id,
        due_date=t._due,
        delivery_date=t._when,
        has_reference=t._has_ref,
        not_due=t._not_due,
        measured=t._measured,
        delivered=t._delivered,
        on_time=t._on_time,
        in_full=t._in_full,
        otif=t._on_time & t._in_full,
    )


def _otif_counts(t: ir.Table) -> dict[str, ir.Value]:
    """Per-group OTIF counts from `_with_otif_flags` columns."""
    return {
        "lines_due": t.count(where=t._measured),
        "lines_delivered": t.count(where=t._measured & t._delivered),
        "lines_not_due": t.count(where=t._not_due),
        "lines_no_reference": t.count(where=t._eligible & ~t._has_ref),
        "_n_on_time": t.count(where=t._measured & t._on_time),
        "_n_in_full": t.count(where=t._measured & t._in_full),
        "_n_otif": t.count(where=t._measured & t._on_time & t._in_full),
    }


def _otif_shares(t: ir.Table) -> dict[str, ir.Value]:
    denominator = t.lines_due.nullif(0).cast("float64")
    return {
        "on_time": t._n_on_time / denominator,
        "in_full": t._n_in_full / denominator,
        "otif": t._n_otif / denominator,
    }


def otif_by_customer(order_lines: ir.Table, settings: OtifSettings, as_of: date) -> ir.Table:
    """OTIF rolled up per customer (Ibis expression); flags as in `otif_lines`.

    Columns: customer_id, lines_due (measured lines), lines_delivered, lines_not_due,
    lines_no_reference, on_time, in_full, otif (shares of lines_due; null when it is 0).
    """
    _require(order_lines, "order_lines", _REQUIRED_LINES)
    reason = _otif_skip_reason(order_lines, settings)
    if reason:
        raise DataContractError(reason)
    t = order_lines.filter(order_lines.order_date <= as_of)
    t = _with_otif_flags(t.filter(_is_purchase(t) & (t.quantity > 0)), settings, as_of)
    per = t.group_by("customer_id").agg(**_otif_counts(t))
    return per.select(
        "customer_id",
        "lines_due",
        "lines_delivered",
        "lines_not_due",
        "lines_no_reference",
        **_otif_shares(per),
    )


def dso_by_customer(invoices: ir.Table, as_of: date) -> ir.Table:
    """Days sales outstanding per customer from invoices (Ibis expression).

    Invoices dated after as_of or with amount <= 0 are ignored. An invoice paid by as_of counts
    its days from invoice to payment; an open one (no paid_date, or paid after as_of) its age
    at as_of. ``dso_days`` and ``days_past_due`` (days after due_date, 0 if none) are means
    weighted by amount; ``open_amount`` sums the open invoices. Without a paid_date column
    every invoice is open.
    """
    _require(invoices, "invoices", _REQUIRED_INVOICES)
    t = invoices.filter((invoices.invoice_date <= as_of) & (invoices.amount > 0))
    as_of_lit = ibis.literal(as_of)
    if "paid_date" in t.columns:
        paid = (t.paid_date <= as_of).fill_null(False)
        end = ibis.cases((paid, t.paid_date), else_=as_of_lit)
    else:
        paid = ibis.literal(False)
        end = as_of_lit
    t = t.mutate(_paid=paid, _end=end, _amount=t.amount.cast("float64"))
    t = t.mutate(
        _days=ibis.greatest(t._end.delta(t.invoice_date, unit="day"), 0).cast("float64"),
        _late=ibis.greatest(t._end.delta(t.due_date, unit="day"), 0).cast("float64"),
    )
    per = t.group_by("customer_id").agg(
        _weight=t._amount.sum(),
        _weighted_days=(t._amount * t._days).sum(),
        _weighted_late=(t._amount * t._late).sum(),
        open_amount=t._amount.sum(where=~t._paid),
        invoices=t.count(),
    )
    return per.select(
        "customer_id",
        dso_days=per._weighted_days / per._weight,
        days_past_due=per._weighted_late / per._weight,
        open_amount=per.open_amount.fill_null(0.0),
        invoices=per.invoices,
    )


def _channel_columns(lines: ir.Table, settings: ChannelSettings) -> dict[str, list[str]]:
    """Output column -> raw channel values: the largest channels, then 'other' (small query)."""
    purchases = lines.filter(_is_purchase(lines))
    key = purchases.channel.cast("string").fill_null("unknown")
    totals = (
        purchases.mutate(key=key, revenue=purchases.quantity * purchases.unit_price)
        .group_by("key")
        .agg(revenue=ibis._.revenue.sum())
        .to_pandas()
        .sort_values(["revenue", "key"], ascending=[False, True])
    )
    keys = [str(k) for k in totals["key"]]
    top, rest = keys[: settings.max_channels], keys[settings.max_channels :]
    columns: dict[str, list[str]] = {}
    for raw in top:
        slug = re.sub(r"[^0-9a-z]+", "_", raw.lower()).strip("_") or "unknown"
        columns.setdefault(f"channel_share_{slug}", []).append(raw)
    if rest:
        columns.setdefault("channel_share_other", []).extend(rest)
    return columns


def _customer_summary(
    lines: ir.Table,
    settings: CustomerSettings,
    as_of: date,
    channels: Mapping[str, list[str]],
    with_otif: bool,
) -> ir.Table:
    """One pass over the lines: first/last purchase, frequency, monetary, channel sums, OTIF."""
    window = settings.rfm.window_days
    t = lines.mutate(
        _purchase=_is_purchase(lines),
        _revenue=lines.quantity * lines.unit_price,
        _in_window=lines.order_date > as_of - timedelta(days=window)
        if window is not None
        else ibis.literal(True),
    )
    if with_otif:
        t = _with_otif_flags(t, settings.otif, as_of)
    if channels:
        # One channel index per line (string matching once), then cheap integer conditions.
        key = t.channel.cast("string").fill_null("unknown")
        branches = [(key.isin(raws), i) for i, raws in enumerate(channels.values())]
        t = t.mutate(_channel=ibis.cases(*branches, else_=-1))
    aggs: dict[str, ir.Value] = {
        "first_order": t.order_date.min(where=t._purchase),
        "last_order": t.order_date.max(where=t._purchase),
        "frequency": t.order_id.nunique(where=t._purchase & t._in_window),
        "monetary": t._revenue.sum(where=t._in_window),
    }
    if with_otif:
        aggs.update(_otif_counts(t))
    if channels:
        by_orders = settings.channels.basis == "orders"
        for i in range(len(channels)):
            match = t._purchase & (t._channel == i)
            aggs[f"_ch{i}"] = (
                t.order_id.nunique(where=match) if by_orders else t._revenue.sum(where=match)
            )
        aggs["_ch_total"] = (
            t.order_id.nunique(where=t._purchase)
            if by_orders
            else t._revenue.sum(where=t._purchase)
        )
    per = t.group_by("customer_id").agg(**aggs)
    return per.mutate(**_otif_shares(per)) if with_otif else per


def _attach(base: ir.Table, other: ir.Table) -> ir.Table:
    """Left-join ``other`` on customer_id without a second key column."""
    right = other.rename(_key="customer_id")
    return base.left_join(right, base.customer_id == right._key).drop("_key")


# --------------------------------------------------------------------------- CLV (pandas/numpy)


def _clv_columns(
    df: pd.DataFrame, settings: ClvSettings, notes: list[str]
) -> tuple[pd.DataFrame, BGNBDFit | None, GammaGammaFit | None]:
    n = len(df)
    out = pd.DataFrame(
        {
            c: np.full(n, np.nan)
            for c in ("clv_12m", "p_alive", "expected_purchases_12m", "expected_avg_value")
        },
        index=df.index,
    )
    if not settings.enabled:
        notes.append("clv: disabled (clv.enabled = false)")
        return out, None, None
    if n < settings.min_customers:
        notes.append(
            f"clv: skipped, {n} customer(s) < clv.min_customers = {settings.min_customers}"
        )
        return out, None, None
    unit = TIME_UNIT_DAYS[settings.time_unit]
    x = df["occasions"].to_numpy(np.float64) - 1.0
    tx = df["occasion_span_days"].to_numpy(np.float64) / unit
    big_t = df["age_days"].to_numpy(np.float64) / unit
    repeat_total = df["total_value"].to_numpy(np.float64) - df["first_value"].to_numpy(np.float64)
    m = np.where(x > 0, repeat_total / np.maximum(x, 1.0), 0.0)
    try:
        bg = fit_bgnbd(x, tx, big_t)
    except DataContractError as exc:
        notes.append(f"clv: skipped, the BG/NBD fit is impossible on this data ({exc})")
        return out, None, None
    if not bg.converged:
        notes.append(f"clv: BG/NBD fit did not converge ({bg.message}); predictions may be off")
    notes.append(
        f"clv: BG/NBD r={bg.r:.4g}, alpha={bg.alpha:.4g} ({settings.time_unit}), a={bg.a:.4g},"
        f" b={bg.b:.4g}, log-likelihood {bg.log_likelihood:.2f} on {n} customers"
    )
    year = 12 * TIME_UNIT_DAYS["M"] / unit
    out["p_alive"] = bg.p_alive(x, tx, big_t)
    out["expected_purchases_12m"] = bg.expected_purchases(year, x, tx, big_t)
    spenders = (x > 0) & (m > 0)
    if int(spenders.sum()) < settings.min_repeat_customers:
        notes.append(
            f"clv: Gamma-Gamma skipped, {int(spenders.sum())} repeat customer(s) with positive"
            f" spend < clv.min_repeat_customers = {settings.min_repeat_customers}; no clv_12m"
        )
        return out, bg, None
    gg = fit_gamma_gamma(x[spenders], m[spenders])
    if gg.q <= 1.0 or not gg.converged:
        notes.append(
            f"clv: Gamma-Gamma unusable (q = {gg.q:.4g}, converged = {gg.converged}); spend too"
            " heavy-tailed for the model; no clv_12m"
        )
        return out, bg, gg
    corr = float(np.corrcoef(x[spenders], m[spenders])[0, 1]) if spenders.sum() > 2 else 0.0
    if abs(corr) > 0.3:
        notes.append(
            f"clv: Gamma-Gamma assumes spend independent of frequency; their correlation among"
            f" repeat customers is {corr:.2f}, so expected_avg_value may be biased"
        )
    notes.append(f"clv: Gamma-Gamma p={gg.p:.4g}, q={gg.q:.4g}, v={gg.v:.4g}")
    out["expected_avg_value"] = gg.conditional_expected_average_value(x, m)
    out["clv_12m"] = customer_lifetime_value(
        bg,
        gg,
        x,
        tx,
        big_t,
        m,
        months=12,
        time_unit=settings.time_unit,
        annual_discount_rate=settings.annual_discount_rate,
        step=settings.discount_step,
        margin=settings.margin,
    )
    return out, bg, gg


# --------------------------------------------------------------------------- assembly


def _last_order_date(lines: ir.Table) -> date:
    value = lines.order_date.max().to_pandas()
    if value is None or pd.isna(value):
        raise DataContractError("order_lines: no rows, so there is no as-of date; pass as_of")
    return pd.Timestamp(value).date()


def customer_metrics(
    tables: Mapping[str, ir.Table],
    settings: CustomerSettings | None = None,
    as_of: date | None = None,
) -> CustomerMetricsResult:
    """One row per purchasing customer with RFM, churn, OTIF, DSO, channel and CLV metrics.

    ``tables`` are the canonical Ibis tables (order_lines required, invoices optional) on one
    backend. ``as_of`` defaults to the last order date. Steps whose inputs are absent are
    skipped, their columns null, and a note says why. See the module docstring for definitions.
    """
    settings = settings or CustomerSettings()
    if "order_lines" not in tables:
        raise DataContractError("order_lines: table missing; customer metrics need order lines")
    lines = tables["order_lines"]
    _require(lines, "order_lines", _REQUIRED_LINES)
    notes: list[str] = []
    as_of = as_of or _last_order_date(lines)
    lines = lines.filter(lines.order_date <= as_of)

    channels: dict[str, list[str]] = {}
    if "channel" in lines.columns:
        channels = _channel_columns(lines, settings.channels)
    else:
        notes.append("channels: skipped, order_lines has no channel column")

    otif_reason = _otif_skip_reason(lines, settings.otif)
    if otif_reason is None:
        if "delivered_quantity" not in lines.columns:
            notes.append("otif: no delivered_quantity column; delivered lines count as in full")
    else:
        notes.append(otif_reason)
    query = _customer_summary(lines, settings, as_of, channels, with_otif=otif_reason is None)
    purchases = lines.filter(_is_purchase(lines))
    occasions = purchase_occasions(
        purchases.mutate(_value=purchases.quantity * purchases.unit_price),
        "customer_id",
        "order_date",
        as_of,
        "_value",
        gaps=True,
    ).rename(occasion_span_days="recency_days")
    query = _attach(query, occasions)

    invoices = tables.get("invoices")
    if invoices is not None and settings.dso.enabled:
        query = _attach(query, dso_by_customer(invoices, as_of))
        if "paid_date" not in invoices.columns:
            notes.append("dso: invoices have no paid_date column; every invoice counts as open")
    elif invoices is None:
        notes.append("dso: skipped, no invoices table")
    else:
        notes.append("dso: disabled (dso.enabled = false)")

    query = query.mutate(
        recency_days=ibis.literal(as_of).delta(query.last_order, unit="day")
    ).order_by("customer_id")
    # Arrow then pandas: Ibis' to_pandas goes through Python lists for columns with nulls.
    arrow = query.to_pyarrow()
    scored = pc.is_valid(arrow["first_order"])
    credit_only = len(arrow) - pc.sum(scored).as_py() if len(arrow) else 0
    if credit_only:
        notes.append(f"customers: {credit_only} customer(s) with credit notes only are not scored")
        arrow = arrow.filter(scored)
    df = arrow.to_pandas(date_as_object=False, types_mapper=_STRINGS.get)
    return _assemble(df, settings, as_of, channels, notes, otif_reason is None)


def _assemble(
    df: pd.DataFrame,
    settings: CustomerSettings,
    as_of: date,
    channels: Mapping[str, list[str]],
    notes: list[str],
    has_otif: bool,
) -> CustomerMetricsResult:
    """Scores, segments, churn and CLV on the per-customer frame (sorted by the engine)."""
    n = len(df)
    col: dict[str, object] = {"customer_id": df["customer_id"]}
    col["first_order"] = df["first_order"]
    col["last_order"] = df["last_order"]
    recency = df["recency_days"].to_numpy(np.int64)
    frequency = df["frequency"].fillna(0).to_numpy(np.int64)
    monetary = df["monetary"].fillna(0.0).to_numpy(np.float64)
    col["recency_days"] = recency
    col["frequency"] = frequency
    col["monetary"] = monetary
    col["aov"] = monetary / np.where(frequency > 0, frequency, np.nan)
    r = quintile_scores(recency, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    col["r_score"], col["f_score"], col["m_score"] = r, f, m
    segments = rfm_segments(r, f, m, settings.rfm.segments, settings.rfm.default_segment)
    col["rfm_segment"] = segments
    col["repeat_customer"] = df["occasions"].to_numpy() >= 2
    gap = df["interpurchase_days_median"].to_numpy(np.float64)
    col["interpurchase_days_median"] = gap
    col["churned"] = churned(
        recency,
        gap,
        window_days=settings.churn.window_days,
        interpurchase_multiple=settings.churn.interpurchase_multiple,
    )
    for c in ("otif", "on_time", "in_full"):
        col[c] = df[c].to_numpy(np.float64) if has_otif else np.full(n, np.nan)
    for c in ("lines_delivered", "lines_due", "lines_not_due"):
        col[c] = df[c].fillna(0).astype("Int64") if has_otif else pd.array([pd.NA] * n, "Int64")
    if has_otif:
        not_due = int(df["lines_not_due"].sum())
        no_ref = int(df["lines_no_reference"].sum())
        if not_due:
            notes.append(f"otif: {not_due} line(s) not yet due at {as_of} excluded")
        if no_ref:
            notes.append(
                f"otif: {no_ref} line(s) without a {settings.otif.reference_date} date excluded"
            )
    for c in ("dso_days", "days_past_due", "open_amount"):
        col[c] = df[c].to_numpy(np.float64) if c in df.columns else np.full(n, np.nan)
    if channels:
        total = df["_ch_total"].to_numpy(np.float64)
        total = np.where(total > 0, total, np.nan)
        for i, name in enumerate(channels):
            col[name] = df[f"_ch{i}"].fillna(0.0).to_numpy(np.float64) / total
    clv, bg, gg = _clv_columns(df, settings.clv, notes)
    col.update({c: clv[c].to_numpy() for c in clv.columns})
    col["churn_risk"] = 1.0 - clv["p_alive"].to_numpy()
    order = [c for c in CUSTOMER_METRICS_COLUMNS if c != "clv_12m"]
    at = order.index("open_amount") + 1
    order = [*order[:at], *channels, "clv_12m", *order[at:]]
    table = pd.DataFrame({c: col[c] for c in order})
    return CustomerMetricsResult(table=table, notes=notes, clv_fit=bg, spend_fit=gg, as_of=as_of)
