"""Fixtures of the service tests: a database per test (SQLite file; PostgreSQL when
``SUPPLYSEG_TEST_PG_URL`` is set), the fixture policy, API keys and a TestClient.

The PostgreSQL run drops and re-creates the ``public`` schema of that database before each test;
point it at a scratch database (see ``supplyseg.service`` docstring for starting one).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from supplyseg.service.app import create_app
from supplyseg.service.commands import publish_policy
from supplyseg.service.security import issue_api_key
from supplyseg.service.settings import Settings

FIXTURE_POLICY = Path(__file__).parent / "fixture_policy.json"
PG_URL = os.environ.get("SUPPLYSEG_TEST_PG_URL")


def _reset_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or the PostgreSQL scratch database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    if not PG_URL:
        pytest.skip("SUPPLYSEG_TEST_PG_URL is not set")
    _reset_pg(PG_URL)
    return PG_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL (tests of SQLite-only behaviour)."""
    return f"sqlite:///{tmp_path / 'service.db'}"


@pytest.fixture
def policy_doc() -> dict[str, Any]:
    """The fixture policy version as parsed JSON (a fresh copy per test)."""
    doc: dict[str, Any] = json.loads(FIXTURE_POLICY.read_text(encoding="utf-8"))
    return doc


BOUND = ["K1", "K2", "S1", "S2", "T1", "T2", "X9"]


@dataclass
class Service:
    """A running app on a published fixture policy with one key per role."""

    client: TestClient
    app: FastAPI
    db_url: str
    keys: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        """Headers authenticating as ``who`` (admin, operator, submitter, gateway, s1_only)."""
        return {"X-API-Key": self.keys[who]}

    def post(self, path: str, body: Any, who: str = "submitter", **headers: str) -> Any:
        """POST JSON as ``who``."""
        return self.client.post(path, json=body, headers={**self.h(who), **headers})

    def get(self, path: str, who: str = "operator", **params: Any) -> Any:
        """GET as ``who``."""
        return self.client.get(path, params=params, headers=self.h(who))


@pytest.fixture
def service(db_url: str, policy_doc: dict[str, Any]) -> Iterator[Service]:
    """The app on ``db_url`` with the fixture policy published and keys for every role."""
    publish_policy(db_url, policy_doc)
    app = create_app(Settings(db_url=db_url))
    roles = {
        "admin": ("admin", None),
        "operator": ("operator", None),
        "submitter": ("submitter", BOUND),
        "gateway": ("submitter", None),
        "s1_only": ("submitter", ["S1"]),
    }
    keys = {}
    with app.state.sessions() as session:
        for name, (role, customers) in roles.items():
            keys[name] = issue_api_key(session, role, customers, label=name)[1]
        session.commit()
    with TestClient(app) as client:
        yield Service(client, app, db_url, keys)


BASE_ORDER: dict[str, Any] = {
    "customer_id": "S1",
    "po_number": "PO-1",
    "channel": "edi",
    "order_date": "2026-03-02",
    "requested_date": "2026-03-09",
    "ship_to_id": "S1-MAIN",
    "lines": [{"line_no": 1, "product_id": "P100", "quantity": 25, "unit_price": 10.0}],
}


@pytest.fixture
def make_order() -> Callable[..., dict[str, Any]]:
    """Build an order that S1 (segment standard) may place without any finding; override keys."""

    def build(**overrides: Any) -> dict[str, Any]:
        order = copy.deepcopy(BASE_ORDER)
        order.update(overrides)
        return order

    return build
