"""Fixtures for the policy tests: the service's fixture policy version document.

The tests run with ``--import-mode=importlib``; this folder goes on sys.path so the test modules
can import the helpers next to them (weekly).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

FIXTURE_POLICY = Path(__file__).resolve().parents[1] / "service" / "fixture_policy.json"


@pytest.fixture
def policy_doc() -> dict[str, Any]:
    """The fixture policy version as parsed JSON (a fresh copy per test)."""
    doc: dict[str, Any] = json.loads(FIXTURE_POLICY.read_text(encoding="utf-8"))
    return doc
