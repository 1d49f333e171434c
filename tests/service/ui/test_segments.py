"""Segments screen: the run's explanation, migration between the last two versions, and the
customer binding on the segment look-up and the policy diff."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import escape

from supplyseg.service.commands import publish_policy
from supplyseg.service.security import Principal, issue_api_key
from supplyseg.service.ui.segments import NOT_IN, version_migration

Browser = Callable[[str], Any]


def _second(policy_doc: dict[str, Any]) -> dict[str, Any]:
    """The fixture policy with K1 moved to standard, T2 dropped and a new customer N1."""
    doc = copy.deepcopy(policy_doc)
    doc["version_id"] = "fixture-2026-02"
    for c in doc["customers"]:
        if c["customer_id"] == "K1":
            c["segment"] = "standard"
    doc["customers"] = [c for c in doc["customers"] if c["customer_id"] != "T2"]
    doc["customers"].append({**doc["customers"][0], "customer_id": "N1", "segment": "tail"})
    doc["segments"]["standard"]["moq"] = 12
    return doc


def _bound_operator(service: Any, customers: list[str]) -> None:
    with service.app.state.sessions() as session:
        key = issue_api_key(session, "operator", customers, label="bound op")[1]
        session.commit()
    service.keys["bound_op"] = key


def test_explanation_as_supplyseg_explain(
    workbench: Any, workspace: Path, browser: Browser
) -> None:
    run = workspace / "out" / (workspace / "out" / "latest").read_text().strip()
    seg = pd.read_parquet(run / "segments_customer.parquet")
    customer = str(seg["customer_id"].iloc[0])
    mine = seg[seg["customer_id"] == customer]
    page = browser("operator").get("/ui/segments", customer=customer).text
    assert f"Why customer {customer} is in its segments (run <code>{run.name}</code>" in page
    for r in mine.itertuples():  # every scheme's segment and its reason, escaped as HTML
        assert f"<td>{r.segment}</td><td>{escape(r.explanation)}</td>" in page
    missing = browser("operator").get("/ui/segments", product="NOPE").text
    assert "is not in run" in missing


def test_explanation_without_a_workspace_says_what_to_set(service: Any, browser: Browser) -> None:
    page = browser("operator").get("/ui/segments", customer="S1").text
    assert "Segment in the active version: <strong>standard</strong>" in page
    assert "SUPPLYSEG_WORKSPACE" in page


def test_migration_between_the_last_two_versions(
    service: Any, policy_doc: dict[str, Any], browser: Browser
) -> None:
    assert "needs two published versions" in browser("operator").get("/ui/segments").text
    second = _second(policy_doc)
    publish_policy(service.db_url, second)
    with service.app.state.sessions() as session:
        everyone = version_migration(session, Principal("k", "operator", None))
        k1 = version_migration(session, Principal("k", "operator", frozenset({"K1", "S1"})))
    # Independent: the pairs straight from the two documents.
    a = {c["customer_id"]: c["segment"] for c in policy_doc["customers"]}
    b = {c["customer_id"]: c["segment"] for c in second["customers"]}
    pairs = [(a.get(c, NOT_IN), b.get(c, NOT_IN)) for c in a.keys() | b.keys()]
    assert everyone is not None
    assert everyone["cells"] == {p: pairs.count(p) for p in set(pairs)}
    assert (everyone["a"], everyone["b"]) == ("fixture-2026-01", "fixture-2026-02")
    assert (everyone["moved"], everyone["total"]) == (3, 7)  # K1, T2 gone, N1 new
    assert k1 is not None
    assert k1["cells"] == {("key_account", "standard"): 1, ("standard", "standard"): 1}
    page = browser("operator").get("/ui/segments").text
    assert "3 of 7 customers changed segment" in page


def test_a_bound_operator_sees_only_its_customers(
    service: Any, policy_doc: dict[str, Any], browser: Browser
) -> None:
    publish_policy(service.db_url, _second(policy_doc))
    _bound_operator(service, ["K1", "S1"])
    op = browser("bound_op")
    diff = op.get("/ui/policies", a="fixture-2026-01", b="fixture-2026-02").text
    assert "<td>customer</td><td>K1</td><td>segment</td>" in diff
    assert "<td>T2</td>" not in diff
    assert "<td>N1</td>" not in diff
    assert "1 in segment rules, 1 in customers" in diff
    assert "Customers: yours only." in diff
    everyone = browser("operator").get("/ui/policies", a="fixture-2026-01", b="fixture-2026-02")
    assert "<td>T2</td>" in everyone.text
    product = op.get("/ui/segments", product="P200").text
    assert "Your customers and product P200" in product
    assert "<tr><td>K1</td><td>standard</td><td>yes</td></tr>" in product
    assert "<tr><td>S1</td><td>standard</td><td>yes</td></tr>" in product
    assert "<td>T1</td>" not in product  # not "T1": a random token may hold it
    assert op.get("/ui/segments", customer="T1").status_code == 404
    assert "1 of 2 customers of yours changed segment" in op.get("/ui/segments").text


def test_a_product_a_bound_customer_may_not_order(service: Any, browser: Browser) -> None:
    _bound_operator(service, ["T1", "K1"])
    page = browser("bound_op").get("/ui/segments", product="P200").text
    assert "<tr><td>T1</td><td>tail</td><td>no: segment not allowed</td></tr>" in page
    assert "<tr><td>K1</td><td>key_account</td><td>yes</td></tr>" in page
    unbound = browser("operator").get("/ui/segments", product="P200").text
    assert "Your customers" not in unbound
