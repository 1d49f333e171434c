"""Submission internals: the lost-race path of idempotency, dedupe keys, database facts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from supplyseg.service import intake
from supplyseg.service.commands import publish_policy
from supplyseg.service.db import engine_for, migrate, session_factory
from supplyseg.service.intake import DbFacts, dedupe_key, request_sha256, submit_orders
from supplyseg.service.models import OrderRow
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.schemas import OrderIn
from supplyseg.service.security import Principal
from supplyseg.service.settings import Settings

Order = Callable[..., dict[str, Any]]
GATEWAY = Principal("test", "submitter", None)


@pytest.fixture
def sessions(db_url: str, policy_doc: dict[str, Any]) -> Iterator[Callable[[], Session]]:
    publish_policy(db_url, policy_doc)
    engine = engine_for(Settings(db_url=db_url))
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def test_losing_an_insert_race_replays_the_winner(
    sessions: Callable[[], Session], make_order: Order, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = PolicyCache()
    order = OrderIn.model_validate(make_order())
    with sessions() as s:
        [first] = submit_orders(s, cache, [order], principal=GATEWAY)
    # The next lookup misses, as it would for a request racing the first one; the INSERT then
    # hits the unique constraint, the transaction is rolled back and the retry replays.
    real = intake._stored_order
    calls = {"n": 0}

    def miss_once(session: Session, dk: str) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(session, dk)

    monkeypatch.setattr(intake, "_stored_order", miss_once)
    with sessions() as s:
        [again] = submit_orders(s, cache, [order], principal=GATEWAY)
        assert s.scalar(select(func.count()).select_from(OrderRow)) == 1
    assert calls["n"] == 2
    assert again.replayed
    assert again.order == first.order


def test_dedupe_keys(make_order: Order) -> None:
    a = OrderIn.model_validate(make_order())
    b = OrderIn.model_validate(make_order(customer_id="K1"))
    c = OrderIn.model_validate(
        make_order(lines=[{"line_no": 1, "product_id": "P100", "quantity": 30}])
    )
    h = request_sha256
    assert dedupe_key(a, h(a), None) == dedupe_key(a, h(a), None)
    assert dedupe_key(a, h(a), None) != dedupe_key(c, h(c), None)  # same PO, other content
    assert dedupe_key(a, h(a), "k") == dedupe_key(c, h(c), "k")  # the header decides
    assert dedupe_key(a, h(a), "k") != dedupe_key(b, h(b), "k")  # scoped to the customer
    # JSON key order and spacing do not matter, only the validated content
    reordered = OrderIn.model_validate(dict(reversed(list(make_order().items()))))
    assert h(reordered) == h(a)


def test_db_facts(sessions: Callable[[], Session], make_order: Order) -> None:
    cache = PolicyCache()
    with sessions() as s:
        results = submit_orders(
            s,
            cache,
            [OrderIn.model_validate(make_order(po_number=f"F{i}")) for i in range(3)],
            principal=GATEWAY,
        )
        ids = [r.order.order_id for r in results]
        s.execute(update(OrderRow).where(OrderRow.id == ids[1]).values(status="rejected"))
        s.execute(update(OrderRow).where(OrderRow.id == ids[2]).values(status="shipped"))
        s.commit()
        facts = DbFacts(s)
        assert facts.open_order_value("S1") == 250.0  # only the first is open
        assert DbFacts(s, exclude=ids[0]).open_order_value("S1") == 0.0
        assert facts.po_in_use("S1", "F0")
        assert facts.po_in_use("S1", "F2")
        assert not facts.po_in_use("S1", "F1")  # rejected orders free their PO
        assert not DbFacts(s, exclude=ids[0]).po_in_use("S1", "F0")
        assert not facts.po_in_use("K1", "F0")
