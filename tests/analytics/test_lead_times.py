"""Lead times from purchase history: statistics against a pandas oracle, fallbacks by hand."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pytest

from supplyseg.analytics.lead_times import (
    current_suppliers,
    lead_times,
    location_lead_times,
    product_lead_times,
)
from supplyseg.data.synth import synth_company
from supplyseg.errors import ConfigError, DataContractError


@pytest.fixture(scope="module")
def purchases() -> pd.DataFrame:
    c = synth_company(customers=40, products=60, lines=3000, suppliers=12, po_lines=4000, seed=3)
    assert c.purchase_orders is not None
    return c.purchase_orders


def _oracle(po: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The same statistics by plain pandas, independent of Ibis."""
    r = po.dropna(subset=["receipt_date"]).copy()
    r["days"] = (r["receipt_date"] - r["order_date"]).dt.days.astype(float)
    g = r.groupby(keys)["days"]
    return pd.DataFrame(
        {
            "n": g.count(),
            "mean_days": g.mean(),
            "std_days": g.std(ddof=1),
            "p90_days": g.quantile(0.9),
        }
    ).reset_index()


def test_statistics_match_a_pandas_oracle(purchases: pd.DataFrame) -> None:
    got = lead_times(ibis.memtable(purchases), min_receipts=1)
    keys = ["supplier_id", "product_id", "location_id"]
    want = _oracle(purchases, keys)
    own = got[got["source"] == "supplier_product_location"]
    merged = want.merge(own, on=keys, suffixes=("", "_got"), validate="one_to_one")
    assert len(merged) == len(want) == len(own)
    assert (merged["n"] == merged["n_got"]).all()
    for col in ("mean_days", "std_days", "p90_days"):
        np.testing.assert_allclose(merged[f"{col}_got"], merged[col], rtol=1e-12, equal_nan=True)


def test_fallbacks_take_the_first_level_with_enough_receipts(purchases: pd.DataFrame) -> None:
    got = lead_times(ibis.memtable(purchases), min_receipts=12)  # every level is taken here
    pair = _oracle(purchases, ["supplier_id", "product_id"]).set_index(
        ["supplier_id", "product_id"]
    )
    supplier = _oracle(purchases, ["supplier_id"]).set_index("supplier_id")
    own = _oracle(purchases, ["supplier_id", "product_id", "location_id"]).set_index(
        ["supplier_id", "product_id", "location_id"]
    )
    for row in got.itertuples():
        key = (row.supplier_id, row.product_id, row.location_id)
        receipts = int(own["n"].get(key, 0))
        assert row.receipts == receipts
        if receipts >= 12:
            assert row.source == "supplier_product_location"
            assert row.mean_days == pytest.approx(own.loc[key, "mean_days"])
        elif pair["n"].get(key[:2], 0) >= 12:
            assert row.source == "supplier_product"
            assert row.mean_days == pytest.approx(pair.loc[key[:2], "mean_days"])
            assert row.n == pair.loc[key[:2], "n"]
        else:
            assert row.source == "supplier"
            assert row.std_days == pytest.approx(supplier.loc[row.supplier_id, "std_days"])
    assert set(got["source"]) >= {"supplier_product_location", "supplier_product", "supplier"}


def _po(rows: list[tuple[str, str, str | None, str, str | None]]) -> ir.Table:
    frame = pd.DataFrame(
        rows, columns=["supplier_id", "product_id", "location_id", "order_date", "receipt_date"]
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.date
    frame["receipt_date"] = pd.to_datetime(frame["receipt_date"]).dt.date
    frame["quantity"] = 1.0
    return ibis.memtable(frame)


def test_product_column_and_default_when_no_level_has_receipts() -> None:
    po = _po(
        [
            ("S1", "P1", "DC1", "2024-01-01", "2024-01-11"),  # 10 days
            ("S1", "P1", "DC1", "2024-02-01", "2024-02-15"),  # 14 days
            ("S1", "P2", "DC1", "2024-02-01", None),  # open
            ("S2", "P3", None, "2024-02-01", None),  # open, no location
            ("S2", "P4", "DC2", "2024-02-01", None),
        ]
    )
    products = pd.DataFrame(
        {
            "product_id": ["P3", "P4"],
            "lead_time_days": [30.0, np.nan],
            "lead_time_std_days": [4.0, 1],
        }
    )
    got = lead_times(po, products, min_receipts=2, default_days=14, default_std_days=2)
    by = got.set_index("product_id")
    # P1 at DC1: its own two receipts, mean 12, sample std sqrt(8), p90 10 + 0.9 * 4.
    assert by.loc["P1", "source"] == "supplier_product_location"
    assert by.loc["P1", "std_days"] == pytest.approx(np.sqrt(8.0))
    assert by.loc["P1", "p90_days"] == pytest.approx(13.6)
    # P2: none of its own; S1 has two receipts.
    assert (by.loc["P2", "source"], by.loc["P2", "mean_days"], by.loc["P2", "n"]) == (
        "supplier",
        12.0,
        2,
    )
    assert by.loc["P2", "receipts"] == 0
    assert (by.loc["P3", "source"], by.loc["P3", "mean_days"], by.loc["P3", "std_days"]) == (
        "product_column",
        30.0,
        4.0,
    )
    assert pd.isna(by.loc["P3", "location_id"])
    assert np.isnan(by.loc["P3", "p90_days"])
    assert (by.loc["P4", "source"], by.loc["P4", "mean_days"], by.loc["P4", "std_days"]) == (
        "default",
        14.0,
        2.0,
    )


def test_current_supplier_is_the_latest_and_its_lead_time_feeds_the_product() -> None:
    po = _po(
        [
            ("S1", "P1", "DC1", "2024-01-01", "2024-01-31"),
            ("S1", "P1", "DC1", "2024-01-05", "2024-02-04"),
            ("S2", "P1", "DC1", "2024-03-01", "2024-03-06"),
            ("S2", "P1", "DC2", "2024-03-02", "2024-03-09"),
        ]
    )
    assert current_suppliers(po)[["product_id", "supplier_id"]].values.tolist() == [["P1", "S2"]]
    got = product_lead_times(po, min_receipts=2).iloc[0]
    assert (got["supplier_id"], got["source"], got["n"]) == ("S2", "supplier_product", 2)
    assert got["mean_days"] == pytest.approx(6.0)


def test_bad_inputs_name_the_fix() -> None:
    with pytest.raises(DataContractError, match="Ibis table"):
        lead_times(pd.DataFrame())  # type: ignore[arg-type]
    with pytest.raises(DataContractError, match="receipt_date"):
        lead_times(ibis.memtable(pd.DataFrame({"supplier_id": ["a"], "product_id": ["b"]})))
    po = _po([("S1", "P1", "DC1", "2024-01-01", "2024-01-31")])
    with pytest.raises(ConfigError, match="min_receipts"):
        lead_times(po, min_receipts=0)


def test_each_location_takes_its_own_current_supplier_and_receipts(
    purchases: pd.DataFrame,
) -> None:
    po = purchases.dropna(subset=["location_id"])
    got = location_lead_times(ibis.memtable(purchases), min_receipts=3)
    # The oracle: the supplier of each product x location's latest line (the larger quantity
    # breaks a tie, then the supplier id), and that triple's receipt statistics.
    per = (
        po.groupby(["product_id", "location_id", "supplier_id"])
        .agg(last=("order_date", "max"), qty=("quantity", "sum"))
        .reset_index()
        .sort_values(["last", "qty", "supplier_id"], ascending=[False, False, True])
    )
    current = per.drop_duplicates(["product_id", "location_id"])
    assert len(got) == len(current)
    merged = current.merge(got, on=["product_id", "location_id"], suffixes=("", "_got"))
    assert (merged["supplier_id"] == merged["supplier_id_got"]).all()
    stats = _oracle(po, ["supplier_id", "product_id", "location_id"])
    own = merged[merged["source"] == "supplier_product_location"].merge(
        stats, on=["supplier_id", "product_id", "location_id"], suffixes=("", "_want")
    )
    assert len(own) > 0
    assert (own["n"] >= 3).all()
    for col in ("n", "mean_days", "std_days", "p90_days"):
        np.testing.assert_allclose(own[col].astype(float), own[f"{col}_want"], rtol=1e-12)
    # Locations differ: a product's figures are not one product-wide value.
    spread = own.groupby("product_id")["mean_days"].nunique()
    assert (spread > 1).any()


def test_location_lead_times_are_empty_without_locations() -> None:
    po = _po([("S1", "P1", None, "2024-01-01", "2024-01-10")]).drop("location_id")
    got = location_lead_times(po)
    assert got.empty
    assert list(got.columns)[:3] == ["product_id", "location_id", "supplier_id"]
    with pytest.raises(DataContractError, match="location_id"):
        current_suppliers(po, by_location=True)
