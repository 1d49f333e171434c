"""The rationale of every policy row: one sentence naming what explains its parameters.

A sentence names the segment (or matrix cell), service type and target, inventory rule,
distribution and why, where demand came from, lead time and its source, σL, review period,
order-quantity rule and rounding, and the unit-cost source; why an item holds no stock (make to
order, lifecycle, no demand) or is stocked although its template is make-to-order; and, when
the service falls short, by how much and what would reach it. A million items share a few
hundred distinct combinations of these codes (fill rates in them are rounded to bands of 5
points), so each sentence is formatted once per combination and the column is categorical.
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
    LIFECYCLES,
    LUMPY,
    MTO,
    PATTERNS,
    POISSON,
    RULES,
    IntArray,
)
from supplyseg.policy._items import FORECAST, FORECAST_PATH, HISTORY, LAST_SEASON, Items
from supplyseg.policy._parameters import MTO_BLOCKS, Params

RULES_OF = RULES
NO_STOCK_CODE = RULES.index("no_stock")

_BUCKETS = {"d": "days", "wk": "weeks", "mo": "months"}

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


def _mto_block(v: dict[str, int], t: dict[str, Any], pattern: str) -> str:
    why = MTO_BLOCKS[v["mto_block"]]
    if why == "pattern":
        reason = f"{pattern} demand (mto_allowed_patterns)"
    elif why == "demand frequency":
        share = _pct(float(t["mto_max_demand_frequency"]))
        reason = f"demand in more than {share} of buckets (mto_max_demand_frequency)"
    else:
        days = float(t["make_to_order_max_lead_time_days"])
        reason = f"lead time above {days:g} d (make_to_order_max_lead_time_days)"
    return f"make_to_order not applied: {reason}, stocked instead"


def _service_note(v: dict[str, int], t: dict[str, Any], pattern: str) -> list[str]:
    """What the target does not reach, and what would."""
    target = _pct(float(t["service_target"]))
    notes = []
    if not v["met"]:
        measure = "fill rate" if v["fill"] else "cycle service"
        notes.append(f"target not reached: expected {measure} {v['own_pct']}%")
    if v["gap"]:
        notes.append(
            f"cycle target {target} leaves an expected fill rate under {v['fill_pct'] + 5}%"
            f" ({pattern}: the cycles that run short lose much of their demand); a fill_rate"
            f" target (service_type: fill_rate) of {target} reaches it, at the stock"
            " stock_to_service shows"
        )
    return notes


def _sentence(
    v: dict[str, int],
    t: dict[str, Any],
    multiple: float,
    unit: str,
    source: str,
    settings: PolicySettings,
) -> str:
    """The rationale of one combination of codes ``v`` under template ``t``; ``source`` is the
    item's demand source label."""
    if t["source"].startswith("policies.matrix."):
        cseg = t["source"].removeprefix("policies.matrix.").rsplit(".", 1)[0]
        head = f"cell {cseg} × {t['segment']} (strictest customer segment buying it)"
    else:
        head = f"segment {t['segment']}"
    if v["stop"]:
        life = LIFECYCLES[v["stop"] - 1]
        option = f"stock_{life}: true in the template stocks it"
        if v["since"]:
            return f"{head}: no demand for {v['since'] - 1} {_BUCKETS[unit]} ({life}): no stock"
        return f"{head}: lifecycle {life}: no stock ({option})"
    if v["rule"] == MTO:
        return f"{head}: make_to_order, no stock held (safety stock 0, reorder point 0)"
    if not v["stocked"]:
        where = {
            HISTORY: "history",
            FORECAST: "forecast",
            FORECAST_PATH: "forecast path",
            LAST_SEASON: "forecast path",
        }
        return f"{head}: no positive demand in the {where.get(v['d_src'], source)}, no stock held"
    pattern = PATTERNS[v["pattern"] - 1] if v["pattern"] else "pattern unknown"
    if v["dist"] == GAMMA and v["pattern"] - 1 == LUMPY and settings.lumpy_distribution != "gamma":
        why = "fill-rate target" if v["fill"] else "no history series"
        dist = f"gamma ({pattern}; {why} for the empirical distribution)"
        if v["d_src"] == LAST_SEASON and not v["fill"]:
            dist = f"gamma ({pattern}; the history's scenarios are not at the last-season level)"
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
    demand = {
        HISTORY: "demand from history",
        FORECAST: "demand from the forecast",
        FORECAST_PATH: "demand over L+R from the forecast path",
        LAST_SEASON: "demand over L+R from last season's same periods x the year-over-year"
        " ratio (one season of history: seasonality assumed from its concentration, not"
        " validated)",
    }.get(
        v["d_src"],
        f"demand from analogues ({source.removeprefix('analogue: ')}: median mean and CV of"
        " its active items; own history too short)",
    )
    bits = [
        f"{head}: {t['service_type']} {_pct(float(t['service_target']))}",
        *([_mto_block(v, t, pattern)] if v["mto_block"] else []),
        str(t["inventory_rule"]) if not v["mto_block"] else RULES_OF[v["rule"]],
        dist,
        demand,
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
        *_service_note(v, t, pattern),
    ]
    return ", ".join(bits)


def _pct_int(x: np.ndarray[Any, Any]) -> IntArray:
    """Whole percent (floored, so a rounded figure never overstates service); -1 unknown."""
    out: IntArray = np.where(np.isfinite(x), np.floor(np.nan_to_num(x) * 100 + 1e-9), -1).astype(
        np.int64
    )
    return out


def rationale(
    it: Items, pr: Params, templates: pd.DataFrame, bucket: str, settings: PolicySettings
) -> pd.Series:
    """One sentence per item, formatted once per distinct combination of its parts."""
    stop = (pr.rule == NO_STOCK_CODE) & (it.lifecycle >= 0)
    gap = pr.gap
    own = np.where(pr.fill, pr.achieved, pr.cycle)
    since = np.where(stop & np.isfinite(it.since), np.nan_to_num(it.since) + 1, 0)
    parts = {
        "tcode": it.tcode,
        "rule": pr.rule,
        "stocked": pr.stocked.astype(np.int64),
        "stop": np.where(stop, it.lifecycle + 1, 0),
        "since": np.rint(since).astype(np.int64),
        "mto_block": pr.mto_block,
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
        "met": (pr.met | ~pr.stocked).astype(np.int64),
        "own_pct": np.where(pr.stocked & ~pr.met, _pct_int(own), 0) + 1,
        "gap": gap.astype(np.int64),
        # bands of 5 points keep the distinct sentences few
        "fill_pct": np.where(gap, _pct_int(pr.achieved) // 5 * 5, 0) + 1,
    }
    names = list(parts)
    inverse, first = group_codes([parts[k] for k in names])
    rows: list[dict[str, Any]] = [
        {str(k): x for k, x in r.items()} for r in templates.to_dict("records")
    ]
    texts = []
    for i in first:
        v = {k: int(parts[k][i]) for k in names}
        v["own_pct"] -= 1
        v["fill_pct"] -= 1
        texts.append(
            _sentence(
                v,
                rows[int(parts["tcode"][i])],
                float(it.multiple[i]),
                BUCKET_UNIT[bucket],
                it.src_labels[int(it.d_src[i])],
                settings,
            )
        )
    # Categorical: a few hundred distinct sentences, not a million copies of them.
    code, distinct = pd.factorize(pd.Series(texts, dtype=object))
    return pd.Series(
        pd.Categorical.from_codes(
            cast("Sequence[int]", code[inverse]), pd.Index(distinct, dtype=object)
        )
    )
