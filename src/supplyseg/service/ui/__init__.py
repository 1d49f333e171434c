"""The planner workbench: server-rendered pages at ``/ui`` on the service's own app, database,
keys and roles (see README.md, "Planner workbench").

`mount_ui` adds the pages to an app made by `supplyseg.service.app.create_app`. Pages are
Jinja2 templates with plain HTML forms and one stylesheet: no script, nothing from the network.
"""

from __future__ import annotations

import inspect
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from supplyseg.service.problems import ApiError
from supplyseg.service.ui import (
    dashboard,
    exceptions,
    orders,
    policies,
    runs,
    scenarios,
    signin,
)
from supplyseg.service.ui.auth import CsrfError, SignInRequiredError
from supplyseg.service.ui.render import PageError, page

__all__ = ["mount_ui"]


def _error_page(request: Request, status_code: int, message: str) -> Response:
    user = getattr(request.state, "ui_user", None)
    return page(
        request, "error.html", user, title="Not possible", status_code=status_code, message=message
    )


def mount_ui(app: FastAPI) -> None:
    """Add the workbench's pages under ``/ui`` to ``app`` (after its API error handler)."""
    for router in (
        signin.router,
        dashboard.router,
        exceptions.router,
        orders.router,
        policies.router,
        runs.router,
        scenarios.router,
    ):
        app.include_router(router)
    api_error = app.exception_handlers[ApiError]

    async def on_api_error(request: Request, exc: Exception) -> Response:
        # Pages answer errors with a page; the API keeps its JSON answers.
        if request.url.path.startswith("/ui/") and isinstance(exc, ApiError):
            return _error_page(request, exc.status_code, str(exc))
        answer = api_error(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    async def on_sign_in(request: Request, exc: Exception) -> Response:
        target = request.url.path if request.method == "GET" else "/ui/"
        if request.url.query and request.method == "GET":
            target = f"{target}?{request.url.query}"
        return RedirectResponse(f"/ui/login?{urlencode({'next': target})}", status_code=303)

    async def on_csrf(request: Request, exc: Exception) -> Response:
        return _error_page(request, 403, str(exc))

    async def on_page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return _error_page(request, exc.status_code, str(exc))

    async def to_dashboard(request: Request) -> Response:
        return RedirectResponse("/ui/", status_code=307)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(SignInRequiredError, on_sign_in)
    app.add_exception_handler(CsrfError, on_csrf)
    app.add_exception_handler(PageError, on_page_error)
    app.add_api_route("/ui", to_dashboard, include_in_schema=False)
