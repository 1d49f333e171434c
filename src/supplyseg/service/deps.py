"""FastAPI dependencies: settings, a database session per request, the policy cache, the caller.

Routes declare what they need as ``Annotated`` aliases, e.g. ``session: SessionDep`` or
``principal: CanSubmit`` (an authenticated key whose role grants ``orders:submit``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import (
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    UnprocessableError,
)
from supplyseg.service.schemas import MAX_ID, OrderLineIn, Text
from supplyseg.service.security import (
    Permission,
    Principal,
    PrincipalCache,
    authenticated_principal,
)
from supplyseg.service.settings import Settings

__all__ = [
    "CacheDep",
    "CanCancel",
    "CanManageKeys",
    "CanPublish",
    "CanReadExceptions",
    "CanReadNotifications",
    "CanReadOrders",
    "CanReadPolicies",
    "CanResolve",
    "CanShip",
    "CanSubmit",
    "ExceptionId",
    "OrderId",
    "PrincipalCacheDep",
    "PrincipalDep",
    "QueryText",
    "ReadSessionDep",
    "SessionDep",
    "SettingsDep",
    "check_line_limits",
    "requires",
    "run_batch_intake",
    "run_intake",
]

T = TypeVar("T")

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key (ssk_...); `Authorization: Bearer <key>` works too.",
)


# Dependencies that do no I/O are async: sync ones each cost a hop to the thread pool.


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for this request; rolled back and closed when the request ends.

    Creating a session does no I/O; closing one that still holds a transaction (reads, failed
    writes) does, so that happens in the thread pool.
    """
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A session for a request that only reads (on SQLite: never waits for the write lock)."""
    session: Session = request.app.state.read_sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_cache(request: Request) -> PolicyCache:
    """The process-wide cache of the compiled active policy."""
    cache: PolicyCache = request.app.state.policy_cache
    return cache


async def get_principal_cache(request: Request) -> PrincipalCache:
    """The process-wide cache of authenticated keys."""
    cache: PrincipalCache = request.app.state.principal_cache
    return cache


async def run_intake(request: Request, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``work(session, *args, **kwargs)``, an order-intake unit of work, in a session of its own:
    on SQLite inline on the event loop when the database's write lock is free, else (and on
    other databases) in the thread pool.

    SQLite takes one writer at a time, so intake gains nothing from threads, and the hop to one
    and back costs more CPU than the unit of work's own SQL (bench/service.py: 2.3 -> 1.55 ms of
    server CPU per order, 403 -> 618 orders/s). The loop must not wait long, though: inline
    intake has a connection of its own that only the loop uses (`create_app`), and takes the
    write lock first, waiting at most ``INTAKE_LOCK_WAIT_MS``; if another connection holds it
    longer (a resolution, a read session the loop has yet to close), the unit of work goes to
    the thread pool, where waiting blocks nobody.
    """
    state = request.app.state
    if state.intake_inline and not state.batches_running:
        session: Session = state.intake_sessions()
        try:
            session.connection()  # BEGIN IMMEDIATE: the write lock, or OperationalError
        except OperationalError:
            session.close()
        else:
            try:
                return work(session, *args, **kwargs)
            finally:
                session.close()
    return await run_in_threadpool(_in_session, state.sessions, work, *args, **kwargs)


async def run_batch_intake(
    request: Request, work: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    """``work(session, *args, **kwargs)`` for a batch of orders, always in the thread pool.

    A batch of 1,000 orders is seconds of work: on the event loop it would stall every other
    request. While one runs, single orders go to the thread pool too (`run_intake`): on
    SQLite the batch holds the write lock, and trying for it inline would cost the loop
    ``INTAKE_LOCK_WAIT_MS`` per order.
    """
    state = request.app.state
    state.batches_running += 1
    try:
        return await run_in_threadpool(_in_session, state.sessions, work, *args, **kwargs)
    finally:
        state.batches_running -= 1


def _in_session(
    sessions: sessionmaker[Session], work: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    with sessions() as session:
        return work(session, *args, **kwargs)


SettingsDep = Annotated[Settings, Depends(get_settings)]
PrincipalCacheDep = Annotated[PrincipalCache, Depends(get_principal_cache)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
CacheDep = Annotated[PolicyCache, Depends(get_cache)]


def _lookup(sessions: sessionmaker[Session], token: str) -> Principal | None:
    with sessions() as session:
        return authenticated_principal(session, token)


async def get_principal(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key_header)] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    """The authenticated caller; `UnauthorizedError` (401) without a valid key.

    Valid keys are cached for ``api_key_cache_s`` seconds (see `PrincipalCache`), so most
    requests need no database round trip for authentication.
    """
    token = api_key
    if token is None and authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    if not token:
        raise UnauthorizedError("missing API key; send it in the X-API-Key header")
    cache: PrincipalCache = request.app.state.principal_cache
    principal = cache.get(token)
    if principal is None:
        principal = await run_in_threadpool(_lookup, request.app.state.read_sessions, token)
        if principal is None:
            raise UnauthorizedError("invalid or revoked API key")
        cache.put(token, principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def requires(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency passing the caller on if its role grants ``permission``, else 403."""

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.can(permission):
            raise ForbiddenError(
                f"role {principal.role!r} of API key {principal.key_id} may not {permission}",
                code="role_forbidden",
            )
        return principal

    return check


async def _order_id(order_id: Annotated[int, Path()]) -> int:
    # Out of the id column's range is "no such order", not a database error.
    if not 1 <= order_id <= MAX_ID:
        raise NotFoundError(f"no order {order_id}")
    return order_id


async def _exception_id(exception_id: Annotated[int, Path()]) -> int:
    if not 1 <= exception_id <= MAX_ID:
        raise NotFoundError(f"no exception {exception_id}")
    return exception_id


OrderId = Annotated[int, Depends(_order_id)]
QueryText = Annotated[Text | None, Query(max_length=64)]
ExceptionId = Annotated[int, Depends(_exception_id)]

CanSubmit = Annotated[Principal, Depends(requires("orders:submit"))]
CanReadOrders = Annotated[Principal, Depends(requires("orders:read"))]
CanShip = Annotated[Principal, Depends(requires("orders:ship"))]
CanCancel = Annotated[Principal, Depends(requires("orders:cancel"))]
CanReadExceptions = Annotated[Principal, Depends(requires("exceptions:read"))]
CanResolve = Annotated[Principal, Depends(requires("exceptions:resolve"))]
CanReadNotifications = Annotated[Principal, Depends(requires("notifications:read"))]
CanReadPolicies = Annotated[Principal, Depends(requires("policies:read"))]
CanPublish = Annotated[Principal, Depends(requires("policies:publish"))]
CanManageKeys = Annotated[Principal, Depends(requires("keys:manage"))]


def check_line_limits(
    settings: Settings, lines: Sequence[OrderLineIn], loc: tuple[str | int, ...]
) -> None:
    """422 in FastAPI's shape (``loc`` + ``lines``, index, field) for lines whose quantity or
    unit price exceeds ``settings.max_quantity`` / ``max_unit_price``."""
    errors = []
    for i, line in enumerate(lines):
        for field, value, limit in (
            ("quantity", line.quantity, settings.max_quantity),
            ("unit_price", line.unit_price, settings.max_unit_price),
        ):
            if value is not None and value > limit:
                errors.append(
                    {
                        "type": "less_than_equal",
                        "loc": [*loc, "lines", i, field],
                        "msg": f"Input should be less than or equal to {limit:g}"
                        f" (SUPPLYSEG_MAX_{field.upper()})",
                        "input": value,
                        "ctx": {"le": limit},
                    }
                )
    if errors:
        raise UnprocessableError(
            f"{len(errors)} order line value(s) above the service's maxima",
            code="over_limit",
            errors=errors,
        )
