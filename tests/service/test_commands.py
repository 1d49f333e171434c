"""The CLI functions: publish_policy, create_api_key, read_policy_file, serve, and the
``supplyseg keys create|list|revoke`` commands on top of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, inspect

from supplyseg.errors import ServiceError
from supplyseg.policy.document import PolicyVersion
from supplyseg.service import commands
from supplyseg.service.commands import create_api_key, publish_policy, read_policy_file, serve
from supplyseg.service.db import engine_for, session_factory
from supplyseg.service.policy_store import active_version_id
from supplyseg.service.security import authenticated_principal
from supplyseg.service.settings import Settings


def test_publish_accepts_a_model_or_a_mapping(sqlite_url: str, policy_doc: dict[str, Any]) -> None:
    assert publish_policy(sqlite_url, PolicyVersion.model_validate(policy_doc)) == (
        "fixture-2026-01"
    )
    second = {**policy_doc, "version_id": "v2"}
    assert publish_policy(sqlite_url, second) == "v2"
    engine = engine_for(Settings(db_url=sqlite_url))
    with session_factory(engine)() as s:
        assert active_version_id(s) == "v2"
    engine.dispose()


def test_publish_refuses_a_bad_document(sqlite_url: str, policy_doc: dict[str, Any]) -> None:
    del policy_doc["segments"]
    with pytest.raises(ServiceError, match="policy document: segments: Field required"):
        publish_policy(sqlite_url, policy_doc)


def test_create_api_key_returns_a_working_key(sqlite_url: str) -> None:
    key = create_api_key(sqlite_url, "submitter", ["S1"], label="portal")
    engine = engine_for(Settings(db_url=sqlite_url))
    with session_factory(engine)() as s:
        p = authenticated_principal(s, key)
    engine.dispose()
    assert p is not None
    assert p.role == "submitter"
    assert p.customers == frozenset({"S1"})
    with pytest.raises(ServiceError, match="role 'boss'"):
        create_api_key(sqlite_url, "boss")
    with pytest.raises(ServiceError, match="admin key cannot be bound") as refused:
        create_api_key(sqlite_url, "admin", ["S1"])
    assert "\n" not in str(refused.value)  # one line for the CLI


def test_read_policy_file(tmp_path: Path, policy_doc: dict[str, Any]) -> None:
    good = tmp_path / "p.json"
    good.write_text(json.dumps(policy_doc), encoding="utf-8")
    assert read_policy_file(good) == policy_doc
    broken = tmp_path / "b.json"
    broken.write_text('{\n  "version_id": ,\n}', encoding="utf-8")
    with pytest.raises(ServiceError, match=r"b\.json: line 2, column 17: not valid JSON"):
        read_policy_file(broken)
    with pytest.raises(ServiceError, match="no such policy file"):
        read_policy_file(tmp_path / "missing.json")
    listed = tmp_path / "l.json"
    listed.write_text("[]", encoding="utf-8")
    with pytest.raises(ServiceError, match="expected a JSON object, found list"):
        read_policy_file(listed)


def test_serve_migrates_and_runs_uvicorn(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(app: FastAPI, **kw: Any) -> None:
        seen["app"], seen["kw"] = app, kw

    monkeypatch.setattr("uvicorn.run", fake_run)
    serve(sqlite_url, port=8123)
    assert isinstance(seen["app"], FastAPI)
    assert seen["kw"]["host"] == "127.0.0.1"
    assert seen["kw"]["port"] == 8123
    assert seen["kw"]["server_header"] is False  # no "server: uvicorn" banner
    engine = create_engine(sqlite_url)
    assert "orders" in inspect(engine).get_table_names()
    engine.dispose()
    assert commands.__all__ == [
        "create_api_key",
        "customers_not_in_policy",
        "list_api_keys",
        "publish_policy",
        "read_policy_file",
        "revoke_key",
        "run_backorder_processing",
        "serve",
    ]


def keys_cli(db_url: str, *args: str) -> Any:
    from typer.testing import CliRunner

    from supplyseg import cli

    return CliRunner().invoke(cli.app, ["keys", *args, "--db", db_url])


def test_keys_list_shows_every_key_but_never_a_secret(
    db_url: str, policy_doc: dict[str, Any]
) -> None:
    publish_policy(db_url, policy_doc)
    made = keys_cli(db_url, "create", "--role", "operator", "--customer", "S1", "--label", "ops")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    admin = create_api_key(db_url, "admin", label="root")
    [listed_ops, listed_admin] = sorted(commands.list_api_keys(db_url), key=lambda k: k.role)[::-1]
    assert (listed_ops.role, listed_ops.customers, listed_ops.label) == ("operator", ["S1"], "ops")
    assert (listed_admin.role, listed_admin.customers, listed_admin.label) == (
        "admin",
        None,
        "root",
    )
    assert listed_ops.revoked_at is None
    shown = keys_cli(db_url, "list")
    assert shown.exit_code == 0, shown.output
    for text in (listed_ops.key_id, listed_admin.key_id, "operator", "admin", "S1", "ops", "all"):
        assert text in shown.stdout
    for secret in (token, admin, token.split("_", 2)[2], admin.split("_", 2)[2]):
        assert secret not in shown.stdout


def test_keys_revoke_makes_the_key_fail_authentication(
    db_url: str, policy_doc: dict[str, Any]
) -> None:
    from fastapi.testclient import TestClient

    from supplyseg.service.app import create_app

    publish_policy(db_url, policy_doc)
    token = create_api_key(db_url, "operator")
    key_id = token.split("_")[1]
    app = create_app(Settings(db_url=db_url, api_key_cache_s=0))
    with TestClient(app) as client:
        assert client.get("/orders", headers={"X-API-Key": token}).status_code == 200
        done = keys_cli(db_url, "revoke", key_id)
        assert done.exit_code == 0, done.output
        assert f"revoked API key {key_id}" in done.stdout
        assert client.get("/orders", headers={"X-API-Key": token}).status_code == 401
    [listed] = commands.list_api_keys(db_url)
    assert listed.revoked_at is not None
    again = keys_cli(db_url, "revoke", key_id)
    assert again.exit_code == 1
    assert f"no active API key '{key_id}'" in again.output
    assert "supplyseg keys list" in again.output
    assert keys_cli(db_url, "revoke", "nope").exit_code == 1


def test_keys_create_refuses_or_warns_on_meaningless_combinations(
    sqlite_url: str, policy_doc: dict[str, Any]
) -> None:
    bound_admin = keys_cli(sqlite_url, "create", "--role", "admin", "--customer", "S1")
    assert bound_admin.exit_code == 1
    assert "admin key cannot be bound" in bound_admin.output
    assert keys_cli(sqlite_url, "create", "--role", "root").exit_code == 1
    assert keys_cli(sqlite_url, "create", "--role", "operator", "--label", "x" * 201).exit_code == 1
    assert commands.list_api_keys(sqlite_url) == []
    # before any policy nothing is known; afterwards an unknown customer is worth a warning
    quiet = keys_cli(sqlite_url, "create", "--role", "submitter", "--customer", "S9")
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    publish_policy(sqlite_url, policy_doc)
    warned = keys_cli(
        sqlite_url, "create", "--role", "submitter", "--customer", "S1", "--customer", "S9"
    )
    assert warned.exit_code == 0
    assert "customer 'S9' is not in the active policy version" in warned.stderr
    assert "'S1'" not in warned.stderr
    assert warned.stdout.strip().startswith("ssk_")
    assert commands.customers_not_in_policy(sqlite_url, ["S1", "S9", "K1"]) == ["S9"]
