"""The FastAPI application: `create_app(settings)` wires database, routes and error handling.

Error answers:

- 401/403/404/409/422/503 from `ApiError` subclasses, as ``{"detail": ..., "code": ...}``
  (422 from the service carries FastAPI's ``[{loc, msg, type}]`` list when it names fields);
- 422 from request validation (malformed JSON, wrong types, unknown fields, NaN/Infinity,
  out-of-range numbers), FastAPI's shape with the field path in ``loc`` and ``input`` cut to a
  few hundred characters (`supplyseg.service.problems.request_errors`);
- 413 when the body exceeds ``max_body_bytes`` (FastAPI's ``max_body_size``: checked on
  Content-Length and while the body streams in);
- 503 with ``Retry-After`` when the database fails; the request's transaction is rolled back, so
  nothing of it was stored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from supplyseg.service.db import engine_for, migrate, session_factory
from supplyseg.service.headers import SecurityHeaders
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import ApiError, request_errors
from supplyseg.service.routes import ROUTERS
from supplyseg.service.routes import edi as edi_routes
from supplyseg.service.routes import promise as promise_routes
from supplyseg.service.security import PrincipalCache
from supplyseg.service.settings import Settings
from supplyseg.service.ui import mount_ui

__all__ = ["create_app"]

log = logging.getLogger("supplyseg.service")

# How long inline order intake on SQLite may hold up the event loop waiting for the write lock
# before it hands the order to the thread pool. Other writers hold the lock for milliseconds;
# a read session in the thread pool can hold it until the loop closes it, so the wait must stay
# short, but not zero: giving up at once sends the next orders to the thread pool as well,
# where each holds the lock longer, and intake snowballs onto the slow path.
INTAKE_LOCK_WAIT_MS = 50

DESCRIPTION = """Validates every order, whatever its channel, against the rules of its customer's
segment in the active policy version before it reaches the ERP. Failed orders go to the exception
queue with reason codes; people resolve them with an audit trail; each segment gets the status
updates its policy promises (`/notifications`). Send an API key in `X-API-Key`."""


def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    detail: Any = exc.errors if exc.errors is not None else str(exc)
    return JSONResponse({"detail": detail, "code": exc.code}, status_code=exc.status_code)


def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's shape, but NaN/Infinity (which Python's JSON parser accepts) and huge inputs
    # are not echoed back as they came: the first broke the response, the second bloats it.
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": request_errors(exc.errors())}, status_code=422)


def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, IntegrityError):
        raise exc  # a bug, not an outage: let it be a 500 with a traceback in the log
    log.warning("database error, answered 503: %s", exc)
    return JSONResponse(
        {"detail": "database unavailable; nothing was stored, retry later", "code": "db_error"},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service app for ``settings``; migrates the database.

    Without ``settings`` they come from the environment, which must set ``SUPPLYSEG_DB_URL``
    (`ServiceError` otherwise): importing or starting the app never creates a database file in
    the current folder.
    """
    settings = settings or Settings.from_env()
    engine = engine_for(settings)
    if settings.migrate_on_start:
        migrate(engine)
    # SQLite: order intake gets a connection of its own, which waits briefly for the write lock,
    # and runs on the event loop (see `supplyseg.service.deps.run_intake`).
    intake_engine = (
        engine_for(settings.model_copy(update={"sqlite_busy_timeout_ms": INTAKE_LOCK_WAIT_MS}))
        if settings.is_sqlite
        else engine
    )
    # SQLite: reads get connections of their own that never wait for the write lock, so a
    # long write (a batch of 1,000 orders) holds up no read, /health included.
    read_engine = engine_for(settings, read_only=True) if settings.is_sqlite else engine

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()
        intake_engine.dispose()
        read_engine.dispose()

    app = FastAPI(
        title="supplyseg order validation",
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's own limit: 413 on Content-Length or while the body streams in.
        max_body_size=settings.max_body_bytes,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.intake_engine = intake_engine
    app.state.intake_sessions = session_factory(intake_engine)
    app.state.intake_inline = settings.is_sqlite
    app.state.read_sessions = session_factory(read_engine)
    app.state.batches_running = 0
    app.state.policy_cache = PolicyCache()
    app.state.principal_cache = PrincipalCache(settings.api_key_cache_s)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeoutError, _database_error)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(edi_routes.router)
    app.include_router(promise_routes.router)
    mount_ui(app)  # the planner workbench at /ui (after the ApiError handler it wraps)
    return app
