"""/exceptions: queue filters, approve/reject/amend with mandatory comment, 409, audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, select

from supplyseg.service.models import Audit

Order = Callable[..., dict[str, Any]]


def audit_rows(db_url: str, entity: str, entity_id: str) -> list[Any]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Audit)
            .where(Audit.entity == entity, Audit.entity_id == entity_id)
            .order_by(Audit.id)
        ).all()
    engine.dispose()
    return list(rows)


def failing(make_order: Order, po: str = "E1", **kw: Any) -> dict[str, Any]:
    """An S1 order whose line 1 is below the MOQ (hard) and line 2 fine."""
    return make_order(
        po_number=po,
        lines=[
            {"line_no": 1, "product_id": "P100", "quantity": 5, "unit_price": 10.0},
            {"line_no": 2, "product_id": "P200", "quantity": 10},
        ],
        **kw,
    )


def test_queue_filters_by_segment_and_reason(service: Any, make_order: Order) -> None:
    a = service.post("/orders", failing(make_order)).json()
    b = service.post(
        "/orders", make_order(customer_id="T1", po_number="E2", ship_to_id=None, channel="email")
    ).json()
    c = service.post("/orders", make_order(customer_id="X9", po_number="E3")).json()
    assert {a["status"], b["status"], c["status"]} == {"exception"}
    ids = lambda **p: [e["order_id"] for e in service.get("/exceptions", **p).json()["items"]]  # noqa: E731
    assert ids() == [a["order_id"], b["order_id"], c["order_id"]]
    assert ids(segment="tail") == [b["order_id"]]
    assert ids(reason="below_moq") == [a["order_id"]]
    assert ids(reason="channel_not_allowed") == [b["order_id"]]
    assert ids(reason="unknown_customer") == [c["order_id"]]
    assert ids(segment="standard", reason="channel_not_allowed") == []
    one = service.get(f"/exceptions/{a['exception_id']}").json()
    assert [r["code"] for r in one["reasons"]] == ["below_moq"]
    assert service.get("/exceptions/424242").status_code == 404
    assert service.get("/exceptions", "submitter").status_code == 403


def test_approve_overrides(service: Any, make_order: Order) -> None:
    order = service.post("/orders", failing(make_order)).json()
    r = service.post(
        f"/exceptions/{order['exception_id']}/resolve",
        {"action": "approve", "comment": "customer agreed"},
        "operator",
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["exception"]["status"] == "resolved"
    assert body["exception"]["resolution"] == "approve"
    assert body["exception"]["comment"] == "customer agreed"
    assert body["order"]["status"] == "approved"
    assert body["order"]["exception_id"] is None
    assert service.get("/exceptions").json()["items"] == []
    assert len(service.get("/exceptions", status="resolved").json()["items"]) == 1
    [submit, approve] = audit_rows(service.db_url, "order", str(order["order_id"]))
    assert (submit.action, approve.action) == ("submit", "approve")
    assert approve.before["status"] == "exception"
    assert approve.after["status"] == "approved"
    assert approve.comment == "customer agreed"
    assert approve.actor == service.keys["operator"].split("_")[1]
    [closing] = audit_rows(service.db_url, "exception", str(order["exception_id"]))
    assert closing.after == {"status": "resolved", "resolution": "approve"}


def test_reject(service: Any, make_order: Order) -> None:
    order = service.post("/orders", failing(make_order)).json()
    body = service.post(
        f"/exceptions/{order['exception_id']}/resolve",
        {"action": "reject", "comment": "no"},
        "operator",
    ).json()
    assert body["order"]["status"] == "rejected"
    # a rejected PO may be sent again (corrected) without a duplicate-PO finding
    again = service.post("/orders", make_order(po_number="E1")).json()
    assert again["status"] == "accepted"


def test_amend_revalidates_changed_lines(service: Any, make_order: Order) -> None:
    order = service.post("/orders", failing(make_order)).json()
    eid = order["exception_id"]
    fix = {
        "action": "amend",
        "comment": "raised to MOQ after call with buyer",
        "lines": [{"line_no": 1, "product_id": "P100", "quantity": 10, "unit_price": 10.0}],
    }
    body = service.post(f"/exceptions/{eid}/resolve", fix, "operator").json()
    assert body["order"]["status"] == "accepted"
    assert body["order"]["reasons"] == []
    assert [(ln["line_no"], ln["quantity"]) for ln in body["order"]["lines"]] == [(1, 10), (2, 10)]
    assert body["order"]["total_value"] == 10 * 10 + 10 * 25
    events = audit_rows(service.db_url, "order", str(order["order_id"]))
    amend = events[-1]
    assert amend.action == "amend"
    assert amend.before["lines"][0]["quantity"] == 5
    assert amend.after["lines"][0]["quantity"] == 10
    assert amend.before["validation_round"] == 1
    assert amend.after["validation_round"] == 2


def test_amend_that_still_fails_opens_a_new_exception(service: Any, make_order: Order) -> None:
    order = service.post("/orders", failing(make_order)).json()
    fix = {"action": "amend", "comment": "drop line 2", "remove_line_nos": [2]}
    body = service.post(f"/exceptions/{order['exception_id']}/resolve", fix, "operator").json()
    new = body["order"]
    assert new["status"] == "exception"
    assert new["exception_id"] not in (None, order["exception_id"])
    assert {r["code"] for r in new["reasons"]} == {"below_moq", "below_min_order_value"}
    queue = service.get("/exceptions").json()["items"]
    assert [e["exception_id"] for e in queue] == [new["exception_id"]]
    # the first exception keeps the reasons of round 1
    first = service.get(f"/exceptions/{order['exception_id']}").json()
    assert [r["code"] for r in first["reasons"]] == ["below_moq"]


def test_resolve_validation_and_conflicts(service: Any, make_order: Order) -> None:
    order = service.post("/orders", failing(make_order)).json()
    url = f"/exceptions/{order['exception_id']}/resolve"
    for bad in (
        {"action": "approve"},  # comment is mandatory
        {"action": "approve", "comment": "   "},
        {"action": "amend", "comment": "x"},  # amend without a change
        {"action": "approve", "comment": "x", "remove_line_nos": [1]},
        {"action": "cancel", "comment": "x"},
    ):
        assert service.post(url, bad, "operator").status_code == 422, bad
    gone = {"action": "amend", "comment": "x", "remove_line_nos": [1, 2]}
    assert service.post(url, gone, "operator").json()["code"] == "no_lines_left"
    missing = {"action": "amend", "comment": "x", "remove_line_nos": [7]}
    assert service.post(url, missing, "operator").json()["code"] == "no_line"
    assert service.post(url, {"action": "approve", "comment": "x"}, "submitter").status_code == 403
    assert service.post(url, {"action": "approve", "comment": "ok"}, "operator").status_code == 200
    second = service.post(url, {"action": "reject", "comment": "late"}, "operator")
    assert (second.status_code, second.json()["code"]) == (409, "already_resolved")
    assert (
        service.post(
            "/exceptions/999/resolve", {"action": "approve", "comment": "x"}, "operator"
        ).status_code
        == 404
    )


def test_amend_cannot_request_a_date_before_the_order_date(service: Any, make_order: Order) -> None:
    order = service.post("/orders", failing(make_order)).json()
    url = f"/exceptions/{order['exception_id']}/resolve"
    early = {"action": "amend", "comment": "x", "requested_date": "2026-03-01"}
    r = service.post(url, early, "operator")
    assert (r.status_code, r.json()["code"]) == (422, "invalid_amendment")
    assert r.json()["detail"][0]["loc"] == ["body", "requested_date"]
    assert "before order_date 2026-03-02" in r.json()["detail"][0]["msg"]
    r = service.post(url, {**early, "requested_date": "0001-01-01"}, "operator")
    assert r.json()["detail"][0]["loc"] == ["body", "requested_date"]
    # nothing was changed: the exception is still open and can be resolved
    assert service.get(f"/exceptions/{order['exception_id']}").json()["status"] == "open"
    strict = {"action": "amend", "comment": "x", "remove_line_nos": ["2"]}
    assert service.post(url, strict, "operator").status_code == 422
    assert service.post(url, {"action": "approve", "comment": "ok"}, "operator").status_code == 200
