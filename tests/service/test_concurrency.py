"""8 concurrent clients against a real uvicorn server: 2,000 orders, a share invalid, a share
retried (some from another client at the same time): the database ends with exactly one order
per distinct submission and one exception per invalid one."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, func, select

from supplyseg.service.app import create_app
from supplyseg.service.commands import create_api_key, publish_policy
from supplyseg.service.models import Audit, OrderException, OrderRow
from supplyseg.service.settings import Settings

N_ORDERS = 2000
N_CLIENTS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(db_url: str, policy_doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """A uvicorn server in a thread on 127.0.0.1 (no credit limits, so outcomes are known)."""
    policy_doc["customers"] = [{**c, "credit_limit": None} for c in policy_doc["customers"]]
    publish_policy(db_url, policy_doc)
    key = create_api_key(db_url, "submitter", None)
    port = free_port()
    config = uvicorn.Config(
        create_app(Settings(db_url=db_url)),
        host="127.0.0.1",
        port=port,
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
    yield f"http://127.0.0.1:{port}", key
    srv.should_exit = True
    thread.join(timeout=20)


def orders(rng: random.Random) -> list[tuple[dict[str, Any], bool, str | None]]:
    """(order, is_invalid, idempotency key) for N_ORDERS distinct submissions."""
    out = []
    for i in range(N_ORDERS):
        cust, ship = rng.choice([("K1", "K1-A"), ("K2", None), ("S1", "S1-MAIN")])
        invalid = rng.random() < 0.25
        order = {
            "customer_id": cust,
            "po_number": f"CC-{i:05d}",
            "channel": "edi",
            "order_date": "2026-03-02",
            "requested_date": "2026-03-20",
            "ship_to_id": ship,
            "lines": [
                {
                    "line_no": 1,
                    "product_id": "NOPE" if invalid else "P100",
                    "quantity": 25,
                    "unit_price": 10.0,
                },
                {"line_no": 2, "product_id": "P200", "quantity": 10 * rng.randint(1, 3)},
            ],
        }
        out.append((order, invalid, f"idem-{i}" if i % 3 == 0 else None))
    return out


def test_concurrent_clients_store_each_distinct_order_exactly_once(
    server: tuple[str, str], db_url: str
) -> None:
    base, key = server
    rng = random.Random(20260302)
    subs = orders(rng)
    retried = rng.sample(range(N_ORDERS), N_ORDERS // 10)
    racing = set(retried[: len(retried) // 2])
    firsts = list(range(N_ORDERS))
    rng.shuffle(firsts)
    sends: list[int] = []
    for i in firsts:
        sends.append(i)
        if i in racing:  # the next position is the next client, at about the same moment
            sends.append(i)
    for i in retried[len(retried) // 2 :]:  # the other retries come at any later time
        sends.insert(rng.randrange(sends.index(i) + 1, len(sends) + 1), i)
    jobs: list[list[int]] = [[] for _ in range(N_CLIENTS)]
    for pos, i in enumerate(sends):
        jobs[pos % N_CLIENTS].append(i)
    results: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    lock = threading.Lock()
    errors: list[str] = []

    def client(job: list[int]) -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as c:
            for i in job:
                order, _, idem = subs[i]
                headers = {"Idempotency-Key": idem} if idem else {}
                r = c.post("/orders", json=order, headers=headers)
                if r.status_code not in (200, 201):
                    errors.append(f"{r.status_code} {r.text}")
                    continue
                with lock:
                    results.setdefault(i, []).append((r.status_code, r.json()))

    threads = [threading.Thread(target=client, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == list(range(N_ORDERS))
    created = sum(1 for rs in results.values() for code, _ in rs if code == 201)
    assert created == N_ORDERS
    for i, rs in results.items():
        assert len({body["order_id"] for _, body in rs}) == 1, rs  # retries got the same order
        assert len({body["status"] for _, body in rs}) == 1
        assert (rs[0][1]["status"] == "exception") == subs[i][1]

    engine = create_engine(db_url)
    with engine.connect() as conn:
        n = lambda q: conn.execute(q).scalar_one()  # noqa: E731
        n_invalid = sum(1 for _, bad, _ in subs if bad)
        assert n(select(func.count()).select_from(OrderRow)) == N_ORDERS
        assert n(select(func.count(func.distinct(OrderRow.po_number)))) == N_ORDERS
        assert n(select(func.count()).select_from(OrderException)) == n_invalid
        assert n(select(func.count()).where(OrderRow.status == "exception")) == n_invalid
        assert n(select(func.count()).where(Audit.entity == "order")) == N_ORDERS
    engine.dispose()


def test_submissions_alongside_reads_and_resolutions_never_stall(
    server: tuple[str, str], db_url: str
) -> None:
    """On SQLite, intake runs on the event loop while reads and resolutions run in the thread
    pool on other connections: all of them must get through (no 503, no pool wait)."""
    base, submit_key = server
    operator_key = create_api_key(db_url, "operator", None)
    subs = orders(random.Random(7))[:300]
    errors: list[str] = []
    resolved: set[int] = set()
    done = threading.Event()

    def submitter(job: list[tuple[dict[str, Any], bool, str | None]]) -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": submit_key}, timeout=60) as c:
            for order, _, _ in job:
                r = c.post("/orders", json=order)
                if r.status_code != 201:
                    errors.append(f"submit {r.status_code} {r.text}")

    def operator(resolves: bool) -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": operator_key}, timeout=60) as c:
            while not done.is_set():
                for path in ("/orders", "/exceptions"):
                    r = c.get(path, params={"limit": 50})
                    if r.status_code != 200:
                        errors.append(f"GET {path} {r.status_code} {r.text}")
                # One operator approves a few open exceptions (two would race for the same).
                for item in r.json()["items"][:3] if resolves else []:
                    r = c.post(
                        f"/exceptions/{item['exception_id']}/resolve",
                        json={"action": "approve", "comment": "customer confirmed"},
                    )
                    if r.status_code != 200:
                        errors.append(f"resolve {r.status_code} {r.text}")
                    resolved.add(item["exception_id"])

    submitters = [threading.Thread(target=submitter, args=(subs[i::4],)) for i in range(4)]
    operators = [threading.Thread(target=operator, args=(r,)) for r in (True, False)]
    started = time.monotonic()
    for t in [*submitters, *operators]:
        t.start()
    for t in submitters:
        t.join()
    done.set()
    for t in operators:
        t.join()
    assert errors == []
    assert resolved, "the operators resolved nothing while orders came in"
    assert time.monotonic() - started < 60
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OrderRow)).scalar_one() == len(subs)
        n_resolved = conn.execute(
            select(func.count()).where(OrderException.status == "resolved")
        ).scalar_one()
        assert n_resolved == len(resolved)
    engine.dispose()


def test_concurrent_batches_sharing_customers_never_deadlock(
    server: tuple[str, str], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches whose orders name the same customers in different orders: on PostgreSQL each
    order locked its customer row as it came, so two batches could wait on each other
    (deadlock, 503; found with bench/service.py --db-url). A slow validation widens the window."""
    from supplyseg.service import intake

    real = intake.validate_order

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.004)
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "validate_order", slow)
    base, key = server
    subs = [order for order, _, _ in orders(random.Random(11))[:320]]
    batches = [subs[i : i + 20] for i in range(0, len(subs), 20)]
    errors: list[str] = []

    def client(job: list[list[dict[str, Any]]]) -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120) as c:
            for batch in job:
                r = c.post("/orders/batch", json={"orders": batch})
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:300]}")

    threads = [threading.Thread(target=client, args=(batches[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OrderRow)).scalar_one() == len(subs)
    engine.dispose()
