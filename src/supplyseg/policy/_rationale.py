"""The rationale of every policy row: one sentence naming what explains its parameters.

A sentence names the segment (or matrix cell), service type and target, inventory rule,
distribution and why, where demand came from, lead time and its source, σL, review period,
order-quantity rule and rounding, and the unit-cost source. A million items share a few hundred
distinct combinations of these codes, so each sentence is formatted once per combination and
the column is categorical.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from supplyseg.config.policy import PolicySettings
from supplyseg.policy._codes import (
    BUCKET_UNIT,
    DISTRIBUTIONS,
    GAMMA,
    INTERMITTENT,
    LUMPY,
    MTO,
    PATTERNS,
    POISSON,
    IntArray,
)
from supplyseg.policy._items import Items
from supplyseg.policy._parameters import Params

__all__ = ["group_codes", "rationale"]


def group_codes(parts: list[IntArray]) -> tuple[IntArray, IntArray]:
    """Codes of the distinct combinations of non-negative integer columns, and for each
    code the first row that has it."""
    radix = [int(c.max(initial=0)) + 1 for c in parts]
    if math.prod(radix) < 2**62:
        key = np.zeros(len(parts[0]), dtype=np.int64)
        for codes, r in zip(parts, radix, strict=True):
            key = key * r + codes
        inverse = pd.factorize(key)[0]  # hashing: codes in order of first appearance
        before = np.maximum.accumulate(np.concatenate([[-1], inverse[:-1]]))
        first = np.flatnonzero(inverse > before)
    else:  # too many combinations for one int64 key
        _, first, inverse = np.unique(
            np.stack(parts, axis=1), axis=0, return_index=True, return_inverse=True
        )
    return np.asarray(inverse, dtype=np.int64).reshape(-1), np.asarray(first, dtype=np.int64)


def _pct(x: float) -> str:
    return f"{x * 100:.4g}%"


def _sentence(
    v: dict[str, int], t: dict[str, Any], multiple: float, unit: str, settings: PolicySettings
) -> str:
    """The rationale of one combination of codes ``v`` under template ``t``."""
    if t["source"].startswith("policies.matrix."):
        cseg = t["source"].removeprefix("policies.matrix.").rsplit(".", 1)[0]
        head = f"cell {cseg} × {t['segment']} (strictest customer segment buying it)"
    else:
        head = f"segment {t['segment']}"
    if v["rule"] == MTO:
        return f"{head}: make_to_order, no stock held (safety stock 0, reorder point 0)"
    if not v["stocked"]:
        where = "forecast" if v["d_src"] else "history"
        return f"{head}: no positive demand in the {where}, no stock held"
    pattern = PATTERNS[v["pattern"] - 1] if v["pattern"] else "pattern unknown"
    if v["fill"] and v["pattern"] - 1 in (INTERMITTENT, LUMPY):
        dist = f"normal ({pattern}; fill-rate targets use the normal loss function)"
    elif (
        v["dist"] == GAMMA and v["pattern"] - 1 == LUMPY and settings.lumpy_distribution != "gamma"
    ):
        dist = f"gamma ({pattern}; no history series to bootstrap)"
    elif v["dist"] == POISSON:
        dist = f"poisson ({pattern}, mean < {settings.slow_mover_mean:g}/{unit})"
    else:
        dist = f"{DISTRIBUTIONS[v['dist']]} ({pattern})"
    lt = f"L={v['lt10'] / 10:.1f} {unit}"
    if v["lt_src"] == 0:
        lt += " from products.lead_time_days"
    else:
        why = "no products.lead_time_days" if v["lt_src"] == 1 else "lead time missing"
        lt += f" (default {settings.default_lead_time_days:g} d: {why})"
    q = (
        f"Q=EOQ (K {settings.order_cost:g}, h {_pct(settings.holding_rate)}/yr)",
        f"Q={settings.fallback_cover_days:g} d of demand (no unit cost for EOQ)",
        "Q=expected demand per review",
        "Q=one unit (one-for-one)",
    )[v["q_src"]]
    cost = (
        "unit cost from products.unit_cost",
        "unit cost = order-line average",
        "unit cost unknown: no inventory value",
    )[v["cost_src"]]
    bits = [
        f"{head}: {t['service_type']} {_pct(float(t['service_target']))}",
        str(t["inventory_rule"]),
        dist,
        "demand from the forecast" if v["d_src"] else "demand from history",
        lt,
        (
            "σL from products.lead_time_std_days",
            f"σL default {settings.default_lead_time_std_days:g} d",
        )[v["slt_src"]],
        *([f"review every {v['r10'] / 10:.1f} {unit}"] if v["r10"] else []),
        q
        + (
            "",
            " rounded up to whole units",
            " raised to the moq",
            f" rounded up to a multiple of {multiple:g}",
        )[v["rounded"]],
        cost,
    ]
    return ", ".join(bits)


def rationale(
    it: Items, pr: Params, templates: pd.DataFrame, bucket: str, settings: PolicySettings
) -> pd.Series:
    """One sentence per item, formatted once per distinct combination of its parts."""
    parts = {
        "tcode": it.tcode,
        "rule": pr.rule,
        "stocked": pr.stocked.astype(np.int64),
        "pattern": it.pattern + 1,  # -1 (unknown) -> 0: codes must be >= 0
        "dist": pr.dist,
        "fill": pr.fill.astype(np.int64),
        "d_src": it.d_src,
        "lt10": np.rint(pr.lt * 10).astype(np.int64),
        "lt_src": it.lt_src,
        "slt_src": it.slt_src,
        "r10": np.rint(pr.review * 10).astype(np.int64),
        "q_src": pr.q_src,
        "rounded": pr.rounded,
        # the multiple is named only when Q was rounded up to it (fewer combinations)
        "multiple": np.where(pr.rounded == 3, pd.factorize(it.multiple)[0], 0),
        "cost_src": it.cost_src,
    }
    names = list(parts)
    inverse, first = group_codes([parts[k] for k in names])
    rows: list[dict[str, Any]] = [
        {str(k): x for k, x in r.items()} for r in templates.to_dict("records")
    ]
    texts = [
        _sentence(
            {k: int(parts[k][i]) for k in names},
            rows[int(parts["tcode"][i])],
            float(it.multiple[i]),
            BUCKET_UNIT[bucket],
            settings,
        )
        for i in first
    ]
    # Categorical: a few hundred distinct sentences, not a million copies of them.
    code, distinct = pd.factorize(pd.Series(texts, dtype=object))
    return pd.Series(
        pd.Categorical.from_codes(
            cast("Sequence[int]", code[inverse]), pd.Index(distinct, dtype=object)
        )
    )
