"""Browser sessions of the planner workbench: an API key signs in once, a cookie carries on.

Signing in checks the API key exactly as the API does (`authenticated_principal`) and stores a
session row: the sha256 of a random 256-bit cookie token, the key id, a CSRF token and an
expiry. The cookie holds only the random token (HTTP-only, ``SameSite=Strict``, ``Secure``
over HTTPS), never the key. A token that is not in the table is worthless, so the cookie
needs no signing secret shared between server processes, and signing out (or revoking the
key, or the expiry) ends the session at once on every process: each request joins the session
to its key and refuses a revoked one.

CSRF: ``SameSite=Strict`` keeps the browser from sending the cookie with a request started by
another site, and every state-changing form also carries the session's CSRF token (a
synchronizer token compared in constant time); a request whose ``Origin`` header names another
origin is refused as well. Sign-in has no session yet, so it relies on the ``Origin`` check.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from fastapi import Request
from sqlalchemy import DateTime, ForeignKey, String, delete, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from supplyseg.service.models import ApiKey, Audit, Base
from supplyseg.service.security import Principal, Role, authenticated_principal, key_hash

__all__ = [
    "SESSION_COOKIE",
    "SESSION_HOURS",
    "CsrfError",
    "SignInRequiredError",
    "UiSession",
    "UiUser",
    "check_csrf",
    "end_session",
    "form_fields",
    "session_user",
    "start_session",
]

SESSION_COOKIE = "supplyseg_ui"
# A working day: long enough for a shift, short enough that a forgotten browser signs out.
SESSION_HOURS = 8
# A sign-in form and a resolution with 1,000 amended lines stay far below this.
_MAX_FIELDS = 5000


class UiSession(Base):
    """A signed-in browser: the hash of its cookie token, its API key and its CSRF token."""

    __tablename__ = "ui_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.key_id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class UiUser:
    """Who uses the browser: the key's principal (role, customer binding) and the CSRF token."""

    principal: Principal
    csrf: str


class SignInRequiredError(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token or from another origin."""


def start_session(session: Session, api_key: str) -> tuple[str, UiUser] | None:
    """Sign ``api_key`` in and commit: ``(cookie token, user)``; None for a bad key."""
    principal = authenticated_principal(session, api_key.strip())
    if principal is None:
        return None
    now = datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.execute(delete(UiSession).where(UiSession.expires_at < now))
    session.execute(
        insert(UiSession).values(
            token_hash=key_hash(token),
            key_id=principal.key_id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    session.execute(
        insert(Audit).values(
            at=now,
            actor=principal.key_id,
            entity="ui_session",
            entity_id=principal.key_id,
            action="sign_in",
            before=None,
            after={"role": principal.role},
            comment=None,
        )
    )
    session.commit()
    return token, UiUser(principal, csrf)


def end_session(session: Session, token: str) -> None:
    """Sign the session of ``token`` out (delete it) and commit; unknown tokens are ignored."""
    session.execute(delete(UiSession).where(UiSession.token_hash == key_hash(token)))
    session.commit()


def session_user(session: Session, token: str) -> UiUser | None:
    """The user of a live session (key not revoked, not expired), else None."""
    row = session.execute(
        select(ApiKey.key_id, ApiKey.role, ApiKey.customers, UiSession.csrf_token)
        .join(UiSession, UiSession.key_id == ApiKey.key_id)
        .where(
            UiSession.token_hash == key_hash(token),
            UiSession.expires_at > datetime.now(UTC),
            ApiKey.revoked_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        return None
    role: Role = row.role
    customers = frozenset(row.customers) if row.customers is not None else None
    return UiUser(Principal(key_id=row.key_id, role=role, customers=customers), row.csrf_token)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # older browsers and non-browser clients; SameSite + token still hold
        return True
    expected = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    return origin == expected


def check_csrf(request: Request, user: UiUser | None, form: dict[str, str]) -> None:
    """Raise `CsrfError` unless the request is same-origin and (with a session) carries its
    CSRF token."""
    if not _same_origin(request):
        raise CsrfError("the form was sent from another site")
    if user is not None and not hmac.compare_digest(
        form.get("csrf_token", "").encode(), user.csrf.encode()
    ):
        raise CsrfError("the form's security token is missing or stale; reload the page")


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body (the last value of a repeated name wins)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return {}
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        parsed = parse_qs(body, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except ValueError:  # more fields than any workbench form has: treated as an empty form
        return {}
    return {name: values[-1] for name, values in parsed.items()}
