"""Approval: draft -> approved -> published -> retired; every other move refused, clearly."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supplyseg import cli
from supplyseg.config import load_workspace
from supplyseg.data.samples import _DEMO_SETTINGS
from supplyseg.errors import PolicyError
from supplyseg.pipeline import run
from supplyseg.scenario.approval import (
    approval_history,
    approve,
    check_publishable,
    last_released,
    policy_state,
    policy_status,
    record_publish,
    reject,
)

from .workspaces import small_workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workspace that requires approval, and one complete run of it."""
    ws = small_workspace(tmp_path_factory.mktemp("appr"), "policies:\n  require_approval: true\n")
    return ws, run(load_workspace(ws), report=False).path


@pytest.fixture
def fresh(made: tuple[Path, Path]) -> Callable[[], str]:
    """Copies of the run as new draft runs (a decision is final, so each test takes its own)."""
    ws, path = made

    def copy() -> str:
        name = f"{path.name}-copy-{secrets.token_hex(4)}"
        shutil.copytree(path, ws / "out" / name, ignore=shutil.ignore_patterns("approval.jsonl"))
        return name

    return copy


def test_the_happy_path_and_its_history(made: tuple[Path, Path], fresh: Callable[[], str]) -> None:
    ws_dir, _ = made
    ws = load_workspace(ws_dir)
    first, second = fresh(), fresh()
    assert policy_state(ws.out_path / first) == "draft"
    approve(ws, first, "ann", "S&OP March")
    check_publishable(ws, ws.out_path / first)
    record_publish(ws, ws.out_path / first, "ops")
    assert policy_state(ws.out_path / first) == "published"
    assert last_released(ws) == ws.out_path / first
    approve(ws, second, "bob")
    assert last_released(ws) == ws.out_path / first  # published beats approved
    record_publish(ws, ws.out_path / second, "ops")
    assert policy_state(ws.out_path / first) == "retired"
    history = approval_history(ws.out_path / first)
    assert [(h["action"], h["from"], h["to"], h["by"]) for h in history] == [
        ("approve", "draft", "approved", "ann"),
        ("publish", "approved", "published", "ops"),
        ("retire", "published", "retired", "ops"),
    ]
    assert history[0]["comment"] == "S&OP March"
    assert history[2]["comment"].startswith("replaced by ")
    status = policy_status(ws).set_index("run_id")
    assert status.loc[second, "state"] == "published"
    assert status.loc[first, "state"] == "retired"


def _to(ws_dir: Path, name: str, state: str) -> None:
    ws = load_workspace(ws_dir)
    path = ws.out_path / name
    if state in ("approved", "published", "retired"):
        approve(ws, name, "ann")
    if state in ("published", "retired"):
        record_publish(ws, path, "ops")
    if state == "retired":
        other = ws.out_path / name.replace("copy", "other")
        shutil.copytree(path, other, ignore=shutil.ignore_patterns("approval.jsonl"))
        approve(ws, other.name, "ann")
        record_publish(ws, other, "ops")
    if state == "rejected":
        reject(ws, name, "ann", "targets too high")
    assert policy_state(path) == state


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("approved", "approve"),
        ("published", "approve"),
        ("retired", "approve"),
        ("rejected", "approve"),
        ("published", "reject"),
        ("retired", "reject"),
        ("rejected", "reject"),
        ("draft", "publish"),  # the workspace requires approval
        ("rejected", "publish"),
        ("retired", "publish"),
    ],
)
def test_every_illegal_move_is_refused_clearly(
    made: tuple[Path, Path], fresh: Callable[[], str], state: str, action: str
) -> None:
    ws_dir, _ = made
    ws = load_workspace(ws_dir)
    name = fresh()
    _to(ws_dir, name, state)
    before = approval_history(ws.out_path / name)
    moves: dict[str, Callable[[], object]] = {
        "approve": lambda: approve(ws, name, "eve"),
        "reject": lambda: reject(ws, name, "eve", "no"),
        "publish": lambda: check_publishable(ws, ws.out_path / name),
    }
    with pytest.raises(PolicyError, match=rf"cannot {action} .* it is {state}.*fix: ") as err:
        moves[action]()
    assert name in str(err.value)
    assert approval_history(ws.out_path / name) == before  # nothing recorded


def test_decisions_name_who_and_rejections_say_why(
    made: tuple[Path, Path], fresh: Callable[[], str]
) -> None:
    ws = load_workspace(made[0])
    name = fresh()
    with pytest.raises(PolicyError, match="--by is empty"):
        approve(ws, name, " ")
    with pytest.raises(PolicyError, match="--comment is empty"):
        reject(ws, name, "ann", "")
    reject(ws, name, "ann", "no")  # from draft
    other = fresh()
    approve(ws, other, "ann")
    assert reject(ws, other, "bob", "changed my mind")["from"] == "approved"


def test_publishing_a_draft_is_allowed_without_require_approval(
    made: tuple[Path, Path], fresh: Callable[[], str]
) -> None:
    ws = load_workspace(made[0])
    relaxed = ws.model_copy(
        update={"policies": ws.policies.model_copy(update={"require_approval": False})}
    )
    name = fresh()
    check_publishable(relaxed, ws.out_path / name)
    assert record_publish(relaxed, ws.out_path / name, "ops")[0]["from"] == "draft"


def test_the_cli_refuses_to_publish_an_unapproved_version(
    made: tuple[Path, Path], fresh: Callable[[], str], tmp_path: Path
) -> None:
    ws_dir, _ = made
    name = fresh()
    db = f"sqlite:///{tmp_path / 'svc.db'}"
    refused = runner.invoke(cli.app, ["publish", str(ws_dir), "--run", name, "--db", db])
    assert refused.exit_code == 1
    assert "cannot publish" in refused.output
    assert "require_approval" in refused.output
    assert "supplyseg policy approve" in refused.output
    args = ["policy", "approve", str(ws_dir), name, "--by", "ann", "--comment", "ok"]
    assert runner.invoke(cli.app, args).exit_code == 0
    done = runner.invoke(
        cli.app, ["publish", str(ws_dir), "--run", name, "--db", db, "--by", "ops"]
    )
    assert done.exit_code == 0, done.output
    status = runner.invoke(cli.app, ["policy", "status", str(ws_dir)])
    assert status.exit_code == 0
    assert "published" in status.output
    again = runner.invoke(
        cli.app, ["policy", "reject", str(ws_dir), name, "--by", "x", "--comment", "y"]
    )
    assert again.exit_code == 1
    assert "cannot reject" in again.output


def test_the_demo_requires_approval() -> None:
    assert "require_approval: true" in _DEMO_SETTINGS
