"""resolve_exception: exactly one of several simultaneous resolutions wins; approving reserves
supply as POST /orders does (never over-promising under parallel approvals), rejecting reserves
nothing, amending promises the amended lines anew and re-checks their lateness."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from supplyseg.service.commands import publish_policy
from supplyseg.service.db import engine_for, migrate, session_factory
from supplyseg.service.intake import submit_orders
from supplyseg.service.models import Audit, Outbox
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import ConflictError
from supplyseg.service.promise import write_supply
from supplyseg.service.promise_models import PromiseRow
from supplyseg.service.resolution import resolve_exception
from supplyseg.service.schemas import OrderIn, OrderOut, ResolveIn
from supplyseg.service.security import Principal
from supplyseg.service.settings import Settings

from .conftest import Service

Order = Callable[..., dict[str, Any]]


def test_simultaneous_resolutions_let_exactly_one_win(
    db_url: str, policy_doc: dict[str, Any], make_order: Order
) -> None:
    publish_policy(db_url, policy_doc)
    engine = engine_for(Settings(db_url=db_url, db_pool_size=4))
    migrate(engine)
    sessions = session_factory(engine)
    cache = PolicyCache()
    bad = OrderIn.model_validate(make_order(customer_id="K1", ship_to_id="NOWHERE"))
    with sessions() as s:
        [sub] = submit_orders(s, cache, [bad], principal=Principal("t", "submitter", None))
    exception_id = sub.order.exception_id
    assert exception_id is not None
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def operator(action: str) -> None:
        req = ResolveIn.model_validate({"action": action, "comment": f"by {action}"})
        barrier.wait()
        with sessions() as s:
            try:
                resolve_exception(s, cache, exception_id, req, actor=action)
                outcomes.append(action)
            except ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=operator, args=(a,)) for a in ("approve", "reject") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count("conflict") == 3
    winner = next(o for o in outcomes if o != "conflict")
    with sessions() as s:
        resolved = s.scalar(
            select(func.count()).where(Audit.entity == "exception", Audit.action == "resolve")
        )
        assert resolved == 1
        # K1 is a key account: one notification for the submission, one for the resolution
        events = s.scalars(select(Outbox.event).order_by(Outbox.id)).all()
        assert events == ["exception", "approved" if winner == "approve" else "rejected"]
    engine.dispose()


# --- order promising through the exception queue (issue 20) ---------------------------------
# key accounts accept a promise at most 3 days late; P100: 40 on hand at DC1 on 2030-03-01 and
# a receipt of 50 on 2030-03-20; P300: 23 on hand (the last units of the parallel test)
SUPPLY = [
    ("P100", "DC1", "2030-03-01", "on_hand", 40.0),
    ("P100", "DC1", "2030-03-20", "receipt", 50.0),
    ("P300", "DC1", "2030-03-01", "on_hand", 23.0),
]


@pytest.fixture
def policy_doc(policy_doc: dict[str, Any]) -> dict[str, Any]:
    policy_doc["segments"]["key_account"]["promising"] = {"max_lateness_days": 3}
    return policy_doc


@pytest.fixture
def stocked(service: Service) -> Service:
    rows = [
        {"product_id": p, "location_id": loc, "date": d, "kind": k, "quantity": q}
        for p, loc, d, k, q in SUPPLY
    ]
    assert service.post("/supply", {"rows": rows}, who="admin").status_code == 200
    return service


def _order(customer: str, qty: float, po: str, **line: Any) -> dict[str, Any]:
    """An order for 2030-03-09 whose unit price (99, list 10) is a hard price finding."""
    return {
        "customer_id": customer,
        "po_number": po,
        "channel": "edi",
        "order_date": "2030-03-02",
        "requested_date": "2030-03-09",
        "ship_to_id": {"K1": "K1-A", "S1": "S1-MAIN"}.get(customer),
        "lines": [
            {"line_no": 1, "product_id": "P100", "quantity": qty, "unit_price": 99.0, **line}
        ],
    }


PROMISE_KEYS = ("confirmed_quantity", "promised_date", "backorder_quantity", "location_id")


def _promised(order: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(ln[k] for k in PROMISE_KEYS) for ln in order["lines"]]


def _resolve(s: Service, exception_id: int, action: str, **changes: Any) -> dict[str, Any]:
    r = s.post(
        f"/exceptions/{exception_id}/resolve",
        {"action": action, "comment": f"{action} by test", **changes},
        "operator",
    )
    assert r.status_code == 200, r.text
    order: dict[str, Any] = r.json()["order"]
    return order


def _can_promise(s: Service, qty: float) -> tuple[Any, ...]:
    body = _order("K2", qty, "ASK")
    body["lines"][0]["unit_price"] = 10.0
    r = s.post("/promise", body, who="gateway")
    assert r.status_code == 200, r.text
    return _promised(r.json())[0][:2]


def test_approving_reserves_as_an_accepted_order_does(stocked: Service) -> None:
    s = stocked
    held = s.post("/orders", _order("S1", 25, "PO-1", location_id="DC1"), who="gateway").json()
    assert held["status"] == "exception"
    assert _promised(held) == [(None, None, None, None)]  # an exception holds nothing
    assert _can_promise(s, 40) == (40.0, "2030-03-09")
    order = _resolve(s, held["exception_id"], "approve")
    assert order["status"] == "approved"
    # the line's own location is kept through the queue (as POST /orders promises it)
    assert _promised(order) == [(25.0, "2030-03-09", 0.0, "DC1")]
    assert order["lines"][0]["allocation_segment"] is None  # P100 is outside any plan here
    assert _promised(s.get(f"/orders/{order['order_id']}").json()) == _promised(order)
    assert _can_promise(s, 40) == (40.0, "2030-03-20")  # 15 left on hand: the rest waits
    [approve] = [a for a in _audits(s, order["order_id"]) if a.action == "approve"]
    assert approve.after["lines"][0]["confirmed_quantity"] == 25.0
    assert approve.after["reserved_lines"] == 1
    # cancelling the approved order gives the units back
    r = s.client.post(
        f"/orders/{order['order_id']}/cancel", json={"comment": "withdrawn"}, headers=s.h("admin")
    )
    assert r.status_code == 200, r.text
    assert _can_promise(s, 40) == (40.0, "2030-03-09")
    [cancel] = [a for a in _audits(s, order["order_id"]) if a.action == "cancel"]
    assert cancel.after["reserved_lines_released"] == 1


def test_rejecting_reserves_nothing(stocked: Service) -> None:
    s = stocked
    held = s.post("/orders", _order("K2", 30, "PO-1"), who="gateway").json()
    order = _resolve(s, held["exception_id"], "reject")
    assert order["status"] == "rejected"
    assert _promised(order) == [(None, None, None, None)]
    assert _can_promise(s, 40) == (40.0, "2030-03-09")


def test_amending_promises_the_amended_lines_and_rechecks_lateness(stocked: Service) -> None:
    s = stocked
    held = s.post("/orders", _order("K2", 60, "PO-1"), who="gateway").json()
    assert {r["code"] for r in held["reasons"]} == {"price_out_of_tolerance"}
    # the price fixed, 60 can only be promised with the receipt of 2030-03-20: 11 days late
    fix = {"lines": [{"line_no": 1, "product_id": "P100", "quantity": 60, "unit_price": 10.0}]}
    late = _resolve(s, held["exception_id"], "amend", **fix)
    assert late["status"] == "exception"
    assert [r["code"] for r in late["reasons"]] == ["late_promise"]
    assert late["reasons"][0]["suggested_value"] == "2030-03-20"
    assert late["exception_id"] not in (None, held["exception_id"])
    assert _promised(late) == [(None, None, None, None)]  # a late_promise exception holds nothing
    assert _can_promise(s, 40) == (40.0, "2030-03-09")
    # 30 are on hand on the requested date: accepted and reserved
    fix["lines"][0]["quantity"] = 30
    ok = _resolve(s, late["exception_id"], "amend", **fix)
    assert (ok["status"], ok["reasons"]) == ("accepted", [])
    assert _promised(ok) == [(30.0, "2030-03-09", 0.0, None)]
    assert _can_promise(s, 40) == (40.0, "2030-03-20")  # 10 left on hand


def _audits(s: Service, order_id: int) -> list[Audit]:
    with s.app.state.sessions() as session:
        return list(
            session.scalars(
                select(Audit)
                .where(Audit.entity == "order", Audit.entity_id == str(order_id))
                .order_by(Audit.id)
            )
        )


def test_parallel_approvals_on_the_last_units_never_over_promise(
    db_url: str, policy_doc: dict[str, Any]
) -> None:
    publish_policy(db_url, policy_doc)
    engine = engine_for(Settings(db_url=db_url, db_pool_size=8))
    migrate(engine)
    sessions = session_factory(engine)
    cache = PolicyCache()
    with sessions() as s:
        rows = [{"product_id": "P300", "location_id": "DC1", "date": date(2030, 3, 1),
                 "kind": "on_hand", "quantity": 23.0}]  # fmt: skip
        write_supply(s, rows, replace=False, actor="test")
        s.commit()
    orders = [
        OrderIn.model_validate(_order(("K1", "K2")[i % 2], 5, f"PAR-{i}", product_id="P300"))
        for i in range(8)
    ]
    with sessions() as s:
        subs = submit_orders(s, cache, orders, principal=Principal("t", "submitter", None))
    exception_ids = [sub.order.exception_id for sub in subs]
    assert None not in exception_ids
    barrier = threading.Barrier(len(exception_ids))
    results: list[OrderOut] = []
    errors: list[BaseException] = []

    def operator(exception_id: int) -> None:
        req = ResolveIn.model_validate({"action": "approve", "comment": "agreed by phone"})
        barrier.wait()
        try:
            with sessions() as s:
                results.append(resolve_exception(s, cache, exception_id, req, actor="op")[1])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=operator, args=(e,)) for e in exception_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    confirmed = sorted(o.lines[0].confirmed_quantity or 0.0 for o in results)
    assert sum(confirmed) == pytest.approx(23.0)  # all there is, never more
    assert confirmed == [0.0, 0.0, 0.0, 3.0, 5.0, 5.0, 5.0, 5.0]
    with sessions() as s:
        stored = s.scalar(
            select(func.sum(PromiseRow.confirmed_quantity)).where(PromiseRow.status == "open")
        )
    assert stored == pytest.approx(23.0)
    engine.dispose()
