"""POST /orders/{id}/cancel: releases credit, audited, notified, idempotent, bound (issue 19)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from supplyseg.service.models import Audit
from supplyseg.service.security import issue_api_key

Order = Callable[..., dict[str, Any]]
# S1: credit limit 10000, open receivables 2000; each of these orders is 250 x 10 = 2500.
BIG = [{"line_no": 1, "product_id": "P100", "quantity": 250}]


@pytest.fixture
def policy_doc(policy_doc: dict[str, Any]) -> dict[str, Any]:
    """The fixture policy with key accounts also told of cancellations."""
    policy_doc["segments"]["key_account"]["notify"].append("cancelled")
    return policy_doc


def cancel(service: Any, order_id: int, who: str = "operator", **body: Any) -> Any:
    return service.client.post(
        f"/orders/{order_id}/cancel", json=body or None, headers=service.h(who)
    )


def order_audit(db_url: str, order_id: int) -> list[tuple[str, str, Any, Any, Any]]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Audit.action, Audit.actor, Audit.before, Audit.after, Audit.comment)
            .where(Audit.entity == "order", Audit.entity_id == str(order_id))
            .order_by(Audit.id)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_cancel_releases_the_credit_exposure(service: Any, make_order: Order) -> None:
    placed = [
        service.post("/orders", make_order(po_number=f"CR{i}", lines=BIG)).json() for i in range(4)
    ]
    assert [o["status"] for o in placed] == ["accepted", "accepted", "accepted", "exception"]
    r = cancel(service, placed[0]["order_id"], comment="customer withdrew the PO")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert service.get(f"/orders/{placed[0]['order_id']}").json()["status"] == "cancelled"
    # the next order of the same size fits again: 2000 + 2 x 2500 + 2500 <= 10000
    again = service.post("/orders", make_order(po_number="CR9", lines=BIG)).json()
    assert (again["status"], again["reasons"]) == ("accepted", [])
    [submit, cancelled] = order_audit(service.db_url, placed[0]["order_id"])
    assert submit[0] == "submit"
    assert cancelled[0] == "cancel"
    assert cancelled[2] == {"status": "accepted", "total_value": 2500.0}
    assert cancelled[3] == {
        "status": "cancelled",
        "credit_released": 2500.0,
        "reserved_lines_released": 1,  # the line's promise record (no supply: 0 confirmed)
    }
    assert cancelled[4] == "customer withdrew the PO"
    listed = service.get("/orders", status="cancelled").json()["items"]
    assert [o["order_id"] for o in listed] == [placed[0]["order_id"]]


def test_cancel_is_idempotent(service: Any, make_order: Order) -> None:
    order = service.post("/orders", make_order()).json()
    first = cancel(service, order["order_id"])
    again = cancel(service, order["order_id"], "admin", comment="twice")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert [a[0] for a in order_audit(service.db_url, order["order_id"])] == ["submit", "cancel"]


def test_shipped_or_queued_orders_cannot_be_cancelled(service: Any, make_order: Order) -> None:
    shipped = service.post("/orders", make_order(po_number="SH")).json()
    service.client.post(f"/orders/{shipped['order_id']}/shipment", headers=service.h("operator"))
    r = cancel(service, shipped["order_id"])
    assert (r.status_code, r.json()["code"]) == (409, "not_cancellable")
    assert "shipped" in r.json()["detail"]
    queued = service.post("/orders", make_order(po_number="Q", channel="manual")).json()
    assert queued["status"] == "exception"
    r = cancel(service, queued["order_id"])
    assert (r.status_code, r.json()["code"]) == (409, "not_cancellable")
    assert "resolve its exception with reject" in r.json()["detail"]
    assert service.get(f"/orders/{shipped['order_id']}").json()["status"] == "shipped"
    # and a cancelled order does not ship
    gone = service.post("/orders", make_order(po_number="C")).json()
    cancel(service, gone["order_id"])
    r = service.client.post(f"/orders/{gone['order_id']}/shipment", headers=service.h("operator"))
    assert (r.status_code, r.json()["code"]) == (409, "not_shippable")


def test_who_may_cancel(service: Any, make_order: Order) -> None:
    mine = service.post("/orders", make_order(po_number="M1"), "gateway").json()
    theirs = service.post(
        "/orders", make_order(customer_id="K1", ship_to_id=None, po_number="T1"), "gateway"
    ).json()
    assert (mine["status"], theirs["status"]) == ("accepted", "accepted")
    r = cancel(service, mine["order_id"], "submitter")
    assert (r.status_code, r.json()["code"]) == (403, "role_forbidden")
    with service.app.state.sessions() as session:
        _, token = issue_api_key(session, "operator", ["S1"], label="ops-s1")
        session.commit()
    ops = {"X-API-Key": token}
    c = service.client
    r = c.post(f"/orders/{theirs['order_id']}/cancel", headers=ops)
    assert (r.status_code, r.json()["detail"]) == (404, f"no order {theirs['order_id']}")
    assert service.get(f"/orders/{theirs['order_id']}").json()["status"] == "accepted"
    assert c.post("/orders/999999/cancel", headers=ops).status_code == 404
    assert c.post(f"/orders/{2**63}/cancel", headers=ops).status_code == 404
    r = c.post(f"/orders/{mine['order_id']}/cancel", headers=ops)
    assert (r.status_code, r.json()["status"]) == (200, "cancelled")
    r = cancel(service, theirs["order_id"], "admin")
    assert (r.status_code, r.json()["status"]) == (200, "cancelled")


def test_segments_that_ask_are_notified(service: Any, make_order: Order) -> None:
    k1 = service.post("/orders", make_order(customer_id="K1", ship_to_id=None)).json()
    s1 = service.post("/orders", make_order(po_number="N1")).json()
    for o in (k1, s1):
        cancel(service, o["order_id"], comment="duplicate order")
    feed = service.get("/notifications").json()["items"]
    assert [(n["customer_id"], n["event"]) for n in feed] == [
        ("K1", "accepted"),
        ("K1", "cancelled"),
    ]  # the standard segment does not list cancelled
    assert feed[1]["payload"]["status"] == "cancelled"
    assert feed[1]["payload"]["comment"] == "duplicate order"
