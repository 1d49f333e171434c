"""``/orders``: submit one order, read, list, and record shipments (batches: `batches`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import select

from supplyseg.service.deps import (
    CacheDep,
    CanReadOrders,
    CanShip,
    CanSubmit,
    OrderId,
    QueryText,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    check_line_limits,
    run_intake,
)
from supplyseg.service.intake import submit_orders
from supplyseg.service.models import OrderRow
from supplyseg.service.resolution import record_shipment
from supplyseg.service.schemas import (
    MAX_ID,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderStatus,
    ShipmentIn,
)
from supplyseg.service.security import Principal
from supplyseg.service.views import order_view, order_views

__all__ = ["router"]

router = APIRouter(prefix="/orders", tags=["orders"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        description="Makes retries return the first result instead of creating a new order.",
    ),
]


@router.post(
    "",
    status_code=201,
    responses={200: {"description": "A retry: the stored order (Idempotent-Replayed: true)."}},
)
async def submit_order(
    order: OrderIn,
    request: Request,
    response: Response,
    cache: CacheDep,
    principal: CanSubmit,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> OrderOut:
    """Validate one order against its segment's rules and store it (201; 200 for a retry)."""
    check_line_limits(settings, order.lines, ("body",))
    [result] = await run_intake(
        request,
        submit_orders,
        cache,
        [order],
        principal=principal,
        idempotency_key=idempotency_key,
    )
    if result.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return result.order


@router.get("/{order_id}")
def get_order(order_id: OrderId, session: ReadSessionDep, principal: CanReadOrders) -> OrderOut:
    """One order with its lines and the findings of its latest validation."""
    view = order_view(session, order_id)
    principal.check_visible(view.customer_id, f"no order {order_id}")
    return view


def _visible(principal: Principal, customer_id: str | None) -> list[str] | None:
    if customer_id is not None:
        principal.check_customer(customer_id)
        return [customer_id]
    return sorted(principal.customers) if principal.customers is not None else None


@router.get("")
def list_orders(
    session: ReadSessionDep,
    principal: CanReadOrders,
    status: Annotated[OrderStatus | None, Query()] = None,
    segment: QueryText = None,
    customer_id: QueryText = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="Return orders with id > after.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OrderPage:
    """Orders by status, segment and customer, oldest first (keys see their customers only)."""
    q = select(OrderRow).where(OrderRow.id > after).order_by(OrderRow.id).limit(limit)
    if status is not None:
        q = q.where(OrderRow.status == status)
    if segment is not None:
        q = q.where(OrderRow.segment == segment)
    customers = _visible(principal, customer_id)
    if customers is not None:
        q = q.where(OrderRow.customer_id.in_(customers))
    rows = list(session.scalars(q))
    return OrderPage(
        items=order_views(session, rows), next_after=rows[-1].id if len(rows) == limit else None
    )


@router.post("/{order_id}/shipment")
def ship_order(
    order_id: OrderId,
    session: SessionDep,
    cache: CacheDep,
    principal: CanShip,
    req: ShipmentIn | None = None,
) -> OrderOut:
    """Record that an accepted or approved order shipped (audited; notifies per segment)."""
    if principal.customers is not None:
        customer = session.scalar(select(OrderRow.customer_id).where(OrderRow.id == order_id))
        if customer is not None:  # a missing order is record_shipment's 404
            principal.check_visible(customer, f"no order {order_id}")
    return record_shipment(session, cache, order_id, req or ShipmentIn(), actor=principal.key_id)
