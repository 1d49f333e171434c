"""Workbench policy versions (list, diff) and segment look-up."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from supplyseg.service.commands import publish_policy

Browser = Callable[[str], Any]


def test_versions_and_their_diff(
    service: Any, policy_doc: dict[str, Any], browser: Browser
) -> None:
    second = copy.deepcopy(policy_doc)
    second["version_id"] = "fixture-2026-02"
    second["segments"]["standard"]["moq"] = 12
    publish_policy(service.db_url, second)
    op = browser("operator")
    page = op.get("/ui/policies").text
    assert page.index("fixture-2026-02") < page.index("fixture-2026-01")  # newest first
    assert '<option value="fixture-2026-01" selected>' in page  # preselected: previous -> active
    diff = op.get("/ui/policies", a="fixture-2026-01", b="fixture-2026-02").text
    assert "1 change: 1 in segment rules, 0 in customers, 0 in products" in diff
    assert "<td>moq</td><td>10.0</td><td>12.0</td>" in diff
    assert op.get("/ui/policies", a="fixture-2026-01", b="nope").status_code == 404


def test_segment_look_up(service: Any, browser: Browser) -> None:
    op = browser("operator")
    found = op.get("/ui/segments", customer="S1").text
    assert "Segment in the active version: <strong>standard</strong>" in found
    assert "promise 5 d" in found
    product = op.get("/ui/segments", product="P100").text
    assert "Product P100" in product
    missing = op.get("/ui/segments", customer="NOPE").text
    assert "is in no published version" in missing
