"""Benchmark of the order-validation service: uvicorn (one process) + SQLite, httpx clients.

Publishes a synthetic policy (3 segments, 600 customers, 3000 products), starts
``uvicorn supplyseg.service.app:create_app --factory`` on 127.0.0.1 in a subprocess and submits
``--orders`` orders (a share invalid, a share retried) from ``--clients`` threads, one order per
``POST /orders`` (mode ``single``, the issue's target) and in ``POST /orders/batch`` requests of
``--batch-size`` orders (mode ``batch``), each mode on a fresh database. Prints
throughput, latency percentiles, server peak RSS, and the database counts, which must equal the
distinct submissions (zero lost, zero duplicated). For scale it also measures, in the same run,
the framework floor (``GET /health`` round trips, no validation or writes) and the in-process
validation rate (`validate_order`, no HTTP or database).

    .venv/bin/python bench/service.py --orders 1000          # while developing
    .venv/bin/python bench/service.py                        # issue size: 10k orders
    .venv/bin/python bench/service.py --db-url postgresql+psycopg://...   # a scratch database

Target (issue): >= 500 orders/s and p99 <= 50 ms on SQLite in one process, zero lost.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import create_engine, text

from supplyseg.policy.document import PolicyVersion
from supplyseg.service.commands import create_api_key, publish_policy
from supplyseg.service.schemas import OrderIn
from supplyseg.service.validation import CompiledPolicy, validate_order

SEGMENTS = {
    "A": {
        "moq": 1,
        "order_multiple": 1,
        "promise_lead_time_days": 2,
        "price_tolerance_pct": 10,
        "notify": ["accepted", "accepted_with_warnings", "exception", "shipped"],
        "strictness": {"credit": "soft"},
    },
    "B": {
        "moq": 10,
        "order_multiple": 5,
        "min_order_value": 100,
        "promise_lead_time_days": 5,
        "price_tolerance_pct": 2,
    },
    "C": {
        "moq": 20,
        "order_multiple": 10,
        "min_order_value": 300,
        "promise_lead_time_days": 10,
        "allowed_channels": ["edi", "portal"],
        "strictness": {"order_multiple": "hard"},
    },
}


def synthetic_policy(n_customers: int = 600, n_products: int = 3000) -> dict[str, Any]:
    """A policy document with segments A/B/C and generous credit limits."""
    rng = random.Random(7)
    segs = list(SEGMENTS)
    return {
        "version_id": "bench-1",
        "created": datetime.now(UTC).isoformat(),
        "source_run_id": "bench",
        "config_hash": "bench",
        "segments": SEGMENTS,
        "customers": [
            {
                "customer_id": f"C{i:05d}",
                "segment": segs[i % 3],
                "credit_limit": 1e9,
                "ship_to_ids": [f"C{i:05d}-1"],
            }
            for i in range(n_customers)
        ],
        "products": [
            {"product_id": f"P{j:05d}", "list_price": round(rng.uniform(1, 50), 2)}
            for j in range(n_products)
        ],
    }


def make_orders(n: int, invalid_share: float, seed: int = 11) -> list[dict[str, Any]]:
    """Orders that pass their segment's hard checks, except ``invalid_share`` of them."""
    rng = random.Random(seed)
    segs = list(SEGMENTS)
    out = []
    for k in range(n):
        i = rng.randrange(600)
        rules = SEGMENTS[segs[i % 3]]
        moq, mult = rules.get("moq", 0), rules.get("order_multiple", 1)
        base = max(moq, mult)
        lines = [
            {
                "line_no": ln + 1,
                "product_id": f"P{rng.randrange(3000):05d}",
                "quantity": base * rng.randint(2, 6),
            }
            for ln in range(rng.randint(1, 5))
        ]
        od = date(2026, 3, 1) + timedelta(days=rng.randrange(30))
        order = {
            "customer_id": f"C{i:05d}",
            "po_number": f"PO-{k:07d}",
            "channel": "edi",
            "order_date": od.isoformat(),
            "requested_date": (od + timedelta(days=14)).isoformat(),
            "lines": lines,
        }
        if rng.random() < invalid_share:
            lines[0]["product_id"] = "NOPE"  # unknown product: hard everywhere
        out.append(order)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db_url: str, port: int, synchronous: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SUPPLYSEG_DB_URL": db_url, "SUPPLYSEG_SQLITE_SYNCHRONOUS": synchronous}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "supplyseg.service.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def run_clients(
    base: str, key: str, jobs: list[list[Any]], path: str
) -> tuple[list[float], list[int], float]:
    """Send each thread's payloads to ``path``; returns latencies (s), status codes, wall time."""
    lat: list[float] = []
    codes: list[int] = []
    lock = threading.Lock()

    def work(payloads: list[Any]) -> None:
        my_lat, my_codes = [], []
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as c:
            for body in payloads:
                t = time.perf_counter()
                r = c.get(path) if body is None else c.post(path, json=body)
                my_lat.append(time.perf_counter() - t)
                my_codes.append(r.status_code)
        with lock:
            lat.extend(my_lat)
            codes.extend(my_codes)

    threads = [threading.Thread(target=work, args=(j,)) for j in jobs]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return lat, codes, time.perf_counter() - t0


def pct(xs: list[float], q: float) -> float:
    """The q-th percentile of ``xs`` in milliseconds."""
    if len(xs) < 2:
        return xs[0] * 1000 if xs else 0.0
    return float(statistics.quantiles(xs, n=1000, method="inclusive")[int(q * 10) - 1] * 1000)


def in_process_validation_rate(doc: dict[str, Any], orders: list[dict[str, Any]]) -> float:
    """Orders/s of `validate_order` alone (no HTTP, no database): the scale of the checks."""
    compiled = CompiledPolicy.from_document(PolicyVersion.model_validate(doc))

    class NoFacts:
        def open_order_value(self, customer_id: str) -> float:
            return 0.0

        def po_in_use(self, customer_id: str, po_number: str) -> bool:
            return False

    models = [OrderIn.model_validate(o) for o in orders[:2000]]
    t = time.perf_counter()
    for m in models:
        validate_order(m, compiled, NoFacts())
    return len(models) / (time.perf_counter() - t)


def db_counts(url: str) -> dict[str, int]:
    """Row counts the zero-lost check compares with the distinct submissions."""
    q = {
        "orders": "SELECT count(*) FROM orders",
        "distinct_po": "SELECT count(DISTINCT customer_id || '/' || po_number) FROM orders",
        "exceptions": "SELECT count(*) FROM exceptions",
        "orders_in_exception": "SELECT count(*) FROM orders WHERE status = 'exception'",
        "audit": "SELECT count(*) FROM audit WHERE entity = 'order'",
        "outbox": "SELECT count(*) FROM outbox",
    }
    engine = create_engine(url)
    with engine.connect() as con:
        out = {k: int(con.execute(text(v)).scalar_one()) for k, v in q.items()}
    engine.dispose()
    return out


def fresh_database(args: argparse.Namespace) -> str:
    """A new SQLite file, or the PostgreSQL database of ``--db-url`` emptied (its public
    schema dropped and made again: give a scratch database)."""
    if not args.db_url:
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='supplyseg-bench-')) / 'service.db'}"
    engine = create_engine(args.db_url)
    with engine.begin() as con:
        con.execute(text("DROP SCHEMA public CASCADE"))
        con.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return str(args.db_url)


def run(mode: str, args: argparse.Namespace) -> bool:
    """One benchmark run on a fresh database; prints the figures, returns zero-lost."""
    url = fresh_database(args)
    doc = synthetic_policy()
    publish_policy(url, doc)
    key = create_api_key(url, "submitter", None)
    orders = make_orders(args.orders, args.invalid_share)
    n_invalid = sum(1 for o in orders if o["lines"][0]["product_id"] == "NOPE")
    rng = random.Random(3)
    retried = [o for o in orders if rng.random() < args.retry_share]
    sends = orders + retried  # a retry is the identical order sent again
    rng.shuffle(sends)
    if mode == "single":
        payloads: list[Any] = sends
        path = "/orders"
    else:
        b = args.batch_size
        payloads = [{"orders": sends[i : i + b]} for i in range(0, len(sends), b)]
        path = "/orders/batch"
    jobs = [payloads[i :: args.clients] for i in range(args.clients)]

    port = free_port()
    proc = start_server(url, port, args.synchronous)
    base = f"http://127.0.0.1:{port}"
    peak_rss = 0
    stop = threading.Event()
    sp = psutil.Process(proc.pid)

    def watch() -> None:
        nonlocal peak_rss
        while not stop.is_set():
            peak_rss = max(peak_rss, sp.memory_info().rss)
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        n_health = 250 * args.clients
        health = [[None] * (n_health // args.clients)] * args.clients
        h_lat, _, h_wall = run_clients(base, key, health, "/health")
        cpu0, me0 = sp.cpu_times(), psutil.Process().cpu_times()
        lat, codes, wall = run_clients(base, key, jobs, path)
        cpu1, me1 = sp.cpu_times(), psutil.Process().cpu_times()
    finally:
        stop.set()
        watcher.join()
        proc.terminate()
        proc.wait(timeout=30)
    counts = db_counts(url)
    expected = len(orders)
    bad = sum(1 for c in codes if c not in (200, 201))
    server_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    client_cpu = (me1.user + me1.system) - (me0.user + me0.system)
    unit = "request" if mode == "single" else f"batch of {args.batch_size}"
    print(
        f"--- mode {mode}: {expected} distinct orders ({n_invalid} invalid) + {len(retried)}"
        f" retries, {len(payloads)} requests from {args.clients} clients;"
        f" {'PostgreSQL' if args.db_url else f'SQLite (synchronous {args.synchronous})'},"
        " 1 process"
    )
    print(
        f"throughput: {len(sends) / wall:,.0f} orders/s incl. retries"
        f" ({expected / wall:,.0f} distinct orders/s), wall {wall:.2f} s"
    )
    print(
        f"latency per {unit}, ms: p50 {pct(lat, 50):.1f}  p95 {pct(lat, 95):.1f}"
        f"  p99 {pct(lat, 99):.1f}  max {max(lat) * 1000:.1f}"
    )
    print(f"HTTP status: 201 {codes.count(201)}, 200 {codes.count(200)}, other {bad}")
    print(f"db: {counts}")
    print(
        f"server: peak RSS {peak_rss / 2**20:.0f} MiB, CPU {server_cpu:.1f} s"
        f" ({server_cpu / len(sends) * 1000:.2f} ms/order, {server_cpu / wall:.0%} of a core);"
        f" clients CPU {client_cpu:.1f} s; load average {os.getloadavg()[0]:.1f}"
        f" on {os.cpu_count()} cores"
    )
    h_rate = len(h_lat) / h_wall
    v_rate = in_process_validation_rate(doc, orders)
    print(
        f"baselines: GET /health {h_rate:,.0f} req/s (p99 {pct(h_lat, 99):.1f} ms);"
        f" in-process validate_order {v_rate:,.0f} orders/s"
    )
    print(
        f"ratios: orders/s vs /health req/s {len(sends) / wall / h_rate:.2f};"
        f" vs in-process validation {len(sends) / wall / v_rate:.3f}"
    )
    ok = (
        bad == 0
        and counts["orders"] == expected == counts["distinct_po"] == counts["audit"]
        and counts["exceptions"] == counts["orders_in_exception"] == n_invalid
    )
    if mode == "single":
        ok = ok and codes.count(201) == expected and codes.count(200) == len(retried)
    print("zero lost, zero duplicated:", "yes" if ok else "NO")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--orders", type=lambda s: int(s.replace("_", "")), default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--invalid-share", type=float, default=0.2)
    ap.add_argument("--retry-share", type=float, default=0.1)
    ap.add_argument("--mode", choices=["single", "batch", "both"], default="both")
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="SQLite synchronous mode of the server (FULL is the service's default).",
    )
    ap.add_argument(
        "--db-url",
        help="a scratch PostgreSQL database (emptied before each mode) instead of SQLite,"
        " e.g. postgresql+psycopg://user:pw@127.0.0.1:5432/bench",
    )
    args = ap.parse_args()
    modes = ["single", "batch"] if args.mode == "both" else [args.mode]
    results = [run(m, args) for m in modes]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
