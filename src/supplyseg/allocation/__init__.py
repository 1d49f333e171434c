"""Differentiated allocation and order promising: ATP, nested allocation by customer segment,
the allocation plan, and backorder processing (pure numpy/pandas kernels; the service calls
them)."""

from __future__ import annotations

from supplyseg.allocation.atp import atp, earliest_available, promised_period
from supplyseg.allocation.nesting import allocate_nested, booking_limits, segment_ranks
from supplyseg.allocation.plan import allocation_plan, allocation_rules, allocation_shares

__all__ = [
    "allocate_nested",
    "allocation_plan",
    "allocation_rules",
    "allocation_shares",
    "atp",
    "booking_limits",
    "earliest_available",
    "promised_period",
    "segment_ranks",
]
