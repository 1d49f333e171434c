"""Optimised service targets in the policies: `stock_mix` applied per segment (or overall).

`optimise_policies` takes the ``policies`` table of `supplyseg.policy.assign`, and for every
stocked item (a reorder point or an order-up-to level, positive demand and lot size) lets
`supplyseg.policy.optimise.stock_mix` choose its safety stock so that each product segment
(``scope: segment``) or all stocked items together (``scope: overall``) reach their target as a
**demand-value-weighted fill rate** at the least safety-stock value. The target of a scope is
the demand-value-weighted mean ``service_target`` of its items (a cycle-service target is met
as a fill rate, which is the stricter reading for a planner's "98 %").

Conventions, each an assumption (the manifest repeats them):

- The optimiser's model is normal lead-time demand over the protection interval ``L + R``
  (the review period counts: an order-up-to item is exposed for ``L + R``); gamma, Poisson and
  empirical items enter with their mean and std, a normal approximation.
- Weights are demand value (``demand_mean * unit_cost``); an unknown cost takes the median
  known cost of the scope, as the optimiser does, so weights and costs agree; with no cost
  known at all, weights are units and the optimiser minimises units.
- The optimised safety stock replaces the policy's, the reorder point and order-up-to level
  move by the same difference, ``expected_fill_rate`` becomes the optimised fill rate and
  ``optimised_target`` holds it; the rationale says so. Items outside the optimisation keep
  their policy (``optimised_target`` empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from supplyseg.config.optimise import OptimiseSettings
from supplyseg.policy._codes import ITEM_KEY_SEP
from supplyseg.policy.optimise import stock_mix, stock_to_service_frontier

__all__ = ["OptimisedPolicies", "optimise_policies"]

_STOCKED = ("rop_eoq", "order_up_to", "base_stock")


@dataclass(frozen=True)
class OptimisedPolicies:
    """The policies with optimised safety stocks, a summary per scope, and the frontier."""

    policies: pd.DataFrame
    summary: list[dict[str, Any]]
    frontier: pd.DataFrame


def _items(policies: pd.DataFrame) -> pd.DataFrame:
    """`stock_mix` inputs for the policies' rows (same index)."""
    p = policies
    ids = p["product_id"].astype(str)
    if "location_id" in p and p["location_id"].notna().any():
        ids = ids + ITEM_KEY_SEP + p["location_id"].astype(str)
    cost = p["unit_cost"].astype("float64")
    known = cost[np.isfinite(cost) & (cost > 0)]
    priced = cost.where(np.isfinite(cost) & (cost > 0), known.median() if len(known) else 1.0)
    return pd.DataFrame(
        {
            "item_id": ids,
            "demand_mean": p["demand_mean"].astype("float64"),
            "demand_std": p["demand_std"].astype("float64").fillna(0.0),
            "lead_time": (p["lead_time"] + p["review_period"].fillna(0.0)).astype("float64"),
            "lead_time_std": p["lead_time_std"].astype("float64").fillna(0.0),
            "order_quantity": p["order_quantity"].astype("float64"),
            "unit_cost": cost.where(cost > 0),
            "weight": p["demand_mean"].astype("float64") * priced,
        },
        index=p.index,
    )


def optimise_policies(
    policies: pd.DataFrame,
    settings: OptimiseSettings,
    frontier_targets: tuple[float, ...] = (),
) -> OptimisedPolicies:
    """Optimised safety stocks per scope (see the module docstring); ``frontier_targets`` are
    the aggregate fill rates of the stock-to-service frontier written for the report."""
    out = policies.copy()
    out["optimised_target"] = np.nan
    stocked = (
        out["inventory_rule"].isin(_STOCKED)
        & (out["demand_mean"] > 0)
        & (out["order_quantity"].fillna(0) > 0)
    )
    scopes = (
        out[stocked].groupby("product_segment", sort=True, observed=True)
        if settings.scope == "segment"
        else [("overall", out[stocked])]
    )
    summary: list[dict[str, Any]] = []
    frontiers: list[pd.DataFrame] = []
    notes = out["rationale"].astype(str)
    for scope, rows in scopes:
        if rows.empty:
            continue
        items = _items(rows)
        value = items["weight"]
        target = float((rows["service_target"] * value).sum() / value.sum())
        mix = stock_mix(items, target_fill_rate=target)
        ss = mix["safety_stock"].to_numpy()
        shift = ss - rows["safety_stock"].to_numpy()
        idx = rows.index
        out.loc[idx, "safety_stock"] = ss
        out.loc[idx, "reorder_point"] = rows["reorder_point"] + shift
        out.loc[idx, "order_up_to"] = rows["order_up_to"] + shift
        out.loc[idx, "expected_fill_rate"] = mix["fill_rate"].to_numpy()
        out.loc[idx, "optimised_target"] = mix["fill_rate"].to_numpy()
        cost = rows["unit_cost"]
        out.loc[idx, "inventory_value"] = (ss + rows["order_quantity"] / 2) * cost
        notes.loc[idx] = notes.loc[idx] + (
            f"; optimised: {scope} meets {target:.1%} fill rate (demand-value weighted) at the"
            " least safety-stock value"
        )
        attrs = mix.attrs
        uniform = attrs.get("uniform_safety_stock_value")
        optimised = attrs.get("safety_stock_value")
        saving = 1 - optimised / uniform if uniform and optimised is not None else None
        summary.append(
            {
                "scope": str(scope),
                "items": len(rows),
                "target_fill_rate": target,
                "safety_stock_value": optimised,
                "uniform_safety_stock_value": uniform,
                "saving_pct": None if saving is None else 100 * saving,
                "unit_cost_unknown_items": attrs.get("unit_cost_unknown_items"),
            }
        )
        reachable = [t for t in frontier_targets if t < 1]
        if reachable:
            frontier = stock_to_service_frontier(items, reachable)
            frontier.insert(0, "scope", str(scope))
            frontiers.append(frontier)
    out["rationale"] = notes.astype("category")
    frontier_table = pd.concat(frontiers, ignore_index=True) if frontiers else pd.DataFrame()
    return OptimisedPolicies(out, summary, frontier_table)
