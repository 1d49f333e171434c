"""Sanity checks on cost-to-serve results: costs that exceed revenue for many customers.

Activity rates are assumptions (the built-in pools are order-of-magnitude rates for a European B2B
distributor, not the user's costs). When cost-to-serve exceeds revenue for more than
``cost_to_serve.warn_share_above_revenue`` of the customers (20 % by default) the rates very
likely do not fit the business (e.g. a 12-per-order handling rate on 15-dollar CD orders): the
run gets a **warning** naming the share, the pools that make up most of those customers' costs,
whether their rates are built-in defaults, and the fix (set real rates in supplyseg.yaml).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from supplyseg.config.cost_to_serve import CostToServeSettings

__all__ = ["cts_sanity_warnings"]

_DOMINANT = 0.8  # name the largest pools until they make up this share of the costs


def cts_sanity_warnings(customer: pd.DataFrame, settings: CostToServeSettings) -> list[str]:
    """Warnings about the customer table of `cost_to_serve` (empty when nothing is off).

    A customer's cost-to-serve exceeds its revenue when cts_total > revenue (so every customer
    with costs and no positive revenue counts). The share is of all customers in the table.
    """
    n = len(customer)
    if not n:
        return []
    cts = customer["cts_total"].to_numpy(dtype="float64", na_value=np.nan)
    revenue = customer["revenue"].to_numpy(dtype="float64", na_value=np.nan)
    above = (cts > 0) & ~(revenue >= cts)
    share = float(above.sum()) / n
    limit = settings.warn_share_above_revenue
    if share <= limit:
        return []
    pools = [p.name for p in settings.pools if p.name in customer.columns]
    costs = customer.loc[above, pools].sum().sort_values(ascending=False)
    total = float(costs.sum())
    named: list[str] = []
    running = 0.0
    for name, cost in costs.items():
        if cost <= 0 or (named and running >= _DOMINANT * total):
            break
        running += float(cost)
        named.append(f"{name} {cost / total:.0%}")
    defaults = "pools" not in settings.model_fields_set
    origin = (
        "their rates are supplyseg's built-in order-of-magnitude defaults, not your costs"
        if defaults
        else "check those pools' rates in supplyseg.yaml"
    )
    ratio = cts[np.isfinite(cts) & (revenue > 0)] / revenue[np.isfinite(cts) & (revenue > 0)]
    median = f"; median cost-to-serve {np.median(ratio):.0%} of revenue" if ratio.size else ""
    return [
        f"cost_to_serve: cost-to-serve exceeds revenue for {int(above.sum())} of {n} customers"
        f" ({share:.0%} > cost_to_serve.warn_share_above_revenue = {limit:.0%}){median};"
        f" mostly {', '.join(named)} of their costs; {origin}. Fix: set cost_to_serve.pools"
        " rates from your own activity costs (e.g. order desk cost per year / orders per"
        " year), or treat the cost-to-serve figures as illustrative"
    ]
