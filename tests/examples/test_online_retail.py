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
