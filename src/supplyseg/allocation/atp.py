"""Discrete available-to-promise (ATP) with backward consumption, and the earliest period a
quantity can be promised.

ATP per period is supply minus demand (committed orders) in that period, where a period whose
demand exceeds its supply consumes the ATP of earlier periods, latest first; what earlier periods
cannot cover stays negative in its period (Oracle Global Order Promising, "ATP based on planned
output / discrete ATP with backward consumption"). There is no forward consumption: a shortfall
is never covered by a later receipt, because a later receipt cannot serve an earlier commitment.

The kernels take 1-D arrays (one product) or 2-D arrays (rows = products, columns = periods) and
need no loop over periods: backward consumption is bracket matching (a supply unit is an opening
bracket, a demand unit a closing one matched with the latest unmatched opening), so

- what stays positive in period t is ``U(t) - U(t+1)`` with ``U(t)`` the unmatched supply of the
  suffix starting at t: ``S(t, end) - min(0, min_s S(t, s))``, ``S`` the suffix sums of net;
- what stays negative is the growth of the prefix's unmatched demand, ``-min(0, min_{s<=t} C_s)``
  with ``C`` the cumulative net.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from supplyseg.errors import PolicyError

__all__ = ["atp", "earliest_available", "promised_period"]

FloatArray = npt.NDArray[np.float64]
# Quantities are float; cumulative sums of many float receipts differ from exact by ~1e-9.
_EPS = 1e-9


def _as_periods(name: str, values: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise PolicyError(
            f"{name}: {arr.ndim}-D array; give one value per period (1-D) or one row per"
            " product (2-D: rows = products, columns = periods)"
        )
    if not np.isfinite(arr).all():
        raise PolicyError(f"{name}: contains NaN or infinity; give a finite quantity per period")
    return arr


def _atp(supply: FloatArray, demand: FloatArray) -> FloatArray:
    """Backward-consumption ATP along the last axis (no validation)."""
    net = supply - demand
    cum = np.cumsum(net, axis=-1)
    zeros = np.zeros((*net.shape[:-1], 1))
    before = np.concatenate([zeros, cum[..., :-1]], axis=-1)  # C_{t-1}
    rev_min = np.flip(np.minimum.accumulate(np.flip(cum, axis=-1), axis=-1), axis=-1)
    total = cum[..., -1:]
    unmatched_supply = total - before - np.minimum(0.0, rev_min - before)  # U(t)
    kept = unmatched_supply - np.concatenate([unmatched_supply[..., 1:], zeros], axis=-1)
    unmatched_demand = -np.minimum(0.0, np.minimum.accumulate(cum, axis=-1))
    short = np.diff(unmatched_demand, axis=-1, prepend=0.0)
    result: FloatArray = kept - short
    result[np.abs(result) < _EPS] = 0.0
    return result


def atp(supply: npt.ArrayLike, demand: npt.ArrayLike) -> FloatArray:
    """Available-to-promise per period: supply minus demand with backward consumption.

    ``supply`` and ``demand`` are quantities per period, same shape, 1-D (one product) or 2-D
    (rows = products). Negative entries are allowed (e.g. a correction) and enter the net.
    A negative result is a shortfall no earlier period can cover.

    >>> atp([6, 4, 2, 4, 8, 4, 4, 4], [6, 2, 3, 6, 6, 1, 2, 2]).tolist()
    [0.0, 0.0, 0.0, -1.0, 2.0, 3.0, 2.0, 2.0]
    """
    s = _as_periods("supply", supply)
    d = _as_periods("demand", demand)
    if s.shape != d.shape:
        raise PolicyError(
            f"supply shape {s.shape} and demand shape {d.shape} differ; give one value per"
            " period (and product) in both"
        )
    if s.shape[-1] == 0:
        return np.zeros(s.shape)
    return _atp(s, d)


def _available_from(atp_: FloatArray) -> FloatArray:
    """Quantity promisable in each period: min of cumulative ATP over that and later periods."""
    cum = np.cumsum(atp_, axis=-1)
    out: FloatArray = np.flip(np.minimum.accumulate(np.flip(cum, axis=-1), axis=-1), axis=-1)
    return out


def earliest_available(atp_: npt.ArrayLike, quantity: float) -> int | None:
    """The first period p with ``min(cumulative ATP over periods q >= p) >= quantity``.

    Promising ``quantity`` in p uses the ATP of p and of earlier periods (stock carried forward)
    while every later period keeps what its commitments need. None when no period has it (the
    quantity exceeds what the horizon can supply).

    >>> earliest_available([0, 0, 0, -1, 2, 3, 2, 2], 4)
    5
    """
    arr = _as_periods("atp", atp_)
    if arr.ndim != 1:
        raise PolicyError("atp: give the ATP of one product (1-D, one value per period)")
    q = float(quantity)
    if not (q > 0 and np.isfinite(q)):
        raise PolicyError(f"quantity: {quantity!r}; allowed: a finite number > 0")
    if arr.size == 0:
        return None
    hits = np.flatnonzero(_available_from(arr) >= q - _EPS)
    return int(hits[0]) if hits.size else None


def promised_period(atp_: npt.ArrayLike, quantity: float, requested: int) -> int | None:
    """The period ``quantity`` can be promised for when requested in period ``requested``: the
    later of the requested period and `earliest_available` (None when it never is)."""
    if requested < 0:
        raise PolicyError(f"requested: period {requested}; allowed: >= 0 (an index of atp)")
    first = earliest_available(atp_, quantity)
    return None if first is None else max(first, requested)
