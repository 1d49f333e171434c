"""Total landed cost: a hand-computed example to the cent, customs bases, invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.analytics.landed_cost import COMPONENTS, customs_value, landed_cost
from supplyseg.errors import ConfigError

Z95 = 1.6448536269514722  # standard normal 95 % quantile (tables: 1.645)

OPTIONS = pd.DataFrame(
    {
        "product_id": ["P1", "P1", "P1", "P1"],
        "supplier_id": ["S1", "S2", "S3", "S4"],
        "unit_price": [10.00, 11.00, 9.50, 8.00],
        "lead_time_days": [60.0, 10.0, 45.0, 30.0],
        "lead_time_std_days": [15.0, 2.0, np.nan, 5.0],
        "freight_per_unit": [1.20, 0.00, 0.00, np.nan],
        "insurance_rate": [0.005, 0.0, 0.01, 0.0],
        "duty_rate": [0.04, 0.0, 0.05, 0.0],
        "incoterm": ["FOB", "DAP", "CFR", "EXW"],
        "mode": ["sea", "road", "sea", "road"],
    }
)
DEMAND = pd.DataFrame(
    {"product_id": ["P1"], "demand_per_day": [100.0], "demand_std_per_day": [30.0]}
)
CURRENT = pd.DataFrame({"product_id": ["P1"], "supplier_id": ["S1"]})


def _hand() -> dict[str, float]:
    """The example written out (holding rate 25 %/yr, 95 % cycle service, d = 100/day,
    sd = 30/day, CIF customs basis)."""
    # S1, FOB: the buyer pays carriage and insurance, so both enter the customs value.
    s1_insurance = 0.005 * (10.00 + 1.20)  # 0.056
    s1_duty = 0.04 * (10.00 + 1.20 + 0.056)  # 0.04 x 11.256 = 0.45024
    s1_pipeline = 10.00 * 0.25 * 60 / 365  # 0.4109589
    s1_ss = Z95 * math.sqrt(60 * 30**2 + 100**2 * 15**2)  # 1.64485 x 1517.8933 = 2496.7123 u
    s1_ss_cost = s1_ss * 10.00 * 0.25 / (365 * 100)  # 0.1710077 per unit of annual demand
    s1 = 10.00 + 1.20 + s1_insurance + s1_duty + s1_pipeline + s1_ss_cost  # 12.2882066
    # S2, DAP: price includes carriage; no duty rate. Short lead time, little stock.
    s2_pipeline = 11.00 * 0.25 * 10 / 365  # 0.0753425
    s2_ss_cost = Z95 * math.sqrt(10 * 900 + 100**2 * 2**2) * 11.00 * 0.25 / 36500  # 0.0274324
    s2 = 11.00 + s2_pipeline + s2_ss_cost  # 11.1027749
    # S3, CFR: the seller pays carriage, the buyer insures: customs value = price + insurance;
    # its quote has no std, so the default std (0) applies.
    s3_insurance = 0.01 * 9.50  # 0.095
    s3_duty = 0.05 * (9.50 + 0.095)  # 0.47975
    s3_pipeline = 9.50 * 0.25 * 45 / 365  # 0.2928082
    s3_ss_cost = Z95 * math.sqrt(45 * 900) * 9.50 * 0.25 / 36500  # 0.0215390
    s3 = 9.50 + s3_insurance + s3_duty + s3_pipeline + s3_ss_cost  # 10.3890972
    return {"S1": s1, "S2": s2, "S3": s3, "s1_duty": s1_duty, "s1_ss_cost": s1_ss_cost}


def test_hand_computed_example_to_the_cent() -> None:
    got = landed_cost(OPTIONS, DEMAND, holding_rate=0.25, current=CURRENT).set_index("supplier_id")
    hand = _hand()
    assert round(got.loc["S1", "total_per_unit"], 2) == 12.29
    assert round(got.loc["S2", "total_per_unit"], 2) == 11.10
    assert round(got.loc["S3", "total_per_unit"], 2) == 10.39
    for s in ("S1", "S2", "S3"):
        assert got.loc[s, "total_per_unit"] == pytest.approx(hand[s], abs=1e-9)
    assert got.loc["S1", "insurance"] == pytest.approx(0.056)
    assert got.loc["S1", "duty"] == pytest.approx(hand["s1_duty"])
    assert got.loc["S1", "customs_value_per_unit"] == pytest.approx(11.256)
    assert got.loc["S3", "customs_value_per_unit"] == pytest.approx(9.595)
    assert got.loc["S1", "safety_stock_carrying"] == pytest.approx(hand["s1_ss_cost"])
    assert got.loc["S1", "annual_demand"] == 36500.0
    # S4 has no freight figure: its total is unknown, never cheapest.
    assert np.isnan(got.loc["S4", "total_per_unit"])
    assert got["cheapest"].to_dict() == {"S1": False, "S2": False, "S3": True, "S4": False}
    assert got["current"].to_dict() == {"S1": True, "S2": False, "S3": False, "S4": False}
    # S3 saves 12.2882066 - 10.3890972 = 1.8991094 per unit, 69,317.49 a year.
    saving = hand["S1"] - hand["S3"]
    assert got.loc["S3", "saving_vs_current_per_unit"] == pytest.approx(saving)
    assert round(got.loc["S3", "annual_saving_vs_current"], 2) == round(saving * 36500, 2)
    assert got.loc["S1", "saving_vs_current_per_unit"] == 0.0
    assert got.loc["S3", "lead_time_source"] == "quote"
    assert got.loc["S3", "lead_time_std_days"] == 0.0


Z98 = 2.0537489106318225  # standard normal 98 % quantile (tables: 2.054)


def test_each_products_own_service_level_sets_its_safety_stock_cost() -> None:
    # P1 at its policy's 98 % cycle service; P2 (same figures) without one takes the 95 %
    # default; P3 holds no stock (make to order), so it carries no safety stock.
    options = pd.concat(
        [OPTIONS.iloc[[0]].assign(product_id=p) for p in ("P1", "P2", "P3")], ignore_index=True
    )
    demand = pd.DataFrame(
        {
            "product_id": ["P1", "P2", "P3"],
            "demand_per_day": 100.0,
            "demand_std_per_day": 30.0,
            "service_level": [0.98, np.nan, np.nan],
            "stocked": [True, True, False],
        }
    )
    got = landed_cost(options, demand, holding_rate=0.25).set_index("product_id")
    sigma = math.sqrt(60 * 30**2 + 100**2 * 15**2)  # 1517.8933 units over the lead time
    p1 = Z98 * sigma * 10.00 * 0.25 / 36500  # 2.05375 x 1517.8933 x 2.5 / 36500 = 0.2135278
    assert got.loc["P1", "safety_stock_carrying"] == pytest.approx(p1, abs=1e-12)
    assert round(got.loc["P1", "safety_stock_carrying"], 4) == 0.2135
    assert got.loc["P1", "service_level"] == 0.98
    assert got.loc["P2", "safety_stock_carrying"] == pytest.approx(_hand()["s1_ss_cost"])
    assert got.loc["P2", "service_level"] == 0.95
    assert got.loc["P3", "safety_stock_carrying"] == 0.0
    assert np.isnan(got.loc["P3", "service_level"])
    assert got.loc["P3", "total_per_unit"] == pytest.approx(_hand()["S1"] - _hand()["s1_ss_cost"])
    with pytest.raises(ConfigError, match=r"demand.service_level: value 0.3"):
        landed_cost(options, demand.assign(service_level=0.3), holding_rate=0.25)


def test_learned_lead_times_replace_the_quote() -> None:
    learned = pd.DataFrame(
        {
            "supplier_id": ["S1", "S2"],
            "product_id": ["P1", "P1"],
            "mean_days": [80.0, 12.0],
            "std_days": [25.0, 3.0],
            "source": ["supplier_product", "supplier"],  # S2's is only supplier-wide
        }
    )
    got = landed_cost(OPTIONS, DEMAND, holding_rate=0.25, lead_times=learned).set_index(
        "supplier_id"
    )
    assert (got.loc["S1", "lead_time_days"], got.loc["S1", "lead_time_std_days"]) == (80.0, 25.0)
    assert got.loc["S1", "lead_time_source"] == "purchase_history"
    assert got.loc["S1", "pipeline_carrying"] == pytest.approx(10 * 0.25 * 80 / 365)
    assert (got.loc["S2", "lead_time_days"], got.loc["S2", "lead_time_source"]) == (10.0, "quote")


def test_customs_value_bases_and_ddp() -> None:
    price, freight, ins = np.full(5, 100.0), np.full(5, 10.0), np.full(5, 1.0)
    terms = np.array(["EXW", "CPT", "CIP", "ddp", None], dtype=object)
    assert customs_value(price, freight, ins, terms).tolist() == [111.0, 101.0, 100.0, 100.0, 111.0]
    assert customs_value(price, freight, ins, terms, "FOB").tolist() == [100.0] * 5
    ddp = OPTIONS.iloc[[0]].assign(incoterm="DDP")
    got = landed_cost(ddp, DEMAND, holding_rate=0.25)
    assert got["duty"].iloc[0] == 0.0


def test_unknown_demand_gives_unknown_safety_stock_cost() -> None:
    got = landed_cost(OPTIONS.iloc[:1], DEMAND.iloc[:0], holding_rate=0.25)
    assert np.isnan(got["safety_stock_carrying"].iloc[0])
    assert np.isnan(got["total_per_unit"].iloc[0])
    assert not got["cheapest"].iloc[0]


def test_bad_settings_name_the_fix() -> None:
    with pytest.raises(ConfigError, match="holding_rate"):
        landed_cost(OPTIONS, DEMAND, holding_rate=0.0)
    with pytest.raises(ConfigError, match="service_level"):
        landed_cost(OPTIONS, DEMAND, holding_rate=0.2, service_level=1.0)


@settings(max_examples=40, deadline=None)
@given(
    price=st.floats(0.01, 1e4),
    freight=st.floats(0, 100),
    lt=st.floats(0, 365),
    slt=st.floats(0, 60),
    d=st.floats(0.01, 1e4),
    cv=st.floats(0, 3),
    h=st.floats(0.01, 1.0),
    level=st.floats(0.5, 0.999),
    term=st.sampled_from(["FOB", "CIF", "CFR", "DAP", "DDP", None]),
)
def test_components_sum_to_the_total_and_service_costs_stock(
    price: float,
    freight: float,
    lt: float,
    slt: float,
    d: float,
    cv: float,
    h: float,
    level: float,
    term: str | None,
) -> None:
    opt = pd.DataFrame(
        {
            "product_id": ["P"],
            "supplier_id": ["S"],
            "unit_price": [price],
            "lead_time_days": [lt],
            "lead_time_std_days": [slt],
            "freight_per_unit": [freight],
            "insurance_rate": [0.003],
            "duty_rate": [0.05],
            "incoterm": [term],
        }
    )
    dem = pd.DataFrame({"product_id": ["P"], "demand_per_day": [d], "demand_std_per_day": [d * cv]})
    low = landed_cost(opt, dem, holding_rate=h, service_level=level).iloc[0]
    high = landed_cost(opt, dem, holding_rate=h, service_level=min(level + 0.0005, 0.9999)).iloc[0]
    assert low["total_per_unit"] == pytest.approx(sum(low[c] for c in COMPONENTS), rel=1e-12)
    assert high["safety_stock_carrying"] >= low["safety_stock_carrying"]
    assert low["total_per_unit"] >= price
