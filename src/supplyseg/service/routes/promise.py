"""``/promise`` (what an order could be confirmed, reserving nothing), ``/supply`` (admin:
supply changes) and ``/backorder-processing`` (admin: re-confirm open lines)."""

from __future__ import annotations

from fastapi import APIRouter

from supplyseg.service.backorders import process_backorders
from supplyseg.service.deps import CacheDep, CanPublish, CanSubmit, SessionDep
from supplyseg.service.intake import active_policy
from supplyseg.service.promise import promise_order, write_supply
from supplyseg.service.promise_rules import late_promise_findings
from supplyseg.service.promise_schemas import BopOut, PromiseOut, SupplyIn, SupplyOut
from supplyseg.service.schemas import OrderIn, OrderLineOut, ReasonOut

__all__ = ["router"]

router = APIRouter(tags=["promising"])


@router.post("/promise")
def promise(
    order: OrderIn, session: SessionDep, cache: CacheDep, principal: CanSubmit
) -> PromiseOut:
    """Per line: the quantity that can be confirmed, when, and from which segment's
    allocation, as `POST /orders` would promise it now; nothing is stored or reserved."""
    principal.check_customer(order.customer_id)
    policy = active_policy(session, cache)
    customer = policy.customers.get(order.customer_id)
    segment = customer.segment if customer is not None else None
    rules = policy.segments.get(segment) if segment is not None else None
    found = promise_order(
        session, policy.version_id, order, segment, rules.promising if rules else None
    )
    promises = {p.line_no: p for p in found}
    session.rollback()  # read only: end the transaction (and SQLite's write lock) at once
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
