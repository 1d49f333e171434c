"""The workbench end to end in real Chromium against a real `supplyseg serve` on SQLite.

Signs in with the keyboard, resolves an exception through the forms and checks the database
and the audit trail; a bound submitter cannot see another customer's orders; every page loads
without console errors or requests off the server, has a label on every form field, and starts
with a skip link. With ``SUPPLYSEG_SCREENSHOTS`` set, a screenshot of each screen goes there.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import supplyseg
from supplyseg.service.commands import publish_policy
from supplyseg.service.db import engine_for, migrate
from supplyseg.service.models import Audit, OrderException, OrderRow
from supplyseg.service.security import issue_api_key
from supplyseg.service.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
FIXTURE_POLICY = Path(__file__).parents[1] / "fixture_policy.json"
SHOTS = os.environ.get("SUPPLYSEG_SCREENSHOTS")

# Form fields (not hidden) without a label: each is an accessibility failure.
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.name || el.id || el.outerHTML)"""

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent")


@dataclass
class Server:
    """A running `supplyseg serve`, its database and keys, and two orders in the queue."""

    url: str
    db_url: str
    keys: dict[str, str]
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, made_workspace: Path) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("ui-e2e")
    workspace = shutil.copytree(made_workspace, folder / "ws")
    db_url = f"sqlite:///{folder / 'service.db'}"
    first = json.loads(FIXTURE_POLICY.read_text(encoding="utf-8"))
    second = copy.deepcopy(first)
    second["version_id"] = "fixture-2026-02"
    second["segments"]["standard"]["moq"] = 12
    for c in second["customers"]:
        if c["customer_id"] == "T2":
            c["segment"] = "standard"
    publish_policy(db_url, first)
    publish_policy(db_url, second)
    engine = engine_for(Settings(db_url=db_url))
    migrate(engine)
    keys = {}
    with Session(engine) as session:
        for name, role, customers in (
            ("operator", "operator", None),
            ("gateway", "submitter", None),
            ("s1", "submitter", ["S1"]),
        ):
            keys[name] = issue_api_key(session, role, customers, label=name)[1]
        session.commit()
    engine.dispose()
    port = _free_port()
    src = str(Path(supplyseg.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": src, "SUPPLYSEG_API_KEY_CACHE_S": "0"}
    env.pop("SUPPLYSEG_DB_URL", None)
    log = (folder / "serve.log").open("w")
    # `supplyseg serve`, the installed command's entry point, from this source tree.
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from supplyseg.cli import app; sys.argv[0] = "
         "'supplyseg'; app()", "serve", "--db", db_url, "--port", str(port), "--workspace",
         str(workspace)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (folder / "serve.log").read_text()
            time.sleep(0.1)
        srv = Server(url, db_url, keys)
        gateway = {"X-API-Key": keys["gateway"]}
        line = {"line_no": 1, "product_id": "P100", "quantity": 5, "unit_price": 10.0}
        orders = {
            "s1": {"customer_id": "S1", "po_number": "E2E-S1", "channel": "edi",
                   "order_date": "2026-03-02", "requested_date": "2026-03-09",
                   "ship_to_id": "S1-MAIN", "lines": [line]},
            "t1": {"customer_id": "T1", "po_number": "E2E-T1", "channel": "email",
                   "order_date": "2026-03-02", "requested_date": "2026-03-20", "lines": [line]},
        }  # fmt: skip
        for name, body in orders.items():
            answer = httpx.post(f"{url}/orders", json=body, headers=gateway, timeout=10)
            assert answer.status_code == 201, answer.text
            srv.orders[name] = answer.json()
            assert srv.orders[name]["status"] == "exception"
        yield srv
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """A browser page that records console errors and requests leaving the server."""

    def __init__(self, chromium: Any, server: Server) -> None:
        self.context = chromium.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(5000)  # a missing element fails fast
        self.page = self.context.new_page()
        self.server = server
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("request", self._request)

    def _console(self, message: Any) -> None:
        # Chromium logs the 4xx of a page it was asked to open; that is the answer under test.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.problems.append(f"console: {message.text}")

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.server.url, "data:")):
            self.problems.append(f"request off the server: {request.url}")

    def check(self, name: str) -> None:
        """Labels on every field, then a screenshot of the screen (when asked for)."""
        assert self.page.evaluate(UNLABELLED) == [], name
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)

    def sign_in(self, key: str) -> None:
        """Sign in with the keyboard only: the key field has the focus, type, Enter."""
        self.page.goto(f"{self.server.url}/ui/", wait_until="load")
        assert "/ui/login" in self.page.url
        self.check("sign-in")
        focused = "document.activeElement.id || document.activeElement.className"
        assert self.page.evaluate(focused) == "api_key"  # autofocus
        self.page.keyboard.press("Shift+Tab")
        assert self.page.evaluate(focused) == "skip"  # first in the tab order
        self.page.keyboard.press("Tab")
        assert self.page.evaluate(focused) == "api_key"
        self.page.keyboard.type(key)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        assert self.page.url == f"{self.server.url}/ui/"

    def close(self) -> None:
        self.context.close()
        assert self.problems == []


def test_an_operator_resolves_an_exception_through_the_pages(chromium: Any, server: Server) -> None:
    visit = Visit(chromium, server)
    page = visit.page
    visit.sign_in(server.keys["operator"])
    assert page.get_by_role("heading", name="Open exceptions by segment and age").is_visible()
    visit.check("dashboard")
    # The skip link moves the keyboard past the navigation.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    page.get_by_role("link", name="Exceptions").click()
    page.get_by_label("Customer").fill("S1")
    page.get_by_role("button", name="Filter").click()
    visit.check("exception-queue")
    exception_id = server.orders["s1"]["exception_id"]
    page.get_by_role("link", name=f"#{exception_id}").click()
    assert page.get_by_role("cell", name="below_moq").is_visible()
    page.get_by_label("Amend and re-validate").check()
    page.get_by_label("Quantity of line 1").fill("12")
    page.get_by_label("Comment (required)").fill("raised to the MOQ after a call with the buyer")
    visit.check("exception")
    page.get_by_role("button", name="Resolve exception").click()
    assert page.get_by_role("status").inner_text().startswith("Resolved: amend.")

    engine = create_engine(server.db_url)
    with engine.connect() as conn:
        exc = conn.execute(select(OrderException).where(OrderException.id == exception_id)).one()
        order = conn.execute(
            select(OrderRow).where(OrderRow.id == server.orders["s1"]["order_id"])
        ).one()
        actions = conn.execute(
            select(Audit.entity, Audit.action, Audit.actor, Audit.comment)
            .where(Audit.entity.in_(["order", "exception"]), Audit.actor != "cli")
            .order_by(Audit.id)
        ).all()
    engine.dispose()
    operator_id = server.keys["operator"].split("_")[1]
    assert (exc.status, exc.resolution, exc.resolved_by) == ("resolved", "amend", operator_id)
    assert order.status in ("accepted", "accepted_with_warnings")  # MOQ met; dates may warn
    assert ("exception", "resolve", operator_id, exc.comment) in actions
    assert ("order", "amend", operator_id, exc.comment) in actions

    page.get_by_role("link", name=str(order.id), exact=True).first.click()
    assert page.get_by_role("cell", name="raised to the MOQ after a call with the buyer").count()
    visit.check("order")
    page.get_by_role("link", name="Orders").click()
    visit.check("orders")
    page.get_by_role("link", name="Policy versions").click()
    page.get_by_role("button", name="Compare").click()
    assert page.get_by_role("cell", name="strictness.credit").count() == 0
    assert page.get_by_role("cell", name="moq", exact=True).count() == 1
    visit.check("policy-versions")
    page.get_by_role("link", name="Segments").click()
    page.get_by_label("Customer id").fill("T2")
    page.get_by_label("Customer id").press("Enter")
    page.wait_for_load_state("load")
    visit.check("segments")
    # --workspace reached the app: the runs' states and the scenario screen's advice.
    page.get_by_role("link", name="Policy versions").click()
    assert page.get_by_role("cell", name="draft").count() == 1
    page.get_by_role("link", name="Scenarios").click()
    assert "No scenario comparison in" in page.get_by_role("note").inner_text()
    visit.check("scenarios")
    page.get_by_role("button", name="Sign out").click()
    assert "/ui/login" in page.url
    visit.close()


def test_a_bound_submitter_sees_only_its_customer(chromium: Any, server: Server) -> None:
    visit = Visit(chromium, server)
    page = visit.page
    visit.sign_in(server.keys["s1"])
    assert page.get_by_role("link", name="Exceptions").count() == 0
    page.get_by_role("link", name="Orders").click()
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    assert "E2E-S1" in rows.first.inner_text()
    answer = page.goto(f"{server.url}/ui/orders/{server.orders['t1']['order_id']}")
    assert answer is not None
    assert answer.status == 404
    assert "E2E-T1" not in page.content()
    visit.check("not-found")
    visit.close()
