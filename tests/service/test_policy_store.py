"""Publishing: round trip, exactly one active version, atomicity, immutability, cache reload."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from supplyseg.errors import ServiceError
from supplyseg.policy.document import PolicyVersion
from supplyseg.service.commands import publish_policy
from supplyseg.service.db import engine_for, migrate, session_factory
from supplyseg.service.models import ActivePolicy, Audit, PolicyCustomer, PolicyVersionRow
from supplyseg.service.policy_store import (
    PolicyCache,
    active_version_id,
    load_version,
    policy_document,
    publish_version,
)
from supplyseg.service.problems import ConflictError
from supplyseg.service.settings import Settings


def second(doc: dict[str, Any]) -> dict[str, Any]:
    new = {**doc, "version_id": "fixture-2026-02"}
    new["customers"] = [
        {**c, "segment": "tail"} if c["customer_id"] == "S1" else c for c in doc["customers"]
    ]
    return new


def test_round_trip_is_exact(db_url: str, policy_doc: dict[str, Any]) -> None:
    assert publish_policy(db_url, policy_doc) == "fixture-2026-01"
    engine = engine_for(Settings(db_url=db_url))
    with session_factory(engine)() as s:
        loaded = load_version(s, "fixture-2026-01")
    engine.dispose()
    assert loaded == PolicyVersion.model_validate(policy_doc)


def test_exactly_one_active_and_old_versions_kept(db_url: str, policy_doc: dict[str, Any]) -> None:
    publish_policy(db_url, policy_doc)
    publish_policy(db_url, second(policy_doc))
    engine = engine_for(Settings(db_url=db_url))
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(ActivePolicy)) == 1
        assert active_version_id(s) == "fixture-2026-02"
        assert s.scalar(select(func.count()).select_from(PolicyVersionRow)) == 2
        old = load_version(s, "fixture-2026-01")
        assert next(c for c in old.customers if c.customer_id == "S1").segment == "standard"
        actions = s.scalars(
            select(Audit.action).where(Audit.entity == "policy").order_by(Audit.id)
        ).all()
        assert actions == ["publish", "publish"]
        # a second row in active_policy is impossible by constraint
        second_row = text(
            "INSERT INTO active_policy (id, version_id, activated_at)"
            " VALUES (2, 'fixture-2026-01', CURRENT_TIMESTAMP)"
        )
        with pytest.raises(DBAPIError):
            s.execute(second_row)
    engine.dispose()


def test_republish_same_content_reactivates_different_content_is_refused(
    db_url: str, policy_doc: dict[str, Any]
) -> None:
    publish_policy(db_url, policy_doc)
    publish_policy(db_url, second(policy_doc))
    publish_policy(db_url, policy_doc)  # roll back to the first version
    engine = engine_for(Settings(db_url=db_url))
    with session_factory(engine)() as s:
        assert active_version_id(s) == "fixture-2026-01"
        assert s.scalars(
            select(Audit.action).where(Audit.entity == "policy").order_by(Audit.id)
        ).all()[-1] == ("reactivate")
    engine.dispose()
    changed = {**policy_doc, "currency": "USD"}
    with pytest.raises(ConflictError, match="already published with different content"):
        publish_policy(db_url, changed)


def test_publish_is_atomic(db_url: str, policy_doc: dict[str, Any]) -> None:
    publish_policy(db_url, policy_doc)
    engine = engine_for(Settings(db_url=db_url))
    migrate(engine)

    def fail_on_products(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO policy_products"):
            raise OperationalError(statement, None, Exception("disk I/O error (injected)"))

    event.listen(engine, "before_cursor_execute", fail_on_products)
    doc = PolicyVersion.model_validate(second(policy_doc))
    with session_factory(engine)() as s, pytest.raises(OperationalError):
        publish_version(s, doc, actor="t")
    event.remove(engine, "before_cursor_execute", fail_on_products)
    with session_factory(engine)() as s:
        assert active_version_id(s) == "fixture-2026-01"
        assert s.get(PolicyVersionRow, "fixture-2026-02") is None
        n = s.scalar(
            select(func.count())
            .select_from(PolicyCustomer)
            .where(PolicyCustomer.version_id == "fixture-2026-02")
        )
        assert n == 0
    engine.dispose()


def test_published_rows_are_immutable(db_url: str, policy_doc: dict[str, Any]) -> None:
    publish_policy(db_url, policy_doc)
    engine = engine_for(Settings(db_url=db_url))
    for sql in (
        "UPDATE policy_customers SET credit_limit = 1 WHERE customer_id = 'S1'",
        "DELETE FROM policy_versions",
        "UPDATE audit SET actor = 'someone else'",
        "DELETE FROM audit",
    ):
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(sql))
    engine.dispose()


def test_cache_follows_a_publish_from_another_process(
    db_url: str, policy_doc: dict[str, Any]
) -> None:
    publish_policy(db_url, policy_doc)
    engine = engine_for(Settings(db_url=db_url))
    cache = PolicyCache()
    with session_factory(engine)() as s:
        first = cache.active(s)
        assert first is not None
        assert first.customers["S1"].segment == "standard"
        assert cache.active(s) is first  # no reload while the version is unchanged
    publish_policy(db_url, second(policy_doc))  # its own engine, like the CLI
    with session_factory(engine)() as s:
        now = cache.active(s)
        assert now is not None
        assert now.version_id == "fixture-2026-02"
        assert now.customers["S1"].segment == "tail"
    engine.dispose()


def test_empty_database_has_no_active_version(db_url: str) -> None:
    engine = engine_for(Settings(db_url=db_url))
    migrate(engine)
    with session_factory(engine)() as s:
        assert active_version_id(s) is None
        assert PolicyCache().active(s) is None
    engine.dispose()


def test_policy_document_errors_name_the_field(policy_doc: dict[str, Any]) -> None:
    policy_doc["customers"][2]["credit_limit"] = "lots"
    with pytest.raises(ServiceError, match=r"customers\.2\.credit_limit"):
        policy_document(policy_doc)
