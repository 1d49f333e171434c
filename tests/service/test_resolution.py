"""resolve_exception under concurrency: exactly one of several simultaneous resolutions wins."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from supplyseg.service.commands import publish_policy
from supplyseg.service.db import engine_for, migrate, session_factory
from supplyseg.service.intake import submit_orders
from supplyseg.service.models import Audit, Outbox
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import ConflictError
from supplyseg.service.resolution import resolve_exception
from supplyseg.service.schemas import OrderIn, ResolveIn
from supplyseg.service.security import Principal
from supplyseg.service.settings import Settings

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
