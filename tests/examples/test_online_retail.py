"""`supplyseg check` on the whole UCI Online Retail file, cross-checked with plain pandas."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from supplyseg.cli import app
from supplyseg.config import load_workspace

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "online_retail"
DATA = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.parquet"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DATA.exists(), reason="../shared/data/online_retail not present"),
]


def _oracle_reasons(ws_path: Path) -> dict[str, int]:
    """Each row's first reason under the example's rules, computed row-wise in pandas."""
    ws = load_workspace(ws_path)
    rules = ws.data["order_lines"].rules
    df = pd.read_parquet(DATA)
    product = df["StockCode"].str.strip()
    non_product = set(rules[1].in_ or [])
    reason = pd.Series(pd.NA, index=df.index, dtype="object")

    def assign(mask: pd.Series, code: str) -> None:
        reason[mask & reason.isna()] = code

    credit = df["InvoiceNo"].str.startswith("C")
    assign(product.isin(non_product), "excluded")
    assign(df["CustomerID"].isna(), "excluded")
    assign(df["Quantity"] == 0, "zero_quantity")
    assign((df["Quantity"] < 0) & ~credit, "negative_quantity")
    assign(df["UnitPrice"] <= 0, "bad_price")
    return {k: int(v) for k, v in reason.value_counts().items()}


def test_check_on_the_real_file_matches_pandas(tmp_path: Path) -> None:
    ws_file = tmp_path / "supplyseg.yaml"
    text = (EXAMPLE / "supplyseg.yaml").read_text(encoding="utf-8")
    ws_file.write_text(text.replace("../../../shared", str(ROOT.parent / "shared")))
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = tmp_path / "out" / (tmp_path / "out" / "latest-check").read_text().strip()
    table = json.loads((run / "manifest.json").read_text())["tables"]["order_lines"]
    expected = _oracle_reasons(ws_file)
    assert table["read"] == 541_909
    assert table["reasons"] == dict(sorted(expected.items()))
    assert table["loaded"] == 541_909 - sum(expected.values())
    rejects = pd.read_parquet(run / "rejects.parquet")
    assert len(rejects) == table["rejected"]
    assert rejects["row_number"].is_unique


@pytest.fixture(scope="module")
def retail_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`supplyseg run` on the shipped example, as a user runs it (report included)."""
    ws_dir = tmp_path_factory.mktemp("online_retail")
    text = (EXAMPLE / "supplyseg.yaml").read_text(encoding="utf-8")
    (ws_dir / "supplyseg.yaml").write_text(
        text.replace("../../../shared", str(ROOT.parent / "shared"))
    )
    result = CliRunner().invoke(app, ["run", str(ws_dir)])
    assert result.exit_code == 0, result.output
    return Path(result.output.strip().splitlines()[-1])


def test_the_shipped_example_runs_end_to_end(retail_run: Path) -> None:
    manifest = json.loads((retail_run / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["tables"]["order_lines"]["loaded"] == 404_876
    for name in ("report.html", "workbook.xlsx", "policy_document.json", "erp_parameters.csv"):
        assert (retail_run / name).exists(), name
    assert manifest["segmentation"]["customer"]["used"] == "rfm"
    # No unit costs in this file: every money figure that needs one is unknown, never 0.
    policies = pd.read_parquet(retail_run / "policies.parquet")
    stocked = policies["safety_stock"].fillna(0) + policies["order_quantity"].fillna(0) > 0
    assert policies.loc[stocked, "inventory_value"].isna().all()
    assert (policies.loc[~stocked, "inventory_value"].fillna(0) == 0).all()  # no stock: 0
    assert manifest["summaries"]["policy"]["obsolete_stock_value"] is None  # no inventory table
    sources = {a["source"] for a in manifest["assumptions"]}
    assert sources == {"built-in default"}


def test_no_item_without_recent_sales_holds_stock(retail_run: Path) -> None:
    policies = pd.read_parquet(retail_run / "policies.parquet")
    demand = pd.read_parquet(retail_run / "demand_product.parquet")
    stale = demand.loc[demand["buckets_since_demand"].fillna(10**6) >= 26, "product_id"]
    held = policies[policies["product_id"].isin(stale)]
    assert len(held) > 400
    assert (held["safety_stock"] == 0).all()
    assert (held["reorder_point"] == 0).all()
    item = policies.set_index("product_id").loc["35004C"]  # last sale in March 2011
    assert item["inventory_rule"] == "no_stock"


def test_forecasts_beat_naive_on_held_out_weeks(retail_run: Path) -> None:
    accuracy = pd.read_parquet(retail_run / "forecast_accuracy.parquet")
    total = accuracy[(accuracy["segment"] == "all") & (accuracy["pattern"] == "all")]
    assert float(total["fva"].iloc[0]) > 0.05
    patterns = accuracy[(accuracy["segment"] == "all") & (accuracy["pattern"] != "all")]
    scored = patterns[patterns["pattern"] != "insufficient_history"]
    assert (scored["fva"] > 0).all(), scored[["pattern", "fva"]]


def test_policies_are_replayed_out_of_sample(retail_run: Path) -> None:
    sim = pd.read_parquet(retail_run / "policy_simulation.parquet")
    assert len(sim) > 1000
    known = sim["achieved_fill_rate"].notna()
    assert sim.loc[known, "achieved_fill_rate"].between(0, 1).all()
    assert (sim.loc[~known, "demand"] == 0).all()  # no demand in the window: unknown
    manifest = json.loads((retail_run / "manifest.json").read_text())
    assert {r["product_segment"] for r in manifest["summaries"]["simulation"]} <= set(
        sim["product_segment"]
    )


def _weekly(product: str) -> pd.Series:
    """Net weekly quantity of one product from the raw file (weeks dated by their Monday)."""
    df = pd.read_parquet(DATA, columns=["StockCode", "CustomerID", "InvoiceDate", "Quantity"])
    df = df[(df["StockCode"] == product) & df["CustomerID"].notna()]
    week = df["InvoiceDate"].dt.to_period("W-SUN").dt.start_time
    return df.groupby(week)["Quantity"].sum()


def test_christmas_items_in_december_follow_the_seasonal_forecast(retail_run: Path) -> None:
    """54 weeks of history: one season. A Christmas item is planned from last December's
    weeks scaled by this year's growth, not at its November peak (issue 16)."""
    policies = pd.read_parquet(retail_run / "policies.parquet").set_index("product_id")
    forecast = pd.read_parquet(retail_run / "forecast.parquet").set_index("unique_id")
    star = policies.loc["22578"]  # WOODEN STAR CHRISTMAS SCANDINAVIAN
    assert star["demand_source"] == "last_season_path"
    assert "last season's same periods" in star["rationale"]
    weekly = _weekly("22578")
    ts = pd.Timestamp
    recent = weekly[ts("2011-11-28")] + weekly[ts("2011-12-05")]  # 747 + 670
    year_ago = weekly[ts("2010-11-29")] + weekly[ts("2010-12-06")]  # 35 + 46
    ratio = recent / year_ago
    assert forecast.loc["22578", "season_ratio"] == pytest.approx(ratio)
    path = pd.read_parquet(retail_run / "forecast_path.parquet")
    star_path = path[path["unique_id"] == "22578"].set_index("step")["forecast"]
    assert star_path[1] == pytest.approx(weekly[ts("2010-12-13")] * ratio)  # 15 x 17.5
    assert star_path[2] == 0  # nothing sold in the Christmas week a year ago
    protection = star["lead_time"] + star["review_period"]  # 2 weeks
    assert star["demand_mean"] * protection == pytest.approx(star_path[1] + star_path[2])
    peak_level = weekly[ts("2011-11-14") : ts("2011-12-05")].mean()
    assert star["reorder_point"] < 0.25 * peak_level * protection  # not stocked at the peak
    # Most Christmas items with a year of history follow their last season the same way.
    names = pd.read_parquet(DATA, columns=["StockCode", "Description"]).drop_duplicates("StockCode")
    xmas = names.loc[names["Description"].fillna("").str.contains("CHRISTMAS"), "StockCode"]
    demand = pd.read_parquet(retail_run / "demand_product.parquet").set_index("product_id")
    old = demand.index[demand["first_demand_date"] < ts("2010-12-08")]
    active = policies[policies.index.isin(xmas) & policies.index.isin(old)]
    active = active[active["lifecycle"] == "active"]
    share = (active["demand_source"] == "last_season_path").mean()
    assert len(active) > 50
    assert share > 0.8, share
