"""``/exceptions``: the exception queue and its resolution (approve, reject, amend)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import and_, exists, select

from supplyseg.service.deps import CacheDep, CanReadExceptions, CanResolve, SessionDep
from supplyseg.service.models import OrderException, Reason
from supplyseg.service.problems import NotFoundError
from supplyseg.service.resolution import resolve_exception
from supplyseg.service.schemas import ExceptionOut, ExceptionPage, ResolveIn, ResolveOut
from supplyseg.service.views import exception_views

__all__ = ["router"]

router = APIRouter(prefix="/exceptions", tags=["exceptions"])


@router.get("")
def list_exceptions(
    session: SessionDep,
    principal: CanReadExceptions,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    reason: Annotated[str | None, Query(max_length=64, description="A reason code.")] = None,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = "open",
    after: Annotated[int, Query(ge=0, description="Return exceptions with id > after.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ExceptionPage:
    """Exceptions by segment and reason code (open ones unless ``status`` says otherwise)."""
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
    rows = list(session.scalars(q))
    return ExceptionPage(
        items=exception_views(session, rows),
        next_after=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/{exception_id}")
def get_exception(
    exception_id: int, session: SessionDep, principal: CanReadExceptions
) -> ExceptionOut:
    """One exception with the findings that opened it."""
    row = session.get(OrderException, exception_id)
    if row is None:
        raise NotFoundError(f"no exception {exception_id}")
    return exception_views(session, [row])[0]


@router.post("/{exception_id}/resolve")
def resolve(
    exception_id: int,
    req: ResolveIn,
    session: SessionDep,
    cache: CacheDep,
    principal: CanResolve,
) -> ResolveOut:
    """Approve (override), reject or amend (re-validated) an open exception; comment required."""
    exc, order = resolve_exception(session, cache, exception_id, req, actor=principal.key_id)
    return ResolveOut(exception=exc, order=order)
