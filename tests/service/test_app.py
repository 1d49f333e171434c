"""The app's reliability contract: 422 with field paths, 413, 503 with nothing stored, docs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.exc import OperationalError

from supplyseg.errors import ServiceError
from supplyseg.service.app import create_app
from supplyseg.service.models import Audit, OrderLine, OrderRow, Outbox
from supplyseg.service.security import issue_api_key
from supplyseg.service.settings import Settings

Order = Callable[..., dict[str, Any]]


def counts(db_url: str) -> tuple[int, ...]:
    """Rows in orders, order_lines, outbox and order audit entries."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        n = [
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (OrderRow, OrderLine, Outbox)
        ]
        n.append(
            conn.execute(
                select(func.count()).select_from(Audit).where(Audit.entity == "order")
            ).scalar_one()
        )
    engine.dispose()
    return tuple(n)


LINE = {"line_no": 1, "product_id": "P100", "quantity": 25}


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ("raw", ["body", 21], "json_invalid"),
        ({"customer_id": None}, ["body", "customer_id"], "string_type"),
        (
            {"lines": [{**LINE, "quantity": "ten"}]},
            ["body", "lines", 0, "quantity"],
            "float_type",
        ),
        ({"lines": [{**LINE, "colour": "red"}]}, ["body", "lines", 0, "colour"], "extra_forbidden"),
        ({"discount": 5}, ["body", "discount"], "extra_forbidden"),
        ({"order_date": "2026-02-30"}, ["body", "order_date"], "date_from_datetime_parsing"),
        ({"channel": "fax"}, ["body", "channel"], "literal_error"),
        ({"lines": [{**LINE, "quantity": -1}]}, ["body", "lines", 0, "quantity"], "greater_than"),
        ({"lines": []}, ["body", "lines"], "too_short"),
        # strict numbers: no coercion of strings or booleans (issue 19)
        ({"lines": [{**LINE, "quantity": "10"}]}, ["body", "lines", 0, "quantity"], "float_type"),
        ({"lines": [{**LINE, "quantity": True}]}, ["body", "lines", 0, "quantity"], "float_type"),
        ({"lines": [{**LINE, "line_no": True}]}, ["body", "lines", 0, "line_no"], "int_type"),
        ({"lines": [{**LINE, "line_no": "1"}]}, ["body", "lines", 0, "line_no"], "int_type"),
        ({"lines": [{**LINE, "line_no": 1.0}]}, ["body", "lines", 0, "line_no"], "int_type"),
        (
            {"lines": [{**LINE, "unit_price": "9.5"}]},
            ["body", "lines", 0, "unit_price"],
            "float_type",
        ),
        # implausible dates
        ({"order_date": "0001-01-01"}, ["body", "order_date"], "value_error"),
        ({"requested_date": "9999-12-31"}, ["body", "requested_date"], "value_error"),
        ({"requested_date": "2026-03-01"}, ["body"], "value_error"),
    ],
)
def test_malformed_requests_get_422_with_the_field_path(
    service: Any, make_order: Order, change: Any, loc: list[Any], kind: str
) -> None:
    headers = {**service.h("submitter"), "Content-Type": "application/json"}
    if change == "raw":
        r = service.client.post("/orders", content=b'{"customer_id": "S1",', headers=headers)
    else:
        r = service.client.post("/orders", json=make_order(**change), headers=headers)
    assert r.status_code == 422, r.text
    details = r.json()["detail"]
    assert any(d["loc"] == loc and d["type"] == kind for d in details), details
    assert counts(service.db_url)[0] == 0


def test_duplicate_line_numbers_are_refused(service: Any, make_order: Order) -> None:
    line = {"line_no": 1, "product_id": "P100", "quantity": 25}
    r = service.post("/orders", make_order(lines=[line, line]))
    assert r.status_code == 422
    assert "lines[1].line_no 1 is duplicated" in r.text


def test_body_size_limit_gives_413(
    db_url: str, policy_doc: dict[str, Any], make_order: Order
) -> None:
    from supplyseg.service.commands import publish_policy

    publish_policy(db_url, policy_doc)
    app = create_app(Settings(db_url=db_url, max_body_bytes=2000))
    with app.state.sessions() as s:
        key = issue_api_key(s, "submitter", None)[1]
        s.commit()
    lines = [{"line_no": i, "product_id": "P100", "quantity": 25} for i in range(1, 60)]
    with TestClient(app) as client:
        r = client.post("/orders", json=make_order(lines=lines), headers={"X-API-Key": key})
        assert r.status_code == 413
        ok = client.post("/orders", json=make_order(), headers={"X-API-Key": key})
        assert ok.status_code == 201

        def chunks() -> Any:  # no Content-Length: the limit is enforced while streaming
            for _ in range(10):
                yield b" " * 500

        streamed = client.post(
            "/orders",
            content=chunks(),
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        assert streamed.status_code == 413
    assert counts(db_url)[0] == 1


@pytest.mark.parametrize("table", ["order_lines", "audit", "outbox"])
def test_database_failure_mid_request_gives_503_and_stores_nothing(
    service: Any, make_order: Order, table: str
) -> None:
    # Order intake runs on an engine of its own on SQLite (the app's engine on PostgreSQL).
    engine = service.app.state.intake_engine
    order = make_order(customer_id="K1", ship_to_id=None)  # key account: writes an outbox row

    def fail(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith(f"INSERT INTO {table}"):
            raise OperationalError(statement, None, Exception("disk I/O error (injected)"))

    event.listen(engine, "before_cursor_execute", fail)
    try:
        r = service.post("/orders", order)
    finally:
        event.remove(engine, "before_cursor_execute", fail)
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "1"
    assert r.json()["code"] == "db_error"
    assert counts(service.db_url) == (0, 0, 0, 0)
    retry = service.post("/orders", order)  # the client's retry succeeds, once
    assert retry.status_code == 201
    assert counts(service.db_url) == (1, 1, 1, 1)


def test_no_published_policy_gives_503(db_url: str, make_order: Order) -> None:
    app = create_app(Settings(db_url=db_url))
    with app.state.sessions() as s:
        key = issue_api_key(s, "submitter", None)[1]
        s.commit()
    with TestClient(app) as client:
        r = client.post("/orders", json=make_order(), headers={"X-API-Key": key})
        assert (r.status_code, r.json()["code"]) == (503, "no_policy")
        assert client.get("/health").json() == {"status": "ok", "policy_version": None}


def test_docs_and_openapi(service: Any) -> None:
    assert service.client.get("/docs").status_code == 200
    spec = service.client.get("/openapi.json").json()
    for path in (
        "/orders",
        "/orders/batch",
        "/orders/csv",
        "/orders/{order_id}",
        "/exceptions",
        "/exceptions/{exception_id}/resolve",
        "/notifications",
        "/policies",
        "/api-keys",
        "/health",
    ):
        assert path in spec["paths"], path
    assert "APIKeyHeader" in spec["components"]["securitySchemes"]
    assert service.client.get("/health").json()["policy_version"] == "fixture-2026-01"


def test_security_headers_on_every_response(service: Any, make_order: Order) -> None:
    c = service.client
    for r in (
        service.post("/orders", make_order()),
        service.get("/orders/999999"),
        c.get("/orders"),  # 401
        c.get("/health"),
        service.post("/orders", make_order(channel="fax")),  # 422
    ):
        assert r.headers["x-content-type-options"] == "nosniff", r.request.url
        assert "server" not in r.headers
    created = service.post("/api-keys", {"role": "operator"}, "admin")
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    assert created.headers["x-content-type-options"] == "nosniff"


def test_an_app_without_a_database_url_fails_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SUPPLYSEG_DB_URL", raising=False)
    with pytest.raises(ServiceError, match="SUPPLYSEG_DB_URL is not set"):
        create_app()
    assert list(tmp_path.iterdir()) == []
    db = tmp_path / "chosen" / "svc.db"
    db.parent.mkdir()
    monkeypatch.setenv("SUPPLYSEG_DB_URL", f"sqlite:///{db}")
    with TestClient(create_app()) as client:
        assert client.get("/health").status_code == 200
    assert [p.name for p in tmp_path.iterdir()] == ["chosen"]
    assert db.exists()
