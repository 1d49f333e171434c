"""Errors the service turns into HTTP answers; all are `supplyseg.errors.ServiceError`.

Each carries a stable ``code`` (in the JSON body as ``{"detail": message, "code": code}``) and the
HTTP status the API answers with; library callers (CLI commands) get them as plain exceptions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
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
    "echo",
    "request_errors",
]

# How much of a rejected input a 422 answer repeats: enough to see the value, never megabytes.
MAX_ECHO_CHARS = 200


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


def _finite(value: Any) -> Any:
    # JSON has no NaN/Infinity (Python's parser accepts them, strict encoders refuse them).
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _finite(value)
    return str(value)  # e.g. the ValueError of a custom validator


def echo(value: Any) -> Any:
    """``value`` fit to repeat in an error body: non-finite numbers as text, and at most
    ``MAX_ECHO_CHARS`` characters of its JSON (longer input becomes a truncated string)."""
    text = json.dumps(_finite(value), default=str, ensure_ascii=False)
    if len(text) <= MAX_ECHO_CHARS:
        return json.loads(text)  # plain JSON values only (dates, bytes... as text)
    return f"{text[:MAX_ECHO_CHARS]}... ({len(text)} characters)"


def request_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's request validation errors with ``input`` and ``ctx`` made safe by `echo`."""
    out = []
    for err in errors:
        err = dict(err)
        if "input" in err:
            err["input"] = echo(err["input"])
        if "ctx" in err:
            err["ctx"] = {k: _plain(v) for k, v in err["ctx"].items()}
        out.append(err)
    return out
