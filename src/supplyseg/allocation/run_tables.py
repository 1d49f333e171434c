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

import pandas as pd

from supplyseg.allocation.plan import allocation_rules, allocation_shares
from supplyseg.allocation.protection import allocation_protection
from supplyseg.allocation.supply import supply_table
from supplyseg.config.policy import PolicySettings
from supplyseg.data.contract import require_columns

__all__ = ["allocation_products", "allocation_tables", "demand_mix", "product_mix"]


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


def allocation_products(product_segments: pd.DataFrame) -> pd.DataFrame:
    """``product_id, product_segment`` of every product with a primary segment."""
    require_columns("segments_product", product_segments, ("product_id", "segment"))
    out = _primary(product_segments, "product_id").rename(columns={"segment": "product_segment"})
    return out.sort_values("product_id", ignore_index=True)


def demand_mix(
    pairs: pd.DataFrame, customer_segments: pd.DataFrame, product_segments: pd.DataFrame
) -> pd.DataFrame:
    """``product_segment, customer_segment, quantity``: the quantity of ``pairs`` (customer x
    product demand, e.g. ``demand_customer_product``) per primary segment pair; negative totals
    (more credited than sold) count as 0."""
    require_columns("demand_customer_product", pairs, ("customer_id", "product_id", "quantity"))
    require_columns("segments_customer", customer_segments, ("customer_id", "segment"))
    customers = _primary(customer_segments, "customer_id").rename(
        columns={"segment": "customer_segment"}
    )
    products = allocation_products(product_segments)
    p = pairs[["customer_id", "product_id", "quantity"]].astype(
        {"customer_id": str, "product_id": str}
    )
    p = p.merge(customers, on="customer_id").merge(products, on="product_id")
    quantity = pd.to_numeric(p["quantity"], errors="coerce").fillna(0.0)
    mix = (
        p.assign(quantity=quantity)
        .groupby(["product_segment", "customer_segment"], as_index=False)
        .agg(quantity=("quantity", "sum"))
    )
    mix["quantity"] = mix["quantity"].clip(lower=0.0).astype("float64")
    return mix.sort_values(["product_segment", "customer_segment"], ignore_index=True)


def product_mix(pairs: pd.DataFrame, customer_segments: pd.DataFrame) -> pd.DataFrame:
    """``product_id, customer_segment, quantity``: the quantity of ``pairs`` per product and
    primary customer segment; negative totals count as 0."""
    require_columns("demand_customer_product", pairs, ("customer_id", "product_id", "quantity"))
    customers = _primary(customer_segments, "customer_id").rename(
        columns={"segment": "customer_segment"}
    )
    p = pairs[["customer_id", "product_id", "quantity"]].astype({"customer_id": str})
    p = p.merge(customers, on="customer_id")
    p["quantity"] = pd.to_numeric(p["quantity"], errors="coerce").fillna(0.0)
    mix = p.groupby(["product_id", "customer_segment"], as_index=False).agg(
        quantity=("quantity", "sum")
    )
    mix["product_id"] = mix["product_id"].astype(str)
    mix["quantity"] = mix["quantity"].clip(lower=0.0).astype("float64")
    return mix.sort_values(["product_id", "customer_segment"], ignore_index=True)


def allocation_tables(
    settings: PolicySettings,
    *,
    pairs: pd.DataFrame | None,
    customer_segments: pd.DataFrame | None,
    product_segments: pd.DataFrame | None,
    supply: pd.DataFrame | None,
    inventory: pd.DataFrame | None,
    as_of: dt.date,
    policies: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables of the module docstring, by file stem; the plan only when the run has
    customer-product demand and primary segments of both kinds."""
    out: dict[str, pd.DataFrame] = {}
    if supply is not None or inventory is not None:
        out["supply"] = supply_table(supply, inventory, as_of)
    if pairs is not None and customer_segments is not None and product_segments is not None:
        customers = _primary(customer_segments, "customer_id")
        if len(customers):
            scheme = None
            if "scheme" in customer_segments.columns:
                names = _primary_rows(customer_segments)["scheme"].dropna().unique()
                scheme = str(names[0]) if len(names) else None
            rules = allocation_rules(settings, sorted(customers["segment"].unique()), scheme)
            mix = demand_mix(pairs, customer_segments, product_segments)
            out["allocation_shares"] = allocation_shares(rules, mix)
            out["allocation_products"] = allocation_products(product_segments)
            if policies is not None and "supply" in out:
                out["allocation_protection"] = allocation_protection(
                    policies, product_mix(pairs, customer_segments), rules, out["supply"], as_of
                )
    return out
