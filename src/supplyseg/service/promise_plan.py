"""The allocation plan of a policy version held in memory for order promising.

A version's plan (``allocation_products`` and ``allocation_shares``) is written once, with the
version (`supplyseg.service.promise.publish_allocation`), so ``POST /promise`` can keep it per
version instead of reading it on every request. An empty plan is not kept: a plan written
after its version became active (as tests and scripts may do) is then seen at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from supplyseg.service.models import Base
from supplyseg.service.promise_models import (
    AllocationProduct,
    AllocationProtection,
    AllocationShare,
)

__all__ = ["Plan", "PlanCache", "load_plan"]

_shares = Base.metadata.tables[AllocationShare.__tablename__]
_products = Base.metadata.tables[AllocationProduct.__tablename__]
_protection = Base.metadata.tables[AllocationProtection.__tablename__]
_ALL_PRODUCTS = select(_products.c.product_id, _products.c.product_segment).where(
    _products.c.version_id == bindparam("vid")
)
_SOME_PRODUCTS = _ALL_PRODUCTS.where(_products.c.product_id.in_(bindparam("pids", expanding=True)))
_SHARES = select(
    _shares.c.product_segment, _shares.c.customer_segment, _shares.c.priority, _shares.c.share
).where(_shares.c.version_id == bindparam("vid"))
_ALL_PROTECTED = select(
    _protection.c.product_id,
    _protection.c.customer_segment,
    _protection.c.protected_quantity,
    _protection.c.horizon_start,
    _protection.c.horizon_end,
).where(_protection.c.version_id == bindparam("vid"))
_SOME_PROTECTED = _ALL_PROTECTED.where(
    _protection.c.product_id.in_(bindparam("pids", expanding=True))
)


@dataclass(frozen=True)
class Plan:
    """Product segment per product, per product segment each customer segment's (priority,
    share), and per product the quantities protected for segments with a fill target and the
    horizon (first and last day) they protect."""

    segment_of: dict[str, str]
    shares: dict[str, dict[str, tuple[int, float]]]
    protected: dict[str, dict[str, float]] = field(default_factory=dict)
    horizon: dict[str, tuple[date, date]] = field(default_factory=dict)

    def of(self, product_id: str) -> dict[str, tuple[int, float]] | None:
        """The shares that apply to ``product_id`` (None: outside the plan, no nesting)."""
        seg = self.segment_of.get(product_id)
        return None if seg is None else self.shares.get(seg)

    def protection(self, product_id: str) -> tuple[dict[str, float], tuple[date, date] | None]:
        """Customer segment -> quantity of ``product_id`` protected for it (by fill target),
        and the horizon the quantities are for."""
        return self.protected.get(product_id, {}), self.horizon.get(product_id)


def load_plan(session: Session, version_id: str, product_ids: Sequence[str] | None = None) -> Plan:
    """The plan of ``version_id`` (for ``product_ids`` only, when given)."""
    conn = session.connection()
    if product_ids is None:
        rows = conn.execute(_ALL_PRODUCTS, {"vid": version_id})
    else:
        rows = conn.execute(_SOME_PRODUCTS, {"vid": version_id, "pids": sorted(set(product_ids))})
    segment_of = {str(p): str(s) for p, s in rows}
    shares: dict[str, dict[str, tuple[int, float]]] = defaultdict(dict)
    if segment_of:
        wanted = set(segment_of.values())
        for s in conn.execute(_SHARES, {"vid": version_id}):
            if s.product_segment in wanted:
                shares[s.product_segment][s.customer_segment] = (int(s.priority), float(s.share))
    protected: dict[str, dict[str, float]] = defaultdict(dict)
    horizon: dict[str, tuple[date, date]] = {}
    if segment_of:
        if product_ids is None:
            found = conn.execute(_ALL_PROTECTED, {"vid": version_id})
        else:
            found = conn.execute(
                _SOME_PROTECTED, {"vid": version_id, "pids": sorted(set(product_ids))}
            )
        for p, seg, qty, start, end in found:
            protected[str(p)][str(seg)] = float(qty)
            horizon[str(p)] = (start, end)
    return Plan(segment_of, dict(shares), dict(protected), horizon)


class PlanCache:
    """Whole plans of the last few versions (see the module docstring)."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._plans: OrderedDict[str, Plan] = OrderedDict()

    def get(self, session: Session, version_id: str) -> Plan:
        """The plan of ``version_id``, read once while it is not empty."""
        plan = self._plans.get(version_id)
        if plan is not None:
            return plan
        plan = load_plan(session, version_id)
        if plan.segment_of:
            with self._lock:
                self._plans[version_id] = plan
                while len(self._plans) > self._size:
                    self._plans.popitem(last=False)
        return plan
