"""Plain functions behind the CLI verbs ``publish``, ``api-key`` and ``serve``.

Each takes a database URL, upgrades the schema first (so a new or old database just works) and
raises `supplyseg.errors.ServiceError` (or `ConfigError`) with a one-line fix on user mistakes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from supplyseg.errors import ServiceError
from supplyseg.policy.document import PolicyVersion
from supplyseg.service.db import engine_for, migrate, session_factory
from supplyseg.service.policy_store import policy_document, publish_version
from supplyseg.service.promise_files import Allocation, publish_run_allocation
from supplyseg.service.security import issue_api_key
from supplyseg.service.settings import Settings

__all__ = [
    "create_api_key",
    "publish_policy",
    "read_policy_file",
    "run_backorder_processing",
    "serve",
]


def _settings(db_url: str) -> Settings:
    return Settings.from_env(db_url=db_url)


def read_policy_file(path: str | Path) -> dict[str, Any]:
    """The parsed JSON of a policy version file (for ``supplyseg publish FILE``)."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ServiceError(
            f"{p}: no such policy file; fix: give the path of a policy JSON"
        ) from None
    except json.JSONDecodeError as exc:
        raise ServiceError(
            f"{p}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    if not isinstance(raw, dict):
        raise ServiceError(f"{p}: expected a JSON object, found {type(raw).__name__}")
    return raw


def publish_policy(
    db_url: str,
    policy: PolicyVersion | dict[str, Any],
    *,
    actor: str = "cli",
    allocation: Allocation | None = None,
) -> str:
    """Publish ``policy`` as the active version (atomic); returns its version id. With
    ``allocation``, its plan and supply go in the same transaction (`read_allocation_files`)."""
    doc = policy_document(policy)
    engine = engine_for(_settings(db_url))
    try:
        migrate(engine)
        with session_factory(engine)() as session:
            published = publish_version(session, doc, actor=actor)
            if allocation is not None:
                publish_run_allocation(session, doc.version_id, allocation, actor=actor)
            session.commit()
        return published.version_id
    finally:
        engine.dispose()


def run_backorder_processing(db_url: str, *, actor: str = "cli") -> dict[str, Any]:
    """Re-confirm every open order line against current supply (one transaction); returns the
    outcome (`supplyseg.service.promise_schemas.BopOut` as a mapping)."""
    from supplyseg.service.backorders import process_backorders
    from supplyseg.service.policy_store import active_version_id

    engine = engine_for(_settings(db_url))
    try:
        migrate(engine)
        with session_factory(engine)() as session:
            result = process_backorders(session, active_version_id(session), actor=actor)
            session.commit()
        return result.model_dump()
    finally:
        engine.dispose()


def create_api_key(
    db_url: str, role: str, customers: list[str] | None = None, *, label: str = ""
) -> str:
    """Create an API key and return the plain key (shown once; only its hash is stored)."""
    engine = engine_for(_settings(db_url))
    try:
        migrate(engine)
        with session_factory(engine)() as session:
            _, token = issue_api_key(session, role, customers, label=label, actor="cli")
            session.commit()
        return token
    finally:
        engine.dispose()


def serve(db_url: str, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the service under uvicorn until interrupted (OpenAPI docs at ``/docs``)."""
    import uvicorn

    from supplyseg.service.app import create_app

    app = create_app(_settings(db_url))
    # No "server: uvicorn" banner: it tells an attacker which software to look up.
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
