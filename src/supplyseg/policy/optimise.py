"""Stock-mix optimiser: the cheapest safety stocks for an aggregate fill rate, and its frontier.

A uniform fill-rate target per segment is simple but not cheap: an extra unit of safety stock
buys more service on some items (cheap, small order quantity, much of the demand) than on
others. `stock_mix` finds **the** optimum of

    minimise   sum_i c_i SS_i
    subject to sum_i w_i beta_i(SS_i) / sum_i w_i >= target,   SS_i >= 0

(or, with a ``budget``, the largest weighted fill rate for ``sum_i c_i SS_i <= budget``), where
``beta_i(SS) = 1 - sigma_i G(SS / sigma_i) / Q_i`` is the textbook fill rate of a reorder-point
policy with normal lead-time demand (Silver, Pyke & Thomas, ch. 6), ``G`` the standard normal
loss function and ``sigma_i = sqrt(L sigma_d^2 + d^2 sigma_L^2)``, as in
`supplyseg.policy.inventory.safety_stock`.

Method: ``beta_i`` is concave in ``SS_i`` (its slope ``(1 - Phi(SS_i / sigma_i)) / Q_i``
falls), so the problem is convex and separable and the Lagrange conditions are sufficient. For
a multiplier ``lambda`` (the safety-stock value one more unit of aggregate fill rate costs),
each item's stock solves ``c_i = lambda (w_i / W) (1 - Phi(SS_i / sigma_i)) / Q_i``:

    SS_i = sigma_i * Phi^-1(1 - c_i Q_i W / (lambda w_i))    when that is positive, else 0.

The aggregate fill rate (and the cost) rise monotonically with ``log lambda``; one scalar root
search (Newton steps inside a bisection bracket, each step one vectorised pass over the items)
finds the ``lambda`` that meets the target, from the feasible side.

Conventions, each an assumption:
- ``beta_i`` is the unclipped textbook formula in the optimisation (clipping at 0 would make the
  problem non-convex); the ``fill_rate`` column is clipped at 0, so its weighted mean is at
  least the model's aggregate (`attrs["weighted_fill_rate"]`).
- Items with ``sigma = 0`` (no uncertainty) have fill rate 1 at SS 0; items with weight 0 get
  SS 0 (they add nothing to the aggregate).
- An unknown ``unit_cost`` (NaN) is optimised at the median known unit cost (1 when none is
  known: then the optimiser minimises units); its ``inventory_value`` stays unknown (NaN) and
  `attrs` counts such items. A unit cost of 0 is refused: free stock has no optimum.
- The **uniform comparison** (`attrs`): the common fill-rate target for every item of positive
  weight that gives the same aggregate fill rate (items whose fill rate at SS 0 is already
  higher keep SS 0), found by bisection, and the safety-stock value it costs.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special

from supplyseg.data.contract import require_columns
from supplyseg.errors import DataContractError, PolicyError
from supplyseg.policy.inventory import _fill_rate_safety_stock, _normal_loss, _sigma_dl

__all__ = [
    "FRONTIER_COLUMNS",
    "STOCK_MIX_COLUMNS",
    "STOCK_MIX_INPUTS",
    "stock_mix",
    "stock_to_service_frontier",
]

FloatArray = NDArray[np.float64]

STOCK_MIX_INPUTS = (
    "item_id",
    "demand_mean",
    "demand_std",
    "lead_time",
    "lead_time_std",
    "order_quantity",
    "unit_cost",
    "weight",
)
"""Columns `stock_mix` needs: one row per item; demand and lead time per the same bucket."""
STOCK_MIX_COLUMNS = ("item_id", "safety_stock", "fill_rate", "inventory_value")
"""Columns `stock_mix` returns, one row per item in the input order."""
FRONTIER_COLUMNS = (
    "target",
    "optimised_ss_value",
    "uniform_ss_value",
    "optimised_inventory_value",
    "uniform_inventory_value",
)
"""Columns of `stock_to_service_frontier`, one row per target."""

_R_MIN = 1e-300  # 1 - Phi(z) = 1e-300 at z ~ 37: the fill rate is 1 in double precision
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_G0 = _INV_SQRT_2PI  # G(0)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Problem:
    """The items that can hold stock (positive weight and sigma), as arrays, plus the rest."""

    n: int
    active: NDArray[np.intp]  # positions of items with w > 0 and sigma > 0
    sigma: FloatArray  # per active item
    q: FloatArray
    c: FloatArray  # unit cost used in the objective (assumed for unknown)
    share: FloatArray  # w / W
    log_a: FloatArray  # log(c Q W / w): r = 1 - Phi(z) = exp(log_a - t) at t = log lambda
    base: float  # aggregate fill rate at SS = 0 (all items)
    beta0: FloatArray  # fill rate at SS = 0 for every item (unclipped)
    sigma_all: FloatArray  # sigma of every item
    q_all: FloatArray
    cycle_value: float  # sum c Q / 2 over items (assumed cost for unknown)
    unknown_cost: int
    assumed_cost: float | None


def _column(items: pd.DataFrame, name: str, low: float, *, low_open: bool = False) -> FloatArray:
    """A numeric column as float64 with every value finite and above ``low``."""
    try:
        a = pd.to_numeric(items[name], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataContractError(
            f"items: column {name!r} is not numeric; give numbers (>= {low:g})"
        ) from None
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(a) | ((a <= low) if low_open else (a < low))
    if bad.any():
        i = int(np.argmax(bad))
        rule = f"> {low:g}" if low_open else f">= {low:g}"
        raise DataContractError(
            f"items: {name} of item {items['item_id'].iloc[i]!r} is {a[i]!r}; allowed: finite"
            f" numbers {rule}; fix the value or leave the item out"
        )
    return a


def _unit_costs(items: pd.DataFrame) -> tuple[FloatArray, FloatArray, int, float | None]:
    """(known costs with NaN, costs for the objective, items of unknown cost, value assumed)."""
    try:
        c = pd.to_numeric(items["unit_cost"], errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    except (TypeError, ValueError):
        raise DataContractError(
            "items: column 'unit_cost' is not numeric; give numbers > 0 (empty for unknown)"
        ) from None
    unknown = np.isnan(c)
    with np.errstate(invalid="ignore"):
        bad = ~unknown & (~np.isfinite(c) | (c <= 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataContractError(
            f"items: unit_cost of item {items['item_id'].iloc[i]!r} is {c[i]!r}; allowed: finite"
            " numbers > 0, or empty (unknown: optimised at the median known cost)"
        )
    n_unknown = int(unknown.sum())
    if n_unknown == 0:
        return c, c, 0, None
    assumed = float(np.median(c[~unknown])) if n_unknown < len(c) else 1.0
    return c, np.where(unknown, assumed, c), n_unknown, assumed


def _problem(items: pd.DataFrame) -> tuple[_Problem, FloatArray]:
    """The validated problem and the known unit costs (NaN = unknown)."""
    require_columns("items", items, STOCK_MIX_INPUTS)
    if len(items) == 0:
        raise DataContractError("items: no rows; give at least one item")
    if items["item_id"].isna().any() or items["item_id"].duplicated().any():
        dup = items["item_id"][items["item_id"].isna() | items["item_id"].duplicated()].iloc[0]
        raise DataContractError(
            f"items: item_id {dup!r} is missing or repeated; give one row per item"
        )
    d = _column(items, "demand_mean", 0.0)
    sd = _column(items, "demand_std", 0.0)
    lt = _column(items, "lead_time", 0.0)
    slt = _column(items, "lead_time_std", 0.0)
    q = _column(items, "order_quantity", 0.0, low_open=True)
    w = _column(items, "weight", 0.0)
    known_c, c, n_unknown, assumed = _unit_costs(items)
    total_w = float(w.sum())
    if not total_w > 0:
        raise DataContractError(
            "items: every weight is 0; give each item its share of the aggregate (e.g. its"
            " demand value) with at least one weight > 0"
        )
    sigma = _sigma_dl(d, sd, lt, slt)
    beta0 = np.where(sigma > 0, 1.0 - sigma * _G0 / q, 1.0)
    active = np.flatnonzero((w > 0) & (sigma > 0))
    share = w[active] / total_w
    problem = _Problem(
        n=len(items),
        active=active,
        sigma=sigma[active],
        q=q[active],
        c=c[active],
        share=share,
        log_a=np.log(c[active] * q[active]) - np.log(share),
        base=float(np.dot(w, beta0) / total_w),
        beta0=beta0,
        sigma_all=sigma,
        q_all=q,
        cycle_value=float(np.dot(c, q) / 2.0),
        unknown_cost=n_unknown,
        assumed_cost=assumed,
    )
    return problem, known_c


# --------------------------------------------------------------------------- kernel


@dataclass(frozen=True)
class _Point:
    """The item stocks at one multiplier t = log lambda, with the aggregates and slopes."""

    t: float
    ss: FloatArray
    fill: float  # aggregate fill rate (all items)
    cost: float  # safety-stock value
    d_fill: float  # d fill / d t
    d_cost: float


def _point(p: _Problem, t: float) -> _Point:
    """Each active item's optimal stock for ``lambda = exp(t)`` (the Lagrange condition)."""
    r = np.exp(np.minimum(p.log_a - t, 0.0))  # 1 - Phi(z); >= 0.5 means no stock
    interior = r < 0.5
    r = np.clip(r, _R_MIN, 0.5)
    z = -special.ndtri(r)
    ss = p.sigma * z
    short = p.sigma * _normal_loss(z) / p.q
    # dz/dt = r / phi(z): phi(z) >= 1e-299 for z <= 37.1, so no division by 0.
    dz = np.where(interior, r / (np.exp(-0.5 * z * z) * _INV_SQRT_2PI), 0.0)
    fill = p.base + float(np.dot(p.share, p.sigma * _G0 / p.q - short))
    return _Point(
        t=t,
        ss=ss,
        fill=fill,
        cost=float(np.dot(p.c, ss)),
        d_fill=float(np.dot(p.share, p.sigma * r * dz / p.q)),
        d_cost=float(np.dot(p.c, p.sigma * dz)),
    )


def _solve(p: _Problem, goal: float, by_cost: bool) -> _Point:
    """The point whose fill rate reaches ``goal`` (or whose cost stays within it), closest.

    Both the fill rate and the cost rise with t. Bracket: at the lower end no item holds
    stock, at the upper end every item sits at 1 - Phi(z) = 1e-300. Newton steps that land
    inside the bracket are taken, otherwise bisection. They aim at the middle of a window of
    width ``tol`` on the feasible side, so that they converge into it from either side.
    """
    tol = 1e-10 * (max(goal, 1.0) if by_cost else 1.0)
    sign = -1.0 if by_cost else 1.0  # the feasible side of the goal
    aim = sign * tol / 2

    def value(pt: _Point) -> float:
        return (pt.cost if by_cost else pt.fill) - goal

    def feasible(pt: _Point) -> bool:
        return 0.0 <= sign * value(pt) <= tol

    lo = _point(p, float(np.min(p.log_a)) + math.log(2.0))
    hi = _point(p, float(np.max(p.log_a)) - math.log(_R_MIN))
    if by_cost and value(hi) <= 0:
        return hi  # the budget buys every item's fill rate up to 1 (in double precision)
    if not by_cost and value(hi) < 0:
        raise PolicyError(
            f"target_fill_rate: value {goal!r} cannot be reached; the maximum reachable"
            f" aggregate fill rate is {hi.fill!r}; give a lower target"
        )
    for end in (lo, hi):
        if feasible(end):
            return end
    current = lo
    for _ in range(200):
        slope = current.d_cost if by_cost else current.d_fill
        t_next = current.t - (value(current) - aim) / slope if slope > 0 else math.nan
        if not (lo.t < t_next < hi.t):  # also catches NaN
            t_next = 0.5 * (lo.t + hi.t)
        if t_next in (lo.t, hi.t):
            break  # the bracket is one float wide
        current = _point(p, t_next)
        if feasible(current):
            return current
        if value(current) > aim:
            hi = current
        else:
            lo = current
    return lo if by_cost else hi


def _uniform(p: _Problem, goal: float) -> tuple[float, FloatArray]:
    """(common fill-rate target, stocks of the active items) reaching the aggregate ``goal``."""
    b0 = p.beta0[p.active]
    if goal <= p.base or len(b0) == 0:
        return max(float(b0.min(initial=1.0)), 0.0), np.zeros(len(b0))
    rest = p.base - float(np.dot(p.share, b0))  # items without stock: fixed contribution
    lo, hi = min(float(b0.min()), 0.0), 1.0
    for _ in range(200):  # the aggregate is piecewise linear and rises with the common target
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if rest + float(np.dot(p.share, np.maximum(mid, b0))) >= goal:
            hi = mid
        else:
            lo = mid
    ss = np.maximum(_fill_rate_safety_stock(np.full_like(b0, hi), p.q, p.sigma), 0.0)
    return hi, np.where(b0 < hi, ss, 0.0)


# --------------------------------------------------------------------------- public


def _is_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _check_target(p: _Problem, target: float) -> None:
    if not (_is_number(target) and 0 < target <= 1):
        raise PolicyError(
            f"target_fill_rate: value {target!r} is not allowed; give a fill rate in (0, 1),"
            " e.g. 0.98; the maximum reachable is 1 (only in the limit of unlimited stock)"
        )
    if target >= 1 and target > p.base:
        raise PolicyError(
            f"target_fill_rate: value {target!r} cannot be reached; the maximum reachable"
            f" aggregate fill rate is 1 only in the limit of unlimited safety stock for the"
            f" {len(p.active)} item(s) with uncertain demand; give a target below 1"
        )


def _optimum(p: _Problem, target: float | None, budget: float | None) -> _Point:
    if target is not None:
        _check_target(p, target)
        if p.base >= target or len(p.active) == 0:
            return _Point(0.0, np.zeros(len(p.active)), p.base, 0.0, 0.0, 0.0)
        return _solve(p, float(target), by_cost=False)
    assert budget is not None
    if budget == 0 or len(p.active) == 0:
        return _Point(0.0, np.zeros(len(p.active)), p.base, 0.0, 0.0, 0.0)
    return _solve(p, float(budget), by_cost=True)


def stock_mix(
    items: pd.DataFrame,
    target_fill_rate: float | None = None,
    *,
    budget: float | None = None,
) -> pd.DataFrame:
    """The safety stock per item that reaches an aggregate fill rate at the least stock value.

    ``items``: one row per item with `STOCK_MIX_INPUTS`: ``item_id``, normal demand per bucket
    ``demand_mean``/``demand_std``, ``lead_time``/``lead_time_std`` in the same buckets,
    ``order_quantity`` Q > 0, ``unit_cost`` > 0 (NaN = unknown, see the module notes) and
    ``weight`` >= 0, the item's share in the aggregate (e.g. its demand value). Give exactly
    one of ``target_fill_rate`` (in (0, 1): least ``sum(unit_cost * SS)`` with the weighted
    fill rate at least the target) or ``budget`` (>= 0: greatest weighted fill rate with
    ``sum(unit_cost * SS) <= budget``).

    Returns `STOCK_MIX_COLUMNS` in the input order: ``safety_stock`` (>= 0), ``fill_rate``
    (``1 - sigma G(SS / sigma) / Q``, clipped at 0) and ``inventory_value`` =
    ``unit_cost * (SS + Q / 2)`` (NaN for unknown cost). ``attrs``: ``weighted_fill_rate``,
    ``safety_stock_value``, ``marginal_value_per_point`` (safety-stock value of one more point
    of aggregate fill rate, the Lagrange multiplier / 100), ``uniform_fill_rate`` and
    ``uniform_safety_stock_value`` (every item of positive weight at one common target giving
    the same aggregate), ``uniform_cost_ratio`` (uniform / optimised value; 1 when both are 0),
    ``target_fill_rate``, ``budget``, ``unit_cost_unknown_items``, ``unit_cost_assumed``.

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> items = pd.DataFrame({
    ...     "item_id": ["a", "b"], "demand_mean": [100.0, 10.0], "demand_std": [30.0, 8.0],
    ...     "lead_time": [2.0, 2.0], "lead_time_std": [0.0, 0.0],
    ...     "order_quantity": [200.0, 20.0], "unit_cost": [1.0, 50.0], "weight": [1000.0, 5000.0],
    ... })
    >>> mix = supplyseg.stock_mix(items, target_fill_rate=0.98)
    >>> mix["safety_stock"].round(1).tolist(), round(mix.attrs["uniform_cost_ratio"], 3)
    ([58.0, 15.5], 1.012)
    """
    if (target_fill_rate is None) == (budget is None):
        raise PolicyError(
            "stock_mix: give exactly one of target_fill_rate (e.g. 0.98) or budget (a safety"
            f" stock value >= 0); got target_fill_rate={target_fill_rate!r}, budget={budget!r}"
        )
    if budget is not None and not (_is_number(budget) and budget >= 0):
        raise PolicyError(
            f"budget: value {budget!r} is not allowed; give a finite safety-stock value >= 0"
        )
    p, known_c = _problem(items)
    opt = _optimum(p, target_fill_rate, budget)
    uniform_target, uniform_ss = _uniform(p, opt.fill)
    ss = np.zeros(p.n)
    ss[p.active] = opt.ss
    sigma, q = p.sigma_all, p.q_all
    safe_sigma = np.where(sigma > 0, sigma, 1.0)
    short = np.where(sigma > 0, sigma * _normal_loss(ss / safe_sigma), 0.0)
    out = pd.DataFrame(
        {
            "item_id": items["item_id"].to_numpy(),
            "safety_stock": ss,
            "fill_rate": np.maximum(1.0 - short / q, 0.0),
            "inventory_value": known_c * (ss + q / 2.0),
        }
    )
    uniform_cost = float(np.dot(p.c, uniform_ss))
    out.attrs.update(
        {
            "target_fill_rate": target_fill_rate,
            "budget": budget,
            "weighted_fill_rate": opt.fill,
            "safety_stock_value": opt.cost,
            "marginal_value_per_point": math.exp(opt.t) / 100.0 if opt.cost > 0 else 0.0,
            "uniform_fill_rate": uniform_target,
            "uniform_safety_stock_value": uniform_cost,
            "uniform_cost_ratio": _ratio(uniform_cost, opt.cost),
            "unit_cost_unknown_items": p.unknown_cost,
            "unit_cost_assumed": p.assumed_cost,
        }
    )
    return out


def _ratio(uniform: float, optimised: float) -> float:
    if optimised > 0:
        return uniform / optimised
    return 1.0 if uniform <= 0 else math.inf


def stock_to_service_frontier(items: pd.DataFrame, targets: Sequence[float]) -> pd.DataFrame:
    """Optimised against uniform safety-stock and inventory value at each aggregate fill rate.

    One row per target (`FRONTIER_COLUMNS`): the least safety-stock value reaching the target
    (`stock_mix`) and the value when every item of positive weight gets one common fill-rate
    target with the same aggregate; inventory value adds the cycle stock ``unit_cost * Q / 2``.
    Values use the assumed cost for items of unknown cost (see the module notes). ``items`` as
    in `stock_mix`; ``targets`` in (0, 1).

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> items = pd.DataFrame({
    ...     "item_id": ["a", "b"], "demand_mean": [100.0, 10.0], "demand_std": [30.0, 8.0],
    ...     "lead_time": [2.0, 2.0], "lead_time_std": [0.0, 0.0],
    ...     "order_quantity": [200.0, 20.0], "unit_cost": [1.0, 50.0], "weight": [1000.0, 5000.0],
    ... })
    >>> frontier = supplyseg.stock_to_service_frontier(items, [0.95, 0.98])
    >>> frontier[["optimised_ss_value", "uniform_ss_value"]].round(0).values.tolist()
    [[553.0, 564.0], [831.0, 841.0]]
    """
    t = list(targets)
    if not t:
        raise PolicyError("targets: empty; give aggregate fill rates in (0, 1), e.g. [0.9, 0.95]")
    p, _ = _problem(items)
    rows = []
    for target in t:
        opt = _optimum(p, target, None)
        _, uniform_ss = _uniform(p, opt.fill)
        uniform = float(np.dot(p.c, uniform_ss))
        rows.append(
            (float(target), opt.cost, uniform, opt.cost + p.cycle_value, uniform + p.cycle_value)
        )
    return pd.DataFrame(rows, columns=list(FRONTIER_COLUMNS))
