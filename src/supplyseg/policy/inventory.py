"""Inventory policy kernels: safety stock, reorder point, EOQ, (R,S), newsvendor, base stock.

Every public function accepts scalars or numpy arrays that broadcast together, validates them
(raising `PolicyError` that names the argument, the value, the index and the allowed range) and
returns a ``float`` when every argument is a scalar, an ``ndarray`` otherwise. The arithmetic
lives in private kernels over arrays without checks, so one call serves a million items.

Units: demand is per period; lead time, its standard deviation and the review period are in the
same periods. The standard deviation of lead-time demand is
``sigma_DL = sqrt(L * sigma_d^2 + d^2 * sigma_L^2)`` (Chopra & Meindl, *Supply Chain
Management*, ch. "Safety inventory"; Silver, Pyke & Thomas, ch. 6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from supplyseg.errors import PolicyError

__all__ = [
    "empirical_reorder_point",
    "eoq",
    "expected_backorders",
    "fill_rate",
    "gamma_reorder_point",
    "newsvendor",
    "normal_loss",
    "order_up_to",
    "poisson_base_stock",
    "reorder_point",
    "safety_stock",
]

FloatArray = NDArray[np.float64]
ServiceType = Literal["cycle", "fill_rate"]
BootstrapMethod = Literal["block", "iid"]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Range:
    """An allowed interval for an argument; values must also be finite."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def __str__(self) -> str:
        left = "(" if self.low_open or math.isinf(self.low) else "["
        right = ")" if self.high_open or math.isinf(self.high) else "]"
        return f"{left}{self.low:g}, {self.high:g}{right}"

    def holds_for_all(self, a: FloatArray) -> bool:
        # min/max reductions are much cheaper than a full mask on a million items;
        # a NaN makes min() NaN and every comparison False.
        lo, hi = float(a.min()), float(a.max())
        low_ok = lo > self.low if self.low_open else lo >= self.low
        high_ok = hi < self.high if self.high_open else hi <= self.high
        return low_ok and high_ok and math.isfinite(lo) and math.isfinite(hi)

    def violations(self, a: FloatArray) -> NDArray[np.bool_]:
        with np.errstate(invalid="ignore"):
            below = a <= self.low if self.low_open else a < self.low
            above = a >= self.high if self.high_open else a > self.high
        return below | above | ~np.isfinite(a)


_REAL = _Range()
_NONNEG = _Range(0.0)
_POSITIVE = _Range(0.0, low_open=True)
_PROBABILITY = _Range(0.0, 1.0, low_open=True, high_open=True)


def _index(a: NDArray[np.generic], mask: NDArray[np.bool_]) -> str:
    """`` at index i`` of the first True in ``mask`` (a tuple for n-d arrays), '' for scalars."""
    if a.ndim == 0:
        return ""
    flat = int(np.flatnonzero(mask)[0])
    idx = np.unravel_index(flat, a.shape)
    shown = int(idx[0]) if a.ndim == 1 else tuple(int(i) for i in idx)
    return f" at index {shown}"


def _arg(name: str, value: ArrayLike, allowed: _Range) -> FloatArray:
    """``value`` as a float64 array, or PolicyError naming the first value outside ``allowed``."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise PolicyError(
            f"{name}: value {value!r} is not numeric; allowed range {allowed}"
        ) from None
    if a.size == 0 or allowed.holds_for_all(a):
        return a
    mask = allowed.violations(a)
    v = float(a.reshape(-1)[int(np.flatnonzero(mask)[0])])
    what = "is not a finite number" if not math.isfinite(v) else "is outside the allowed range"
    raise PolicyError(f"{name}: value {v!r}{_index(a, mask)} {what}; allowed range {allowed}")


def _broadcast(**arrays: FloatArray) -> list[FloatArray]:
    """The arrays broadcast to one shape, or PolicyError listing each argument's shape."""
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
        raise PolicyError(
            f"arguments do not broadcast to one shape: {shapes}; pass scalars or arrays of"
            " one length (or numpy-broadcastable shapes)"
        ) from None


def _out(x: FloatArray, scalar: bool) -> float | FloatArray:
    return float(x) if scalar else x


def _check_service_type(service_type: str, order_quantity: ArrayLike | None) -> None:
    if service_type not in ("cycle", "fill_rate"):
        raise PolicyError(
            f"service_type: value {service_type!r} is unknown; allowed 'cycle' or 'fill_rate'"
        )
    if service_type == "fill_rate" and order_quantity is None:
        raise PolicyError(
            "order_quantity: value None is missing; service_type='fill_rate' needs the order"
            " quantity Q (> 0) per item, allowed range (0, inf)"
        )


# --------------------------------------------------------------------------- kernels


def _sigma_dl(d: FloatArray, sd: FloatArray, lt: FloatArray, slt: FloatArray) -> FloatArray:
    """Standard deviation of demand over a random lead time with independent demand."""
    return np.sqrt(lt * sd * sd + d * d * slt * slt)


def _safety_stock(
    z: FloatArray, d: FloatArray, sd: FloatArray, lt: FloatArray, slt: FloatArray
) -> FloatArray:
    return z * _sigma_dl(d, sd, lt, slt)


def _normal_loss(z: FloatArray) -> FloatArray:
    # exp(-z^2/2) overflows to inf (-> 0) for |z| > 1e154; that limit is the right answer.
    with np.errstate(over="ignore"):
        result: FloatArray = np.exp(-0.5 * z * z) * _INV_SQRT_2PI - z * special.ndtr(-z)
    return result


# Table for the Newton start: log G is smooth and decreasing; outside [-38, 37] G(z) is
# -z (left; G(-z) < 1e-300) or below 1e-300 (right) in double precision.
_Z_GRID = np.linspace(-38.0, 37.0, 7501)
_LOG_G_GRID = np.log(_normal_loss(_Z_GRID))
_G_LEFT_END = float(np.exp(_LOG_G_GRID[0]))
_G_RIGHT_END = float(np.exp(_LOG_G_GRID[-1]))


def _inverse_normal_loss(y: FloatArray) -> FloatArray:
    """z with G(z) = y for y > 0: table start, then Newton (G is convex and decreasing)."""
    y = np.maximum(y, _G_RIGHT_END)  # below ~1e-301 the root is beyond z = 37; stop there
    with np.errstate(divide="ignore"):
        z = np.interp(np.log(y), _LOG_G_GRID[::-1], _Z_GRID[::-1])
    z = np.where(y > _G_LEFT_END, -y, z)
    # From a start within 0.01 of the root Newton is quadratic; convexity means that after one
    # step it approaches the root monotonically from the left, so the loop always ends.
    for _ in range(50):
        step = (_normal_loss(z) - y) / special.ndtr(-z)
        z = np.minimum(z + step, _Z_GRID[-1])
        if not np.any(np.abs(step) > 1e-12 * (1.0 + np.abs(z))):
            break
    return z


def _fill_rate_safety_stock(beta: FloatArray, q: FloatArray, sigma: FloatArray) -> FloatArray:
    """SS = z * sigma with G(z) = (1 - beta) * Q / sigma; the sigma -> 0 limit is -(1-beta)Q."""
    shortage = (1.0 - beta) * q  # allowed expected shortage per cycle
    positive = sigma > 0
    with np.errstate(divide="ignore", over="ignore"):
        y = np.where(positive, shortage / np.where(positive, sigma, 1.0), 1.0)
    usable = positive & np.isfinite(y) & (y > 0)
    z = _inverse_normal_loss(np.where(usable, y, 1.0))
    return np.where(usable, z * sigma, -shortage)


def _expected_shortage(ss: FloatArray, sigma: FloatArray) -> FloatArray:
    """Expected units short per replenishment cycle, sigma * G(ss / sigma); max(-ss, 0) at 0."""
    positive = sigma > 0
    safe = np.where(positive, sigma, 1.0)
    return np.where(positive, safe * _normal_loss(ss / safe), np.maximum(-ss, 0.0))


def _poisson_base_stock(mean: FloatArray, ratio: FloatArray) -> FloatArray:
    """Smallest integer S with P(Poisson(mean) <= S) >= ratio."""
    shape = mean.shape
    m, r = mean.ravel(), ratio.ravel()
    z = special.ndtri(r)
    # Cornish-Fisher start: within a step or two of the answer, and ~10x cheaper than pdtrik.
    s: FloatArray = np.maximum(np.ceil(m + z * np.sqrt(m) + (z * z - 1.0) / 6.0 - 0.5), 0.0)
    # Walk the few misses to the exact answer with the CDF P(N <= S) = gammaincc(S + 1, mean);
    # walking up stops at the first S meeting the ratio, walking down keeps it met.
    idx = np.flatnonzero(special.gammaincc(s + 1.0, m) < r)
    while idx.size:
        s[idx] += 1.0
        idx = idx[special.gammaincc(s[idx] + 1.0, m[idx]) < r[idx]]
    idx = np.flatnonzero(s > 0)
    idx = idx[special.gammaincc(s[idx], m[idx]) >= r[idx]]
    while idx.size:
        s[idx] -= 1.0
        idx = idx[s[idx] > 0]
        idx = idx[special.gammaincc(s[idx], m[idx]) >= r[idx]]
    return s.reshape(shape)


# --------------------------------------------------------------------------- normal models


def normal_loss(z: ArrayLike) -> float | FloatArray:
    """Standard normal loss function G(z) = phi(z) - z * (1 - Phi(z)) = E[(Z - z)+]."""
    a = _arg("z", z, _REAL)
    return _out(_normal_loss(a), a.ndim == 0)


def _safety_stock_args(
    demand_mean: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    lead_time_std: ArrayLike,
    service_level: ArrayLike,
    service_type: str,
    order_quantity: ArrayLike | None,
) -> tuple[list[FloatArray], bool]:
    _check_service_type(service_type, order_quantity)
    arrays = {
        "demand_mean": _arg("demand_mean", demand_mean, _NONNEG),
        "demand_std": _arg("demand_std", demand_std, _NONNEG),
        "lead_time": _arg("lead_time", lead_time, _NONNEG),
        "lead_time_std": _arg("lead_time_std", lead_time_std, _NONNEG),
        "service_level": _arg("service_level", service_level, _PROBABILITY),
    }
    if service_type == "fill_rate":
        assert order_quantity is not None  # checked above
        arrays["order_quantity"] = _arg("order_quantity", order_quantity, _POSITIVE)
    scalar = all(a.ndim == 0 for a in arrays.values())
    return _broadcast(**arrays), scalar


def _safety_stock_kernel(service_type: str, args: list[FloatArray]) -> FloatArray:
    d, sd, lt, slt, level = args[:5]
    if service_type == "cycle":
        return _safety_stock(special.ndtri(level), d, sd, lt, slt)
    return _fill_rate_safety_stock(level, args[5], _sigma_dl(d, sd, lt, slt))


def safety_stock(
    demand_mean: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
    service_level: ArrayLike = 0.95,
    service_type: ServiceType = "cycle",
    order_quantity: ArrayLike | None = None,
) -> float | FloatArray:
    """Safety stock ``z * sigma_DL`` for a cycle service level or a fill rate (normal demand).

    ``service_type="cycle"``: z = Phi^-1(alpha), the probability of no stock-out per cycle.
    ``service_type="fill_rate"``: z solves G(z) = (1 - beta) * Q / sigma_DL, i.e. the expected
    shortage per cycle is (1 - beta) of the order quantity ``order_quantity`` (required).

    The fill-rate value is the exact textbook one and **can be negative**: when Q is large
    relative to sigma_DL, the shortage allowed per cycle, (1 - beta) * Q, exceeds G(0) * sigma_DL.
    It is deliberately not clamped at 0, so that ``reorder_point`` and ``fill_rate`` stay
    consistent with the target; clamp in the caller if a policy forbids negative safety stock.
    With sigma_DL = 0 it is the limit -(1 - beta) * Q. Cycle safety stock is negative for
    alpha < 0.5, as z is.

    Examples
    --------
    Chopra & Meindl's weekly demand N(2500, 500), two weeks' lead time, 95 % cycle service:

    >>> import supplyseg
    >>> round(supplyseg.safety_stock(2500, 500, 2, 0.0, 0.95), 1)
    1163.1
    >>> supplyseg.safety_stock([2500, 100], [500, 40], 2, 0.0, 0.95).round(1).tolist()
    [1163.1, 93.0]
    """
    args, scalar = _safety_stock_args(
        demand_mean,
        demand_std,
        lead_time,
        lead_time_std,
        service_level,
        service_type,
        order_quantity,
    )
    return _out(_safety_stock_kernel(service_type, args), scalar)


def reorder_point(
    demand_mean: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
    service_level: ArrayLike = 0.95,
    service_type: ServiceType = "cycle",
    order_quantity: ArrayLike | None = None,
) -> float | FloatArray:
    """Reorder point ``d * L + safety_stock`` (same arguments as `safety_stock`).

    Examples
    --------
    >>> import supplyseg
    >>> round(supplyseg.reorder_point(2500, 500, 2, 0.0, 0.95), 1)  # 2 x 2500 + 1163.1
    6163.1
    """
    args, scalar = _safety_stock_args(
        demand_mean,
        demand_std,
        lead_time,
        lead_time_std,
        service_level,
        service_type,
        order_quantity,
    )
    return _out(args[0] * args[2] + _safety_stock_kernel(service_type, args), scalar)


def order_up_to(
    demand_mean: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    review_period: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
    service_level: ArrayLike = 0.95,
) -> float | FloatArray:
    """Order-up-to level S of an (R, S) policy: demand over the protection interval R + L plus
    ``Phi^-1(alpha) * sqrt((R + L) * sigma_d^2 + d^2 * sigma_L^2)``.

    Examples
    --------
    >>> import supplyseg
    >>> round(supplyseg.order_up_to(2500, 500, 2, 1, 0.0, 0.95), 1)  # review every period
    8924.5
    """
    arrays = {
        "demand_mean": _arg("demand_mean", demand_mean, _NONNEG),
        "demand_std": _arg("demand_std", demand_std, _NONNEG),
        "lead_time": _arg("lead_time", lead_time, _NONNEG),
        "review_period": _arg("review_period", review_period, _NONNEG),
        "lead_time_std": _arg("lead_time_std", lead_time_std, _NONNEG),
        "service_level": _arg("service_level", service_level, _PROBABILITY),
    }
    scalar = all(a.ndim == 0 for a in arrays.values())
    d, sd, lt, r, slt, level = _broadcast(**arrays)
    protection = r + lt
    ss = _safety_stock(special.ndtri(level), d, sd, protection, slt)
    return _out(d * protection + ss, scalar)


def expected_backorders(
    demand_mean: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    safety_stock: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
) -> float | FloatArray:
    """Expected units short per replenishment cycle (ESC), ``sigma_DL * G(ss / sigma_DL)``.

    With sigma_DL = 0 demand is deterministic and the shortage is ``max(-ss, 0)``.
    """
    arrays = {
        "demand_mean": _arg("demand_mean", demand_mean, _NONNEG),
        "demand_std": _arg("demand_std", demand_std, _NONNEG),
        "lead_time": _arg("lead_time", lead_time, _NONNEG),
        "safety_stock": _arg("safety_stock", safety_stock, _REAL),
        "lead_time_std": _arg("lead_time_std", lead_time_std, _NONNEG),
    }
    scalar = all(a.ndim == 0 for a in arrays.values())
    d, sd, lt, ss, slt = _broadcast(**arrays)
    return _out(_expected_shortage(ss, _sigma_dl(d, sd, lt, slt)), scalar)


def fill_rate(
    demand_mean: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    safety_stock: ArrayLike,
    order_quantity: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
) -> float | FloatArray:
    """Achieved fill rate ``beta = 1 - ESC / Q`` of a safety stock and order quantity.

    The textbook formula goes below 0 when the expected shortage exceeds Q (a very negative
    safety stock); a fraction of demand served cannot, so the result is clipped at 0.

    Examples
    --------
    >>> import supplyseg
    >>> round(supplyseg.fill_rate(2500, 500, 2, 1163.1, 10_000), 4)  # lots of 10,000
    0.9985
    """
    arrays = {
        "demand_mean": _arg("demand_mean", demand_mean, _NONNEG),
        "demand_std": _arg("demand_std", demand_std, _NONNEG),
        "lead_time": _arg("lead_time", lead_time, _NONNEG),
        "safety_stock": _arg("safety_stock", safety_stock, _REAL),
        "order_quantity": _arg("order_quantity", order_quantity, _POSITIVE),
        "lead_time_std": _arg("lead_time_std", lead_time_std, _NONNEG),
    }
    scalar = all(a.ndim == 0 for a in arrays.values())
    d, sd, lt, ss, q, slt = _broadcast(**arrays)
    shortage = _expected_shortage(ss, _sigma_dl(d, sd, lt, slt))
    return _out(np.maximum(1.0 - shortage / q, 0.0), scalar)


# --------------------------------------------------------------------------- cost models


def eoq(
    demand_rate: ArrayLike, order_cost: ArrayLike, holding_cost: ArrayLike
) -> float | FloatArray:
    """Economic order quantity ``sqrt(2 * K * lambda / h)`` (demand and holding cost per the same
    time unit, e.g. units/year and cost/unit/year).

    Examples
    --------
    Snyder & Shen's example 3.1: 1,300 units a year, 8 per order, 0.225 per unit-year:

    >>> import supplyseg
    >>> round(supplyseg.eoq(1300, 8, 0.225), 2)
    304.05
    """
    arrays = {
        "demand_rate": _arg("demand_rate", demand_rate, _NONNEG),
        "order_cost": _arg("order_cost", order_cost, _POSITIVE),
        "holding_cost": _arg("holding_cost", holding_cost, _POSITIVE),
    }
    scalar = all(a.ndim == 0 for a in arrays.values())
    lam, k, h = _broadcast(**arrays)
    return _out(np.sqrt(2.0 * k * lam / h), scalar)


def newsvendor(
    mean: ArrayLike, std: ArrayLike, holding_cost: ArrayLike, shortage_cost: ArrayLike
) -> float | FloatArray:
    """Optimal order-up-to level for normal demand, ``mu + sigma * Phi^-1(p / (p + h))``."""
    arrays = {
        "mean": _arg("mean", mean, _NONNEG),
        "std": _arg("std", std, _NONNEG),
        "holding_cost": _arg("holding_cost", holding_cost, _POSITIVE),
        "shortage_cost": _arg("shortage_cost", shortage_cost, _POSITIVE),
    }
    scalar = all(a.ndim == 0 for a in arrays.values())
    mu, sigma, h, p = _broadcast(**arrays)
    return _out(mu + sigma * special.ndtri(p / (p + h)), scalar)


def poisson_base_stock(
    mean: ArrayLike, holding_cost: ArrayLike, shortage_cost: ArrayLike
) -> float | FloatArray:
    """Smallest base-stock level S with Poisson CDF(S; mean) >= p / (p + h) (slow movers).

    ``mean`` is the expected demand over the protection interval (lead time, plus review period
    for periodic review). The result is a whole number, returned as float.
    """
    arrays = {
        "mean": _arg("mean", mean, _NONNEG),
        "holding_cost": _arg("holding_cost", holding_cost, _POSITIVE),
        "shortage_cost": _arg("shortage_cost", shortage_cost, _POSITIVE),
    }
    scalar = all(a.ndim == 0 for a in arrays.values())
    mu, h, p = _broadcast(**arrays)
    return _out(_poisson_base_stock(mu, p / (p + h)), scalar)


# --------------------------------------------------------------------------- slow and lumpy


# Below this coefficient of variation (gamma shape above 1e10) gamma quantiles use
# Wilson-Hilferty; see gamma_reorder_point.
_WH_CV = 1e-5


def gamma_reorder_point(
    demand_mean: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
    service_level: ArrayLike = 0.95,
) -> float | FloatArray:
    """Reorder point as the alpha-quantile of a gamma fitted by moments to lead-time demand.

    Lead-time demand has mean ``d * L`` and standard deviation sigma_DL; the gamma has shape
    ``(mean / sd)^2`` and scale ``sd^2 / mean``. Zero spread gives the mean; a positive spread
    around a zero mean has no gamma and raises PolicyError.
    """
    arrays = {
        "demand_mean": _arg("demand_mean", demand_mean, _NONNEG),
        "demand_std": _arg("demand_std", demand_std, _NONNEG),
        "lead_time": _arg("lead_time", lead_time, _NONNEG),
        "lead_time_std": _arg("lead_time_std", lead_time_std, _NONNEG),
        "service_level": _arg("service_level", service_level, _PROBABILITY),
    }
    scalar = all(a.ndim == 0 for a in arrays.values())
    d, sd, lt, slt, level = _broadcast(**arrays)
    mean = d * lt
    sigma = _sigma_dl(d, sd, lt, slt)
    impossible = (mean == 0) & (sigma > 0)
    if impossible.any():
        first = int(np.argmax(impossible))
        raise PolicyError(
            f"demand_mean * lead_time: value 0.0{_index(mean, impossible)} has lead-time demand"
            f" spread {float(sigma.reshape(-1)[first])!r}, which no gamma distribution has;"
            " allowed: demand_mean * lead_time > 0 wherever the spread is > 0"
        )
    spread = sigma > 0
    cv = np.where(spread, sigma, 1.0) / np.where(spread, mean, 1.0)
    # (mean / sd)^2 overflows for a spread 1e-150 of the mean (and sd^2 underflows): from a
    # shape of 1e10 on, Wilson-Hilferty's cube-root normal matches the gamma quantile to double
    # precision, and written in cv it neither overflows nor underflows.
    near_normal = cv < _WH_CV
    shape = 1.0 / np.maximum(cv, _WH_CV) ** 2
    exact = special.gammaincinv(shape, level) / shape * mean
    z = special.ndtri(level)
    wilson_hilferty = mean * (1.0 - cv**2 / 9.0 + z * cv / 3.0) ** 3
    quantile = np.where(near_normal, wilson_hilferty, exact)
    return _out(np.where(spread, quantile, mean), scalar)


def _block_sums(
    h: FloatArray, lt: NDArray[np.int64], n_samples: int, rng: np.random.Generator
) -> FloatArray:
    """Sums of L consecutive periods at random starts (keeps autocorrelation within L)."""
    cum = np.concatenate([np.zeros((h.shape[0], 1)), np.cumsum(h, axis=1)], axis=1)
    starts = rng.integers(0, (h.shape[1] - lt + 1)[:, None], size=(h.shape[0], n_samples))
    ends = starts + lt[:, None]
    sums: FloatArray = np.take_along_axis(cum, ends, 1) - np.take_along_axis(cum, starts, 1)
    return sums


def _iid_sums(
    h: FloatArray, lt: NDArray[np.int64], n_samples: int, rng: np.random.Generator
) -> FloatArray:
    """Sums of L periods drawn independently with replacement."""
    width = int(lt.max(initial=0))
    idx = rng.integers(0, h.shape[1], size=(h.shape[0], n_samples, width))
    draws = np.take_along_axis(h[:, None, :], idx, 2)
    used = np.arange(width) < lt[:, None, None]
    sums: FloatArray = np.where(used, draws, 0.0).sum(axis=2)
    return sums


def empirical_reorder_point(
    history: ArrayLike,
    lead_time: ArrayLike,
    service_level: ArrayLike = 0.95,
    *,
    method: BootstrapMethod = "block",
    n_samples: int = 1000,
    seed: int = 0,
) -> float | FloatArray:
    """Reorder point as the alpha-quantile of bootstrapped lead-time demand (lumpy items).

    ``history``: demand per period, shape (periods,) for one item or (items, periods), periods
    without demand as 0. ``lead_time``: whole periods, scalar or one per item.
    ``method="block"`` sums L consecutive periods from random starts (needs L <= periods);
    ``"iid"`` sums L periods resampled independently. The quantile is the smallest sampled sum
    whose empirical CDF reaches alpha. Seeded: the same inputs give the same answer.
    """
    if method not in ("block", "iid"):
        raise PolicyError(f"method: value {method!r} is unknown; allowed 'block' or 'iid'")
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise PolicyError(f"n_samples: value {n_samples!r} is not allowed; allowed integers >= 1")
    hist = _arg("history", history, _NONNEG)
    if hist.ndim not in (1, 2) or hist.shape[-1] == 0:
        raise PolicyError(
            f"history: shape {hist.shape} is not allowed; allowed (periods,) or (items, periods)"
            " with at least one period"
        )
    one_item = hist.ndim == 1
    h = hist.reshape(1, -1) if one_item else hist
    n_items, n_periods = h.shape
    max_lt = n_periods if method == "block" else math.inf
    lt_arr = _arg("lead_time", lead_time, _Range(0.0, max_lt))
    fractional = lt_arr != np.floor(lt_arr)
    if fractional.any():
        v = float(lt_arr.reshape(-1)[np.argmax(fractional)])
        raise PolicyError(
            f"lead_time: value {v!r}{_index(lt_arr, fractional)} is not a whole number of"
            f" periods; allowed integers in {_Range(0.0, max_lt)}"
        )
    level_arr = _arg("service_level", service_level, _PROBABILITY)
    try:
        lt = np.broadcast_to(lt_arr, (n_items,)).astype(np.int64)
        level = np.broadcast_to(level_arr, (n_items,))
    except ValueError:
        raise PolicyError(
            f"lead_time {lt_arr.shape} and service_level {level_arr.shape} must be scalars or"
            f" one value per item ({n_items},)"
        ) from None

    # Smallest order statistic with empirical CDF >= alpha (the guard absorbs 0.95*1000 > 950).
    rank = np.clip(np.ceil(level * n_samples - 1e-9).astype(np.int64) - 1, 0, n_samples - 1)
    rng = np.random.default_rng(seed)
    draw = _block_sums if method == "block" else _iid_sums
    width = 1 if method == "block" else max(int(lt.max(initial=0)), 1)
    chunk = max(1, 4_000_000 // (n_samples * width))  # bound memory; rows are items, not a loop
    out = np.empty(n_items)
    for start in range(0, n_items, chunk):
        rows = slice(start, start + chunk)
        sums = draw(h[rows], lt[rows], n_samples, rng)
        picked = np.empty(sums.shape[0])
        # A partial sort per distinct rank (one per service level in use) beats a full sort.
        for k in np.unique(rank[rows]):
            same = rank[rows] == k
            picked[same] = np.partition(sums[same], k, axis=1)[:, k]
        out[rows] = picked
    if one_item and lt_arr.ndim == 0 and level_arr.ndim == 0:
        return float(out[0])
    return out
