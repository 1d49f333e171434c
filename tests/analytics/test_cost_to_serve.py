"""Cost-to-serve: a hand-computed company to the cent, sum invariants, freight conservation and
an independent plain-pandas oracle on random companies (hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplyseg.analytics.cancellations import fully_cancelled_orders
from supplyseg.analytics.cost_to_serve import BREAKDOWN_COLUMNS, CostToServeResult, cost_to_serve
from supplyseg.analytics.whale import profit_ranked, whale_curve, whale_summary
from supplyseg.config.cost_to_serve import CostToServeSettings, cost_to_serve_settings
from supplyseg.data.contract import TABLES
from supplyseg.engine import connect
from supplyseg.errors import DataContractError

D = dt.date


_PA = {"string": pa.string(), "float": pa.float64(), "int": pa.int64(), "date": pa.date32(),
       "bool": pa.bool_()}  # fmt: skip
_EXTRA = {"is_credit_note": "bool", "row_number": "int"}


def _tables(frames: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Canonical Ibis tables on a fresh DuckDB, typed by the contract (even when empty)."""
    con = connect()
    out = {}
    for name, df in frames.items():
        types = {c.name: c.dtype for c in TABLES[name].columns} | _EXTRA
        schema = pa.schema([(c, _PA[types[c]]) for c in df.columns])
        data = (
            pa.Table.from_pandas(df, schema, preserve_index=False)
            if len(df)
            else schema.empty_table()
        )
        out[name] = con.create_table(name, data)
    return out


def _lines(rows: list[tuple[Any, ...]], cols: tuple[str, ...]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(cols))
    if "unit_cost" in df:
        df["unit_cost"] = df["unit_cost"].astype("float64")
    df["line_no"] = df.groupby("order_id").cumcount() + 1
    df["row_number"] = np.arange(1, len(df) + 1)
    return df


# --- the hand-computed company ------------------------------------------------------------------
# Products: P1 cost 6, 2 kg; P2 cost 15, 0.5 kg; P3 cost 1, 1 kg. Customers A (EDI), B (phone),
# C (web); A and C are key accounts (region "key").
LINE_COLS = (
    "order_id", "customer_id", "product_id", "order_date", "quantity", "unit_price",
    "channel", "rush", "unit_cost", "is_credit_note",
)  # fmt: skip
HAND_LINES = [
    # O1 (A, EDI): value 10*10 + 4*25 = 200; cogs 10*5 (line cost) + 4*15 (product) = 110;
    # weight 10*2 + 4*0.5 = 22 kg.
    ("O1", "A", "P1", D(2024, 1, 10), 10.0, 10.0, "EDI", False, 5.0, False),
    ("O1", "A", "P2", D(2024, 1, 10), 4.0, 25.0, "EDI", False, None, False),
    # O2 (A, EDI): 100*2 = 200, cogs 100, 100 kg, one rush line.
    ("O2", "A", "P3", D(2024, 3, 5), 100.0, 2.0, "EDI", True, None, False),
    # O3 (B, phone): 12 + 6 + 30 = 48, cogs 6 + 2 + 15 = 23, 2 + 2 + 0.5 = 4.5 kg, one rush line.
    ("O3", "B", "P1", D(2024, 2, 1), 1.0, 12.0, "phone", False, None, False),
    ("O3", "B", "P3", D(2024, 2, 1), 2.0, 3.0, "phone", True, None, False),
    ("O3", "B", "P2", D(2024, 2, 1), 1.0, 30.0, "phone", False, None, False),
    # O4 (B, phone): 2*30 = 60, cogs 30, 1 kg.
    ("O4", "B", "P2", D(2024, 6, 30), 2.0, 30.0, "phone", False, None, False),
    # CN1 (B): credit note for the P1 of O3: revenue -12, cogs -6; not an order or a line.
    ("CN1", "B", "P1", D(2024, 2, 10), -1.0, 12.0, "phone", False, None, True),
    # O5 (C, web): 3*20 + 5*9 = 105, cogs 45 + 30 = 75, both lines rush.
    ("O5", "C", "P2", D(2024, 5, 15), 3.0, 20.0, "web", True, None, False),
    ("O5", "C", "P1", D(2024, 5, 15), 5.0, 9.0, "web", True, None, False),
]


def hand_frames() -> dict[str, pd.DataFrame]:
    return {
        "order_lines": _lines(HAND_LINES, LINE_COLS),
        "products": pd.DataFrame(
            {
                "product_id": ["P1", "P2", "P3"],
                "unit_cost": [6.0, 15.0, 1.0],
                "unit_weight": [2.0, 0.5, 1.0],
            }
        ),
        "customers": pd.DataFrame(
            {
                "customer_id": ["A", "B", "C"],
                "channel": ["EDI", "phone", "web"],
                "region": ["key", "std", "key"],
            }
        ),
        "shipments": pd.DataFrame(
            {
                "shipment_id": ["S1", "S2", "S3", "S4", "S5", "S6"],
                "order_id": ["O1", "O2", "O3", "O3", "O4", "O9"],  # O9 has no lines
                "ship_date": [D(2024, 1, 11)] * 6,
                "freight_cost": [20.0, 30.0, 8.0, 4.0, 6.0, 99.0],
            }
        ),
        "invoices": pd.DataFrame(
            {
                "invoice_id": ["I1", "I2", "I3", "I4", "I5", "I6"],
                "customer_id": ["A", "A", "B", "B", "C", "Z"],  # Z has no order lines
                "invoice_date": [
                    D(2024, 1, 10),
                    D(2024, 3, 5),
                    D(2024, 2, 1),
                    D(2024, 6, 30),
                    D(2024, 5, 15),
                    D(2024, 5, 1),
                ],
                "due_date": [D(2024, 2, 9)] * 6,
                "amount": [290.0, 200.0, 48.0, 60.0, 105.0, 1000.0],
                "paid_date": [D(2024, 2, 9), None, D(2024, 4, 1), None, D(2024, 5, 10), None],
            }
        ),
        "returns": pd.DataFrame(
            {
                "return_id": ["R1", "R2", "R3", "R4"],
                "order_id": ["O1", "O5", "O3", "O9"],  # O9 unknown
                "product_id": ["P2", "P1", "P1", "P1"],
                "quantity": [1.0, 2.0, 1.0, 1.0],
            }
        ),
    }


HAND_SETTINGS = {
    "pools": [
        {"name": "handling", "driver": "orders", "rate": 10.0,
         "rate_by_channel": {"EDI": 2.0, "web": 4.0}},
        {"name": "picking_lines", "driver": "order_lines", "rate": 0.5},
        {"name": "picking_units", "driver": "units", "rate": 0.1},
        {"name": "packing", "driver": "shipments", "rate": 3.0},
        {"name": "freight", "driver": "freight"},
        {"name": "rush", "driver": "rush_lines", "rate": 7.0},
        {"name": "returns", "driver": "returned_lines", "rate": 5.0, "lost_value_share": 0.5},
        {"name": "credit", "driver": "receivable_days", "rate": 0.073},  # 0.0002 per day
        {"name": "key_account", "driver": "customer_years", "rate": 36.5,
         "where": {"region": "key"}},
        {"name": "edi_msgs", "rate": 0.25, "driver": {
            "table": "order_lines", "column": "order_id", "agg": "count_distinct",
            "where": {"channel": "EDI"}}},
        {"name": "insurance", "rate": 0.1, "driver": {
            "table": "shipments", "column": "freight_cost", "agg": "sum"}},
    ]
}  # fmt: skip
POOLS = [p["name"] for p in HAND_SETTINGS["pools"]]  # type: ignore[index]

# Per pool and customer, by hand:
HAND_COSTS = {
    # EDI orders at 2 (A: O1, O2), phone at the default 10 (B: O3, O4; CN1 is no order), web at 4.
    "handling": {"A": 2 * 2.0, "B": 2 * 10.0, "C": 1 * 4.0},
    # Non-credit lines x 0.5: A 3, B 4, C 2.
    "picking_lines": {"A": 1.5, "B": 2.0, "C": 1.0},
    # Units x 0.1: A 10 + 4 + 100 = 114, B 1 + 2 + 1 + 2 = 6, C 3 + 5 = 8.
    "picking_units": {"A": 11.4, "B": 0.6, "C": 0.8},
    # Shipments x 3: A S1, S2; B S3, S4, S5; C none (S6 names an order without lines).
    "packing": {"A": 6.0, "B": 9.0, "C": 0.0},
    # Actual freight: A 20 + 30, B 8 + 4 + 6, C none.
    "freight": {"A": 50.0, "B": 18.0, "C": 0.0},
    # Rush lines x 7: A 1, B 1, C 2.
    "rush": {"A": 7.0, "B": 7.0, "C": 14.0},
    # 5 per returned line + 0.5 x quantity x unit cost of the returned (order, product):
    # A R1 (O1, P2): 5 + 0.5 * 1 * 15 = 12.5; B R3 (O3, P1): 5 + 0.5 * 1 * 6 = 8;
    # C R2 (O5, P1): 5 + 0.5 * 2 * 6 = 11. R4 names an unknown order: left out.
    "returns": {"A": 12.5, "B": 8.0, "C": 11.0},
    # Σ amount x days x 0.073 / 365, as_of 2024-07-31:
    # A: 290 x 30 (Jan 10 -> Feb 9) + 200 x 148 (Mar 5 -> Jul 31: 26+30+31+30+31) = 38300 -> 7.66
    # B: 48 x 60 (Feb 1 -> Apr 1, leap year: 29+31) + 60 x 31 (Jun 30 -> Jul 31) = 4740 -> 0.948
    # C: paid before the invoice date -> 0 days -> 0. Z has no order lines: left out.
    "credit": {"A": 7.66, "B": 0.948, "C": 0.0},
    # Horizon Jan 10 .. Jun 30 2024 = 21+29+31+30+31+30 + 1 = 173 days = 173/365 years x 36.5.
    "key_account": {"A": 17.3, "B": 0.0, "C": 17.3},
    # Distinct EDI orders x 0.25: A O1, O2.
    "edi_msgs": {"A": 0.5, "B": 0.0, "C": 0.0},
    # 10 % of the actual freight.
    "insurance": {"A": 5.0, "B": 1.8, "C": 0.0},
}
# revenue, cogs: A 200 + 200, 110 + 100; B 48 + 60 - 12, 23 + 30 - 6; C 105, 75.
HAND_REVENUE = {"A": 400.0, "B": 96.0, "C": 105.0}
HAND_COGS = {"A": 210.0, "B": 47.0, "C": 75.0}
# cts_total: A 4+1.5+11.4+6+50+7+12.5+7.66+17.3+0.5+5 = 122.86; B 20+2+0.6+9+18+7+8+0.948+1.8
# = 67.348; C 4+1+0.8+14+11+17.3 = 48.1. net = revenue - cogs - cts:
HAND_CTS = {"A": 122.86, "B": 67.348, "C": 48.1}
HAND_NET = {"A": 190.0 - 122.86, "B": 49.0 - 67.348, "C": 30.0 - 48.1}  # 67.14, -18.348, -18.1


@pytest.fixture(scope="module")
def hand() -> CostToServeResult:
    settings = cost_to_serve_settings(HAND_SETTINGS)
    return cost_to_serve(_tables(hand_frames()), settings, as_of=D(2024, 7, 31))


def test_hand_company_customer_table_to_the_cent(hand: CostToServeResult) -> None:
    c = hand.customer.set_index("customer_id")
    assert list(hand.customer.columns) == [
        "customer_id", "revenue", "cogs", "gross_margin", *POOLS, "cts_total", "net_profit",
        "cts_pct_revenue", "net_margin_pct", "profit_rank", "cum_profit_share",
    ]  # fmt: skip
    for pool, per in HAND_COSTS.items():
        for cust, cost in per.items():
            assert c.loc[cust, pool] == pytest.approx(cost, abs=1e-9), (pool, cust)
    for cust in "ABC":
        assert c.loc[cust, "revenue"] == pytest.approx(HAND_REVENUE[cust], abs=1e-9)
        assert c.loc[cust, "cogs"] == pytest.approx(HAND_COGS[cust], abs=1e-9)
        assert c.loc[cust, "cts_total"] == pytest.approx(HAND_CTS[cust], abs=1e-9)
        assert c.loc[cust, "net_profit"] == pytest.approx(HAND_NET[cust], abs=1e-9)
    # A 122.86 / 400 = 30.715 %; B 67.348 / 96 = 70.1541..6 %; C 48.1 / 105.
    assert c.loc["A", "cts_pct_revenue"] == pytest.approx(30.715)
    assert c.loc["B", "cts_pct_revenue"] == pytest.approx(67.348 / 96 * 100)
    assert c.loc["C", "net_margin_pct"] == pytest.approx(-18.1 / 105 * 100)
    # Ranked by net profit: A 67.14, C -18.1, B -18.348; total 30.692.
    assert hand.customer["customer_id"].tolist() == ["A", "C", "B"]
    assert hand.customer["profit_rank"].tolist() == [1, 2, 3]
    assert hand.customer["cum_profit_share"].tolist() == pytest.approx(
        [67.14 / 30.692, (67.14 - 18.1) / 30.692, 1.0]
    )


def test_hand_company_breakdown_rows(hand: CostToServeResult) -> None:
    b = hand.breakdown
    assert list(b.columns) == BREAKDOWN_COLUMNS
    row = b[(b.customer_id == "A") & (b.pool == "handling")].iloc[0]
    assert (row.driver, row.driver_quantity, row.rate, row.cost) == ("orders[channel=edi]", 2, 2, 4)
    row = b[(b.customer_id == "B") & (b.pool == "handling")].iloc[0]
    assert (row.driver, row.driver_quantity, row.rate, row.cost) == ("orders", 2, 10, 20)
    # A's freight went to lines by weight: 22 + 100 kg at 50 / 122 per kg.
    row = b[(b.customer_id == "A") & (b.pool == "freight")].iloc[0]
    assert row.driver == "freight_actual_by_weight"
    assert (row.driver_quantity, row.rate, row.cost) == pytest.approx((122.0, 50 / 122, 50.0))
    credit = b[(b.customer_id == "A") & (b.pool == "credit")].iloc[0]
    assert (credit.driver_quantity, credit.rate) == pytest.approx((38300.0, 0.0002))
    ret = b[(b.customer_id == "C") & (b.pool == "returns")].set_index("driver")
    assert ret.loc["returned_lines", ["driver_quantity", "rate", "cost"]].tolist() == [1, 5, 5]
    assert ret.loc["returned_value_at_cost", ["driver_quantity", "rate", "cost"]].tolist() == [
        12.0, 0.5, 6.0,
    ]  # fmt: skip
    ka = b[b.pool == "key_account"]
    assert sorted(ka.customer_id) == ["A", "C"]
    assert ka.driver_quantity.tolist() == pytest.approx([173 / 365] * 2)


def test_hand_company_notes_name_what_was_left_out(hand: CostToServeResult) -> None:
    text = "\n".join(hand.notes)
    assert "1 shipments (freight 99.00) name orders without order lines" in text
    assert "1 returns name unknown orders" in text
    assert "'credit': 1 customers without order lines left out" in text


def test_hand_company_orders_and_customer_products(hand: CostToServeResult) -> None:
    assert hand.order["order_id"].tolist() == ["O1", "O2", "CN1", "O3", "O4", "O5"]  # sorted
    o = hand.order.set_index("order_id")
    # O1: EDI order 2; 2 lines 1.0; 14 units 1.4; 1 shipment 3; freight 20; R1 12.5; A's
    # customer-level pools by revenue share 200 / 400: credit 3.83, key account 8.65,
    # EDI messages 0.25, insurance 2.5.
    expect = {"handling": 2.0, "picking_lines": 1.0, "picking_units": 1.4, "packing": 3.0,
              "freight": 20.0, "rush": 0.0, "returns": 12.5, "credit": 3.83,
              "key_account": 8.65, "edi_msgs": 0.25, "insurance": 2.5}  # fmt: skip
    for pool, cost in expect.items():
        assert o.loc["O1", pool] == pytest.approx(cost, abs=1e-9), pool
    # CN1 has negative revenue: no share of B's customer-level costs, no order costs.
    assert o.loc["CN1", POOLS].abs().sum() == 0
    cp = hand.customer_product.set_index(["customer_id", "product_id"])
    # A x P2 (line 2 of O1, 2 of its 22 kg): handling 2/2 = 1, picking 0.5 + 0.4,
    # packing 3/2 = 1.5, freight 20 * 2/22; R1 12.5; A's customer-level costs by the product's
    # revenue share 100 / 400: credit 1.915, key account 4.325, EDI 0.125, insurance 1.25.
    expect = {"handling": 1.0, "picking_lines": 0.5, "picking_units": 0.4, "packing": 1.5,
              "freight": 20 * 2 / 22, "rush": 0.0, "returns": 12.5, "credit": 1.915,
              "key_account": 4.325, "edi_msgs": 0.125, "insurance": 1.25}  # fmt: skip
    for pool, cost in expect.items():
        assert cp.loc[("A", "P2"), pool] == pytest.approx(cost, abs=1e-9), pool
    # B x P1: revenue 12 - 12 = 0 (credit note), cogs 6 - 6 = 0; but customer-level costs go
    # by gross sales: 12 of B's 12 + 6 + 30 + 60 = 108, as O3 carries 48 / 108 of them.
    assert cp.loc[("B", "P1"), ["revenue", "cogs"]].tolist() == [0.0, 0.0]
    assert cp.loc[("B", "P1"), "credit"] == pytest.approx(0.948 * 12 / 108)
    assert cp.loc[("B", "P1"), "insurance"] == pytest.approx(1.8 * 12 / 108)
    assert o.loc["O3", "credit"] == pytest.approx(0.948 * 48 / 108)


def _assert_levels_add_up(res: CostToServeResult, pools: list[str]) -> None:
    cust = res.customer.set_index("customer_id").sort_index()
    # pools add to cts_total; margins follow
    assert np.allclose(cust[pools].sum(axis=1), cust["cts_total"], atol=1e-9)
    np.testing.assert_allclose(
        cust["net_profit"], cust["revenue"] - cust["cogs"] - cust["cts_total"], atol=1e-9
    )
    # breakdown rows sum to the customer table, and cost = quantity x rate where a rate is set
    b = res.breakdown
    per = (
        b.groupby(["customer_id", "pool"])["cost"]
        .sum()
        .unstack()
        .reindex(index=cust.index, columns=pools)
    )
    np.testing.assert_allclose(per.fillna(0.0), cust[pools], atol=1e-9)
    np.testing.assert_allclose(b["driver_quantity"] * b["rate"], b["cost"], rtol=1e-9, atol=1e-9)
    # the order and customer x product tables add up to the customer table
    for level in (res.order, res.customer_product):
        sums = level.groupby("customer_id")[["revenue", *pools, "cts_total"]].sum()
        sums = sums.reindex(cust.index).fillna(0.0)
        np.testing.assert_allclose(sums, cust[["revenue", *pools, "cts_total"]], atol=1e-7)


def test_hand_company_levels_add_up(hand: CostToServeResult) -> None:
    _assert_levels_add_up(hand, POOLS)
    total = hand.customer["cts_total"].sum()
    assert total == pytest.approx(122.86 + 67.348 + 48.1)  # the company total


def test_whale_curve_and_summary_of_the_hand_company(hand: CostToServeResult) -> None:
    curve = whale_curve(hand.customer)
    assert curve["customer_share"].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert curve["cum_net_profit"].tolist() == pytest.approx([0, 67.14, 49.04, 30.692])
    s = whale_summary(hand.customer)
    assert s["peak_profit_pct"] == pytest.approx(100 * 67.14 / 30.692)  # 218.75 %
    assert s["peak_customer_share_pct"] == pytest.approx(100 / 3)
    assert s["profit_destroying_share_pct"] == pytest.approx(200 / 3)
    assert s["profit_destroyed"] == pytest.approx(18.1 + 18.348)


# --- an independent oracle: plain pandas and loops, straight from the definitions ---------------
ORACLE_SETTINGS = {
    "pools": [
        {"name": "handling", "driver": "orders", "rate": 9.0,
         "rate_by_channel": {"EDI": 1.5, "Web": 3.0}},
        {"name": "picking_lines", "driver": "order_lines", "rate": 0.7},
        {"name": "picking_units", "driver": "units", "rate": 0.03},
        {"name": "packing", "driver": "shipments", "rate": 2.5},
        {"name": "freight", "driver": "freight"},
        {"name": "rush", "driver": "rush_lines", "rate": 11.0},
        {"name": "returns", "driver": "returned_lines", "rate": 4.0, "lost_value_share": 0.4},
        {"name": "credit", "driver": "receivable_days", "rate": 0.09},
        {"name": "key_account", "driver": "customer_years", "rate": 120.0,
         "where": {"region": "key"}},
        {"name": "edi_orders", "rate": 0.3, "driver": {
            "table": "order_lines", "column": "order_id", "agg": "count_distinct",
            "where": {"channel": "EDI"}}},
        {"name": "air", "rate": 1.0, "driver": {"table": "shipments", "column": "shipment_id",
                                                "agg": "count", "where": {"mode": "air"}}},
    ]
}  # fmt: skip
ORACLE_POOLS = [p["name"] for p in ORACLE_SETTINGS["pools"]]  # type: ignore[index]
AS_OF = D(2024, 12, 31)


def random_company(seed: int, n_orders: int, weights: bool) -> dict[str, pd.DataFrame]:
    """A small random company with credit notes, missing costs, split shipments and strays."""
    rng = np.random.default_rng(seed)
    custs = [f"K{i}" for i in range(rng.integers(1, 5))]
    prods = [f"P{i}" for i in range(rng.integers(1, 5))]
    rows = []
    for o in range(n_orders):
        cust = custs[rng.integers(len(custs))]
        credit = rng.random() < 0.15
        channel = ["EDI", "web", "phone", None][rng.integers(4)]
        day = D(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 300)))
        for _ in range(rng.integers(1, 4)):
            qty = float(rng.integers(1, 20))
            price = float(rng.choice([0.0, 1.5, 7.0, 12.25]))
            cost = None if rng.random() < 0.5 else float(rng.choice([0.5, 3.0]))
            rush = bool(rng.random() < 0.3)
            rows.append((f"O{o}", cust, prods[rng.integers(len(prods))], day,
                         -qty if credit else qty, price, channel, rush, cost, credit))  # fmt: skip
    lines = _lines(rows, LINE_COLS)
    p_cost = [float(c) if rng.random() < 0.9 else None for c in rng.choice([1.0, 2.0], len(prods))]
    p_weight = [
        float(w) if rng.random() < 0.8 else None for w in rng.choice([0.2, 3.0], len(prods))
    ]
    products = pd.DataFrame({"product_id": prods, "unit_cost": np.array(p_cost, dtype=float)})
    if weights:
        products["unit_weight"] = np.array(p_weight, dtype=float)
    n_ship = int(rng.integers(0, 2 * n_orders + 1))
    ship_orders = [f"O{rng.integers(n_orders + 1)}" for _ in range(n_ship)]  # O<n> has no lines
    shipments = pd.DataFrame(
        {
            "shipment_id": [f"S{i}" for i in range(n_ship)],
            "order_id": ship_orders,
            "ship_date": [D(2024, 6, 1)] * n_ship,
            "freight_cost": rng.integers(0, 5000, n_ship) / 100.0,
            "mode": rng.choice(["road", "air"], n_ship),
        }
    )
    n_inv = int(rng.integers(0, 6))
    inv_day = [D(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 360, n_inv)]
    invoices = pd.DataFrame(
        {
            "invoice_id": [f"I{i}" for i in range(n_inv)],
            "customer_id": rng.choice([*custs, "stray"], n_inv),
            "invoice_date": inv_day,
            "due_date": inv_day,
            "amount": rng.integers(-1000, 50000, n_inv) / 100.0,
            "paid_date": [
                None if rng.random() < 0.4 else d + dt.timedelta(days=int(rng.integers(-5, 90)))
                for d in inv_day
            ],
        }
    )
    n_ret = int(rng.integers(0, 5))
    returns = pd.DataFrame(
        {
            "return_id": [f"R{i}" for i in range(n_ret)],
            "order_id": [f"O{rng.integers(n_orders + 1)}" for _ in range(n_ret)],
            "product_id": rng.choice(prods, n_ret),
            "quantity": rng.integers(1, 4, n_ret).astype(float),
        }
    )
    customers = pd.DataFrame(
        {"customer_id": custs, "region": rng.choice(["key", "std"], len(custs))}
    )
    return {"order_lines": lines, "products": products, "shipments": shipments,
            "invoices": invoices, "returns": returns, "customers": customers}  # fmt: skip


def cancelled_by_loops(lines: pd.DataFrame) -> set[str]:
    """Orders whose purchases credit notes cancel in full: each customer x product's credited
    quantity cancels its purchases latest first (order date, then order id, descending)."""
    credited: dict[tuple[str, str], float] = {}
    for _, ln in lines[lines.is_credit_note].iterrows():
        key = (ln.customer_id, ln.product_id)
        credited[key] = credited.get(key, 0.0) - ln.quantity
    bought: dict[str, float] = {}
    matched: dict[str, float] = {}
    buys = lines[~lines.is_credit_note & (lines.quantity > 0)]
    for _, ln in buys.sort_values(["order_date", "order_id"], ascending=False).iterrows():
        key = (ln.customer_id, ln.product_id)
        take = min(max(credited.get(key, 0.0), 0.0), ln.quantity)
        credited[key] = credited.get(key, 0.0) - take
        bought[ln.order_id] = bought.get(ln.order_id, 0.0) + ln.quantity
        matched[ln.order_id] = matched.get(ln.order_id, 0.0) + take
    return {o for o, q in bought.items() if matched[o] >= q * (1 - 1e-9)}


def oracle(f: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict[tuple[str, str], float]]:
    """Customer table (revenue, cogs, pools) and freight per (customer, product), by loops."""
    lines, prod = f["order_lines"], f["products"].set_index("product_id")
    weight = prod["unit_weight"] if "unit_weight" in prod else pd.Series(np.nan, prod.index)
    order_cust = lines.groupby("order_id")["customer_id"].first().to_dict()
    custs = sorted(lines["customer_id"].unique())
    out = {c: dict.fromkeys(["revenue", "cogs", *ORACLE_POOLS], 0.0) for c in custs}
    cp_freight: dict[tuple[str, str], float] = {}
    gone = cancelled_by_loops(lines)
    for _, ln in lines.iterrows():
        row = out[ln.customer_id]
        row["revenue"] += ln.quantity * ln.unit_price
        unit_cost = ln.unit_cost if pd.notna(ln.unit_cost) else prod.unit_cost.get(ln.product_id)
        row["cogs"] += ln.quantity * unit_cost if pd.notna(unit_cost) else np.nan
        if not ln.is_credit_note and ln.order_id not in gone:
            row["picking_lines"] += 0.7
            row["picking_units"] += ln.quantity * 0.03
            row["rush"] += 11.0 * ln.rush
    for oid, ol in lines.groupby("order_id"):
        cust, sales = order_cust[oid], ol[~ol.is_credit_note & (oid not in gone)]
        if len(sales):
            ch = str(sales.channel.iloc[0]).lower()
            out[cust]["handling"] += {"edi": 1.5, "web": 3.0}.get(ch, 9.0)
        ships = f["shipments"][f["shipments"].order_id == oid]
        out[cust]["packing"] += 2.5 * len(ships)
        freight = ships.freight_cost.sum()
        out[cust]["freight"] += freight
        out[cust]["air"] += (ships["mode"] == "air").sum()
        # allocation to lines: by weight if every sales line has one and they add to > 0,
        # else by value if positive, else equally (over all lines if there are no sales lines)
        w = sales.quantity * sales.product_id.map(weight)
        v = sales.quantity * sales.unit_price
        share = (w / w.sum() if w.notna().all() and w.sum() > 0
                 else v / v.sum() if v.sum() > 0
                 else pd.Series(1.0 / len(sales), sales.index) if len(sales)
                 else pd.Series(1.0 / len(ol), ol.index))  # fmt: skip
        for i, s in share.items():
            key = (cust, lines.loc[i, "product_id"])
            cp_freight[key] = cp_freight.get(key, 0.0) + freight * s
    for _, r in f["returns"].iterrows():
        if r.order_id not in order_cust:
            continue
        same = lines[(lines.order_id == r.order_id) & (lines.product_id == r.product_id)
                     & ~lines.is_credit_note]  # fmt: skip
        costs = same.unit_cost.fillna(same.product_id.map(prod.unit_cost))
        unit = (
            (same.quantity * costs).sum() / same.quantity.sum()
            if len(same) and costs.notna().all()
            else prod.unit_cost.get(r.product_id)
        )
        lost = r.quantity * unit * 0.4 if pd.notna(unit) else 0.0
        out[order_cust[r.order_id]]["returns"] += 4.0 + lost
    for _, inv in f["invoices"].iterrows():
        # Only what is known at as-of: later invoices are left out, later payments are open.
        if inv.customer_id in out and inv.invoice_date <= AS_OF:
            paid = pd.notna(inv.paid_date) and inv.paid_date <= AS_OF
            end = inv.paid_date if paid else AS_OF
            days = max((pd.Timestamp(end) - pd.Timestamp(inv.invoice_date)).days, 0)
            out[inv.customer_id]["credit"] += inv.amount * days * 0.09 / 365
    span = (lines.order_date.max() - lines.order_date.min()).days + 1
    for _, c in f["customers"].iterrows():
        if c.region == "key" and c.customer_id in out:
            out[c.customer_id]["key_account"] = 120.0 * span / 365
    edi = lines[lines.channel == "EDI"].groupby("customer_id").order_id.nunique()
    for c, n in edi.items():
        out[c]["edi_orders"] = 0.3 * n
    return pd.DataFrame.from_dict(out, orient="index"), cp_freight


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_orders=st.integers(1, 10), weights=st.booleans())
def test_ibis_result_agrees_with_a_plain_pandas_oracle(
    seed: int, n_orders: int, weights: bool
) -> None:
    frames = random_company(seed, n_orders, weights)
    res = cost_to_serve(_tables(frames), cost_to_serve_settings(ORACLE_SETTINGS), as_of=AS_OF)
    want, want_freight = oracle(frames)
    got = res.customer.set_index("customer_id").sort_index()
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got[want.columns], want, rtol=1e-9, atol=1e-9)
    _assert_levels_add_up(res, ORACLE_POOLS)
    # shipment freight goes to lines by weight / value / equally: conserved, and as the oracle says
    cp = res.customer_product.set_index(["customer_id", "product_id"])["freight"]
    for key, value in want_freight.items():
        assert cp.get(key, 0.0) == pytest.approx(value, abs=1e-9)
    known = frames["shipments"].order_id.isin(frames["order_lines"].order_id)
    total = frames["shipments"].freight_cost[known].sum()
    assert cp.sum() == pytest.approx(total, abs=1e-9)
    assert res.order["freight"].sum() == pytest.approx(total, abs=1e-9)


# --- absent tables and columns, estimates, unknown margins --------------------------------------
def test_pools_on_absent_tables_are_skipped_with_a_note_and_estimates_used() -> None:
    f = hand_frames()
    lines = f["order_lines"].drop(columns=["rush"])
    frames = {"order_lines": lines, "products": f["products"]}
    settings = cost_to_serve_settings(
        {
            "pools": [
                {"name": "packing", "driver": "shipments", "rate": 3.0},
                {"name": "freight", "driver": "freight", "rate": 0.5, "basis": "weight"},
                {"name": "rush", "driver": "rush_lines", "rate": 7.0},
                {"name": "returns", "driver": "returned_lines", "rate": 5.0},
                {"name": "credit", "driver": "receivable_days", "rate": 0.073, "terms_days": 30},
                {"name": "key_account", "driver": "customer_years", "rate": 1.0,
                 "where": {"region": "key"}},
                {"name": "air", "rate": 1.0, "driver": {
                    "table": "shipments", "column": "shipment_id", "agg": "count"}},
            ]
        }
    )  # fmt: skip
    res = cost_to_serve(_tables(frames), settings)
    text = "\n".join(res.notes)
    for pool, why in [
        ("packing", "no shipments table"),
        ("rush", "order_lines has no rush column"),
        ("returns", "no returns table"),
        ("key_account", "customers table or a `where` column is absent"),
        ("air", "table shipments or a column it names is absent"),
    ]:
        assert f"pool {pool!r} skipped: {why}" in text
    assert "freight estimated, rate × weight" in text
    assert "receivables are revenue × terms" in text
    c = res.customer.set_index("customer_id")
    for pool in ("packing", "rush", "returns", "key_account", "air"):
        assert (c[pool] == 0).all()
        assert pool not in set(res.breakdown["pool"])
    # freight 0.5 per kg: A 22 + 100 kg, B 4.5 + 1 kg, C 3*0.5 + 5*2 = 11.5 kg
    assert c["freight"].to_dict() == pytest.approx({"A": 61.0, "B": 2.75, "C": 5.75})
    # 30 days of revenue at 0.073 / 365 = 0.0002 per day: A 400 x 30 x 0.0002 = 2.4 ...
    assert c["credit"].to_dict() == pytest.approx({"A": 2.4, "B": 0.576, "C": 0.63})
    assert set(res.breakdown.driver[res.breakdown.pool == "freight"]) == {
        "freight_estimate_by_weight"
    }
    _assert_levels_add_up(res, [p.name for p in settings.pools])


def test_payment_terms_of_the_customer_table_and_freight_by_value() -> None:
    f = hand_frames()
    f["customers"]["payment_terms_days"] = [60.0, None, 10.0]
    f["products"] = f["products"].drop(columns=["unit_weight"])
    del f["invoices"]
    settings = cost_to_serve_settings(
        {
            "pools": [
                {"name": "freight", "driver": "freight"},
                {"name": "credit", "driver": "receivable_days", "rate": 0.073, "terms_days": 45},
            ]
        }
    )
    res = cost_to_serve(_tables(f), settings)
    c = res.customer.set_index("customer_id")
    # A 400 x 60 days, B 96 x 45 (no terms: the pool's default), C 105 x 10; x 0.0002
    assert c["credit"].to_dict() == pytest.approx({"A": 4.8, "B": 0.864, "C": 0.21})
    b = res.breakdown[res.breakdown.pool == "freight"]
    assert set(b.driver) == {"freight_actual_by_value"}
    # without weights O1's 20 go to its lines by value, 100 and 100
    cp = res.customer_product.set_index(["customer_id", "product_id"])
    assert cp.loc[("A", "P2"), "freight"] == pytest.approx(10.0)


def test_without_unit_costs_margins_are_unknown_and_the_whale_curve_says_so() -> None:
    f = hand_frames()
    f["order_lines"] = f["order_lines"].drop(columns=["unit_cost"])
    f["products"] = f["products"].drop(columns=["unit_cost"])
    res = cost_to_serve(_tables(f), CostToServeSettings(), as_of=D(2024, 7, 31))
    assert any("COGS, margins and net profit are unknown" in n for n in res.notes)
    for level in (res.customer, res.order, res.customer_product):
        assert level[["cogs", "gross_margin", "net_profit"]].isna().all().all()
        assert level["cts_total"].notna().all()
    assert res.customer["profit_rank"].isna().all()
    with pytest.raises(DataContractError, match=r"net profit is unknown for 3 of 3 customers"):
        whale_curve(res.customer)
    assert len(whale_curve(res.customer, missing="drop")) == 1  # the origin only


def test_some_missing_unit_costs_make_only_those_margins_unknown() -> None:
    f = hand_frames()
    f["products"].loc[f["products"].product_id == "P3", "unit_cost"] = None
    res = cost_to_serve(_tables(f), CostToServeSettings(), as_of=D(2024, 7, 31))
    c = res.customer.set_index("customer_id")
    assert np.isnan(c.loc["A", "cogs"])  # both bought P3
    assert np.isnan(c.loc["B", "cogs"])
    assert c.loc["C", "cogs"] == pytest.approx(75.0)
    assert "2 order lines have no unit cost: COGS unknown for 2 customers" in "\n".join(res.notes)


def test_an_order_with_two_customers_is_a_contract_error() -> None:
    f = hand_frames()
    f["order_lines"].loc[1, "customer_id"] = "B"  # O1's second line
    with pytest.raises(DataContractError, match=r"1 order_id\(s\) carry more than one customer"):
        cost_to_serve(_tables(f))
    with pytest.raises(DataContractError, match="tables has no order_lines"):
        cost_to_serve({})


# --- cancellations, sanity warning, as-of ---------------------------------------------------------
SIMPLE_COLS = ("order_id", "customer_id", "product_id", "order_date", "quantity", "unit_price",
               "is_credit_note")  # fmt: skip
SIMPLE_POOLS = {
    "pools": [
        {"name": "handling", "driver": "orders", "rate": 10.0},
        {"name": "lines", "driver": "order_lines", "rate": 1.0},
        {"name": "units", "driver": "units", "rate": 0.1},
    ]
}


def cancellation_lines() -> pd.DataFrame:
    return _lines(
        [
            # A: O1 cancelled in full by a credit note of its own (as in Online Retail).
            ("O1", "A", "P1", D(2024, 1, 1), 5.0, 2.0, False),
            ("O1", "A", "P2", D(2024, 1, 1), 3.0, 4.0, False),
            ("CN1", "A", "P1", D(2024, 1, 5), -5.0, 2.0, True),
            ("CN1", "A", "P2", D(2024, 1, 5), -3.0, 4.0, True),
            # B: 2 of 5 credited: a partial cancellation keeps its costs.
            ("O2", "B", "P1", D(2024, 1, 2), 5.0, 2.0, False),
            ("CN2", "B", "P1", D(2024, 1, 6), -2.0, 2.0, True),
            # C: two equal orders, one credit: the latest purchase (O4) is the one cancelled.
            ("O3", "C", "P1", D(2024, 1, 1), 4.0, 2.0, False),
            ("O4", "C", "P1", D(2024, 1, 3), 4.0, 2.0, False),
            ("CN3", "C", "P1", D(2024, 1, 4), -4.0, 2.0, True),
        ],
        SIMPLE_COLS,
    )


def test_fully_cancelled_orders_carry_no_order_line_or_unit_costs() -> None:
    tables = _tables({"order_lines": cancellation_lines()})
    gone = fully_cancelled_orders(tables["order_lines"]).to_pandas().set_index("order_id")
    assert sorted(gone.index) == ["O1", "O4"]
    assert gone.loc["O1", "purchased"] == 8.0
    res = cost_to_serve(tables, cost_to_serve_settings(SIMPLE_POOLS), as_of=D(2024, 1, 31))
    c = res.customer.set_index("customer_id")
    # A: nothing left to pick; revenue nets to 0.
    assert c.loc["A", ["handling", "lines", "units"]].tolist() == [0.0, 0.0, 0.0]
    assert c.loc["A", "revenue"] == 0.0
    # B: one order, one line, 5 units picked (the credit does not un-pick them).
    assert c.loc["B", ["handling", "lines", "units"]].tolist() == pytest.approx([10.0, 1.0, 0.5])
    # C: only O3.
    assert c.loc["C", ["handling", "lines", "units"]].tolist() == pytest.approx([10.0, 1.0, 0.4])
    o = res.order.set_index("order_id")
    assert o.loc["O4", "cts_total"] == 0.0
    assert o.loc["O4", "revenue"] == 8.0  # a sale that a later credit note nets
    assert any("2 order(s) fully cancelled by credit notes" in n for n in res.notes)
    _assert_levels_add_up(res, ["handling", "lines", "units"])


def test_cts_above_revenue_for_many_customers_is_a_warning_naming_pools() -> None:
    # CDNOW-like: one 15-dollar order of one CD per customer; the built-in rates (12 per order,
    # 50 per customer-year, ...) exceed what the customers spend.
    rows = [(f"O{i}", f"C{i}", "cd", D(2024, 1, 1) + dt.timedelta(days=i), 1.0, 15.0, False)
            for i in range(20)]  # fmt: skip
    tables = _tables({"order_lines": _lines(rows, SIMPLE_COLS)})
    res = cost_to_serve(tables, as_of=D(2024, 12, 31))
    assert len(res.warnings) == 1
    w = res.warnings[0]
    assert "exceeds revenue for 20 of 20 customers (100% > cost_to_serve.warn_share_above" in w
    assert "order_handling" in w
    assert "account_service" in w
    assert "built-in order-of-magnitude defaults" in w
    assert "set cost_to_serve.pools rates" in w
    # Rates the user set: the warning points at supplyseg.yaml instead; none when they fit.
    dear = {"pools": [{"name": "handling", "driver": "orders", "rate": 20.0}]}
    mine = cost_to_serve(tables, cost_to_serve_settings(dear), as_of=D(2024, 12, 31))
    assert "mostly handling 100% of their costs; check those pools' rates" in mine.warnings[0]
    fits = {"pools": [{"name": "handling", "driver": "orders", "rate": 1.0}]}
    assert not cost_to_serve(tables, cost_to_serve_settings(fits)).warnings
    # The threshold is a setting: 100 % never warns.
    lax = cost_to_serve_settings({**dear, "warn_share_above_revenue": 1.0})
    assert not cost_to_serve(tables, lax).warnings


def test_as_of_defaults_to_the_last_order_date_not_invoice_or_payment_dates() -> None:
    lines = _lines([("O1", "A", "P1", D(2024, 3, 1), 1.0, 100.0, False)], SIMPLE_COLS)
    invoices = pd.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3"],
            "customer_id": ["A", "A", "A"],
            "invoice_date": [D(2024, 3, 1), D(2024, 2, 1), D(2024, 5, 1)],
            "due_date": [D(2024, 3, 31), D(2024, 3, 2), D(2024, 5, 31)],
            "amount": [100.0, 50.0, 70.0],
            # I2 is paid after the last order date: still open at as-of; I3 is dated after it.
            "paid_date": [None, D(2024, 6, 30), None],
        }
    )
    pools = {"pools": [{"name": "credit", "driver": "receivable_days", "rate": 0.365}]}
    res = cost_to_serve(_tables({"order_lines": lines, "invoices": invoices}),
                        cost_to_serve_settings(pools))  # fmt: skip
    # as-of = 2024-03-01 (the order date): I1 0 days, I2 29 days (Feb 1 -> Mar 1, leap year),
    # I3 left out; x 0.365 / 365.
    b = res.breakdown.set_index("pool")
    assert b.loc["credit", "driver_quantity"] == pytest.approx(50.0 * 29)
    assert b.loc["credit", "cost"] == pytest.approx(50.0 * 29 * 0.001)
    assert not any("unpaid invoices run to" in n for n in res.notes)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40))
def test_whale_curve_invariants(profits: list[float]) -> None:
    ids = [f"K{i:02d}" for i in range(len(profits))]
    df = pd.DataFrame({"customer_id": ids, "net_profit": profits})
    curve = whale_curve(df)
    assert (np.diff(curve["net_profit"].to_numpy()[1:]) <= 0).all()  # most profitable first
    assert curve["cum_net_profit"].iloc[-1] == pytest.approx(sum(profits), abs=1e-6)
    assert curve["customer_share"].iloc[-1] == 1.0
    s = whale_summary(df)
    assert s["peak_net_profit"] >= max(0.0, sum(profits)) - 1e-6
    assert s["profit_destroying_customers"] == sum(p < 0 for p in profits)
    assert s["profit_destroyed"] == pytest.approx(-sum(p for p in profits if p < 0), abs=1e-6)
    assert all(type(v) is float for v in s.values())
    if sum(profits) > 0:
        assert s["peak_profit_pct"] >= 100.0 - 1e-9
    ranked = profit_ranked(df)
    assert ranked["profit_rank"].tolist() == list(range(1, len(profits) + 1))


@pytest.mark.parametrize("missing_costs", [False, True])
def test_detail_tables_written_by_the_engine_equal_the_frames(
    tmp_path: Any, missing_costs: bool
) -> None:
    """Per order and per customer x product, the Parquet the engine writes holds the rows and
    values of the data frames (unknown margins stay unknown), the orders in order."""
    f = hand_frames()
    if missing_costs:
        f["order_lines"] = f["order_lines"].drop(columns=["unit_cost"])
        f["products"] = f["products"].drop(columns=["unit_cost"])
    res = cost_to_serve(_tables(f), CostToServeSettings(), as_of=D(2024, 7, 31))
    for level, keys in (
        ("order", ["customer_id", "order_id"]),
        ("customer_product", ["customer_id", "product_id"]),
    ):
        path = tmp_path / f"{level}.parquet"
        res.details[level].write_parquet(path, rows=2)
        frame = getattr(res, level)
        frame.to_parquet(tmp_path / "whole.parquet", index=False)
        want = pd.read_parquet(tmp_path / "whole.parquet").sort_values(keys, ignore_index=True)
        # the engine's file carries no pandas metadata: its text reads as plain strings
        want = want.astype({c: object for c in want.columns if want[c].dtype == "string"})
        got = pd.read_parquet(path)
        if level == "order":  # written sorted
            pd.testing.assert_frame_equal(got, want)
        got = got.sort_values(keys, ignore_index=True)
        pd.testing.assert_frame_equal(got, want)  # the same values and types
