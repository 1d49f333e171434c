"""The supplier settings that are business assumptions are listed with where they came from."""

from __future__ import annotations

from pathlib import Path

from supplyseg.config import workspace_from_dict
from supplyseg.config.assumptions import BUILT_IN, FROM_CONFIG, assumptions
from supplyseg.config.supplier import SupplierSettings, supplier_assumptions


def _by_setting(entries: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(e["setting"]): e for e in entries}


def test_defaults_are_listed_as_built_in_with_their_values() -> None:
    got = _by_setting(
        supplier_assumptions(
            SupplierSettings(), holding_rate=0.25, holding_rate_given=False, landed_cost=True
        )
    )
    assert got["supplier.otif_tolerance_days"] == {
        "setting": "supplier.otif_tolerance_days",
        "value": 0,
        "source": BUILT_IN,
    }
    assert got["supplier.spend_class_cutoffs"]["value"] == [0.8, 0.95]
    assert got["supplier.risk.otif_below"]["value"] == 0.9
    assert got["supplier.risk.long_modes"]["value"] == ["sea", "rail"]
    assert got["supplier.rules"]["value"] == (
        "strategic: spend_class = A and risk_score >= 2; leverage: spend_class = A;"
        " bottleneck: risk_score >= 2; else non_critical"
    )
    assert got["supplier.landed_cost.holding_rate"]["value"] == 0.25
    assert {e["source"] for e in got.values()} == {BUILT_IN}


def test_set_values_name_the_yaml_and_landed_cost_takes_the_policies_holding_rate() -> None:
    settings = SupplierSettings.model_validate(
        {"otif_tolerance_days": 2, "risk": {"lead_time_cv": 0.5}}
    )
    got = _by_setting(
        supplier_assumptions(settings, holding_rate=0.18, holding_rate_given=True, landed_cost=True)
    )
    assert got["supplier.otif_tolerance_days"]["source"] == "supplyseg.yaml"
    assert got["supplier.risk.lead_time_cv"] == {
        "setting": "supplier.risk.lead_time_cv",
        "value": 0.5,
        "source": "supplyseg.yaml",
    }
    assert got["supplier.risk.otif_below"]["source"] == BUILT_IN
    # Landed cost carries stock at the policies' rate, which the user set.
    assert got["supplier.landed_cost.holding_rate"]["value"] == 0.18
    assert got["supplier.landed_cost.holding_rate"]["source"] == "supplyseg.yaml"
    own = SupplierSettings.model_validate({"landed_cost": {"holding_rate": 0.3}})
    mine = _by_setting(
        supplier_assumptions(own, holding_rate=0.18, holding_rate_given=False, landed_cost=True)
    )
    assert mine["supplier.landed_cost.holding_rate"]["value"] == 0.3
    without = supplier_assumptions(
        own, holding_rate=0.18, holding_rate_given=False, landed_cost=False
    )
    assert not any(str(e["setting"]).startswith("supplier.landed_cost") for e in without)


def test_workspace_assumptions_list_supplier_settings_only_with_purchase_orders(
    tmp_path: Path,
) -> None:
    data = {"order_lines": {"path": "lines.csv"}}
    plain = _by_setting(
        assumptions(workspace_from_dict({"data": data}, root=tmp_path, origin="test.yaml"))
    )
    assert not any(s.startswith("supplier.") for s in plain)
    raw = {
        "data": {**data, "purchase_orders": {"path": "po.csv"}},
        "supplier": {"in_full_tolerance": 0.02},
    }
    got = _by_setting(assumptions(workspace_from_dict(raw, root=tmp_path, origin="test.yaml")))
    assert got["supplier.in_full_tolerance"]["source"] == FROM_CONFIG
    assert got["supplier.in_full_tolerance"]["value"] == 0.02
    assert "supplier.landed_cost.holding_rate" not in got  # no sourcing options
    assert got["policies.default_lead_time_days"]["source"] == BUILT_IN
    raw["data"] |= {"sourcing_options": {"path": "options.csv"}}
    got = _by_setting(assumptions(workspace_from_dict(raw, root=tmp_path, origin="test.yaml")))
    assert got["supplier.landed_cost.holding_rate"]["value"] == 0.25
