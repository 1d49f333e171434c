"""Tests for supplyseg.allocation.supply: the on-hand fallback and the supply events."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from supplyseg.allocation.supply import supply_events, supply_periods, supply_table
from supplyseg.errors import DataContractError

D = dt.date


def test_inventory_on_hand_is_supply_when_the_table_is_absent() -> None:
    inv = pd.DataFrame(
        {
            "product_id": ["a", "b"],
            "location_id": ["L", "L"],
            "on_hand": [5.0, 0.0],
            "as_of": [D(2025, 3, 1), None],
        }
    )
    s = supply_table(None, inv, D(2025, 4, 1))
    assert s["kind"].tolist() == ["on_hand", "on_hand"]
    assert s["date"].tolist() == [D(2025, 3, 1), D(2025, 4, 1)]
    assert s["quantity"].tolist() == [5.0, 0.0]
    assert supply_table(None, None, D(2025, 4, 1)).empty


def test_the_supply_table_wins_over_inventory_and_is_checked() -> None:
    sup = pd.DataFrame(
        {
            "product_id": ["a"],
            "location_id": ["L"],
            "date": ["2025-03-05"],
            "quantity": [3],
            "kind": ["receipt"],
        }
    )
    inv = pd.DataFrame({"product_id": ["a"], "location_id": ["L"], "on_hand": [99.0]})
    s = supply_table(sup, inv, D(2025, 4, 1))
    assert s[["quantity", "kind"]].values.tolist() == [[3.0, "receipt"]]
    with pytest.raises(DataContractError, match="kind outside"):
        supply_table(sup.assign(kind="po"), None, D(2025, 4, 1))


def test_events_count_stock_once() -> None:
    sup = pd.DataFrame(
        {
            "product_id": ["a"] * 5 + ["b"],
            "location_id": ["L"] * 6,
            "date": [D(2025, 1, 1), D(2025, 1, 10), D(2025, 1, 5), D(2025, 1, 20), D(2025, 1, 20),
                     D(2025, 1, 7)],
            "quantity": [50.0, 8.0, 4.0, 6.0, 1.0, 2.0],
            "kind": ["on_hand", "on_hand", "receipt", "receipt", "receipt", "receipt"],
        }
    )  # fmt: skip
    ev = supply_events(sup)
    # a: the 10 Jan snapshot (8) and the receipts after it (6 + 1); the 1 Jan snapshot and the
    # 5 Jan receipt are inside the later snapshot. b: receipts only, from zero stock.
    assert ev.values.tolist() == [
        ["a", "L", D(2025, 1, 10), 8.0],
        ["a", "L", D(2025, 1, 20), 7.0],
        ["b", "L", D(2025, 1, 7), 2.0],
    ]
    per = supply_periods(ev, D(2025, 1, 12))
    assert per["period"].tolist() == [0, 8, 0]
