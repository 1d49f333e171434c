"""A run with purchase orders: lead times, supplier metrics and landed cost written; policies
take the learned lead times and say so; the report and workbook show the suppliers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from supplyseg.config import load_workspace
from supplyseg.data.synth import synth_company, write_workspace
from supplyseg.pipeline import RunResult, run


@pytest.fixture(scope="module")
def supplier_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, pd.DataFrame]:
    c = synth_company(customers=150, products=80, lines=8000, suppliers=12, seed=1)
    assert c.purchase_orders is not None
    root = tmp_path_factory.mktemp("supplier_run")
    return run(load_workspace(write_workspace(c, root))), c.purchase_orders


def test_outputs_and_manifest(supplier_run: tuple[RunResult, pd.DataFrame]) -> None:
    result, _ = supplier_run
    for name in ("lead_times", "supplier_metrics", "landed_cost"):
        assert (result.path / f"{name}.parquet").exists(), name
    summary = result.manifest["summaries"]["supplier"]
    assert summary["suppliers"] == 12
    assert sum(summary["lead_time_sources"].values()) == len(
        pd.read_parquet(result.path / "lead_times.parquet")
    )
    assert result.manifest["tables"]["purchase_orders"]["source"].endswith(
        "purchase_orders.parquet"
    )
    lc = pd.read_parquet(result.path / "landed_cost.parquet")
    assert lc.groupby("product_id")["cheapest"].sum().le(1).all()


def _current(po: pd.DataFrame) -> pd.Series:
    """Each product x location's current supplier: the latest order date there, then the
    larger quantity ordered, then the supplier id."""
    grain = ["product_id", "location_id"]
    per = (
        po.dropna(subset=["location_id"])
        .groupby([*grain, "supplier_id"])
        .agg(last=("order_date", "max"), qty=("quantity", "sum"))
        .reset_index()
        .sort_values(["last", "qty", "supplier_id"], ascending=[False, False, True])
    )
    return per.drop_duplicates(grain).set_index(grain)["supplier_id"]


def test_policies_use_the_current_suppliers_learned_lead_time(
    supplier_run: tuple[RunResult, pd.DataFrame],
) -> None:
    result, po = supplier_run
    policies = pd.read_parquet(result.path / "policies.parquet")
    # The oracle: each product x location's latest supplier there (a location with too few
    # receipts of its own takes that supplier's mean and std over every location).
    current = _current(po)
    received = po.dropna(subset=["receipt_date"]).assign(
        days=lambda f: (f["receipt_date"] - f["order_date"]).dt.days
    )
    stats = received.groupby(["supplier_id", "product_id"])["days"].agg(["mean", "std", "size"])
    row = policies[policies["lead_time_source"] == "supplier_product"].iloc[0]
    key = (current[(row["product_id"], row["location_id"])], row["product_id"])
    assert row["supplier_id"] == key[0]
    assert row["lead_time"] * 7 == pytest.approx(stats.loc[key, "mean"])  # weekly buckets
    assert row["lead_time_std"] * 7 == pytest.approx(stats.loc[key, "std"])
    assert (
        f"from purchase history ({key[0]}, supplier x product, {stats.loc[key, 'size']}"
        in (row["rationale"])
    )
    assert "σL from purchase history" in row["rationale"]
    assert policies["supplier_program"].notna().any()
    erp = pd.read_csv(result.path / "erp_parameters.csv")
    item = erp[
        (erp["product_id"] == row["product_id"]) & (erp["location_id"] == row["location_id"])
    ]
    item = item.iloc[0]
    assert item["lead_time_days"] == pytest.approx(stats.loc[key, "mean"], abs=0.51)


def test_report_section_and_workbook_sheets(supplier_run: tuple[RunResult, pd.DataFrame]) -> None:
    result, _ = supplier_run
    html = (result.path / "report.html").read_text(encoding="utf-8")
    assert "7. Suppliers" in html
    assert "Kraljic supplier segments and their programs" in html
    assert re.search(r"Landed-cost saving a year", html)
    book = openpyxl.load_workbook(result.path / "workbook.xlsx", read_only=True)
    assert {"supplier_metrics", "lead_times", "landed_cost"} <= set(book.sheetnames)


def test_policies_use_each_locations_own_lead_time(
    supplier_run: tuple[RunResult, pd.DataFrame],
) -> None:
    result, po = supplier_run
    policies = pd.read_parquet(result.path / "policies.parquet")
    at = policies[policies["lead_time_source"] == "supplier_product_location"]
    assert len(at) > 0
    # The oracle: each product x location's latest supplier there, and its receipts there.
    lines = po.dropna(subset=["location_id"])
    current = _current(po)
    received = lines.dropna(subset=["receipt_date"]).assign(
        days=lambda f: (f["receipt_date"] - f["order_date"]).dt.days
    )
    keys = ["supplier_id", "product_id", "location_id"]
    stats = received.groupby(keys)["days"].agg(["mean", "std", "size"])
    for row in at.head(20).itertuples():
        supplier = current[(row.product_id, row.location_id)]
        assert row.supplier_id == supplier
        want = stats.loc[(supplier, row.product_id, row.location_id)]
        assert row.lead_time * 7 == pytest.approx(want["mean"])  # weekly buckets
        assert row.lead_time_std * 7 == pytest.approx(want["std"])
        assert f"supplier x product x location, {int(want['size'])} receipts" in row.rationale
    # Locations of one product get different lead times.
    assert (at.groupby("product_id")["lead_time"].nunique() > 1).any()


def test_landed_cost_uses_each_products_own_policy_service_level(
    supplier_run: tuple[RunResult, pd.DataFrame],
) -> None:
    result, _ = supplier_run
    policies = pd.read_parquet(result.path / "policies.parquet")
    lc = pd.read_parquet(result.path / "landed_cost.parquet")
    # The oracle: per product, the demand-weighted cycle target of its stocked items
    # (a fill-rate target runs at the policy's expected cycle service).
    p = policies.assign(
        level=np.where(
            policies["service_type"] == "cycle",
            policies["service_target"],
            policies["expected_cycle_service"],
        ).clip(0.5, 0.9999)
    )
    stocked = p[p["service_type"] != "none"]
    weighted = stocked.groupby("product_id").apply(
        lambda g: (
            np.average(g["level"], weights=g["demand_mean"])
            if g["demand_mean"].sum() > 0
            else g["level"].mean()
        ),
        include_groups=False,
    )
    shown = lc.drop_duplicates("product_id").set_index("product_id")["service_level"]
    both = shown.index.intersection(weighted.index)
    assert len(both) > 10
    np.testing.assert_allclose(shown[both], weighted[both], rtol=1e-12)
    assert shown[both].nunique() > 1  # targets differ by segment, not one 95 % default
    none = set(p.loc[p["service_type"] == "none", "product_id"]) - set(stocked["product_id"])
    not_stocked = lc[lc["product_id"].isin(none)]
    assert (not_stocked["safety_stock_carrying"] == 0).all()
    assert not_stocked["service_level"].isna().all()
    summary = result.manifest["summaries"]["supplier"]["landed_cost"]
    assert summary["products_with_policy_service_level"] > 0
    assert result.manifest["timings_seconds"]["landed_cost"] >= 0


def test_without_purchase_orders_nothing_changes(tmp_path: Path) -> None:
    c = synth_company(customers=40, products=20, lines=1500, seed=2)
    result = run(load_workspace(write_workspace(c, tmp_path)), report=False)
    assert "supplier" not in result.manifest["summaries"]
    assert not (result.path / "lead_times.parquet").exists()
    policies = pd.read_parquet(result.path / "policies.parquet")
    assert "lead_time_source" not in policies.columns
