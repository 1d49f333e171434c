"""Inventory parameters per item from its template: distribution, Q, safety stock, levels, value.

One vectorised pass over the items (`parameters`), as `supplyseg.policy.assign` documents:
lead time and review period in buckets, the distribution by demand pattern, the order quantity
rounded to the lot size, safety stock (`supplyseg.policy._distributions`), reorder point /
order-up-to level by inventory rule, the fill rate achieved and the inventory value. The codes
that explain each value (``q_src``, ``rounded``) feed the rationale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from supplyseg.config.policy import PolicySettings
from supplyseg.data.contract import require_columns
from supplyseg.policy._codes import (
    BASE_STOCK,
    DAYS_PER_BUCKET,
    EMPIRICAL,
    GAMMA,
    INTERMITTENT,
    LUMPY,
    MTO,
    NONE,
    NORMAL,
    ORDER_UP_TO,
    POISSON,
    RULES,
    SHORT,
    BoolArray,
    FloatArray,
    IntArray,
    codes,
)
from supplyseg.policy._distributions import (
    LeadTimeDemand,
    empirical_reorder_points,
    safety_stocks,
)
from supplyseg.policy._items import Items, rows_of_items
from supplyseg.policy.inventory import eoq, fill_rate

__all__ = ["Params", "parameters"]

# Below ~1e-9 units of lead-time demand the gamma's scale overflows; normal is exact enough.
_MIN_GAMMA_MEAN = 1e-9


@dataclass
class Params:
    """Computed parameters per item, with the codes the rationale is built from."""

    rule: IntArray
    fill: BoolArray
    stocked: BoolArray
    level: FloatArray
    lt: FloatArray
    slt: FloatArray
    review: FloatArray
    dist: IntArray
    q_src: IntArray  # 0 EOQ, 1 cover days (no cost), 2 d * R, 3 one unit
    rounded: IntArray  # 0 as computed, 1 to whole units, 2 raised to moq, 3 to the multiple
    ss: FloatArray
    rop: FloatArray
    q: FloatArray
    s: FloatArray
    achieved: FloatArray
    value: FloatArray

    def lead_time_demand(self, it: Items) -> LeadTimeDemand:
        """The items' lead-time demand over their protection interval ``L + R``."""
        p = self.lt + self.review
        return LeadTimeDemand(self.dist, self.fill, it.d, it.sd, p, self.slt, self.q)


def _round_up(q: FloatArray, moq: FloatArray, multiple: FloatArray) -> FloatArray:
    """max(q, moq) rounded up to a whole multiple, at least one multiple."""
    lots = np.ceil(np.maximum(q, moq) / multiple - 1e-9)  # 1e-9: 24.000000001 is 24, not 25
    rounded: FloatArray = np.maximum(lots, 1.0) * multiple
    return rounded


def parameters(
    it: Items,
    templates: pd.DataFrame,
    settings: PolicySettings,
    bucket: str,
    history: pd.DataFrame | None,
) -> Params:
    """Parameters of every item under its template (``it.tcode`` indexes ``templates``);
    ``history`` (``ds, y`` per item) bootstraps lumpy items when given."""
    dpb = DAYS_PER_BUCKET[bucket]
    rule = codes(templates["inventory_rule"], RULES)[it.tcode]
    t_fill = (templates["service_type"] == "fill_rate").to_numpy()[it.tcode]
    level = templates["service_target"].to_numpy(dtype=np.float64)[it.tcode]
    review = templates["review_period"].to_numpy(dtype=np.float64)[it.tcode] / dpb
    d, sd = it.d, it.sd
    lt, slt = it.lt_days / dpb, it.slt_days / dpb
    p = lt + review
    stocked = (rule != MTO) & (d > 0)
    fill = t_fill & stocked

    # Distribution by pattern; fill-rate targets stay normal (the only fill-rate model).
    cyc = stocked & ~fill
    gamma_ok = cyc & (d * p > _MIN_GAMMA_MEAN)
    dist = np.where(stocked, NORMAL, NONE)
    dist = np.where(gamma_ok & np.isin(it.pattern, [INTERMITTENT, LUMPY]), GAMMA, dist)
    slow = cyc & np.isin(it.pattern, [INTERMITTENT, SHORT]) & (d < settings.slow_mover_mean)
    dist = np.where(slow, POISSON, dist)

    q_src = np.select([rule == ORDER_UP_TO, rule == BASE_STOCK], [2, 3], 0)
    eoq_ok = stocked & (q_src == 0) & np.isfinite(it.cost)
    q_src = np.where(stocked & (q_src == 0) & ~eoq_ok, 1, q_src)
    q_raw = np.zeros(len(d))
    q_raw[eoq_ok] = eoq(
        d[eoq_ok] * 365.25 / dpb, settings.order_cost, settings.holding_rate * it.cost[eoq_ok]
    )
    q_raw = np.select(
        [q_src == 1, q_src == 2], [d * settings.fallback_cover_days / dpb, d * review], q_raw
    )
    q = np.where(stocked, _round_up(q_raw, it.moq, it.multiple), np.nan)
    grew = stocked & (q_src != 3) & (q > q_raw * (1 + 1e-12) + 1e-12)
    rounded = np.select([~grew, it.moq > q_raw, it.multiple != 1.0], [0, 2, 3], 1).astype(np.int64)

    s = stocked
    ss = np.zeros(len(d))
    ss[s] = safety_stocks(LeadTimeDemand(dist, fill, d, sd, p, slt, q).subset(s), level[s])
    lumpy = gamma_ok & (it.pattern == LUMPY) & (settings.lumpy_distribution == "empirical")
    if history is not None and lumpy.any():
        require_columns("history", history, ["ds", "y"])
        rows = rows_of_items("history", history, it.keys, it.has_loc)
        idx = np.flatnonzero(lumpy)
        whole = np.rint(p[idx]).astype(np.int64)
        rop, found = empirical_reorder_points(
            history, rows, idx, whole, level[idx], bucket, settings
        )
        # The safety part of the bootstrapped distribution (above its own mean demand).
        ss[idx[found]] = rop[found] - it.d_hist[idx[found]] * whole[found]
        dist[idx[found]] = EMPIRICAL
    if settings.clamp_safety_stock:
        ss = np.maximum(ss, 0.0)
    base = d * p + ss
    rop_out = np.where(rule == ORDER_UP_TO, np.nan, np.where(stocked, base, 0.0))
    s_out = np.select(
        [s & (rule == ORDER_UP_TO), s & (rule == BASE_STOCK)], [base, base + q], np.nan
    )
    achieved = np.full(len(d), np.nan)
    achieved[s] = fill_rate(d[s], sd[s], p[s], ss[s], q[s], slt[s])
    value = np.where(stocked, (ss + np.nan_to_num(q) / 2.0) * it.cost, 0.0)
    return Params(
        rule,
        fill,
        stocked,
        level,
        lt,
        slt,
        review,
        dist.astype(np.int64),
        q_src.astype(np.int64),
        rounded,
        ss,
        rop_out,
        q,
        s_out,
        achieved,
        value,
    )
