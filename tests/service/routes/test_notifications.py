"""/notifications: each segment gets the events its policy lists; cursor; customer binding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Order = Callable[..., dict[str, Any]]


def events(service: Any, who: str = "operator", since: int = 0) -> list[tuple[str, str]]:
    items = service.get("/notifications", who, since=since).json()["items"]
    return [(n["customer_id"], n["event"]) for n in items]


def test_key_accounts_get_every_status_change_others_only_exceptions_and_shipments(
    service: Any, make_order: Order
) -> None:
    k1 = service.post("/orders", make_order(customer_id="K1", ship_to_id="K1-A")).json()
    s1 = service.post("/orders", make_order()).json()
    s1_bad = service.post("/orders", make_order(po_number="P2", channel="manual")).json()
    assert (k1["status"], s1["status"], s1_bad["status"]) == ("accepted", "accepted", "exception")
    assert events(service) == [("K1", "accepted"), ("S1", "exception")]
    for o in (k1, s1):
        service.client.post(f"/orders/{o['order_id']}/shipment", headers=service.h("operator"))
    service.post(
        f"/exceptions/{s1_bad['exception_id']}/resolve",
        {"action": "approve", "comment": "ok"},
        "operator",
    )
    assert events(service)[2:] == [("K1", "shipped"), ("S1", "shipped")]  # no S1 "approved"


def test_amend_notifies_key_accounts_of_amended_and_new_status(
    service: Any, make_order: Order
) -> None:
    bad = make_order(customer_id="K1", ship_to_id="NOWHERE")
    order = service.post("/orders", bad).json()
    assert order["status"] == "exception"
    service.post(
        f"/exceptions/{order['exception_id']}/resolve",
        {"action": "amend", "comment": "right dock", "ship_to_id": "K1-B"},
        "operator",
    )
    assert events(service) == [("K1", "exception"), ("K1", "amended"), ("K1", "accepted")]
    feed = service.get("/notifications").json()["items"]
    assert feed[-1]["payload"]["status"] == "accepted"
    assert feed[1]["payload"]["comment"] == "right dock"


def test_tail_segment_is_told_of_rejections(service: Any, make_order: Order) -> None:
    o = service.post("/orders", make_order(customer_id="T1", ship_to_id=None)).json()
    service.post(
        f"/exceptions/{o['exception_id']}/resolve",
        {"action": "reject", "comment": "below MOQ"},
        "operator",
    )
    assert events(service) == [("T1", "exception"), ("T1", "rejected")]


def test_unknown_customers_have_no_segment_and_no_notifications(
    service: Any, make_order: Order
) -> None:
    service.post("/orders", make_order(customer_id="X9"))
    assert events(service) == []


def test_cursor_and_binding(service: Any, make_order: Order) -> None:
    for i in range(3):
        service.post("/orders", make_order(customer_id="K1", ship_to_id=None, po_number=f"N{i}"))
    service.post("/orders", make_order(po_number="N9", channel="manual"), "gateway")
    page = service.get("/notifications", since=0, limit=2).json()
    assert [n["id"] for n in page["items"]] == [1, 2]
    assert page["next_since"] == 2
    rest = service.get("/notifications", since=page["next_since"]).json()
    assert [n["id"] for n in rest["items"]] == [3, 4]
    assert rest["next_since"] == 4
    empty = service.get("/notifications", since=4).json()
    assert (empty["items"], empty["next_since"]) == ([], 4)
    assert events(service, "s1_only") == [("S1", "exception")]
    assert service.client.get("/notifications").status_code == 401
