"""Fixtures of the workbench tests: a signed-in browser-like client per key of the service
fixture (`tests/service/conftest.py`)."""

from __future__ import annotations

import re
from collections.abc import Callable
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
