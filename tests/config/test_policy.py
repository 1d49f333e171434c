"""The ``policies:`` settings: built-in templates, inheritance, and validation messages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from supplyseg.config.policy import (
    BASE_ORDER_RULES,
    BASE_TEMPLATE,
    FORECAST_METHODS,
    STATUS_EVENTS,
    UNSEGMENTED,
    InventoryTemplate,
    PolicySettings,
    check_template,
    policy_settings,
    resolve_order_rules,
    resolve_template,
)
from supplyseg.errors import ConfigError
from supplyseg.policy.document import SegmentRules
from supplyseg.policy.forecast import METHODS

NINE_BOX = [a + x for a in "ABC" for x in "XYZ"]


def test_mirrors_stay_equal_to_their_sources() -> None:
    assert ("auto", *METHODS) == FORECAST_METHODS


def test_no_section_gives_the_defaults() -> None:
    s = policy_settings(None)
    assert s == PolicySettings()
    assert (s.default_lead_time_days, s.order_cost, s.holding_rate) == (14.0, 50.0, 0.25)
    assert s.stock_to_service_targets[0] == 0.80
    assert s.stock_to_service_targets[-1] == 0.999


@pytest.mark.parametrize("segment", [*NINE_BOX, "unclassified", UNSEGMENTED])
def test_builtins_cover_the_abc_xyz_nine_box(segment: str) -> None:
    found = resolve_template(PolicySettings(), "abc_xyz", segment)
    assert found is not None
    template, source = found
    assert source == "built-in abc_xyz template"
    # complete after inheritance; only the lead-time limit of make-to-order is unset (none)
    values = template.model_dump(exclude={"make_to_order_max_lead_time_days"})
    assert None not in values.values()
    assert template.make_to_order_max_lead_time_days is None


def test_builtin_values_follow_value_and_variability() -> None:
    s = PolicySettings()

    def target(seg: str) -> float:
        found = resolve_template(s, "abc_xyz", seg)
        assert found is not None
        assert found[0].service_target is not None
        return found[0].service_target

    ax = resolve_template(s, "abc_xyz", "AX")
    cz = resolve_template(s, "abc_xyz", "CZ")
    assert ax is not None
    assert cz is not None
    assert (ax[0].service_type, ax[0].service_target) == ("cycle", 0.98)
    assert cz[0].inventory_rule == cz[0].replenishment_program == "make_to_order"
    # Service falls with value class within each variability class.
    for x in "XYZ"[:2]:
        assert target("A" + x) > target("B" + x) > target("C" + x)


@pytest.mark.parametrize(
    "segment",
    [
        "protect",
        "grow",
        "fix cost-to-serve",
        "re-price or exit",
        "no revenue",
        *[f"cts_{c}_margin_{m}" for c in ("low", "mid", "high") for m in ("low", "mid", "high")],
    ],
)
def test_builtins_cover_cts_margin_and_map_onto_segment_rules(segment: str) -> None:
    found = resolve_order_rules(PolicySettings(), "cts_margin", segment)
    assert found is not None
    rules, _ = found
    promising = {"partial_shipment", "min_fill", "max_lateness_days", "substitute_locations"}
    SegmentRules.model_validate(
        {
            **rules.model_dump(
                exclude={"credit_check", "allocation_priority", "allocation", *promising}
            ),
            "allowed_channels": list(rules.allowed_channels or ()),
            "strictness": {"credit": rules.credit_check},
            "promising": rules.model_dump(include=promising),
        }
    )


def test_cts_margin_rules_protect_and_restrict() -> None:
    s = PolicySettings()
    protect = resolve_order_rules(s, "cts_margin", "protect")
    exit_ = resolve_order_rules(s, "cts_margin", "re-price or exit")
    assert protect is not None
    assert exit_ is not None
    assert protect[0].allocation_priority == 1 < (exit_[0].allocation_priority or 0)
    assert (protect[0].credit_check, exit_[0].credit_check) == ("soft", "hard")
    assert (exit_[0].min_order_value or 0) > (protect[0].min_order_value or 0)
    assert exit_[0].price_tolerance_pct == 0.0


def test_templates_inherit_field_by_field() -> None:
    s = policy_settings(
        {
            "product": {"AX": {"service_target": 0.995}, "NEW": {"review_period": 3}},
            "product_default": {"service_type": "fill_rate", "service_target": 0.9},
        }
    )
    ax = resolve_template(s, "abc_xyz", "AX")
    assert ax is not None
    assert ax[0].service_target == 0.995  # own field
    assert ax[0].replenishment_program == "crp"  # from the built-in AX
    assert ax[0].service_type == "cycle"  # built-ins win over product_default
    assert ax[1] == "policies.product.AX"
    new = resolve_template(s, "abc_xyz", "NEW")
    assert new is not None
    assert (new[0].service_type, new[0].service_target, new[0].review_period) == (
        "fill_rate",
        0.9,
        3.0,
    )
    assert new[0].forecast_method == BASE_TEMPLATE.forecast_method
    plain = resolve_template(s, "custom", "OTHER")
    assert plain is not None
    assert plain[1] == "policies.product_default"
    off = policy_settings({"builtin_defaults": False})
    assert resolve_template(off, "abc_xyz", "AX") is None
    assert resolve_order_rules(off, "cts_margin", "protect") is None


def test_customer_rules_inherit() -> None:
    s = policy_settings(
        {"customer": {"protect": {"moq": 5}}, "customer_default": {"allowed_channels": ["edi"]}}
    )
    protect = resolve_order_rules(s, "cts_margin", "protect")
    other = resolve_order_rules(s, "custom", "Champions")
    assert protect is not None
    assert other is not None
    assert (protect[0].moq, protect[0].allocation_priority) == (5.0, 1)
    assert other[0].allowed_channels == ("edi",)
    assert other[0].credit_check == BASE_ORDER_RULES.credit_check


def test_notifications_per_segment_default_built_in_and_configured() -> None:
    s = policy_settings({"customer": {"grow": {"notify": []}, "lean": {"notify": ["shipped"]}}})

    def notify(scheme: str, segment: str) -> tuple[str, ...] | None:
        found = resolve_order_rules(s, scheme, segment)
        assert found is not None
        return found[0].notify

    assert notify("cts_margin", "protect") == STATUS_EVENTS  # key accounts: every change
    assert notify("cts_margin", "re-price or exit") == ("exception", "shipped")  # the base
    assert notify("cts_margin", "grow") == ()  # configured: none
    assert notify("behavioural", "continuous_replenishment") == STATUS_EVENTS
    assert notify("behavioural", "lean") == ("shipped",)
    with pytest.raises(ConfigError, match=r"policies\.customer\.grow\.notify\.0"):
        policy_settings({"customer": {"grow": {"notify": ["faxed"]}}})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"product": {"AX": {"service_target": 1.2}}},
            "policies.product.AX.service_target (value 1.2): 1.2 is outside the allowed range"
            " [0.5, 0.9999]",
        ),
        (
            {"product": {"AX": {"service_target": 0.3}}},
            "policies.product.AX.service_target (value 0.3)",
        ),
        ({"product": {"AX": {"service_type": "alpha"}}}, "'cycle' or 'fill_rate'"),
        ({"product": {"AX": {"inventory_rule": "kanban"}}}, "policies.product.AX.inventory_rule"),
        ({"product": {"AX": {"review_period": -1}}}, "allowed range [0, 365]"),
        ({"product": {"AX": {"forecast_method": "Prophet"}}}, "not a forecast method; allowed:"),
        (
            {"product": {"AX": {"safety": 1}}},
            "policies.product.AX.safety (value 1): unknown setting 'safety'",
        ),
        ({"customer": {"protect": {"credit_check": "maybe"}}}, "'hard', 'soft' or 'none'"),
        (
            {"customer": {"protect": {"allowed_channels": ["fax"]}}},
            "policies.customer.protect.allowed_channels.0 (value 'fax')",
        ),
        ({"customer": {"protect": {"allowed_channels": []}}}, "at least 1 item"),
        ({"customer": {"grow": {"order_multiple": 0}}}, "allowed range (0, inf)"),
        ({"customer": {"grow": {"price_tolerance_pct": 150}}}, "allowed range [0, 100]"),
        ({"customer": {"grow": {"allocation_priority": 0}}}, "allowed range [1, 99]"),
        ({"customer": {"grow": {"promise_lead_time_days": 400}}}, "allowed range [0, 365]"),
        ({"matrix": {"protect": {"AX": {"service_target": 2}}}}, "policies.matrix.protect.AX"),
        ({"holding_rate": 0}, "policies.holding_rate (value 0): 0.0 is outside"),
        ({"default_lead_time_days": 0}, "allowed range (0, 3650]"),
        ({"lumpy_distribution": "bootstrap"}, "'empirical' or 'gamma'"),
        ({"stock_to_service_targets": [0.9, 0.8]}, "must be strictly increasing"),
        ({"stock_to_service_targets": [0.9, 1.0]}, "stock_to_service_targets.1 (value 1.0)"),
    ],
)
def test_errors_name_the_path_the_value_and_the_range(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        policy_settings(raw)
    # One error on one line; several (a bad item also empties the tuple) one line each.
    assert re.match(r"supplyseg\.yaml: (\d+ errors\n  - )?policies\.", str(info.value))


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        policy_settings(["AX"])  # type: ignore[arg-type]


def test_settings_are_frozen() -> None:
    s = PolicySettings()
    with pytest.raises(ValidationError):
        s.order_cost = 1.0  # type: ignore[misc]


def test_check_template() -> None:
    check_template(BASE_TEMPLATE, "x")
    bad = InventoryTemplate(inventory_rule="order_up_to", review_period=0.0).over(BASE_TEMPLATE)
    with pytest.raises(ConfigError, match=r"x\.review_period: value 0\.0 with inventory_rule"):
        check_template(bad, "x")
    bad = InventoryTemplate(replenishment_program="make_to_order").over(BASE_TEMPLATE)
    with pytest.raises(ConfigError, match="both make_to_order or neither"):
        check_template(bad, "x")
