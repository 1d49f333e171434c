"""Workbench sign-in: the session cookie, CSRF, sign-out, revoked keys and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from supplyseg.service.models import Audit
from supplyseg.service.security import key_hash
from supplyseg.service.ui.auth import SESSION_COOKIE, UiSession
from supplyseg.service.ui.signin import safe_next

Browser = Callable[[str], Any]


def test_pages_need_a_session(service: Any) -> None:
    client = TestClient(service.app)
    answer = client.get("/ui/orders?q=PO", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=%2Fui%2Forders%3Fq%3DPO"
    login = client.get("/ui/login")
    assert login.status_code == 200
    assert '<label for="api_key">' in login.text
    assert 'id="api_key"' in login.text


def test_sign_in_sets_a_strict_http_only_cookie_holding_no_key(service: Any) -> None:
    client = TestClient(service.app)
    key = service.keys["operator"]
    answer = client.post(
        "/ui/login", data={"api_key": key, "next": "/ui/exceptions"}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/exceptions"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for flag in ("HttpOnly", "SameSite=strict", "Path=/ui"):
        assert flag.lower() in cookie.lower()
    token = client.cookies[SESSION_COOKIE]
    assert key not in cookie
    assert token not in key
    # Stored hashed only; the sign-in is audited.
    engine = create_engine(service.db_url)
    with engine.connect() as conn:
        stored = conn.execute(select(UiSession.token_hash, UiSession.key_id)).all()
        audited = conn.execute(select(Audit.action).where(Audit.entity == "ui_session")).all()
    engine.dispose()
    assert [s.token_hash for s in stored] == [key_hash(token)]
    assert [a.action for a in audited] == ["sign_in"]
    assert client.get("/ui/").status_code == 200


def test_a_bad_key_is_refused_with_the_form_again(service: Any) -> None:
    client = TestClient(service.app)
    answer = client.post("/ui/login", data={"api_key": "ssk_nope_nope"}, follow_redirects=False)
    assert answer.status_code == 401
    assert "unknown or revoked" in answer.text
    assert SESSION_COOKIE not in client.cookies


def test_open_redirects_are_refused() -> None:
    assert safe_next("//evil.example/x") == "/ui/"
    assert safe_next("https://evil.example/") == "/ui/"
    assert safe_next("/ui/\\evil") == "/ui/"
    assert safe_next("/ui/orders?q=1") == "/ui/orders?q=1"


def test_sign_in_from_another_origin_is_refused(service: Any) -> None:
    client = TestClient(service.app)
    answer = client.post(
        "/ui/login",
        data={"api_key": service.keys["operator"]},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_state_changes_need_the_csrf_token_and_same_origin(service: Any, browser: Browser) -> None:
    op = browser("operator")
    assert op.post("/ui/logout", {}, csrf=False).status_code == 403
    assert op.post("/ui/logout", {"csrf_token": "forged"}, csrf=False).status_code == 403
    cross = op.post("/ui/logout", {}, Origin="https://evil.example")
    assert cross.status_code == 403
    assert op.get("/ui/").status_code == 200  # still signed in
    same = op.post("/ui/logout", {}, Origin="http://testserver")
    assert same.status_code == 303
    assert op.client.get("/ui/", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_on_the_server(service: Any, browser: Browser) -> None:
    op = browser("operator")
    token = op.client.cookies[SESSION_COOKIE]
    assert op.post("/ui/logout", {}).status_code == 303
    replay = TestClient(service.app, cookies={SESSION_COOKIE: token})
    assert replay.get("/ui/", follow_redirects=False).status_code == 303


def test_a_revoked_key_ends_its_sessions(service: Any, browser: Browser) -> None:
    sub = browser("s1_only")
    assert sub.get("/ui/orders").status_code == 200
    key_id = service.keys["s1_only"].split("_")[1]
    revoked = service.client.delete(f"/api-keys/{key_id}", headers=service.h("admin"))
    assert revoked.status_code in (200, 204), revoked.text
    assert sub.client.get("/ui/orders", follow_redirects=False).status_code == 303


def test_pages_refuse_scripts_and_framing(browser: Browser) -> None:
    answer = browser("admin").get("/ui/")
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp  # default-src 'none' covers scripts
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert "<script" not in answer.text


def test_roles_see_only_their_screens(browser: Browser) -> None:
    sub = browser("submitter")
    home = sub.get("/ui/").text
    assert 'href="/ui/orders"' in home
    assert 'href="/ui/exceptions"' not in home
    assert sub.get("/ui/exceptions").status_code == 403
    assert sub.get("/ui/policies").status_code == 403
    assert sub.get("/ui/segments").status_code == 403
    op = browser("operator").get("/ui/").text
    assert all(f'href="/ui/{p}"' in op for p in ("exceptions", "orders", "policies", "segments"))


def test_the_api_keeps_its_json_errors(service: Any) -> None:
    answer = service.get("/orders/424242")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_an_oversized_form_is_an_empty_one(service: Any, browser: Browser) -> None:
    op = browser("operator")
    fields = "&".join(f"f{i}=1" for i in range(6000))
    answer = op.client.post(
        "/ui/logout",
        content=fields,
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert answer.status_code == 403  # no CSRF token: refused, not a crash
