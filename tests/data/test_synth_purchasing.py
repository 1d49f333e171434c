"""Synthetic purchasing tables: optional, deterministic, sound references, clean load."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from supplyseg.config import load_workspace
from supplyseg.data.contract import TABLES
from supplyseg.data.load import load_dataset
from supplyseg.data.synth import SUPPLY_TABLE_NAMES, TABLE_NAMES, synth_company, write_workspace
from supplyseg.engine import connect
from supplyseg.errors import ConfigError

ARGS = {"customers": 40, "products": 60, "lines": 2000, "seed": 9}


def test_suppliers_are_optional_and_leave_the_other_tables_unchanged() -> None:
    plain = synth_company(**ARGS)
    assert plain.suppliers is None
    assert plain.purchase_orders is None
    with_supply = synth_company(**ARGS, suppliers=10, po_lines=3000)
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(with_supply, name))
    again = synth_company(**ARGS, suppliers=10, po_lines=3000)
    for name in (*SUPPLY_TABLE_NAMES, "truth_suppliers"):
        pd.testing.assert_frame_equal(getattr(with_supply, name), getattr(again, name))
    assert len(with_supply.purchase_orders) == 3000  # type: ignore[arg-type]


def test_supply_tables_follow_the_contract_and_reference_each_other() -> None:
    c = synth_company(**ARGS, suppliers=10)
    assert c.purchase_orders is not None
    assert c.sourcing_options is not None
    assert c.suppliers is not None
    for name in SUPPLY_TABLE_NAMES:
        assert set(getattr(c, name).columns) <= set(TABLES[name].names), name
    po, so = c.purchase_orders, c.sourcing_options
    assert po["supplier_id"].isin(c.suppliers["supplier_id"]).all()
    assert po["product_id"].isin(c.products["product_id"]).all()
    assert not po.duplicated(["po_id", "line_no"]).any()
    assert not so.duplicated(["product_id", "supplier_id"]).any()
    received = po.dropna(subset=["receipt_date"])
    assert (received["receipt_date"] > received["order_date"]).all()
    assert (po["promised_date"] >= po["order_date"]).all()
    # Every pair bought from is quoted.
    bought = po[["product_id", "supplier_id"]].drop_duplicates()
    assert len(bought.merge(so, on=["product_id", "supplier_id"])) == len(bought)


def test_written_workspace_loads_every_purchase_line(tmp_path: Path) -> None:
    c = synth_company(**ARGS, suppliers=10, po_lines=1500)
    ws = load_workspace(write_workspace(c, tmp_path))
    assert set(SUPPLY_TABLE_NAMES) <= set(ws.data)
    assert (tmp_path / "truth" / "suppliers.parquet").exists()
    ds = load_dataset(ws, connect())
    for name in SUPPLY_TABLE_NAMES:
        acc = ds.accounts[name]
        assert (acc.read, acc.rejected) == (acc.loaded, 0), name
    assert ds.accounts["purchase_orders"].loaded == 1500


def test_bad_supplier_count_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="suppliers"):
        synth_company(**ARGS, suppliers=-1)
