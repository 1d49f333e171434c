"""Policy templates per segment -> inventory parameters per item-location, and the order rules.

An *item* is a product at a location (one row of ``demand_product_location``) or, without
locations, a product (``demand_product``). `policy_outputs` gives every item the template of its
product's primary segment (or the strictest customer x product matrix cell, see
`supplyseg.config.policy`) and computes its parameters in one vectorised pass through the
kernels of `supplyseg.policy.inventory`:

- **Demand** per bucket: ``demand_mean``/``demand_std`` of the forecast table when given for
  the item, else ``mean``/``std`` of the demand profile (population std of the bucketed series).
  A mean <= 0 (no net demand) means no stock is held.
- **Lead time** ``L`` and its std ``sigma_L``, in buckets: ``products.lead_time_days`` /
  ``lead_time_std_days`` divided by the days per bucket (day 1, week 7, month 365.25 / 12);
  missing values take ``default_lead_time_days`` / ``default_lead_time_std_days`` and the
  rationale says so. The review period ``R`` (template, days) is converted the same way; the
  protection interval is ``P = L + R`` (R = 0 for continuous review).
- **Distribution** by demand pattern, for cycle-service targets: normal for smooth, erratic and
  too little history; gamma (moments of lead-time demand) for intermittent; for lumpy, an
  empirical bootstrap of the item's history (``history`` given; ``P`` rounded to whole buckets,
  blocks of consecutive buckets when the history is long enough, else independent draws) or
  gamma; Poisson for intermittent or short-history items with mean demand below
  ``slow_mover_mean`` per bucket (variance = mean; ``sigma_L`` ignored). Gamma needs
  ``d * P > 1e-9``; otherwise normal. **Fill-rate** targets use the normal loss function for
  every pattern (the kernels have no gamma/Poisson/empirical fill-rate model); the rationale
  says so. Gamma quantiles of more than 4,000 items at one target come from a cubic spline of
  the standard-gamma quantile over log shape (max relative error 5e-10 against scipy) instead
  of ~1 µs per item; below that, and for shapes outside 1e-2..1e5, `gamma_reorder_point` runs.
- **Safety stock** ``SS``: normal ``z * sqrt(P sigma_d^2 + d^2 sigma_L^2)`` (cycle) or the
  fill-rate solution of ``sigma G(SS / sigma) = (1 - beta) Q``; otherwise the distribution's
  quantile minus ``d * P`` (empirical: minus the history mean times the whole buckets
  bootstrapped, so a forecast mean shifts the level, not the safety part).
  Negative values are raised to 0 unless ``clamp_safety_stock`` is off.
- **Order quantity** ``Q``: ``rop_eoq`` EOQ ``sqrt(2 K D / (h c))`` with annual demand
  ``D = d * buckets per year``, ``K = order_cost``, ``h = holding_rate``, ``c`` the unit cost
  (unknown cost: ``fallback_cover_days`` of demand); ``order_up_to`` the expected order per
  review ``d * R``; ``base_stock`` one unit (one-for-one). Then ``max(Q, moq)`` rounded *up* to
  a whole multiple of ``order_multiple`` (``products.moq`` / ``order_multiple``; default 0 and
  1, i.e. whole units), at least one multiple.
- **Levels**: ``rop_eoq`` reorder point ``ROP = d P + SS``; ``order_up_to`` (R, S)
  ``S = d (R + L) + SS`` (no reorder point); ``base_stock`` ``ROP = d P + SS`` and ``S = ROP + Q``.
  ``make_to_order``: no stock (SS 0, ROP 0, no Q or S).
- ``expected_fill_rate`` = the kernels' normal ``fill_rate(d, sigma_d, P, SS, Q, sigma_L)``
  for every stocked item (for non-normal items: what that stock achieves under a normal model).
- ``inventory_value = (SS + Q / 2) * c``; ``c`` = ``products.unit_cost``, else the average
  unit cost of the order lines ``(revenue - margin) / quantity`` from the demand profile, else
  unknown (NaN; the rationale says so). Items without stock hold 0.
- **Stock-to-service curves** (`stock_to_service`): per product segment and target, the value
  if every stocked item had that target, with its own service type, distribution (empirical as
  gamma: the bootstrap per target would cost a resampling each) and Q; one pass, items x targets.
- **Rationale**: one sentence per distinct combination of what explains a row (segment,
  rule, distribution and why, lead time and source, Q rule and rounding, cost source), stored
  as a categorical column.

Ids for ``forecast``/``history`` tables: ``product_id`` (+ ``location_id``) columns, or a
``unique_id`` equal to the product id, or ``<product_id>@<location_id>`` for item-locations.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from scipy import special
from scipy.interpolate import CubicSpline

from supplyseg.config.policy import (
    UNSEGMENTED,
    InventoryTemplate,
    PolicySettings,
    check_template,
    resolve_order_rules,
    resolve_template,
)
from supplyseg.errors import ConfigError, DataContractError, PolicyError
from supplyseg.policy.forecast import DEFAULT_METHODS
from supplyseg.policy.inventory import (
    empirical_reorder_point,
    eoq,
    fill_rate,
    gamma_reorder_point,
    poisson_base_stock,
    safety_stock,
)

__all__ = [
    "DAYS_PER_BUCKET",
    "DISTRIBUTIONS",
    "ITEM_KEY_SEP",
    "ORDER_RULE_COLUMNS",
    "POLICY_COLUMNS",
    "STOCK_TO_SERVICE_COLUMNS",
    "PolicyResult",
    "order_rules",
    "policy_outputs",
    "product_templates",
    "stock_to_service",
]

DAYS_PER_BUCKET = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0}
_UNIT = {"day": "d", "week": "wk", "month": "mo"}
ITEM_KEY_SEP = "@"
DISTRIBUTIONS = ("none", "normal", "gamma", "poisson", "empirical")
_NONE, _NORMAL, _GAMMA, _POISSON, _EMPIRICAL = range(5)
_PATTERNS = ("smooth", "erratic", "intermittent", "lumpy", "insufficient_history")
_INTERMITTENT, _LUMPY, _SHORT = 2, 3, 4
_RULES = ("rop_eoq", "order_up_to", "base_stock", "make_to_order")
_ORDER_UP_TO, _BASE_STOCK, _MTO = 1, 2, 3
_PROGRAMS = ("standard", "vmi", "crp", "make_to_order")
_MIN_GAMMA_MEAN = 1e-9
_SPLINE_KNOTS = 4000
_PHI_1 = 0.8413447460685429  # Phi(1): the cycle service level whose z is 1
_Z_PHI_1 = float(special.ndtri(_PHI_1))  # 1 to within an ulp; divided out exactly below

POLICY_COLUMNS = (
    "product_id",
    "location_id",
    "customer_segment",
    "product_segment",
    "service_type",
    "service_target",
    "demand_mean",
    "demand_std",
    "lead_time",
    "lead_time_std",
    "distribution",
    "forecast_method",
    "safety_stock",
    "reorder_point",
    "order_quantity",
    "order_up_to",
    "review_period",
    "expected_fill_rate",
    "inventory_value",
    "pattern",
    "inventory_rule",
    "replenishment_program",
    "unit_cost",
    "bucket",
    "rationale",
)
"""Columns of the policies table; ``customer_segment`` only when matrix cells apply."""
ORDER_RULE_COLUMNS = (
    "segment",
    "moq",
    "order_multiple",
    "min_order_value",
    "promise_lead_time_days",
    "allowed_channels",
    "credit_check",
    "price_tolerance_pct",
    "allocation_priority",
    "source",
)
STOCK_TO_SERVICE_COLUMNS = ("segment", "service_target", "inventory_value", "safety_stock_value")
_TEMPLATE_FIELDS = tuple(InventoryTemplate.model_fields)
_STR = pd.StringDtype("pyarrow", na_value=np.nan)
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass
class PolicyResult:
    """Policies per item-location, order rules per customer segment, stock-to-service curves
    per product segment, the resolved templates, notes for the manifest and step timings."""

    policies: pd.DataFrame
    order_rules: pd.DataFrame
    stock_to_service: pd.DataFrame
    templates: pd.DataFrame
    bucket: str
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- templates


def product_templates(
    settings: PolicySettings, segments: Sequence[str], scheme: str | None = None
) -> pd.DataFrame:
    """The resolved template of every product segment, ``segment, <fields>, source``
    (review_period in days); `ConfigError` naming the first segment nothing covers."""
    rows = []
    for seg in dict.fromkeys(segments):
        found = resolve_template(settings, scheme, seg)
        if found is None:
            raise ConfigError(
                f"policies.product: segment {seg!r} of scheme {scheme!r} has no template and"
                f" no policies.product_default is given; fix: add policies.product.{seg} or"
                f" policies.product_default (templates given: {sorted(settings.product)})"
            )
        rows.append({"segment": seg, **found[0].model_dump(), "source": found[1]})
    return pd.DataFrame(rows, columns=["segment", *_TEMPLATE_FIELDS, "source"])


def order_rules(
    settings: PolicySettings, segments: Sequence[str], scheme: str | None = None
) -> pd.DataFrame:
    """Order rules per customer segment in `ORDER_RULE_COLUMNS`; `ConfigError` naming the
    first segment nothing covers. They map onto the service's ``SegmentRules``: credit_check
    is ``strictness.credit``; allocation_priority has no field there."""
    rows = []
    for seg in dict.fromkeys(segments):
        found = resolve_order_rules(settings, scheme, seg)
        if found is None:
            raise ConfigError(
                f"policies.customer: segment {seg!r} of scheme {scheme!r} has no order rules"
                f" and no policies.customer_default is given; fix: add policies.customer.{seg}"
                f" or policies.customer_default (rules given: {sorted(settings.customer)})"
            )
        row = found[0].model_dump()
        row["allowed_channels"] = list(row["allowed_channels"])
        rows.append({"segment": seg, **row, "source": found[1]})
    out = pd.DataFrame(rows, columns=list(ORDER_RULE_COLUMNS))
    return out.astype(
        {
            "moq": "float64",
            "order_multiple": "float64",
            "min_order_value": "float64",
            "price_tolerance_pct": "float64",
            "promise_lead_time_days": "int64",
            "allocation_priority": "int64",
        }
    )


# --------------------------------------------------------------------------- lookups


def _require(name: str, df: object, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise DataContractError(
            f"{name}: got {type(df).__name__}; give a pandas DataFrame with columns"
            f" {', '.join(columns)}"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataContractError(
            f"{name}: column(s) {missing} missing; required: {', '.join(columns)};"
            f" present: {list(map(str, df.columns))}"
        )
    return df


def _primary(segments: pd.DataFrame | None, ids: list[str], name: str) -> pd.DataFrame:
    """Primary-scheme rows ``ids..., scheme, segment`` of a segment table (empty when None)."""
    cols = [*ids, "scheme", "segment"]
    if segments is None or len(segments) == 0:
        return pd.DataFrame({c: pd.Series(dtype=_STR) for c in cols})
    _require(name, segments, cols)
    rows = segments[segments["primary"]] if "primary" in segments.columns else segments
    if rows[ids].duplicated().any():
        dup = rows[rows[ids].duplicated()].iloc[0]
        raise DataContractError(
            f"{name}: {dict(dup[ids])} has two primary segments; give one primary row each"
        )
    return rows[cols].reset_index(drop=True)


def _scheme(rows: pd.DataFrame) -> str | None:
    names = rows["scheme"].dropna().unique()
    return str(names[0]) if len(names) else None


def _arrow(values: pd.Series) -> pa.Array:
    """String values as one Arrow array (zero-copy for Arrow-backed pandas strings)."""
    arr = pa.array(values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    return arr


def _positions(values: pa.Array, keys: pa.Array) -> IntArray:
    """Position of each value in ``keys`` (first match), -1 when absent or null."""
    if keys.type != values.type:
        keys = pc.cast(keys, values.type)
    found = pc.index_in(values, value_set=keys).fill_null(-1)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def _item_keys(product: pa.Array, location: pa.Array | None) -> pa.Array:
    if location is None:
        return product
    sep = pa.scalar(ITEM_KEY_SEP, product.type)
    location = pc.cast(location.fill_null(""), product.type)
    return pc.binary_join_element_wise(product, location, sep)


def _rows_of_items(name: str, other: pd.DataFrame, keys: pa.Array, has_loc: bool) -> IntArray:
    """For each row of a forecast/history table, the item it belongs to (-1: none)."""
    if "product_id" not in other.columns:
        _require(name, other, ["unique_id"])
        return _positions(_arrow(other["unique_id"]), keys)
    if has_loc != ("location_id" in other.columns):
        raise DataContractError(
            f"{name}: {'has no' if has_loc else 'has a'} location_id column but the demand"
            f" table {'has' if has_loc else 'has not'}; give both at the same grain"
        )
    loc = _arrow(other["location_id"]) if has_loc else None
    return _positions(_item_keys(_arrow(other["product_id"]), loc), keys)


def _floats(df: pd.DataFrame, col: str) -> FloatArray:
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _codes(values: pd.Series, labels: Sequence[str]) -> IntArray:
    """Position of each value in ``labels``, -1 when absent or missing (hash lookups)."""
    return _positions(_arrow(values), pa.array(list(labels), type=pa.string()))


def _strings(labels: Sequence[Any], codes: IntArray) -> pd.Series:
    """Arrow-backed strings ``labels[codes]`` (code -1 = missing), without a Python loop."""
    arr = pa.array(list(labels), type=pa.string())
    return pd.Series(arr.take(pa.array(codes, mask=codes < 0)), dtype=_STR)


# --------------------------------------------------------------------------- items


@dataclass
class _Items:
    """Per-item inputs as arrays (all the same length); codes index the template table."""

    ids: pd.DataFrame
    product: pa.Array
    location: pa.Array | None
    tcode: IntArray
    pattern: IntArray
    d: FloatArray
    sd: FloatArray
    d_src: IntArray  # 0 history, 1 forecast
    d_hist: FloatArray  # history mean (the bootstrap's own mean when d is a forecast)
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
        return _item_keys(self.product, self.location)


def _product_column(
    products: pd.DataFrame, col: str, pos: IntArray, low: float, low_open: bool = False
) -> FloatArray | None:
    """A numeric products column per item (NaN for unknown products/values), range-checked."""
    if col not in products.columns:
        return None
    v = _floats(products, col)
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


def _product_attributes(
    products: pd.DataFrame | None, product_ids: pa.Array, settings: PolicySettings
) -> dict[str, FloatArray | IntArray]:
    n = len(product_ids)
    out: dict[str, Any] = {
        "lt": np.full(n, settings.default_lead_time_days),
        "slt": np.full(n, settings.default_lead_time_std_days),
        "lt_src": np.ones(n, dtype=np.int64),
        "slt_src": np.ones(n, dtype=np.int64),
        "cost": np.full(n, np.nan),
        "moq": np.zeros(n),
        "multiple": np.ones(n),
    }
    if products is None:
        return out
    _require("products", products, ["product_id"])
    keys = _arrow(products["product_id"])
    if len(pc.unique(keys)) != len(keys):
        dup = products["product_id"][products["product_id"].duplicated()].iloc[0]
        raise DataContractError(f"products: product_id {dup!r} appears twice; give one row each")
    pos = _positions(product_ids, keys)
    lt = _product_column(products, "lead_time_days", pos, 0.0)
    if lt is not None:
        out["lt"] = np.where(np.isfinite(lt), lt, out["lt"])
        out["lt_src"] = np.where(np.isfinite(lt), 0, 2)
    slt = _product_column(products, "lead_time_std_days", pos, 0.0)
    if slt is not None:
        out["slt"] = np.where(np.isfinite(slt), slt, out["slt"])
        out["slt_src"] = np.where(np.isfinite(slt), 0, 1)
    cost = _product_column(products, "unit_cost", pos, 0.0)
    if cost is not None:
        out["cost"] = np.where(cost > 0, cost, np.nan)  # a zero cost gives no EOQ either
    moq = _product_column(products, "moq", pos, 0.0)
    if moq is not None:
        out["moq"] = np.nan_to_num(moq, nan=0.0)
    multiple = _product_column(products, "order_multiple", pos, 0.0, low_open=True)
    if multiple is not None:
        out["multiple"] = np.nan_to_num(multiple, nan=1.0)
    return out


def _items(
    demand: pd.DataFrame,
    seg_rows: pd.DataFrame,
    products: pd.DataFrame | None,
    settings: PolicySettings,
    forecast: pd.DataFrame | None,
    notes: list[str],
) -> tuple[_Items, list[str]]:
    """Item arrays and the product segment labels (``tcode`` indexes them)."""
    _require("demand", demand, ["product_id", "mean", "std", "pattern"])
    has_loc = "location_id" in demand.columns
    ids = ["product_id", "location_id"] if has_loc else ["product_id"]
    prod = _arrow(demand["product_id"])
    loc = _arrow(demand["location_id"]).fill_null("") if has_loc else None
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
    pos_uniq = _positions(uniq, _arrow(seg_rows["product_id"]))
    pos = pos_uniq[pcode]
    seg_code = _codes(seg_rows["segment"].astype(str), labels)
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

    pattern = _codes(demand["pattern"], _PATTERNS)
    d = np.nan_to_num(_floats(demand, "mean"), nan=0.0)
    sd = np.nan_to_num(_floats(demand, "std"), nan=0.0)
    d_src, d_hist = np.zeros(n, dtype=np.int64), d.copy()
    if forecast is not None:
        _require("forecast", forecast, ["demand_mean", "demand_std"])
        at = _rows_of_items("forecast", forecast, _item_keys(prod, loc), has_loc)
        fm, fs = _floats(forecast, "demand_mean"), _floats(forecast, "demand_std")
        ok = (at >= 0) & np.isfinite(fm) & np.isfinite(fs) & (fs >= 0)
        d[at[ok]], sd[at[ok]], d_src[at[ok]] = fm[ok], fs[ok], 1
        if n - int(d_src.sum()):
            notes.append(
                f"policies: {n - int(d_src.sum())} item(s) not in the forecast use history"
            )

    attrs = {k: v[pcode] for k, v in _product_attributes(products, uniq, settings).items()}
    lt_src = np.asarray(attrs["lt_src"], dtype=np.int64)
    if (lt_src != 0).any():
        notes.append(
            f"policies: {int((lt_src != 0).sum())} item(s) without products.lead_time_days use"
            f" the default {settings.default_lead_time_days:g} days"
        )
    cost = np.asarray(attrs["cost"], dtype=np.float64)
    cost_src = np.where(np.isfinite(cost), 0, 2)
    if {"revenue", "margin", "quantity"} <= set(demand.columns):
        qty = _floats(demand, "quantity")
        with np.errstate(divide="ignore", invalid="ignore"):
            avg = (_floats(demand, "revenue") - _floats(demand, "margin")) / qty
        use = (cost_src == 2) & np.isfinite(avg) & (avg > 0) & (qty > 0)
        cost, cost_src = np.where(use, avg, cost), np.where(use, 1, cost_src)
    if (cost_src == 2).any():
        notes.append(
            f"policies: unit cost unknown for {int((cost_src == 2).sum())} item(s): no"
            " inventory_value; Q covers policies.fallback_cover_days"
        )
    items = _Items(
        ids=demand[ids].reset_index(drop=True),
        product=prod,
        location=loc,
        tcode=tcode.astype(np.int64),
        pattern=pattern,
        d=np.maximum(d, 0.0),
        sd=sd,
        d_src=d_src,
        d_hist=d_hist,
        lt_days=np.asarray(attrs["lt"], dtype=np.float64),
        slt_days=np.asarray(attrs["slt"], dtype=np.float64),
        lt_src=lt_src,
        slt_src=np.asarray(attrs["slt_src"], dtype=np.int64),
        cost=cost,
        cost_src=cost_src.astype(np.int64),
        moq=np.asarray(attrs["moq"], dtype=np.float64),
        multiple=np.asarray(attrs["multiple"], dtype=np.float64),
    )
    return items, labels


def _matrix_cells(
    settings: PolicySettings,
    templates: pd.DataFrame,
    seg_rows: pd.DataFrame,
    cseg_rows: pd.DataFrame,
    pairs: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cell templates (to append to ``templates``) and, per product bought by a customer
    segment, the chosen template code and cell's customer segment: the strictest candidate
    (highest service target; make-to-order is least strict; ties: product template first)."""
    _require("customer_product_seg", pairs, ["customer_id", "product_id"])
    if len(cseg_rows):
        seg_of = dict(zip(cseg_rows["customer_id"], cseg_rows["segment"], strict=True))
        cseg = pairs["customer_id"].map(seg_of)
    elif "segment" in pairs.columns:  # the micro-segment "<customer> × <product>"
        cseg = pairs["segment"].astype(str).str.split(" × ").str[0]
    else:
        raise DataContractError(
            "customer_product_seg: no customer segments for the matrix cells; give"
            " customers_seg or the micro-segment column `segment`"
        )
    pseg = pairs["product_id"].map(
        dict(zip(seg_rows["product_id"], seg_rows["segment"], strict=True))
    )
    found = pd.DataFrame(
        {"product_id": pairs["product_id"], "cseg": cseg, "pseg": pseg.fillna(UNSEGMENTED)}
    ).dropna()
    found = found.drop_duplicates()
    seg_code = {s: i for i, s in enumerate(templates["segment"])}
    cells: list[dict[str, Any]] = []
    cell_code: dict[tuple[str, str], int] = {}
    for cname, row in settings.matrix.items():
        for pname, cell in row.items():
            if pname not in seg_code:
                continue  # a product segment not in this run
            base = InventoryTemplate(**templates.iloc[seg_code[pname]][list(_TEMPLATE_FIELDS)])
            merged, path = cell.over(base), f"policies.matrix.{cname}.{pname}"
            check_template(merged, path)
            cell_code[(cname, pname)] = len(templates) + len(cells)
            cells.append({"segment": pname, **merged.model_dump(), "source": path})
    cell_frame = pd.DataFrame(cells, columns=templates.columns)
    everything = pd.concat([templates, cell_frame], ignore_index=True)
    tcode = np.asarray(
        [
            cell_code.get((c, s), seg_code.get(s, -1))
            for c, s in zip(found["cseg"], found["pseg"], strict=True)
        ],
        dtype=np.int64,
    )
    mto = (everything["inventory_rule"] == "make_to_order").to_numpy()
    target = everything["service_target"].to_numpy(dtype=np.float64)
    strictness = np.where(mto, -1.0, target)[tcode]
    found = found.assign(tcode=tcode, _s=-strictness)[tcode >= 0]
    chosen = found.sort_values(["product_id", "_s", "tcode"]).drop_duplicates("product_id")
    chosen["customer_segment"] = chosen["cseg"].where(chosen["tcode"] >= len(templates))
    return cell_frame, chosen[["product_id", "tcode", "customer_segment"]]


# --------------------------------------------------------------------------- kernels


def _round_up(q: FloatArray, moq: FloatArray, multiple: FloatArray) -> FloatArray:
    """max(q, moq) rounded up to a whole multiple, at least one multiple."""
    lots = np.ceil(np.maximum(q, moq) / multiple - 1e-9)  # 1e-9: 24.000000001 is 24, not 25
    rounded: FloatArray = np.maximum(lots, 1.0) * multiple
    return rounded


def _safety_stocks(
    dist: IntArray,
    fill: BoolArray,
    d: FloatArray,
    sd: FloatArray,
    p: FloatArray,
    slt: FloatArray,
    q: FloatArray,
    level: FloatArray,
    *,
    grid: bool = False,
) -> FloatArray:
    """Safety stock of stocked items by distribution: ``level`` holds one target per item, or
    with ``grid`` k targets for every item (result (n, k)). Empirical items are gamma here;
    their bootstrap runs in `_empirical`."""
    ss = np.zeros((len(d), len(level)) if grid else len(d))
    for m, kind in (
        ((dist == _NORMAL) & ~fill, "cycle"),
        (fill, "fill_rate"),
        (((dist == _GAMMA) | (dist == _EMPIRICAL)) & ~fill, "gamma"),
        ((dist == _POISSON) & ~fill, "poisson"),
    ):
        if not m.any():
            continue
        dm, sdm, pm, sltm, qm = d[m], sd[m], p[m], slt[m], q[m]
        lv = level if grid else level[m]
        mean = dm * pm
        if kind == "cycle" and grid:
            # z * sigma_DL is linear in z: one kernel call at z = 1, scaled per target.
            unit = np.asarray(safety_stock(dm, sdm, pm, sltm, _PHI_1)) / _Z_PHI_1
            ss[m] = np.multiply.outer(unit, special.ndtri(lv))
        elif kind == "cycle":
            ss[m] = safety_stock(dm, sdm, pm, sltm, lv)
        elif kind == "fill_rate" and grid:
            c = (dm[:, None], sdm[:, None], pm[:, None], sltm[:, None])
            ss[m] = safety_stock(*c, lv[None, :], "fill_rate", qm[:, None])
        elif kind == "fill_rate":
            ss[m] = safety_stock(dm, sdm, pm, sltm, lv, "fill_rate", qm)
        elif kind == "gamma":
            rop = _gamma_reorder_points(dm, sdm, pm, sltm, lv, grid)
            ss[m] = rop - (mean[:, None] if grid else mean)
        elif grid:  # critical ratio p / (p + h) with p = alpha, h = 1 - alpha is alpha
            ss[m] = poisson_base_stock(mean[:, None], 1.0 - lv[None, :], lv[None, :])
            ss[m] -= mean[:, None]
        else:
            ss[m] = poisson_base_stock(mean, 1.0 - lv, lv) - mean
    return ss


def _gamma_reorder_points(
    d: FloatArray, sd: FloatArray, p: FloatArray, slt: FloatArray, level: FloatArray, grid: bool
) -> FloatArray:
    """`gamma_reorder_point` per item (``level`` per item) or per item and target (``grid``);
    more than `_SPLINE_KNOTS` items at one level go through the spline."""
    if grid:
        if len(d) > _SPLINE_KNOTS:
            return _gamma_grid_reorder_points(d, sd, p, slt, level)
        cols = (d[:, None], sd[:, None], p[:, None], slt[:, None])
        return np.asarray(gamma_reorder_point(*cols, level[None, :]), dtype=np.float64)
    out = np.empty(len(d))
    values, code, counts = np.unique(level, return_inverse=True, return_counts=True)
    code = code.reshape(-1)
    for j in np.flatnonzero(counts > _SPLINE_KNOTS):
        g = code == j
        out[g] = _gamma_grid_reorder_points(d[g], sd[g], p[g], slt[g], values[j : j + 1])[:, 0]
    small = counts[code] <= _SPLINE_KNOTS
    if small.any():
        out[small] = gamma_reorder_point(d[small], sd[small], p[small], slt[small], level[small])
    return out


def _gamma_grid_reorder_points(
    d: FloatArray, sd: FloatArray, p: FloatArray, slt: FloatArray, levels: FloatArray
) -> FloatArray:
    """`gamma_reorder_point` of n items at each of k levels, (n, k), for many items.

    Inverting the gamma CDF costs about 1 µs per value. Per level, a cubic spline of the log
    standard-gamma quantile over log shape (`_SPLINE_KNOTS` knots on shapes 1e-2..1e5, max
    relative error 5e-10 against scipy's gammaincinv) replaces the per-item inversion; shapes
    outside the knots are inverted exactly. Same moment fit as the kernel: shape
    ``(mean / sd)^2``, scale ``sd^2 / mean`` of lead-time demand; no spread gives the mean.
    """
    mean = d * p
    sigma = np.sqrt(p * sd * sd + d * d * slt * slt)
    spread = sigma > 0
    safe_sigma, safe_mean = np.where(spread, sigma, 1.0), np.where(spread, mean, 1.0)
    shape, scale = (safe_mean / safe_sigma) ** 2, safe_sigma**2 / safe_mean
    x = np.log(shape)
    knots = np.linspace(math.log(1e-2), math.log(1e5), _SPLINE_KNOTS)
    inside = (x >= knots[0]) & (x <= knots[-1])
    out = np.empty((len(d), len(levels)))
    for j, level in enumerate(levels):
        spline = CubicSpline(knots, np.log(special.gammaincinv(np.exp(knots), level)))
        out[inside, j] = np.exp(spline(x[inside]))
        out[~inside, j] = special.gammaincinv(shape[~inside], level)
    result: FloatArray = np.where(spread[:, None], out * scale[:, None], mean[:, None])
    return result


def _period_numbers(ds: pd.Series, bucket: str) -> IntArray:
    """Consecutive integers for consecutive buckets (ds are bucket starts)."""
    unit = "M" if bucket == "month" else "D"
    n = pd.to_datetime(ds).to_numpy(dtype=f"datetime64[{unit}]").astype(np.int64)
    # 1970-01-01 is a Thursday: + 3 makes Monday-started weeks one integer apart.
    return (n + 3) // 7 if bucket == "week" else n


def _empirical(
    history: pd.DataFrame,
    rows: IntArray,
    items: IntArray,
    lead: IntArray,
    level: FloatArray,
    bucket: str,
    settings: PolicySettings,
) -> tuple[FloatArray, BoolArray]:
    """Bootstrapped reorder points of ``items`` (whole-bucket lead times ``lead``) from their
    history; each series runs from its first bucket to the table's last, 0 where absent. The
    mask says which items had any history. One kernel call per series length and method."""
    out = np.full(len(items), np.nan)
    local = np.full(int(max(rows.max(initial=-1), items.max(initial=-1))) + 1, -1, np.int64)
    local[items] = np.arange(len(items))
    period, y = _period_numbers(history["ds"], bucket), _floats(history, "y")
    end = int(period.max()) if len(period) else 0
    mine = rows >= 0
    k, per, val = local[rows[mine]], period[mine], y[mine]
    k, per, val = k[k >= 0], per[k >= 0], val[k >= 0]
    first = np.full(len(items), end + 1, dtype=np.int64)
    np.minimum.at(first, k, per)
    length = end - first + 1
    has = length > 0
    methods: tuple[Literal["block", "iid"], ...] = ("block", "iid")
    for n in np.unique(length[has]):
        group = np.flatnonzero(length == n)
        row = np.full(len(items), -1, dtype=np.int64)
        row[group] = np.arange(len(group))
        take = row[k] >= 0
        h = np.zeros((len(group), int(n)))
        np.add.at(h, (row[k[take]], per[take] - first[k[take]]), val[take])
        h = np.maximum(h, 0.0)  # a bucket of net returns is no demand
        for method, sel in zip(methods, (lead[group] <= n, lead[group] > n), strict=True):
            if sel.any():
                g = group[sel]
                out[g] = empirical_reorder_point(
                    h[sel],
                    lead[g].astype(np.float64),
                    level[g],
                    method=method,
                    n_samples=settings.empirical_samples,
                    seed=settings.seed,
                )
    return out, has


@dataclass
class _Params:
    """Computed parameters per item, with the codes the rationale is built from."""

    rule: IntArray
    fill: BoolArray
    stocked: BoolArray
    level: FloatArray
    lt: FloatArray
    slt: FloatArray
    review: FloatArray
    dist: IntArray
    q_src: IntArray  # 0 EOQ, 1 cover days (no cost), 2 d * R, 3 one unit
    rounded: IntArray  # 0 as computed, 1 to whole units, 2 raised to moq, 3 to the multiple
    ss: FloatArray
    rop: FloatArray
    q: FloatArray
    s: FloatArray
    achieved: FloatArray
    value: FloatArray


def _parameters(
    it: _Items,
    templates: pd.DataFrame,
    settings: PolicySettings,
    bucket: str,
    history: pd.DataFrame | None,
) -> _Params:
    dpb = DAYS_PER_BUCKET[bucket]
    rule = _codes(templates["inventory_rule"], _RULES)[it.tcode]
    t_fill = (templates["service_type"] == "fill_rate").to_numpy()[it.tcode]
    level = templates["service_target"].to_numpy(dtype=np.float64)[it.tcode]
    review = templates["review_period"].to_numpy(dtype=np.float64)[it.tcode] / dpb
    d, sd = it.d, it.sd
    lt, slt = it.lt_days / dpb, it.slt_days / dpb
    p = lt + review
    stocked = (rule != _MTO) & (d > 0)
    fill = t_fill & stocked

    # Distribution by pattern; fill-rate targets stay normal (the only fill-rate model).
    cyc = stocked & ~fill
    # Below ~1e-9 units of lead-time demand the gamma's scale overflows; normal is exact enough.
    gamma_ok = cyc & (d * p > _MIN_GAMMA_MEAN)
    dist = np.where(stocked, _NORMAL, _NONE)
    dist = np.where(gamma_ok & np.isin(it.pattern, [_INTERMITTENT, _LUMPY]), _GAMMA, dist)
    slow = cyc & np.isin(it.pattern, [_INTERMITTENT, _SHORT]) & (d < settings.slow_mover_mean)
    dist = np.where(slow, _POISSON, dist)

    q_src = np.select([rule == _ORDER_UP_TO, rule == _BASE_STOCK], [2, 3], 0)
    eoq_ok = stocked & (q_src == 0) & np.isfinite(it.cost)
    q_src = np.where(stocked & (q_src == 0) & ~eoq_ok, 1, q_src)
    q_raw = np.zeros(len(d))
    q_raw[eoq_ok] = eoq(
        d[eoq_ok] * 365.25 / dpb, settings.order_cost, settings.holding_rate * it.cost[eoq_ok]
    )
    q_raw = np.select(
        [q_src == 1, q_src == 2], [d * settings.fallback_cover_days / dpb, d * review], q_raw
    )
    q = np.where(stocked, _round_up(q_raw, it.moq, it.multiple), np.nan)
    grew = stocked & (q_src != 3) & (q > q_raw * (1 + 1e-12) + 1e-12)
    rounded = np.select([~grew, it.moq > q_raw, it.multiple != 1.0], [0, 2, 3], 1).astype(np.int64)

    ss = np.zeros(len(d))
    s = stocked
    ss[s] = _safety_stocks(dist[s], fill[s], d[s], sd[s], p[s], slt[s], q[s], level[s])
    lumpy = gamma_ok & (it.pattern == _LUMPY) & (settings.lumpy_distribution == "empirical")
    if history is not None and lumpy.any():
        _require("history", history, ["ds", "y"])
        rows = _rows_of_items("history", history, it.keys, it.has_loc)
        idx = np.flatnonzero(lumpy)
        whole = np.rint(p[idx]).astype(np.int64)
        rop, found = _empirical(history, rows, idx, whole, level[idx], bucket, settings)
        # The safety part of the bootstrapped distribution (above its own mean demand).
        ss[idx[found]] = rop[found] - it.d_hist[idx[found]] * whole[found]
        dist[idx[found]] = _EMPIRICAL
    if settings.clamp_safety_stock:
        ss = np.maximum(ss, 0.0)
    base = d * p + ss
    rop_out = np.where(rule == _ORDER_UP_TO, np.nan, np.where(stocked, base, 0.0))
    s_out = np.select(
        [s & (rule == _ORDER_UP_TO), s & (rule == _BASE_STOCK)], [base, base + q], np.nan
    )
    achieved = np.full(len(d), np.nan)
    achieved[s] = fill_rate(d[s], sd[s], p[s], ss[s], q[s], slt[s])
    value = np.where(stocked, (ss + np.nan_to_num(q) / 2.0) * it.cost, 0.0)
    return _Params(
        rule,
        fill,
        stocked,
        level,
        lt,
        slt,
        review,
        dist.astype(np.int64),
        q_src.astype(np.int64),
        rounded,
        ss,
        rop_out,
        q,
        s_out,
        achieved,
        value,
    )


# --------------------------------------------------------------------------- table


def _group_codes(parts: list[IntArray]) -> tuple[IntArray, IntArray]:
    """Codes of the distinct combinations of non-negative integer columns, and for each
    code the first row that has it."""
    radix = [int(c.max(initial=0)) + 1 for c in parts]
    if math.prod(radix) < 2**62:
        key = np.zeros(len(parts[0]), dtype=np.int64)
        for codes, r in zip(parts, radix, strict=True):
            key = key * r + codes
        inverse = pd.factorize(key)[0]  # hashing: codes in order of first appearance
        before = np.maximum.accumulate(np.concatenate([[-1], inverse[:-1]]))
        first = np.flatnonzero(inverse > before)
    else:  # too many combinations for one int64 key
        _, first, inverse = np.unique(
            np.stack(parts, axis=1), axis=0, return_index=True, return_inverse=True
        )
    return np.asarray(inverse, dtype=np.int64).reshape(-1), np.asarray(first, dtype=np.int64)


def _pct(x: float) -> str:
    return f"{x * 100:.4g}%"


def _sentence(
    v: dict[str, int], t: dict[str, Any], multiple: float, unit: str, settings: PolicySettings
) -> str:
    """The rationale of one combination of codes ``v`` under template ``t``."""
    if t["source"].startswith("policies.matrix."):
        cseg = t["source"].removeprefix("policies.matrix.").rsplit(".", 1)[0]
        head = f"cell {cseg} × {t['segment']} (strictest customer segment buying it)"
    else:
        head = f"segment {t['segment']}"
    if v["rule"] == _MTO:
        return f"{head}: make_to_order, no stock held (safety stock 0, reorder point 0)"
    if not v["stocked"]:
        where = "forecast" if v["d_src"] else "history"
        return f"{head}: no positive demand in the {where}, no stock held"
    pattern = _PATTERNS[v["pattern"] - 1] if v["pattern"] else "pattern unknown"
    if v["fill"] and v["pattern"] - 1 in (_INTERMITTENT, _LUMPY):
        dist = f"normal ({pattern}; fill-rate targets use the normal loss function)"
    elif (
        v["dist"] == _GAMMA
        and v["pattern"] - 1 == _LUMPY
        and settings.lumpy_distribution != "gamma"
    ):
        dist = f"gamma ({pattern}; no history series to bootstrap)"
    elif v["dist"] == _POISSON:
        dist = f"poisson ({pattern}, mean < {settings.slow_mover_mean:g}/{unit})"
    else:
        dist = f"{DISTRIBUTIONS[v['dist']]} ({pattern})"
    lt = f"L={v['lt10'] / 10:.1f} {unit}"
    if v["lt_src"] == 0:
        lt += " from products.lead_time_days"
    else:
        why = "no products.lead_time_days" if v["lt_src"] == 1 else "lead time missing"
        lt += f" (default {settings.default_lead_time_days:g} d: {why})"
    q = (
        f"Q=EOQ (K {settings.order_cost:g}, h {_pct(settings.holding_rate)}/yr)",
        f"Q={settings.fallback_cover_days:g} d of demand (no unit cost for EOQ)",
        "Q=expected demand per review",
        "Q=one unit (one-for-one)",
    )[v["q_src"]]
    cost = (
        "unit cost from products.unit_cost",
        "unit cost = order-line average",
        "unit cost unknown: no inventory value",
    )[v["cost_src"]]
    bits = [
        f"{head}: {t['service_type']} {_pct(float(t['service_target']))}",
        str(t["inventory_rule"]),
        dist,
        "demand from the forecast" if v["d_src"] else "demand from history",
        lt,
        (
            "σL from products.lead_time_std_days",
            f"σL default {settings.default_lead_time_std_days:g} d",
        )[v["slt_src"]],
        *([f"review every {v['r10'] / 10:.1f} {unit}"] if v["r10"] else []),
        q
        + (
            "",
            " rounded up to whole units",
            " raised to the moq",
            f" rounded up to a multiple of {multiple:g}",
        )[v["rounded"]],
        cost,
    ]
    return ", ".join(bits)


def _rationale(
    it: _Items, pr: _Params, templates: pd.DataFrame, bucket: str, settings: PolicySettings
) -> pd.Series:
    """One sentence per item, formatted once per distinct combination of its parts."""
    parts = {
        "tcode": it.tcode,
        "rule": pr.rule,
        "stocked": pr.stocked.astype(np.int64),
        "pattern": it.pattern + 1,  # -1 (unknown) -> 0: codes must be >= 0
        "dist": pr.dist,
        "fill": pr.fill.astype(np.int64),
        "d_src": it.d_src,
        "lt10": np.rint(pr.lt * 10).astype(np.int64),
        "lt_src": it.lt_src,
        "slt_src": it.slt_src,
        "r10": np.rint(pr.review * 10).astype(np.int64),
        "q_src": pr.q_src,
        "rounded": pr.rounded,
        # the multiple is named only when Q was rounded up to it (fewer combinations)
        "multiple": np.where(pr.rounded == 3, pd.factorize(it.multiple)[0], 0),
        "cost_src": it.cost_src,
    }
    names = list(parts)
    inverse, first = _group_codes([parts[k] for k in names])
    rows: list[dict[str, Any]] = [
        {str(k): x for k, x in r.items()} for r in templates.to_dict("records")
    ]
    texts = [
        _sentence(
            {k: int(parts[k][i]) for k in names},
            rows[int(parts["tcode"][i])],
            float(it.multiple[i]),
            _UNIT[bucket],
            settings,
        )
        for i in first
    ]
    # Categorical: a few hundred distinct sentences, not a million copies of them.
    categories, at = pd.factorize(pd.Series(texts, dtype=object))
    return pd.Series(
        pd.Categorical.from_codes(
            cast("Sequence[int]", categories[inverse]), pd.Index(at, dtype=object)
        )
    )


def _table(
    it: _Items,
    pr: _Params,
    templates: pd.DataFrame,
    customer_segment: pd.Series | None,
    bucket: str,
    settings: PolicySettings,
) -> pd.DataFrame:
    out = it.ids.copy()
    n = len(out)
    if not it.has_loc:
        out["location_id"] = pd.Series(np.nan, index=out.index, dtype=_STR)
    if customer_segment is not None:
        out["customer_segment"] = customer_segment
    out["product_segment"] = _strings(templates["segment"].tolist(), it.tcode)
    mto = pr.rule == _MTO
    t_fill = (templates["service_type"] == "fill_rate").to_numpy()[it.tcode]
    out["service_type"] = _strings(
        ["cycle", "fill_rate", "none"], np.where(mto, 2, t_fill).astype(np.int64)
    )
    out["service_target"] = np.where(mto, np.nan, pr.level)
    out["demand_mean"], out["demand_std"] = it.d, it.sd
    out["lead_time"], out["lead_time_std"] = pr.lt, pr.slt
    out["distribution"] = _strings(DISTRIBUTIONS, pr.dist)
    # auto: the default forecast method of the item's pattern (unknown: too little history).
    named = sorted(set(templates["forecast_method"]) - {"auto"})
    labels = [*(DEFAULT_METHODS[pt] for pt in _PATTERNS), *named]
    t_method = np.asarray(
        [
            -1 if m == "auto" else len(_PATTERNS) + named.index(m)
            for m in templates["forecast_method"]
        ],
        dtype=np.int64,
    )
    by_pattern = np.where(it.pattern >= 0, it.pattern, _SHORT)
    method = t_method[it.tcode]
    out["forecast_method"] = _strings(labels, np.where(method >= 0, method, by_pattern))
    out["safety_stock"], out["reorder_point"] = pr.ss, pr.rop
    out["order_quantity"], out["order_up_to"] = pr.q, pr.s
    out["review_period"] = pr.review
    out["expected_fill_rate"], out["inventory_value"] = pr.achieved, pr.value
    out["pattern"] = _strings(_PATTERNS, it.pattern)
    out["inventory_rule"] = _strings(_RULES, pr.rule)
    program = _codes(templates["replenishment_program"], _PROGRAMS)[it.tcode]
    out["replenishment_program"] = _strings(_PROGRAMS, program)
    out["unit_cost"] = it.cost
    out["bucket"] = _strings([bucket], np.zeros(n, dtype=np.int64))
    out["rationale"] = _rationale(it, pr, templates, bucket, settings)
    columns = [c for c in POLICY_COLUMNS if c in out.columns]
    return out if list(out.columns) == columns else out[columns]


# --------------------------------------------------------------------------- public


def policy_outputs(
    products_seg: pd.DataFrame | None,
    demand: pd.DataFrame,
    products: pd.DataFrame | None,
    settings: PolicySettings,
    *,
    bucket: str,
    forecast: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    customers_seg: pd.DataFrame | None = None,
    customer_product_seg: pd.DataFrame | None = None,
) -> PolicyResult:
    """Inventory parameters per item-location, order rules and stock-to-service curves.

    ``products_seg``/``customers_seg``: segment tables (their primary rows are used);
    ``demand``: ``demand_product_location`` (or ``demand_product``) profile; ``products``: the
    canonical products table (lead times, unit_cost, moq, order_multiple); ``forecast``:
    `supplyseg.policy.forecast.demand_forecast` output; ``history``: long demand series
    (``demand_series`` output or ``unique_id, ds, y``) for the bootstrap of lumpy items;
    ``customer_product_seg``: customer x product pairs, needed for ``policies.matrix`` cells.
    """
    if bucket not in DAYS_PER_BUCKET:
        raise ConfigError(f"bucket={bucket!r}: unknown; allowed: {', '.join(DAYS_PER_BUCKET)}")
    clock, seconds, notes = time.perf_counter(), {}, list[str]()
    seg_rows = _primary(products_seg, ["product_id"], "products_seg")
    cseg_rows = _primary(customers_seg, ["customer_id"], "customers_seg")
    it, labels = _items(demand, seg_rows, products, settings, forecast, notes)
    templates = product_templates(settings, labels, _scheme(seg_rows))
    rules = order_rules(
        settings, list(dict.fromkeys(cseg_rows["segment"].astype(str))), _scheme(cseg_rows)
    )
    if unused := sorted(set(settings.product) - set(labels)):
        notes.append(f"policies.product: no segment {unused} in this run; templates unused")
    customer_segment = None
    if settings.matrix and customer_product_seg is not None:
        cells, chosen = _matrix_cells(
            settings, templates, seg_rows, cseg_rows, customer_product_seg
        )
        templates = pd.concat([templates, cells], ignore_index=True)
        at = _positions(_arrow(it.ids["product_id"]), _arrow(chosen["product_id"]))
        picked = chosen["tcode"].to_numpy(dtype=np.int64)
        it.tcode = np.where(at >= 0, picked[np.maximum(at, 0)] if len(picked) else 0, it.tcode)
        cs = pd.Series(chosen["customer_segment"], dtype=_STR).reset_index(drop=True)
        customer_segment = cs.reindex(at).reset_index(drop=True)  # -1 (not bought) -> NaN
    elif settings.matrix:
        notes.append("policies.matrix: no customer x product pairs given; cells unused")
    seconds["inputs"] = time.perf_counter() - clock

    clock = time.perf_counter()
    params = _parameters(it, templates, settings, bucket, history)
    seconds["parameters"] = time.perf_counter() - clock
    clock = time.perf_counter()
    policies = _table(it, params, templates, customer_segment, bucket, settings)
    seconds["table"] = time.perf_counter() - clock
    clock = time.perf_counter()
    labels = sorted(set(templates["segment"]))
    seg = _codes(templates["segment"], labels)[it.tcode]
    targets = np.asarray(settings.stock_to_service_targets, dtype=np.float64)
    p = params.lt + params.review
    curves = _curves(
        seg,
        labels,
        params.dist,
        params.fill,
        it.d,
        it.sd,
        p,
        params.slt,
        params.q,
        it.cost,
        targets,
        settings.clamp_safety_stock,
    )
    seconds["stock_to_service"] = time.perf_counter() - clock
    return PolicyResult(policies, rules, curves, templates, bucket, notes, seconds)


def stock_to_service(
    policies: pd.DataFrame, targets: Sequence[float], *, clamp: bool = True
) -> pd.DataFrame:
    """Inventory value per product segment if every stocked item had each service target.

    One vectorised pass over items x targets with each item's service type, distribution
    (empirical items as gamma), protection interval and order quantity from ``policies``.
    Items without stock add 0; items with unknown unit cost are left out. Columns
    `STOCK_TO_SERVICE_COLUMNS`; ``safety_stock_value`` is the safety-stock part of the value.
    """
    t = np.asarray(targets, dtype=np.float64)
    if t.ndim != 1 or len(t) == 0 or not np.all((t > 0) & (t < 1)):
        raise PolicyError(f"targets: value {list(targets)!r} is not allowed; give levels in (0, 1)")
    _require(
        "policies",
        policies,
        [
            "product_segment",
            "service_type",
            "distribution",
            "demand_mean",
            "demand_std",
            "lead_time",
            "lead_time_std",
            "review_period",
            "order_quantity",
            "unit_cost",
        ],
    )
    seg, labels = pd.factorize(policies["product_segment"], sort=True)
    return _curves(
        np.asarray(seg, dtype=np.int64),
        list(labels),
        _codes(policies["distribution"], DISTRIBUTIONS),
        (policies["service_type"] == "fill_rate").to_numpy(),
        _floats(policies, "demand_mean"),
        _floats(policies, "demand_std"),
        _floats(policies, "lead_time") + _floats(policies, "review_period"),
        _floats(policies, "lead_time_std"),
        _floats(policies, "order_quantity"),
        _floats(policies, "unit_cost"),
        t,
        clamp,
    )


def _curves(
    seg: IntArray,
    labels: list[str],
    dist: IntArray,
    fill: BoolArray,
    d: FloatArray,
    sd: FloatArray,
    p: FloatArray,
    slt: FloatArray,
    q: FloatArray,
    cost: FloatArray,
    t: FloatArray,
    clamp: bool,
) -> pd.DataFrame:
    """`stock_to_service` over item arrays; ``seg`` codes index ``labels``."""
    use = (dist != _NONE) & np.isfinite(cost)
    ss = _safety_stocks(
        dist[use], fill[use], d[use], sd[use], p[use], slt[use], q[use], t, grid=True
    )
    if clamp:
        ss = np.maximum(ss, 0.0)
    k, sc, c, q = len(labels), seg[use], cost[use], q[use]
    ss_value = np.stack([np.bincount(sc, ss[:, j] * c, k) for j in range(len(t))], axis=1)
    cycle_value = np.bincount(sc, q / 2.0 * c, k)
    return pd.DataFrame(
        {
            "segment": _strings(list(labels), np.repeat(np.arange(k), len(t))),
            "service_target": np.tile(t, k),
            "inventory_value": (ss_value + cycle_value[:, None]).reshape(-1),
            "safety_stock_value": ss_value.reshape(-1),
        }
    )
