"""Customer binding on every resource: orders, exceptions, shipments (issue 19).

A key bound to customers sees only their orders and exceptions; another customer's order or
exception is answered 404 exactly like a missing one, and cannot be resolved or shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from supplyseg.service.security import issue_api_key

Order = Callable[..., dict[str, Any]]


def bound_operator(service: Any, customers: list[str]) -> dict[str, str]:
    with service.app.state.sessions() as session:
        _, token = issue_api_key(session, "operator", customers, label="ops-s1")
        session.commit()
    return {"X-API-Key": token}


def below_moq(make_order: Order, customer: str, po: str) -> dict[str, Any]:
    return make_order(
        customer_id=customer,
        po_number=po,
        ship_to_id=None,
        lines=[
            {"line_no": 1, "product_id": "P100", "quantity": 5, "unit_price": 10.0},
            {"line_no": 2, "product_id": "P200", "quantity": 10},
        ],
    )


def test_bound_operator_sees_and_resolves_only_its_customers_exceptions(
    service: Any, make_order: Order
) -> None:
    mine = service.post("/orders", below_moq(make_order, "S1", "M1"), "gateway").json()
    theirs = service.post("/orders", below_moq(make_order, "S2", "T1"), "gateway").json()
    assert mine["status"] == theirs["status"] == "exception"
    ops = bound_operator(service, ["S1"])
    c = service.client

    listed = c.get("/exceptions", headers=ops).json()["items"]
    assert [e["exception_id"] for e in listed] == [mine["exception_id"]]
    everyone = service.get("/exceptions").json()["items"]
    assert len(everyone) == 2  # the unbound operator still sees both

    assert c.get(f"/exceptions/{mine['exception_id']}", headers=ops).status_code == 200
    hidden = c.get(f"/exceptions/{theirs['exception_id']}", headers=ops)
    missing = c.get("/exceptions/999999", headers=ops)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    assert hidden.json()["detail"] == f"no exception {theirs['exception_id']}"
    assert missing.status_code == 404

    approve = {"action": "approve", "comment": "ok"}
    r = c.post(f"/exceptions/{theirs['exception_id']}/resolve", json=approve, headers=ops)
    assert r.status_code == 404
    # nothing changed: the other customer's exception is still open
    assert service.get(f"/exceptions/{theirs['exception_id']}").json()["status"] == "open"
    r = c.post(f"/exceptions/{mine['exception_id']}/resolve", json=approve, headers=ops)
    assert r.status_code == 200, r.text
    assert r.json()["order"]["status"] == "approved"


def test_bound_operator_ships_only_its_customers_orders(service: Any, make_order: Order) -> None:
    mine = service.post("/orders", make_order(po_number="M1"), "gateway").json()
    # S2 is inactive: its order becomes shippable once an unbound operator approves it
    held = service.post(
        "/orders", make_order(customer_id="S2", po_number="T1", ship_to_id=None), "gateway"
    ).json()
    approve = {"action": "approve", "comment": "reactivated"}
    r = service.post(f"/exceptions/{held['exception_id']}/resolve", approve, "operator")
    theirs = r.json()["order"]
    assert (mine["status"], theirs["status"]) == ("accepted", "approved")
    ops = bound_operator(service, ["S1"])
    c = service.client
    r = c.post(f"/orders/{theirs['order_id']}/shipment", headers=ops)
    assert (r.status_code, r.json()["detail"]) == (404, f"no order {theirs['order_id']}")
    assert service.get(f"/orders/{theirs['order_id']}").json()["status"] == theirs["status"]
    assert c.post("/orders/999999/shipment", headers=ops).status_code == 404
    r = c.post(f"/orders/{mine['order_id']}/shipment", headers=ops)
    assert (r.status_code, r.json()["status"]) == (200, "shipped")
    # the orders list and single reads follow the same binding
    listed = c.get("/orders", headers=ops).json()["items"]
    assert [o["order_id"] for o in listed] == [mine["order_id"]]
    assert c.get(f"/orders/{theirs['order_id']}", headers=ops).status_code == 404
