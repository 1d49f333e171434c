"""Policy simulation: replay a window of actual demand against each item's policy.

Did the policy deliver? `policy_simulation` takes a `policies` table (`supplyseg.policy.assign`)
and the actual net demand per item and bucket (a long ``unique_id, ds, y`` table, sparse: a
missing bucket is 0; ``unique_id`` is ``product_id`` or ``<product_id>@<location_id>``), replays
the last ``buckets`` periods (or those from ``start``) and reports, per stocked item, the fill
rate and cycle service achieved, the average stock on hand and how often and how much it
ordered. For an honest answer the policy must come from the data *before* the window: split the
history with `split_history`, compute the policies on ``before`` (the demand profile and
forecast up to `window_start` - 1 day), then replay ``window``::

    before, window = split_history(history, 26, bucket="week")
    start = window_start(history, 26, bucket="week")
    sim = policy_simulation(policies_before, window, buckets=26, start=start)
    summary = simulation_summary(sim)

Conventions (each is an assumption; `supplyseg.policy._replay` is the kernel):

- **Items**: one row per stocked item: ``rop_eoq`` with a reorder point and a lot size,
  ``order_up_to`` with a level ``S``, ``base_stock`` with both. ``make_to_order``,
  ``no_stock`` and items whose policy holds no stock (no net demand: no lot size) are not
  simulated. Items without demand in the window stay (their stock is the finding).
- **Whole buckets**: the lead time ``L`` and review period ``R`` (policies hold them in
  buckets, possibly fractional) are rounded to the nearest whole bucket, halves up; ``R`` is at
  least 1 (continuous review = a check at the end of every bucket).
- **Order of events in a bucket**: receipts due arrive at its start; its net demand leaves;
  at the end of a review bucket the inventory position (on hand + on order - backorders) is
  checked and an order placed, arriving at the start of the bucket ``L + 1`` later (``L = 0``:
  the next bucket). Lead times are deterministic (the policy's mean).
- **Replenishment logic**: ``rop_eoq`` is (s, nQ): when the position is at or below ``s``
  (the reorder point), order the smallest multiple of ``Q`` that lifts it above ``s`` (Silver,
  Pyke & Thomas 2017, ch. 6-7). ``order_up_to`` is (R, S): every ``R`` buckets order
  ``S - position`` when positive. ``base_stock`` is (s, S) min-max: at or below ``s`` order
  up to ``S`` (``S = s + Q``, Q one unit or the lot size). A ``rop_eoq`` template with a
  review period is checked every ``R`` buckets (R, s, nQ).
- **Backorders**, not lost sales: unmet demand waits for the next receipt (the textbook
  fill-rate formulas assume backorders; business-to-business customers mostly wait).
- **Returns**: negative net demand goes back on the shelf (raises stock, fills backorders);
  it is not demand, so it counts neither in ``demand`` nor in the fill rate.
- **Warm start**: the window starts in the policy's steady state on average: the inventory
  position at ``s + Q/2`` ((s, nQ); ``(s + S)/2`` for (s, S)) or ``S`` ((R, S), just after a
  review), of which the lead-time pipeline ``d * L`` is on order, arriving as ``d``
  (the policy's ``demand_mean``) at the start of each of buckets 1..L; the rest is on hand.
  Pipeline receipts are not counted as orders and close no cycle.
- **Fill rate** (beta): share of positive demand met from stock on hand in its bucket.
- **Cycle service** (alpha), as Silver, Pyke & Thomas define P1: the share of replenishment
  cycles without a stockout, a cycle being the time between two consecutive replenishment
  arrivals and a stockout any bucket in which demand was not fully met from stock. Only cycles
  closed by an order arriving inside the window count (the first starts at the window start);
  no arrival in the window = unknown (NaN).
- **On hand**: averaged over time, demand flowing evenly through each bucket.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from supplyseg.data.contract import require_columns
from supplyseg.errors import DataContractError
from supplyseg.policy._codes import (
    DAYS_PER_BUCKET,
    ITEM_KEY_SEP,
    STR,
    FloatArray,
    IntArray,
    arrow_strings,
    floats,
    positions,
)
from supplyseg.policy._replay import MIN_MAX, ORDER_UP_TO, REORDER_Q, Plan, replay

__all__ = [
    "SIMULATION_COLUMNS",
    "SUMMARY_COLUMNS",
    "policy_simulation",
    "simulation_summary",
    "split_history",
    "window_start",
]

SIMULATION_COLUMNS = (
    "unique_id",
    "product_id",
    "location_id",
    "product_segment",
    "service_type",
    "service_target",
    "achieved_fill_rate",
    "achieved_cycle_service",
    "avg_on_hand",
    "avg_on_hand_value",
    "stockout_buckets",
    "orders",
    "demand",
)
"""Columns of `policy_simulation`."""
SUMMARY_COLUMNS = (
    "product_segment",
    "service_type",
    "items",
    "demand",
    "service_target",
    "achieved_fill_rate",
    "achieved_cycle_service",
    "avg_on_hand_value",
    "items_cost_unknown",
)
"""Columns of `simulation_summary`."""

_LOGIC = {"rop_eoq": REORDER_Q, "order_up_to": ORDER_UP_TO, "base_stock": MIN_MAX}
_NOT_STOCKED = ("make_to_order", "no_stock")
_POLICY_NEEDS = (
    "product_id",
    "inventory_rule",
    "reorder_point",
    "order_quantity",
    "order_up_to",
    "review_period",
    "lead_time",
    "demand_mean",
)


# --------------------------------------------------------------------------- calendar


def _bucket_of(policies: pd.DataFrame | None, bucket: str | None) -> str:
    if bucket is None and policies is not None and "bucket" in policies.columns:
        found = sorted({str(b) for b in policies["bucket"].dropna().unique()})
        if len(found) > 1:
            raise DataContractError(
                f"policies: bucket has several values {found}; simulate one bucket at a time"
            )
        bucket = found[0] if found else None
    if bucket is None:
        raise DataContractError("policies: no bucket column; pass bucket='day' | 'week' | 'month'")
    if bucket not in DAYS_PER_BUCKET:
        raise DataContractError(
            f"bucket={bucket!r}: unknown; allowed: {', '.join(DAYS_PER_BUCKET)}"
        )
    return bucket


def _dates(history: pd.DataFrame) -> pd.Series:
    try:
        ds = pd.to_datetime(history["ds"])
    except (TypeError, ValueError) as exc:
        raise DataContractError(f"history.ds: not dates ({exc}); give period start dates") from None
    if ds.isna().any():
        raise DataContractError("history.ds: missing dates; give a period start in every row")
    return ds.dt.tz_localize(None) if ds.dt.tz is not None else ds


def _offset(ds: pd.Series, start: pd.Timestamp, bucket: str) -> IntArray:
    """Whole buckets from ``start`` to each date (negative before it)."""
    if bucket == "month":
        months = (ds.dt.year - start.year) * 12 + (ds.dt.month - start.month)
        out: IntArray = np.asarray(months, dtype=np.int64)
        return out
    days: IntArray = np.asarray((ds - start).dt.days, dtype=np.int64)
    return days // np.int64(DAYS_PER_BUCKET[bucket])


def _shift(when: pd.Timestamp, buckets: int, bucket: str) -> pd.Timestamp:
    if bucket == "month":
        return when + pd.DateOffset(months=buckets)
    return when + pd.Timedelta(days=int(DAYS_PER_BUCKET[bucket]) * buckets)


def window_start(
    history: pd.DataFrame,
    buckets: int,
    *,
    bucket: str = "week",
    end: date | str | pd.Timestamp | None = None,
) -> pd.Timestamp:
    """First period of the window of ``buckets`` periods ending with ``end`` (default: the
    last ``ds`` in ``history``)."""
    require_columns("history", history, ["unique_id", "ds", "y"])
    return _window_start(_dates(history) if end is None else None, buckets, bucket, end)


def _window_start(
    ds: pd.Series | None, buckets: int, bucket: str, end: date | str | pd.Timestamp | None
) -> pd.Timestamp:
    bucket = _bucket_of(None, bucket)
    if buckets < 1:
        raise DataContractError(f"buckets={buckets}: must be at least 1")
    if end is None:
        if ds is None or len(ds) == 0:
            raise DataContractError("history: no rows; give demand history or a window end")
        last = pd.Timestamp(ds.max())
    else:
        last = pd.Timestamp(end)
    return _shift(last, -(buckets - 1), bucket)


def split_history(
    history: pd.DataFrame,
    buckets: int,
    *,
    bucket: str = "week",
    end: date | str | pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(before, window)``: the rows before the last ``buckets`` periods (to build the policy
    from) and the rows in them (to replay); rows after ``end`` are in neither."""
    require_columns("history", history, ["unique_id", "ds", "y"])
    ds = _dates(history)
    start = _window_start(ds, buckets, bucket, end)
    at = _offset(ds, start, bucket)
    before = history[at < 0].reset_index(drop=True)
    window = history[(at >= 0) & (at < buckets)].reset_index(drop=True)
    return before, window


# --------------------------------------------------------------------------- inputs


def _item_keys(policies: pd.DataFrame) -> pa.Array:
    product = arrow_strings(policies["product_id"])
    if "location_id" not in policies.columns:
        return product
    location = pc.cast(arrow_strings(policies["location_id"]), product.type)
    joined = pc.binary_join_element_wise(product, location, pa.scalar(ITEM_KEY_SEP, product.type))
    return pc.if_else(pc.is_null(location), product, joined)


def _whole(x: FloatArray) -> IntArray:
    """Nearest whole number of buckets, halves up, never negative."""
    return np.maximum(np.floor(x + 0.5), 0.0).astype(np.int64)


def _stocked_plan(policies: pd.DataFrame) -> tuple[IntArray, Plan]:
    """The rows to simulate and their replay inputs; errors name the row and the fix."""
    rules = policies["inventory_rule"].astype(object).to_numpy()
    known = set(_LOGIC) | set(_NOT_STOCKED)
    bad = [r for r in pd.unique(rules) if r not in known]
    if bad:
        raise DataContractError(
            f"policies.inventory_rule: value {bad[0]!r} is unknown; allowed: {sorted(known)}"
        )
    logic = np.array([_LOGIC.get(r, -1) for r in rules], dtype=np.int64)
    s, q, big_s = (floats(policies, c) for c in ("reorder_point", "order_quantity", "order_up_to"))
    lead, review, d = (floats(policies, c) for c in ("lead_time", "review_period", "demand_mean"))
    rop_ok = np.isfinite(s) & np.isfinite(q) & (q > 0)
    stocked = np.select(
        [logic == REORDER_Q, logic == ORDER_UP_TO, logic == MIN_MAX],
        [rop_ok, np.isfinite(big_s), np.isfinite(s) & np.isfinite(big_s) & (big_s > s)],
        False,
    )
    rows = np.flatnonzero(stocked)
    lt = lead[rows]
    if not np.all(np.isfinite(lt) & (lt >= 0)):
        i = rows[np.flatnonzero(~(np.isfinite(lt) & (lt >= 0)))[0]]
        raise DataContractError(
            f"policies.lead_time: value {lead[i]!r} for item {policies['product_id'].iloc[i]!r}"
            " is not a lead time; a stocked item needs lead_time >= 0 (buckets)"
        )
    lg, s, q, big_s = logic[rows], s[rows], q[rows], big_s[rows]
    rv = review[rows]
    d_rows = np.where(np.isfinite(d[rows]), np.maximum(d[rows], 0.0), 0.0)
    ip0 = np.select([lg == REORDER_Q, lg == MIN_MAX], [s + q / 2.0, (s + big_s) / 2.0], big_s)
    plan = Plan(
        logic=lg,
        s=np.where(lg == ORDER_UP_TO, -np.inf, s),
        q=np.where(lg == REORDER_Q, q, np.nan),
        big_s=np.where(lg == REORDER_Q, np.inf, big_s),
        review=np.maximum(_whole(np.where(np.isfinite(rv), rv, 0.0)), 1),
        lead=_whole(lt),
        d=d_rows,
        ip0=ip0,
    )
    return rows, plan


def _demand_matrix(
    history: pd.DataFrame,
    ds: pd.Series,
    keys: pa.Array,
    start: pd.Timestamp,
    buckets: int,
    bucket: str,
) -> FloatArray:
    """Net demand per bucket (rows) and item (columns); absent rows are 0."""
    y = floats(history, "y")
    if np.isnan(y).any():
        raise DataContractError(
            "history.y: missing or non-numeric values; give the net demand of every row"
        )
    item = positions(arrow_strings(history["unique_id"]), keys)
    at = _offset(ds, start, bucket)
    use = (item >= 0) & (at >= 0) & (at < buckets)
    n = len(keys)
    flat = at[use] * n + item[use]
    sums = np.zeros(buckets * n)
    np.add.at(sums, flat, y[use])  # several rows of one item and bucket add up
    return sums.reshape(buckets, n)


# --------------------------------------------------------------------------- public


def policy_simulation(
    policies: pd.DataFrame,
    history: pd.DataFrame,
    *,
    buckets: int = 26,
    start: date | str | pd.Timestamp | None = None,
    bucket: str | None = None,
    horizon_end: date | str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Replay ``buckets`` periods of actual net demand against each stocked item's policy.

    ``history``: ``unique_id, ds, y`` (sparse; ``ds`` the period start); ``start``: the first
    period of the window (default: `window_start` of ``history``, i.e. the window ends with
    its last period); ``bucket``: default the policies' ``bucket`` column; ``horizon_end``:
    the last period the data covers (a sparse history ends at its last demand, which may be
    earlier: the periods after it had none). Returns one row per stocked item in
    `SIMULATION_COLUMNS` (conventions: the module docstring).
    """
    require_columns("policies", policies, list(_POLICY_NEEDS))
    require_columns("history", history, ["unique_id", "ds", "y"])
    if not isinstance(buckets, int | np.integer) or buckets < 1:
        raise DataContractError(f"buckets={buckets!r}: must be a whole number >= 1")
    bucket = _bucket_of(policies, bucket)
    ds = _dates(history)
    first = _window_start(ds, buckets, bucket, None) if start is None else pd.Timestamp(start)
    if len(history) or horizon_end is not None:
        last = max(
            pd.Timestamp(x) for x in (ds.max() if len(ds) else None, horizon_end) if x is not None
        )
        end = _shift(first, buckets - 1, bucket)
        if _offset(pd.Series([last]), end, bucket)[0] < 0:
            raise DataContractError(
                f"window {first.date()} + {buckets} {bucket}s ends {end.date()}, after the"
                f" last period in history ({last.date()}); fix: an earlier start or fewer"
                " buckets"
            )
    rows, plan = _stocked_plan(policies)
    stocked = policies.iloc[rows].reset_index(drop=True)
    keys = _item_keys(stocked)
    if len(pc.unique(keys)) != len(keys):
        raise DataContractError(
            "policies: an item-location appears twice; give one row per product_id and location_id"
        )
    demand = _demand_matrix(history, ds, keys, first, buckets, bucket)
    out = replay(demand, plan)
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(out.demand > 0, 1.0 - out.short / out.demand, np.nan)
        cycle = np.where(out.cycles > 0, 1.0 - out.failed / out.cycles, np.nan)
    on_hand = out.on_hand / buckets
    n = len(stocked)

    def text(col: str) -> pd.Series:
        if col not in stocked.columns:
            return pd.Series(np.nan, index=range(n), dtype=STR)
        return stocked[col].astype(STR)

    cost = floats(stocked, "unit_cost") if "unit_cost" in stocked.columns else np.full(n, np.nan)
    target = (
        floats(stocked, "service_target")
        if "service_target" in stocked.columns
        else np.full(n, np.nan)
    )
    return pd.DataFrame(
        {
            "unique_id": pd.Series(keys, dtype=STR),
            "product_id": text("product_id"),
            "location_id": text("location_id"),
            "product_segment": text("product_segment"),
            "service_type": text("service_type"),
            "service_target": target,
            "achieved_fill_rate": fill,
            "achieved_cycle_service": cycle,
            "avg_on_hand": on_hand,
            "avg_on_hand_value": on_hand * cost,
            "stockout_buckets": out.stockout_buckets,
            "orders": out.orders,
            "demand": out.demand,
        }
    )


def simulation_summary(sim: pd.DataFrame) -> pd.DataFrame:
    """Per product segment and service type: items, total demand, the demand-weighted target,
    achieved fill rate (= the pooled fill rate) and cycle service (items with a closed cycle),
    the summed average on-hand value (items of known cost) and how many items lack a cost."""
    require_columns("sim", sim, [c for c in SIMULATION_COLUMNS if c != "unique_id"])
    f = pd.DataFrame(
        {
            "product_segment": sim["product_segment"].astype(STR).fillna("(none)"),
            "service_type": sim["service_type"].astype(STR).fillna("(none)"),
            "demand": sim["demand"].astype(np.float64),
        }
    )
    w = f["demand"]

    def weighted(col: str) -> tuple[pd.Series, pd.Series]:
        v = sim[col].astype(np.float64)
        ok = v.notna() & (w > 0)
        return (v * w).where(ok, 0.0), w.where(ok, 0.0)

    for col in ("service_target", "achieved_fill_rate", "achieved_cycle_service"):
        f[col + "_num"], f[col + "_den"] = weighted(col)
    value = sim["avg_on_hand_value"].astype(np.float64)
    f["value"] = value
    f["cost_unknown"] = value.isna().astype(np.int64)
    g = f.groupby(["product_segment", "service_type"], sort=True, observed=True)
    agg = g.agg(
        items=("demand", "size"),
        demand=("demand", "sum"),
        avg_on_hand_value=("value", lambda v: v.sum(min_count=1)),
        items_cost_unknown=("cost_unknown", "sum"),
        **{
            f"{c}_{p}": (f"{c}_{p}", "sum")
            for c in ("service_target", "achieved_fill_rate", "achieved_cycle_service")
            for p in ("num", "den")
        },
    ).reset_index()
    for col in ("service_target", "achieved_fill_rate", "achieved_cycle_service"):
        den = agg.pop(col + "_den")
        agg[col] = (agg.pop(col + "_num") / den).where(den > 0)
    out = agg[list(SUMMARY_COLUMNS)]
    return out.astype(
        {
            "product_segment": STR,
            "service_type": STR,
            "items": "int64",
            "items_cost_unknown": "int64",
        }
    )
