"""Tests for supplyseg.policy.assign: hand-computed policies, coverage errors, distributions,
make-to-order, defaults, rounding, matrix cells, and curves consistent with the policies."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from supplyseg.config.policy import PolicySettings, policy_settings
from supplyseg.errors import ConfigError, DataContractError, PolicyError
from supplyseg.policy.assign import OBSOLETE_STOCK_COLUMNS, POLICY_COLUMNS, policy_outputs
from supplyseg.policy.curves import stock_to_service
from supplyseg.policy.inventory import empirical_reorder_point, gamma_reorder_point, order_up_to

WEEK = "week"
PAT3 = ("smooth", "smooth", "lumpy")  # the CZ item is lumpy: make-to-order applies to it


def _segments(mapping: dict[str, str], scheme: str = "custom") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": list(mapping),
            "scheme": scheme,
            "segment": list(mapping.values()),
            "rule": "r",
            "explanation": "",
            "primary": True,
        }
    )


def _demand(rows: list[tuple[Any, ...]], location: bool = False) -> pd.DataFrame:
    cols = ["product_id", "mean", "std", "pattern"]
    if location:
        cols = ["product_id", "location_id", "mean", "std", "pattern"]
    return pd.DataFrame(rows, columns=cols)


def _run(
    seg: dict[str, str],
    demand: pd.DataFrame,
    products: pd.DataFrame | None = None,
    raw: dict[str, Any] | None = None,
    scheme: str = "custom",
    **kw: Any,
) -> Any:
    s = policy_settings(raw if raw is not None else {"builtin_defaults": False})
    return policy_outputs(_segments(seg, scheme), demand, products, s, bucket=WEEK, **kw)


def _row(result: Any, product: str) -> pd.Series:
    pol = result.policies
    return pol[pol["product_id"] == product].iloc[0]


# --------------------------------------------------------------------------- hand-computed

# Two segments, three items; weekly buckets, K = 50, h = 25 %/yr (the defaults).
HAND_SETTINGS = {
    "builtin_defaults": False,
    "product": {
        "A": {"service_type": "cycle", "service_target": 0.95, "inventory_rule": "rop_eoq"},
        "B": {"service_target": 0.90, "inventory_rule": "order_up_to", "review_period": 14},
    },
}
HAND_PRODUCTS = pd.DataFrame(
    {
        "product_id": ["P1", "P2", "P3"],
        "unit_cost": [10.0, 4.0, 2.0],
        "lead_time_days": [14.0, 7.0, 7.0],
        "lead_time_std_days": [0.0, 3.5, 0.0],
        "moq": [0.0, 100.0, 0.0],
        "order_multiple": [1.0, 25.0, 1.0],
    }
)


def test_three_items_two_segments_by_hand() -> None:
    demand = _demand(
        [("P1", 100.0, 20.0, "smooth"), ("P2", 10.0, 8.0, "erratic"), ("P3", 50.0, 10.0, "smooth")]
    )
    r = _run({"P1": "A", "P2": "A", "P3": "B"}, demand, HAND_PRODUCTS, HAND_SETTINGS)
    # z(0.95) = 1.6448536269514722, z(0.90) = 1.2815515655446004 (standard normal quantiles).
    # P1: L = 14/7 = 2 wk, sigma_L = 0. sigma_DL = sqrt(2 * 20^2) = 28.284271247461902,
    #     SS = 1.6448536269514722 * 28.284271247461902 = 46.52348614706695,
    #     ROP = 100 * 2 + SS = 246.52348614706693.
    #     D = 100 * 365.25 / 7 = 5217.857142857143 a year; EOQ = sqrt(2 * 50 * D / (0.25 * 10))
    #     = 456.8525864152306 -> whole units 457. Value = (SS + 457 / 2) * 10 = 2750.2348614706693.
    #     Fill rate = 1 - sigma_DL * G(SS / sigma_DL) / Q = 0.9987069100212159.
    p1 = _row(r, "P1")
    assert p1["safety_stock"] == pytest.approx(46.52348614706695, rel=1e-9)
    assert p1["reorder_point"] == pytest.approx(246.52348614706693, rel=1e-9)
    assert p1["order_quantity"] == 457.0
    assert p1["inventory_value"] == pytest.approx(2750.2348614706693, rel=1e-9)
    assert p1["expected_fill_rate"] == pytest.approx(0.9987069100212159, rel=1e-9)
    assert math.isnan(p1["order_up_to"])
    # P2: L = 1 wk, sigma_L = 3.5/7 = 0.5 wk. sigma_DL = sqrt(1 * 8^2 + 10^2 * 0.5^2) = sqrt(89)
    #     = 9.433981132056603, SS = 1.6448536269514722 * sqrt(89) = 15.517518081655059,
    #     ROP = 10 * 1 + SS = 25.51751808165506. EOQ = sqrt(2 * 50 * 521.7857142857143 / (0.25 *
    #     4)) = 228.4262932076153 >= moq 100 -> up to a multiple of 25: 250.
    #     Value = (SS + 125) * 4 = 562.0700723266202.
    p2 = _row(r, "P2")
    assert p2["safety_stock"] == pytest.approx(15.517518081655059, rel=1e-9)
    assert p2["reorder_point"] == pytest.approx(25.51751808165506, rel=1e-9)
    assert p2["order_quantity"] == 250.0
    assert p2["inventory_value"] == pytest.approx(562.0700723266202, rel=1e-9)
    # P3 (R, S): R = 14/7 = 2 wk, L = 1 wk, protection 3 wk. sigma = sqrt(3 * 10^2)
    #     = 17.320508075688775, SS = 1.2815515655446004 * sigma = 22.19712424042684,
    #     S = 50 * 3 + SS = 172.19712424042683; Q = expected demand per review 50 * 2 = 100;
    #     no reorder point. Value = (SS + 100 / 2) * 2 = 144.3942484808537.
    p3 = _row(r, "P3")
    assert p3["safety_stock"] == pytest.approx(22.19712424042684, rel=1e-9)
    assert p3["order_up_to"] == pytest.approx(172.19712424042683, rel=1e-9)
    assert p3["order_up_to"] == pytest.approx(order_up_to(50, 10, 1, 2, 0, 0.9), rel=1e-12)
    assert math.isnan(p3["reorder_point"])
    assert p3["order_quantity"] == 100.0
    assert p3["inventory_value"] == pytest.approx(144.3942484808537, rel=1e-9)
    assert (p3["lead_time"], p3["review_period"]) == (1.0, 2.0)
    assert list(r.policies.columns) == [c for c in POLICY_COLUMNS if c != "customer_segment"]
    assert p1["rationale"].startswith("segment A: cycle 95%, rop_eoq, normal (smooth)")
    assert "L=2.0 wk from products.lead_time_days" in p1["rationale"]
    assert "rounded up to a multiple of 25" in p2["rationale"]


def test_chopra_meindl_examples_through_the_policy_table() -> None:
    # Chopra & Meindl, Supply Chain Management, 6th ed. (2016), ch. 12: weekly demand
    # N(2500, 500), lead time 2 weeks, lot size Q = 10,000 (here: moq 10,000 above the EOQ).
    # Example 12-4 (CSL 90 %): ss = 906, ROP = 5,906 printed. Example 12-5 (fill rate 97.5 %):
    # ss = 67 printed. Periodic review every 4 weeks, CSL 90 %: OUL = 16,570 printed.
    raw = {
        "builtin_defaults": False,
        "product": {
            "CSL": {"service_target": 0.90},
            "FR": {"service_type": "fill_rate", "service_target": 0.975},
            "RS": {"service_target": 0.90, "inventory_rule": "order_up_to", "review_period": 28},
        },
    }
    ids = ["P1", "P2", "P3"]
    demand = _demand([(p, 2500.0, 500.0, "smooth") for p in ids])
    products = pd.DataFrame(
        {
            "product_id": ids,
            "lead_time_days": 14.0,
            "unit_cost": 1.0,
            "moq": [10_000.0, 10_000.0, 0.0],
        }
    )
    r = _run({"P1": "CSL", "P2": "FR", "P3": "RS"}, demand, products, raw)
    p1, p2, p3 = _row(r, "P1"), _row(r, "P2"), _row(r, "P3")
    assert p1["order_quantity"] == 10_000.0
    assert p1["safety_stock"] == pytest.approx(906, abs=0.5)
    assert p1["reorder_point"] == pytest.approx(5906, abs=0.5)
    assert p2["safety_stock"] == pytest.approx(67, abs=0.5)
    assert p2["expected_fill_rate"] == pytest.approx(0.975, abs=1e-9)
    assert p3["order_up_to"] == pytest.approx(16_570, abs=0.5)


def test_fill_rate_target_is_met_exactly_under_each_distribution() -> None:
    raw = {
        "builtin_defaults": False,
        "product_default": {"service_type": "fill_rate", "service_target": 0.99},
    }
    demand = _demand(
        [
            ("P1", 100.0, 40.0, "smooth"),
            ("P2", 5.0, 9.0, "intermittent"),
            ("P3", 0.5, 0.9, "intermittent"),
        ]
    )
    r = _run({"P1": "A", "P2": "A", "P3": "A"}, demand, HAND_PRODUCTS, raw)
    p1, p2, p3 = _row(r, "P1"), _row(r, "P2"), _row(r, "P3")
    assert [p1["distribution"], p2["distribution"], p3["distribution"]] == [
        "normal",
        "gamma",
        "poisson",
    ]
    # Normal: sigma G(k) = (1 - beta) Q solved exactly (Q above the lead-time demand).
    assert p1["expected_fill_rate"] == pytest.approx(0.99, rel=1e-9)
    # Gamma (intermittent): independent check with scipy.stats and numerical integration of
    # the shortage per cycle E(X - r)+, the integral of P(X > x) over [r, inf).
    mean, sd = 5.0 * 1, math.sqrt(9.0**2 + 5.0**2 * 0.5**2)  # L = 1 wk, sigma_L = 0.5 wk
    law = stats.gamma((mean / sd) ** 2, scale=sd**2 / mean)
    rop, q = p2["reorder_point"], p2["order_quantity"]
    short = integrate.quad(law.sf, rop, np.inf, limit=200)[0]
    assert 1 - short / q == pytest.approx(0.99, rel=1e-7)
    assert p2["expected_fill_rate"] == pytest.approx(0.99, rel=1e-7)
    # Poisson (mean 0.5 < 1/wk): the smallest whole reorder point reaching 99 %.
    # Safety stock is clamped at 0, so the reorder point is at least the mean 0.5.
    rop3, q3 = p3["reorder_point"], int(p3["order_quantity"])

    def fill(r: int) -> float:
        return 1 - sum(stats.poisson.sf(x, 0.5) for x in range(r, 200)) / q3

    smallest = next(r for r in range(100) if fill(r) >= 0.99)
    assert rop3 == max(smallest, 0.5)
    assert bool(p2["target_met"])
    assert p2["shortfall"] == pytest.approx(0.0, abs=1e-7)
    assert "fill-rate targets use the normal loss function" not in p2["rationale"]


# --------------------------------------------------------------------------- coverage


def test_uncovered_segment_names_it_and_the_fix() -> None:
    demand = _demand([("P1", 5.0, 1.0, "smooth"), ("P2", 5.0, 1.0, "smooth")])
    raw = {"builtin_defaults": False, "product": {"A": {"service_target": 0.9}}}
    with pytest.raises(ConfigError, match=r"policies\.product: segment 'B' of scheme 'custom'"):
        _run({"P1": "A", "P2": "B"}, demand, raw=raw)
    with pytest.raises(ConfigError, match=r"add policies\.product\.B or policies\.product_default"):
        _run({"P1": "A", "P2": "B"}, demand, raw=raw)
    raw["product_default"] = {"service_target": 0.85}
    r = _run({"P1": "A", "P2": "B"}, demand, raw=raw)
    assert list(r.templates["source"]) == ["policies.product.A", "policies.product_default"]
    assert _row(r, "P2")["service_target"] == 0.85


def test_builtins_cover_abc_xyz_without_a_policies_section() -> None:
    seg = {f"P{i}": s for i, s in enumerate(["AX", "AY", "AZ", "BX", "BY", "BZ", "CX", "CY"])}
    demand = _demand([(p, 10.0, 2.0, "smooth") for p in seg])
    r = policy_outputs(_segments(seg, "abc_xyz"), demand, None, PolicySettings(), bucket=WEEK)
    assert _row(r, "P0")["service_target"] == 0.98
    assert set(r.templates["source"]) == {"built-in abc_xyz template"}
    # The same segments under a scheme without built-ins are not covered.
    with pytest.raises(ConfigError, match="segment 'AX' of scheme 'custom'"):
        policy_outputs(_segments(seg, "custom"), demand, None, PolicySettings(), bucket=WEEK)


def test_customer_segments_without_order_rules_get_the_base_rules() -> None:
    cust = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "scheme": "cts_margin",
            "segment": ["protect", "mystery"],
            "primary": True,
        }
    )
    demand = _demand([("P1", 5.0, 1.0, "smooth")])
    r = policy_outputs(
        _segments({"P1": "AX"}, "abc_xyz"),
        demand,
        None,
        PolicySettings(),
        bucket=WEEK,
        customers_seg=cust,
    )
    mystery = r.order_rules.set_index("segment").loc["mystery"]
    assert mystery["source"] == "BASE_ORDER_RULES (no rules for this segment)"
    assert (mystery["credit_check"], mystery["min_order_value"]) == ("hard", 0.0)
    assert any("customer segment(s) ['mystery']" in n for n in r.notes)
    s = policy_settings({"customer_default": {"credit_check": "soft", "moq": 2}})
    r = policy_outputs(
        _segments({"P1": "AX"}, "abc_xyz"), demand, None, s, bucket=WEEK, customers_seg=cust
    )
    rules = r.order_rules.set_index("segment")
    assert rules.loc["protect", "allocation_priority"] == 1
    assert rules.loc["protect", "source"] == "built-in cts_margin rules"
    assert (rules.loc["mystery", "credit_check"], rules.loc["mystery", "moq"]) == ("soft", 2.0)
    assert rules.loc["mystery", "allowed_channels"] == ["edi", "portal", "email", "manual"]


def test_incoherent_resolved_template_is_an_error() -> None:
    demand = _demand([("P1", 5.0, 1.0, "smooth")])
    raw = {"product": {"BX": {"review_period": 0}}}  # built-in BX is order_up_to
    with pytest.raises(ConfigError, match=r"policies\.product\.BX\.review_period: value 0\.0"):
        _run({"P1": "BX"}, demand, raw=raw, scheme="abc_xyz")
    raw = {"product": {"AX": {"inventory_rule": "make_to_order"}}}
    with pytest.raises(ConfigError, match="allowed: both make_to_order or neither"):
        _run({"P1": "AX"}, demand, raw=raw, scheme="abc_xyz")


# --------------------------------------------------------------------------- no stock


def test_make_to_order_holds_no_stock_and_says_so() -> None:
    demand = _demand([("P1", 40.0, 30.0, "lumpy"), ("P2", 0.0, 0.0, "smooth")])
    r = _run({"P1": "CZ", "P2": "AX"}, demand, HAND_PRODUCTS, raw={}, scheme="abc_xyz")
    p1, p2 = _row(r, "P1"), _row(r, "P2")
    assert r.summary["make_to_order_share"] == 0.5
    assert (p1["safety_stock"], p1["reorder_point"], p1["inventory_value"]) == (0.0, 0.0, 0.0)
    assert math.isnan(p1["order_quantity"])
    assert math.isnan(p1["service_target"])
    assert (p1["service_type"], p1["distribution"]) == ("none", "none")
    assert p1["rationale"] == (
        "segment CZ: make_to_order, no stock held (safety stock 0, reorder point 0)"
    )
    assert p2["safety_stock"] == 0.0
    assert "no positive demand" in p2["rationale"]


# --------------------------------------------------------------------------- lead times


def test_missing_lead_times_use_the_default_and_say_so() -> None:
    demand = _demand([("P1", 10.0, 2.0, "smooth"), ("P2", 10.0, 2.0, "smooth")])
    products = pd.DataFrame({"product_id": ["P1", "P2"], "lead_time_days": [7.0, np.nan]})
    r = _run({"P1": "A", "P2": "A"}, demand, products, {"product_default": {}})
    p1, p2 = _row(r, "P1"), _row(r, "P2")
    assert (p1["lead_time"], p2["lead_time"]) == (1.0, 2.0)  # default 14 days = 2 weeks
    assert "L=1.0 wk from products.lead_time_days" in p1["rationale"]
    assert "L=2.0 wk (default 14 d: lead time missing)" in p2["rationale"]
    assert "σL default 0 d" in p2["rationale"]
    r = _run(
        {"P1": "A"}, demand.iloc[:1], None, {"product_default": {}, "default_lead_time_days": 21}
    )
    assert _row(r, "P1")["lead_time"] == 3.0
    assert "(default 21 d: no products.lead_time_days)" in _row(r, "P1")["rationale"]
    assert any("default 21 days" in n for n in r.notes)


def test_bad_product_values_are_policy_errors() -> None:
    products = pd.DataFrame({"product_id": ["P1"], "lead_time_days": [-3.0]})
    with pytest.raises(
        PolicyError, match=r"products\.lead_time_days: value -3\.0 for product 'P1'"
    ):
        _run({"P1": "A"}, _demand([("P1", 1.0, 1.0, "smooth")]), products, {"product_default": {}})


# --------------------------------------------------------------------------- distributions


def test_distribution_follows_the_pattern() -> None:
    demand = _demand(
        [
            ("S", 20.0, 3.0, "smooth"),
            ("E", 20.0, 15.0, "erratic"),
            ("I", 4.0, 6.0, "intermittent"),
            ("SLOW", 0.4, 0.9, "intermittent"),
            ("L", 6.0, 15.0, "lumpy"),
            ("H", 3.0, 2.0, "insufficient_history"),
        ]
    )
    seg = dict.fromkeys(demand["product_id"], "A")
    raw = {"builtin_defaults": False, "product_default": {"service_target": 0.9}}
    r = _run(seg, demand, None, raw)
    dist = dict(zip(r.policies["product_id"], r.policies["distribution"], strict=True))
    assert dist == {
        "S": "normal",
        "E": "normal",
        "I": "gamma",
        "SLOW": "poisson",
        "L": "gamma",
        "H": "normal",
    }
    # Independent check with scipy.stats: L = 2 wk (default lead time), sigma_L = 0.
    i = _row(r, "I")
    mean, sd = 4.0 * 2, math.sqrt(2 * 36.0)
    gamma_rop = stats.gamma.ppf(0.9, (mean / sd) ** 2, scale=sd**2 / mean)
    assert i["reorder_point"] == pytest.approx(gamma_rop, rel=1e-9)
    slow = _row(r, "SLOW")
    assert slow["reorder_point"] == stats.poisson.ppf(0.9, 0.8)  # smallest S, CDF >= 0.9
    assert "poisson (intermittent, mean < 1/wk)" in slow["rationale"]
    assert (
        "gamma (lumpy; no history series for the empirical distribution)"
        in _row(r, "L")["rationale"]
    )
    r = _run(seg, demand, None, {**raw, "slow_mover_mean": 0})
    assert _row(r, "SLOW")["distribution"] == "gamma"


def test_lumpy_items_bootstrap_their_history() -> None:
    rng = np.random.default_rng(3)
    weeks = pd.date_range("2024-01-01", periods=40, freq="W-MON")
    y = np.where(rng.random(40) < 0.3, rng.gamma(0.6, 20.0, 40), 0.0)
    y[0] = 5.0  # the series starts in week 0
    hist = pd.DataFrame({"product_id": "L", "ds": weeks, "y": y})[y > 0]
    demand = _demand([("L", y.mean(), y.std(), "lumpy")])
    raw = {"builtin_defaults": False, "product_default": {"service_target": 0.95}}
    r = _run({"L": "A"}, demand, None, raw, history=hist)
    row = _row(r, "L")
    assert row["distribution"] == "empirical"
    # Protection interval 2 weeks; the kernel on the dense series gives the reorder point.
    rop = empirical_reorder_point(y, 2, 0.95)
    assert row["safety_stock"] == pytest.approx(max(rop - 2 * y.mean(), 0.0), rel=1e-12)
    assert "empirical (lumpy)" in row["rationale"]
    # unique_id works as well as product_id.
    r2 = _run(
        {"L": "A"}, demand, None, raw, history=hist.rename(columns={"product_id": "unique_id"})
    )
    assert _row(r2, "L")["safety_stock"] == row["safety_stock"]


# --------------------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("moq", "multiple", "expected"),
    [
        (0.0, 1.0, 12.0),
        (0.0, 12.0, 12.0),
        (0.0, 5.0, 15.0),
        (13.0, 12.0, 24.0),
        (30.0, 1.0, 30.0),
        (0.0, 0.5, 12.0),
        (25.0, 10.0, 30.0),
    ],
)
def test_order_quantity_rounds_up_to_moq_and_multiple(
    moq: float, multiple: float, expected: float
) -> None:
    # (R, S) with d = 12/wk and R = 7 days: the expected order per review is exactly 12.
    products = pd.DataFrame(
        {"product_id": ["P1"], "unit_cost": [1.0], "moq": [moq], "order_multiple": [multiple]}
    )
    raw = {
        "builtin_defaults": False,
        "product_default": {"inventory_rule": "order_up_to", "review_period": 7},
    }
    r = _run({"P1": "A"}, _demand([("P1", 12.0, 3.0, "smooth")]), products, raw)
    assert _row(r, "P1")["order_quantity"] == expected


def test_unit_cost_from_order_lines_or_unknown() -> None:
    demand = _demand([("P1", 10.0, 2.0, "smooth"), ("P2", 10.0, 2.0, "smooth")])
    demand["revenue"], demand["margin"], demand["quantity"] = [300.0, 50.0], [100.0, None], 100.0
    r = _run({"P1": "A", "P2": "A"}, demand, None, {"product_default": {}})
    p1, p2 = _row(r, "P1"), _row(r, "P2")
    assert p1["unit_cost"] == 2.0  # (300 - 100) / 100
    assert "unit cost = order-line average" in p1["rationale"]
    assert math.isnan(p2["unit_cost"])
    assert math.isnan(p2["inventory_value"])
    # No cost, no EOQ: Q covers 14 days = 2 weeks of demand.
    assert p2["order_quantity"] == 20.0
    assert "Q=14 d of demand (no unit cost for EOQ)" in p2["rationale"]


def test_forecast_replaces_history_demand() -> None:
    demand = _demand([("P1", 10.0, 2.0, "smooth"), ("P2", 10.0, 2.0, "smooth")])
    fc = pd.DataFrame({"unique_id": ["P1"], "demand_mean": [30.0], "demand_std": [5.0]})
    r = _run({"P1": "A", "P2": "A"}, demand, None, {"product_default": {}}, forecast=fc)
    assert (_row(r, "P1")["demand_mean"], _row(r, "P1")["demand_std"]) == (30.0, 5.0)
    assert "demand from the forecast" in _row(r, "P1")["rationale"]
    assert _row(r, "P2")["demand_mean"] == 10.0
    assert any("1 item(s) not in the forecast" in n for n in r.notes)


# --------------------------------------------------------------------------- grain and matrix


def test_item_locations_and_duplicates() -> None:
    demand = _demand(
        [("P1", "DC1", 10.0, 2.0, "smooth"), ("P1", "DC2", 5.0, 1.0, "smooth")], location=True
    )
    r = _run({"P1": "A"}, demand, None, {"product_default": {}})
    assert list(r.policies["location_id"]) == ["DC1", "DC2"]
    assert list(r.policies["product_segment"]) == ["A", "A"]
    fc = pd.DataFrame({"unique_id": ["P1@DC2"], "demand_mean": [7.0], "demand_std": [1.0]})
    r = _run({"P1": "A"}, demand, None, {"product_default": {}}, forecast=fc)
    assert list(r.policies["demand_mean"]) == [10.0, 7.0]
    with pytest.raises(DataContractError, match="appears twice"):
        _run({"P1": "A"}, pd.concat([demand, demand]), None, {"product_default": {}})


def test_unsegmented_products_get_their_own_template() -> None:
    demand = _demand([("P1", 10.0, 2.0, "smooth"), ("NEW", 10.0, 2.0, "smooth")])
    r = _run({"P1": "AX"}, demand, None, {}, scheme="abc_xyz")
    assert _row(r, "NEW")["product_segment"] == "unsegmented"
    assert any("no primary segment" in n for n in r.notes)


def test_matrix_cell_takes_the_strictest_customer_segment() -> None:
    demand = _demand([(p, 10.0, 3.0, pt) for p, pt in zip(("P1", "P2", "P3"), PAT3, strict=True)])
    cust = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "scheme": "cts_margin",
            "segment": ["protect", "grow"],
            "primary": True,
        }
    )
    pairs = pd.DataFrame(
        {"customer_id": ["C1", "C2", "C2", "C1"], "product_id": ["P1", "P1", "P2", "P3"]}
    )
    raw = {
        "matrix": {
            "protect": {"AX": {"service_target": 0.995}},
            "grow": {"AX": {"service_target": 0.9}, "CZ": {}},
        }
    }
    r = policy_outputs(
        _segments({"P1": "AX", "P2": "AX", "P3": "CZ"}, "abc_xyz"),
        demand,
        None,
        policy_settings(raw),
        bucket=WEEK,
        customers_seg=cust,
        customer_product_seg=pairs,
    )
    p1, p2, p3 = _row(r, "P1"), _row(r, "P2"), _row(r, "P3")
    assert (p1["service_target"], p1["customer_segment"]) == (0.995, "protect")
    assert p1["rationale"].startswith("cell protect × AX (strictest customer segment buying it)")
    # P2 is bought by grow only: its cell applies even though it is below the product template.
    assert (p2["service_target"], p2["customer_segment"]) == (0.9, "grow")
    # P3 is bought by protect, which has no CZ cell: the product template applies.
    assert p3["inventory_rule"] == "make_to_order"
    assert pd.isna(p3["customer_segment"])
    assert list(r.policies.columns) == list(POLICY_COLUMNS)


# --------------------------------------------------------------------------- stock to service


def test_stock_to_service_at_the_policy_target_is_the_policy_value() -> None:
    demand = _demand(
        [
            ("P1", 100.0, 20.0, "smooth"),
            ("P2", 10.0, 8.0, "intermittent"),
            ("P3", 50.0, 10.0, "smooth"),
        ]
    )
    r = _run({"P1": "A", "P2": "A", "P3": "B"}, demand, HAND_PRODUCTS, HAND_SETTINGS)
    curves = stock_to_service(r.policies, [0.9, 0.95, 0.99])
    a = curves[(curves["segment"] == "A") & (curves["service_target"] == 0.95)]
    want = r.policies.loc[r.policies["product_segment"] == "A", "inventory_value"].sum()
    assert float(a["inventory_value"].iloc[0]) == pytest.approx(want, rel=1e-12)
    assert list(r.stock_to_service["service_target"].unique()) == [
        0.80,
        0.85,
        0.90,
        0.95,
        0.97,
        0.98,
        0.99,
        0.995,
        0.999,
    ]
    with pytest.raises(PolicyError, match=re.escape("targets: value [1.2]")):
        stock_to_service(r.policies, [1.2])


def test_many_gamma_items_at_one_target_match_the_kernel() -> None:
    # > 4,000 intermittent items at one service level: the spline path of the main pass.
    rng = np.random.default_rng(11)
    n = 5000
    d = rng.uniform(1.0, 30.0, n)
    sd = d * rng.uniform(0.2, 6.0, n)
    ids = [f"P{i}" for i in range(n)]
    demand = pd.DataFrame({"product_id": ids, "mean": d, "std": sd, "pattern": "intermittent"})
    lt = rng.choice([7.0, 14.0, 35.0], n)
    products = pd.DataFrame({"product_id": ids, "lead_time_days": lt})
    r = _run(dict.fromkeys(ids, "A"), demand, products, {"product_default": {}})
    assert set(r.policies["distribution"]) == {"gamma"}
    want = gamma_reorder_point(d, sd, lt / 7, 0.0, 0.95)
    assert r.policies["reorder_point"].to_numpy() == pytest.approx(want, rel=1e-8)


# --------------------------------------------------------------------------- lifecycle


def _lifecycle_demand() -> pd.DataFrame:
    demand = _demand(
        [
            ("ACT", 10.0, 3.0, "smooth"),
            ("DOR", 4.0, 6.0, "lumpy"),
            ("OBS", 2.0, 5.0, "lumpy"),
            ("UNK", 5.0, 1.0, "smooth"),
        ]
    )
    demand["lifecycle"] = ["active", "dormant", "obsolete", None]
    demand["buckets_since_demand"] = [0.0, 12.0, 34.0, np.nan]
    demand["last_demand_date"] = pd.to_datetime(["2011-12-05", "2011-09-12", "2011-04-11", None])
    return demand


def test_dormant_and_obsolete_items_hold_no_stock_unless_the_template_says_so() -> None:
    demand = _lifecycle_demand()
    seg = dict.fromkeys(demand["product_id"], "A")
    products = pd.DataFrame({"product_id": ["OBS", "ACT"], "unit_cost": [2.5, 1.0]})
    inventory = pd.DataFrame(
        {
            "product_id": ["OBS", "OBS", "DOR", "ACT", "OBS"],
            "location_id": ["DC1", "DC2", "DC1", "DC1", "DC3"],
            "on_hand": [40.0, 8.0, 5.0, 30.0, 0.0],
        }
    )
    raw = {"builtin_defaults": False, "product_default": {}}
    r = _run(seg, demand, products, raw, inventory=inventory)
    for p in ("DOR", "OBS"):
        row = _row(r, p)
        assert (row["safety_stock"], row["reorder_point"]) == (0.0, 0.0)
        assert math.isnan(row["order_quantity"])
        assert (row["inventory_rule"], row["service_type"]) == ("no_stock", "none")
        assert pd.isna(row["target_met"])
    assert _row(r, "OBS")["rationale"] == "segment A: no demand for 34 weeks (obsolete): no stock"
    assert _row(r, "DOR")["lifecycle"] == "dormant"
    assert _row(r, "ACT")["safety_stock"] > 0
    assert _row(r, "UNK")["safety_stock"] > 0  # lifecycle unknown: stocked as before
    assert pd.isna(_row(r, "UNK")["lifecycle"])
    # Obsolete stock on hand, by location, valued at unit cost (largest first).
    stale = r.obsolete_stock
    assert list(stale.columns) == list(OBSOLETE_STOCK_COLUMNS)
    assert stale[["location_id", "on_hand", "value"]].values.tolist() == [
        ["DC1", 40.0, 100.0],
        ["DC2", 8.0, 20.0],
    ]
    assert (stale["last_demand_date"] == pd.Timestamp("2011-04-11")).all()
    assert r.summary["no_stock_lifecycle"] == 2
    # Unknown cost: the value is unknown, not 0.
    stale = _run(seg, demand, None, raw, inventory=inventory).obsolete_stock
    assert stale["value"].isna().all()
    # The template can keep dormant (or obsolete) items stocked.
    r = _run(
        seg,
        demand,
        products,
        {"builtin_defaults": False, "product_default": {"stock_dormant": True}},
    )
    assert _row(r, "DOR")["safety_stock"] > 0
    assert _row(r, "OBS")["inventory_rule"] == "no_stock"
    with pytest.raises(DataContractError, match=r"demand\.lifecycle: value 'retired' is unknown"):
        _run(seg, demand.assign(lifecycle="retired"), None, raw)


def test_new_items_take_demand_from_active_analogues() -> None:
    demand = _demand(
        [
            ("A1", 10.0, 5.0, "smooth"),  # cv 0.5
            ("A2", 20.0, 4.0, "smooth"),  # cv 0.2
            ("A3", 30.0, 30.0, "erratic"),  # cv 1.0
            ("B1", 8.0, 2.0, "smooth"),  # cv 0.25, another category
            ("N1", 1.0, 0.0, "insufficient_history"),
            ("N2", 1.0, 0.0, "insufficient_history"),  # no category: its segment
            ("N3", 3.0, 1.0, "smooth"),  # new, but 20 buckets of history: its own
        ]
    )
    demand["lifecycle"] = ["active"] * 4 + ["new"] * 3
    demand["n_periods"] = [50, 50, 50, 50, 3, 3, 20]
    products = pd.DataFrame(
        {
            "product_id": ["A1", "A2", "A3", "B1", "N1", "N2", "N3"],
            "category": ["mugs", "mugs", "mugs", "bags", "mugs", None, "mugs"],
        }
    )
    seg = {"A1": "S", "A2": "S", "A3": "S", "B1": "T", "N1": "T", "N2": "S", "N3": "S"}
    raw = {"builtin_defaults": False, "product_default": {}}
    r = _run(seg, demand, products, raw)
    n1, n2, n3 = _row(r, "N1"), _row(r, "N2"), _row(r, "N3")
    # N1: median mean of the active mugs (10, 20, 30) = 20, median cv (0.5, 0.2, 1.0) = 0.5.
    assert (n1["demand_mean"], n1["demand_std"]) == (20.0, 10.0)
    assert n1["demand_source"] == "analogue: category mugs"
    assert "demand from analogues (category mugs" in n1["rationale"]
    # N2: segment S's active items are A1..A3 as well.
    assert (n2["demand_mean"], n2["demand_std"], n2["demand_source"]) == (
        20.0,
        10.0,
        "analogue: segment S",
    )
    assert (n3["demand_mean"], n3["demand_source"]) == (3.0, "history")
    assert _row(r, "A1")["demand_source"] == "history"


# --------------------------------------------------------------------------- forecast path


def test_forecast_path_gives_the_demand_over_the_protection_interval() -> None:
    demand = _demand([("X", 100.0, 10.0, "smooth"), ("Y", 5.0, 1.0, "smooth")])
    products = pd.DataFrame({"product_id": ["X", "Y"], "lead_time_days": [17.5, 42.0]})
    # X: L = 2.5 wk; path 40, 20, 10, 10 -> demand over 2.5 wk = 40 + 20 + 0.5 * 10 = 65.
    # Y: L = 6 wk beyond the 2-step path 4, 6: 4 + 6 + 4 * mean 5 = 30.
    path = pd.DataFrame(
        {
            "unique_id": ["X"] * 4 + ["Y"] * 2,
            "step": [3, 1, 2, 4, 1, 2],
            "ds": pd.to_datetime(
                ["2011-12-26", "2011-12-12", "2011-12-19", "2012-01-02"] * 1
                + ["2011-12-12", "2011-12-19"]
            ),
            "forecast": [10.0, 40.0, 20.0, 10.0, 4.0, 6.0],
        }
    )
    raw = {"builtin_defaults": False, "product_default": {"service_target": 0.95}}
    r = _run({"X": "A", "Y": "A"}, demand, products, raw, forecast_path=path)
    x, y = _row(r, "X"), _row(r, "Y")
    z = stats.norm.ppf(0.95)
    assert x["demand_mean"] == pytest.approx(65.0 / 2.5)
    assert x["safety_stock"] == pytest.approx(z * 10.0 * math.sqrt(2.5))
    assert x["reorder_point"] == pytest.approx(65.0 + z * 10.0 * math.sqrt(2.5))
    assert x["demand_source"] == "forecast_path"
    assert "demand over L+R from the forecast path" in x["rationale"]
    assert y["reorder_point"] == pytest.approx(30.0 + z * 1.0 * math.sqrt(6.0))
    bad = path.assign(step=[3, 1, 2, 5, 1, 2])
    with pytest.raises(DataContractError, match=r"forecast_path\.step: item 'X' has step 5"):
        _run({"X": "A", "Y": "A"}, demand, products, raw, forecast_path=bad)
    bad = path.assign(forecast=[10.0, -1.0, 20.0, 10.0, 4.0, 6.0])
    with pytest.raises(DataContractError, match=r"forecast_path\.forecast: value -1\.0"):
        _run({"X": "A", "Y": "A"}, demand, products, raw, forecast_path=bad)


# --------------------------------------------------------------------------- reachable targets


def test_lumpy_cycle_target_explains_a_low_fill_rate_and_what_reaches_it() -> None:
    # 100 units in weeks 0 and 20 of 40: 90 % of the two-week windows see no demand, so a
    # 90 % cycle target is met with no safety stock, yet most units are short.
    weeks = pd.date_range("2024-01-01", periods=40, freq="W-MON")
    y = np.zeros(40)
    y[[0, 20]] = 100.0
    hist = pd.DataFrame({"product_id": "L", "ds": weeks, "y": y})  # zeros: to week 39
    demand = _demand([("L", y.mean(), y.std(), "lumpy")])
    raw = {"builtin_defaults": False, "product_default": {"service_target": 0.9}}
    r = _run({"L": "A"}, demand, None, raw, history=hist)
    row = _row(r, "L")
    assert row["distribution"] == "empirical"
    # Independent check: the 39 two-week sums of the series (every start), by plain Python.
    sums = np.array([y[i] + y[i + 1] for i in range(39)])
    assert sorted(sums)[math.ceil(0.9 * 39) - 1] == 0.0  # the 90 % quantile: no safety stock
    rop, q = row["reorder_point"], row["order_quantity"]
    assert (rop, q) == (10.0, 10.0)  # 2 weeks x 5/wk; Q = 14 days of demand (no unit cost)
    short = np.mean(np.maximum(sums - rop, 0.0))  # E(X - r)+ per cycle, cycle demand 10
    assert row["expected_fill_rate"] == pytest.approx(1 - short / 10.0)  # 0.308
    assert row["expected_cycle_service"] == pytest.approx(np.mean(sums <= rop))  # 36/39
    assert 0.0 < row["expected_fill_rate"] < 0.8
    assert bool(row["target_met"])  # the cycle target itself is met
    assert "leaves an expected fill rate under 35%" in row["rationale"]
    assert "a fill_rate target (service_type: fill_rate) of 90% reaches it" in row["rationale"]
    # And it does: under a 90 % fill-rate target, E(X - r)+ = 3/39 (100 - r) <= 0.1 x 10 at
    # r = 87 (the lumpy item is gamma there: check the fill rate reached, not the level).
    fr = _run(
        {"L": "A"},
        demand,
        None,
        {**raw, "product_default": {"service_target": 0.9, "service_type": "fill_rate"}},
        history=hist,
    )
    assert _row(fr, "L")["expected_fill_rate"] == pytest.approx(0.9, rel=1e-6)
    assert r.summary["cycle_target_low_fill_rate"] == 1


def test_target_not_met_is_flagged_with_its_shortfall() -> None:
    # Without clamping, a fill-rate target met exactly; a cycle target with negative safety
    # stock allowed still meets itself. A target is "not met" only when the achieved service
    # of its own measure is below it: force that with an empirical item whose bootstrap uses
    # few independent draws.
    demand = _demand([("P1", 10.0, 3.0, "smooth")])
    r = _run({"P1": "A"}, demand, None, {"builtin_defaults": False, "product_default": {}})
    row = _row(r, "P1")
    assert row["expected_cycle_service"] == pytest.approx(0.95)
    assert (bool(row["target_met"]), row["shortfall"]) == (True, 0.0)
    assert r.summary["target_not_met"] == 0


# --------------------------------------------------------------------------- make-to-order


def test_make_to_order_only_where_the_template_allows_it() -> None:
    demand = _demand(
        [
            ("SM", 40.0, 10.0, "smooth"),
            ("LU", 40.0, 90.0, "lumpy"),
            ("IN", 4.0, 6.0, "intermittent"),
            ("LT", 4.0, 6.0, "intermittent"),
        ]
    )
    demand["adi"] = [1.0, 3.0, 1.5, 3.0]  # IN has demand in 2 of 3 weeks
    products = pd.DataFrame({"product_id": ["LT"], "lead_time_days": [60.0]})
    seg = dict.fromkeys(demand["product_id"], "CZ")
    raw = {"product": {"CZ": {"make_to_order_max_lead_time_days": 30}}}
    r = _run(seg, demand, products, raw, scheme="abc_xyz")
    rule = dict(zip(r.policies["product_id"], r.policies["inventory_rule"], strict=True))
    assert rule == {"SM": "rop_eoq", "LU": "make_to_order", "IN": "rop_eoq", "LT": "rop_eoq"}
    sm, in_, lt = _row(r, "SM"), _row(r, "IN"), _row(r, "LT")
    assert sm["safety_stock"] > 0
    assert sm["replenishment_program"] == "standard"
    assert sm["service_target"] == 0.85  # the make-to-order template's target
    assert "make_to_order not applied: smooth demand (mto_allowed_patterns)" in sm["rationale"]
    assert "demand in more than 50% of buckets (mto_max_demand_frequency)" in in_["rationale"]
    assert "lead time above 30 d (make_to_order_max_lead_time_days)" in lt["rationale"]
    assert r.summary["make_to_order_share"] == 0.25
    assert r.summary["make_to_order_not_applied"] == 3
    # A template can allow make-to-order for every pattern.
    every = {"mto_allowed_patterns": ["smooth", "erratic", "intermittent", "lumpy"]}
    r = _run(
        seg,
        demand,
        None,
        {"product": {"CZ": {**every, "mto_max_demand_frequency": 1}}},
        scheme="abc_xyz",
    )
    assert set(r.policies["inventory_rule"]) == {"make_to_order"}
