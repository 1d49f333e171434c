"""Plain functions behind the CLI verbs ``publish``, ``keys create|list|revoke`` and ``serve``.

Each takes a database URL, upgrades the schema first (so a new or old database just works) and
raises `supplyseg.errors.ServiceError` (or `ConfigError`) with a one-line fix on user mistakes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from supplyseg.errors import ServiceError
from supplyseg.policy.document import PolicyVersion
from supplyseg.service.db import engine_for, migrate, session_factory
from supplyseg.service.models import ActivePolicy, PolicyCustomer
from supplyseg.service.policy_store import policy_document, publish_version
from supplyseg.service.problems import NotFoundError
from supplyseg.service.promise_files import Allocation, publish_run_allocation
from supplyseg.service.schemas import ApiKeyOut
from supplyseg.service.security import issue_api_key, revoke_api_key
from supplyseg.service.settings import Settings
from supplyseg.service.views import api_key_views

__all__ = [
    "create_api_key",
    "customers_not_in_policy",
    "list_api_keys",
    "publish_policy",
    "read_policy_file",
    "revoke_key",
    "run_backorder_processing",
    "serve",
]

T = TypeVar("T")


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

    def bop(session: Session) -> dict[str, Any]:
        return process_backorders(session, active_version_id(session), actor=actor).model_dump()

    return _in_session(db_url, bop)


def _in_session(db_url: str, work: Callable[[Session], T]) -> T:
    """``work(session)`` on the migrated database at ``db_url``, committed."""
    engine = engine_for(_settings(db_url))
    try:
        migrate(engine)
        with session_factory(engine)() as session:
            result = work(session)
            session.commit()
        return result
    finally:
        engine.dispose()


def create_api_key(
    db_url: str, role: str, customers: list[str] | None = None, *, label: str = ""
) -> str:
    """Create an API key and return the plain key (shown once; only its hash is stored)."""

    def issue(session: Session) -> str:
        return issue_api_key(session, role, customers, label=label, actor="cli")[1]

    return _in_session(db_url, issue)


def customers_not_in_policy(db_url: str, customers: Sequence[str]) -> list[str]:
    """Those of ``customers`` the active policy version does not know (none without a policy):
    a key bound only to them cannot submit a valid order until a policy names them."""

    def unknown(session: Session) -> list[str]:
        active = session.scalar(select(ActivePolicy.version_id))
        if active is None:
            return []
        known = set(
            session.scalars(
                select(PolicyCustomer.customer_id).where(
                    PolicyCustomer.version_id == active,
                    PolicyCustomer.customer_id.in_(list(customers)),
                )
            )
        )
        return sorted(set(customers) - known)

    return _in_session(db_url, unknown)


def list_api_keys(db_url: str) -> list[ApiKeyOut]:
    """Every API key: id, role, customers, label, created, revoked (never the secret)."""
    return _in_session(db_url, api_key_views)


def revoke_key(db_url: str, key_id: str) -> None:
    """Revoke an API key (kept for audit); `ServiceError` if there is no active key ``key_id``.

    A running server refuses the key (401) once its cache of valid keys expires
    (``SUPPLYSEG_API_KEY_CACHE_S``, 5 s by default).
    """

    def revoke(session: Session) -> None:
        try:
            revoke_api_key(session, key_id, actor="cli")
        except NotFoundError:
            raise ServiceError(
                f"no active API key {key_id!r}; fix: see `supplyseg keys list` for the ids"
            ) from None

    _in_session(db_url, revoke)


def serve(
    db_url: str, host: str = "127.0.0.1", port: int = 8000, workspace: Path | None = None
) -> None:
    """Run the service under uvicorn until interrupted (OpenAPI docs at ``/docs``); the
    workbench at ``/ui`` reads the runs of ``workspace`` (else ``SUPPLYSEG_WORKSPACE``)."""
    import uvicorn

    from supplyseg.service.app import create_app

    app = create_app(Settings.from_env(db_url=db_url, workspace=workspace))
    # No "server: uvicorn" banner: it tells an attacker which software to look up.
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
