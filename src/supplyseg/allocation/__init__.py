"""Differentiated allocation and order promising: ATP, nested allocation by customer segment,
the allocation plan, supply events, and backorder processing (pure numpy/pandas kernels; the
service calls them; HiGHS is imported only when backorder processing solves its LP)."""

from __future__ import annotations

from supplyseg.allocation.atp import atp, earliest_available, promised_period
from supplyseg.allocation.backorder import STRATEGIES, backorder_processing
from supplyseg.allocation.nesting import (
    allocate_nested,
    booking_limits,
    nested_room,
    protection_by_level,
    segment_ranks,
)
from supplyseg.allocation.plan import allocation_plan, allocation_rules, allocation_shares
from supplyseg.allocation.supply import supply_events, supply_periods, supply_table

__all__ = [
    "STRATEGIES",
    "allocate_nested",
    "allocation_plan",
    "allocation_rules",
    "allocation_shares",
    "atp",
    "backorder_processing",
    "booking_limits",
    "earliest_available",
    "nested_room",
    "promised_period",
    "protection_by_level",
    "segment_ranks",
    "supply_events",
    "supply_periods",
    "supply_table",
]
