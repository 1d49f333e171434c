"""Runs on the policy versions screen: approval state, approve / reject / publish for admins
under the CLI's rules, recorded in the approval history and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from supplyseg.config import load_workspace
from supplyseg.scenario.approval import approval_history, policy_state
from supplyseg.service.models import ActivePolicy, Audit

Browser = Callable[[str], Any]


def _run(workspace: Path) -> Path:
    return workspace / "out" / (workspace / "out" / "latest").read_text().strip()


def test_states_for_everyone_buttons_for_admins(
    workbench: Any, workspace: Path, browser: Browser
) -> None:
    run = _run(workspace)
    op = browser("operator").get("/ui/policies").text
    assert f"<code>{run.name}</code>" in op
    assert ">draft</span>" in op
    assert "needs an admin key" in op
    assert f'action="/ui/policies/runs/{run.name}"' not in op
    admin = browser("admin").get("/ui/policies").text
    assert f'action="/ui/policies/runs/{run.name}"' in admin
    # require_approval: a draft may be approved or rejected, not published
    assert 'value="approve"' in admin
    assert 'value="reject"' in admin
    assert 'value="publish"' not in admin


def test_an_operator_cannot_decide(workbench: Any, workspace: Path, browser: Browser) -> None:
    run = _run(workspace)
    answer = browser("operator").post(
        f"/ui/policies/runs/{run.name}", {"action": "approve", "comment": "ok"}
    )
    assert answer.status_code == 403
    assert policy_state(run) == "draft"


def test_a_decision_needs_a_comment_and_the_token(
    workbench: Any, workspace: Path, browser: Browser
) -> None:
    run = _run(workspace)
    admin = browser("admin")
    missing = admin.post(f"/ui/policies/runs/{run.name}", {"action": "approve", "comment": " "})
    assert missing.status_code == 422
    assert "the comment is required" in missing.text
    forged = admin.post(
        f"/ui/policies/runs/{run.name}", {"action": "approve", "comment": "x"}, csrf=False
    )
    assert forged.status_code == 403
    unknown = admin.post("/ui/policies/runs/nope", {"action": "approve", "comment": "x"})
    assert unknown.status_code == 404
    assert approval_history(run) == []


def test_publishing_a_draft_is_refused_as_by_the_cli(
    workbench: Any, workspace: Path, browser: Browser
) -> None:
    run = _run(workspace)
    answer = browser("admin").post(
        f"/ui/policies/runs/{run.name}", {"action": "publish", "comment": "go"}
    )
    assert answer.status_code == 409
    assert "policies.require_approval is true" in answer.text
    with workbench.app.state.sessions() as session:
        assert session.scalar(select(ActivePolicy.version_id)) == "fixture-2026-01"


def test_approve_then_publish(workbench: Any, workspace: Path, browser: Browser) -> None:
    run = _run(workspace)
    admin = browser("admin")
    key_id = workbench.keys["admin"].split("_")[1]
    done = admin.post(
        f"/ui/policies/runs/{run.name}", {"action": "approve", "comment": "S&OP March"}
    )
    assert done.status_code == 303
    page = admin.get(done.headers["location"]).text
    assert "its state is now <strong>approved</strong>" in page
    record = approval_history(run)[-1]
    assert (record["action"], record["by"], record["comment"]) == (
        "approve",
        f"admin (key {key_id})",
        "S&OP March",
    )
    assert 'value="publish"' in page
    published = admin.post(
        f"/ui/policies/runs/{run.name}", {"action": "publish", "comment": "live on Monday"}
    )
    assert published.status_code == 303
    assert policy_state(run) == "published"
    with workbench.app.state.sessions() as session:
        assert session.scalar(select(ActivePolicy.version_id)) == run.name
        audit = session.execute(
            select(Audit.entity, Audit.action, Audit.actor, Audit.comment).where(
                Audit.entity == "policy_run"
            )
        ).all()
    assert audit == [("policy_run", "approve", key_id, "S&OP March")]
    # The dashboard now reads the KPIs of this run.
    assert f"Run <code>{run.name}</code>" in admin.get("/ui/").text


def test_reject_is_final(workbench: Any, workspace: Path, browser: Browser) -> None:
    run = _run(workspace)
    admin = browser("admin")
    admin.post(f"/ui/policies/runs/{run.name}", {"action": "reject", "comment": "too lean"})
    assert policy_state(run) == "rejected"
    again = admin.post(f"/ui/policies/runs/{run.name}", {"action": "approve", "comment": "ok"})
    assert again.status_code == 409
    assert "a rejected version stays rejected" in again.text
    assert load_workspace(workspace).policies.require_approval
