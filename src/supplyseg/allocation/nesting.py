"""Nested booking limits: capacity shared by customer segments ranked by priority.

Standard nesting (Talluri & van Ryzin, *The Theory and Practice of Revenue Management*, 2004,
§2.1): segments are ranked, highest first; the protection level of rank k is
``y_k = capacity * (sum of the shares of ranks 1..k)``, the capacity kept for rank k and the
ranks above it; the booking limit ``b_k = capacity - y_{k-1}`` (``b_1 = capacity``) caps what
rank k *and every lower rank* may book together. A request of rank k gets what every limit of
ranks 1..k still has room for, so a lower segment never eats into the protection of a higher one,
while a higher segment may use any capacity left. The lowest rank's own share is therefore
irrelevant: it gets what the others do not protect.

Segments with equal priority share one rank (one protection level, first come first served).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplyseg.data.contract import require_columns
from supplyseg.errors import PolicyError

__all__ = [
    "allocate_nested",
    "booking_limits",
    "nested_room",
    "protection_by_level",
    "segment_ranks",
]

FloatArray = npt.NDArray[np.float64]
_EPS = 1e-9


def segment_ranks(priority: Sequence[str] | Mapping[str, int]) -> dict[str, int]:
    """Rank (0 = highest) of each segment: a sequence is ranked in order, highest first; a
    mapping segment -> priority number (1 = served first) ranks equal numbers together."""
    if isinstance(priority, Mapping):
        if not priority:
            raise PolicyError("priority: empty; give at least one segment")
        levels = sorted(set(priority.values()))
        return {str(s): levels.index(p) for s, p in priority.items()}
    if isinstance(priority, str):
        raise PolicyError(
            f"priority: the string {priority!r}; give a list of segments, highest first"
        )
    names = [str(s) for s in priority]
    if not names or len(set(names)) != len(names):
        raise PolicyError(
            f"priority: {names!r}; give each segment once, highest first (at least one)"
        )
    return {s: i for i, s in enumerate(names)}


def _shares_by_rank(shares: Mapping[str, float], ranks: dict[str, int]) -> FloatArray:
    missing = sorted(set(ranks) - set(shares))
    if missing:
        raise PolicyError(f"shares: no share for segment(s) {missing}; give one per segment")
    extra = sorted(set(shares) - set(ranks))
    if extra:
        raise PolicyError(f"shares: segment(s) {extra} have no priority; add them to priority")
    values = np.array([float(shares[s]) for s in ranks])
    if not np.isfinite(values).all() or (values < 0).any():
        raise PolicyError(f"shares: {dict(shares)!r}; allowed: finite numbers >= 0")
    if values.sum() > 1 + 1e-6:
        raise PolicyError(
            f"shares: sum {values.sum():g} > 1; allowed: shares of capacity summing to at most 1"
        )
    out = np.zeros(max(ranks.values()) + 1)
    np.add.at(out, np.array(list(ranks.values())), values)
    return out


def booking_limits(capacity: float, rank_shares: npt.ArrayLike) -> FloatArray:
    """Booking limit per rank (highest first): ``capacity - y_{k-1}``, never below 0."""
    shares = np.asarray(rank_shares, dtype=np.float64)
    cap = max(float(capacity), 0.0)
    protection = cap * np.cumsum(shares)
    above = np.concatenate([[0.0], protection[:-1]])
    out: FloatArray = np.maximum(cap - above, 0.0)
    return out


def protection_by_level(
    capacity: float,
    shares: Mapping[str, tuple[int, float]],
    kept: Mapping[str, float],
    booked: Mapping[str | None, float],
    left: float,
) -> FloatArray:
    """Quantity protected for each priority level alone (levels = the distinct priorities of
    ``shares``, highest first), the ``protected`` of `nested_room`.

    ``shares``: segment -> (priority, share of capacity); ``kept``: segment -> quantity a fill
    target protects over the whole horizon (`supplyseg.allocation.protection`), which replaces
    its share; ``booked``: what each segment has booked; ``left``: the part of the horizon
    still ahead. A kept quantity protects what the segment booked plus ``left`` of itself
    (expected demand and its spread both scale with time); a share protects ``share *
    capacity``.
    """
    levels = sorted({p for p, _ in shares.values()})
    out = np.zeros(len(levels))
    for name, (prio, share) in shares.items():
        quantity = kept.get(name)
        out[levels.index(prio)] += (
            share * capacity if quantity is None else booked.get(name, 0.0) + left * quantity
        )
    return out


def nested_room(
    capacity: float, protected: npt.ArrayLike, booked: npt.ArrayLike, rank: int
) -> float:
    """What rank ``rank`` may still book: the least room of the booking limits of the ranks at
    and above it, each limit minus what that rank and the lower ones have booked.

    ``protected[i]``: the quantity protected for rank i alone (the protection level of rank k is
    ``min(capacity, sum of protected[0..k])``); ``booked[i]``: what rank i has booked. With
    ``protected = capacity * shares`` this is the room `allocate_nested` grants from.
    """
    cap = max(float(capacity), 0.0)
    level = np.minimum(np.cumsum(np.asarray(protected, dtype=np.float64)), cap)
    limits = cap - np.concatenate([[0.0], level[:-1]])
    booked_here_or_below = np.cumsum(np.asarray(booked, dtype=np.float64)[::-1])[::-1]
    return float((limits[: rank + 1] - booked_here_or_below[: rank + 1]).min())


def _allocate(
    limits: FloatArray, ranks: npt.NDArray[np.integer[Any]], asked: FloatArray
) -> FloatArray:
    """Grants in arrival order: rank k gets what room every limit of ranks <= k still has.

    ``room[i]`` is ``b_i`` minus what ranks >= i have booked; a grant to rank k uses room at
    every ``i <= k``. Sequential by nature (each grant depends on the earlier ones)."""
    room = limits.copy()
    granted = np.zeros(asked.size)
    for j in range(asked.size):
        k = ranks[j] + 1
        g = min(asked[j], room[:k].min())
        if g > _EPS:
            granted[j] = g
            room[:k] -= g
    return granted


def allocate_nested(
    capacity: float,
    requests: pd.DataFrame,
    shares: Mapping[str, float],
    priority: Sequence[str] | Mapping[str, int],
) -> FloatArray:
    """Granted quantity per request under nested booking limits (see the module docstring).

    ``requests`` has columns ``segment, quantity`` in arrival order; ``shares`` maps each segment
    to its share of ``capacity`` (summing to at most 1); ``priority`` ranks the segments (a list,
    highest first, or a mapping to priority numbers, 1 = first). Capacity below 0 counts as 0.

    >>> req = pd.DataFrame({"segment": ["bronze", "silver", "gold"], "quantity": [30, 40, 60]})
    >>> shares = {"gold": 0.5, "silver": 0.3, "bronze": 0.2}
    >>> allocate_nested(100, req, shares, ["gold", "silver", "bronze"]).tolist()
    [20.0, 30.0, 50.0]
    """
    cap = float(capacity)
    if not np.isfinite(cap):
        raise PolicyError(f"capacity: {capacity!r}; allowed: a finite number")
    req = require_columns("requests", requests, ("segment", "quantity"))
    ranks = segment_ranks(priority)
    limits = booking_limits(cap, _shares_by_rank(shares, ranks))
    asked = pd.to_numeric(req["quantity"], errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(asked).all() or (asked < 0).any():
        raise PolicyError("requests.quantity: NaN, infinite or negative; allowed: numbers >= 0")
    seg = req["segment"].astype(str)
    unknown = sorted(set(seg) - set(ranks))
    if unknown:
        raise PolicyError(
            f"requests.segment: {unknown[:5]} not ranked; allowed: {sorted(ranks)} (add them"
            " to priority and shares)"
        )
    rank_of = seg.map(ranks).to_numpy(dtype=np.int64)
    return _allocate(limits, rank_of, asked)
