"""The allocation plan cache of /promise: a version's plan is read once, an empty one not kept."""

from __future__ import annotations

from sqlalchemy import event

from supplyseg.service.promise import publish_allocation
from supplyseg.service.promise_plan import PlanCache, load_plan

from .conftest import Service
from .test_promise import SHARES, VERSION


def test_the_plan_is_read_once_per_version_and_an_empty_one_is_not_kept(
    service: Service,
) -> None:
    cache = PlanCache()
    engine = service.app.state.engine
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with service.app.state.sessions() as session:
        assert cache.get(session, VERSION).segment_of == {}
        publish_allocation(
            session,
            VERSION,
            SHARES,
            [
                {"product_id": "P100", "product_segment": "A"},
                {"product_id": "P300", "product_segment": "B"},
            ],
        )
        session.commit()
        plan = cache.get(session, VERSION)  # the plan written after the empty read
        assert plan.of("P100") == {"key_account": (1, 0.5), "standard": (2, 0.3),
                                   "tail": (3, 0.2)}  # fmt: skip
        assert plan.of("P300") is None  # segment B has no shares
        assert plan.of("P999") is None
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert cache.get(session, VERSION) is plan
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert statements == []
        assert load_plan(session, VERSION, ["P300"]).segment_of == {"P300": "B"}
