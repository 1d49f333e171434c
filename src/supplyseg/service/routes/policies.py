"""``/policies``: publish a policy version (admin) and read published versions."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from supplyseg.policy.document import PolicyVersion
from supplyseg.service.deps import CanPublish, CanReadPolicies, ReadSessionDep, SessionDep
from supplyseg.service.models import PolicyVersionRow
from supplyseg.service.policy_store import active_version_id, load_version, publish_version
from supplyseg.service.problems import NotFoundError
from supplyseg.service.schemas import PolicyPublished, PolicySummary
from supplyseg.service.views import utc

__all__ = ["router"]

router = APIRouter(prefix="/policies", tags=["policies"])


@router.post("", status_code=201)
def publish(
    doc: PolicyVersion, response: Response, session: SessionDep, principal: CanPublish
) -> PolicyPublished:
    """Publish and activate a version atomically (201; 200 when an existing one is re-activated).

    Large versions are better published with the CLI (`supplyseg publish`), which has no
    request body limit.
    """
    published = publish_version(session, doc, actor=principal.key_id)
    session.commit()
    if not published.new_version:
        response.status_code = 200
    return PolicyPublished(version_id=published.version_id, new_version=published.new_version)


def _summary(row: PolicyVersionRow, active: str | None) -> PolicySummary:
    return PolicySummary(
        version_id=row.version_id,
        created=utc(row.created),
        source_run_id=row.source_run_id,
        config_hash=row.config_hash,
        currency=row.currency,
        published_at=utc(row.published_at),
        published_by=row.published_by,
        active=row.version_id == active,
    )


@router.get("")
def list_versions(session: ReadSessionDep, principal: CanReadPolicies) -> list[PolicySummary]:
    """Every published version, newest first; exactly one is active."""
    active = active_version_id(session)
    rows = session.scalars(select(PolicyVersionRow).order_by(PolicyVersionRow.published_at.desc()))
    return [_summary(r, active) for r in rows]


@router.get("/active")
def active_version(session: ReadSessionDep, principal: CanReadPolicies) -> PolicySummary:
    """Header of the active version."""
    active = active_version_id(session)
    row = session.get(PolicyVersionRow, active) if active else None
    if row is None:
        raise NotFoundError("no policy version is published yet")
    return _summary(row, active)


@router.get("/{version_id}")
def get_version(
    version_id: str, session: ReadSessionDep, principal: CanReadPolicies
) -> PolicyVersion:
    """The full document of a published version."""
    return load_version(session, version_id)
