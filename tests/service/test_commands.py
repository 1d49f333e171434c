"""The CLI functions: publish_policy, create_api_key, read_policy_file, serve."""

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
        "publish_policy",
        "read_policy_file",
        "run_backorder_processing",
        "serve",
    ]
