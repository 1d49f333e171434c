"""``/health``: liveness and the active policy version (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter

from supplyseg.service.deps import ReadSessionDep
from supplyseg.service.policy_store import active_version_id

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session: ReadSessionDep) -> dict[str, str | None]:
    """``ok`` and the active policy version when the database answers (503 when it does not)."""
    return {"status": "ok", "policy_version": active_version_id(session)}
