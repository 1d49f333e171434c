"""/orders/batch and /orders/csv: idempotency of whole batches, key namespaces, replay header,
and a maximum batch that leaves the server responsive (issue 19)."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from supplyseg.service.commands import create_api_key, publish_policy
from supplyseg.service.models import OrderRow

Order = Callable[..., dict[str, Any]]
KEY = "Idempotency-Key"


def count_orders(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(OrderRow)).scalar_one()
    engine.dispose()
    return int(n)


def test_same_key_with_a_different_batch_is_a_conflict(service: Any, make_order: Order) -> None:
    first = [make_order(po_number="R1"), make_order(po_number="R2")]
    assert service.post("/orders/batch", {"orders": first}, **{KEY: "b-1"}).status_code == 200
    changed = [
        [*first, make_order(po_number="R3")],  # one more order
        [first[0], make_order(customer_id="K2", po_number="R2", ship_to_id=None)],  # customer
        first[:1],  # one order fewer
    ]
    for orders in changed:
        r = service.post("/orders/batch", {"orders": orders}, **{KEY: "b-1"})
        assert (r.status_code, r.json()["code"]) == (409, "idempotency_key_reused"), orders
        assert "different batch" in r.json()["detail"]
    assert count_orders(service.db_url) == 2
    # the first batch, resent unchanged, is a replay
    again = service.post("/orders/batch", {"orders": first}, **{KEY: "b-1"})
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (200, "true")
    # another client (API key) may use the same key string for its own customers' batch
    mine = [make_order(customer_id="K2", po_number="G1", ship_to_id=None)]
    other = service.post("/orders/batch", {"orders": mine}, "gateway", **{KEY: "b-1"})
    assert other.status_code == 200
    assert "Idempotent-Replayed" not in other.headers
    assert count_orders(service.db_url) == 3


def test_batch_items_never_meet_single_order_keys(service: Any, make_order: Order) -> None:
    batch = [make_order(po_number="B1"), make_order(po_number="B2")]
    r = service.post("/orders/batch", {"orders": batch}, **{KEY: "k"})
    assert r.status_code == 200
    assert "Idempotent-Replayed" not in r.headers
    # "k#0" was the first item's key; as a single order's key it names nothing stored
    single = service.post("/orders", make_order(po_number="S1"), **{KEY: "k#0"})
    assert single.status_code == 201, single.text
    # a single order's key and a batch of one under the same key are different requests
    one = service.post("/orders", make_order(po_number="S2"), **{KEY: "solo"})
    assert one.status_code == 201
    r = service.post("/orders/batch", {"orders": [make_order(po_number="S3")]}, **{KEY: "solo"})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["order_id"] != one.json()["order_id"]
    assert count_orders(service.db_url) == 5


def test_batch_and_csv_replays_carry_the_header(service: Any, make_order: Order) -> None:
    batch = {"orders": [make_order(po_number="H1"), make_order(po_number="H2")]}
    a = service.post("/orders/batch", batch)
    b = service.post("/orders/batch", batch)  # no header: customer + PO + content
    assert (a.status_code, b.status_code) == (200, 200)
    assert "Idempotent-Replayed" not in a.headers
    assert b.headers["Idempotent-Replayed"] == "true"
    assert b.json() == a.json()
    csv = (
        "customer_id,po_number,channel,order_date,requested_date,ship_to_id,line_no,product_id,"
        "quantity,unit_price\nS1,CSV-1,edi,2026-03-02,2026-03-09,S1-MAIN,1,P100,25,10.0\n"
    )
    headers = {**service.h("submitter"), "Content-Type": "text/csv", KEY: "csv-1"}
    c1 = service.client.post("/orders/csv", content=csv.encode(), headers=headers)
    c2 = service.client.post("/orders/csv", content=csv.encode(), headers=headers)
    assert "Idempotent-Replayed" not in c1.headers
    assert c2.headers["Idempotent-Replayed"] == "true"
    other = csv.replace("25,10.0", "30,10.0")
    c3 = service.client.post("/orders/csv", content=other.encode(), headers=headers)
    assert (c3.status_code, c3.json()["code"]) == (409, "idempotency_key_reused")
    assert count_orders(service.db_url) == 3


def test_batch_body_errors_name_the_field(service: Any, make_order: Order) -> None:
    bad = make_order(po_number="E1")
    bad["lines"][0]["quantity"] = "10"
    r = service.post("/orders/batch", {"orders": [make_order(), bad]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "orders", 1, "lines", 0, "quantity"]
    for text in ('{"orders": [', '{"orders": [{"quantity": NaN}]}', "[]", '{"orders": []}'):
        r = service.client.post(
            "/orders/batch",
            content=text.encode(),
            headers={**service.h("submitter"), "Content-Type": "application/json"},
        )
        assert r.status_code == 422, text
        assert r.json()["detail"][0]["loc"][0] == "body"
    assert count_orders(service.db_url) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(db_url: str, policy_doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """`supplyseg.service.app` under uvicorn in a process of its own, as deployed."""
    publish_policy(db_url, policy_doc)
    key = create_api_key(db_url, "submitter", None)
    port = _free_port()
    env = {**os.environ, "SUPPLYSEG_DB_URL": db_url, "PYTHONPATH": os.pathsep.join(sys.path)}
    args = ["supplyseg.service.app:create_app", "--factory", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *args, "--log-level", "warning", "--no-access-log"],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "server exited"
            assert time.monotonic() < deadline, "server did not start"
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, key
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _health_during_batch(base: str, key: str, body: bytes) -> tuple[list[float], int]:
    """Latencies (s) of /health probes sent while ``body`` is posted to /orders/batch."""
    done = threading.Event()
    status: list[int] = []

    def post_batch() -> None:
        headers = {"X-API-Key": key, "Content-Type": "application/json"}
        with httpx.Client(base_url=base, timeout=120) as c:
            status.append(c.post("/orders/batch", content=body, headers=headers).status_code)
        done.set()

    latencies = []
    with httpx.Client(base_url=base, timeout=30) as c:
        c.get("/health")
        poster = threading.Thread(target=post_batch)
        poster.start()
        while not done.is_set():
            t = time.perf_counter()
            assert c.get("/health").status_code == 200
            latencies.append(time.perf_counter() - t)
            time.sleep(0.01)
        poster.join()
    return latencies, status[0]


def test_health_answers_within_100_ms_during_a_maximum_batch(
    server: tuple[str, str], make_order: Order
) -> None:
    """1,000 orders of 4 lines (the default SUPPLYSEG_MAX_BATCH_ORDERS, ~430 KB): on the event
    loop this batch held /health for its whole duration (0.5-4 s)."""
    base, key = server
    lines = [{"line_no": n, "product_id": "P100", "quantity": 25} for n in range(1, 5)]
    worst: list[float] = []
    for attempt in range(2):  # the machine's CPUs are shared: one re-measurement
        orders = [
            make_order(customer_id="K2", ship_to_id=None, po_number=f"M{attempt}-{i}", lines=lines)
            for i in range(1000)
        ]
        body = json.dumps({"orders": orders}).encode()
        latencies, status = _health_during_batch(base, key, body)
        assert status == 200
        assert len(latencies) >= 5, "the batch was too quick to probe"
        worst.append(max(latencies))
        if max(latencies) < 0.1:
            break
    assert min(worst) < 0.1, (worst, statistics.median(latencies))
