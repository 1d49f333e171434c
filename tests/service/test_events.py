"""record_order_change: always one audit row; outbox rows only for the events the segment lists."""

from __future__ import annotations

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
