"""``/promise`` (what an order could be confirmed, reserving nothing), ``/supply`` (admin:
supply changes) and ``/backorder-processing`` (admin: re-confirm open lines)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from supplyseg.service.backorders import process_backorders
from supplyseg.service.deps import CacheDep, CanPublish, CanSubmit, ReadSessionDep, SessionDep
from supplyseg.service.intake import active_policy
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.promise import promise_order, write_supply
from supplyseg.service.promise_plan import PlanCache
from supplyseg.service.promise_rules import late_promise_findings
from supplyseg.service.promise_schemas import BopOut, PromiseOut, SupplyIn, SupplyOut
from supplyseg.service.schemas import OrderIn, OrderLineOut, ReasonOut

__all__ = ["router"]

router = APIRouter(tags=["promising"])


async def get_plan_cache(request: Request) -> PlanCache:
    """The process-wide cache of allocation plans (made on first use)."""
    cache: PlanCache | None = getattr(request.app.state, "plan_cache", None)
    if cache is None:
        cache = request.app.state.plan_cache = PlanCache()
    return cache


PlanCacheDep = Annotated[PlanCache, Depends(get_plan_cache)]


@router.post("/promise")
async def promise(
    order: OrderIn,
    request: Request,
    session: ReadSessionDep,
    cache: CacheDep,
    plans: PlanCacheDep,
    principal: CanSubmit,
) -> PromiseOut:
    """Per line: the quantity that can be confirmed, when, and from which segment's
    allocation, as `POST /orders` would promise it now; nothing is stored or reserved.
    Read only: on SQLite it never waits for the write lock."""
    principal.check_customer(order.customer_id)
    if request.app.state.intake_inline:
        # SQLite: about a millisecond of local reads that never wait for a lock; inline on the
        # loop this costs less than the hop to the thread pool and back (as order intake).
        return _promise(order, session, cache, plans)
    return await run_in_threadpool(_promise, order, session, cache, plans)


def _promise(order: OrderIn, session: Session, cache: PolicyCache, plans: PlanCache) -> PromiseOut:
    policy = active_policy(session, cache)
    customer = policy.customers.get(order.customer_id)
    segment = customer.segment if customer is not None else None
    rules = policy.segments.get(segment) if segment is not None else None
    found = promise_order(
        session,
        policy.version_id,
        order,
        segment,
        rules.promising if rules else None,
        plans.get(session, policy.version_id),
    )
    promises = {p.line_no: p for p in found}
    session.rollback()  # end the read transaction at once
    lines = [
        OrderLineOut(
            line_no=ln.line_no,
            product_id=ln.product_id,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            confirmed_quantity=promises[ln.line_no].confirmed_quantity,
            promised_date=promises[ln.line_no].promised_date,
            backorder_quantity=promises[ln.line_no].backorder_quantity,
            allocation_segment=promises[ln.line_no].allocation_segment,
            location_id=promises[ln.line_no].location_id,
        )
        for ln in sorted(order.lines, key=lambda ln: ln.line_no)
    ]
    late = late_promise_findings(order, found, rules, segment) if segment is not None else []
    return PromiseOut(
        customer_id=order.customer_id,
        segment=segment,
        policy_version=policy.version_id,
        lines=lines,
        reasons=[
            ReasonOut(
                code=f.code,
                severity=f.severity,
                line_no=f.line_no,
                field=f.field,
                message=f.message,
                rule=f.rule,
                policy_version=policy.version_id,
                suggested_value=f.suggested_value,
            )
            for f in late
        ],
    )


@router.post("/supply")
def change_supply(req: SupplyIn, session: SessionDep, principal: CanPublish) -> SupplyOut:
    """Add or replace supply rows (admin); audited. Run backorder processing afterwards to
    re-confirm open lines against the new supply."""
    rows = [r.model_dump() for r in req.rows]
    written = write_supply(session, rows, replace=req.mode == "replace", actor=principal.key_id)
    session.commit()
    return SupplyOut(rows_written=written, mode=req.mode)


@router.post("/backorder-processing")
def backorder_processing(session: SessionDep, cache: CacheDep, principal: CanPublish) -> BopOut:
    """Re-confirm every open order line against current supply by its segment's strategy and
    priority (admin); every change is audited."""
    policy = cache.active(session)
    result = process_backorders(
        session, policy.version_id if policy else None, actor=principal.key_id
    )
    session.commit()
    return result
