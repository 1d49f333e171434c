"""Ending an order before it ships: cancellation, and the one place an order gives back what it
holds.

An accepted or approved order is *open* (`OPEN_STATUSES`): it counts against its customer's
credit limit until it ships or is cancelled. Cancelling moves it to ``cancelled``, which no check
counts, so the customer's later credit checks see the exposure released at once. Everything an
open order holds is given back in `release_order_commitments`, called by every path on which an
open order ends without shipping; what it released goes into the audit row.

Cancelling is idempotent: cancelling a cancelled order changes nothing and answers the order as
it stands. A shipped order cannot be cancelled (409; the goods have left, the ERP books a return);
an order in the exception queue is rejected through its exception instead, so the queue never
holds an exception of a closed order. An open order may still have an open exception: backorder
processing raises ``late_promise`` on an accepted order without taking its reservations
(`supplyseg.service.promise_exceptions`); cancelling or shipping it closes that exception
(`close_open_exceptions`, resolution ``cancelled`` or ``shipped``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from supplyseg.service.events import OrderRef, record_order_change
from supplyseg.service.intake import OPEN_STATUSES, active_policy
from supplyseg.service.models import Audit, OrderException, OrderRow
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import ConflictError, NotFoundError
from supplyseg.service.promise import release_reservations
from supplyseg.service.schemas import CancelIn, OrderOut
from supplyseg.service.security import Principal
from supplyseg.service.views import order_view

__all__ = [
    "CANCELLABLE",
    "cancel_order",
    "close_open_exceptions",
    "lock_open_exceptions",
    "release_order_commitments",
]

CANCELLABLE = OPEN_STATUSES

# Why each other status cannot be cancelled, and what to do instead.
_NOT_CANCELLABLE = {
    "shipped": "it has shipped; fix: book a return in the ERP",
    "exception": "it waits in the exception queue; fix: resolve its exception with reject",
    "rejected": "it was rejected and holds nothing",
}


def release_order_commitments(session: Session, order: OrderRow, *, at: datetime) -> dict[str, Any]:
    """Give back what the open ``order`` holds, before its status leaves `OPEN_STATUSES`.

    Returns what was released, for the audit row. Credit exposure is counted from the orders'
    statuses (`supplyseg.service.intake.DbFacts.open_order_value`), so it is released by the
    status change that follows; this records how much. Anything else an open order comes to
    hold (stock reservations of order promising) is released here, in the caller's transaction.
    """
    del at  # the credit exposure needs no write of its own
    credit = order.total_value if order.status in OPEN_STATUSES else 0.0
    return {
        "credit_released": credit,
        "reserved_lines_released": release_reservations(session, order.id),
    }


def lock_open_exceptions(session: Session, order_id: int) -> None:
    """Lock the open exceptions of ``order_id`` (PostgreSQL) before the order row: resolving
    an exception takes the exception, then the order, then its reservations, and backorder
    processing the exception before the reservations; taking them in that order everywhere
    keeps concurrent changes of one order from deadlocking."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(
            select(OrderException.id)
            .where(OrderException.order_id == order_id, OrderException.status == "open")
            .order_by(OrderException.id)
            .with_for_update()
        )


def close_open_exceptions(
    session: Session,
    order_id: int,
    *,
    resolution: str,
    actor: str,
    at: datetime,
    comment: str,
) -> list[int]:
    """Resolve the open exceptions of ``order_id`` with ``resolution`` (not a person's decision:
    the order was cancelled or shipped, or backorder processing found its late lines in time
    again), one audit row each; returns their ids. Conditional like a person's resolution, so
    one that was resolved meanwhile is left alone. The caller commits."""
    ids = list(
        session.scalars(
            select(OrderException.id)
            .where(OrderException.order_id == order_id, OrderException.status == "open")
            .order_by(OrderException.id)
        )
    )
    closed = []
    for exception_id in ids:
        done = session.execute(
            update(OrderException)
            .where(OrderException.id == exception_id, OrderException.status == "open")
            .values(
                status="resolved",
                resolved_at=at,
                resolution=resolution,
                resolved_by=actor,
                comment=comment,
            )
        )
        if done.rowcount:  # type: ignore[attr-defined]
            closed.append(exception_id)
            audit_resolution(session, exception_id, resolution, actor=actor, at=at, comment=comment)
    return closed


def audit_resolution(
    session: Session,
    exception_id: int,
    resolution: str,
    *,
    actor: str,
    at: datetime,
    comment: str | None,
) -> None:
    """The audit row of an exception resolved with ``resolution``."""
    session.execute(
        insert(Audit).values(
            at=at,
            actor=actor,
            entity="exception",
            entity_id=str(exception_id),
            action="resolve",
            before={"status": "open"},
            after={"status": "resolved", "resolution": resolution},
            comment=comment,
        )
    )


def cancel_order(
    session: Session,
    cache: PolicyCache,
    order_id: int,
    req: CancelIn,
    *,
    principal: Principal,
) -> tuple[OrderOut, bool]:
    """Cancel an open order (audit, notification) and commit; returns (order view, changed).

    ``changed`` is False when the order was already cancelled (nothing written). An order the
    caller's key is not bound to is answered like a missing one (`NotFoundError`).
    """
    lock_open_exceptions(session, order_id)
    order = session.get(OrderRow, order_id, with_for_update=True)
    if order is None or not principal.may_access(order.customer_id):
        raise NotFoundError(f"no order {order_id}")
    if order.status == "cancelled":
        return order_view(session, order_id), False
    if order.status not in CANCELLABLE:
        why = _NOT_CANCELLABLE.get(order.status, f"only {list(CANCELLABLE)} orders can")
        raise ConflictError(
            f"order {order_id} is {order.status} and cannot be cancelled: {why}",
            code="not_cancellable",
        )
    policy = active_policy(session, cache)
    now = datetime.now(UTC)
    before = {"status": order.status, "total_value": order.total_value}
    closed = close_open_exceptions(
        session,
        order.id,
        resolution="cancelled",
        actor=principal.key_id,
        at=now,
        comment=req.comment or "order cancelled",
    )
    released = release_order_commitments(session, order, at=now)
    if closed:
        released["exceptions_closed"] = closed
    order.status = "cancelled"
    order.updated_at = now
    session.flush()
    record_order_change(
        session,
        OrderRef(order.id, order.customer_id, order.po_number, order.segment, order.policy_version),
        action="cancel",
        actor=principal.key_id,
        at=now,
        before=before,
        after={"status": "cancelled", **released},
        events=("cancelled",),
        rules=policy.segments.get(order.segment) if order.segment else None,
        comment=req.comment,
    )
    session.commit()
    return order_view(session, order_id), True
