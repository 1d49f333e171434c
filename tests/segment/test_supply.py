"""Learned lead times into the products the policies read, and their source into the policies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supplyseg.segment.supply import (
    policies_with_lead_time_source,
    policy_service_levels,
    products_with_learned_lead_times,
)

PER_PRODUCT = pd.DataFrame(
    {
        "product_id": ["P1", "P2", "P3", "P9"],
        "supplier_id": ["S1", "S1", "S2", "S3"],
        "n": [12, 4, 0, 30],
        "mean_days": [40.0, 20.0, 5.0, 9.0],
        "std_days": [8.0, 3.0, 1.0, 2.0],
        "p90_days": [50.0, 24.0, np.nan, 11.0],
        "source": ["supplier_product", "supplier", "product_column", "supplier_product"],
    }
)
PRODUCTS = pd.DataFrame(
    {"product_id": ["P1", "P2", "P3", "P4"], "lead_time_days": [14.0, 14.0, 5.0, np.nan]}
)


def test_only_learned_figures_replace_the_products_column() -> None:
    got = products_with_learned_lead_times(PRODUCTS, PER_PRODUCT).set_index("product_id")
    known = got["lead_time_days"].dropna().to_dict()
    assert known == {"P1": 40.0, "P2": 20.0, "P3": 5.0, "P9": 9.0}
    assert np.isnan(got.loc["P4", "lead_time_days"])
    assert got.loc["P1", "lead_time_std_days"] == 8.0
    assert np.isnan(got.loc["P3", "lead_time_std_days"])  # not learned: the column stays
    only_column = PER_PRODUCT.assign(source="product_column")
    assert products_with_learned_lead_times(PRODUCTS, only_column) is PRODUCTS


def test_policy_rows_and_rationale_name_the_source() -> None:
    rationale = (
        "segment AX: cycle 95%, L=5.7 wk from products.lead_time_days, σL from"
        " products.lead_time_std_days, Q=EOQ"
    )
    policies = pd.DataFrame(
        {
            "product_id": ["P1", "P3", "P4"],
            "rationale": pd.Categorical([rationale, rationale, "L=2.0 wk (default 14 d)"]),
        }
    )
    suppliers = pd.DataFrame(
        {
            "supplier_id": ["S1", "S2"],
            "segment": ["strategic", "leverage"],
            "program": ["vmi", "bo"],
        }
    )
    got = policies_with_lead_time_source(policies, PER_PRODUCT, suppliers, PRODUCTS)
    assert got["lead_time_source"].tolist() == ["supplier_product", "product_column", "default"]
    assert got["supplier_segment"].tolist()[:2] == ["strategic", "leverage"]
    assert pd.isna(got["supplier_id"].iloc[2])
    assert got["rationale"].iloc[0] == (
        "segment AX: cycle 95%, L=5.7 wk from purchase history (S1, supplier x product, 12"
        " receipts), σL from purchase history, Q=EOQ"
    )
    assert got["rationale"].iloc[1] == rationale  # P3's lead time is the products column's


def test_policy_service_levels_per_product() -> None:
    policies = pd.DataFrame(
        {
            "product_id": ["A", "A", "B", "C", "D", "E"],
            "location_id": ["L1", "L2", "L1", "L1", "L1", "L1"],
            "service_type": ["cycle", "cycle", "fill_rate", "none", "fill_rate", "cycle"],
            "service_target": [0.99, 0.95, 0.98, np.nan, 0.97, 0.98],
            "expected_cycle_service": [0.99, 0.95, 0.87, np.nan, 0.2, 0.98],
            "demand_mean": [30.0, 10.0, 5.0, 0.0, 4.0, 0.0],
        }
    )
    got = policy_service_levels(policies).set_index("product_id")
    # A: demand-weighted over its locations, (30 x 0.99 + 10 x 0.95) / 40.
    assert got.loc["A", "service_level"] == pytest.approx((30 * 0.99 + 10 * 0.95) / 40)
    # B: a fill-rate target runs at the cycle service its policy gives.
    assert got.loc["B", "service_level"] == pytest.approx(0.87)
    # C holds no stock: not stocked, level unknown.
    assert not got.loc["C", "stocked"]
    assert np.isnan(got.loc["C", "service_level"])
    # D: a cycle service below 50 % means no safety stock (z = 0), never a negative one.
    assert got.loc["D", "service_level"] == pytest.approx(0.5)
    # E: no demand anywhere: the plain mean of its targets.
    assert got.loc["E", "service_level"] == pytest.approx(0.98)
    assert got["stocked"].tolist() == [True, True, False, True, True]
