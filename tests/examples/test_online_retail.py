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
