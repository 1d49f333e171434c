"""Resolving exceptions (approve, reject, amend) and recording shipments, with a full audit trail.

An exception is closed by a conditional UPDATE (``WHERE status = 'open'``), so two operators
resolving the same exception at once cannot both succeed: the second gets 409. ``amend`` changes
the order and re-validates the whole amended order against the active policy (the order itself is
left out of its own credit exposure and duplicate-PO check); if it still fails, a new exception
is opened for the new validation round.

Supply follows the order as in ``POST /orders``, with the same functions, customer lock and
product locks (`lock_customer`, `validation_with_promise`, `reserve_order`), so parallel
approvals never promise the same last units twice:

- ``approve`` reserves what the order's lines can be promised now (its segment's promising
  rules, no lateness check: the person accepted the order as it is). An order that already
  holds reservations keeps them (backorder processing's ``late_promise`` on an accepted order,
  `supplyseg.service.promise_exceptions`: approving accepts the later date).
- ``reject`` releases whatever the order holds (`release_order_commitments`).
- ``amend`` drops the order's promises and promises the amended lines anew; a promise later than
  the segment's ``max_lateness_days`` makes it a ``late_promise`` exception again (holding
  nothing), otherwise the order is accepted and reserves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from supplyseg.policy.document import STATUS_EVENTS, SegmentRules, StatusEvent
from supplyseg.service.events import OrderRef, record_order_change
from supplyseg.service.intake import (
    DbFacts,
    active_policy,
    lock_customer,
    open_exception,
    store_findings,
    validation_with_promise,
)
from supplyseg.service.lifecycle import (
    audit_resolution,
    close_open_exceptions,
    lock_open_exceptions,
    release_order_commitments,
)
from supplyseg.service.models import OrderException, OrderLine, OrderRow
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import ConflictError, NotFoundError, UnprocessableError
from supplyseg.service.promise import (
    drop_promises,
    line_promises,
    reserve_order,
    reserved_lines,
    ship_reservations,
    write_reservations,
)
from supplyseg.service.schemas import (
    ExceptionOut,
    OrderIn,
    OrderLineIn,
    OrderOut,
    ResolveIn,
    ShipmentIn,
)
from supplyseg.service.validation import CompiledPolicy, validate_order
from supplyseg.service.views import exception_views, order_view

__all__ = ["SHIPPABLE", "record_shipment", "resolve_exception"]

SHIPPABLE = ("accepted", "accepted_with_warnings", "approved")


def _snapshot(session: Session, order: OrderRow) -> dict[str, Any]:
    lines = session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no)
    )
    promises = line_promises(session, [order.id])
    out = []
    for ln in lines:
        line: dict[str, Any] = {
            "line_no": ln.line_no,
            "product_id": ln.product_id,
            "quantity": ln.quantity,
            "unit_price": ln.unit_price,
        }
        if ln.location_id is not None:
            line["location_id"] = ln.location_id
        p = promises.get((order.id, ln.line_no))
        if p is not None and p.status == "open":  # what the line holds
            line["confirmed_quantity"] = p.confirmed_quantity
            line["promised_date"] = None if p.promised_date is None else str(p.promised_date)
        out.append(line)
    return {
        "status": order.status,
        "requested_date": order.requested_date.isoformat(),
        "ship_to_id": order.ship_to_id,
        "total_value": order.total_value,
        "validation_round": order.validation_round,
        "lines": out,
    }


def _stored_lines(session: Session, order: OrderRow) -> dict[int, OrderLineIn]:
    return {
        ln.line_no: OrderLineIn(
            line_no=ln.line_no,
            product_id=ln.product_id,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            location_id=ln.location_id,
        )
        for ln in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
    }


def _order_in(order: OrderRow, lines: dict[int, OrderLineIn], req: ResolveIn | None) -> OrderIn:
    """The order as a submission (amended by ``req`` when given)."""
    return OrderIn(
        customer_id=order.customer_id,
        po_number=order.po_number,
        channel=order.channel,
        order_date=order.order_date,
        requested_date=(req.requested_date if req else None) or order.requested_date,
        ship_to_id=req.ship_to_id if req and req.ship_to_id is not None else order.ship_to_id,
        lines=[lines[n] for n in sorted(lines)],
    )


def _reserve_approved(
    session: Session, policy: CompiledPolicy, order: OrderRow, now: datetime
) -> dict[str, Any]:
    """Reserve what the approved ``order`` can be promised now, as ``POST /orders`` reserves an
    accepted one (see the module docstring); returns what for the audit row."""
    held = reserved_lines(session, order.id)
    if held:
        return {"reservations_kept": held}
    lock_customer(session, policy, order.customer_id)
    rules = _rules(policy, order.segment)
    promises = reserve_order(
        session,
        policy.version_id,
        order.id,
        _order_in(order, _stored_lines(session, order), None),
        order.segment,
        now,
        rules.promising if rules else None,
    )
    return {"reserved_lines": sum(1 for p in promises if p.confirmed_quantity > 0)}


def _event(status: str) -> StatusEvent:
    for event in STATUS_EVENTS:
        if event == status:
            return event
    raise ValueError(f"status {status!r} is not a status event")


def _rules(policy: CompiledPolicy, segment: str | None) -> SegmentRules | None:
    return policy.segments.get(segment) if segment else None


def resolve_exception(
    session: Session, cache: PolicyCache, exception_id: int, req: ResolveIn, *, actor: str
) -> tuple[ExceptionOut, OrderOut]:
    """Apply ``req`` to an open exception and commit; returns (exception view, order view)."""
    exc = session.get(OrderException, exception_id)
    if exc is None:
        raise NotFoundError(f"no exception {exception_id}")
    now = datetime.now(UTC)
    closed = session.execute(
        update(OrderException)
        .where(OrderException.id == exception_id, OrderException.status == "open")
        .values(
            status="resolved",
            resolved_at=now,
            resolution=req.action,
            resolved_by=actor,
            comment=req.comment,
        )
    )
    if closed.rowcount == 0:  # type: ignore[attr-defined]
        raise ConflictError(
            f"exception {exception_id} is already resolved", code="already_resolved"
        )
    order = session.get(OrderRow, exc.order_id, with_for_update=True)
    assert order is not None  # foreign key
    policy = active_policy(session, cache)
    before = _snapshot(session, order)
    ref = OrderRef(
        order.id, order.customer_id, order.po_number, order.segment, order.policy_version
    )
    events: tuple[StatusEvent, ...]
    reason_codes: list[str] = []
    supply: dict[str, Any] = {}
    if req.action == "approve":
        supply = _reserve_approved(session, policy, order, now)
        order.status = "approved"
        order.updated_at = now
        events = ("approved",)
    elif req.action == "reject":
        supply = release_order_commitments(session, order, at=now)
        order.status = "rejected"
        order.updated_at = now
        events = ("rejected",)
    else:
        reason_codes = _amend(session, policy, order, req, now)
        ref = OrderRef(
            order.id, order.customer_id, order.po_number, order.segment, order.policy_version
        )
        events = ("amended", _event(order.status))
    session.flush()
    after = {**_snapshot(session, order), **supply}
    after["reason_codes"] = reason_codes
    audit_resolution(session, exception_id, req.action, actor=actor, at=now, comment=req.comment)
    record_order_change(
        session,
        ref,
        action=req.action,
        actor=actor,
        at=now,
        before=before,
        after=after,
        events=events,
        rules=_rules(policy, order.segment),
        comment=req.comment,
    )
    session.commit()
    session.expire_all()  # the exception row was changed by a Core UPDATE above
    return exception_views(session, [exc])[0], order_view(session, order.id)


def _amend(
    session: Session, policy: CompiledPolicy, order: OrderRow, req: ResolveIn, now: datetime
) -> list[str]:
    lines = _stored_lines(session, order)
    for n in req.remove_line_nos or ():
        if n not in lines:
            raise ConflictError(
                f"remove_line_nos: order {order.id} has no line {n}", code="no_line"
            )
        del lines[n]
    for ln in req.lines or ():
        lines[ln.line_no] = ln
    if not lines:
        raise ConflictError(
            f"amend would leave order {order.id} without lines; fix: reject the order instead",
            code="no_lines_left",
        )
    try:
        amended = _order_in(order, lines, req)
    except ValidationError as exc:
        # Only the order-level rules can fail here (the fields were validated on the way in),
        # and the only one an amendment can break is requested_date vs order_date.
        err = exc.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise UnprocessableError(
            f"amended order {order.id}: {msg}",
            code="invalid_amendment",
            errors=[{"loc": ["body", "requested_date"], "msg": msg, "type": err["type"]}],
        ) from None
    lock_customer(session, policy, order.customer_id)
    v = validate_order(amended, policy, DbFacts(session, exclude=order.id))
    # The amended lines are promised anew, without the order's own earlier reservations.
    drop_promises(session, order.id)
    v, promises = validation_with_promise(session, policy, amended, v)
    session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
    session.execute(
        insert(OrderLine),
        [
            {
                "order_id": order.id,
                "line_no": ln.line_no,
                "product_id": ln.product_id,
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
                "location_id": ln.location_id,
            }
            for ln in amended.lines
        ],
    )
    if promises:
        write_reservations(session, order.id, amended, v.segment, promises, now)
    order.validation_round += 1
    order.requested_date = amended.requested_date
    order.ship_to_id = amended.ship_to_id
    order.segment = v.segment
    order.status = v.status
    order.policy_version = policy.version_id
    order.total_value = v.total_value
    order.updated_at = now
    store_findings(session, order.id, order.validation_round, v.findings, policy.version_id)
    if v.status == "exception":
        open_exception(session, order.id, order.validation_round, v.segment, now)
    return [f.code for f in v.findings]


def record_shipment(
    session: Session, cache: PolicyCache, order_id: int, req: ShipmentIn, *, actor: str
) -> OrderOut:
    """Mark an accepted or approved order shipped (audit + notification) and commit."""
    lock_open_exceptions(session, order_id)
    order = session.get(OrderRow, order_id, with_for_update=True)
    if order is None:
        raise NotFoundError(f"no order {order_id}")
    if order.status not in SHIPPABLE:
        raise ConflictError(
            f"order {order_id} is {order.status}; only {list(SHIPPABLE)} orders can ship",
            code="not_shippable",
        )
    policy = active_policy(session, cache)
    now = datetime.now(UTC)
    before = {"status": order.status}
    closed = close_open_exceptions(
        session,
        order.id,
        resolution="shipped",
        actor=actor,
        at=now,
        comment=req.comment or "order shipped",
    )
    order.status = "shipped"
    order.updated_at = now
    ship_reservations(session, order.id, now)
    session.flush()
    record_order_change(
        session,
        OrderRef(order.id, order.customer_id, order.po_number, order.segment, order.policy_version),
        action="ship",
        actor=actor,
        at=now,
        before=before,
        after={"status": "shipped", **({"exceptions_closed": closed} if closed else {})},
        events=("shipped",),
        rules=_rules(policy, order.segment),
        comment=req.comment,
    )
    session.commit()
    return order_view(session, order_id)
