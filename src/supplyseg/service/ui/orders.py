"""Orders: search, and one order with its lines (promise fields included), findings, status
history (the audit trail) and the notifications sent about it."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from supplyseg.service.deps import ReadSessionDep
from supplyseg.service.models import Audit, OrderException, OrderRow, Outbox
from supplyseg.service.schemas import MAX_ID, OrderOut, OrderStatus
from supplyseg.service.ui.auth import UiUser
from supplyseg.service.ui.render import current_user, page, require
from supplyseg.service.views import exception_views, order_view, order_views, utc

__all__ = ["order_history", "router", "search_orders"]

router = APIRouter(prefix="/ui/orders", include_in_schema=False)
UserDep = Annotated[UiUser, Depends(current_user)]
PAGE_ROWS = 200
STATUSES: tuple[str, ...] = get_args(OrderStatus)


def search_orders(
    session: Session, user: UiUser, text: str, status: str | None, segment: str | None
) -> list[OrderOut]:
    """Orders the key may see whose id, PO number (prefix) or customer id matches ``text``,
    newest first."""
    q = select(OrderRow).order_by(OrderRow.id.desc()).limit(PAGE_ROWS)
    text = text.strip()
    if text:
        like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        match = [OrderRow.po_number.like(like, escape="\\"), OrderRow.customer_id == text]
        if text.isdigit() and 1 <= int(text) <= MAX_ID:
            match.append(OrderRow.id == int(text))
        q = q.where(or_(*match))
    if status:
        q = q.where(OrderRow.status == status)
    if segment:
        q = q.where(OrderRow.segment == segment)
    if user.principal.customers is not None:
        q = q.where(OrderRow.customer_id.in_(sorted(user.principal.customers)))
    return order_views(session, list(session.scalars(q)))


def order_history(session: Session, order_id: int) -> list[dict[str, Any]]:
    """Audit rows of the order and of its exceptions, oldest first."""
    exception_ids = [
        str(i)
        for i in session.scalars(
            select(OrderException.id).where(OrderException.order_id == order_id)
        )
    ]
    rows = session.scalars(
        select(Audit)
        .where(
            or_(
                and_(Audit.entity == "order", Audit.entity_id == str(order_id)),
                and_(Audit.entity == "exception", Audit.entity_id.in_(exception_ids)),
            )
        )
        .order_by(Audit.at, Audit.id)
    )
    return [
        {
            "at": utc(a.at),
            "actor": a.actor,
            "entity": a.entity,
            "entity_id": a.entity_id,
            "action": a.action,
            "status_before": (a.before or {}).get("status"),
            "status_after": (a.after or {}).get("status"),
            "resolution": (a.after or {}).get("resolution"),
            "comment": a.comment,
        }
        for a in rows
    ]


@router.get("")
def order_search(
    request: Request,
    user: UserDep,
    session: ReadSessionDep,
    q: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    segment: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The search form and the matching orders."""
    require(user, "orders:read")
    rows = search_orders(session, user, q, status or None, segment or None)
    return page(
        request,
        "orders.html",
        user,
        title="Orders",
        rows=rows,
        form={"q": q, "status": status, "segment": segment},
        statuses=STATUSES,
        limit=PAGE_ROWS,
    )


@router.get("/{order_id}")
def order_detail(
    request: Request,
    order_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    user: UserDep,
    session: ReadSessionDep,
) -> Response:
    """One order: lines with promise fields, findings, history and notifications."""
    require(user, "orders:read")
    order = order_view(session, order_id)
    user.principal.check_visible(order.customer_id, f"no order {order_id}")
    notifications = (
        list(session.scalars(select(Outbox).where(Outbox.order_id == order_id).order_by(Outbox.id)))
        if user.principal.can("notifications:read")
        else []
    )
    exceptions = exception_views(
        session,
        list(
            session.scalars(
                select(OrderException)
                .where(OrderException.order_id == order_id)
                .order_by(OrderException.id)
            )
        ),
    )
    return page(
        request,
        "order.html",
        user,
        title=f"Order {order_id}",
        order=order,
        history=order_history(session, order_id),
        notifications=notifications,
        exceptions=exceptions,
        can_see_exceptions=user.principal.can("exceptions:read"),
    )
