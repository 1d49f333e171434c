"""Stock-to-service curves: inventory value per product segment at each service target.

The value if every stocked item had that target, with its own service type, distribution
(empirical items as gamma: a bootstrap per target would cost a resampling each), protection
interval and order quantity; one vectorised pass over items x targets. This is the trade-off
curve a planner reads to choose a segment's target: what each extra point of service costs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from supplyseg.data.contract import require_columns
from supplyseg.errors import PolicyError
from supplyseg.policy._codes import (
    DISTRIBUTIONS,
    NONE,
    FloatArray,
    IntArray,
    codes,
    floats,
    strings,
)
from supplyseg.policy._distributions import LeadTimeDemand, safety_stocks

__all__ = ["STOCK_TO_SERVICE_COLUMNS", "segment_curves", "stock_to_service"]

STOCK_TO_SERVICE_COLUMNS = ("segment", "service_target", "inventory_value", "safety_stock_value")
_POLICY_INPUTS = (
    "product_segment",
    "service_type",
    "distribution",
    "demand_mean",
    "demand_std",
    "lead_time",
    "lead_time_std",
    "review_period",
    "order_quantity",
    "unit_cost",
)


def stock_to_service(
    policies: pd.DataFrame, targets: Sequence[float], *, clamp: bool = True
) -> pd.DataFrame:
    """Inventory value per product segment if every stocked item had each service target.

    One vectorised pass over items x targets with each item's service type, distribution
    (empirical items as gamma), protection interval and order quantity from ``policies``.
    Items without stock add 0; items with unknown unit cost are left out. Columns
    `STOCK_TO_SERVICE_COLUMNS`; ``safety_stock_value`` is the safety-stock part of the value.
    """
    t = np.asarray(targets, dtype=np.float64)
    if t.ndim != 1 or len(t) == 0 or not np.all((t > 0) & (t < 1)):
        raise PolicyError(f"targets: value {list(targets)!r} is not allowed; give levels in (0, 1)")
    require_columns("policies", policies, _POLICY_INPUTS)
    seg, labels = pd.factorize(policies["product_segment"], sort=True)
    ltd = LeadTimeDemand(
        dist=codes(policies["distribution"], DISTRIBUTIONS),
        fill=(policies["service_type"] == "fill_rate").to_numpy(),
        d=floats(policies, "demand_mean"),
        sd=floats(policies, "demand_std"),
        p=floats(policies, "lead_time") + floats(policies, "review_period"),
        slt=floats(policies, "lead_time_std"),
        q=floats(policies, "order_quantity"),
        review=floats(policies, "review_period"),
    )
    return segment_curves(
        np.asarray(seg, dtype=np.int64), list(labels), ltd, floats(policies, "unit_cost"), t, clamp
    )


def segment_curves(
    seg: IntArray,
    labels: list[str],
    ltd: LeadTimeDemand,
    cost: FloatArray,
    t: FloatArray,
    clamp: bool,
) -> pd.DataFrame:
    """`stock_to_service` over item arrays; ``seg`` codes index ``labels``, ``t`` the targets,
    ``clamp`` raises negative safety stock to 0."""
    use = (ltd.dist != NONE) & np.isfinite(cost)
    stocked = ltd.subset(use)
    ss = safety_stocks(stocked, t, grid=True)
    if clamp:
        ss = np.maximum(ss, 0.0)
    k, sc, c = len(labels), seg[use], cost[use]
    ss_value = np.stack([np.bincount(sc, ss[:, j] * c, k) for j in range(len(t))], axis=1)
    cycle_value = np.bincount(sc, stocked.q / 2.0 * c, k)
    return pd.DataFrame(
        {
            "segment": strings(labels, np.repeat(np.arange(k), len(t))),
            "service_target": np.tile(t, k),
            "inventory_value": (ss_value + cycle_value[:, None]).reshape(-1),
            "safety_stock_value": ss_value.reshape(-1),
        }
    )
