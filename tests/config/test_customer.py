"""The ``customer:`` section: honest defaults and where each assumption's value came from."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from supplyseg.config.customer import ClvSettings, CustomerSettings, customer_assumptions


def test_defaults_are_the_documented_ones() -> None:
    s = CustomerSettings()
    assert s.otif.early_tolerance_days is None  # early deliveries are on time
    assert s.otif.late_tolerance_days == 0
    assert s.clv.model == "mbgnbd"
    assert s.clv.margin == 1.0  # revenue CLV
    with pytest.raises(ValidationError):
        ClvSettings(model="pareto")  # type: ignore[arg-type]


def test_customer_assumptions_name_their_source() -> None:
    rows = {r["setting"]: r for r in customer_assumptions(CustomerSettings())}
    assert rows["customer.otif.early_tolerance_days"] == {
        "setting": "customer.otif.early_tolerance_days",
        "value": None,
        "source": "built-in default",
    }
    assert {r["source"] for r in rows.values()} == {"built-in default"}
    assert {"customer.churn.window_days", "customer.clv.annual_discount_rate",
            "customer.clv.margin", "customer.clv.model"} <= set(rows)  # fmt: skip
    raw = {"otif": {"late_tolerance_days": 2}, "clv": {"model": "bgnbd", "margin": 0.3}}
    rows = {
        r["setting"]: r
        for r in customer_assumptions(CustomerSettings.model_validate(raw), origin="x.yaml")
    }
    assert rows["customer.otif.late_tolerance_days"]["source"] == "x.yaml"
    assert rows["customer.otif.early_tolerance_days"]["source"] == "built-in default"
    assert (rows["customer.clv.model"]["value"], rows["customer.clv.model"]["source"]) == (
        "bgnbd",
        "x.yaml",
    )
    assert rows["customer.clv.margin"]["value"] == 0.3
    assert rows["customer.churn.window_days"]["source"] == "built-in default"
