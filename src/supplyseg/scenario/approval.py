"""Approval of policy versions: draft -> approved -> published -> retired, with its history.

Every run's policy version starts as a ``draft``. Its history is ``approval.jsonl`` in the run
folder (one JSON object a line, appended, never rewritten: ``at, by, action, from, to,
comment, version_id``), so it works without the order service. The moves (`MOVES`):

| action | from | to |
|---|---|---|
| approve | draft | approved |
| reject | draft, approved | rejected |
| publish | approved, published (again, e.g. to another database) | published |
| retire | published | retired (done by publishing another version) |

Publishing a draft is allowed too unless ``policies.require_approval`` is true. Anything else
is refused with a `PolicyError` naming the version, its state, who put it there
and what to do. ``rejected`` and ``retired`` are final: make a new run and approve that.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from supplyseg.config import Workspace
from supplyseg.errors import PolicyError
from supplyseg.runs import require_complete, run_path

__all__ = [
    "APPROVAL_FILE",
    "MOVES",
    "STATES",
    "approval_history",
    "approve",
    "check_publishable",
    "last_released",
    "policy_state",
    "policy_status",
    "record_publish",
    "reject",
]

APPROVAL_FILE = "approval.jsonl"
STATES = ("draft", "approved", "rejected", "published", "retired")
MOVES: dict[str, dict[str, str]] = {
    "approve": {"draft": "approved"},
    "reject": {"draft": "rejected", "approved": "rejected"},
    "publish": {"draft": "published", "approved": "published", "published": "published"},
    "retire": {"published": "retired"},
}
"""Allowed moves: action -> {from state: to state}."""
_FIX = {
    "approved": "publish it: `supplyseg publish WS --run {run}`",
    "rejected": "a rejected version stays rejected; make a new run and approve that",
    "published": "it is live; publishing another version retires it",
    "retired": "a retired version stays retired; make a new run (same data and settings give"
    " the same policies) and approve that",
    "draft": "approve it first: `supplyseg policy approve WS {run} --by NAME`",
}


def approval_history(path: Path) -> list[dict[str, Any]]:
    """The decisions on the run in ``path``, oldest first (empty for a draft)."""
    file = path / APPROVAL_FILE
    if not file.exists():
        return []
    lines = file.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def policy_state(path: Path) -> str:
    """The state of the run's policy version (`STATES`)."""
    history = approval_history(path)
    return str(history[-1]["to"]) if history else "draft"


def _version_id(path: Path) -> str:
    """The version id the order service knows (``policy_document.json``), else the run id."""
    file = path / "policy_document.json"
    try:
        return str(json.loads(file.read_text(encoding="utf-8"))["version_id"])
    except (OSError, ValueError, KeyError):
        return path.name


def _target(action: str, state: str, require_approval: bool) -> str | None:
    if action == "publish" and state == "draft" and require_approval:
        return None
    return MOVES[action].get(state)


def _refusal(path: Path, action: str, state: str, require_approval: bool) -> PolicyError:
    history = approval_history(path)
    last = history[-1] if history else None
    since = f" ({last['action']} by {last['by']} at {last['at']})" if last else ""
    allowed = [s for s in MOVES[action] if _target(action, s, require_approval)]
    why = " (policies.require_approval is true)" if require_approval and action == "publish" else ""
    return PolicyError(
        f"cannot {action} policy version {_version_id(path)} of run {path.name}: it is"
        f" {state}{since}; {action} is allowed from {', '.join(allowed)}{why}; fix: "
        + _FIX[state].format(run=path.name)
    )


def _move(
    path: Path, action: str, by: str, comment: str, *, require_approval: bool, now: datetime | None
) -> dict[str, Any]:
    """Check ``action`` on the run in ``path`` and append it to the history."""
    if not by.strip():
        raise PolicyError(f"{action}: --by is empty; fix: give your name (who decides)")
    state = policy_state(path)
    target = _target(action, state, require_approval)
    if target is None:
        raise _refusal(path, action, state, require_approval)
    record = {
        "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "by": by.strip(),
        "action": action,
        "from": state,
        "to": target,
        "comment": comment,
        "version_id": _version_id(path),
    }
    with (path / APPROVAL_FILE).open("a", encoding="utf-8") as file:
        file.write(json.dumps(record) + "\n")
    return record


def _decidable(ws: Workspace, run_id: str | None) -> Path:
    path = run_path(ws, run_id)
    require_complete(path)
    if not (path / "policy_document.json").exists():
        raise PolicyError(
            f"run {path.name} has no policy document (no customer segments?), nothing to"
            " approve; fix: check the run's manifest warnings, then run again"
        )
    return path


def approve(
    ws: Workspace, run_id: str | None, by: str, comment: str = "", *, now: datetime | None = None
) -> dict[str, Any]:
    """Approve the policy version of run ``run_id`` (default the latest); the record."""
    path = _decidable(ws, run_id)
    return _move(path, "approve", by, comment, require_approval=False, now=now)


def reject(
    ws: Workspace, run_id: str | None, by: str, comment: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """Reject the policy version of run ``run_id`` (default the latest); a comment is required."""
    if not comment.strip():
        raise PolicyError("reject: --comment is empty; fix: say why the version is rejected")
    path = _decidable(ws, run_id)
    return _move(path, "reject", by, comment, require_approval=False, now=now)


def check_publishable(ws: Workspace, path: Path) -> None:
    """`PolicyError` unless the run in ``path`` may be published (see `MOVES`)."""
    state = policy_state(path)
    if _target("publish", state, ws.policies.require_approval) is None:
        raise _refusal(path, "publish", state, ws.policies.require_approval)


def _runs(ws: Workspace) -> list[Path]:
    if not ws.out_path.is_dir():
        return []
    return sorted(p for p in ws.out_path.iterdir() if p.is_dir() and (p / "manifest.json").exists())


def record_publish(
    ws: Workspace, path: Path, by: str, comment: str = "", *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Record that the run in ``path`` was published and retire the version published before
    (every other run in state published); the records written."""
    records = [
        _move(path, "publish", by, comment, require_approval=ws.policies.require_approval, now=now)
    ]
    for other in _runs(ws):
        if other != path and policy_state(other) == "published":
            note = f"replaced by {_version_id(path)}"
            records.append(_move(other, "retire", by, note, require_approval=False, now=now))
    return records


def last_released(ws: Workspace) -> Path | None:
    """The run whose version was published last, else the one approved last; None if none."""
    best: dict[str, tuple[str, Path]] = {}
    for path in _runs(ws):
        for record in approval_history(path):
            kind = record["to"]
            if kind in ("published", "approved") and record["at"] >= best.get(kind, ("", path))[0]:
                best[kind] = (record["at"], path)
    for kind in ("published", "approved"):
        if kind in best and policy_state(best[kind][1]) in ("published", "approved"):
            return best[kind][1]
    return None


def policy_status(ws: Workspace) -> pd.DataFrame:
    """One row per complete run, newest first: ``run_id, version_id, scenario, created,
    state, by, at, action, comment`` (the last decision; empty for drafts)."""
    rows = []
    for path in reversed(_runs(ws)):
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("status") != "complete" or manifest.get("kind") != "run":
            continue
        history = approval_history(path)
        last = history[-1] if history else {}
        rows.append(
            {
                "run_id": path.name,
                "version_id": _version_id(path),
                "scenario": manifest.get("scenario"),
                "created": manifest.get("created"),
                "state": policy_state(path),
                "by": last.get("by"),
                "at": last.get("at"),
                "action": last.get("action"),
                "comment": last.get("comment"),
            }
        )
    columns = ["run_id", "version_id", "scenario", "created", "state", "by", "at", "action"]
    return pd.DataFrame.from_records(rows, columns=[*columns, "comment"])
