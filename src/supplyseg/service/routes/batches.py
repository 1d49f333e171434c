"""``/orders/batch`` and ``/orders/csv``: several orders in one request, one transaction.

A batch of 1,000 orders is about a second of work. All of it (parsing and validating the body,
intake, and writing the answer) runs in the thread pool (`run_batch_intake`), so the event loop
keeps answering other requests, ``/health`` included, while a batch runs; on SQLite reads have
connections of their own that never wait for the batch's write lock.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from supplyseg.service.csv_orders import orders_from_csv
from supplyseg.service.deps import (
    CacheDep,
    CanSubmit,
    SettingsDep,
    check_line_limits,
    run_batch_intake,
)
from supplyseg.service.intake import Submission, submit_orders
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import UnprocessableError
from supplyseg.service.schemas import BatchIn, BatchOut, OrderIn
from supplyseg.service.security import Principal
from supplyseg.service.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/orders", tags=["orders"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        description="Makes a retry of the whole batch return the first results (and 409 for"
        " a different batch under the same key).",
    ),
]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One result per order, in order; a retry of a whole batch carries"
        " Idempotent-Replayed: true."
    },
    409: {"description": "The Idempotency-Key was used for a different batch."},
}


def _body_schema() -> dict[str, Any]:
    # The body is parsed in the thread pool, so FastAPI does not see the model: describe it.
    schema = BatchIn.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _check_size(settings: Settings, n: int) -> None:
    if n > settings.max_batch_orders:
        raise UnprocessableError(
            f"{n} orders in one request; at most {settings.max_batch_orders} allowed"
            " (SUPPLYSEG_MAX_BATCH_ORDERS); fix: split the batch",
            code="too_many_orders",
        )


def _answer(results: list[Submission]) -> Response:
    headers = {"Idempotent-Replayed": "true"} if all(r.replayed for r in results) else None
    body = BatchOut(results=[r.order for r in results]).model_dump_json()
    return Response(body, media_type="application/json", headers=headers)


def _intake(
    session: Session,
    cache: PolicyCache,
    orders: list[OrderIn],
    settings: Settings,
    principal: Principal,
    idempotency_key: str | None,
) -> Response:
    _check_size(settings, len(orders))
    for i, order in enumerate(orders):
        check_line_limits(settings, order.lines, ("body", "orders", i))
    results = submit_orders(
        session, cache, orders, principal=principal, idempotency_key=idempotency_key, batch=True
    )
    return _answer(results)


def _json_intake(session: Session, body: bytes, /, *args: Any) -> Response:
    try:
        batch = BatchIn.model_validate_json(body)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None
    return _intake(session, args[0], batch.orders, *args[1:])


def _csv_intake(session: Session, body: bytes, /, *args: Any) -> Response:
    return _intake(session, args[0], orders_from_csv(body), *args[1:])


@router.post("/batch", response_model=BatchOut, responses=_RESPONSES, openapi_extra=_body_schema())
async def submit_batch(
    request: Request,
    cache: CacheDep,
    settings: SettingsDep,
    principal: CanSubmit,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Validate and store several orders (`BatchIn`) in one transaction; one result each."""
    body = await request.body()
    return await run_batch_intake(
        request, _json_intake, body, cache, settings, principal, idempotency_key
    )


@router.post("/csv", response_model=BatchOut, responses=_RESPONSES)
async def submit_csv(
    body: Annotated[bytes, Body(media_type="text/csv", description="CSV of order lines.")],
    request: Request,
    cache: CacheDep,
    settings: SettingsDep,
    principal: CanSubmit,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Submit a CSV file of order lines (``Content-Type: text/csv``; see `csv_orders`); a batch."""
    return await run_batch_intake(
        request, _csv_intake, body, cache, settings, principal, idempotency_key
    )
