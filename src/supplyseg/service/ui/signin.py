"""Sign-in with an API key, sign-out, and the workbench's stylesheet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from supplyseg.service.ui.auth import (
    SESSION_COOKIE,
    SESSION_HOURS,
    UiUser,
    check_csrf,
    end_session,
    form_fields,
    start_session,
)
from supplyseg.service.ui.render import STATIC, current_user, page

__all__ = ["router", "safe_next"]

router = APIRouter(prefix="/ui", include_in_schema=False)


def safe_next(target: str | None) -> str:
    """``target`` if it is a workbench path on this site, else the dashboard (no open redirect)."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


@router.get("/static/ui.css")
async def stylesheet() -> Response:
    """The one stylesheet (no CDN, nothing else loaded)."""
    css = (STATIC / "ui.css").read_bytes()
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/login")
async def login_form(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """The sign-in form."""
    return page(request, "login.html", None, title="Sign in", next=safe_next(next), error=None)


def _start(sessions: sessionmaker[Session], key: str) -> tuple[str, UiUser] | None:
    with sessions() as session:
        return start_session(session, key)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the key; on success set the session cookie and go on, else show the form again."""
    form = await form_fields(request)
    check_csrf(request, None, form)
    target = safe_next(form.get("next"))
    key = form.get("api_key", "")
    started = await run_in_threadpool(_start, request.app.state.sessions, key) if key else None
    if started is None:
        return page(
            request,
            "login.html",
            None,
            title="Sign in",
            next=target,
            error="That API key is unknown or revoked. Check it and try again.",
            status_code=401,
        )
    token, _user = started
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def _end(sessions: sessionmaker[Session], token: str) -> None:
    with sessions() as session:
        end_session(session, token)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (server side too) and clear the cookie."""
    user = await current_user(request)
    check_csrf(request, user, await form_fields(request))
    await run_in_threadpool(_end, request.app.state.sessions, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/ui", httponly=True, samesite="strict")
    return response
