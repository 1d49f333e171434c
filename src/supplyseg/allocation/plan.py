"""The allocation plan: per period and product segment x customer segment, the share of supply
protected for each customer segment and the nested protection levels and booking limits.

Rules come from ``policies.customer.<segment>.allocation`` (`supplyseg.config.allocation`):
``priority`` defaults to the segment's ``allocation_priority``; ``share`` defaults to the
segment's share of the product segment's historic demand, scaled to what explicit shares leave.
The plan's ``protection`` and ``booking_limit`` are the quantities `allocate_nested` enforces
when the period's supply is the capacity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from supplyseg.config.allocation import default_fill_target, default_strategy
from supplyseg.config.policy import BASE_ORDER_RULES, PolicySettings, resolve_order_rules
from supplyseg.data.contract import require_columns
from supplyseg.errors import ConfigError, PolicyError

__all__ = [
    "PLAN_COLUMNS",
    "SHARE_COLUMNS",
    "allocation_plan",
    "allocation_rules",
    "allocation_shares",
]

SHARE_COLUMNS = (
    "product_segment",
    "customer_segment",
    "priority",
    "rank",
    "share",
    "share_source",
    "protection_share",
    "booking_limit_share",
    "strategy",
    "fill_target",
)
PLAN_COLUMNS = (
    "product_segment",
    "period",
    "customer_segment",
    "priority",
    "rank",
    "share",
    "capacity",
    "protected_quantity",
    "protection",
    "booking_limit",
)


def allocation_rules(
    settings: PolicySettings, segments: Sequence[str], scheme: str | None = None
) -> pd.DataFrame:
    """``customer_segment, priority, share, strategy, fill_target`` per customer segment from the
    policy config; ``share`` is NaN where it is to be derived from demand, ``fill_target`` NaN
    where the segment protects no fill rate (`default_fill_target` where neither is set). A
    segment no rules cover gets `BASE_ORDER_RULES` (priority 5), as in the order rules."""
    rows = []
    for seg in dict.fromkeys(segments):
        found = resolve_order_rules(settings, scheme, seg)
        rules = BASE_ORDER_RULES if found is None else found[0]
        alloc = rules.allocation
        priority = alloc.priority if alloc is not None and alloc.priority is not None else None
        share = alloc.share if alloc is not None and alloc.share is not None else np.nan
        rank = int(priority or rules.allocation_priority or 5)
        strategy = alloc.strategy if alloc is not None else None
        target = alloc.fill_target if alloc is not None else None
        if target is None and np.isnan(share):
            target = default_fill_target(rank)
        rows.append(
            {
                "customer_segment": str(seg),
                "priority": rank,
                "share": float(share),
                "strategy": strategy or default_strategy(rank),
                "fill_target": np.nan if target is None else float(target),
            }
        )
    columns = ["customer_segment", "priority", "share", "strategy", "fill_target"]
    return pd.DataFrame(rows, columns=columns).astype(
        {
            "customer_segment": "string",
            "priority": "int64",
            "share": "float64",
            "fill_target": "float64",
        }
    )


def allocation_shares(rules: pd.DataFrame, demand_mix: pd.DataFrame) -> pd.DataFrame:
    """Share, rank and nested protection per product segment x customer segment.

    ``rules``: ``customer_segment, priority, share`` (`allocation_rules`; NaN share = derive).
    ``demand_mix``: ``product_segment, customer_segment, quantity`` (historic demand). Every
    product segment of the mix gets a row per rule. ``protection_share`` is the fraction of
    capacity protected for the segment's rank and those above (``y_k / capacity``),
    ``booking_limit_share`` the fraction rank k and lower may book (``1 - y_{k-1} / capacity``).
    """
    require_columns("rules", rules, ("customer_segment", "priority", "share"))
    require_columns("demand_mix", demand_mix, ("product_segment", "customer_segment", "quantity"))
    r = rules[["customer_segment", "priority", "share"]].copy()
    r["strategy"] = (
        rules["strategy"].astype(str)
        if "strategy" in rules.columns
        else r["priority"].map(default_strategy)
    )
    r["fill_target"] = (
        rules["fill_target"].astype("float64") if "fill_target" in rules.columns else np.nan
    )
    r["customer_segment"] = r["customer_segment"].astype(str)
    if r["customer_segment"].duplicated().any():
        dup = r.loc[r["customer_segment"].duplicated(), "customer_segment"].iloc[0]
        raise PolicyError(f"rules: customer segment {dup!r} appears twice; give one row each")
    explicit = float(r["share"].fillna(0.0).sum())
    if explicit > 1 + 1e-6:
        raise ConfigError(
            f"policies.customer.*.allocation.share: the shares sum to {explicit:g}; allowed: at"
            " most 1 (a share is a fraction of each period's supply)"
        )
    mix = demand_mix[["product_segment", "customer_segment", "quantity"]].copy()
    mix["product_segment"] = mix["product_segment"].astype(str)
    mix["customer_segment"] = mix["customer_segment"].astype(str)
    mix["quantity"] = pd.to_numeric(mix["quantity"], errors="coerce").clip(lower=0.0)
    mix = mix.groupby(["product_segment", "customer_segment"], as_index=False).agg(
        quantity=("quantity", "sum")
    )
    products = pd.DataFrame({"product_segment": mix["product_segment"].unique()})
    out = products.merge(r, how="cross").merge(
        mix, on=["product_segment", "customer_segment"], how="left"
    )
    out["quantity"] = out["quantity"].fillna(0.0)
    derive = out["share"].isna()
    unset_demand = out["quantity"].where(derive, 0.0)
    total_unset = unset_demand.groupby(out["product_segment"]).transform("sum")
    derived = (1.0 - explicit) * unset_demand / total_unset.where(total_unset > 0)
    out["share_source"] = np.where(derive, "demand", "config")
    out["share"] = out["share"].fillna(derived).fillna(0.0)
    out["rank"] = out.groupby("product_segment")["priority"].rank(method="dense").astype("int64")
    level = out.groupby(["product_segment", "rank"], as_index=False).agg(share=("share", "sum"))
    level = level.sort_values(["product_segment", "rank"])
    level["protection_share"] = level.groupby("product_segment")["share"].cumsum().clip(upper=1)
    level["booking_limit_share"] = 1.0 - (level["protection_share"] - level["share"]).clip(0, 1)
    out = out.merge(
        level[["product_segment", "rank", "protection_share", "booking_limit_share"]],
        on=["product_segment", "rank"],
    )
    out = out.sort_values(["product_segment", "rank", "customer_segment"], ignore_index=True)
    return out[list(SHARE_COLUMNS)]


def allocation_plan(supply: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """The plan per period and product segment x customer segment (`PLAN_COLUMNS`).

    ``supply``: ``product_segment, period, quantity`` (what can be allocated per period, e.g.
    receipts plus on-hand in the first period); ``shares``: `allocation_shares`. Capacity below
    0 counts as 0. ``protected_quantity = capacity * share``; ``protection`` and
    ``booking_limit`` are the nested levels of the segment's rank (see
    `supplyseg.allocation.nesting`). Product segments without shares are left out.
    """
    require_columns("supply", supply, ("product_segment", "period", "quantity"))
    require_columns("shares", shares, SHARE_COLUMNS)
    cap = supply[["product_segment", "period", "quantity"]].copy()
    cap["product_segment"] = cap["product_segment"].astype(str)
    cap["quantity"] = pd.to_numeric(cap["quantity"], errors="coerce")
    if cap["quantity"].isna().any():
        raise PolicyError("supply.quantity: missing or not a number; give a quantity per row")
    cap = cap.groupby(["product_segment", "period"], as_index=False).agg(
        quantity=("quantity", "sum")
    )
    cap["capacity"] = cap.pop("quantity").clip(lower=0.0)
    plan = cap.merge(shares, on="product_segment", how="inner")
    plan["protected_quantity"] = plan["capacity"] * plan["share"]
    plan["protection"] = plan["capacity"] * plan["protection_share"]
    plan["booking_limit"] = plan["capacity"] * plan["booking_limit_share"]
    plan = plan.sort_values(["product_segment", "period", "rank", "customer_segment"])
    return plan[list(PLAN_COLUMNS)].reset_index(drop=True)
