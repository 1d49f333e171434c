"""PolicyVersion: the fixture validates; typos, dangling references and duplicates are refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from supplyseg.policy.document import CHECKS, CheckStrictness, PolicyVersion, SegmentRules


def test_fixture_is_a_valid_version(policy_doc: dict[str, Any]) -> None:
    doc = PolicyVersion.model_validate(policy_doc)
    assert doc.version_id == "fixture-2026-01"
    assert set(doc.segments) == {"key_account", "standard", "tail"}
    assert doc.segments["tail"].strictness.ship_to == "none"
    assert doc.segments["standard"].strictness.credit == "hard"  # default
    assert len(doc.customers) == 6
    assert len(doc.products) == 5


def test_every_check_has_a_strictness_field() -> None:
    assert set(CheckStrictness.model_fields) == set(CHECKS)


def test_defaults_notify_exceptions_and_shipments_only() -> None:
    assert SegmentRules().notify == ["exception", "shipped"]


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d["segments"]["standard"].update(moqq=3), "moqq"),
        (lambda d: d["segments"]["tail"]["strictness"].update(credit="maybe"), "credit"),
        (lambda d: d["customers"][0].update(segment="gold"), "customers[0].segment 'gold'"),
        (lambda d: d["customers"].append(dict(d["customers"][0])), "customer_id 'K1' is dup"),
        (lambda d: d["products"].append(dict(d["products"][0])), "product_id 'P100' is dup"),
        (lambda d: d["products"][1].update(allowed_segments=["gold"]), "unknown segment"),
        (lambda d: d["products"][0].update(list_price=-1), "list_price"),
        (lambda d: d.update(created="2026-01-15T09:00:00"), "timezone"),
        (lambda d: d.update(version_id="has space"), "version_id"),
        (lambda d: d["segments"]["tail"].update(order_multiple=0), "order_multiple"),
        (lambda d: d["segments"]["tail"].update(allowed_channels=["fax"]), "allowed_channels"),
        (lambda d: d["segments"]["tail"].update(notify=["paid"]), "notify"),
    ],
)
def test_bad_documents_are_refused(policy_doc: dict[str, Any], mutate: Any, needle: str) -> None:
    mutate(policy_doc)
    with pytest.raises(ValidationError) as info:
        PolicyVersion.model_validate(policy_doc)
    assert needle in str(info.value)
