"""Tests for supplyseg.allocation.plan: rules from the config, derived shares, the plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supplyseg.allocation.nesting import allocate_nested
from supplyseg.allocation.plan import (
    PLAN_COLUMNS,
    allocation_plan,
    allocation_rules,
    allocation_shares,
)
from supplyseg.config.policy import policy_settings
from supplyseg.errors import ConfigError


def _rules(prio: dict[str, int], share: dict[str, float] | None = None) -> pd.DataFrame:
    share = share or {}
    return pd.DataFrame(
        {
            "customer_segment": list(prio),
            "priority": list(prio.values()),
            "share": [share.get(s, np.nan) for s in prio],
        }
    )


def test_rules_default_to_allocation_priority_and_config_overrides() -> None:
    settings = policy_settings(
        {"customer": {"grow": {"allocation": {"share": 0.25}}, "protect": {"allocation": {}}}}
    )
    rules = allocation_rules(settings, ["protect", "grow", "re-price or exit"], "cts_margin")
    assert rules["priority"].tolist() == [1, 2, 4]  # built-in cts_margin allocation_priority
    assert np.isnan(rules["share"][0])
    assert rules["share"][1] == 0.25
    settings = policy_settings({"customer": {"grow": {"allocation": {"priority": 1}}}})
    assert allocation_rules(settings, ["grow"], "cts_margin")["priority"].tolist() == [1]
    # a segment nothing covers gets the base rules (priority 5)
    assert allocation_rules(settings, ["mystery"], "cts_margin")["priority"].tolist() == [5]


def test_allocation_inherits_field_by_field() -> None:
    settings = policy_settings(
        {
            "customer_default": {"allocation": {"priority": 3, "share": 0.1}},
            "customer": {"x": {"allocation": {"share": 0.4}}},
            "builtin_defaults": False,
        }
    )
    rules = allocation_rules(settings, ["x", "y"])
    assert rules["priority"].tolist() == [3, 3]
    assert rules["share"].tolist() == [0.4, 0.1]


def test_config_rejects_bad_share() -> None:
    with pytest.raises(ConfigError, match=r"policies.customer.x.allocation.share \(value 1.5\)"):
        policy_settings({"customer": {"x": {"allocation": {"share": 1.5}}}})
    with pytest.raises(ConfigError, match=r"allocation\.shr"):
        policy_settings({"customer": {"x": {"allocation": {"shr": 0.5}}}})


def test_shares_from_demand_fill_what_config_leaves() -> None:
    rules = _rules({"gold": 1, "silver": 2, "bronze": 3}, {"gold": 0.5})
    mix = pd.DataFrame(
        {
            "product_segment": ["A", "A", "A", "B"],
            "customer_segment": ["gold", "silver", "bronze", "bronze"],
            "quantity": [100.0, 30.0, 10.0, 5.0],
        }
    )
    s = allocation_shares(rules, mix).set_index(["product_segment", "customer_segment"])
    # A: gold 0.5 explicit; silver/bronze split the other 0.5 as 30:10
    assert s.loc[("A", "silver"), "share"] == pytest.approx(0.375)
    assert s.loc[("A", "bronze"), "share"] == pytest.approx(0.125)
    assert s.loc[("A", "silver"), "share_source"] == "demand"
    # B: only bronze bought; silver has no history and no protection
    assert s.loc[("B", "silver"), "share"] == 0.0
    assert s.loc[("B", "bronze"), "share"] == pytest.approx(0.5)
    assert s.loc[("A", "gold"), "protection_share"] == 0.5
    assert s.loc[("A", "silver"), "protection_share"] == pytest.approx(0.875)
    assert s.loc[("A", "bronze"), "booking_limit_share"] == pytest.approx(0.125)


def test_explicit_shares_over_one_are_a_config_error() -> None:
    mix = pd.DataFrame({"product_segment": ["A"], "customer_segment": ["g"], "quantity": [1.0]})
    with pytest.raises(ConfigError, match=r"sum to 1\.2"):
        allocation_shares(_rules({"g": 1, "s": 2}, {"g": 0.6, "s": 0.6}), mix)


def test_plan_limits_are_what_allocate_nested_enforces() -> None:
    rules = _rules(
        {"gold": 1, "silver": 2, "bronze": 3}, {"gold": 0.5, "silver": 0.3, "bronze": 0.2}
    )
    mix = pd.DataFrame({"product_segment": ["A"], "customer_segment": ["gold"], "quantity": [1.0]})
    supply = pd.DataFrame(
        {"product_segment": ["A", "A", "A"], "period": [0, 1, 1], "quantity": [100.0, 30.0, -10.0]}
    )
    plan = allocation_plan(supply, allocation_shares(rules, mix))
    assert list(plan.columns) == list(PLAN_COLUMNS)
    p0 = plan[plan["period"] == 0].set_index("customer_segment")
    assert p0["booking_limit"].to_dict() == pytest.approx(
        {"gold": 100.0, "silver": 50.0, "bronze": 20.0}
    )
    assert p0["protection"].to_dict() == pytest.approx(
        {"gold": 50.0, "silver": 80.0, "bronze": 100.0}
    )
    assert plan.loc[plan["period"] == 1, "capacity"].unique().tolist() == [20.0]
    # each segment alone books exactly its booking limit
    for seg, limit in p0["booking_limit"].items():
        req = pd.DataFrame({"segment": [seg], "quantity": [1000.0]})
        shares = {"gold": 0.5, "silver": 0.3, "bronze": 0.2}
        got = allocate_nested(100, req, shares, ["gold", "silver", "bronze"])
        assert got[0] == pytest.approx(limit)


def test_strategy_defaults_by_priority_and_is_carried_to_the_shares() -> None:
    settings = policy_settings({"customer": {"grow": {"allocation": {"strategy": "fill"}}}})
    rules = allocation_rules(settings, ["protect", "grow", "re-price or exit"], "cts_margin")
    assert rules["strategy"].tolist() == ["gain", "fill", "redistribute"]
    mix = pd.DataFrame(
        {"product_segment": ["A"], "customer_segment": ["protect"], "quantity": [1.0]}
    )
    shares = allocation_shares(rules, mix).set_index("customer_segment")
    assert shares.loc["grow", "strategy"] == "fill"
    with pytest.raises(ConfigError, match="strategy"):
        policy_settings({"customer": {"x": {"allocation": {"strategy": "steal"}}}})


def test_fill_target_defaults_for_priority_one_and_excludes_a_share() -> None:
    settings = policy_settings(
        {"customer": {"grow": {"allocation": {"fill_target": 0.9}}, "protect": {}}}
    )
    rules = allocation_rules(settings, ["protect", "grow", "re-price or exit"], "cts_margin")
    # protect (priority 1) keeps the built-in 0.95; grow its own; the others none
    assert rules["fill_target"].tolist()[:2] == [0.95, 0.9]
    assert np.isnan(rules["fill_target"][2])
    # a priority-1 segment with an explicit share protects no fill target
    settings = policy_settings({"customer": {"protect": {"allocation": {"share": 0.6}}}})
    assert np.isnan(allocation_rules(settings, ["protect"], "cts_margin")["fill_target"][0])
    with pytest.raises(ConfigError, match=r"share \(0.5\) and .fill_target \(0.9\) are both set"):
        policy_settings({"customer": {"x": {"allocation": {"share": 0.5, "fill_target": 0.9}}}})
    # a segment's fill target replaces the default's share (and the other way round)
    settings = policy_settings(
        {
            "customer_default": {"allocation": {"share": 0.1}},
            "customer": {"x": {"allocation": {"fill_target": 0.97}}},
            "builtin_defaults": False,
        }
    )
    rules = allocation_rules(settings, ["x", "y"])
    assert np.isnan(rules["share"][0])
    assert rules["fill_target"][0] == 0.97
    assert rules["share"][1] == 0.1
    assert np.isnan(rules["fill_target"][1])
