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
  says so. Quantiles: `supplyseg.policy._distributions`.
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

import numpy as np
import pandas as pd

from supplyseg.config.policy import PolicySettings
from supplyseg.errors import ConfigError
from supplyseg.policy._codes import (
    DAYS_PER_BUCKET,
    DISTRIBUTIONS,
    ITEM_KEY_SEP,
    MTO,
    PATTERNS,
    PROGRAMS,
    RULES,
    SHORT,
    STR,
    codes,
    strings,
)
from supplyseg.policy._items import Items, item_inputs
from supplyseg.policy._parameters import Params, parameters
from supplyseg.policy._rationale import rationale
from supplyseg.policy.curves import STOCK_TO_SERVICE_COLUMNS, segment_curves, stock_to_service
from supplyseg.policy.forecast import DEFAULT_METHODS
from supplyseg.policy.templates import (
    ORDER_RULE_COLUMNS,
    matrix_templates,
    order_rules,
    primary_segments,
    product_templates,
    scheme_of,
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
    mto = pr.rule == MTO
    t_fill = (templates["service_type"] == "fill_rate").to_numpy()[it.tcode]
    out["service_type"] = strings(
        ["cycle", "fill_rate", "none"], np.where(mto, 2, t_fill).astype(np.int64)
    )
    out["service_target"] = np.where(mto, np.nan, pr.level)
    out["demand_mean"], out["demand_std"] = it.d, it.sd
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
    out["expected_fill_rate"], out["inventory_value"] = pr.achieved, pr.value
    out["pattern"] = strings(PATTERNS, it.pattern)
    out["inventory_rule"] = strings(RULES, pr.rule)
    program = codes(templates["replenishment_program"], PROGRAMS)[it.tcode]
    out["replenishment_program"] = strings(PROGRAMS, program)
    out["unit_cost"] = it.cost
    out["bucket"] = strings([bucket], np.zeros(n, dtype=np.int64))
    out["rationale"] = rationale(it, pr, templates, bucket, settings)
    columns = [c for c in POLICY_COLUMNS if c in out.columns]
    return out if list(out.columns) == columns else out[columns]


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
    seg_rows = primary_segments(products_seg, ["product_id"], "products_seg")
    cseg_rows = primary_segments(customers_seg, ["customer_id"], "customers_seg")
    it, labels = item_inputs(demand, seg_rows, products, settings, forecast, notes)
    templates = product_templates(settings, labels, scheme_of(seg_rows))
    rules = order_rules(settings, list(cseg_rows["segment"].astype(str)), scheme_of(cseg_rows))
    if unused := sorted(set(settings.product) - set(labels)):
        notes.append(f"policies.product: no segment {unused} in this run; templates unused")
    customer_segment = None
    if settings.matrix and customer_product_seg is not None:
        templates, it.tcode, customer_segment = matrix_templates(
            settings, templates, seg_rows, cseg_rows, customer_product_seg, it.product, it.tcode
        )
    elif settings.matrix:
        notes.append("policies.matrix: no customer x product pairs given; cells unused")
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
    return PolicyResult(policies, rules, curves, templates, bucket, notes, seconds)
