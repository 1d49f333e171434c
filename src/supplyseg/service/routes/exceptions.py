"""``/exceptions``: the exception queue and its resolution (approve, reject, amend)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from supplyseg.service.deps import (
    CacheDep,
    CanReadExceptions,
    CanResolve,
    ExceptionId,
    QueryText,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    check_line_limits,
)
from supplyseg.service.models import OrderException, OrderRow, Reason
from supplyseg.service.problems import NotFoundError
from supplyseg.service.resolution import resolve_exception
from supplyseg.service.schemas import (
    MAX_ID,
    ExceptionOut,
    ExceptionPage,
    ResolveIn,
    ResolveOut,
    Text,
)
from supplyseg.service.security import Principal
from supplyseg.service.views import exception_views

__all__ = ["router"]

router = APIRouter(prefix="/exceptions", tags=["exceptions"])


@router.get("")
def list_exceptions(
    session: ReadSessionDep,
    principal: CanReadExceptions,
    segment: QueryText = None,
    reason: Annotated[Text | None, Query(max_length=64, description="A reason code.")] = None,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = "open",
    after: Annotated[
        int, Query(ge=0, le=MAX_ID, description="Return exceptions with id > after.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ExceptionPage:
    """Exceptions by segment and reason code (open ones unless ``status`` says otherwise;
    keys see their customers only)."""
    q = (
        select(OrderException)
        .where(OrderException.id > after)
        .order_by(OrderException.id)
        .limit(limit)
    )
    if status is not None:
        q = q.where(OrderException.status == status)
    if segment is not None:
        q = q.where(OrderException.segment == segment)
    if reason is not None:
        q = q.where(
            exists().where(
                and_(
                    Reason.order_id == OrderException.order_id,
                    Reason.validation_round == OrderException.validation_round,
                    Reason.code == reason,
                )
            )
        )
    if principal.customers is not None:
        q = q.where(
            exists().where(
                and_(
                    OrderRow.id == OrderException.order_id,
                    OrderRow.customer_id.in_(sorted(principal.customers)),
                )
            )
        )
    rows = list(session.scalars(q))
    return ExceptionPage(
        items=exception_views(session, rows),
        next_after=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/{exception_id}")
def get_exception(
    exception_id: ExceptionId, session: ReadSessionDep, principal: CanReadExceptions
) -> ExceptionOut:
    """One exception with the findings that opened it."""
    row = session.get(OrderException, exception_id)
    if row is None:
        raise NotFoundError(f"no exception {exception_id}")
    view = exception_views(session, [row])[0]
    principal.check_visible(view.customer_id, f"no exception {exception_id}")
    return view


def _check_visible(session: Session, principal: Principal, exception_id: int) -> None:
    if principal.customers is None:
        return
    customer_id = session.scalar(
        select(OrderRow.customer_id)
        .join(OrderException, OrderException.order_id == OrderRow.id)
        .where(OrderException.id == exception_id)
    )
    if customer_id is not None:  # a missing exception is resolve_exception's 404
        principal.check_visible(customer_id, f"no exception {exception_id}")


@router.post("/{exception_id}/resolve")
def resolve(
    exception_id: ExceptionId,
    req: ResolveIn,
    session: SessionDep,
    cache: CacheDep,
    principal: CanResolve,
    settings: SettingsDep,
) -> ResolveOut:
    """Approve (override), reject or amend (re-validated) an open exception; comment required."""
    check_line_limits(settings, req.lines or [], ("body",))
    _check_visible(session, principal, exception_id)
    exc, order = resolve_exception(session, cache, exception_id, req, actor=principal.key_id)
    return ResolveOut(exception=exc, order=order)
