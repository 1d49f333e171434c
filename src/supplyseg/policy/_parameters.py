"""Inventory parameters per item from its template: distribution, Q, safety stock, levels, value.

One vectorised pass over the items (`parameters`), as `supplyseg.policy.assign` documents:
which rule applies (make-to-order only where the template allows it for the item; no stock for
dormant and obsolete items unless the template stocks them), lead time and review period in
buckets, demand over the protection interval (from the forecast path when there is one), the
distribution by demand pattern, the order quantity rounded to the lot size, safety stock
(`supplyseg.policy._distributions`), reorder point / order-up-to level by inventory rule, the
service achieved under the distribution used, and the inventory value. The codes that explain
each value (``q_src``, ``rounded``, ``mto_block`` ...) feed the rationale.
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
    DORMANT,
    EMPIRICAL,
    GAMMA,
    INTERMITTENT,
    LUMPY,
    MTO,
    NO_STOCK,
    NONE,
    NORMAL,
    OBSOLETE,
    ORDER_UP_TO,
    PATTERNS,
    POISSON,
    RULES,
    SHORT,
    BoolArray,
    FloatArray,
    IntArray,
    codes,
)
from supplyseg.policy._distributions import (
    EmpiricalDemand,
    LeadTimeDemand,
    empirical_demand,
    empirical_service,
    safety_stocks,
    service_levels,
)
from supplyseg.policy._items import LAST_SEASON, PATH_SOURCES, Items, rows_of_items
from supplyseg.policy.inventory import eoq

__all__ = ["MTO_BLOCKS", "Params", "parameters"]

# Below ~1e-9 units of lead-time demand the gamma's scale overflows; normal is exact enough.
_MIN_GAMMA_MEAN = 1e-9
MTO_BLOCKS = ("", "pattern", "demand frequency", "lead time")
"""Why a make-to-order template was not applied to an item (code 0: it was, or not MTO)."""


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
    d: FloatArray  # demand per bucket used (forecast path: demand over P, divided by P)
    sd: FloatArray
    dist: IntArray
    q_src: IntArray  # 0 EOQ, 1 cover days (no cost), 2 d * R, 3 one unit
    rounded: IntArray  # 0 as computed, 1 to whole units, 2 raised to moq, 3 to the multiple
    mto_block: IntArray  # index into MTO_BLOCKS
    ss: FloatArray
    rop: FloatArray
    q: FloatArray
    s: FloatArray
    achieved: FloatArray  # expected fill rate under the distribution used
    cycle: FloatArray  # expected cycle service P(no stock-out per cycle)
    shortfall: FloatArray  # target - achieved in the target's own measure, >= 0; NaN unstocked
    met: BoolArray
    gap: BoolArray  # cycle target met, but the fill rate more than fill_rate_gap below it
    value: FloatArray

    def lead_time_demand(self, it: Items) -> LeadTimeDemand:
        """The items' lead-time demand over their protection interval ``L + R``."""
        p = self.lt + self.review
        return LeadTimeDemand(
            self.dist, self.fill, self.d, self.sd, p, self.slt, self.q, self.review
        )


def _round_up(q: FloatArray, moq: FloatArray, multiple: FloatArray) -> FloatArray:
    """max(q, moq) rounded up to a whole multiple, at least one multiple."""
    lots = np.ceil(np.maximum(q, moq) / multiple - 1e-9)  # 1e-9: 24.000000001 is 24, not 25
    rounded: FloatArray = np.maximum(lots, 1.0) * multiple
    return rounded


def _template_floats(templates: pd.DataFrame, col: str, tcode: IntArray) -> FloatArray:
    v = pd.to_numeric(templates[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out: FloatArray = v[tcode]
    return out


def _mto_blocks(it: Items, templates: pd.DataFrame, rule: IntArray) -> IntArray:
    """Per make-to-order item, why its template's make-to-order does not apply (0: it does):
    a pattern outside ``mto_allowed_patterns``, demand in more buckets than
    ``mto_max_demand_frequency``, or a lead time above ``make_to_order_max_lead_time_days``.
    Unknown pattern, frequency or limit: that check passes."""
    allowed = np.asarray(
        [[p in (a or ()) for p in PATTERNS] for a in templates["mto_allowed_patterns"]], dtype=bool
    ).reshape(len(templates), len(PATTERNS))
    known = it.pattern >= 0
    pat_ok = ~known | allowed[it.tcode, np.maximum(it.pattern, 0)]
    freq_ok = ~(it.frequency > _template_floats(templates, "mto_max_demand_frequency", it.tcode))
    lt_max = _template_floats(templates, "make_to_order_max_lead_time_days", it.tcode)
    lt_ok = ~(it.lt_days > lt_max)
    block = np.select([~pat_ok, ~freq_ok, ~lt_ok], [1, 2, 3], 0)
    out: IntArray = np.where(rule == MTO, block, 0).astype(np.int64)
    return out


def _path_demand(it: Items, p: FloatArray) -> FloatArray:
    """Demand per bucket: the forecast path's expected demand over ``p`` divided by ``p``
    where the item's demand comes from its path (``p`` = 0: the first bucket's)."""
    if it.path is None:
        return it.d
    use = np.isin(it.d_src, PATH_SOURCES)
    total = it.path.demand_over(np.where(p > 0, p, 1.0))
    per_bucket = np.where(p > 0, total / np.where(p > 0, p, 1.0), total)
    out: FloatArray = np.where(use, per_bucket, it.d)
    return out


def _empirical(
    it: Items,
    history: pd.DataFrame,
    idx: IntArray,
    whole: IntArray,
    bucket: str,
    settings: PolicySettings,
) -> EmpiricalDemand:
    require_columns("history", history, ["ds", "y"])
    rows = rows_of_items("history", history, it.keys, it.has_loc)
    return empirical_demand(history, rows, idx, whole, bucket, settings)


def parameters(
    it: Items,
    templates: pd.DataFrame,
    settings: PolicySettings,
    bucket: str,
    history: pd.DataFrame | None,
) -> Params:
    """Parameters of every item under its template (``it.tcode`` indexes ``templates``);
    ``history`` (``ds, y`` per item) gives lumpy items their empirical distribution."""
    dpb = DAYS_PER_BUCKET[bucket]
    rule = codes(templates["inventory_rule"], RULES)[it.tcode]
    t_fill = (templates["service_type"] == "fill_rate").to_numpy()[it.tcode]
    level = templates["service_target"].to_numpy(dtype=np.float64)[it.tcode]
    review = templates["review_period"].to_numpy(dtype=np.float64)[it.tcode] / dpb
    lt, slt = it.lt_days / dpb, it.slt_days / dpb
    p = lt + review

    # Make-to-order only where the template allows it for the item; else a stocking rule.
    mto_block = _mto_blocks(it, templates, rule)
    rule = np.where(mto_block > 0, np.where(review > 0, ORDER_UP_TO, 0), rule)
    # Dormant and obsolete items hold no stock unless their template says so.
    keep_dormant = templates["stock_dormant"].to_numpy(dtype=bool)[it.tcode]
    keep_obsolete = templates["stock_obsolete"].to_numpy(dtype=bool)[it.tcode]
    stop = ((it.lifecycle == DORMANT) & ~keep_dormant) | (
        (it.lifecycle == OBSOLETE) & ~keep_obsolete
    )
    rule = np.where(stop, NO_STOCK, rule)

    d, sd = _path_demand(it, p), it.sd
    stocked = (rule != MTO) & (rule != NO_STOCK) & (d > 0)
    fill = t_fill & stocked

    # Distribution by pattern, for cycle and fill-rate targets alike.
    sigma = np.sqrt(p * sd * sd + d * d * slt * slt)
    # A spread below 1e-6 of the mean overflows the gamma's shape; normal is exact there.
    gamma_ok = stocked & (d * p > _MIN_GAMMA_MEAN) & ~((sigma > 0) & (sigma < 1e-6 * d * p))
    dist = np.where(stocked, NORMAL, NONE)
    dist = np.where(gamma_ok & np.isin(it.pattern, [INTERMITTENT, LUMPY]), GAMMA, dist)
    slow = stocked & np.isin(it.pattern, [INTERMITTENT, SHORT]) & (d < settings.slow_mover_mean)
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
    ltd = LeadTimeDemand(dist, fill, d, sd, p, slt, q, review)
    ss[s] = safety_stocks(ltd.subset(s), level[s])
    lumpy = gamma_ok & ~fill & (it.pattern == LUMPY) & (settings.lumpy_distribution == "empirical")
    # History's scenarios carry last season's peak, not the level of a last-season path: gamma.
    lumpy &= it.d_src != LAST_SEASON
    emp, emp_lead, idx, whole = None, None, np.zeros(0, np.int64), np.zeros(0, np.int64)
    found = np.zeros(0, dtype=bool)
    if history is not None and lumpy.any():
        idx = np.flatnonzero(lumpy)
        whole = np.rint(p[idx]).astype(np.int64)
        emp = _empirical(it, history, idx, whole, bucket, settings)
        if (review[idx] > 0).any():  # periodic review: the scenarios over L alone as well
            lead_whole = np.where(review[idx] > 0, np.rint(lt[idx]), 0).astype(np.int64)
            emp_lead = _empirical(it, history, idx, lead_whole, bucket, settings)
        rop, found = emp.quantile(level[idx]), emp.found
        # The safety part of the empirical distribution (above its own mean demand).
        ss[idx[found]] = rop[found] - it.d_hist[idx[found]] * whole[found]
        dist[idx[found]] = EMPIRICAL
    if settings.clamp_safety_stock:
        ss = np.maximum(ss, 0.0)
    base = d * p + ss
    rop_out = np.where(rule == ORDER_UP_TO, np.nan, np.where(stocked, base, 0.0))
    s_out = np.select(
        [s & (rule == ORDER_UP_TO), s & (rule == BASE_STOCK)], [base, base + q], np.nan
    )

    # Service achieved under the distribution used (empirical: its own scenarios).
    achieved, cycle = np.full(len(d), np.nan), np.full(len(d), np.nan)
    ltd = LeadTimeDemand(dist, fill, d, sd, p, slt, q, review)
    achieved[s], cycle[s] = service_levels(ltd.subset(s), base[s])
    emp_demand = np.zeros(0)
    if emp is not None:
        # In the scenarios' own terms: history mean per bucket, level above its mean.
        boot = ss[idx] + it.d_hist[idx] * whole
        emp_demand = np.where(
            review[idx] > 0,
            it.d_hist[idx] * review[idx],
            np.maximum(q[idx], it.d_hist[idx] * whole),
        )
        f_emp, c_emp = empirical_service(emp, emp_lead, boot, emp_demand)
        achieved[idx[found]], cycle[idx[found]] = f_emp[found], c_emp[found]
    own = np.where(fill, achieved, cycle)
    shortfall = np.where(s, np.maximum(level - own, 0.0), np.nan)
    met = s & (shortfall <= settings.target_tolerance + 1e-12)

    # Cycle targets that leave the fill rate far below the target (the rationale says so).
    gap = s & ~fill & (achieved < level - settings.fill_rate_gap)

    value = np.where(stocked, (ss + np.nan_to_num(q) / 2.0) * it.cost, 0.0)
    return Params(
        rule=rule.astype(np.int64),
        fill=fill,
        stocked=stocked,
        level=level,
        lt=lt,
        slt=slt,
        review=review,
        d=d,
        sd=sd,
        dist=dist.astype(np.int64),
        q_src=q_src.astype(np.int64),
        rounded=rounded,
        mto_block=mto_block,
        ss=ss,
        rop=rop_out,
        q=q,
        s=s_out,
        achieved=achieved,
        cycle=cycle,
        shortfall=shortfall,
        met=met,
        gap=gap,
        value=value,
    )
