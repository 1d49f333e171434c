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
  The rule and the model are separate estimates; a warning is raised when more than
  `CHURN_CONFLICT_SHARE` (10 %) of the churned customers have p_alive > 0.5. Under MBG/NBD (the
  default) p_alive falls with silence, so the two agree for the long-silent one-time buyers
  that BG/NBD leaves at p_alive = 1.
- OTIF (`supplyseg.analytics.otif`, the one definition): per purchase line with quantity > 0;
  early deliveries are on time unless ``otif.early_tolerance_days`` is set. Per customer
  ``otif``, ``on_time``, ``in_full`` are shares of ``lines_due``; the counts ``lines_otif``,
  ``lines_on_time``, ``lines_in_full``, ``lines_early`` (due lines delivered before the due
  date), ``lines_delivered`` (due lines delivered by as_of) and ``lines_not_due`` (excluded)
  let any group's OTIF be computed exactly as sum(lines_otif) / sum(lines_due)
  (`supplyseg.analytics.otif.otif_summary`), never as a mean of customer shares.
- DSO from invoices dated by as_of with amount > 0 (see `dso_by_customer`): ``dso_days``,
  ``days_past_due`` (both amount-weighted means), ``open_amount``; invoices of customers
  without purchases are not reported.
- ``channel_share_<channel>``: share of the customer's gross purchase revenue (or distinct
  orders) per order_lines.channel over all history, the ``channels.max_channels`` largest
  channels by revenue, the rest as ``other``; null channel = ``unknown``.
- CLV (see `supplyseg.analytics.customer_clv`): MBG/NBD (``clv.model``, or BG/NBD) on purchase
  days (frequency = days - 1, time in ``clv.time_unit``) and Gamma-Gamma on the mean gross value
  of repeat purchase days, calibrated on everything up to as_of; ``expected_purchases_12m``,
  ``p_alive``, ``expected_avg_value`` and ``clv_12m`` (discounted, times ``clv.margin``);
  ``clv_basis`` is "revenue" when clv.margin = 1, else "margin". An untrustworthy fit leaves
  them NaN (unknown) with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from supplyseg.analytics._btyd import PurchaseCountFit
from supplyseg.analytics.clv import GammaGammaFit, purchase_occasions
from supplyseg.analytics.customer_clv import CLV_COLUMNS, clv_columns
from supplyseg.analytics.otif import (
    OTIF_COUNT_COLUMNS,
    _is_purchase,
    _otif_counts,
    _otif_shares,
    _otif_skip_reason,
    _require,
    _with_otif_flags,
)
from supplyseg.config.customer import ChannelSettings, CustomerSettings, RfmSegmentRule
from supplyseg.data.frames import canonical_tables
from supplyseg.errors import ConfigError, DataContractError

__all__ = [
    "CUSTOMER_METRICS_COLUMNS",
    "CustomerMetricsResult",
    "churned",
    "customer_metrics",
    "dso_by_customer",
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
    *OTIF_COUNT_COLUMNS,
    "dso_days",
    "days_past_due",
    "open_amount",
    # channel_share_<channel> columns go here
    *CLV_COLUMNS,
)
"""Columns of `customer_metrics` in order; the channel shares sit before ``clv_12m``."""

_REQUIRED_LINES = ("order_id", "customer_id", "order_date", "quantity", "unit_price")
CHURN_CONFLICT_SHARE = 0.10
"""Warn when more than this share of churned customers has p_alive > 0.5 (see `_assemble`)."""
_REQUIRED_INVOICES = ("invoice_id", "customer_id", "invoice_date", "due_date", "amount")
# Strings stay Arrow-backed: converting a million ids to Python objects is slow.
_STRINGS = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}


@dataclass(frozen=True)
class CustomerMetricsResult:
    """`customer_metrics`' output: the table, notes and warnings for the manifest, the models.

    ``warnings`` are findings the user must act on (an untrustworthy CLV fit, churn flags that
    contradict p_alive); ``notes`` say what was skipped or assumed.
    """

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    clv_fit: PurchaseCountFit | None = None
    spend_fit: GammaGammaFit | None = None
    as_of: date | None = None
    warnings: list[str] = field(default_factory=list)


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


# --------------------------------------------------------------------------- assembly


def _last_order_date(lines: ir.Table) -> date:
    value = lines.order_date.max().to_pandas()
    if value is None or pd.isna(value):
        raise DataContractError("order_lines: no rows, so there is no as-of date; pass as_of")
    return pd.Timestamp(value).date()


def customer_metrics(
    tables: Any,
    settings: CustomerSettings | None = None,
    as_of: date | None = None,
) -> CustomerMetricsResult:
    """One row per purchasing customer with RFM, churn, OTIF, DSO, channel and CLV metrics.

    ``tables``: a `Dataset` (`supplyseg.load_frames`), or the canonical tables by name (Ibis,
    pandas or Arrow; order_lines required, invoices optional). ``as_of`` defaults to the last
    order date. Steps whose inputs are absent are skipped, their columns null, and a note says
    why. See the module docstring for definitions.
    """
    settings = settings or CustomerSettings()
    tables = canonical_tables(tables)
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
    for c in OTIF_COUNT_COLUMNS:
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
    clv = clv_columns(df, settings.clv)
    notes.extend(clv.notes)
    warnings = list(clv.warnings)
    col.update({c: clv.table[c].to_numpy() for c in clv.table.columns})
    p_alive = clv.table["p_alive"].to_numpy()
    col["churn_risk"] = 1.0 - p_alive
    warnings.extend(_churn_conflicts(col["churned"], p_alive, settings))  # type: ignore[arg-type]
    order = [c for c in CUSTOMER_METRICS_COLUMNS if c != "clv_12m"]
    at = order.index("open_amount") + 1
    order = [*order[:at], *channels, "clv_12m", *order[at:]]
    table = pd.DataFrame({c: col[c] for c in order})
    return CustomerMetricsResult(
        table=table,
        notes=notes,
        clv_fit=clv.purchase_fit,
        spend_fit=clv.spend_fit,
        as_of=as_of,
        warnings=warnings,
    )


def _churn_conflicts(
    is_churned: npt.NDArray[np.bool_], p_alive: npt.NDArray[np.float64], settings: CustomerSettings
) -> list[str]:
    """A warning when many churned customers are still probably alive by the CLV model.

    ``churned`` is a rule on silence; ``p_alive`` the model's probability. They may disagree
    for a few customers; more than `CHURN_CONFLICT_SHARE` of the churned means the two tell
    the user different stories (typically BG/NBD, where one-time buyers keep p_alive = 1).
    """
    known = np.isfinite(p_alive)
    n_churned = int((is_churned & known).sum())
    conflict = int((is_churned & known & (p_alive > 0.5)).sum())
    if not n_churned or conflict <= CHURN_CONFLICT_SHARE * n_churned:
        return []
    fix = (
        "use clv.model: mbgnbd (with bgnbd one-time buyers keep p_alive = 1)"
        if settings.clv.model == "bgnbd"
        else "check churn.window_days against how often customers buy"
    )
    return [
        f"customer: {conflict} of {n_churned} churned customers ({conflict / n_churned:.0%})"
        f" have p_alive > 0.5 ({settings.clv.model}); the churn rule (silent >"
        f" max({settings.churn.window_days} days, {settings.churn.interpurchase_multiple:g} x"
        f" own median gap)) and the CLV model disagree; fix: {fix}"
    ]
