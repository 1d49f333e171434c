"""The workspace's runs on the policy versions screen: their approval state and, for admins,
approve, reject and publish, under the same rules as ``supplyseg policy approve|reject`` and
``supplyseg publish`` (`supplyseg.scenario.approval`).

A decision needs a comment. It goes into the run's approval history with the signed-in key as
``by`` (its label and id), and into the service's audit trail. Publishing writes the run's
policy document and allocation files into the service database in one transaction, as
``supplyseg publish`` does, then records the publish (retiring the version published before);
with ``policies.require_approval`` an unapproved run is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import insert

from supplyseg.errors import SupplysegError
from supplyseg.service.models import ApiKey, Audit
from supplyseg.service.problems import ApiError
from supplyseg.service.ui.auth import UiUser, check_csrf, form_fields
from supplyseg.service.ui.render import PageError, current_user, require
from supplyseg.service.ui.workspace import records, run_folder, workspace_or_reason

if TYPE_CHECKING:
    from supplyseg.config import Workspace

__all__ = ["ACTIONS", "decider", "router", "workspace_runs"]

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[UiUser, Depends(current_user)]
RunIdPath = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
ACTIONS = ("approve", "reject", "publish")


def workspace_runs(request: Request) -> tuple[list[dict[str, Any]], str | None]:
    """Every complete run of the workspace, newest first, with its approval state and the
    actions it allows (``can``); or no rows and the sentence saying what to set or fix."""
    ws, reason = workspace_or_reason(request)
    if ws is None:
        return [], reason
    from supplyseg.scenario.approval import MOVES, policy_status

    try:
        status = policy_status(ws)
    except (SupplysegError, OSError, ValueError) as exc:
        return [], f"The runs of {ws.out_path} cannot be read: {exc}"
    rows = []
    for r in records(status):
        state = r["state"]
        can = [a for a in ("approve", "reject") if state in MOVES[a]]
        draft_blocked = state == "draft" and ws.policies.require_approval
        if state in MOVES["publish"] and not draft_blocked:
            can.append("publish")
        has_doc = (ws.out_path / r["run_id"] / "policy_document.json").exists()
        rows.append({**r, "can": can if has_doc else [], "has_document": has_doc})
    return rows, None


def decider(session: Any, user: UiUser) -> str:
    """Who decides, as the approval history names them: the key's label and id."""
    key = session.get(ApiKey, user.principal.key_id)
    label = (key.label or "").strip() if key is not None else ""
    return f"{label} (key {user.principal.key_id})" if label else f"key {user.principal.key_id}"


def _audit(session: Any, actor: str, run_id: str, record: dict[str, Any]) -> None:
    session.execute(
        insert(Audit).values(
            at=datetime.now(UTC),
            actor=actor,
            entity="policy_run",
            entity_id=run_id,
            action=record["action"],
            before={"state": record["from"]},
            after={"state": record["to"], "version_id": record["version_id"]},
            comment=record["comment"] or None,
        )
    )


def _publish(request: Request, ws: Workspace, folder: Any, user: UiUser, comment: str) -> str:
    """Publish the run in ``folder`` as ``supplyseg publish`` does; its version id."""
    from supplyseg.scenario.approval import check_publishable, record_publish
    from supplyseg.service.commands import read_policy_file
    from supplyseg.service.policy_store import policy_document, publish_version
    from supplyseg.service.promise_files import publish_run_allocation, read_allocation_files

    check_publishable(ws, folder)
    doc = policy_document(read_policy_file(folder / "policy_document.json"))
    allocation = read_allocation_files(folder)
    actor = user.principal.key_id
    with request.app.state.sessions() as session:
        by = decider(session, user)
        publish_version(session, doc, actor=actor)
        if allocation is not None:
            publish_run_allocation(session, doc.version_id, allocation, actor=actor)
        session.commit()
    # After the commit, as the CLI does: the database is the truth of what is live.
    record_publish(ws, folder, by, comment)
    return doc.version_id


def _decide(request: Request, user: UiUser, run_id: str, form: dict[str, str]) -> None:
    """Carry out the form's action on run ``run_id`` (`PageError` saying why not)."""
    from supplyseg.scenario.approval import approve, reject

    ws, reason = workspace_or_reason(request)
    if ws is None:
        raise PageError(409, reason or "no workspace")
    folder = run_folder(ws, run_id)
    if folder is None:
        raise PageError(404, f"no complete run {run_id!r} in {ws.out_path}")
    action, comment = form.get("action", ""), form.get("comment", "").strip()
    if action not in ACTIONS:
        raise PageError(422, f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    if not comment:
        raise PageError(422, f"{action}: the comment is required; say why, then send it again")
    try:
        if action == "publish":
            _publish(request, ws, folder, user, comment)
            return
        with request.app.state.sessions() as session:
            by = decider(session, user)
            if action == "approve":
                record = approve(ws, run_id, by, comment)
            else:
                record = reject(ws, run_id, by, comment)
            _audit(session, user.principal.key_id, run_id, record)
            session.commit()
    except (SupplysegError, ApiError) as exc:
        status = exc.status_code if isinstance(exc, ApiError) else 409
        raise PageError(status, f"Not done: {exc}") from None


@router.post("/policies/runs/{run_id}")
async def decide(request: Request, run_id: RunIdPath, user: UserDep) -> Response:
    """Approve, reject or publish a run's policy version (admins); back to the versions."""
    form = await form_fields(request)
    check_csrf(request, user, form)
    require(user, "policies:publish")
    await run_in_threadpool(_decide, request, user, run_id, form)
    # The page words the outcome from the run's state: no text travels in the link.
    done = urlencode({"done": form["action"], "run": run_id})
    return RedirectResponse(f"/ui/policies?{done}#runs", status_code=303)
