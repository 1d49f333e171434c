"""Rendering workbench pages: the Jinja2 environment, the page response and its headers, the
signed-in user of a request, and the navigation a role sees.

Pages carry no script at all, so the Content-Security-Policy forbids every script and allows
only the workbench's own stylesheet: an injected ``<script>`` would not run even if escaping
failed somewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session, sessionmaker

from supplyseg.service.security import Permission
from supplyseg.service.ui.auth import SESSION_COOKIE, SignInRequiredError, UiUser, session_user

__all__ = [
    "PAGE_HEADERS",
    "STATIC",
    "PageError",
    "current_user",
    "fmt_age",
    "navigation",
    "page",
    "require",
]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages show orders and keys' data: never from a shared cache or the back button's store.
    "Cache-Control": "no-store",
}

# (path, label, permission needed; None = every signed-in key)
_NAV: tuple[tuple[str, str, Permission | None], ...] = (
    ("/ui/", "Dashboard", None),
    ("/ui/exceptions", "Exceptions", "exceptions:read"),
    ("/ui/orders", "Orders", "orders:read"),
    ("/ui/policies", "Policy versions", "policies:read"),
    ("/ui/segments", "Segments", "policies:read"),
    ("/ui/scenarios", "Scenarios", "policies:read"),
)


def fmt_age(since: datetime, now: datetime | None = None) -> str:
    """How long ago ``since`` was, in the largest whole unit (``3 d``, ``5 h``, ``12 min``)."""
    now = now or datetime.now(UTC)
    moment = since.replace(tzinfo=UTC) if since.tzinfo is None else since
    seconds = max(0.0, (now - moment).total_seconds())
    if seconds >= 86_400:
        return f"{int(seconds // 86_400)} d"
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 60)} min"


def _number(value: float | None, digits: int = 2) -> str:
    if value is None or value != value:  # None or NaN
        return "unknown"
    return f"{value:,.{digits}f}"


def _percent(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:  # None or NaN
        return "unknown"
    return f"{value * 100:.{digits}f} %"


_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["num"] = _number
_env.filters["pct"] = _percent
_env.filters["age"] = fmt_age
_env.filters["q"] = lambda v: quote(str(v), safe="")


def navigation(user: UiUser | None) -> list[tuple[str, str]]:
    """The (path, label) links ``user``'s role may open."""
    if user is None:
        return []
    return [(p, label) for p, label, need in _NAV if need is None or user.principal.can(need)]


def page(
    request: Request,
    template: str,
    user: UiUser | None,
    *,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` rendered for ``user`` with the workbench's security headers."""
    html = _env.get_template(template).render(
        title=title,
        user=user,
        nav=navigation(user),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def _lookup(sessions: sessionmaker[Session], token: str) -> UiUser | None:
    with sessions() as session:
        return session_user(session, token)


async def current_user(request: Request) -> UiUser:
    """The signed-in user of the request; `SignInRequiredError` without a live session."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequiredError
    user = await run_in_threadpool(_lookup, request.app.state.read_sessions, token)
    if user is None:
        raise SignInRequiredError
    request.state.ui_user = user  # for error pages raised later in the request
    return user


class PageError(Exception):
    """A page that cannot be shown to this user (status and a message for the error page)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def require(user: UiUser, permission: Permission) -> None:
    """Raise `PageError` (403) unless ``user``'s role grants ``permission``."""
    if not user.principal.can(permission):
        raise PageError(
            403,
            f"your key's role ({user.principal.role}) may not {permission}; sign in with"
            " another key",
        )
