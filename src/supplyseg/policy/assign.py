"""Policy templates per segment -> inventory parameters per item-location, and the order rules.

An *item* is a product at a location (one row of ``demand_product_location``) or, without
locations, a product (``demand_product``). `policy_outputs` gives every item the template of its
product's primary segment (or the strictest customer x product matrix cell, see
`supplyseg.config.policy`) and computes its parameters in one vectorised pass through the
kernels of `supplyseg.policy.inventory`:

- **Lifecycle** (``lifecycle`` of the demand table: new, active, dormant, obsolete; unknown
  when the column is absent): dormant and obsolete items get **no stock** (rule ``no_stock``:
  safety stock 0, reorder point 0, no order quantity) unless their template sets
  ``stock_dormant`` / ``stock_obsolete``; the rationale says why ("no demand for 34 weeks
  (obsolete): no stock"). Obsolete items with stock on hand (``inventory`` table) are listed in
  ``obsolete_stock`` (`OBSOLETE_STOCK_COLUMNS`; value = on_hand x unit cost, unknown without a
  cost).
- **Demand** per bucket, ``demand_source`` says which: ``forecast_path`` when the item has a
  forecast path (below); else ``forecast``: ``demand_mean``/``demand_std`` of the forecast
  table; else ``history``: ``mean``/``std`` of the demand profile (population std of the
  bucketed series). New items whose own history is too short (pattern insufficient_history,
  or fewer than ``new_item_min_buckets`` buckets in ``n_periods``) take the median demand mean
  and CV of the active items of their product category (``products.category``), else of their
  segment: ``analogue: category X`` / ``analogue: segment Y``. A mean <= 0 (no net demand)
  means no stock is held.
- **Protection-interval demand** from a forecast path (``unique_id, step, ds, forecast``,
  steps 1..H): the demand expected over ``P = L + R`` is the sum of the path's first
  ``floor(P)`` buckets plus the fraction ``P - floor(P)`` of the next; beyond the horizon H,
  the path mean per bucket. ``ROP = that sum + SS`` and ``demand_mean`` shows ``sum / P``, so
  an item planned on 9 December sees the demand of the weeks it must cover, not its annual
  mean or its last peak. ``demand_std`` stays the forecast's error std (else history).
- **Lead time** ``L`` and its std ``sigma_L``, in buckets: ``products.lead_time_days`` /
  ``lead_time_std_days`` divided by the days per bucket (day 1, week 7, month 365.25 / 12);
  missing values take ``default_lead_time_days`` / ``default_lead_time_std_days`` and the
  rationale says so. The review period ``R`` (template, days) is converted the same way; the
  protection interval is ``P = L + R`` (R = 0 for continuous review).
- **Distribution** by demand pattern, for cycle and fill-rate targets: normal for smooth,
  erratic and too little history; gamma (moments of lead-time demand) for intermittent; for
  lumpy with a cycle target, the empirical distribution of the item's history (``history``
  given; ``P`` rounded to whole buckets: the sums of every ``P`` consecutive buckets when the
  history is long enough, else seeded independent draws) or gamma; Poisson for intermittent or
  short-history items with mean demand below ``slow_mover_mean`` per bucket (variance = mean;
  ``sigma_L`` ignored). Gamma needs ``d * P > 1e-9``; otherwise normal. Models:
  `supplyseg.policy._distributions`.
- **Safety stock** ``SS``: normal ``z * sqrt(P sigma_d^2 + d^2 sigma_L^2)`` (cycle) or the
  fill-rate solution of ``sigma G(SS / sigma) = (1 - beta) Q``; gamma/Poisson fill rates solve
  the exact shortage per cycle (bisection); otherwise the distribution's quantile minus
  ``d * P`` (empirical: minus the history mean times the whole buckets, so a forecast mean
  shifts the level, not the safety part). Negative values are raised to 0 unless
  ``clamp_safety_stock`` is off.
- **Order quantity** ``Q``: ``rop_eoq`` EOQ ``sqrt(2 K D / (h c))`` with annual demand
  ``D = d * buckets per year``, ``K = order_cost``, ``h = holding_rate``, ``c`` the unit cost
  (unknown cost: ``fallback_cover_days`` of demand); ``order_up_to`` the expected order per
  review ``d * R``; ``base_stock`` one unit (one-for-one). Then ``max(Q, moq)`` rounded *up* to
  a whole multiple of ``order_multiple`` (``products.moq`` / ``order_multiple``; default 0 and
  1, i.e. whole units), at least one multiple.
- **Levels**: ``rop_eoq`` reorder point ``ROP = d P + SS``; ``order_up_to`` (R, S)
  ``S = d (R + L) + SS`` (no reorder point); ``base_stock`` ``ROP = d P + SS`` and ``S = ROP + Q``.
  ``make_to_order``: no stock (SS 0, ROP 0, no Q or S), only for items the template allows it
  for: demand pattern in ``mto_allowed_patterns`` (default intermittent, lumpy,
  insufficient_history), demand in at most ``mto_max_demand_frequency`` of the buckets (1 / ADI
  or n_nonzero / n_periods; default 0.5) and lead time at most
  ``make_to_order_max_lead_time_days`` (default no limit). Other items of a make-to-order
  segment are stocked (``order_up_to`` when the template has a review period, else
  ``rop_eoq``; program standard) and the rationale says why. ``summary["make_to_order_share"]``
  is the share of items made to order.
- **Service achieved**, under the distribution used: ``expected_cycle_service`` = P(demand over
  P <= ROP or S); ``expected_fill_rate`` = ``1 - ESC / Q`` with the shortage per cycle
  ``ESC = E(X - r)+ - E(X - r - Q)+`` (bounded by a cycle's demand, so 0 only when nothing is
  served from stock; Q = d R for (R, S)). ``shortfall`` = target - achieved in the target's own
  measure (cycle service or fill rate), at least 0; ``target_met`` = shortfall <=
  ``target_tolerance``; both empty for items without stock. A cycle target whose fill rate is
  more than ``fill_rate_gap`` below it (lumpy demand: the cycles that run short carry most of
  the volume) is explained in the rationale, which names the fill-rate target that reaches it
  (its cost per segment: ``stock_to_service`` with the segment's service type set to
  fill_rate).
- ``inventory_value = (SS + Q / 2) * c``; ``c`` = ``products.unit_cost``, else the average
  unit cost of the order lines ``(revenue - margin) / quantity`` from the demand profile, else
  unknown (NaN; the rationale says so). Items without stock hold 0.
- **Stock-to-service curves** (`supplyseg.policy.curves`): per product segment and target, the
  value if every stocked item had that target.
- **Rationale** (`supplyseg.policy._rationale`): one sentence per row naming what explains it,
  stored as a categorical column.

Ids for ``forecast``/``history`` tables: ``product_id`` (+ ``location_id``) columns, or a
``unique_id`` equal to the product id, or ``<product_id>@<location_id>`` for item-locations.

Modules: `supplyseg.policy.templates` (which template applies), `supplyseg.policy._items`
(per-item inputs), `supplyseg.policy._parameters` (the parameters), then the table here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from supplyseg.config.policy import PolicySettings
from supplyseg.data.contract import require_columns
from supplyseg.errors import ConfigError
from supplyseg.policy._codes import (
    DAYS_PER_BUCKET,
    DISTRIBUTIONS,
    ITEM_KEY_SEP,
    LIFECYCLES,
    MTO,
    NO_STOCK,
    OBSOLETE,
    PATTERNS,
    PROGRAMS,
    RULES,
    SHORT,
    STR,
    arrow_strings,
    codes,
    floats,
    item_keys,
    positions,
    strings,
)
from supplyseg.policy._items import (
    DEMAND_SOURCES,
    LAST_SEASON,
    PATH_SOURCES,
    Items,
    item_inputs,
)
from supplyseg.policy._parameters import Params, parameters
from supplyseg.policy._rationale import rationale
from supplyseg.policy.curves import STOCK_TO_SERVICE_COLUMNS, segment_curves, stock_to_service
from supplyseg.policy.forecast import DEFAULT_METHODS
from supplyseg.policy.templates import (
    BASE_RULES_SOURCE,
    ORDER_RULE_COLUMNS,
    matrix_templates,
    order_rules,
    override_templates,
    primary_segments,
    product_templates,
    scheme_of,
)

__all__ = [
    "DAYS_PER_BUCKET",
    "DISTRIBUTIONS",
    "ITEM_KEY_SEP",
    "OBSOLETE_STOCK_COLUMNS",
    "ORDER_RULE_COLUMNS",
    "POLICY_COLUMNS",
    "STOCK_TO_SERVICE_COLUMNS",
    "PolicyResult",
    "obsolete_stock",
    "order_rules",
    "policy_outputs",
    "product_templates",
    "stock_to_service",
]

POLICY_COLUMNS = (
    "product_id",
    "location_id",
    "customer_segment",
    "product_segment",
    "service_type",
    "service_target",
    "demand_mean",
    "demand_std",
    "demand_source",
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
    "expected_cycle_service",
    "target_met",
    "shortfall",
    "inventory_value",
    "pattern",
    "lifecycle",
    "inventory_rule",
    "replenishment_program",
    "unit_cost",
    "bucket",
    "rationale",
)
"""Columns of the policies table; ``customer_segment`` only when matrix cells apply."""
OBSOLETE_STOCK_COLUMNS = (
    "product_id",
    "location_id",
    "last_demand_date",
    "on_hand",
    "unit_cost",
    "value",
)
"""Columns of the obsolete-stock table (value unknown, NaN, without a unit cost)."""


def _empty_obsolete_stock() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": pd.Series(dtype=STR),
            "location_id": pd.Series(dtype=STR),
            "last_demand_date": pd.Series(dtype="datetime64[ns]"),
            "on_hand": pd.Series(dtype="float64"),
            "unit_cost": pd.Series(dtype="float64"),
            "value": pd.Series(dtype="float64"),
        }
    )


@dataclass
class PolicyResult:
    """Policies per item-location, order rules per customer segment, stock-to-service curves
    per product segment, the resolved templates, notes for the manifest, step timings, the
    stock of obsolete items and headline figures (``summary``)."""

    policies: pd.DataFrame
    order_rules: pd.DataFrame
    stock_to_service: pd.DataFrame
    templates: pd.DataFrame
    bucket: str
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    obsolete_stock: pd.DataFrame = field(default_factory=_empty_obsolete_stock)
    summary: dict[str, Any] = field(default_factory=dict)


def _table(
    it: Items,
    pr: Params,
    templates: pd.DataFrame,
    customer_segment: pd.Series | None,
    bucket: str,
    settings: PolicySettings,
) -> pd.DataFrame:
    """The policies table in `POLICY_COLUMNS` order (customer_segment only with matrix cells)."""
    out = it.ids.copy()
    n = len(out)
    if not it.has_loc:
        out["location_id"] = pd.Series(np.nan, index=out.index, dtype=STR)
    if customer_segment is not None:
        out["customer_segment"] = customer_segment
    out["product_segment"] = strings(templates["segment"].tolist(), it.tcode)
    none = (pr.rule == MTO) | (pr.rule == NO_STOCK)
    t_fill = (templates["service_type"] == "fill_rate").to_numpy()[it.tcode]
    out["service_type"] = strings(
        ["cycle", "fill_rate", "none"], np.where(none, 2, t_fill).astype(np.int64)
    )
    out["service_target"] = np.where(none, np.nan, pr.level)
    out["demand_mean"], out["demand_std"] = pr.d, pr.sd
    out["demand_source"] = strings(it.src_labels, it.d_src)
    out["lead_time"], out["lead_time_std"] = pr.lt, pr.slt
    out["distribution"] = strings(DISTRIBUTIONS, pr.dist)
    # auto: the default forecast method of the item's pattern (unknown: too little history).
    named = sorted(set(templates["forecast_method"]) - {"auto"})
    labels = [*(DEFAULT_METHODS[pt] for pt in PATTERNS), *named]
    t_method = np.asarray(
        [
            -1 if m == "auto" else len(PATTERNS) + named.index(m)
            for m in templates["forecast_method"]
        ],
        dtype=np.int64,
    )
    by_pattern = np.where(it.pattern >= 0, it.pattern, SHORT)
    method = t_method[it.tcode]
    out["forecast_method"] = strings(labels, np.where(method >= 0, method, by_pattern))
    out["safety_stock"], out["reorder_point"] = pr.ss, pr.rop
    out["order_quantity"], out["order_up_to"] = pr.q, pr.s
    out["review_period"] = pr.review
    out["expected_fill_rate"], out["expected_cycle_service"] = pr.achieved, pr.cycle
    met = pd.array(pr.met, dtype="boolean")
    met[~pr.stocked] = pd.NA
    out["target_met"], out["shortfall"] = met, pr.shortfall
    out["inventory_value"] = pr.value
    out["pattern"] = strings(PATTERNS, it.pattern)
    out["lifecycle"] = strings(LIFECYCLES, it.lifecycle)
    out["inventory_rule"] = strings(RULES, pr.rule)
    program = codes(templates["replenishment_program"], PROGRAMS)[it.tcode]
    # A make-to-order template's item that is stocked instead runs the standard program.
    program = np.where(pr.mto_block > 0, PROGRAMS.index("standard"), program)
    out["replenishment_program"] = strings(PROGRAMS, program)
    out["unit_cost"] = it.cost
    out["bucket"] = strings([bucket], np.zeros(n, dtype=np.int64))
    out["rationale"] = rationale(it, pr, templates, bucket, settings)
    columns = [c for c in POLICY_COLUMNS if c in out.columns]
    return out if list(out.columns) == columns else out[columns]


def obsolete_stock(
    it: Items, inventory: pd.DataFrame | None, obsolete: np.ndarray[Any, Any]
) -> pd.DataFrame:
    """Inventory rows (``product_id, location_id, on_hand``) with stock on hand of obsolete
    items, in `OBSOLETE_STOCK_COLUMNS`: at item-location grain the row's own item, at product
    grain every location's stock of the product."""
    if inventory is None or not obsolete.any() or len(inventory) == 0:
        return _empty_obsolete_stock()
    require_columns("inventory", inventory, ["product_id", "location_id", "on_hand"])
    prod = arrow_strings(inventory["product_id"])
    loc = arrow_strings(inventory["location_id"]).fill_null("")
    keys = item_keys(prod, loc) if it.has_loc else prod
    at = positions(keys, it.keys)
    on_hand = floats(inventory, "on_hand")
    hit = (at >= 0) & (on_hand > 0)
    hit[hit] = obsolete[at[hit]]
    rows, items = np.flatnonzero(hit), at[hit]
    out = pd.DataFrame(
        {
            "product_id": pd.Series(inventory["product_id"].to_numpy()[rows], dtype=STR),
            "location_id": pd.Series(inventory["location_id"].to_numpy()[rows], dtype=STR),
            "last_demand_date": it.last_demand.to_numpy()[items],
            "on_hand": on_hand[rows],
            "unit_cost": it.cost[items],
        }
    )
    out["value"] = out["on_hand"] * out["unit_cost"]  # NaN cost: value unknown
    return out.sort_values("value", ascending=False, na_position="last", ignore_index=True)


def _known_sum(values: pd.Series) -> float | None:
    """The sum, 0 for no rows, None when rows exist but none is known."""
    if len(values) and values.isna().all():
        return None
    return float(values.sum())


def _summary(
    policies: pd.DataFrame, pr: Params, it: Items, obsolete: pd.DataFrame, stock_known: bool
) -> dict[str, Any]:
    """Headline figures of the policies for the manifest; without an inventory table the
    obsolete stock is unknown (None), not 0."""
    n = len(policies)
    rule = policies["inventory_rule"]
    stocked = int(pr.stocked.sum())
    return {
        "items": n,
        "make_to_order_share": float((rule == "make_to_order").mean()) if n else 0.0,
        "make_to_order_not_applied": int((pr.mto_block > 0).sum()),
        "no_stock_lifecycle": int((pr.rule == NO_STOCK).sum()),
        "stocked": stocked,
        "target_not_met": int((pr.stocked & ~pr.met).sum()),
        "cycle_target_low_fill_rate": int(pr.gap.sum()),
        "demand_from_analogues": int((it.d_src >= len(DEMAND_SOURCES)).sum()),
        "demand_from_forecast_path": int((pr.stocked & np.isin(it.d_src, PATH_SOURCES)).sum()),
        "demand_from_last_season": int((pr.stocked & (it.d_src == LAST_SEASON)).sum()),
        "obsolete_stock_rows": len(obsolete) if stock_known else None,
        "obsolete_stock_value": _known_sum(obsolete["value"]) if stock_known else None,
    }


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
    forecast_path: pd.DataFrame | None = None,
    inventory: pd.DataFrame | None = None,
    item_targets: pd.DataFrame | None = None,
    item_lead_times: pd.DataFrame | None = None,
) -> PolicyResult:
    """Inventory parameters per item-location, order rules and stock-to-service curves.

    ``products_seg``/``customers_seg``: segment tables (their primary rows are used);
    ``demand``: ``demand_product_location`` (or ``demand_product``) profile, optionally with
    ``lifecycle``, ``buckets_since_demand``, ``last_demand_date``, ``adi`` / ``n_nonzero``,
    ``n_periods``; ``products``: the canonical products table (lead times, unit_cost, moq,
    order_multiple, category); ``forecast``: `supplyseg.policy.forecast.demand_forecast`
    output; ``forecast_path``: ``unique_id, step, ds, forecast`` per item and bucket ahead;
    ``history``: long demand series (``demand_series`` output or ``unique_id, ds, y``) for the
    empirical distribution of lumpy items; ``customer_product_seg``: customer x product pairs,
    needed for ``policies.matrix`` cells; ``inventory``: ``product_id, location_id, on_hand``
    for the obsolete-stock table; ``item_targets``: planner service-target overrides
    (``product_id, service_target, note``), which win over the segment's and a matrix cell's;
    ``item_lead_times``: lead times per item-location (``product_id, location_id,
    lead_time_days, lead_time_std_days``), which win over the products table's.
    """
    if bucket not in DAYS_PER_BUCKET:
        raise ConfigError(f"bucket={bucket!r}: unknown; allowed: {', '.join(DAYS_PER_BUCKET)}")
    clock, seconds, notes = time.perf_counter(), {}, list[str]()
    seg_rows = primary_segments(products_seg, ["product_id"], "products_seg")
    cseg_rows = primary_segments(customers_seg, ["customer_id"], "customers_seg")
    it, labels = item_inputs(
        demand, seg_rows, products, settings, forecast, notes, forecast_path, item_lead_times
    )
    templates = product_templates(settings, labels, scheme_of(seg_rows))
    rules = order_rules(settings, list(cseg_rows["segment"].astype(str)), scheme_of(cseg_rows))
    if based := list(rules.loc[rules["source"] == BASE_RULES_SOURCE, "segment"]):
        notes.append(
            f"policies.customer: no order rules for customer segment(s) {based}; they get the"
            " base rules (BASE_ORDER_RULES: hard credit check, every channel, no minimums);"
            " set policies.customer.<segment> or policies.customer_default to change them"
        )
    if unused := sorted(set(settings.product) - set(labels)):
        notes.append(f"policies.product: no segment {unused} in this run; templates unused")
    customer_segment = None
    if settings.matrix and customer_product_seg is not None:
        templates, it.tcode, customer_segment = matrix_templates(
            settings, templates, seg_rows, cseg_rows, customer_product_seg, it.product, it.tcode
        )
    elif settings.matrix:
        notes.append("policies.matrix: no customer x product pairs given; cells unused")
    if item_targets is not None and len(item_targets):
        templates, it.tcode = override_templates(templates, it.tcode, it.product, item_targets)
    seconds["inputs"] = time.perf_counter() - clock

    clock = time.perf_counter()
    params = parameters(it, templates, settings, bucket, history)
    seconds["parameters"] = time.perf_counter() - clock
    clock = time.perf_counter()
    policies = _table(it, params, templates, customer_segment, bucket, settings)
    seconds["table"] = time.perf_counter() - clock
    clock = time.perf_counter()
    labels = sorted(set(templates["segment"]))
    seg = codes(templates["segment"], labels)[it.tcode]
    targets = np.asarray(settings.stock_to_service_targets, dtype=np.float64)
    curves = segment_curves(
        seg, labels, params.lead_time_demand(it), it.cost, targets, settings.clamp_safety_stock
    )
    seconds["stock_to_service"] = time.perf_counter() - clock
    stale = obsolete_stock(it, inventory, it.lifecycle == OBSOLETE)
    summary = _summary(policies, params, it, stale, inventory is not None)
    if summary["make_to_order_not_applied"]:
        notes.append(
            f"policies: {summary['make_to_order_not_applied']} item(s) of make-to-order"
            " templates are stocked instead (pattern, demand frequency or lead time; see"
            " mto_allowed_patterns, mto_max_demand_frequency)"
        )
    if summary["no_stock_lifecycle"]:
        notes.append(
            f"policies: {summary['no_stock_lifecycle']} dormant or obsolete item(s) get no stock"
        )
    return PolicyResult(policies, rules, curves, templates, bucket, notes, seconds, stale, summary)
