"""From a run to the order service: the run's policy document publishes and orders are
validated by the customer's segment rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from supplyseg.config import load_workspace
from supplyseg.data.samples import demo_workspace
from supplyseg.errors import PolicyError
from supplyseg.pipeline import run
from supplyseg.policy.document import PolicyVersion
from supplyseg.policy.service_document import service_policy
from supplyseg.service.app import create_app
from supplyseg.service.commands import create_api_key, publish_policy
from supplyseg.service.settings import Settings

RULES = pd.DataFrame(
    {
        "segment": ["protect", "grow"],
        "moq": [1.0, 5.0],
        "order_multiple": [1.0, 5.0],
        "min_order_value": [0.0, 100.0],
        "promise_lead_time_days": [1, 3],
        "allowed_channels": [["edi", "portal"], ["portal"]],
        "credit_check": ["soft", "hard"],
        "price_tolerance_pct": [5.0, 0.0],
    }
)
SEGMENTS = pd.DataFrame(
    {"customer_id": ["a", "b"], "segment": ["protect", "grow"], "primary": [True, True]}
)
DEMAND = pd.DataFrame({"product_id": ["p", "q"], "revenue": [100.0, 0.0], "quantity": [40.0, 0.0]})


def _document(order_rules: pd.DataFrame = RULES, **tables: pd.DataFrame) -> PolicyVersion:
    return service_policy(
        version_id="v1",
        config_hash="abc",
        order_rules=order_rules,
        customer_segments=SEGMENTS,
        demand_product=DEMAND,
        **tables,
    )


def test_document_from_tables() -> None:
    doc = _document(
        customers=pd.DataFrame({"customer_id": ["a", "b"], "credit_limit": [1000.0, None]}),
        customer_metrics=pd.DataFrame({"customer_id": ["a"], "open_amount": [250.0]}),
    )
    assert set(doc.segments) == {"protect", "grow"}
    assert doc.segments["grow"].strictness.credit == "hard"
    assert doc.segments["grow"].allowed_channels == ["portal"]
    # Rules from before the notify column: the service's default notifications.
    assert doc.segments["grow"].notify == ["exception", "shipped"]
    by_id = {c.customer_id: c for c in doc.customers}
    assert (by_id["a"].credit_limit, by_id["a"].open_receivables) == (1000.0, 250.0)
    assert (by_id["b"].credit_limit, by_id["b"].open_receivables) == (None, 0.0)
    # List price = revenue / quantity; a product with no sales has no price and is left out.
    assert [(p.product_id, p.list_price) for p in doc.products] == [("p", 2.5)]


def test_segment_notifications_come_from_the_order_rules() -> None:
    doc = _document(RULES.assign(notify=[["accepted", "exception", "shipped"], []]))
    assert doc.segments["protect"].notify == ["accepted", "exception", "shipped"]
    assert doc.segments["grow"].notify == []


def test_customer_segment_without_rules_is_an_error() -> None:
    with pytest.raises(PolicyError, match=r"segment\(s\) \['grow'\] have no order rules"):
        _document(RULES.iloc[:1])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws_dir = tmp_path_factory.mktemp("demo")
    demo_workspace(ws_dir)
    return run(load_workspace(ws_dir)).path


def test_run_publishes_and_orders_follow_the_segment_rules(demo_run: Path, tmp_path: Path) -> None:
    raw: dict[str, Any] = json.loads((demo_run / "policy_document.json").read_text())
    doc = PolicyVersion.model_validate(raw)
    for row in pd.read_parquet(demo_run / "order_rules.parquet").itertuples():
        assert doc.segments[str(row.segment)].notify == list(row.notify), row.segment
    db = f"sqlite:///{tmp_path / 'service.db'}"
    assert publish_policy(db, raw) == doc.version_id
    # A customer of each segment, and a product with its list price.
    customer = doc.customers[0]
    rules = doc.segments[customer.segment]
    product = doc.products[0]
    key = create_api_key(db, "submitter", [customer.customer_id])
    quantity = max(rules.moq, rules.order_multiple) * 1000
    order = {
        "customer_id": customer.customer_id,
        "po_number": "PO-E2E-1",
        "channel": rules.allowed_channels[0],
        "order_date": "2026-03-02",
        "requested_date": "2026-06-01",
        "lines": [
            {
                "line_no": 1,
                "product_id": product.product_id,
                "quantity": quantity,
                "unit_price": product.list_price,
            }
        ],
    }
    with TestClient(create_app(Settings.from_env(db_url=db))) as client:
        r = client.post("/orders", json=order, headers={"X-API-Key": key})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["segment"] == customer.segment
        assert body["policy_version"] == doc.version_id
        codes = {reason["code"] for reason in body["reasons"]}
        assert codes <= {"credit_limit_exceeded"}, body  # a large order may exceed its credit
        cheap = {**order, "po_number": "PO-E2E-2"}
        cheap["lines"] = [{**order["lines"][0], "unit_price": product.list_price * 0.5}]
        r = client.post("/orders", json=cheap, headers={"X-API-Key": key})
        assert "price_out_of_tolerance" in {reason["code"] for reason in r.json()["reasons"]}
