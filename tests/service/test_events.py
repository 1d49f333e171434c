"""record_order_change: always one audit row; outbox rows only for the events the segment lists,
numbered so that a consumer following the cursor never skips one."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from supplyseg.policy.document import SegmentRules
from supplyseg.service.db import engine_for, migrate, session_factory
from supplyseg.service.events import OrderRef, record_order_change
from supplyseg.service.models import Audit, OrderRow, Outbox
from supplyseg.service.settings import Settings
from supplyseg.service.views import utc

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
N_WRITERS = 4
COMMITS_PER_WRITER = 60


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    engine = engine_for(Settings(db_url=sqlite_url))
    migrate(engine)
    with session_factory(engine)() as s:
        s.add(
            OrderRow(
                id=1, dedupe_key="d", request_sha256="h", customer_id="S1", po_number="P",
                channel="edi", order_date=NOW.date(), requested_date=NOW.date(), segment="std",
                status="accepted", policy_version="v1", total_value=1.0, validation_round=1,
                submitted_by="k", created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        s.flush()
        yield s
    engine.dispose()


REF = OrderRef(1, "S1", "P", "std", "v1")


def change(session: Session, events: tuple[str, ...], rules: SegmentRules | None) -> int:
    return record_order_change(
        session, REF, action="submit", actor="k", at=NOW, before=None,
        after={"status": "accepted", "reason_codes": ["x"]}, events=events,  # type: ignore[arg-type]
        rules=rules,
    )  # fmt: skip


def test_outbox_follows_the_segment_rules(session: Session) -> None:
    assert change(session, ("accepted",), SegmentRules(notify=["exception"])) == 0
    assert change(session, ("amended", "accepted"), SegmentRules(notify=["accepted"])) == 1
    assert change(session, ("exception",), None) == 0  # no segment: no notifications
    assert session.scalars(select(Outbox)).all() == []  # queued until the commit
    session.commit()
    assert len(session.scalars(select(Audit)).all()) == 3
    [note] = session.scalars(select(Outbox)).all()
    assert (note.event, note.customer_id, note.segment) == ("accepted", "S1", "std")
    assert note.payload["reason_codes"] == ["x"]
    assert note.payload["policy_version"] == "v1"


def test_utc() -> None:
    assert utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    cet = datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    assert utc(cet) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert utc(cet).tzinfo == UTC


def test_feed_cursor_never_skips_under_concurrent_writers(db_url: str) -> None:
    """Writers commit in an order other than the one they started in (a random pause before
    each commit); a consumer following ``id > since`` meanwhile must see every notification,
    in id order. With ids from a sequence, PostgreSQL loses some (issue 19)."""
    settings = Settings(db_url=db_url, db_pool_size=N_WRITERS + 1)
    engine = engine_for(settings)
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as s:
        s.add_all(
            OrderRow(
                id=w + 1, dedupe_key=f"d{w}", request_sha256="h", customer_id=f"C{w}",
                po_number="P", channel="edi", order_date=NOW.date(),
                requested_date=NOW.date(), segment="std", status="accepted",
                policy_version="v1", total_value=1.0, validation_round=1, submitted_by="k",
                created_at=NOW, updated_at=NOW,
            )
            for w in range(N_WRITERS)
        )  # fmt: skip
        s.commit()
    rules = SegmentRules(notify=["accepted", "shipped"])
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        rng = random.Random(w)
        ref = OrderRef(w + 1, f"C{w}", "P", "std", "v1")
        try:
            for _ in range(COMMITS_PER_WRITER):
                with sessions() as s:
                    events = ("accepted", "shipped")[: rng.randint(1, 2)]
                    record_order_change(
                        s, ref, action="x", actor="k", at=NOW, before=None,
                        after={"status": "accepted"}, events=events, rules=rules,  # type: ignore[arg-type]
                    )  # fmt: skip
                    time.sleep(rng.random() * 0.004)
                    s.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    seen: list[int] = []

    def consume(since: int) -> int:
        with engine.connect() as conn:
            ids = list(
                conn.execute(
                    select(Outbox.id).where(Outbox.id > since).order_by(Outbox.id).limit(7)
                ).scalars()
            )
        seen.extend(ids)
        return ids[-1] if ids else since

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(N_WRITERS)]
    for t in threads:
        t.start()
    since = 0
    while any(t.is_alive() for t in threads):
        since = consume(since)
    for t in threads:
        t.join()
    while (nxt := consume(since)) != since:
        since = nxt
    assert errors == []
    with engine.connect() as conn:
        stored = list(conn.execute(select(Outbox.id).order_by(Outbox.id)).scalars())
    engine.dispose()
    assert len(stored) >= N_WRITERS * COMMITS_PER_WRITER
    assert seen == stored  # nothing skipped, nothing twice, in order
    assert stored == list(range(1, len(stored) + 1))  # and no holes
