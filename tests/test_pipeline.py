"""The pipeline writes one immutable run folder whose manifest adds up."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from supplyseg.config import workspace_from_dict
from supplyseg.pipeline import latest_run, run

BAD = Path(__file__).parent / "data" / "bad"


def _workspace(tmp_path: Path):  # type: ignore[no-untyped-def]
    for name in ("bad_price.csv", "customers.csv", "shipments.csv"):
        shutil.copy(BAD / name, tmp_path / name)
    raw = {
        "name": "pipeline test",
        "data": {
            "order_lines": {"path": "bad_price.csv"},
            "customers": {"path": "customers.csv"},
            "shipments": {"path": "shipments.csv"},
        },
    }
    return workspace_from_dict(raw, root=tmp_path, origin="test.yaml")


def test_manifest_adds_up(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    result = run(ws)
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest == result.manifest
    for name, acc in manifest["tables"].items():
        assert acc["read"] == acc["loaded"] + acc["rejected"], name
        assert acc["rejected"] == sum(acc["reasons"].values()), name
    rows = manifest["rows"]
    assert rows["read"] == rows["loaded"] + rows["rejected"] == 3 + 2 + 3
    rejects = pd.read_parquet(result.path / "rejects.parquet")
    assert list(rejects.columns) == [
        "table",
        "row_number",
        "reason_code",
        "field",
        "value",
        "message",
    ]
    assert len(rejects) == rows["rejected"]
    assert manifest["config_hash"]
    assert manifest["supplyseg_version"]
    assert "load" in manifest["timings_seconds"]
    assert any(n.startswith("products: not provided") for n in manifest["notes"])


def test_each_run_is_a_new_folder_and_latest_follows(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    assert latest_run(ws) is None
    first = run(ws)
    second = run(ws)
    assert first.path != second.path
    assert first.path.exists()
    assert latest_run(ws) == second.path
