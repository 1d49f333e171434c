"""Safety stock of many items from their lead-time-demand distribution, and the service it gives.

Each item's lead-time demand ``X`` over its protection interval ``P`` is normal, gamma (moments
of lead-time demand; empirical items too where no history runs), Poisson (variance = mean;
``sigma_L`` ignored), or empirical (`EmpiricalDemand`: the sums of ``P`` consecutive buckets of
the item's history). `safety_stocks` gives one target per item (the policies) or every item at
every target (the stock-to-service curves, ``grid``): cycle targets are the distribution's
quantile; fill-rate targets solve ``1 - ESC / Q = beta`` (normal: the textbook
``sigma G(k) = (1 - beta) Q``, Chopra & Meindl; gamma and Poisson: bisection on the exact
shortage per cycle below). `service_levels` gives what a reorder level ``r`` achieves under the
same distribution: cycle service ``P(X <= r)`` and fill rate ``1 - ESC / Q`` with the shortage
per cycle ``ESC = E(X - r)+ - E(X - r - Q)+`` (Hadley & Whitin; Silver, Pyke & Thomas 3rd ed.
§7.5), which cannot exceed the demand of a cycle, so a stocked item's fill rate is 0 only when
it truly serves nothing from stock.

Gamma quantiles cost about 1 µs per item in `gamma_reorder_point`; more than `SPLINE_KNOTS`
items at one target use a cubic spline of the standard-gamma quantile over log shape instead
(max relative error 5e-10 against scipy), except shapes outside 1e-2..1e5.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special
from scipy.interpolate import CubicSpline

from supplyseg.config.policy import PolicySettings
from supplyseg.policy._codes import (
    EMPIRICAL,
    GAMMA,
    NORMAL,
    POISSON,
    BoolArray,
    FloatArray,
    IntArray,
    floats,
)
from supplyseg.policy.inventory import gamma_reorder_point, poisson_base_stock, safety_stock

__all__ = [
    "SPLINE_KNOTS",
    "EmpiricalDemand",
    "LeadTimeDemand",
    "empirical_demand",
    "empirical_fill_rate_levels",
    "empirical_service",
    "fill_rate_levels",
    "safety_stocks",
    "service_levels",
]

SPLINE_KNOTS = 4000
_PHI_1 = 0.8413447460685429  # Phi(1): the cycle service level whose z is 1
_Z_PHI_1 = float(special.ndtri(_PHI_1))  # 1 to within an ulp; divided out exactly below


@dataclass(frozen=True)
class LeadTimeDemand:
    """Per stocked item: distribution code, fill-rate target or not, demand mean and std per
    bucket, protection interval ``p`` and lead-time std ``slt`` in buckets, order quantity,
    review period in buckets (None: continuous review for every item)."""

    dist: IntArray
    fill: BoolArray
    d: FloatArray
    sd: FloatArray
    p: FloatArray
    slt: FloatArray
    q: FloatArray
    review: FloatArray | None = None

    def _each(self, f: Callable[[NDArray[Any]], NDArray[Any]]) -> LeadTimeDemand:
        r = None if self.review is None else f(self.review)
        return LeadTimeDemand(
            f(self.dist), f(self.fill), f(self.d), f(self.sd), f(self.p), f(self.slt), f(self.q), r
        )

    @property
    def periodic(self) -> BoolArray:
        """Items reviewed periodically (R > 0)."""
        if self.review is None:
            return np.zeros(np.shape(self.d), dtype=bool)
        out: BoolArray = self.review > 0
        return out

    @property
    def cycle_demand(self) -> FloatArray:
        """Demand a replenishment cycle serves: ``d R`` (periodic review), else ``max(Q,
        E X_P+)`` (with Q below the lead-time demand several orders are open at once; a
        normal model's mass below 0 is no demand: ``E X+ = sigma G(-mean / sigma)``, so
        level 0 has fill rate 0 and any stock more)."""
        shape, x, _ = _flat_demand(self)
        r = np.zeros(1) if x.review is None else x.review
        positive = x.mean  # E X+: the mean for gamma and Poisson
        normal = (x.dist == NORMAL) & ~x.periodic
        if normal.any():
            positive = positive.copy()
            sub = x.subset(normal)
            positive[normal] = _loss(sub.dist, sub.mean, sub.sigma, np.zeros(len(sub.d)))
        out: FloatArray = np.where(x.periodic, x.d * r, np.maximum(x.q, positive))
        return out.reshape(shape)

    def subset(self, m: BoolArray) -> LeadTimeDemand:
        """The items where ``m`` holds."""
        return self._each(lambda x: x[m])

    def as_columns(self) -> LeadTimeDemand:
        """Every array as a column (n, 1), to broadcast against a row of targets."""
        return self._each(lambda x: x[:, None])

    @property
    def mean(self) -> FloatArray:
        """Expected demand over the protection interval."""
        out: FloatArray = self.d * self.p
        return out

    @property
    def sigma(self) -> FloatArray:
        """Standard deviation of demand over the protection interval."""
        out: FloatArray = np.sqrt(self.p * self.sd * self.sd + self.d * self.d * self.slt**2)
        return out


def safety_stocks(
    ltd: LeadTimeDemand, level: FloatArray, *, grid: bool = False, rtol: float = 1e-10
) -> FloatArray:
    """Safety stock of stocked items by distribution: ``level`` holds one target per item, or
    with ``grid`` k targets for every item (result (n, k)). Empirical items are gamma here;
    their own distribution is `EmpiricalDemand`. ``rtol``: relative precision of the
    gamma/Poisson fill-rate levels."""
    ss = np.zeros((len(ltd.d), len(level)) if grid else len(ltd.d))
    cyc = ~ltd.fill
    for m, kind in (
        ((ltd.dist == NORMAL) & cyc, "cycle"),
        (ltd.fill, "fill_rate"),
        (((ltd.dist == GAMMA) | (ltd.dist == EMPIRICAL)) & cyc, "gamma"),
        ((ltd.dist == POISSON) & cyc, "poisson"),
    ):
        if not m.any():
            continue
        x = ltd.subset(m)
        # Per item: one level each. Grid: items down the rows, levels across the columns.
        c, lv = (x.as_columns(), level[None, :]) if grid else (x, level[m])
        mean = c.d * c.p
        if kind == "cycle" and grid:
            # z * sigma_DL is linear in z: one kernel call at z = 1, scaled per target.
            unit = np.asarray(safety_stock(x.d, x.sd, x.p, x.slt, _PHI_1)) / _Z_PHI_1
            ss[m] = np.multiply.outer(unit, special.ndtri(level))
        elif kind == "cycle":
            ss[m] = safety_stock(x.d, x.sd, x.p, x.slt, lv)
        elif kind == "fill_rate":
            normal = c.dist == NORMAL
            # Normal: sigma G(k) = (1 - beta) x the demand of a cycle (the textbook's Q).
            q_eff = np.maximum(np.where(c.periodic, c.q, c.cycle_demand), 1e-12)
            ss[m] = np.where(
                normal,
                safety_stock(c.d, c.sd, c.p, c.slt, lv, "fill_rate", q_eff),
                fill_rate_levels(c, lv, skip=normal, rtol=rtol) - mean,
            )
        elif kind == "gamma":
            ss[m] = _gamma_reorder_points(x, level if grid else lv, grid) - mean
        else:  # critical ratio p / (p + h) with p = alpha, h = 1 - alpha is alpha
            ss[m] = poisson_base_stock(mean, 1.0 - lv, lv) - mean
    return ss


def _gamma_reorder_points(x: LeadTimeDemand, level: FloatArray, grid: bool) -> FloatArray:
    """`gamma_reorder_point` per item (``level`` per item) or per item and target (``grid``);
    more than `SPLINE_KNOTS` items at one level go through the spline."""
    if grid:
        if len(x.d) > SPLINE_KNOTS:
            return _gamma_grid_reorder_points(x, level)
        c = x.as_columns()
        return np.asarray(gamma_reorder_point(c.d, c.sd, c.p, c.slt, level[None, :]), np.float64)
    out = np.empty(len(x.d))
    values, code, counts = np.unique(level, return_inverse=True, return_counts=True)
    code = code.reshape(-1)
    for j in np.flatnonzero(counts > SPLINE_KNOTS):
        g = code == j
        out[g] = _gamma_grid_reorder_points(x.subset(g), values[j : j + 1])[:, 0]
    small = counts[code] <= SPLINE_KNOTS
    if small.any():
        s = x.subset(small)
        out[small] = gamma_reorder_point(s.d, s.sd, s.p, s.slt, level[small])
    return out


def _gamma_grid_reorder_points(x: LeadTimeDemand, levels: FloatArray) -> FloatArray:
    """`gamma_reorder_point` of n items at each of k levels, (n, k), through the spline.

    Per level, a cubic spline of the log standard-gamma quantile over log shape
    (`SPLINE_KNOTS` knots on shapes 1e-2..1e5) replaces the per-item inversion; shapes outside
    the knots are inverted exactly. Same moment fit as the kernel: shape ``(mean / sd)^2``,
    scale ``sd^2 / mean`` of lead-time demand; no spread gives the mean.
    """
    mean = x.d * x.p
    sigma = np.sqrt(x.p * x.sd * x.sd + x.d * x.d * x.slt * x.slt)
    spread = sigma > 0
    safe_sigma, safe_mean = np.where(spread, sigma, 1.0), np.where(spread, mean, 1.0)
    shape, scale = (safe_mean / safe_sigma) ** 2, safe_sigma**2 / safe_mean
    log_shape = np.log(shape)
    knots = np.linspace(math.log(1e-2), math.log(1e5), SPLINE_KNOTS)
    inside = (log_shape >= knots[0]) & (log_shape <= knots[-1])
    out = np.empty((len(x.d), len(levels)))
    for j, level in enumerate(levels):
        spline = CubicSpline(knots, np.log(special.gammaincinv(np.exp(knots), level)))
        out[inside, j] = np.exp(spline(log_shape[inside]))
        out[~inside, j] = special.gammaincinv(shape[~inside], level)
    result: FloatArray = np.where(spread[:, None], out * scale[:, None], mean[:, None])
    return result


# --------------------------------------------------------------------------- service achieved


def _flat(*arrays: NDArray[Any]) -> tuple[tuple[int, ...], list[NDArray[Any]]]:
    """The arrays broadcast to one shape and flattened (read-only; views where they can be),
    and that shape."""
    if all(np.ndim(x) == 1 for x in arrays) and len({len(x) for x in arrays}) == 1:
        return (len(arrays[0]),), list(arrays)  # the common case: one value per item
    b = np.broadcast_arrays(*arrays)
    return b[0].shape, [np.ascontiguousarray(x).reshape(-1) for x in b]


def _loss(dist: IntArray, mean: FloatArray, sigma: FloatArray, r: FloatArray) -> FloatArray:
    """``E(X - r)+`` of lead-time demand per item (flat arrays): normal ``sigma G(z)``; gamma
    ``m Q(k + 1, r / theta) - r Q(k, r / theta)`` (Q the upper regularised incomplete gamma);
    Poisson ``m P(X >= j - 1) - r P(X >= j)``, ``j = floor(r) + 1``; no spread: ``(m - r)+``."""
    out = np.maximum(mean - r, 0.0)
    spread = sigma > 0
    normal = (dist == NORMAL) & spread
    if normal.any():
        s = sigma[normal]
        z = (r[normal] - mean[normal]) / s
        with np.errstate(over="ignore"):
            out[normal] = s * (np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) - z * special.ndtr(-z))
    gamma = ((dist == GAMMA) | (dist == EMPIRICAL)) & spread & (mean > 0)
    if gamma.any():
        m, s, x = mean[gamma], sigma[gamma], r[gamma]
        k, theta, pos = (m / s) ** 2, s * s / m, np.maximum(x, 0.0)
        out[gamma] = (
            m * special.gammaincc(k + 1.0, pos / theta)
            - pos * special.gammaincc(k, pos / theta)
            + np.maximum(-x, 0.0)
        )
    poisson = (dist == POISSON) & (mean > 0)
    if poisson.any():
        m, x = mean[poisson], r[poisson]
        pos = np.maximum(x, 0.0)
        j = np.floor(pos) + 1.0
        at_least_j_1 = np.where(j > 1.0, special.gammainc(np.maximum(j - 1.0, 1.0), m), 1.0)
        out[poisson] = m * at_least_j_1 - pos * special.gammainc(j, m) + np.maximum(-x, 0.0)
    return out


def _cycle_service(
    dist: IntArray, mean: FloatArray, sigma: FloatArray, r: FloatArray
) -> FloatArray:
    """``P(X <= r)`` per item (flat arrays); no spread: 1 when ``r >= mean``."""
    out = (r >= mean - 1e-12 * np.abs(mean)).astype(np.float64)
    spread = sigma > 0
    normal = (dist == NORMAL) & spread
    out[normal] = special.ndtr((r[normal] - mean[normal]) / sigma[normal])
    gamma = ((dist == GAMMA) | (dist == EMPIRICAL)) & spread & (mean > 0)
    if gamma.any():
        m, s = mean[gamma], sigma[gamma]
        out[gamma] = special.gammainc((m / s) ** 2, np.maximum(r[gamma], 0.0) * m / (s * s))
    poisson = (dist == POISSON) & (mean > 0)
    if poisson.any():
        x = r[poisson]
        cdf = special.gammaincc(np.floor(np.maximum(x, 0.0)) + 1.0, mean[poisson])
        out[poisson] = np.where(x < 0, 0.0, cdf)
    return out


def _shortage(ltd: LeadTimeDemand, r: FloatArray) -> FloatArray:
    """Expected units short per replenishment cycle at level ``r`` (flat arrays): periodic
    review ``E(X_P - r)+ - E(X_L - r)+`` (backorders at the cycle's end less those at its
    start: exact for any demand, and never more than the cycle's demand ``d R``); continuous
    review ``E(X_P - r)+``, one exposure per cycle."""
    short = _loss(ltd.dist, ltd.mean, ltd.sigma, r)
    periodic = ltd.periodic
    if periodic.any():
        x = ltd.subset(periodic)
        assert x.review is not None  # periodic items have one
        lead = LeadTimeDemand(x.dist, x.fill, x.d, x.sd, x.p - x.review, x.slt, x.q)
        short[periodic] -= _loss(lead.dist, lead.mean, lead.sigma, r[periodic])
    return short


def _flat_demand(
    ltd: LeadTimeDemand, *others: NDArray[Any]
) -> tuple[tuple[int, ...], LeadTimeDemand, list[NDArray[Any]]]:
    """``ltd`` and ``others`` broadcast together and flattened, and their shape."""
    review = np.zeros(1) if ltd.review is None else ltd.review
    arrays = (ltd.dist, ltd.fill, ltd.d, ltd.sd, ltd.p, ltd.slt, ltd.q, review, *others)
    shape, flat = _flat(*arrays)
    d, f, m, sd, p, slt, q, r = flat[:8]
    return shape, LeadTimeDemand(d, f, m, sd, p, slt, q, r), flat[8:]


def service_levels(ltd: LeadTimeDemand, r: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Expected fill rate ``1 - shortage per cycle / demand per cycle`` and cycle service
    ``P(X_P <= r)`` of level ``r`` per item under its distribution (empirical items as gamma;
    see `empirical_service`)."""
    shape, x, (rr,) = _flat_demand(ltd, r)
    demand = x.cycle_demand
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(demand > 0, np.clip(1.0 - _shortage(x, rr) / demand, 0.0, 1.0), 1.0)
    fill = np.where(rr > 0, np.maximum(fill, np.finfo(float).tiny), fill)
    csl = _cycle_service(x.dist, x.mean, x.sigma, rr)
    return fill.reshape(shape), csl.reshape(shape)


def _smallest_level(
    shortage: Callable[[FloatArray, BoolArray], FloatArray],
    allowed: FloatArray,
    start: FloatArray,
    rtol: float = 1e-10,
) -> FloatArray:
    """Smallest ``r >= 0`` with ``shortage(r) <= allowed`` per item (shortage falls with r):
    doubling, then bisection to ``rtol`` relative. ``shortage(r, rows)`` sees only the rows
    left."""
    lo, hi = np.zeros(len(allowed)), np.maximum(start, 1.0)
    done = shortage(lo, np.ones(len(lo), dtype=bool)) <= allowed
    hi[done] = 0.0
    rows = ~done
    for _ in range(80):  # doubling: the level above which shortage is small enough
        if not rows.any():
            break
        short = np.full(len(lo), -np.inf)
        short[rows] = shortage(hi[rows], rows)
        grow = rows & (short > allowed)
        lo[grow], hi[grow] = hi[grow], hi[grow] * 2.0
        rows = grow
    rows = ~done
    for _ in range(200):
        rows &= hi - lo > rtol * np.maximum(hi, 1.0)
        if not rows.any():
            break
        mid = (lo + hi) / 2.0
        short = np.full(len(lo), np.inf)
        short[rows] = shortage(mid[rows], rows)
        ok = rows & (short <= allowed)
        hi[ok] = mid[ok]
        bad = rows & ~ok
        lo[bad] = mid[bad]
    return hi


def fill_rate_levels(
    ltd: LeadTimeDemand,
    beta: FloatArray,
    *,
    skip: BoolArray | None = None,
    rtol: float = 1e-10,
) -> FloatArray:
    """The smallest level ``r >= 0`` whose fill rate (`service_levels`) reaches ``beta`` under
    each item's distribution (Poisson: the smallest whole number), to ``rtol`` relative; NaN
    where ``skip``. Arrays broadcast together (one target per item or a grid)."""
    shape, x, (b, sk) = _flat_demand(ltd, beta, np.zeros(1, bool) if skip is None else skip)
    out = np.full(len(x.d), np.nan)
    use = ~sk
    if use.any():
        xu = x.subset(use)

        def shortage(r: FloatArray, rows: BoolArray) -> FloatArray:
            return _shortage(xu.subset(rows), r)

        allowed = (1.0 - b[use]) * xu.cycle_demand
        level = _smallest_level(shortage, allowed, xu.mean + 6 * xu.sigma, rtol)
        whole = xu.dist == POISSON
        if whole.any():  # the bisection ends within 1e-10 above the root: step down if met
            s = np.ceil(level[whole] - 1e-9)
            down = (s >= 1) & (shortage(s - 1.0, whole) <= allowed[whole])
            level[whole] = s - down
        out[use] = level
    return out.reshape(shape)


# --------------------------------------------------------------------------- empirical


def _period_numbers(ds: pd.Series, bucket: str) -> IntArray:
    """Consecutive integers for consecutive buckets (ds are bucket starts)."""
    unit = "M" if bucket == "month" else "D"
    n = pd.to_datetime(ds).to_numpy(dtype=f"datetime64[{unit}]").astype(np.int64)
    # 1970-01-01 is a Thursday: + 3 makes Monday-started weeks one integer apart.
    return (n + 3) // 7 if bucket == "week" else n


@dataclass
class EmpiricalDemand:
    """Lead-time-demand scenarios of items from their history, sorted ascending per item.

    ``groups``: (positions of the items, scenarios (g, k) padded with +inf, valid count per
    item); ``found``: items that had any history. Every scenario is equally likely.
    """

    groups: list[tuple[IntArray, FloatArray, IntArray]]
    found: BoolArray

    def quantile(self, level: FloatArray) -> FloatArray:
        """The smallest scenario whose share of scenarios at or below it reaches ``level``."""
        out = np.full(len(self.found), np.nan)
        for pos, x, k in self.groups:
            rank = np.clip(np.ceil(level[pos] * k - 1e-9).astype(np.int64) - 1, 0, k - 1)
            out[pos] = x[np.arange(len(pos)), rank]
        return out

    @staticmethod
    def _loss(x: FloatArray, k: IntArray, r: FloatArray) -> FloatArray:
        over = np.where(np.isfinite(x), np.maximum(x - r[:, None], 0.0), 0.0)
        out: FloatArray = over.sum(axis=1) / k
        return out

    def loss(self, r: FloatArray) -> FloatArray:
        """``E(X - r)+`` per item over its scenarios (NaN without history)."""
        out = np.full(len(self.found), np.nan)
        for pos, x, k in self.groups:
            out[pos] = self._loss(x, k, r[pos])
        return out

    def cycle_service(self, r: FloatArray) -> FloatArray:
        """``P(X <= r)`` per item over its scenarios (NaN without history)."""
        out = np.full(len(self.found), np.nan)
        for pos, x, k in self.groups:
            out[pos] = (x <= r[pos][:, None]).sum(axis=1) / k
        return out


def _empirical_shortage(
    emp: EmpiricalDemand, lead: EmpiricalDemand | None, r: FloatArray
) -> FloatArray:
    short = emp.loss(r)
    if lead is not None:
        short = short - np.nan_to_num(lead.loss(r))
    return short


def empirical_service(
    emp: EmpiricalDemand, lead: EmpiricalDemand | None, r: FloatArray, demand: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Fill rate and cycle service of level ``r`` per empirical item: shortage per cycle
    ``E(X_P - r)+``, less ``E(X_L - r)+`` where ``lead`` (periodic review: the scenarios over
    the lead time alone, 0 for continuous-review items) is given, over the demand per cycle."""
    short = _empirical_shortage(emp, lead, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(demand > 0, np.clip(1.0 - short / demand, 0.0, 1.0), 1.0)
    return fill, emp.cycle_service(r)


def empirical_fill_rate_levels(
    emp: EmpiricalDemand, lead: EmpiricalDemand | None, demand: FloatArray, beta: FloatArray
) -> FloatArray:
    """The smallest level ``r >= 0`` whose `empirical_service` fill rate reaches ``beta``."""
    found = np.flatnonzero(emp.found)
    out = np.full(len(emp.found), np.nan)
    if not len(found):
        return out

    def shortage(r: FloatArray, rows: BoolArray) -> FloatArray:
        full = np.zeros(len(emp.found))
        full[found[rows]] = r
        short: FloatArray = _empirical_shortage(emp, lead, full)[found[rows]]
        return short

    top = np.zeros(len(emp.found))
    for pos, x, _ in emp.groups:
        top[pos] = np.where(np.isfinite(x), x, 0.0).max(axis=1)
    out[found] = _smallest_level(shortage, (1.0 - beta[found]) * demand[found], top[found])
    return out


def empirical_demand(
    history: pd.DataFrame,
    rows: IntArray,
    items: IntArray,
    lead: IntArray,
    bucket: str,
    settings: PolicySettings,
) -> EmpiricalDemand:
    """Lead-time-demand scenarios of ``items`` (whole-bucket protection intervals ``lead``) from
    their ``history`` (``ds, y``; ``rows``: the item of each history row, -1 none).

    Each series runs from its first bucket to the table's last, 0 where absent, a net return
    as 0. Where the series is at least ``lead`` long, the scenarios are the sums of every
    ``lead`` consecutive buckets (the exact distribution of a block bootstrap with uniform
    starts: no sampling noise); else ``settings.empirical_samples`` sums of ``lead`` buckets
    drawn independently (seeded).
    """
    local = np.full(int(max(rows.max(initial=-1), items.max(initial=-1))) + 1, -1, np.int64)
    local[items] = np.arange(len(items))
    period, y = _period_numbers(history["ds"], bucket), floats(history, "y")
    end = int(period.max()) if len(period) else 0
    mine = rows >= 0
    k, per, val = local[rows[mine]], period[mine], y[mine]
    k, per, val = k[k >= 0], per[k >= 0], val[k >= 0]
    first = np.full(len(items), end + 1, dtype=np.int64)
    np.minimum.at(first, k, per)
    length = end - first + 1
    has = length > 0
    rng = np.random.default_rng(settings.seed)
    groups: list[tuple[IntArray, FloatArray, IntArray]] = []
    for n in np.unique(length[has]):
        group = np.flatnonzero(length == n)
        row = np.full(len(items), -1, dtype=np.int64)
        row[group] = np.arange(len(group))
        take = row[k] >= 0
        h = np.zeros((len(group), int(n)))
        np.add.at(h, (row[k[take]], per[take] - first[k[take]]), val[take])
        h = np.maximum(h, 0.0)  # a bucket of net returns is no demand
        lt = lead[group]
        block = lt <= n
        if block.any():
            g, hb, lb = group[block], h[block], lt[block]
            cum = np.concatenate([np.zeros((len(g), 1)), np.cumsum(hb, axis=1)], axis=1)
            starts = np.arange(int(n) - int(lb.min()) + 1)
            ends = starts[None, :] + lb[:, None]
            valid = ends <= n
            sums = np.take_along_axis(cum, np.minimum(ends, int(n)), 1) - cum[:, starts]
            x = np.sort(np.where(valid, sums, np.inf), axis=1)
            groups.append((g, x, valid.sum(axis=1)))
        if (~block).any():
            g, hi, li = group[~block], h[~block], lt[~block]
            sums = np.zeros((len(g), settings.empirical_samples))
            for j in range(int(li.max())):
                draw = np.take_along_axis(hi, rng.integers(0, int(n), sums.shape), 1)
                sums += np.where(j < li[:, None], draw, 0.0)
            groups.append((g, np.sort(sums, axis=1), np.full(len(g), sums.shape[1])))
    return EmpiricalDemand(groups, has)
