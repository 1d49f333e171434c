"""``/api-keys``: create, list and revoke API keys (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from supplyseg.service.deps import (
    CanManageKeys,
    PrincipalCacheDep,
    ReadSessionDep,
    SessionDep,
)
from supplyseg.service.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, Text
from supplyseg.service.security import issue_api_key, revoke_api_key
from supplyseg.service.views import api_key_views

__all__ = ["router"]

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


@router.post("", status_code=201)
def create_key(
    req: ApiKeyIn, response: Response, session: SessionDep, principal: CanManageKeys
) -> ApiKeyCreated:
    """Create a key; the plain key is in this response only (never cached: ``no-store``)."""
    response.headers["Cache-Control"] = "no-store"
    key_id, token = issue_api_key(
        session, req.role, req.customers, label=req.label, actor=principal.key_id
    )
    session.commit()
    customers = sorted(set(req.customers)) if req.customers is not None else None
    return ApiKeyCreated(key_id=key_id, key=token, role=req.role, customers=customers)


@router.get("")
def list_keys(session: ReadSessionDep, principal: CanManageKeys) -> list[ApiKeyOut]:
    """All keys, revoked ones included (never their secrets)."""
    return api_key_views(session)


@router.delete("/{key_id}", status_code=204)
def revoke_key(
    key_id: Annotated[Text, Path(max_length=32)],
    session: SessionDep,
    keys: PrincipalCacheDep,
    principal: CanManageKeys,
) -> None:
    """Revoke a key (kept for audit); requests with it get 401 from now on."""
    revoke_api_key(session, key_id, actor=principal.key_id)
    session.commit()
    keys.clear()
