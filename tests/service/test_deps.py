"""Request dependencies and order intake's execution: inline on SQLite, thread pool otherwise."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from supplyseg.service.app import INTAKE_LOCK_WAIT_MS

Order = Callable[..., dict[str, Any]]


def _sqlite_path(service: Any) -> str:
    if not service.db_url.startswith("sqlite"):
        pytest.skip("inline intake is SQLite's; PostgreSQL always uses the thread pool")
    return str(service.db_url.removeprefix("sqlite:///"))


def test_sqlite_intake_runs_inline_on_its_own_connection(service: Any, make_order: Order) -> None:
    _sqlite_path(service)
    state = service.app.state
    assert state.intake_inline
    assert state.intake_engine is not state.engine
    loop_threads: set[int] = set()

    def note_thread(*_: Any) -> None:
        loop_threads.add(threading.get_ident())

    event.listen(state.intake_engine, "before_cursor_execute", note_thread)
    try:
        assert service.post("/orders", make_order()).status_code == 201
        assert service.post("/orders", make_order(po_number="PO-2")).status_code == 201
    finally:
        event.remove(state.intake_engine, "before_cursor_execute", note_thread)
    assert len(loop_threads) == 1  # both orders' SQL ran on one thread: the event loop's
    assert state.intake_engine.pool.checkedout() == 0  # released before the response


def test_order_waits_in_the_thread_pool_while_another_connection_writes(
    service: Any, make_order: Order
) -> None:
    path = _sqlite_path(service)
    hold_s = 5 * INTAKE_LOCK_WAIT_MS / 1000
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction
    release = threading.Timer(hold_s, other.execute, args=("COMMIT",))
    release.start()
    started = time.monotonic()
    try:
        r = service.post("/orders", make_order())
    finally:
        release.join()
        other.close()
    # Inline intake gave up after INTAKE_LOCK_WAIT_MS; the thread pool waited for the lock.
    assert r.status_code == 201, r.text
    assert time.monotonic() - started >= hold_s * 0.9
    assert service.get(f"/orders/{r.json()['order_id']}").json()["status"] == "accepted"
