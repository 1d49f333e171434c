"""Per-customer buying-behaviour features for the behavioural scheme and clustering.

Computed on the engine from the loaded order lines (credit notes excluded, since they describe
returns rather than buying behaviour):

- ``orders``, ``order_lines``, ``order_value`` (mean revenue per order), ``lines_per_order``;
- ``product_breadth``: distinct products bought;
- ``orders_per_month`` and ``orders_per_year`` over the customer's active span (first order to
  the end of the horizon, at least one month);
- ``interval_mean_days`` / ``interval_cv``: mean and coefficient of variation of the days
  between consecutive order dates (a regular rhythm has a low cv; NaN with fewer than 3 dates);
- ``order_value_ratio``: order_value over the median order_value of all customers;
- ``rush_share``: share of lines flagged rush (when ``rush`` is present);
- ``requested_lead_days``: mean days from order to requested date (when present).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from supplyseg.data.frames import order_lines_table

__all__ = ["customer_behaviour"]


def customer_behaviour(lines: Any, horizon_end: dt.date | None = None) -> pd.DataFrame:
    """One row per customer with the buying-behaviour features listed in the module docstring.

    ``lines``: the order lines, or a `Dataset` / mapping holding them (see
    `supplyseg.data.frames.canonical_tables`).
    """
    lines = order_lines_table(lines)
    t = lines.filter(~lines.is_credit_note)
    value = t.quantity * t.unit_price
    extra: dict[str, ir.Value] = {}
    if "rush" in t.columns:
        extra["rush_share"] = t.rush.cast("float64").mean()
    if "requested_date" in t.columns:
        extra["requested_lead_days"] = t.requested_date.delta(t.order_date, unit="day").mean()
    per_customer = t.group_by("customer_id").agg(
        orders=t.order_id.nunique(),
        order_lines=t.count(),
        revenue=value.sum(),
        product_breadth=t.product_id.nunique(),
        first_order=t.order_date.min(),
        **extra,
    )
    end = ibis.literal(horizon_end) if horizon_end else t.order_date.max().as_scalar()
    days = t.select("customer_id", "order_date").distinct()
    previous = days.order_date.lag().over(group_by=days.customer_id, order_by=days.order_date)
    gap = days.order_date.delta(previous, unit="day")
    intervals = (
        days.mutate(gap=gap)
        .group_by("customer_id")
        .agg(
            interval_mean_days=ibis._.gap.mean(),
            interval_std_days=ibis._.gap.std(how="pop"),
            n_intervals=ibis._.gap.count(),
        )
    )
    span = per_customer.mutate(
        active_days=end.delta(per_customer.first_order, unit="day").cast("float64") + 1.0
    )
    out = (
        span.left_join(intervals, "customer_id")
        .select(~ibis.selectors.endswith("_right"))
        .order_by("customer_id")
        .to_pandas()
    )
    months = np.maximum(out["active_days"].to_numpy(dtype=float) / 30.4375, 1.0)
    out["orders_per_month"] = out["orders"] / months
    out["orders_per_year"] = out["orders_per_month"] * 12.0
    out["order_value"] = out["revenue"] / out["orders"]
    out["lines_per_order"] = out["order_lines"] / out["orders"]
    median = float(np.median(out["order_value"])) if len(out) else 1.0
    out["order_value_ratio"] = out["order_value"] / median if median > 0 else np.nan
    enough = out["n_intervals"].fillna(0) >= 2
    cv = out["interval_std_days"] / out["interval_mean_days"].replace(0, np.nan)
    out["interval_cv"] = cv.where(enough)
    out["customer_id"] = out["customer_id"].astype(str)
    dropped: pd.DataFrame = out.drop(
        columns=["interval_std_days", "n_intervals", "first_order", "active_days"]
    )
    return dropped
