"""Backorder processing in the service: each order with changed lines is audited once and
notified per its segment's ``notify`` rule; the promising rules hold for re-confirmations."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from supplyseg.service.models import Audit
from supplyseg.service.promise import publish_allocation

from .conftest import Service
from .test_promise import SHARES, VERSION, _order, _supply


@pytest.fixture
def policy_doc(policy_doc: dict[str, Any]) -> dict[str, Any]:
    # key accounts hear of changed confirmations; standard customers take whole lines only
    policy_doc["segments"]["key_account"]["notify"].append("confirmation_changed")
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
