"""Errors the service turns into HTTP answers; all are `supplyseg.errors.ServiceError`.

Each carries a stable ``code`` (in the JSON body as ``{"detail": message, "code": code}``) and the
HTTP status the API answers with; library callers (CLI commands) get them as plain exceptions.
"""

from __future__ import annotations

from typing import Any

from supplyseg.errors import ServiceError

__all__ = [
    "ApiError",
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "UnauthorizedError",
    "UnavailableError",
    "UnprocessableError",
]


class ApiError(ServiceError):
    """Base: a request the service refuses, with an HTTP status and a stable code."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        # Field-level details in FastAPI's 422 shape ({loc, msg, type}), when there are any.
        self.errors = errors


class UnauthorizedError(ApiError):
    """No API key, or an unknown or revoked one (401)."""

    status_code = 401
    code = "unauthorized"


class ForbiddenError(ApiError):
    """The key's role or customer binding does not allow this (403)."""

    status_code = 403
    code = "forbidden"


class NotFoundError(ApiError):
    """The addressed order, exception, version or key does not exist (404)."""

    status_code = 404
    code = "not_found"


class ConflictError(ApiError):
    """The request contradicts the current state (409), e.g. an already resolved exception."""

    status_code = 409
    code = "conflict"


class UnprocessableError(ApiError):
    """The request is well-formed JSON but its content cannot be used (422)."""

    status_code = 422
    code = "unprocessable"


class UnavailableError(ApiError):
    """The service cannot take the request now (503): database error, no published policy."""

    status_code = 503
    code = "unavailable"
