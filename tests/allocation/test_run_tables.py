"""Tests for supplyseg.allocation.run_tables: the allocation tables a run writes."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.allocation.run_tables import (
    allocation_customers,
    allocation_products,
    allocation_tables,
    demand_mix,
    product_mix,
)
from supplyseg.analytics.demand import demand_by_customer_group
from supplyseg.config.policy import policy_settings

CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C1"],
        "scheme": ["cts_margin", "cts_margin", "cts_margin", "rfm"],
        "segment": ["protect", "grow", "grow", "Champions"],
        "primary": [True, True, True, False],
    }
)
PRODUCTS = pd.DataFrame(
    {
        "product_id": ["P1", "P2", "P3", "P1"],
        "scheme": ["abc_xyz"] * 3 + ["demand_pattern"],
        "segment": ["AX", "AX", "BY", "smooth"],
        "primary": [True, True, True, False],
    }
)
PAIRS = pd.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C1", "C9", "C2"],
        "product_id": ["P1", "P1", "P2", "P3", "P1", "P4"],
        "quantity": [30.0, 10.0, 10.0, 5.0, 99.0, 7.0],
    }
)


def test_demand_mix_sums_quantity_per_primary_segment_pair() -> None:
    mix = demand_mix(PAIRS, CUSTOMERS, PRODUCTS)
    # C9 has no segment and P4 none: their demand is outside the mix
    got = {(r.product_segment, r.customer_segment): r.quantity for r in mix.itertuples()}
    assert got == {("AX", "grow"): 20.0, ("AX", "protect"): 30.0, ("BY", "protect"): 5.0}


def test_allocation_products_are_the_primary_segments() -> None:
    out = allocation_products(PRODUCTS)
    assert out.to_dict("list") == {
        "product_id": ["P1", "P2", "P3"],
        "product_segment": ["AX", "AX", "BY"],
    }


def test_tables_take_shares_from_demand_and_priorities_from_the_rules() -> None:
    settings = policy_settings({"customer": {"grow": {"allocation": {"share": 0.25}}}})
    inventory = pd.DataFrame(
        {"product_id": ["P1"], "location_id": ["DC1"], "on_hand": [12.0], "as_of": [None]}
    )
    out = allocation_tables(
        settings,
        pairs=PAIRS,
        customer_segments=CUSTOMERS,
        product_segments=PRODUCTS,
        supply=None,
        inventory=inventory,
        as_of=dt.date(2026, 1, 5),
    )
    assert set(out) == {"allocation_shares", "allocation_products", "supply"}
    shares = out["allocation_shares"].set_index(["product_segment", "customer_segment"])
    # grow's share is configured; protect takes the rest (its demand share of what is left)
    assert shares.loc[("AX", "grow"), "share"] == 0.25
    assert shares.loc[("AX", "protect"), "share"] == pytest.approx(0.75)
    assert shares.loc[("AX", "protect"), "priority"] == 1  # built-in cts_margin priority
    assert shares.loc[("BY", "protect"), "share"] == pytest.approx(0.75)
    supply = out["supply"]
    assert supply[["quantity", "kind", "date"]].iloc[0].tolist() == [
        12.0,
        "on_hand",
        dt.date(2026, 1, 5),
    ]


def test_with_policies_the_fill_target_segment_gets_a_protected_quantity() -> None:
    settings = policy_settings(None)
    policies = pd.DataFrame(
        {"product_id": ["P1"], "demand_mean": [10.0], "demand_std": [0.0], "lead_time": [2.0],
         "bucket": ["week"]}
    )  # fmt: skip
    inventory = pd.DataFrame(
        {"product_id": ["P1"], "location_id": ["DC1"], "on_hand": [12.0], "as_of": [None]}
    )
    out = allocation_tables(
        settings,
        pairs=PAIRS,
        customer_segments=CUSTOMERS,
        product_segments=PRODUCTS,
        supply=None,
        inventory=inventory,
        as_of=dt.date(2026, 1, 5),
        policies=policies,
    )
    kept = out["allocation_protection"]
    # P1: C1 (protect, priority 1, built-in 0.95) bought 30 of the 40 sold to segmented
    # customers (C9 has none); no receipts, so the horizon is the 2-week lead time
    assert kept[["product_id", "customer_segment"]].values.tolist() == [["P1", "protect"]]
    row = kept.iloc[0]
    assert (row["horizon_days"], row["demand_share"]) == (14.0, 0.75)
    assert row["expected_demand"] == pytest.approx(10 * 2 * 0.75)
    assert row["protected_quantity"] == pytest.approx(0.95 * 15)  # no spread: beta * mu


def test_the_lines_summed_per_customer_segment_stand_for_the_pairs() -> None:
    # The run passes demand_by_customer_group of its order lines instead of the pairs.
    lines = PAIRS.assign(
        order_id=[f"o{i}" for i in range(len(PAIRS))],
        order_date=dt.date(2026, 1, 1),
        unit_price=1.0,
    )
    customers = allocation_customers(CUSTOMERS)
    assert customers.to_dict("list") == {
        "customer_id": ["C1", "C2", "C3"],
        "customer_segment": ["protect", "grow", "grow"],
    }
    policies = pd.DataFrame(
        {"product_id": ["P1", "P3"], "demand_mean": [10.0, 2.0], "demand_std": [1.0, 0.5],
         "lead_time": [2.0, 1.0], "bucket": ["week", "week"]}
    )  # fmt: skip
    inventory = pd.DataFrame(
        {"product_id": ["P1", "P3"], "location_id": ["DC1"] * 2, "on_hand": [12.0, 3.0],
         "as_of": [None, None]}
    )  # fmt: skip
    common: dict[str, Any] = {
        "customer_segments": CUSTOMERS,
        "product_segments": PRODUCTS,
        "supply": None,
        "inventory": inventory,
        "as_of": dt.date(2026, 1, 5),
        "policies": policies,
    }
    settings = policy_settings(None)
    by_pairs = allocation_tables(settings, pairs=PAIRS, **common)
    demand = demand_by_customer_group(lines, customers)
    by_lines = allocation_tables(settings, pairs=None, product_demand=demand, **common)
    assert set(by_lines) == set(by_pairs) >= {"allocation_shares", "allocation_protection"}
    for name, frame in by_pairs.items():
        pd.testing.assert_frame_equal(by_lines[name], frame)


def test_without_segments_or_supply_nothing_is_written() -> None:
    settings = policy_settings(None)
    none = allocation_tables(
        settings,
        pairs=PAIRS,
        customer_segments=None,
        product_segments=PRODUCTS,
        supply=None,
        inventory=None,
        as_of=dt.date(2026, 1, 5),
    )
    assert none == {}


def _mix_by_joins(pairs: pd.DataFrame, customers: pd.DataFrame, products: pd.DataFrame) -> Any:
    """The mix by the plain computation: text ids, joins, a group-by of the joined rows."""
    cs = customers[customers["primary"]].drop_duplicates("customer_id").astype(str)
    ps = products[products["primary"]].drop_duplicates("product_id").astype(str)
    p = pairs.astype({"customer_id": str, "product_id": str})
    p = p.merge(cs[["customer_id", "segment"]].rename(columns={"segment": "customer_segment"}))
    p = p.merge(ps[["product_id", "segment"]].rename(columns={"segment": "product_segment"}))
    mix = p.groupby(["product_segment", "customer_segment"], as_index=False)["quantity"].sum()
    mix["quantity"] = mix["quantity"].clip(lower=0.0).astype("float64")
    return mix.sort_values(["product_segment", "customer_segment"], ignore_index=True)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["C1", "C2", "C3", "C9"]),
            st.sampled_from(["P1", "P2", "P3", "P4"]),
            st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 2)),
        ),
        max_size=30,
    ),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
def test_demand_mix_is_the_joined_group_by(
    rows: list[tuple[str, str, float]], cuts: list[int]
) -> None:
    # Codes per distinct id instead of text joins: the same rows, segments and sums (summed by
    # counting per product, then per segment: to 1e-12).
    pairs = pd.DataFrame(rows, columns=["customer_id", "product_id", "quantity"])
    pairs = pairs.astype({"customer_id": pd.StringDtype("pyarrow")})
    got = demand_mix(pairs, CUSTOMERS, PRODUCTS)
    want = _mix_by_joins(pairs, CUSTOMERS, PRODUCTS)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=1e-9)
    # The pairs a run keeps have categorical ids (their codes are used): the same tables.
    coded = pairs.astype({"customer_id": "category", "product_id": "category"})
    pd.testing.assert_frame_equal(demand_mix(coded, CUSTOMERS, PRODUCTS), got, check_exact=True)
    pd.testing.assert_frame_equal(
        product_mix(coded, CUSTOMERS), product_mix(pairs, CUSTOMERS), check_exact=True
    )
    # A run passes the pairs in batches (row groups of its file, categorical ids per batch).
    bounds = [0, *sorted(min(c, len(pairs)) for c in cuts), len(pairs)]
    batches = [
        pairs.iloc[a:b].astype({"customer_id": "category", "product_id": "category"})
        for a, b in itertools.pairwise(bounds)
    ]
    pd.testing.assert_frame_equal(
        demand_mix(iter(batches), CUSTOMERS, PRODUCTS),
        want,
        check_exact=False,
        rtol=1e-12,
        atol=1e-9,
    )
    by_product = product_mix(iter(batches), CUSTOMERS)
    pd.testing.assert_frame_equal(
        by_product, product_mix(pairs, CUSTOMERS), check_exact=False, rtol=1e-12, atol=1e-9
    )
