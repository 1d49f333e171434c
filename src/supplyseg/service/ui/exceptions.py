"""The exception queue: filter, open one exception with its order, and resolve it.

Resolving calls `supplyseg.service.resolution.resolve_exception`, the function behind
``POST /exceptions/{id}/resolve``, with the same checks before it (role, customer binding,
line limits), so the transitions, the audit rows and the notifications are the API's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from supplyseg.service.deps import ReadSessionDep, check_line_limits
from supplyseg.service.models import OrderException, OrderRow, PolicySegment, Reason
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import ApiError, NotFoundError
from supplyseg.service.resolution import resolve_exception
from supplyseg.service.schemas import MAX_ID, ExceptionOut, OrderOut, ResolveIn
from supplyseg.service.settings import Settings
from supplyseg.service.ui.auth import UiUser, check_csrf, form_fields
from supplyseg.service.ui.render import PageError, current_user, page, require
from supplyseg.service.views import exception_views, order_view

__all__ = ["ExceptionFilter", "queue", "resolve_request", "router"]

router = APIRouter(prefix="/ui/exceptions", include_in_schema=False)
UserDep = Annotated[UiUser, Depends(current_user)]
Field64 = Annotated[str | None, Query(max_length=64)]
ExceptionPath = Annotated[int, Path(ge=1, le=MAX_ID)]
# Rows per page of the queue: the oldest first, a planner works from the top.
PAGE_ROWS = 200


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not 0 <= days <= 36_500:  # NaN fails here too
        raise PageError(422, f"open at least (days): {text!r} is not a number of days >= 0")
    return days


class ExceptionFilter:
    """The queue's filters as given in the query string (empty = no filter)."""

    def __init__(
        self,
        segment: Field64 = None,
        customer: Field64 = None,
        reason: Field64 = None,
        min_age_days: Annotated[str | None, Query(max_length=32)] = None,
    ) -> None:
        self.segment = segment or None
        self.customer = customer.strip() if customer and customer.strip() else None
        self.reason = reason or None
        # An empty box is sent as "": no filter, not an error.
        self.min_age_days = _days(min_age_days) if min_age_days else None

    def as_dict(self) -> dict[str, Any]:
        """The filters for the form (empty strings for none)."""
        age = "" if self.min_age_days is None else f"{self.min_age_days:g}"
        return {
            "segment": self.segment or "",
            "customer": self.customer or "",
            "reason": self.reason or "",
            "min_age_days": age,
        }


def queue(
    session: Session, user: UiUser, filters: ExceptionFilter, now: datetime
) -> list[ExceptionOut]:
    """Open exceptions matching ``filters`` that the key may see, oldest first."""
    principal = user.principal
    q = (
        select(OrderException)
        .where(OrderException.status == "open")
        .order_by(OrderException.opened_at, OrderException.id)
        .limit(PAGE_ROWS)
    )
    if filters.segment:
        q = q.where(OrderException.segment == filters.segment)
    if filters.min_age_days is not None:
        q = q.where(OrderException.opened_at <= now - timedelta(days=filters.min_age_days))
    if filters.reason:
        q = q.where(
            exists().where(
                and_(
                    Reason.order_id == OrderException.order_id,
                    Reason.validation_round == OrderException.validation_round,
                    Reason.code == filters.reason,
                )
            )
        )
    customers = sorted(principal.customers) if principal.customers is not None else None
    if filters.customer:
        customers = [c for c in customers or [filters.customer] if c == filters.customer]
    if customers is not None:
        q = q.where(
            exists().where(
                and_(OrderRow.id == OrderException.order_id, OrderRow.customer_id.in_(customers))
            )
        )
    return exception_views(session, list(session.scalars(q)))


def _choices(session: Session) -> dict[str, list[str]]:
    open_ = OrderException.status == "open"
    segments = session.scalars(
        select(OrderException.segment).where(open_).distinct().order_by(OrderException.segment)
    )
    reasons = session.scalars(
        select(Reason.code)
        .join(
            OrderException,
            and_(
                Reason.order_id == OrderException.order_id,
                Reason.validation_round == OrderException.validation_round,
            ),
        )
        .where(open_)
        .distinct()
        .order_by(Reason.code)
    )
    return {"segments": [s for s in segments if s], "reasons": list(reasons)}


@router.get("")
def exception_queue(
    request: Request,
    user: UserDep,
    session: ReadSessionDep,
    filters: Annotated[ExceptionFilter, Depends()],
) -> Response:
    """The queue with its filter form."""
    require(user, "exceptions:read")
    now = datetime.now(UTC)
    rows = queue(session, user, filters, now)
    return page(
        request,
        "exceptions.html",
        user,
        title="Exception queue",
        rows=rows,
        now=now,
        filters=filters.as_dict(),
        choices=_choices(session),
        limit=PAGE_ROWS,
    )


def _detail(session: Session, user: UiUser, exception_id: int) -> dict[str, Any]:
    row = session.get(OrderException, exception_id)
    if row is None:
        raise NotFoundError(f"no exception {exception_id}")
    exc = exception_views(session, [row])[0]
    user.principal.check_visible(exc.customer_id, f"no exception {exception_id}")
    order: OrderOut = order_view(session, exc.order_id)
    rules = None
    if order.segment:
        rules = session.scalar(
            select(PolicySegment.rules).where(
                PolicySegment.version_id == order.policy_version,
                PolicySegment.segment == order.segment,
            )
        )
    return {"exc": exc, "order": order, "rules": rules}


@router.get("/{exception_id}")
def exception_detail(
    request: Request, exception_id: ExceptionPath, user: UserDep, session: ReadSessionDep
) -> Response:
    """One exception: its order, lines, reasons with the rule that fired, and the resolve form."""
    require(user, "exceptions:read")
    done = request.query_params.get("done")
    return page(
        request,
        "exception.html",
        user,
        title=f"Exception {exception_id}",
        error=None,
        done=done if done in ("approve", "reject", "amend") else None,
        form={},
        can_resolve=user.principal.can("exceptions:resolve"),
        **_detail(session, user, exception_id),
    )


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "")
    return float(text) if text else None


def resolve_request(form: dict[str, str], order: OrderOut) -> ResolveIn:
    """The `ResolveIn` a submitted resolve form stands for (`ValueError` for a bad number,
    pydantic's `ValidationError` for a request the API would refuse).

    Amend sends only what changed: lines whose quantity or price differ, lines ticked for
    removal, and a requested date or ship-to that differs from the order's.
    """
    action = form.get("action", "")
    body: dict[str, Any] = {"action": action, "comment": form.get("comment", "")}
    if action == "amend":
        changed, removed = [], []
        for line in order.lines:
            n = line.line_no
            if form.get(f"remove_{n}"):
                removed.append(n)
                continue
            # A field the form did not send leaves the value as it is; an emptied price means
            # "no price given" (the list price applies), an emptied quantity keeps the quantity.
            qty = _number(form.get(f"qty_{n}", ""))
            qty = line.quantity if qty is None else qty
            price = _number(form[f"price_{n}"]) if f"price_{n}" in form else line.unit_price
            if qty != line.quantity or price != line.unit_price:
                changed.append(
                    {
                        "line_no": n,
                        "product_id": line.product_id,
                        "quantity": qty,
                        "unit_price": price,
                    }
                )
        body["lines"] = changed or None
        body["remove_line_nos"] = removed or None
        requested = form.get("requested_date", "").strip()
        if requested and requested != order.requested_date.isoformat():
            body["requested_date"] = requested
        ship_to = form.get("ship_to_id", "").strip()
        if ship_to and ship_to != (order.ship_to_id or ""):
            body["ship_to_id"] = ship_to
    return ResolveIn.model_validate(body)


def _validation_text(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def _resolve(
    request: Request, user: UiUser, exception_id: int, form: dict[str, str]
) -> tuple[str | None, int, dict[str, Any]]:
    """Resolve in a session of its own: (error message or None, status code, page context)."""
    state = request.app.state
    settings: Settings = state.settings
    cache: PolicyCache = state.policy_cache
    with state.sessions() as session:
        detail = _detail(session, user, exception_id)
        try:
            req = resolve_request(form, detail["order"])
            check_line_limits(settings, req.lines or [], ("form",))
            resolve_exception(session, cache, exception_id, req, actor=user.principal.key_id)
        except ValidationError as exc:
            return f"Not resolved: {_validation_text(exc)}", 422, detail
        except ValueError as exc:  # a number that is not one
            return f"Not resolved: {exc}", 422, detail
        except ApiError as exc:
            if exc.status_code == 404:
                raise
            session.rollback()
            return f"Not resolved: {exc}", exc.status_code, _detail(session, user, exception_id)
    return None, 303, {}


@router.post("/{exception_id}/resolve")
async def resolve(request: Request, exception_id: ExceptionPath, user: UserDep) -> Response:
    """Approve, reject or amend; back to the exception, with the outcome or what was wrong."""
    form = await form_fields(request)
    check_csrf(request, user, form)
    require(user, "exceptions:resolve")
    error, status, context = await run_in_threadpool(_resolve, request, user, exception_id, form)
    if error is None:
        action = form.get("action", "")
        return RedirectResponse(f"/ui/exceptions/{exception_id}?done={action}", status_code=303)
    return page(
        request,
        "exception.html",
        user,
        title=f"Exception {exception_id}",
        error=error,
        done=None,
        form=form,
        can_resolve=True,
        status_code=status,
        **context,
    )
