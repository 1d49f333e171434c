"""Headline numbers: the page shows exactly what the tables say (independent pandas oracle)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from html_parts import ReportPage
from synthetic_run import write_synthetic_run

from supplyseg.report import ReportResult, read_run_folder, render_html
from supplyseg.report.headline import headline_numbers


def test_headline_numbers_in_the_page_equal_the_tables(full_report: ReportResult) -> None:
    run = full_report.html.parent
    metrics = pd.read_parquet(run / "customer_metrics.parquet")
    products = pd.read_parquet(run / "demand_product.parquet")
    cts = pd.read_parquet(run / "cost_to_serve_customer.parquet")
    policies = pd.read_parquet(run / "policies.parquet")
    page = ReportPage(full_report.html.read_text(encoding="utf-8"))

    n_customers = metrics["customer_id"].nunique()
    revenue = products["revenue"].sum()
    losing = (cts["net_profit"] < 0).sum()
    share = losing / cts["net_profit"].notna().sum()
    inventory = policies["inventory_value"].sum()
    mto = (policies["inventory_rule"] == "make_to_order").mean()
    expected = {
        "customers": (n_customers, f"{n_customers:,}"),
        "products": (len(products), f"{len(products):,}"),
        "revenue": (revenue, f"{revenue:,.0f}"),
        "unprofitable": (share, f"{100 * share:.1f} %"),
        "inventory": (inventory, f"{inventory:,.0f}"),
        "make_to_order": (mto, f"{100 * mto:.1f} %"),
    }
    assert set(expected) <= set(page.kpis)
    for key, (value, text) in expected.items():
        assert float(page.kpis[key]["value"]) == pytest.approx(value, rel=1e-12), key
        assert page.kpis[key]["text"] == text, key
    assert f"{losing:,} of {len(cts):,} customers lose" in page.kpis["unprofitable"]["detail"]
    by_type = policies.groupby("service_type")["inventory_value"].sum()
    for service_type, value in by_type.items():
        assert f"{service_type}: {value:,.0f}" in page.kpis["inventory"]["detail"]


def _tiny_run(path: Path, profits: list[float]) -> Path:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"run_id": "tiny", "notes": []}))
    n = len(profits)
    pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "revenue": np.full(n, 100.0),
            "net_profit": profits,
        }
    ).to_parquet(path / "cost_to_serve_customer.parquet")
    return path


def test_unknown_profit_is_left_out_of_the_unprofitable_share(tmp_path: Path) -> None:
    # Hand-computed: profits 10, -5, unknown, -1 -> 2 of the 3 known customers lose 6.
    run = read_run_folder(_tiny_run(tmp_path / "tiny", [10.0, -5.0, np.nan, -1.0]))
    kpis = {k.key: k for k in headline_numbers(run)}
    assert kpis["unprofitable"].value == pytest.approx(2 / 3)
    assert kpis["unprofitable"].text == "66.7 %"
    assert "2 of 3 customers lose 6.00" in kpis["unprofitable"].detail
    # Customers and revenue fall back to the cost-to-serve table; products are not computed.
    assert kpis["customers"].value == 4
    assert kpis["revenue"].value == pytest.approx(400.0)
    assert kpis["products"].value is None
    assert kpis["products"].detail.startswith("not computed because")
    assert kpis["inventory"].detail == (
        "not computed because the table was not produced by this run"
    )


def test_customer_count_falls_back_when_customer_metrics_is_absent(tmp_path: Path) -> None:
    path = write_synthetic_run(tmp_path / "r", omit={"customer_metrics"})
    page = ReportPage(render_html(read_run_folder(path)))
    cts = pd.read_parquet(path / "cost_to_serve_customer.parquet")
    assert float(page.kpis["customers"]["value"]) == cts["customer_id"].nunique()
