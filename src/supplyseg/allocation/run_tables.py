"""The allocation tables a run writes for ``supplyseg publish`` to carry into the order service
(`supplyseg.service.promise_files`):

- ``allocation_shares.parquet``: `allocation_shares` of the policy's allocation rules for the
  run's primary customer segments, over the demand mix (quantity per primary product segment x
  primary customer segment of the horizon's customer-product demand);
- ``allocation_products.parquet``: ``product_id, product_segment`` (primary product segments);
- ``allocation_protection.parquet``: `allocation_protection`, the quantity per product kept
  for each customer segment with a fill target, from the policies' forecast and the demand
  mix per product x primary customer segment over the supply horizon (with supply only);
- ``supply.parquet``: `supply_table` of the ``supply`` table, or of ``inventory.on_hand`` when
  only inventory is given (none when neither is).

Customers and products without a primary segment are outside the mix: their demand protects
nothing, and a product outside ``allocation_products`` is promised without nesting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from supplyseg.allocation.plan import allocation_rules, allocation_shares
from supplyseg.allocation.protection import allocation_protection
from supplyseg.allocation.supply import supply_table
from supplyseg.config.policy import PolicySettings
from supplyseg.data.contract import require_columns

__all__ = [
    "Pairs",
    "allocation_customers",
    "allocation_products",
    "allocation_tables",
    "demand_mix",
    "product_mix",
]


def _primary_rows(segments: pd.DataFrame) -> pd.DataFrame:
    if "primary" not in segments.columns:
        return segments
    return segments[segments["primary"].astype(bool)]


def _primary(segments: pd.DataFrame, key: str) -> pd.DataFrame:
    out = (
        _primary_rows(segments)[[key, "segment"]]
        .drop_duplicates(key)
        .astype({key: str, "segment": str})
    )
    return out.reset_index(drop=True)


def allocation_customers(customer_segments: pd.DataFrame) -> pd.DataFrame:
    """``customer_id, customer_segment`` of every customer with a primary segment."""
    require_columns("segments_customer", customer_segments, ("customer_id", "segment"))
    out = _primary(customer_segments, "customer_id")
    return out.rename(columns={"segment": "customer_segment"})


def allocation_products(product_segments: pd.DataFrame) -> pd.DataFrame:
    """``product_id, product_segment`` of every product with a primary segment."""
    require_columns("segments_product", product_segments, ("product_id", "segment"))
    out = _primary(product_segments, "product_id").rename(columns={"segment": "product_segment"})
    return out.sort_values("product_id", ignore_index=True)


Pairs = pd.DataFrame | Iterable[pd.DataFrame]
_SUM_COLUMNS = ("product_id", "customer_segment", "quantity")


def demand_mix(
    pairs: Pairs, customer_segments: pd.DataFrame, product_segments: pd.DataFrame
) -> pd.DataFrame:
    """``product_segment, customer_segment, quantity``: the quantity of ``pairs`` (customer x
    product demand, e.g. ``demand_customer_product``, as one frame or in batches) per primary
    segment pair; negative totals (more credited than sold) count as 0.

    Ids are compared as text. Millions of pairs share thousands of ids and a few segments, so
    the segments are looked up once per distinct id and the pairs carry integer codes: no text
    per row (gigabytes at 10M order lines) and no join of the pairs.
    """
    require_columns("segments_customer", customer_segments, ("customer_id", "segment"))
    return _segment_mix(_product_sums(pairs, customer_segments), product_segments)


def product_mix(pairs: Pairs, customer_segments: pd.DataFrame) -> pd.DataFrame:
    """``product_id, customer_segment, quantity``: the quantity of ``pairs`` per product and
    primary customer segment (segments looked up per distinct id, as in `demand_mix`);
    negative totals count as 0."""
    require_columns("segments_customer", customer_segments, ("customer_id", "segment"))
    return _clipped(_product_sums(pairs, customer_segments))


def _clipped(sums: pd.DataFrame) -> pd.DataFrame:
    sums["quantity"] = sums["quantity"].clip(lower=0.0)
    return sums


def _segment_mix(sums: pd.DataFrame, product_segments: pd.DataFrame) -> pd.DataFrame:
    """`demand_mix` from `_product_sums`: the products' sums per primary product segment."""
    products = allocation_products(product_segments)
    joined = sums.merge(products, on="product_id")  # products without a segment drop out
    keys = ["product_segment", "customer_segment"]
    return _clipped(joined.groupby(keys, sort=True)["quantity"].sum().reset_index())


def _product_sums(pairs: Pairs, customer_segments: pd.DataFrame) -> pd.DataFrame:
    """``product_id`` (text), ``customer_segment``, ``quantity`` summed per product and primary
    customer segment, not clipped, sorted; pairs without a primary customer segment left out.

    Summed a batch at a time (one row per product and segment per batch): pairs given in
    batches (a file read a row group at a time) are never held at once.
    """
    customers = _primary(customer_segments, "customer_id")
    parts = [pd.DataFrame({"product_id": [], "customer_segment": [], "quantity": []})]
    for batch in [pairs] if isinstance(pairs, pd.DataFrame) else pairs:
        require_columns("demand_customer_product", batch, ("customer_id", "product_id", "quantity"))
        c_code, c_names = _segment_codes(batch["customer_id"], customers, "customer_id", "segment")
        p_code, p_ids = _id_codes(batch["product_id"])
        p_idx, c_idx, quantity = _coded_sums(batch, p_code, c_code)
        parts.append(
            pd.DataFrame(
                {
                    "product_id": pd.Index(p_ids).astype(str)[p_idx],
                    "customer_segment": c_names[c_idx],
                    "quantity": quantity,
                }
            )
        )
    sums = pd.concat(parts, ignore_index=True).astype({"quantity": "float64"})
    keys = ["product_id", "customer_segment"]
    return sums.groupby(keys, sort=True)["quantity"].sum().reset_index()


def _coded_sums(
    pairs: pd.DataFrame, p_code: np.ndarray, c_code: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(product code, customer code, quantity summed) per code pair of the pairs that have
    both codes, in code order.

    One counting pass over a combined code (`numpy.bincount`): a group-by of millions of
    pairs holds four item-sized arrays more.
    """
    keep = (c_code >= 0) & (p_code >= 0)
    quantity = pd.to_numeric(pairs["quantity"], errors="coerce").to_numpy(dtype=np.float64)
    width = int(c_code.max()) + 1 if keep.any() else 1
    key = p_code[keep].astype(np.int64) * width + c_code[keep]
    weights = quantity[keep]
    weights[np.isnan(weights)] = 0.0  # unknown quantity counts 0
    sums = np.bincount(key, weights=weights)
    seen = np.flatnonzero(np.bincount(key, minlength=len(sums)))
    return seen // width, seen % width, sums[seen]


def _segment_codes(
    ids: pd.Series, segments: pd.DataFrame, key: str, column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per id, a code into the returned segment names (-1: no segment), from ``segments``
    (one row per text ``key``)."""
    codes, distinct = _id_codes(ids)
    names, segment_of = np.unique(segments[column].to_numpy(dtype=object), return_inverse=True)
    row = pd.Index(segments[key]).get_indexer(pd.Index(distinct).astype(str))
    # A last entry -1 for the misses (-1 indexes it): no id, or an id without a segment.
    per_distinct = np.append(np.append(segment_of, -1)[row], -1).astype(np.int32)
    codes_out: np.ndarray = per_distinct[codes]
    return codes_out, names


def _id_codes(ids: pd.Series) -> tuple[np.ndarray, Any]:
    """Integer codes of ``ids`` (-1: null) and the distinct ids they index: a categorical's
    own codes (the pairs a run keeps: no pass over millions of ids)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return ids.cat.codes.to_numpy(), ids.cat.categories
    codes, distinct = pd.factorize(ids, use_na_sentinel=True)
    return codes, distinct


def allocation_tables(
    settings: PolicySettings,
    *,
    pairs: Pairs | None,
    customer_segments: pd.DataFrame | None,
    product_segments: pd.DataFrame | None,
    supply: pd.DataFrame | None,
    inventory: pd.DataFrame | None,
    as_of: dt.date,
    policies: pd.DataFrame | None = None,
    product_demand: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables of the module docstring, by file stem; the plan only when the run has
    customer-product demand and primary segments of both kinds.

    ``product_demand`` (``product_id, customer_segment, quantity``: the horizon's quantity per
    product and primary customer segment, e.g. from
    `supplyseg.analytics.demand.demand_by_customer_group` of `allocation_customers`) stands
    for ``pairs`` when given: the same sums without a table of pairs.
    """
    out: dict[str, pd.DataFrame] = {}
    if supply is not None or inventory is not None:
        out["supply"] = supply_table(supply, inventory, as_of)
    demand = pairs if product_demand is None else product_demand
    if demand is not None and customer_segments is not None and product_segments is not None:
        customers = _primary(customer_segments, "customer_id")
        if len(customers):
            scheme = None
            if "scheme" in customer_segments.columns:
                names = _primary_rows(customer_segments)["scheme"].dropna().unique()
                scheme = str(names[0]) if len(names) else None
            rules = allocation_rules(settings, sorted(customers["segment"].unique()), scheme)
            if product_demand is not None:
                require_columns("product_demand", product_demand, _SUM_COLUMNS)
                sums = product_demand[list(_SUM_COLUMNS)].astype({"quantity": "float64"})
            else:  # one pass over the pairs
                sums = _product_sums(demand, customer_segments)
            mix = _segment_mix(sums, product_segments)
            out["allocation_shares"] = allocation_shares(rules, mix)
            out["allocation_products"] = allocation_products(product_segments)
            if policies is not None and "supply" in out:
                out["allocation_protection"] = allocation_protection(
                    policies, _clipped(sums), rules, out["supply"], as_of
                )
    return out
