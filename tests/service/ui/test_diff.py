"""Policy diff: every changed value, and nothing else."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from supplyseg.policy.document import PolicyVersion
from supplyseg.service.ui.diff import Change, policy_diff


def test_the_changes_between_two_versions(policy_doc: dict[str, Any]) -> None:
    b = copy.deepcopy(policy_doc)
    b["version_id"] = "v2"
    b["segments"]["standard"]["moq"] = 12
    b["segments"]["tail"]["strictness"]["credit"] = "soft"
    b["segments"]["bulk"] = copy.deepcopy(b["segments"]["tail"])
    for c in b["customers"]:
        if c["customer_id"] == "K1":
            c["segment"] = "standard"
    b["customers"] = [c for c in b["customers"] if c["customer_id"] != "T2"]
    b["products"][0]["list_price"] = 99.5
    pid = b["products"][0]["product_id"]
    old_price = str(float(policy_doc["products"][0]["list_price"]))
    changes = policy_diff(PolicyVersion.model_validate(policy_doc), PolicyVersion.model_validate(b))
    assert Change("segment", "bulk", "(added)", "", "") in changes
    assert Change("segment", "standard", "moq", "10.0", "12.0") in changes
    assert Change("segment", "tail", "strictness.credit", "hard", "soft") in changes
    assert Change("customer", "K1", "segment", "key_account", "standard") in changes
    assert Change("customer", "T2", "(removed)", "", "") in changes
    assert Change("product", pid, "list_price", old_price, "99.5") in changes
    assert len(changes) == 6


@given(st.floats(0, 1e6, allow_nan=False), st.booleans())
def test_a_version_has_no_changes_against_itself(moq: float, active: bool) -> None:
    doc = PolicyVersion.model_validate(
        {
            "version_id": "v1",
            "created": "2026-01-01T00:00:00+00:00",
            "source_run_id": "r",
            "config_hash": "h",
            "segments": {"a": {"moq": moq}},
            "customers": [{"customer_id": "C", "segment": "a", "active": active}],
            "products": [{"product_id": "P", "list_price": 1.0}],
        }
    )
    assert policy_diff(doc, doc) == []
    other = doc.model_copy(update={"version_id": "v2"})
    assert policy_diff(doc, other) == []  # the header is not an item or a rule
