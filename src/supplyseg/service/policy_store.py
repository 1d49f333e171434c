"""Publishing policy versions into the service database and loading the active one.

`publish_version` writes a version (header, segment rules, customers, products) and makes it the
active one, all in the caller's transaction: either everything is visible after commit, or nothing.
Versions are never changed or deleted (database triggers refuse it), so every order can be traced
to the exact rules it was checked against. Re-publishing an existing version id with identical
content re-activates it (a rollback); with different content it is refused.

`PolicyCache` keeps the compiled active version in memory and asks the database only for the
active version id per request, so a publish from another process (the CLI) takes effect at once.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from supplyseg.config.messages import validation_message
from supplyseg.errors import ServiceError
from supplyseg.policy.document import PolicyVersion
from supplyseg.service.models import (
    ActivePolicy,
    Audit,
    PolicyCustomer,
    PolicyProduct,
    PolicySegment,
    PolicyVersionRow,
)
from supplyseg.service.problems import ConflictError, NotFoundError
from supplyseg.service.validation import CompiledPolicy

__all__ = [
    "PolicyCache",
    "Published",
    "active_version_id",
    "load_version",
    "policy_document",
    "publish_version",
]

# Rows per INSERT statement for customers and products (keeps statements within driver limits).
_CHUNK = 5000


@dataclass(frozen=True)
class Published:
    """Outcome of a publish."""

    version_id: str
    new_version: bool


def policy_document(policy: PolicyVersion | dict[str, Any]) -> PolicyVersion:
    """Validate a policy document given as a model or a parsed JSON mapping."""
    if isinstance(policy, PolicyVersion):
        return policy
    try:
        return PolicyVersion.model_validate(policy)
    except ValidationError as exc:
        raise ServiceError(
            validation_message(
                exc,
                policy,
                origin="policy document",
                model=PolicyVersion,
                fix="correct the document (see supplyseg.policy.document.PolicyVersion)",
            )
        ) from None


def _sha256(doc: PolicyVersion) -> str:
    return hashlib.sha256(doc.model_dump_json().encode()).hexdigest()


# A Core statement built once: every order reads it, and the ORM path costs 4x as much
# (a fifth of an order's time in the service).
_ACTIVE_VERSION = select(ActivePolicy.__table__.c.version_id).where(
    ActivePolicy.__table__.c.id == 1
)


def active_version_id(session: Session) -> str | None:
    """Id of the active policy version, or None before the first publish."""
    version: str | None = session.connection().execute(_ACTIVE_VERSION).scalar()
    return version


def publish_version(session: Session, doc: PolicyVersion, *, actor: str) -> Published:
    """Write ``doc`` (if new) and make it the active version; the caller commits."""
    now = datetime.now(UTC)
    digest = _sha256(doc)
    existing = session.get(PolicyVersionRow, doc.version_id)
    if existing is not None and existing.document_sha256 != digest:
        raise ConflictError(
            f"policy version {doc.version_id!r} is already published with different content;"
            " fix: give the new version a new version_id",
            code="version_conflict",
        )
    if existing is None:
        _write_version(session, doc, digest, now, actor)
    # Lock the single row (PostgreSQL) so concurrent publishers serialise on it.
    previous = session.scalar(
        select(ActivePolicy.version_id).where(ActivePolicy.id == 1).with_for_update()
    )
    if previous is None:
        session.execute(
            insert(ActivePolicy).values(id=1, version_id=doc.version_id, activated_at=now)
        )
    else:
        session.execute(
            update(ActivePolicy)
            .where(ActivePolicy.id == 1)
            .values(version_id=doc.version_id, activated_at=now)
        )
    session.execute(
        insert(Audit).values(
            at=now,
            actor=actor,
            entity="policy",
            entity_id=doc.version_id,
            action="publish" if existing is None else "reactivate",
            before={"active_version": previous},
            after={"active_version": doc.version_id, "document_sha256": digest},
            comment=None,
        )
    )
    return Published(doc.version_id, existing is None)


def _write_version(
    session: Session, doc: PolicyVersion, digest: str, now: datetime, actor: str
) -> None:
    vid = doc.version_id
    session.execute(
        insert(PolicyVersionRow).values(
            version_id=vid,
            created=doc.created.astimezone(UTC),
            source_run_id=doc.source_run_id,
            config_hash=doc.config_hash,
            currency=doc.currency,
            document_sha256=digest,
            published_at=now,
            published_by=actor,
        )
    )
    session.execute(
        insert(PolicySegment),
        [
            {"version_id": vid, "segment": name, "rules": rules.model_dump(mode="json")}
            for name, rules in doc.segments.items()
        ],
    )
    customers = [
        {
            "version_id": vid,
            "customer_id": c.customer_id,
            "segment": c.segment,
            "active": c.active,
            "credit_limit": c.credit_limit,
            "open_receivables": c.open_receivables,
            "ship_to_ids": list(c.ship_to_ids),
        }
        for c in doc.customers
    ]
    products = [
        {
            "version_id": vid,
            "product_id": p.product_id,
            "list_price": p.list_price,
            "active": p.active,
            "allowed_segments": p.allowed_segments,
            "allowed_channels": p.allowed_channels,
        }
        for p in doc.products
    ]
    for table, rows in ((PolicyCustomer, customers), (PolicyProduct, products)):
        for i in range(0, len(rows), _CHUNK):
            session.execute(insert(table), rows[i : i + _CHUNK])


def load_version(session: Session, version_id: str) -> PolicyVersion:
    """Read a published version back into the document model."""
    head = session.get(PolicyVersionRow, version_id)
    if head is None:
        raise NotFoundError(f"no policy version {version_id!r}")
    segments = {
        s.segment: s.rules
        for s in session.scalars(
            select(PolicySegment).where(PolicySegment.version_id == version_id)
        )
    }
    customers = [
        {
            "customer_id": c.customer_id,
            "segment": c.segment,
            "active": c.active,
            "credit_limit": c.credit_limit,
            "open_receivables": c.open_receivables,
            "ship_to_ids": c.ship_to_ids,
        }
        for c in session.scalars(
            select(PolicyCustomer)
            .where(PolicyCustomer.version_id == version_id)
            .order_by(PolicyCustomer.customer_id)
        )
    ]
    products = [
        {
            "product_id": p.product_id,
            "list_price": p.list_price,
            "active": p.active,
            "allowed_segments": p.allowed_segments,
            "allowed_channels": p.allowed_channels,
        }
        for p in session.scalars(
            select(PolicyProduct)
            .where(PolicyProduct.version_id == version_id)
            .order_by(PolicyProduct.product_id)
        )
    ]
    created = head.created if head.created.tzinfo else head.created.replace(tzinfo=UTC)
    return PolicyVersion.model_validate(
        {
            "version_id": head.version_id,
            "created": created,
            "source_run_id": head.source_run_id,
            "config_hash": head.config_hash,
            "currency": head.currency,
            "segments": segments,
            "customers": customers,
            "products": products,
        }
    )


class PolicyCache:
    """The compiled active version, reloaded when the active version id changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._compiled: CompiledPolicy | None = None

    def active(self, session: Session) -> CompiledPolicy | None:
        """The active version (one primary-key read; a full load only after a publish)."""
        vid = active_version_id(session)
        if vid is None:
            return None
        current = self._compiled
        if current is not None and current.version_id == vid:
            return current
        with self._lock:
            if self._compiled is None or self._compiled.version_id != vid:
                self._compiled = CompiledPolicy.from_document(load_version(session, vid))
            return self._compiled
