"""API keys: only a hash is stored, authentication refuses every wrong key, permissions, cache."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from supplyseg.errors import ServiceError
from supplyseg.service.db import engine_for, migrate, session_factory
from supplyseg.service.models import ApiKey
from supplyseg.service.security import (
    PERMISSIONS,
    Principal,
    PrincipalCache,
    authenticated_principal,
    issue_api_key,
    revoke_api_key,
)
from supplyseg.service.settings import Settings


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    engine = engine_for(Settings(db_url=sqlite_url))
    migrate(engine)
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


def test_only_the_hash_is_stored(session: Session) -> None:
    key_id, token = issue_api_key(session, "submitter", ["S1", "S1", "K1"], label="edi")
    session.commit()
    row = session.scalars(select(ApiKey)).one()
    assert row.key_id == key_id
    assert token.startswith(f"ssk_{key_id}_")
    assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str([row.key_hash, row.label, row.customers])
    assert row.customers == ["K1", "S1"]
    p = authenticated_principal(session, token)
    assert p == Principal(key_id, "submitter", frozenset({"S1", "K1"}))


def test_wrong_keys_are_refused(session: Session) -> None:
    key_id, token = issue_api_key(session, "operator", None)
    session.commit()
    for bad in (
        "",
        "ssk",
        "ssk__x",
        f"ssk_{key_id}_",
        f"ssk_{key_id}_wrong",
        token + "x",
        token.replace("ssk_", "sk_"),
        "ssk_000000000000_" + token.split("_", 2)[2],
    ):
        assert authenticated_principal(session, bad) is None, bad
    revoke_api_key(session, key_id, actor="test")
    session.commit()
    assert authenticated_principal(session, token) is None


def test_issue_errors(session: Session) -> None:
    with pytest.raises(ServiceError, match="role 'root' is not a role"):
        issue_api_key(session, "root", None)
    with pytest.raises(ServiceError, match="at least one non-empty customer"):
        issue_api_key(session, "submitter", [])
    with pytest.raises(ServiceError, match="admin key cannot be bound to customers"):
        issue_api_key(session, "admin", ["S1"])
    # bound operators and submitters are meaningful: the binding limits what they see
    issue_api_key(session, "operator", ["S1"])


def test_permissions() -> None:
    sub, op, admin = (Principal("k", r, None) for r in ("submitter", "operator", "admin"))  # type: ignore[arg-type]
    assert sub.can("orders:submit")
    assert not sub.can("exceptions:resolve")
    assert op.can("exceptions:resolve")
    assert not op.can("orders:submit")
    assert not op.can("policies:publish")
    assert admin.can("policies:publish")
    assert admin.can("keys:manage")
    assert not admin.can("orders:submit")
    assert not admin.can("exceptions:resolve")
    assert set(PERMISSIONS) == {"submitter", "operator", "admin"}
    bound = Principal("k", "submitter", frozenset({"S1"}))
    assert bound.may_access("S1")
    assert not bound.may_access("K1")
    assert sub.may_access("K1")


def test_principal_cache_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    now = {"t": 100.0}
    monkeypatch.setattr("supplyseg.service.security.time.monotonic", lambda: now["t"])
    p = Principal("k", "operator", None)
    cache = PrincipalCache(ttl_s=5)
    assert cache.get("tok") is None
    cache.put("tok", p)
    assert cache.get("tok") == p
    now["t"] += 5.1
    assert cache.get("tok") is None
    cache.put("tok", p)
    cache.clear()
    assert cache.get("tok") is None
    off = PrincipalCache(ttl_s=0)
    off.put("tok", p)
    assert off.get("tok") is None
    small = PrincipalCache(ttl_s=5, max_entries=2)
    for t in ("a", "b", "c"):
        small.put(t, p)
    assert small.get("c") == p
    assert small.get("a") is None


def test_revocation_by_another_process_applies_after_the_cache_ttl(
    service: Any, make_order: Any
) -> None:
    """With caching off, a key revoked elsewhere (e.g. by the CLI) is refused at once."""
    service.app.state.principal_cache.ttl_s = 0
    assert service.get("/orders", "s1_only").status_code == 200
    with service.app.state.sessions() as s:  # stands in for another process's connection
        key_id = service.keys["s1_only"].split("_")[1]
        revoke_api_key(s, key_id, actor="cli")
        s.commit()
    assert service.get("/orders", "s1_only").status_code == 401
