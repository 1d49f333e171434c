"""Synthetic company, part 3: suppliers, purchase orders and sourcing options with known truth.

Each supplier is designed as one Kraljic segment (``truth_suppliers``), in shares 15/25/25/35 %
strategic / leverage / bottleneck / non_critical (at least one each from four suppliers on):

- spend: products go to their main supplier by spend weight, so that strategic and leverage
  suppliers ("high spend") hold about 86 % of the products, the others 14 % (one product at
  least each); every product is bought about equally often and every line is worth about the
  same (lognormal, sd 0.25 of its log), so spend follows the products.
- supply risk: strategic and bottleneck suppliers are overseas (CN, IN, VN; sea freight, FOB,
  4 % duty): gamma lead times with mean 50..90 days and CV 0.35..0.50, OTIF 70..85 %, and
  each of their products is bought from them alone. Leverage and non-critical suppliers are
  near (DE, PL, NL; road, DAP, no duty): mean 7..20 days, CV 0.10..0.20, OTIF 95..99 %, and
  each of their products is bought from a second near supplier of the same spend group too (a
  quarter of its lines).

A line's lead time is the supplier's gamma draw rounded to whole days (receipt = order +
lead time; receipts after the horizon end are open: no receipt date, no received quantity).
The promised date is the order date plus the designed lead time's quantile at the on-time
share ``otif / 0.98``, rounded up, and 2 % of lines are short (70..95 % received), so OTIF is
about as designed. Prices are the product's unit cost ±3 %.

Sourcing options: every (product, supplier) bought from, quoting the supplier's designed lead
time, and for 30 % of the overseas suppliers' products a near alternative 8..15 % dearer with a
near supplier's lead time (never bought from: a candidate for the landed-cost comparison).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

from supplyseg.data._synth_master import (
    _DAYS,
    _NULL,
    Arr,
    Rng,
    _classes,
    _dates,
    _frame,
    _ids,
    _strings,
    _width,
)

SUPPLIER_SEGMENTS = ("strategic", "leverage", "bottleneck", "non_critical")
SUPPLY_TABLE_NAMES = ("suppliers", "purchase_orders", "sourcing_options")
_SEGMENT_SHARE = (0.15, 0.25, 0.25, 0.35)
_HIGH_SPEND = np.array([True, True, False, False])
_HIGH_RISK = np.array([True, False, True, False])
_HIGH_SPEND_SHARE = 0.86
_FAR = ("CN", "IN", "VN")
_NEAR = ("DE", "PL", "NL")
_IN_FULL = 0.98
_SECOND_SHARE = 0.25  # of a near product's lines bought from its second supplier
_ALTERNATIVE_SHARE = 0.30  # of far products with a quoted near alternative


@dataclass
class SupplyTables:
    """The three purchasing tables and the designed truth per supplier."""

    suppliers: pd.DataFrame
    purchase_orders: pd.DataFrame
    sourcing_options: pd.DataFrame
    truth_suppliers: pd.DataFrame


def _design(rng: Rng, n: int) -> dict[str, Arr]:
    segment = _classes(rng, n, _SEGMENT_SHARE, 1)
    far = _HIGH_RISK[segment]
    mean = np.where(far, rng.uniform(50, 90, n), rng.uniform(7, 20, n)).round(1)
    cv = np.where(far, rng.uniform(0.35, 0.50, n), rng.uniform(0.10, 0.20, n))
    otif = np.where(far, rng.uniform(0.70, 0.85, n), rng.uniform(0.95, 0.99, n)).round(3)
    high = _HIGH_SPEND[segment]
    weight = np.where(high, _HIGH_SPEND_SHARE / high.sum(), (1 - _HIGH_SPEND_SHARE) / (~high).sum())
    return {"segment": segment, "far": far, "mean": mean, "std": (mean * cv).round(2)} | {
        "otif": otif,
        "weight": weight * rng.uniform(0.85, 1.15, n),
    }


def _assign_products(rng: Rng, n_products: int, design: dict[str, Arr]) -> tuple[Arr, Arr]:
    """Each product's main supplier, drawn by spend weight (every supplier has one at least,
    when there are enough products), and its second supplier: another near supplier of the
    same spend group (-1 for far suppliers' products: single source)."""
    n, far, weight = len(design["far"]), design["far"], design["weight"]
    counts = np.maximum(np.rint(weight / weight.sum() * n_products), 1).astype(np.int64)
    while counts.sum() > n_products and counts.max() > 1:  # the minimum of one took products
        counts[np.argmax(counts)] -= 1
    counts[np.argmax(counts)] += max(0, n_products - int(counts.sum()))
    main = rng.permutation(np.repeat(np.arange(n), counts))[:n_products].astype(np.int64)
    high = _HIGH_SPEND[design["segment"]]
    second = np.full(n_products, -1, dtype=np.int64)
    for group in (True, False):
        peers = np.flatnonzero(~far & (high == group))
        if len(peers) < 2:
            continue
        mine = np.flatnonzero(np.isin(main, peers))
        # Another peer: shift the main supplier's position among the peers.
        pos = np.searchsorted(peers, main[mine])
        second[mine] = peers[(pos + rng.integers(1, len(peers), len(mine))) % len(peers)]
    return main, second


def synth_supply(
    rng: Rng,
    products: pd.DataFrame,
    n_suppliers: int,
    n_lines: int,
    n_locations: int,
    loc_share: Arr,
) -> SupplyTables:
    """The purchasing tables of the synthetic company (see the module docstring)."""
    n_products = len(products)
    design = _design(rng, n_suppliers)
    far = design["far"]
    main, second = _assign_products(rng, n_products, design)
    cost = products["unit_cost"].to_numpy(dtype=float)

    # Every product is bought about equally often; a quarter of a dual-sourced product's lines
    # go to its second supplier. Spend follows the products each supplier holds.
    product = rng.integers(0, n_products, n_lines)
    supplier = main[product]
    switch = (second[product] >= 0) & (rng.random(n_lines) < _SECOND_SHARE)
    supplier[switch] = second[product][switch]

    order_day = rng.integers(0, _DAYS, n_lines)
    order_day.sort()
    mean, std = design["mean"][supplier], design["std"][supplier]
    shape, scale = (mean / std) ** 2, std**2 / mean
    lead = np.maximum(np.rint(rng.gamma(shape, scale)), 1).astype(np.int64)
    on_time_share = np.minimum(design["otif"][supplier] / _IN_FULL, 0.999)
    promise = np.ceil(stats.gamma.ppf(on_time_share, shape, scale=scale)).astype(np.int64)
    receipt = order_day + lead
    open_line = receipt > _DAYS - 1
    price = np.round(cost[product] * rng.uniform(0.97, 1.03, n_lines), 2)
    value = 2000.0 * rng.lognormal(0.0, 0.25, n_lines)
    qty = np.maximum(np.rint(value / np.maximum(price, 0.01)), 1.0)
    short = rng.random(n_lines) >= _IN_FULL
    received = np.where(short, np.floor(qty * rng.uniform(0.70, 0.95, n_lines)), qty)
    line_far = far[supplier]
    line_value = qty * price
    location = rng.choice(n_locations, n_lines, p=loc_share)

    # One PO per supplier, day and location; lines numbered within it.
    key = (supplier.astype(np.int64) * _DAYS + order_day) * n_locations + location
    by_key = np.argsort(key, kind="stable")
    key_sorted = key[by_key]
    first = np.r_[True, key_sorted[1:] != key_sorted[:-1]]
    po_sorted = np.cumsum(first) - 1
    po = np.empty(n_lines, dtype=np.int64)
    po[by_key] = po_sorted
    start_of = np.flatnonzero(first)
    line_no = np.empty(n_lines, dtype=np.int64)
    line_no[by_key] = np.arange(n_lines) - np.repeat(start_of, np.diff(np.r_[start_of, n_lines]))
    line_no += 1

    sup_ids = _ids("S", np.arange(1, n_suppliers + 1), _width(n_suppliers, 4))
    prod_ids = pa.array(products["product_id"].to_numpy(dtype=object), pa.string())
    loc_ids = pa.array([f"DC{i + 1}" for i in range(n_locations)])
    country = np.where(
        far,
        rng.integers(0, len(_FAR), n_suppliers),
        len(_FAR) + rng.integers(0, len(_NEAR), n_suppliers),
    )
    suppliers = _frame(
        supplier_id=sup_ids,
        name=pa.array([f"Supplier {i + 1}" for i in range(n_suppliers)]),
        country=_strings((*_FAR, *_NEAR), country),
        currency=_strings(("USD", "EUR"), (~far).astype(np.int64)),
    )
    purchase_orders = _frame(
        po_id=_ids("PO", po + 1, _width(int(po.max(initial=0)) + 1, 7)),
        line_no=line_no,
        supplier_id=_strings(sup_ids, supplier),
        product_id=_strings(prod_ids, product),
        order_date=_dates(order_day),
        quantity=qty,
        location_id=_strings(loc_ids, location),
        promised_date=_dates(order_day + promise),
        receipt_date=_dates(np.where(open_line, _NULL, receipt)),
        received_quantity=np.where(open_line, np.nan, received),
        unit_price=price,
        freight_cost=np.round(line_value * np.where(line_far, 0.06, 0.02), 2),
        insurance_cost=np.round(line_value * np.where(line_far, 0.005, 0.0), 2),
        duty_rate=np.where(line_far, 0.04, 0.0),
        incoterm=_strings(("DAP", "FOB"), line_far.astype(np.int64)),
        mode=_strings(("road", "sea"), line_far.astype(np.int64)),
    )
    options = _sourcing_options(rng, design, main, second, cost, (sup_ids, prod_ids))
    truth = _frame(
        supplier_id=sup_ids,
        segment=_strings(SUPPLIER_SEGMENTS, design["segment"]),
        lead_time_mean_days=design["mean"],
        lead_time_std_days=design["std"],
        otif=design["otif"],
        spend_group=_strings(("low", "high"), _HIGH_SPEND[design["segment"]].astype(np.int64)),
        supply_risk=_strings(("low", "high"), far.astype(np.int64)),
    )
    return SupplyTables(suppliers, purchase_orders, options, truth)


def _sourcing_options(
    rng: Rng,
    design: dict[str, Arr],
    main: Arr,
    second: Arr,
    cost: Arr,
    ids: tuple[Any, Any],
) -> pd.DataFrame:
    far = design["far"]
    n_products = len(main)
    near = np.flatnonzero(~far)
    product = np.r_[np.arange(n_products), np.flatnonzero(second >= 0)]
    supplier = np.r_[main, second[second >= 0]]
    price = cost[product]
    if len(near):
        alt = np.flatnonzero(far[main] & (rng.random(n_products) < _ALTERNATIVE_SHARE))
        product = np.r_[product, alt]
        supplier = np.r_[supplier, near[rng.integers(0, len(near), len(alt))]]
        price = np.r_[price, cost[alt] * rng.uniform(1.08, 1.15, len(alt))]
    is_far = far[supplier]
    return _frame(
        product_id=_strings(ids[1], product),
        supplier_id=_strings(ids[0], supplier),
        unit_price=np.round(price, 2),
        lead_time_days=design["mean"][supplier],
        lead_time_std_days=design["std"][supplier],
        moq=np.where(is_far, 500.0, 10.0),
        freight_per_unit=np.round(price * np.where(is_far, 0.06, 0.02), 4),
        insurance_rate=np.where(is_far, 0.005, 0.0),
        duty_rate=np.where(is_far, 0.04, 0.0),
        incoterm=_strings(("DAP", "FOB"), is_far.astype(np.int64)),
        mode=_strings(("road", "sea"), is_far.astype(np.int64)),
    ).sort_values(["product_id", "supplier_id"], ignore_index=True)
