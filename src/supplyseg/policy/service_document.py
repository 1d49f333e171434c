"""The policy version the order service enforces, built from a run's segments and order rules.

One document per run (``policy_document.json``): the order rules of every customer segment,
each customer's segment (primary scheme) with its credit limit and open receivables, and each
product's list price. ``supplyseg publish`` loads it into the service database.

List prices are not part of the data contract, so a product's list price is its average net
realised price over the horizon (revenue / quantity of its demand profile); products without
positive sales are left out (orders for them are then ``product_known`` exceptions).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from supplyseg.errors import PolicyError
from supplyseg.policy.document import CustomerPolicy, PolicyVersion, ProductPolicy
from supplyseg.policy.export import segment_rules

__all__ = ["service_policy"]


def _primary(segments: pd.DataFrame) -> pd.DataFrame:
    rows = segments[segments["primary"]] if "primary" in segments.columns else segments
    return rows[["customer_id", "segment"]].drop_duplicates("customer_id")


def service_policy(
    *,
    version_id: str,
    config_hash: str,
    order_rules: pd.DataFrame,
    customer_segments: pd.DataFrame,
    demand_product: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    customer_metrics: pd.DataFrame | None = None,
    created: datetime | None = None,
    currency: str = "EUR",
) -> PolicyVersion:
    """The service's `PolicyVersion` for one run (see the module docstring)."""
    segments = segment_rules(order_rules)
    members = _primary(customer_segments)
    uncovered = sorted(set(members["segment"]) - set(segments))
    if uncovered:
        raise PolicyError(
            f"order rules: customer segment(s) {uncovered} have no order rules; fix: add them"
            " under policies.customer or set policies.customer_default"
        )
    data = members.copy()
    if customers is not None and "credit_limit" in customers.columns:
        data = data.merge(customers[["customer_id", "credit_limit"]], on="customer_id", how="left")
    if customer_metrics is not None and "open_amount" in customer_metrics.columns:
        open_amount = customer_metrics[["customer_id", "open_amount"]]
        data = data.merge(open_amount, on="customer_id", how="left")
    limits = data.get("credit_limit", pd.Series(np.nan, index=data.index))
    receivables = data.get("open_amount", pd.Series(0.0, index=data.index)).fillna(0.0)
    customer_docs = [
        CustomerPolicy(
            customer_id=str(cid),
            segment=str(seg),
            credit_limit=None if pd.isna(limit) else float(limit),
            open_receivables=max(float(owed), 0.0),
        )
        for cid, seg, limit, owed in zip(
            data["customer_id"], data["segment"], limits, receivables, strict=True
        )
    ]
    sold = demand_product[(demand_product["quantity"] > 0) & (demand_product["revenue"] > 0)]
    product_docs = [
        ProductPolicy(product_id=str(pid), list_price=round(float(rev) / float(qty), 4))
        for pid, rev, qty in zip(sold["product_id"], sold["revenue"], sold["quantity"], strict=True)
    ]
    return PolicyVersion.model_validate(
        {
            "version_id": version_id,
            "created": created or datetime.now(UTC),
            "source_run_id": version_id,
            "config_hash": config_hash,
            "currency": currency,
            "segments": segments,
            "customers": customer_docs,
            "products": product_docs,
        }
    )
