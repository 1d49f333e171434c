"""Fixtures of the workbench tests: a signed-in browser-like client per key of the service
fixture (`tests/service/conftest.py`)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A TestClient with its own cookie jar, signed in as one key."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str, **params: Any) -> Any:
        # httpx replaces a query in ``path`` by ``params``, even an empty one
        return self.client.get(path, params=params) if params else self.client.get(path)

    def csrf(self, path: str = "/ui/") -> str:
        """The CSRF token printed in the forms of ``path``."""
        match = CSRF.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict[str, Any], *, csrf: bool = True, **headers: str) -> Any:
        body = {**data, "csrf_token": self.csrf()} if csrf else data
        return self.client.post(path, data=body, headers=headers, follow_redirects=False)


@pytest.fixture
def browser(service: Any) -> Callable[[str], Browser]:
    """``browser(who)``: a client signed in with the service fixture's key ``who``."""

    def sign_in(who: str) -> Browser:
        client = TestClient(service.app)
        answer = client.post(
            "/ui/login", data={"api_key": service.keys[who]}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        return Browser(client)

    return sign_in


@pytest.fixture(scope="session")
def made_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic workspace that requires approval, with one complete run (made once)."""
    from supplyseg.config import load_workspace
    from supplyseg.data.synth import synth_company, write_workspace
    from supplyseg.pipeline import run

    folder = tmp_path_factory.mktemp("ui-ws")
    config = write_workspace(synth_company(customers=40, products=20, lines=2000, seed=5), folder)
    with config.open("a", encoding="utf-8") as file:
        file.write("policies:\n  require_approval: true\n")
    run(load_workspace(folder), report=False)
    return folder


@pytest.fixture
def workspace(made_workspace: Path, tmp_path: Path) -> Path:
    """A copy of the made workspace for one test (decisions on a run are final)."""
    return Path(shutil.copytree(made_workspace, tmp_path / "ws"))


@pytest.fixture
def workbench(service: Any, workspace: Path) -> Any:
    """The service fixture with ``workspace`` as its workspace setting."""
    app = service.app
    app.state.settings = app.state.settings.model_copy(update={"workspace": workspace})
    return service
