"""Workbench orders: search within the key's customers, history from the audit trail,
notifications, promise fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Order = Callable[..., dict[str, Any]]
Browser = Callable[[str], Any]


def test_search_and_binding(service: Any, make_order: Order, browser: Browser) -> None:
    s1 = service.post("/orders", make_order(po_number="PO-A7")).json()
    t1 = service.post(
        "/orders", make_order(customer_id="K1", po_number="PO-B8", ship_to_id=None), "gateway"
    ).json()
    op = browser("operator")

    def found(who: Any, **params: Any) -> set[int]:
        text = who.get("/ui/orders", **params).text
        return {o["order_id"] for o in (s1, t1) if f'href="/ui/orders/{o["order_id"]}"' in text}

    assert found(op) == {s1["order_id"], t1["order_id"]}
    assert found(op, q="PO-A") == {s1["order_id"]}
    assert found(op, q="K1") == {t1["order_id"]}
    assert found(op, q=str(t1["order_id"])) == {t1["order_id"]}
    assert found(op, q="PO-%") == set()  # a LIKE wildcard is a character, not a pattern
    assert found(op, status="accepted") == {s1["order_id"], t1["order_id"]}
    assert found(op, status="shipped") == set()
    s1_only = browser("s1_only")
    assert found(s1_only) == {s1["order_id"]}
    assert found(s1_only, q="K1") == set()
    hidden = s1_only.get(f"/ui/orders/{t1['order_id']}")
    assert hidden.status_code == 404
    assert "PO-B8" not in hidden.text


def test_an_order_shows_its_history_and_notifications(
    service: Any, make_order: Order, browser: Browser
) -> None:
    # K1 is a key account: its policy notifies every event.
    order = service.post(
        "/orders", make_order(customer_id="K1", po_number="H-1", ship_to_id=None), "gateway"
    ).json()
    shipped = service.post(
        f"/orders/{order['order_id']}/shipment", {"comment": "left dock 3"}, "operator"
    )
    assert shipped.status_code == 200, shipped.text
    text = browser("operator").get(f"/ui/orders/{order['order_id']}").text
    assert "order submit" in text
    assert "order ship" in text
    assert "left dock 3" in text
    feed = service.get("/notifications").json()["items"]
    mine = [n for n in feed if n["order_id"] == order["order_id"]]
    assert [n["event"] for n in mine] == ["accepted", "shipped"]
    for n in mine:
        assert f'<td class="n">{n["id"]}</td>' in text
    # promise columns are there; without supply they read "unknown", never 0
    assert "Promised date" in text
    assert "unknown" in text
