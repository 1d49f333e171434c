"""Engine side of demand analytics: normalised input, period indexes and per-item sums (Ibis).

Everything here builds Ibis expressions from generic operations (integer date arithmetic,
group-bys, `ibis.cases`) so the same code runs on DuckDB and on PySpark. Nothing is
materialised except one scalar (the last order date, when no horizon end is given).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from supplyseg.config.demand import DemandSettings, Measure
from supplyseg.data.frames import order_lines_table
from supplyseg.data.load import Dataset
from supplyseg.errors import ConfigError, DataContractError

__all__ = [
    "ABC_KEY",
    "BUCKETS",
    "GRAINS",
    "LONG_COLUMNS",
    "Bucket",
    "Prepared",
    "abc_keys",
    "abc_order",
    "as_table",
    "check_bucket",
    "horizon_index",
    "in_horizon",
    "item_measures",
    "item_profile",
    "item_series_stats",
    "null_safe_join",
    "pattern_columns",
    "period_demand",
    "period_index",
    "period_index_of",
    "period_starts",
    "prepared",
    "repeated_pairs",
    "xyz_columns",
]

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month")
GRAINS: dict[str, tuple[str, ...]] = {
    "product": ("product_id",),
    "product_location": ("product_id", "location_id"),
    "customer": ("customer_id",),
    "customer_product": ("customer_id", "product_id"),
}
LONG_COLUMNS = ("unique_id", "ds", "y")
ABC_KEY = "_abc_key"  # the value ABC orders by: the measure, or the weighted score
_LINE_COLUMNS = ("order_id", "order_date", "quantity", "unit_price")
_EPOCH = dt.date(1970, 1, 1)
# Months are numbered year * 12 + month - 1; this is 1970-01 in that numbering.
_EPOCH_MONTH = 1970 * 12


@dataclass(frozen=True)
class Prepared:
    """Input normalised for the kernels.

    ``table`` has the id columns and ``_day`` (date), ``_q`` (net quantity, float); order lines
    add ``_rev``, ``_order``, ``_credit`` and, with unit_cost, ``_mar`` and ``_nocost``.
    """

    table: ir.Table
    ids: tuple[str, ...]
    measures: tuple[Measure, ...]
    long: bool


def check_bucket(bucket: str) -> Bucket:
    """``bucket`` itself if it is day, week or month, else ConfigError."""
    if bucket not in BUCKETS:
        raise ConfigError(f"bucket={bucket!r}: not a time bucket; allowed: {', '.join(BUCKETS)}")
    return bucket


def as_table(data: Any) -> ir.Table:
    """``data`` as an Ibis table: itself, or registered as a memtable (pandas, pyarrow, ...);
    the order lines of a `Dataset` or of a mapping of tables."""
    if isinstance(data, ir.Table):
        return data
    if isinstance(data, Mapping | Dataset):
        return order_lines_table(data)
    if isinstance(data, pd.DataFrame):
        return ibis.memtable(data)
    try:  # pyarrow / polars tables and the like: whatever Ibis can register
        return ibis.memtable(data)
    except Exception as exc:
        raise DataContractError(
            f"data: cannot use a {type(data).__name__} as a table ({exc}); pass an Ibis table,"
            " a pandas DataFrame or a pyarrow Table"
        ) from None


def _grain_columns(grain: str | Sequence[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if grain is None:
        return default
    if isinstance(grain, str):
        return GRAINS.get(grain, (grain,))
    cols = tuple(grain)
    if not cols or not all(isinstance(c, str) for c in cols):
        raise ConfigError(
            f"grain={grain!r}: give a grain name ({', '.join(GRAINS)}) or a tuple of id columns"
        )
    return cols


def prepared(data: Any, grain: str | Sequence[str] | None) -> Prepared:
    """Order lines or a long (unique_id, ds, y) table as a `Prepared` table on the engine.

    A table is taken as order lines when it has ``quantity``, else as a long table when it has
    unique_id, ds, y. Order lines without ``is_credit_note`` count lines with a negative
    quantity as credit notes.
    """
    t = as_table(data)
    cols = set(t.columns)
    long = "quantity" not in cols and set(LONG_COLUMNS) <= cols
    ids = _grain_columns(grain, ("unique_id",) if long else ("product_id",))
    missing_ids = [c for c in ids if c not in cols]
    if missing_ids:
        raise ConfigError(
            f"grain={ids!r}: column(s) {missing_ids} not in the table; available: {sorted(cols)}"
        )
    if long:
        day = t.ds.cast("date")
        out = t.select(*ids, _day=day, _q=t.y.cast("float64"))
        return Prepared(out, ids, ("quantity",), long=True)
    missing = [c for c in _LINE_COLUMNS if c not in cols]
    if missing:
        raise DataContractError(
            f"order lines: missing column(s) {missing}; need {list(_LINE_COLUMNS)} (canonical"
            f" order_lines) or {list(LONG_COLUMNS)} (a long demand table)"
        )
    q = t.quantity.cast("float64")
    credit = t.is_credit_note.fill_null(False) if "is_credit_note" in cols else q < 0
    extra: dict[str, ir.Value] = {}
    measures: tuple[Measure, ...] = ("revenue", "quantity", "order_lines")
    if "unit_cost" in cols:
        cost = t.unit_cost.cast("float64")
        extra["_mar"] = q * (t.unit_price.cast("float64") - cost)
        extra["_nocost"] = cost.isnull().cast("int64")
        measures = ("revenue", "margin", "quantity", "order_lines")
    out = t.select(
        *ids,
        _day=t.order_date.cast("date"),
        _q=q,
        _rev=q * t.unit_price.cast("float64"),
        _order=t.order_id.cast("string"),
        _credit=credit,
        **extra,
    )
    return Prepared(out, ids, measures, long=False)


def period_index(day: ir.DateValue, bucket: Bucket) -> ir.IntegerValue:
    """The bucket number of a date: days since 1970-01-01, Monday-weeks, or year * 12 + month - 1.

    Weeks start on Monday: 1970-01-01 was a Thursday, so Monday 1969-12-29 is day -3, and
    ``epoch_days - weekday + 3`` is a multiple of 7 (exact division on every backend).
    """
    if bucket == "day":
        return day.epoch_days()
    if bucket == "week":
        monday = day.epoch_days() - day.day_of_week.index()
        return ((monday + 3) // 7).cast("int64")
    return (day.year() * 12 + day.month() - 1).cast("int64")


def period_index_of(day: dt.date, bucket: Bucket) -> int:
    """`period_index` of one Python date."""
    days = (day - _EPOCH).days
    if bucket == "day":
        return days
    if bucket == "week":
        return (days - day.weekday() + 3) // 7
    return day.year * 12 + day.month - 1


def period_starts(index: pd.Series, bucket: Bucket) -> pd.Series:
    """First day of each period number, as datetime64[s] (the dtype Ibis gives dates)."""
    idx = index.to_numpy(dtype="int64")
    if bucket == "month":
        months = (idx - _EPOCH_MONTH).astype("timedelta64[M]") + np.datetime64("1970-01", "M")
        days = months.astype("datetime64[D]").astype("int64")
    else:
        days = idx if bucket == "day" else idx * 7 - 3
    seconds = (days * 86_400).view("datetime64[s]")  # days since 1970-01-01, no calendar cast
    return pd.Series(seconds, index=index.index, name=index.name, copy=False)


def _as_date(value: Any, name: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        raise ConfigError(
            f"{name}={value!r}: not a date; give a datetime.date or an ISO string like 2024-12-31"
        ) from None


def in_horizon(p: Prepared, start: Any, end: Any) -> tuple[Prepared, dt.date | None]:
    """Lines between ``start`` and ``end`` (inclusive), and ``end`` as a date."""
    s, e = _as_date(start, "start"), _as_date(end, "end")
    if s and e and s > e:
        raise ConfigError(f"start={s} is after end={e}; give start <= end")
    t = p.table
    if s is not None:
        t = t.filter(t._day >= s)
    if e is not None:
        t = t.filter(t._day <= e)
    return Prepared(t, p.ids, p.measures, p.long), e


def horizon_index(p: Prepared, end: dt.date | None, bucket: Bucket) -> int | None:
    """Period number of the horizon end: ``end``, else the last date in the data (None if empty)."""
    if end is None:
        last = p.table._day.max().to_pyarrow().as_py()
        if last is None:
            return None
        end = last if isinstance(last, dt.date) else pd.Timestamp(last).date()
    return period_index_of(end, bucket)


def item_measures(p: Prepared) -> ir.Table:
    """Per item: revenue, margin (with unit_cost), quantity, order_lines, orders.

    Credit-note lines net revenue, margin and quantity but are not counted as order lines or
    orders. Margin is null for an item with any line lacking unit_cost (it cannot be known).
    """
    t = p.table
    aggs: dict[str, ir.Value] = {}
    if not p.long:
        live = ~t._credit
        aggs["revenue"] = t._rev.sum()
        if "margin" in p.measures:
            known = t._nocost.sum() == 0
            aggs["margin"] = ibis.cases((known, t._mar.sum()), else_=ibis.null("float64"))
        aggs["quantity"] = t._q.sum()
        aggs["order_lines"] = t._q.count(where=live)
        aggs["orders"] = t._order.nunique(where=live)
    else:
        aggs["quantity"] = t._q.sum()
    return t.group_by(list(p.ids)).aggregate(**aggs)


def period_demand(p: Prepared, bucket: Bucket) -> ir.Table:
    """Net demand per item and period with lines: ``(ids..., _p, y)``, sparse."""
    t = p.table.mutate(_p=period_index(p.table._day, bucket))
    return t.group_by([*p.ids, "_p"]).aggregate(y=t._q.sum())


def item_series_stats(p: Prepared, bucket: Bucket, horizon: int) -> ir.Table:
    """Per item, from its net demand per period: sums that give mean, std, ADI and CV² exactly.

    Zero periods add nothing to a sum or a sum of squares, so the series is never densified:
    ``n_periods`` runs from the item's first period to the horizon end, and the moments follow
    from sums over the periods that have lines. ``_fpos``/``_lpos`` are the first and last
    period with positive net demand (for the lifecycle).
    """
    per = period_demand(p, bucket)
    y, pos = per.y, per.y > 0
    stats = per.group_by(list(p.ids)).aggregate(
        _first=per._p.min(),
        _last=per._p.max(),
        _fpos=per._p.min(where=pos),
        _lpos=per._p.max(where=pos),
        _t=y.sum(),
        _s2=(y * y).sum(),
        n_nonzero=y.count(where=pos),
        _ps=y.sum(where=pos).fill_null(0.0),
        _ps2=(y * y).sum(where=pos).fill_null(0.0),
    )
    return stats.mutate(n_periods=(horizon - stats._first + 1).cast("int64"))


def repeated_pairs(p: Prepared) -> ir.Table:
    """(order_id, product_id) pairs with more than one live line (usually very few).

    Only such lines can make an item's orders fewer than its order lines when the grain
    includes the product: two live lines of one item and one order share the product.
    """
    live = p.table.filter(~p.table._credit)
    n = live.group_by(["_order", "product_id"]).aggregate(_n=live.count())
    return n.filter(n._n > 1).select("_order", "product_id")


def item_profile(
    p: Prepared, bucket: Bucket, horizon: int, repeated: ir.Table | None = None
) -> ir.Table:
    """Per item: the measures of `item_measures` and the sums of `item_series_stats`.

    When the grain includes the product, everything but ``orders`` sums up from the item x
    period table, and ``orders = order_lines - surplus``, the surplus counted only on the
    lines of `repeated_pairs` (pass them when profiling several grains of the same lines):
    no count-distinct and no join of two item-sized tables, the costly steps for millions of
    items. Other grains join `item_measures` to `item_series_stats`.
    """
    if p.long:
        stats = item_series_stats(p, bucket, horizon)
        return stats.mutate(quantity=stats._t)
    ids = list(p.ids)
    if "product_id" not in ids:
        return null_safe_join(item_measures(p), item_series_stats(p, bucket, horizon), ids)
    t = p.table.mutate(_p=period_index(p.table._day, bucket))
    margin = "margin" in p.measures
    sums = {"_y": t._q.sum(), "_rev": t._rev.sum(), "_nl": t._q.count(where=~t._credit)}
    if margin:
        sums |= {"_mar": t._mar.sum(), "_nocost": t._nocost.sum()}
    per = t.group_by([*ids, "_p"]).aggregate(**sums)
    y, pos = per._y, per._y > 0
    out: dict[str, ir.Value] = {"revenue": per._rev.sum()}
    if margin:
        known = per._nocost.sum() == 0
        out["margin"] = ibis.cases((known, per._mar.sum()), else_=ibis.null("float64"))
    out |= {
        "quantity": y.sum(),
        "order_lines": per._nl.sum().cast("int64"),
        "_first": per._p.min(),
        "_last": per._p.max(),
        "_fpos": per._p.min(where=pos),
        "_lpos": per._p.max(where=pos),
        "_t": y.sum(),
        "_s2": (y * y).sum(),
        "n_nonzero": y.count(where=pos),
        "_ps": y.sum(where=pos).fill_null(0.0),
        "_ps2": (y * y).sum(where=pos).fill_null(0.0),
    }
    item = per.group_by(ids).aggregate(**out)
    rep = repeated if repeated is not None else repeated_pairs(p)
    live = p.table.filter(~p.table._credit).semi_join(rep, ["_order", "product_id"])
    per_order = live.group_by([*ids, "_order"]).aggregate(_n=live.count())
    surplus = per_order.group_by(ids).aggregate(_sur=(per_order._n - 1).sum())
    j = null_safe_join(item, surplus, ids, how="left")
    return j.mutate(
        orders=(j.order_lines - j._sur.fill_null(0)).cast("int64"),
        n_periods=(horizon - j._first + 1).cast("int64"),
    ).drop("_sur")


def null_safe_join(
    left: ir.Table, right: ir.Table, ids: Sequence[str], how: Literal["inner", "left"] = "inner"
) -> ir.Table:
    """Join on ``ids`` where null equals null (an item may have no location)."""
    renamed = right.rename({f"_k{i}": c for i, c in enumerate(ids)})
    preds = [left[c].identical_to(renamed[f"_k{i}"]) for i, c in enumerate(ids)]
    joined = left.join(renamed, preds, how=how)
    return joined.drop(*[f"_k{i}" for i in range(len(ids))])


# --- classification expressions -------------------------------------------------------------

_NULL = ibis.null("float64")


def xyz_columns(t: ir.Table, s: DemandSettings) -> dict[str, ir.Value]:
    """mean, std, cv and xyz_class from the sums of `item_series_stats`.

    ``cv <= c`` is tested as ``n * S2 - T² <= c² * T²`` (exact for integer demand).
    """
    n = t.n_periods.cast("float64")
    total = t._t
    vn = n * t._s2 - total * total  # n² · population variance
    std = (ibis.greatest(vn, 0.0) / (n * n)).sqrt()
    labels = s.xyz_class_labels
    branches = [(total <= 0, labels[-1])]
    branches += [(vn <= (c * c) * (total * total), labels[i]) for i, c in enumerate(s.xyz_cutoffs)]
    return {
        "mean": total / n,
        "std": std,
        "cv": ibis.cases((total > 0, std / (total / n)), else_=_NULL),
        "xyz_class": ibis.cases(*branches, else_=labels[-1]),
    }


def pattern_columns(t: ir.Table, s: DemandSettings) -> dict[str, ir.Value]:
    """adi, cv2 and the SBC pattern from the sums of `item_series_stats`."""
    m = t.n_nonzero.cast("float64")
    ps, ps2 = t._ps, t._ps2
    vn = m * ps2 - ps * ps  # m² · variance of the positive sizes
    adi = ibis.cases((m > 0, t.n_periods.cast("float64") / m), else_=_NULL)
    low_adi = adi < s.adi_threshold
    low_cv2 = vn < s.cv2_threshold * (ps * ps)
    return {
        "adi": adi,
        "cv2": ibis.cases((m >= 2, ibis.greatest(vn, 0.0) / (ps * ps)), else_=_NULL),
        "pattern": ibis.cases(
            (m < 2, "insufficient_history"),
            (low_adi & low_cv2, "smooth"),
            (low_adi, "erratic"),
            (low_cv2, "intermittent"),
            else_="lumpy",
        ),
    }


def abc_order(t: ir.Table, ids: Sequence[str], key: str) -> list[Any]:
    """Sort keys of ABC: ``key`` descending, then the ids ascending, nulls last.

    Backends disagree on the default null order; Ibis writes NULLS LAST where a dialect needs
    it (DuckDB's default, explicit on Spark).
    """
    keys = [ibis.desc(t[key], nulls_first=False)]
    return keys + [ibis.asc(t[c], nulls_first=False) for c in ids]


def abc_keys(t: ir.Table, ids: Sequence[str], s: DemandSettings) -> ir.Table:
    """The engine side of ABC: ``ABC_KEY`` to order the result by, and what the client needs.

    Measures are rounded to 6 decimals: float sums of equal amounts can differ in the last bit
    with the summation order, which must not decide a rank or a class. The key is the first
    measure, or with rule weighted ``sum(weight * share)``, each share over the measure's
    positive total (a scalar subquery), rounded to 12 decimals. Every other measure that
    needs a class of its own gets ``_k_<measure>`` (its rounded value) and ``_r_<measure>``
    (its rank).
    """
    measures = s.abc_measures
    rounded = {m: t[m].cast("float64").round(6) for m in measures}
    if len(measures) > 1 and s.abc_rule == "weighted":
        score: ir.FloatingValue = ibis.literal(0.0)
        for m, w in zip(measures, s.abc_weight_values, strict=True):
            pos = ibis.cases((rounded[m] > 0, rounded[m]), else_=0.0)
            total = pos.sum().as_scalar()
            score = score + w * ibis.cases((total > 0, pos / total), else_=0.0)
        key, others = score.round(12), measures
    else:
        key, others = rounded[measures[0]], measures[1:]
    t = t.mutate(**{ABC_KEY: key}, **{f"_k_{m}": rounded[m] for m in others})
    ranks = {
        f"_r_{m}": (
            ibis.row_number().over(ibis.window(order_by=abc_order(t, ids, f"_k_{m}"))) + 1
        ).cast("int64")
        for m in others
    }
    return t.mutate(**ranks) if ranks else t
