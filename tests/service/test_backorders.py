"""Backorder processing in the service: each order with changed lines is audited once and
notified per its segment's ``notify`` rule; the promising rules hold for re-confirmations; a
line moved past max_lateness_days raises a late_promise exception, resolved (recovered) when a
later run brings it back within the limit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from supplyseg.service.models import Audit, OrderException
from supplyseg.service.promise import publish_allocation, reserved_lines

from .conftest import Service
from .test_promise import SHARES, VERSION, _order, _supply


@pytest.fixture
def policy_doc(policy_doc: dict[str, Any]) -> dict[str, Any]:
    # key accounts hear of changed confirmations and accept a promise at most 3 days late;
    # standard customers take whole lines only
    policy_doc["segments"]["key_account"]["notify"].append("confirmation_changed")
    policy_doc["segments"]["key_account"]["promising"] = {"max_lateness_days": 3}
    policy_doc["segments"]["standard"]["promising"] = {"partial_shipment": False}
    return policy_doc


@pytest.fixture
def planned(service: Service) -> Service:
    with service.app.state.sessions() as session:
        publish_allocation(
            session, VERSION, SHARES, [{"product_id": "P100", "product_segment": "A"}]
        )
        session.commit()
    assert _supply(service, [("P100", "2030-03-01", "on_hand", 100.0)]).status_code == 200
    return service


def _audits(s: Service) -> list[Audit]:
    with s.app.state.sessions() as session:
        rows = session.scalars(
            select(Audit).where(Audit.action == "backorder_processing").order_by(Audit.id)
        )
        return list(rows)


def test_changed_orders_are_audited_and_notified_per_segment(planned: Service) -> None:
    s = planned
    std = s.post("/orders", _order("S1", 25, "PO-1"), who="gateway").json()
    key = s.post("/orders", _order("K2", 90, "PO-2"), who="gateway").json()
    assert key["lines"][0]["confirmed_quantity"] == 75.0
    since = max([0, *(n["id"] for n in s.get("/notifications", who="admin").json()["items"])])
    assert _supply(s, [("P100", "2030-03-20", "receipt", 40.0)]).status_code == 200
    bop = s.post("/backorder-processing", {}, who="admin").json()
    assert bop["changes"] == {"gained": 1, "later": 1}
    audits = _audits(s)
    assert sorted(int(a.entity_id) for a in audits) == sorted([std["order_id"], key["order_id"]])
    by_order = {int(a.entity_id): a for a in audits}
    got = by_order[key["order_id"]]
    assert got.before is not None
    assert got.before["lines"] == [
        {"line_no": 1, "confirmed_quantity": 75.0, "promised_date": "2030-03-09"}
    ]
    assert got.after["lines"][0]["confirmed_quantity"] == 90.0
    assert got.after["lines"][0]["change"] == "gained"
    assert by_order[std["order_id"]].after["lines"][0]["promised_date"] == "2030-03-20"
    # only the key account's segment asks for confirmation_changed
    feed = s.get("/notifications", who="admin", since=since).json()["items"]
    assert [(n["order_id"], n["event"]) for n in feed] == [
        (key["order_id"], "confirmation_changed")
    ]
    payload = feed[0]["payload"]
    assert payload["po_number"] == "PO-2"
    assert payload["lines"][0]["confirmed_quantity"] == 90.0
    # nothing changes on a second run: no audit, no notification
    again = s.post("/backorder-processing", {}, who="admin").json()
    assert again["changes"] == {"unchanged": 2}
    assert len(_audits(s)) == 2
    assert s.get("/notifications", who="admin", since=feed[0]["id"]).json()["items"] == []


def test_a_segment_without_partial_shipment_is_never_re_confirmed_in_part(
    planned: Service,
) -> None:
    s = planned
    first = s.post("/orders", _order("S1", 25, "PO-1"), who="gateway").json()
    second = s.post("/orders", _order("S1", 20, "PO-2"), who="gateway").json()
    assert [o["lines"][0]["confirmed_quantity"] for o in (first, second)] == [25.0, 20.0]
    # the stock count finds 30: one line can be kept whole, the other waits whole
    assert _supply(s, [("P100", "2030-03-01", "on_hand", 30.0)]).status_code == 200
    bop = s.post("/backorder-processing", {}, who="admin").json()
    assert bop["confirmed_after"] in (20.0, 25.0)
    confirmed = [
        s.get(f"/orders/{o['order_id']}").json()["lines"][0]["confirmed_quantity"]
        for o in (first, second)
    ]
    assert sorted(confirmed) in ([0.0, 20.0], [0.0, 25.0])
    assert bop["changes"].get("lost") == 1


def _feed(s: Service, since: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = s.get("/notifications", who="admin", since=since).json()["items"]
    return items


def _last_id(s: Service) -> int:
    return max([0, *(n["id"] for n in s.get("/notifications", who="admin").json()["items"])])


def _promised(s: Service, order_id: int) -> tuple[Any, ...]:
    ln = s.get(f"/orders/{order_id}").json()["lines"][0]
    return ln["confirmed_quantity"], ln["promised_date"]


def _stock_count(s: Service, on_hand: float, receipt: float | None = None) -> None:
    """The product's supply replaced: ``on_hand`` on 2030-03-01, a receipt on 2030-03-20."""
    rows = [("P100", "2030-03-01", "on_hand", on_hand)]
    assert _supply(s, rows, mode="replace").status_code == 200
    if receipt is not None:
        assert _supply(s, [("P100", "2030-03-20", "receipt", receipt)]).status_code == 200


def test_a_line_moved_past_the_lateness_limit_raises_late_promise_until_it_recovers(
    planned: Service,
) -> None:
    s = planned
    order = s.post("/orders", _order("K2", 60, "PO-1"), who="gateway").json()
    oid = order["order_id"]
    assert (order["status"], _promised(s, oid)) == ("accepted", (60.0, "2030-03-09"))
    since = _last_id(s)
    # the count finds 30; 40 more come on 2030-03-20, 11 days after the request (limit 3)
    _stock_count(s, 30.0, receipt=40.0)
    bop = s.post("/backorder-processing", {}, who="admin").json()
    assert (bop["late_promise_opened"], bop["late_promise_recovered"]) == (1, 0)
    # the order keeps its status and its reservation while a person decides
    got = s.get(f"/orders/{oid}").json()
    assert got["status"] == "accepted"
    assert _promised(s, oid) == (60.0, "2030-03-20")
    [exc] = s.get("/exceptions").json()["items"]
    assert (exc["order_id"], exc["exception_id"]) == (oid, got["exception_id"])
    [reason] = exc["reasons"]
    assert (reason["code"], reason["line_no"], reason["severity"]) == ("late_promise", 1, "error")
    assert reason["suggested_value"] == "2030-03-20"
    assert "2030-03-12" in reason["message"]
    assert s.get("/exceptions", reason="late_promise").json()["items"] == [exc]
    [audit] = _audits(s)
    assert audit.after["exception_id"] == exc["exception_id"]
    assert audit.after["reason_codes"] == ["late_promise"]
    assert audit.after["lines"][0]["late_promise"] == "late"
    assert audit.comment.startswith(f"late_promise exception {exc['exception_id']} opened")
    # key accounts hear of the exception and of the changed confirmation
    feed = _feed(s, since)
    assert sorted(n["event"] for n in feed) == ["confirmation_changed", "exception"]
    assert {n["order_id"] for n in feed} == {oid}
    # visible in the workbench queue
    ui = TestClient(s.app)
    assert ui.post("/ui/login", data={"api_key": s.keys["operator"]}).status_code == 200
    page = ui.get("/ui/exceptions", params={"reason": "late_promise"}).text
    assert f"/ui/exceptions/{exc['exception_id']}" in page
    # nothing changes on the next run: no second exception
    again = s.post("/backorder-processing", {}, who="admin").json()
    assert (again["late_promise_opened"], again["changes"]) == (0, {"unchanged": 1})
    assert len(s.get("/exceptions").json()["items"]) == 1
    # the stock turns up: the line is in time again and the exception resolves itself
    since = _last_id(s)
    _stock_count(s, 100.0)
    bop = s.post("/backorder-processing", {}, who="admin").json()
    assert (bop["late_promise_opened"], bop["late_promise_recovered"]) == (0, 1)
    assert _promised(s, oid) == (60.0, "2030-03-09")
    assert s.get("/exceptions").json()["items"] == []
    done = s.get(f"/exceptions/{exc['exception_id']}").json()
    assert (done["status"], done["resolution"]) == ("resolved", "recovered")
    assert done["resolved_by"] == s.keys["admin"].split("_")[1]
    assert "line 1 promised for 2030-03-09, latest 2030-03-12" in done["comment"]
    recovered = _audits(s)[-1]
    assert recovered.after["exception_recovered"] == exc["exception_id"]
    assert recovered.after["lines"][0]["late_promise"] == "within_limit"
    [note] = _feed(s, since)
    assert note["event"] == "confirmation_changed"
    assert note["payload"]["lines"][0]["late_promise"] == "within_limit"
    assert "recovered" in note["payload"]["comment"]
    assert s.get(f"/orders/{oid}").json()["status"] == "accepted"


def test_a_late_promise_from_backorder_processing_is_resolved_like_any_exception(
    planned: Service,
) -> None:
    s = planned
    a = s.post("/orders", _order("K2", 60, "PO-1"), who="gateway").json()
    b = s.post("/orders", _order("K2", 30, "PO-2"), who="gateway").json()
    _stock_count(s, 20.0, receipt=80.0)
    assert s.post("/backorder-processing", {}, who="admin").json()["late_promise_opened"] == 2
    queue = {e["order_id"]: e["exception_id"] for e in s.get("/exceptions").json()["items"]}
    assert set(queue) == {a["order_id"], b["order_id"]}
    url = "/exceptions/{}/resolve"
    # approving accepts the later date: the order keeps what it holds
    held = _promised(s, a["order_id"])
    r = s.post(url.format(queue[a["order_id"]]), {"action": "approve", "comment": "ok"}, "operator")
    assert r.status_code == 200, r.text
    assert r.json()["order"]["status"] == "approved"
    assert _promised(s, a["order_id"]) == held
    # rejecting releases it
    r = s.post(url.format(queue[b["order_id"]]), {"action": "reject", "comment": "no"}, "operator")
    assert r.json()["order"]["status"] == "rejected"
    with s.app.state.sessions() as session:
        assert reserved_lines(session, b["order_id"]) == 0
    # an approved late line is not raised again while it stays late
    assert s.post("/backorder-processing", {}, who="admin").json()["late_promise_opened"] == 0
    assert s.get("/exceptions").json()["items"] == []


def test_cancelling_or_shipping_an_order_closes_its_late_promise_exception(
    planned: Service,
) -> None:
    s = planned
    a = s.post("/orders", _order("K2", 60, "PO-1"), who="gateway").json()
    b = s.post("/orders", _order("K2", 30, "PO-2"), who="gateway").json()
    _stock_count(s, 20.0, receipt=80.0)
    assert s.post("/backorder-processing", {}, who="admin").json()["late_promise_opened"] == 2
    r = s.client.post(
        f"/orders/{a['order_id']}/cancel",
        json={"comment": "no longer needed"},
        headers=s.h("admin"),
    )
    assert r.status_code == 200, r.text
    r = s.post(f"/orders/{b['order_id']}/shipment", {"comment": "left the DC"}, "operator")
    assert r.status_code == 200, r.text
    assert s.get("/exceptions").json()["items"] == []
    with s.app.state.sessions() as session:
        closed = session.scalars(select(OrderException).order_by(OrderException.order_id))
        assert [(e.resolution, e.comment) for e in closed] == [
            ("cancelled", "no longer needed"),
            ("shipped", "left the DC"),
        ]
