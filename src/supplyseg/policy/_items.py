"""Per-item inputs of the policies as arrays: segment, pattern, demand, lead time, cost, lot size.

An *item* is a product at a location (a row of ``demand_product_location``) or, without
locations, a product (``demand_product``). `item_inputs` gives every item its product's primary
segment, its demand per bucket (the forecast's ``demand_mean``/``demand_std`` when given for
the item, else the profile's ``mean``/``std``), its lifecycle columns when the demand table has
them, its forecast path (`ItemPath`), and the products table's lead time, lead-time std, unit
cost, moq and order multiple, with the defaults of `PolicySettings` and a code saying where
each value came from (the rationale names it). New items with too short a history take their
demand from analogues (`analogue_demand`). Per-product lookups run once per distinct product
and are spread to its item-locations. `rows_of_items` matches the rows of a forecast, forecast
path or history table to items by the ids `supplyseg.policy.assign` documents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from supplyseg.config.policy import UNSEGMENTED, PolicySettings
from supplyseg.data.contract import require_columns
from supplyseg.errors import DataContractError, PolicyError
from supplyseg.policy._codes import (
    LIFECYCLES,
    NEW,
    PATTERNS,
    SHORT,
    BoolArray,
    FloatArray,
    IntArray,
    arrow_strings,
    codes,
    floats,
    item_keys,
    positions,
)

__all__ = ["DEMAND_SOURCES", "PATH_SOURCES", "ItemPath", "Items", "item_inputs", "rows_of_items"]

DEMAND_SOURCES = ("history", "forecast", "forecast_path", "last_season_path")
"""``demand_source`` labels of codes 0..3; analogue labels follow (``Items.src_labels``).
``last_season_path``: a forecast path from last season's same periods (``path_source`` of the
forecast table, `supplyseg.policy.last_season`)."""
HISTORY, FORECAST, FORECAST_PATH, LAST_SEASON = range(len(DEMAND_SOURCES))
PATH_SOURCES = (FORECAST_PATH, LAST_SEASON)


@dataclass
class ItemPath:
    """Forecast paths as flat arrays sorted by item, then step: item i owns
    ``values[start[i]:start[i] + count[i]]`` (steps 1..count), ``cum`` their running sums."""

    start: IntArray
    count: IntArray
    values: FloatArray
    cum: FloatArray

    @property
    def has(self) -> BoolArray:
        """Items with a path."""
        out: BoolArray = self.count > 0
        return out

    def demand_over(self, p: FloatArray) -> FloatArray:
        """Expected demand over ``p`` buckets per item (NaN without a path): the path's first
        ``floor(p)`` buckets plus the fraction of the next; beyond the horizon, the path mean
        per bucket."""
        n = self.count
        whole = np.floor(p).astype(np.int64)
        k = np.minimum(whole, n)
        last = self.start + np.maximum(k, 1) - 1
        upto = np.where(k > 0, self.cum[np.minimum(last, len(self.cum) - 1)], 0.0)
        nxt = self.values[np.minimum(self.start + whole, len(self.values) - 1)]
        total = self.cum[np.minimum(self.start + np.maximum(n, 1) - 1, len(self.cum) - 1)]
        mean = total / np.maximum(n, 1)
        inside = upto + (p - whole) * np.where(whole < n, nxt, 0.0)
        out: FloatArray = np.where(whole < n, inside, total + (p - n) * mean)
        return np.where(n > 0, out, np.nan)


@dataclass
class Items:
    """Per-item inputs as arrays (all the same length); ``tcode`` indexes the template table."""

    ids: pd.DataFrame
    product: pa.Array
    location: pa.Array | None
    tcode: IntArray
    pattern: IntArray  # index into PATTERNS, -1 unknown
    d: FloatArray
    sd: FloatArray
    d_src: IntArray  # index into src_labels: DEMAND_SOURCES, then "analogue: ..." labels
    src_labels: list[str]
    d_hist: FloatArray  # history mean (the bootstrap's own mean when d is a forecast)
    lifecycle: IntArray  # index into LIFECYCLES, -1 unknown
    since: FloatArray  # buckets since the last demand, NaN unknown
    frequency: FloatArray  # share of buckets with demand (1 / ADI), NaN unknown
    last_demand: pd.Series  # last_demand_date per item (NaT unknown)
    path: ItemPath | None
    lt_days: FloatArray
    slt_days: FloatArray
    lt_src: IntArray  # 0 products, 1 default (no column), 2 default (value missing)
    slt_src: IntArray  # 0 products, 1 default
    cost: FloatArray
    cost_src: IntArray  # 0 products.unit_cost, 1 order-line average, 2 unknown
    moq: FloatArray
    multiple: FloatArray

    @property
    def has_loc(self) -> bool:
        return self.location is not None

    @property
    def keys(self) -> pa.Array:
        """``product_id`` or ``product_id@location_id`` per item (to match other tables)."""
        return item_keys(self.product, self.location)


def rows_of_items(name: str, other: pd.DataFrame, keys: pa.Array, has_loc: bool) -> IntArray:
    """For each row of a forecast/history table, the item it belongs to (-1: none)."""
    if "product_id" not in other.columns:
        require_columns(name, other, ["unique_id"])
        return positions(arrow_strings(other["unique_id"]), keys)
    if has_loc != ("location_id" in other.columns):
        raise DataContractError(
            f"{name}: {'has no' if has_loc else 'has a'} location_id column but the demand"
            f" table {'has' if has_loc else 'has not'}; give both at the same grain"
        )
    loc = arrow_strings(other["location_id"]) if has_loc else None
    return positions(item_keys(arrow_strings(other["product_id"]), loc), keys)


def _product_column(
    products: pd.DataFrame, col: str, pos: IntArray, low: float, low_open: bool = False
) -> FloatArray | None:
    """A numeric products column per item (NaN for unknown products/values), range-checked."""
    if col not in products.columns:
        return None
    v = floats(products, col)
    bad = (v <= low if low_open else v < low) | np.isinf(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        allowed = f"({low:g}, inf)" if low_open else f"[{low:g}, inf)"
        raise PolicyError(
            f"products.{col}: value {float(v[i])!r} for product {products['product_id'].iloc[i]!r}"
            f" is outside the allowed range {allowed}; fix the value or leave it empty"
        )
    return (
        np.where(pos >= 0, v[np.maximum(pos, 0)], np.nan) if len(v) else np.full(len(pos), np.nan)
    )


@dataclass
class _ProductAttributes:
    """Products-table values per product, defaults filled in."""

    lt: FloatArray
    slt: FloatArray
    lt_src: IntArray
    slt_src: IntArray
    cost: FloatArray
    moq: FloatArray
    multiple: FloatArray


def _product_attributes(
    products: pd.DataFrame | None, product_ids: pa.Array, settings: PolicySettings
) -> _ProductAttributes:
    n = len(product_ids)
    out = _ProductAttributes(
        lt=np.full(n, settings.default_lead_time_days),
        slt=np.full(n, settings.default_lead_time_std_days),
        lt_src=np.ones(n, dtype=np.int64),
        slt_src=np.ones(n, dtype=np.int64),
        cost=np.full(n, np.nan),
        moq=np.zeros(n),
        multiple=np.ones(n),
    )
    if products is None:
        return out
    require_columns("products", products, ["product_id"])
    keys = arrow_strings(products["product_id"])
    if len(pc.unique(keys)) != len(keys):
        dup = products["product_id"][products["product_id"].duplicated()].iloc[0]
        raise DataContractError(f"products: product_id {dup!r} appears twice; give one row each")
    pos = positions(product_ids, keys)
    lt = _product_column(products, "lead_time_days", pos, 0.0)
    if lt is not None:
        out.lt = np.where(np.isfinite(lt), lt, out.lt)
        out.lt_src = np.where(np.isfinite(lt), 0, 2)
    slt = _product_column(products, "lead_time_std_days", pos, 0.0)
    if slt is not None:
        out.slt = np.where(np.isfinite(slt), slt, out.slt)
        out.slt_src = np.where(np.isfinite(slt), 0, 1)
    cost = _product_column(products, "unit_cost", pos, 0.0)
    if cost is not None:
        out.cost = np.where(cost > 0, cost, np.nan)  # a zero cost gives no EOQ either
    moq = _product_column(products, "moq", pos, 0.0)
    if moq is not None:
        out.moq = np.nan_to_num(moq, nan=0.0)
    multiple = _product_column(products, "order_multiple", pos, 0.0, low_open=True)
    if multiple is not None:
        out.multiple = np.nan_to_num(multiple, nan=1.0)
    return out


def item_path(path: pd.DataFrame, keys: pa.Array, has_loc: bool, notes: list[str]) -> ItemPath:
    """The forecast path per item (``unique_id`` or product/location ids, ``step`` 1..H,
    ``forecast`` >= 0); `DataContractError` for gaps, duplicates and bad values."""
    require_columns("forecast_path", path, ["step", "forecast"])
    item = rows_of_items("forecast_path", path, keys, has_loc)
    step, value = floats(path, "step"), floats(path, "forecast")
    bad = (item >= 0) & ~(np.isfinite(value) & (value >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        key = keys[int(item[i])].as_py()
        raise DataContractError(
            f"forecast_path.forecast: value {float(value[i])!r} for item {key!r} step {step[i]:g};"
            " allowed: a number >= 0 in every bucket"
        )
    if unmatched := int((item < 0).sum()):
        notes.append(f"policies: {unmatched} forecast_path row(s) match no item; ignored")
    ok = item >= 0
    item, step, value = item[ok], step[ok], value[ok]
    order = np.lexsort((step, item))
    item, step, value = item[order], step[order], value[order]
    count = np.bincount(item, minlength=len(keys)).astype(np.int64)
    start = np.cumsum(count) - count
    rank = np.arange(len(item)) - start[item] + 1
    gap = step != rank
    if gap.any():
        i = int(np.flatnonzero(gap)[0])
        raise DataContractError(
            f"forecast_path.step: item {keys[int(item[i])].as_py()!r} has step {step[i]:g} where"
            f" {rank[i]} was expected; give steps 1..H once each"
        )
    cum = np.cumsum(value)
    cum -= np.repeat(cum[start[count > 0]] - value[start[count > 0]], count[count > 0])
    return ItemPath(start, count, value, cum)


def _analogue_demand(
    it: Items, groups: list[tuple[str, list[str], IntArray]], short: BoolArray, notes: list[str]
) -> None:
    """New items with too short a history take the median demand mean and CV of the active
    items of their first group that has any (category, then segment); in place."""
    active = (it.lifecycle == LIFECYCLES.index("active")) & (it.d > 0)
    todo = (it.lifecycle == NEW) & short
    if not todo.any():
        return
    cv = np.divide(it.sd, it.d, out=np.zeros(len(it.d)), where=it.d > 0)
    for kind, labels, code in groups:
        if not todo.any():
            break
        use = active & (code >= 0)
        if not use.any():
            continue
        frame = pd.DataFrame({"g": code[use], "d": it.d[use], "cv": cv[use]})
        med = frame.groupby("g").median()
        d_med = np.full(len(labels), np.nan)
        cv_med = np.full(len(labels), np.nan)
        d_med[med.index.to_numpy()] = med["d"].to_numpy()
        cv_med[med.index.to_numpy()] = med["cv"].to_numpy()
        at = np.where(code >= 0, code, 0)
        hit = todo & (code >= 0) & np.isfinite(d_med[at])
        if not hit.any():
            continue
        first = len(it.src_labels)
        it.src_labels.extend(f"analogue: {kind} {label}" for label in labels)
        it.d = np.where(hit, d_med[at], it.d)
        it.sd = np.where(hit, d_med[at] * cv_med[at], it.sd)
        it.d_src = np.where(hit, first + at, it.d_src)
        todo &= ~hit
    used = int(((it.lifecycle == NEW) & short).sum() - todo.sum())
    notes.append(
        f"policies: {used} new item(s) with too short a history take demand from analogues"
        + (f"; {int(todo.sum())} have no active analogue and keep their own" if todo.any() else "")
    )


def _item_lead_times(
    given: pd.DataFrame,
    keys: pa.Array,
    lt: FloatArray,
    slt: FloatArray,
    lt_src: IntArray,
    slt_src: IntArray,
) -> None:
    """Per item-location lead times over the product's (source code 0: the rationale names
    them as the products column's, which `supplyseg.segment.supply` relabels); in place."""
    cols = ["product_id", "location_id", "lead_time_days", "lead_time_std_days"]
    require_columns("item_lead_times", given, cols)
    at = rows_of_items("item_lead_times", given, keys, True)
    mean, std = floats(given, "lead_time_days"), floats(given, "lead_time_std_days")
    bad = (mean < 0) | np.isinf(mean) | (std < 0) | np.isinf(std)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise PolicyError(
            f"item_lead_times: lead time {float(mean[i])!r} d (std {float(std[i])!r}) for"
            f" {given['product_id'].iloc[i]!r} at {given['location_id'].iloc[i]!r} is outside"
            " [0, inf); fix the receipt or order dates behind it"
        )
    ok = (at >= 0) & np.isfinite(mean)
    lt[at[ok]], lt_src[at[ok]] = mean[ok], 0
    ok &= np.isfinite(std)
    slt[at[ok]], slt_src[at[ok]] = std[ok], 0


def _per_item_floats(demand: pd.DataFrame, col: str) -> FloatArray:
    return floats(demand, col) if col in demand.columns else np.full(len(demand), np.nan)


def item_inputs(
    demand: pd.DataFrame,
    seg_rows: pd.DataFrame,
    products: pd.DataFrame | None,
    settings: PolicySettings,
    forecast: pd.DataFrame | None,
    notes: list[str],
    forecast_path: pd.DataFrame | None = None,
    item_lead_times: pd.DataFrame | None = None,
) -> tuple[Items, list[str]]:
    """Item arrays and the product segment labels (``tcode`` indexes them); what was filled
    in or left out is appended to ``notes``. ``seg_rows``: primary ``product_id, segment``.
    ``item_lead_times``: ``product_id, location_id, lead_time_days, lead_time_std_days`` per
    item-location (e.g. learned from its purchase orders), which win over the products
    table's (an empty std keeps the product's); used only with locations."""
    require_columns("demand", demand, ["product_id", "mean", "std", "pattern"])
    has_loc = "location_id" in demand.columns
    ids = ["product_id", "location_id"] if has_loc else ["product_id"]
    prod = arrow_strings(demand["product_id"])
    loc = arrow_strings(demand["location_id"]).fill_null("") if has_loc else None
    if prod.null_count:
        raise DataContractError("demand.product_id: missing values; every item needs a product")
    # Per-product lookups run once per distinct product, then spread to the item-locations.
    enc = pc.dictionary_encode(prod)
    pcode = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    uniq = enc.dictionary
    n = len(demand)
    if loc is not None:
        lenc = pc.dictionary_encode(loc)
        lcode = np.asarray(lenc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        dup = pd.Series(pcode * len(lenc.dictionary) + lcode).duplicated().to_numpy()
    else:
        dup = pd.Series(pcode).duplicated().to_numpy()
    if dup.any():
        row = demand.iloc[int(np.flatnonzero(dup)[0])]
        raise DataContractError(f"demand: {dict(row[ids])} appears twice; give one row per item")
    labels = list(dict.fromkeys(seg_rows["segment"].astype(str)))
    pos_uniq = positions(uniq, arrow_strings(seg_rows["product_id"]))
    pos = pos_uniq[pcode]
    seg_code = codes(seg_rows["segment"].astype(str), labels)
    tcode = np.where(pos >= 0, seg_code[np.maximum(pos, 0)] if len(seg_code) else -1, -1)
    if (tcode < 0).any():
        notes.append(
            f"policies: {int((tcode < 0).sum())} item(s) whose product has no primary segment"
            f" get the {UNSEGMENTED!r} template"
        )
        labels.append(UNSEGMENTED)
        tcode = np.where(tcode < 0, len(labels) - 1, tcode)
    hit = np.zeros(len(seg_rows), dtype=bool)
    hit[pos_uniq[pos_uniq >= 0]] = True
    unused = int((~hit).sum())
    if unused:
        notes.append(f"policies: {unused} segmented product(s) have no demand rows, no policy")

    d = np.nan_to_num(floats(demand, "mean"), nan=0.0)
    sd = np.nan_to_num(floats(demand, "std"), nan=0.0)
    d_src, d_hist = np.full(n, HISTORY, dtype=np.int64), d.copy()
    keys = item_keys(prod, loc) if forecast is not None or forecast_path is not None else None
    if forecast is not None:
        assert keys is not None
        require_columns("forecast", forecast, ["demand_mean", "demand_std"])
        at = rows_of_items("forecast", forecast, keys, has_loc)
        fm, fs = floats(forecast, "demand_mean"), floats(forecast, "demand_std")
        ok = (at >= 0) & np.isfinite(fm) & np.isfinite(fs) & (fs >= 0)
        d[at[ok]], sd[at[ok]], d_src[at[ok]] = fm[ok], fs[ok], FORECAST
        if missing := int((d_src == HISTORY).sum()):
            notes.append(f"policies: {missing} item(s) not in the forecast use history")
    path = None
    if forecast_path is not None:
        assert keys is not None
        path = item_path(forecast_path, keys, has_loc, notes)
        d_src = np.where(path.has, FORECAST_PATH, d_src)
        if forecast is not None and "path_source" in forecast.columns:
            at = rows_of_items("forecast", forecast, keys, has_loc)
            last = (forecast["path_source"] == "last_season").to_numpy() & (at >= 0)
            d_src[at[last]] = np.where(path.has[at[last]], LAST_SEASON, d_src[at[last]])
    if "lifecycle" in demand.columns:
        lifecycle = codes(demand["lifecycle"], LIFECYCLES)
        if bad := sorted(set(demand["lifecycle"].dropna().astype(str)) - set(LIFECYCLES)):
            raise DataContractError(
                f"demand.lifecycle: value {bad[0]!r} is unknown; allowed {', '.join(LIFECYCLES)}"
                " or empty"
            )
    else:
        lifecycle = np.full(n, -1, dtype=np.int64)
    frequency = _per_item_floats(demand, "adi")
    with np.errstate(divide="ignore", invalid="ignore"):
        frequency = np.where(frequency > 0, 1.0 / frequency, np.nan)
        if {"n_nonzero", "n_periods"} <= set(demand.columns):
            share = floats(demand, "n_nonzero") / floats(demand, "n_periods")
            frequency = np.where(np.isfinite(frequency), frequency, share)
    last_demand = (
        pd.to_datetime(demand["last_demand_date"]).reset_index(drop=True)
        if "last_demand_date" in demand.columns
        else pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    )

    attrs = _product_attributes(products, uniq, settings)
    lt_days, slt_days = attrs.lt[pcode], attrs.slt[pcode]
    lt_src, slt_src = attrs.lt_src[pcode], attrs.slt_src[pcode]
    if item_lead_times is not None and loc is not None and len(item_lead_times):
        _item_lead_times(item_lead_times, item_keys(prod, loc), lt_days, slt_days, lt_src, slt_src)
    if (lt_src != 0).any():
        notes.append(
            f"policies: {int((lt_src != 0).sum())} item(s) without products.lead_time_days use"
            f" the default {settings.default_lead_time_days:g} days"
        )
    cost = attrs.cost[pcode]
    cost_src = np.where(np.isfinite(cost), 0, 2)
    if {"revenue", "margin", "quantity"} <= set(demand.columns):
        qty = floats(demand, "quantity")
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = (floats(demand, "revenue") - floats(demand, "margin")) / qty
        use = (cost_src == 2) & np.isfinite(avg) & (avg > 0) & (qty > 0)
        cost, cost_src = np.where(use, avg, cost), np.where(use, 1, cost_src)
    if (cost_src == 2).any():
        notes.append(
            f"policies: unit cost unknown for {int((cost_src == 2).sum())} item(s): no"
            " inventory_value; Q covers policies.fallback_cover_days"
        )
    items = Items(
        ids=demand[ids].reset_index(drop=True),
        product=prod,
        location=loc,
        tcode=tcode.astype(np.int64),
        pattern=codes(demand["pattern"], PATTERNS),
        d=np.maximum(d, 0.0),
        sd=sd,
        d_src=d_src,
        src_labels=list(DEMAND_SOURCES),
        d_hist=d_hist,
        lifecycle=lifecycle,
        since=_per_item_floats(demand, "buckets_since_demand"),
        frequency=frequency,
        last_demand=last_demand,
        path=path,
        lt_days=lt_days,
        slt_days=slt_days,
        lt_src=lt_src,
        slt_src=slt_src,
        cost=cost,
        cost_src=cost_src.astype(np.int64),
        moq=attrs.moq[pcode],
        multiple=attrs.multiple[pcode],
    )
    pattern = items.pattern
    short = pattern == SHORT
    if "n_periods" in demand.columns:
        short |= np.nan_to_num(floats(demand, "n_periods"), nan=0.0) < settings.new_item_min_buckets
    groups = []
    if products is not None and "category" in products.columns:
        cat = products.set_index(products["product_id"].astype(str))["category"]
        per_item = pd.Series(prod.to_pandas()).map(cat)
        cat_code, cat_labels = pd.factorize(per_item.astype(object))
        groups.append(("category", [str(c) for c in cat_labels], cat_code.astype(np.int64)))
    groups.append(("segment", list(labels), items.tcode))
    _analogue_demand(items, groups, short, notes)
    return items, labels
