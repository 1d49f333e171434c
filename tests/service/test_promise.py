"""Order promising in the service: /promise, reservations by POST /orders, nesting by segment,
/supply, release, backorder processing, and no over-promise under parallel orders."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, func, select

from supplyseg.service.app import create_app
from supplyseg.service.commands import create_api_key, publish_policy, run_backorder_processing
from supplyseg.service.promise import publish_allocation, release_reservations
from supplyseg.service.promise_models import PromiseRow
from supplyseg.service.settings import Settings

from .conftest import Service

VERSION = "fixture-2026-01"
# P100 is product segment A: key_account 50 %, standard 30 %, tail 20 % (nested, in that order)
SHARES = [
    {"product_segment": "A", "customer_segment": "key_account", "priority": 1, "share": 0.5,
     "strategy": "gain"},
    {"product_segment": "A", "customer_segment": "standard", "priority": 2, "share": 0.3,
     "strategy": "redistribute"},
    {"product_segment": "A", "customer_segment": "tail", "priority": 3, "share": 0.2,
     "strategy": "redistribute"},
]  # fmt: skip


def _order(customer: str, qty: float, po: str, product: str = "P100", **kw: Any) -> dict[str, Any]:
    price = {"P100": 10.0, "P300": 4.0}[product]
    return {
        "customer_id": customer,
        "po_number": po,
        "channel": "edi",
        "order_date": kw.get("order_date", "2030-03-02"),
        "requested_date": kw.get("requested_date", "2030-03-09"),
        "ship_to_id": {"S1": "S1-MAIN"}.get(customer),
        "lines": [{"line_no": 1, "product_id": product, "quantity": qty, "unit_price": price}],
    }


def _supply(s: Service, rows: list[tuple[str, str, str, float]], mode: str = "add") -> Any:
    body = {
        "mode": mode,
        "rows": [
            {"product_id": p, "location_id": "DC1", "date": d, "kind": k, "quantity": q}
            for p, d, k, q in rows
        ],
    }
    return s.post("/supply", body, who="admin")


@pytest.fixture
def planned(service: Service) -> Service:
    with service.app.state.sessions() as session:
        publish_allocation(
            session, VERSION, SHARES, [{"product_id": "P100", "product_segment": "A"}]
        )
        session.commit()
    r = _supply(service, [("P100", "2030-03-01", "on_hand", 100.0)])
    assert r.status_code == 200, r.text
    return service


def _line(body: dict[str, Any]) -> tuple[Any, ...]:
    ln = body["lines"][0]
    keys = ("confirmed_quantity", "promised_date", "backorder_quantity", "allocation_segment")
    return tuple(ln[k] for k in keys)


def test_promise_reserves_nothing_and_orders_reserve(planned: Service) -> None:
    s = planned
    # standard may book up to its booking limit, 100 - 50 protected for key accounts
    r = s.post("/promise", _order("S1", 80, "P-1"), who="gateway")
    assert r.status_code == 200, r.text
    assert r.json()["segment"] == "standard"
    assert _line(r.json()) == (50.0, "2030-03-09", 30.0, "standard")
    assert _line(s.post("/promise", _order("S1", 80, "P-1"), who="gateway").json())[0] == 50.0
    first = s.post("/orders", _order("S1", 25, "PO-1"), who="gateway")
    assert first.status_code == 201, first.text
    assert _line(first.json()) == (25.0, "2030-03-09", 0.0, "standard")
    second = s.post("/orders", _order("S1", 30, "PO-2"), who="gateway")
    assert _line(second.json()) == (25.0, "2030-03-09", 5.0, "standard")
    # key accounts use their protection and what standard left: 100 - 50
    key = s.post("/orders", _order("K2", 60, "PO-3"), who="gateway")
    assert _line(key.json()) == (50.0, "2030-03-09", 10.0, "key_account")
    # the stored order shows the same promise
    got = s.get(f"/orders/{key.json()['order_id']}")
    assert _line(got.json()) == (50.0, "2030-03-09", 10.0, "key_account")


def test_a_later_receipt_gives_a_later_date_and_bop_confirms_backorders(planned: Service) -> None:
    s = planned
    std = s.post("/orders", _order("S1", 25, "PO-1"), who="gateway").json()
    key = s.post("/orders", _order("K2", 90, "PO-2"), who="gateway").json()
    assert _line(key)[:3] == (75.0, "2030-03-09", 15.0)
    assert _supply(s, [("P100", "2030-03-20", "receipt", 40.0)]).status_code == 200
    r = s.post("/promise", _order("K2", 10, "P-9"), who="gateway")
    assert _line(r.json())[:2] == (10.0, "2030-03-20")
    bop = s.post("/backorder-processing", {}, who="admin")
    assert bop.status_code == 200, bop.text
    assert bop.json()["lines"] == 2
    assert bop.json()["confirmed_after"] == pytest.approx(115.0)
    # the key account (gain, priority 1) takes the stock on hand; standard (redistribute)
    # waits for the receipt
    after = s.get(f"/orders/{key['order_id']}").json()
    assert _line(after)[:3] == (90.0, "2030-03-09", 0.0)
    after = s.get(f"/orders/{std['order_id']}").json()
    assert _line(after)[:3] == (25.0, "2030-03-20", 0.0)
    # admin only
    assert s.post("/backorder-processing", {}, who="gateway").status_code == 403
    assert _supply(s, []).status_code == 422


def test_replace_moves_a_receipt_and_release_frees_units(planned: Service) -> None:
    s = planned
    _supply(s, [("P100", "2030-03-20", "receipt", 40.0)])
    _supply(s, [("P100", "2030-04-20", "receipt", 40.0)], mode="replace")  # the PO slipped
    r = s.post("/promise", _order("K2", 120, "P-1"), who="gateway")
    assert _line(r.json())[:2] == (120.0, "2030-04-20")
    order = s.post("/orders", _order("K2", 100, "PO-1"), who="gateway").json()
    assert _line(order)[:2] == (100.0, "2030-03-09")
    assert _line(s.post("/promise", _order("K2", 100, "P-2"), who="gateway").json())[0] == 40.0
    with s.app.state.sessions() as session:
        assert release_reservations(session, order["order_id"]) == 1
        session.commit()
    assert _line(s.post("/promise", _order("K2", 100, "P-2"), who="gateway").json())[0] == 100.0
    assert _line(s.get(f"/orders/{order['order_id']}").json())[0] == 100.0  # record kept


def test_cancelling_an_order_gives_its_reserved_units_back(planned: Service) -> None:
    s = planned
    order = s.post("/orders", _order("K2", 100, "PO-1"), who="gateway").json()
    assert _line(order)[0] == 100.0
    assert _line(s.post("/promise", _order("K2", 100, "P-2"), who="gateway").json())[0] == 0.0
    r = s.client.post(
        f"/orders/{order['order_id']}/cancel",
        json={"comment": "PO withdrawn"},
        headers=s.h("admin"),
    )
    assert r.status_code == 200, r.text
    assert _line(s.post("/promise", _order("K2", 100, "P-2"), who="gateway").json())[0] == 100.0


def test_an_exception_reserves_nothing_and_unplanned_products_have_no_segment(
    planned: Service,
) -> None:
    s = planned
    bad = _order("S1", 25, "PO-1")
    bad["lines"][0]["unit_price"] = 99.0  # price tolerance: a hard finding
    r = s.post("/orders", bad, who="gateway")
    assert r.json()["status"] == "exception"
    assert _line(r.json()) == (None, None, None, None)
    no_supply = s.post("/promise", _order("S1", 25, "P-1", product="P300"), who="gateway")
    assert _line(no_supply.json()) == (0.0, None, 25.0, None)
    cli = run_backorder_processing(s.db_url)
    assert cli["lines"] == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(db_url: str, policy_doc: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    publish_policy(db_url, policy_doc)
    key = create_api_key(db_url, "submitter", None)
    admin = create_api_key(db_url, "admin", None)
    config = uvicorn.Config(
        create_app(Settings(db_url=db_url)),
        host="127.0.0.1",
        port=_free_port(),
        log_level="warning",
        access_log=False,
        ws="none",
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{config.port}", key, admin
    srv.should_exit = True
    thread.join(timeout=20)


def test_parallel_orders_on_the_last_units_never_over_promise(
    server: tuple[str, str, str], db_url: str
) -> None:
    base, key, admin = server
    body = {
        "rows": [{"product_id": "P300", "location_id": "DC1", "date": "2030-03-01",
                  "kind": "on_hand", "quantity": 23.0}]
    }  # fmt: skip
    assert httpx.post(f"{base}/supply", json=body, headers={"X-API-Key": admin}).status_code == 200
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as http:
            for i in range(4):
                r = http.post("/orders", json=_order("K2", 5, f"PAR-{c}-{i}", product="P300"))
                assert r.status_code == 201, r.text
                with lock:
                    results.append(r.json())

    threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 32
    confirmed = sorted(_line(r)[0] for r in results)
    assert sum(confirmed) == pytest.approx(23.0)  # all there is, never more
    assert confirmed.count(5.0) == 4
    assert confirmed.count(3.0) == 1
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = conn.execute(select(func.sum(PromiseRow.confirmed_quantity))).scalar_one()
    engine.dispose()
    assert stored == pytest.approx(23.0)


def test_shipped_goods_hold_their_supply_until_a_later_snapshot(planned: Service) -> None:
    s = planned
    today = date.today()
    # on hand as of yesterday: it still holds what ships today
    r = _supply(s, [("P100", (today - timedelta(days=1)).isoformat(), "on_hand", 100.0)], "replace")
    assert r.status_code == 200, r.text
    dates = {"order_date": "2030-03-02", "requested_date": "2030-03-09"}
    key = s.post("/orders", _order("K2", 60, "PO-K", **dates), who="gateway")
    assert _line(key.json())[0] == 60.0
    shipped = s.post(f"/orders/{key.json()['order_id']}/shipment", {}, who="operator")
    assert shipped.status_code == 200, shipped.text
    # the 60 left with the shipment; yesterday's snapshot still counts them
    assert (
        _line(s.post("/promise", _order("K2", 100, "P-1", **dates), who="gateway").json())[0]
        == 40.0
    )
    # backorder processing leaves a shipped line alone
    assert run_backorder_processing(s.db_url)["lines"] == 0
    # a snapshot after the shipment no longer holds the goods: its 40 are all free
    later = (today + timedelta(days=1)).isoformat()
    r = _supply(s, [("P100", later, "on_hand", 40.0)], "replace")
    assert r.status_code == 200, r.text
    assert (
        _line(s.post("/promise", _order("K2", 100, "P-1", **dates), who="gateway").json())[0]
        == 40.0
    )
