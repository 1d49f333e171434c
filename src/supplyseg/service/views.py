"""Response views of stored orders and exceptions (a few set-based queries per page, no N+1)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from supplyseg.service.models import ApiKey, OrderException, OrderLine, OrderRow, Reason
from supplyseg.service.problems import NotFoundError
from supplyseg.service.promise import line_fields, line_promises
from supplyseg.service.schemas import ApiKeyOut, ExceptionOut, OrderLineOut, OrderOut, ReasonOut

__all__ = ["api_key_views", "exception_views", "order_view", "order_views", "reason_out", "utc"]


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands stored UTC values back naive)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def reason_out(r: Reason) -> ReasonOut:
    """The API form of a stored reason."""
    return ReasonOut(
        code=r.code,
        severity="error" if r.severity == "error" else "warning",
        line_no=r.line_no,
        field=r.field,
        message=r.message,
        rule=r.rule,
        policy_version=r.policy_version,
        suggested_value=r.suggested_value,
    )


def order_views(session: Session, rows: Sequence[OrderRow]) -> list[OrderOut]:
    """Views of ``rows`` with their lines, current reasons and open exception."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    promised = line_promises(session, ids)
    lines: dict[int, list[OrderLineOut]] = defaultdict(list)
    for ln in session.scalars(
        select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.line_no)
    ):
        lines[ln.order_id].append(
            OrderLineOut(
                line_no=ln.line_no,
                product_id=ln.product_id,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                **line_fields(promised.get((ln.order_id, ln.line_no))),
            )
        )
    reasons: dict[int, list[ReasonOut]] = defaultdict(list)
    current = and_(
        Reason.order_id == OrderRow.id, Reason.validation_round == OrderRow.validation_round
    )
    for r in session.scalars(
        select(Reason).join(OrderRow, current).where(OrderRow.id.in_(ids)).order_by(Reason.id)
    ):
        reasons[r.order_id].append(reason_out(r))
    open_exc: dict[int, int] = dict(
        session.execute(
            select(OrderException.order_id, OrderException.id).where(
                OrderException.order_id.in_(ids), OrderException.status == "open"
            )
        ).all()
    )
    return [
        OrderOut(
            order_id=r.id,
            customer_id=r.customer_id,
            po_number=r.po_number,
            channel=r.channel,
            order_date=r.order_date,
            requested_date=r.requested_date,
            ship_to_id=r.ship_to_id,
            status=r.status,
            segment=r.segment,
            policy_version=r.policy_version,
            total_value=r.total_value,
            exception_id=open_exc.get(r.id),
            reasons=reasons[r.id],
            lines=lines[r.id],
        )
        for r in rows
    ]


def order_view(session: Session, order_id: int) -> OrderOut:
    """View of one order; `NotFoundError` if there is none."""
    row = session.get(OrderRow, order_id)
    if row is None:
        raise NotFoundError(f"no order {order_id}")
    return order_views(session, [row])[0]


def exception_views(session: Session, rows: Sequence[OrderException]) -> list[ExceptionOut]:
    """Views of exceptions with the reasons of the validation round that opened each."""
    if not rows:
        return []
    order_ids = sorted({e.order_id for e in rows})
    orders = {
        o.id: (o.customer_id, o.po_number)
        for o in session.execute(
            select(OrderRow.id, OrderRow.customer_id, OrderRow.po_number).where(
                OrderRow.id.in_(order_ids)
            )
        )
    }
    reasons: dict[tuple[int, int], list[ReasonOut]] = defaultdict(list)
    for r in session.scalars(
        select(Reason).where(Reason.order_id.in_(order_ids)).order_by(Reason.id)
    ):
        reasons[(r.order_id, r.validation_round)].append(reason_out(r))
    out = []
    for e in rows:
        customer_id, po_number = orders[e.order_id]
        out.append(
            ExceptionOut(
                exception_id=e.id,
                order_id=e.order_id,
                customer_id=customer_id,
                po_number=po_number,
                segment=e.segment,
                status="open" if e.status == "open" else "resolved",
                opened_at=utc(e.opened_at),
                resolved_at=utc(e.resolved_at) if e.resolved_at else None,
                resolution=e.resolution,
                resolved_by=e.resolved_by,
                comment=e.comment,
                reasons=reasons[(e.order_id, e.validation_round)],
            )
        )
    return out


def api_key_views(session: Session) -> list[ApiKeyOut]:
    """Every API key, oldest first, revoked ones included (never a secret or its hash)."""
    return [
        ApiKeyOut(
            key_id=k.key_id,
            role=k.role,
            customers=k.customers,
            label=k.label,
            created_at=utc(k.created_at),
            revoked_at=utc(k.revoked_at) if k.revoked_at else None,
        )
        for k in session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id))
    ]
