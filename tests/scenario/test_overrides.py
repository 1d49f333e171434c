"""Planner overrides: validated row by row, applied in every run, expired ones warned about."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from supplyseg.config import load_workspace
from supplyseg.errors import ConfigError
from supplyseg.pipeline import run
from supplyseg.policy.overrides import check_override_ids, read_overrides

from .workspaces import small_workspace

HEAD = "entity,id,field,value,reason,owner,expires\n"
TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("supplier,S1,segment,x,r,o,", "unknown entity 'supplier'"),
        ("product,P1,colour,red,r,o,", "unknown field 'colour'; allowed for product"),
        ("customer,C1,service_target,0.9,r,o,", "unknown field 'service_target'"),
        ("product,P1,service_target,1.5,r,o,", r"value '1.5': outside the allowed range"),
        ("product,P1,service_target,high,r,o,", "value 'high'"),
        ("product,P1,lead_time_days,-3,r,o,", "value .-3.: outside the allowed range"),
        ("product,P1,segment,AX,,o,", "reason is empty"),
        ("product,P1,segment,AX,r,,", "owner is empty"),
        ("product,P1,segment,AX,r,o,next week", "expires 'next week'"),
        ("product,,segment,AX,r,o,", "id is empty"),
    ],
)
def test_a_bad_row_is_an_error_naming_it(tmp_path: Path, row: str, message: str) -> None:
    file = tmp_path / "overrides.csv"
    file.write_text(HEAD + "product,P9,segment,AX,ok,ann,\n" + row + "\n")
    with pytest.raises(ConfigError, match=rf"overrides\.csv: row 3 \(.*\): {message}"):
        read_overrides(file, today=TODAY)


def test_duplicates_headers_and_unknown_ids(tmp_path: Path) -> None:
    file = tmp_path / "overrides.csv"
    file.write_text(HEAD + "product,P1,segment,AX,a,o,\nproduct,P1,segment,AY,b,o,\n")
    with pytest.raises(ConfigError, match=r"row 3 .*also given in row 2"):
        read_overrides(file)
    file.write_text("entity,id,field,value\nproduct,P1,segment,AX\n")
    with pytest.raises(ConfigError, match=r"missing \['reason', 'owner', 'expires'\]"):
        read_overrides(file)
    file.write_text(HEAD + "product,P1,segment,AX,a,o,\ncustomer,C7,segment,grow,b,o,\n")
    overrides = read_overrides(file)
    with pytest.raises(ConfigError, match=r"row 3 \(customer 'C7' segment\): unknown customer id"):
        check_override_ids(overrides, {"product": ["P1"], "customer": ["C1"]})


def test_expired_overrides_are_split_off_with_a_warning(tmp_path: Path) -> None:
    file = tmp_path / "overrides.csv"
    file.write_text(
        HEAD + "product,P1,segment,AX,a,ann,2026-05-31\nproduct,P2,segment,AX,b,bob,2026-06-01\n"
    )
    got = read_overrides(file, today=TODAY)
    assert got.expired["id"].tolist() == ["P1"]
    assert got.active["id"].tolist() == ["P2"]  # the expiry date itself still applies
    assert "row 2" in got.warnings[0]
    assert "expired on 2026-05-31, not applied" in got.warnings[0]
    assert read_overrides(tmp_path / "none.csv").active.empty


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, dict[str, str]]:
    """A run without overrides, then one with them (so policy_diff shows them)."""
    ws = small_workspace(tmp_path_factory.mktemp("ovr"))
    first = run(load_workspace(ws), report=False).path
    policies = pd.read_parquet(first / "policies.parquet")
    stocked = policies[(policies["inventory_rule"] == "rop_eoq")]
    seg = pd.read_parquet(first / "segments_customer.parquet")
    primary = seg[seg["primary"] & (seg["segment"] != "protect")]
    ids = {
        "target": str(stocked["product_id"].iloc[0]),
        "lead": str(stocked["product_id"].iloc[-1]),
        "expired": str(stocked["product_id"].iloc[len(stocked) // 2]),
        "customer": str(primary["customer_id"].iloc[0]),
    }
    (ws / "overrides.csv").write_text(
        HEAD
        + f"product,{ids['target']},service_target,0.995,launch,ann,2099-12-31\n"
        + f"product,{ids['lead']},lead_time_days,63,new supplier,bob,\n"
        + f"product,{ids['expired']},service_target,0.99,old promo,ann,2001-01-01\n"
        + f"customer,{ids['customer']},segment,protect,strategic,cat,\n"
    )
    second = run(load_workspace(ws), report=False).path
    return ws, first, second, ids


def test_overrides_change_the_policies_and_say_so(
    runs: tuple[Path, Path, Path, dict[str, str]],
) -> None:
    _, first, second, ids = runs
    before = pd.read_parquet(first / "policies.parquet")
    after = pd.read_parquet(second / "policies.parquet")
    mine = after[after["product_id"] == ids["target"]]
    stocked = mine[mine["inventory_rule"] != "no_stock"]
    assert (stocked["service_target"] == 0.995).all()
    assert (
        mine["rationale"].astype(str).str.startswith("planner override service_target=0.995").all()
    )
    assert mine["override"].str.contains("launch; ann, until 2099-12-31").all()
    # Safety stock rises with the target, the product's segment stays.
    old = before[before["product_id"] == ids["target"]].set_index("location_id")
    new = mine.set_index("location_id")
    assert (new["safety_stock"] >= old["safety_stock"]).all()
    assert (new["product_segment"] == old["product_segment"]).all()
    lead = after[after["product_id"] == ids["lead"]]
    assert lead["lead_time"].tolist() == pytest.approx([63 / 7] * len(lead))  # weeks
    # The expired override is not applied; the others' items are unchanged.
    untouched = ~after["product_id"].isin([ids["target"], ids["lead"]])
    assert after.loc[untouched, "override"].isna().all()
    pd.testing.assert_series_equal(
        after.loc[untouched, "safety_stock"], before.loc[untouched, "safety_stock"]
    )
    diff = pd.read_parquet(second / "policy_diff.parquet")
    shown = diff[diff["parameter"] == "override"]
    assert set(shown["product_id"]) == {ids["target"], ids["lead"]}
    assert shown["old"].isna().all()
    targets = diff[(diff["parameter"] == "service_target")]
    assert set(targets["product_id"]) == {ids["target"]}


def test_a_customer_segment_override_and_the_warning(
    runs: tuple[Path, Path, Path, dict[str, str]],
) -> None:
    _, _, second, ids = runs
    seg = pd.read_parquet(second / "segments_customer.parquet")
    row = seg[seg["primary"] & (seg["customer_id"] == ids["customer"])].iloc[0]
    assert row["segment"] == "protect"
    assert row["rule"] == "override"
    assert row["explanation"].startswith("planner override segment=protect (strategic; cat)")
    document = json.loads((second / "policy_document.json").read_text())
    assert json.dumps(document).count(ids["customer"]) >= 1
    manifest = json.loads((second / "manifest.json").read_text())
    assert any("row 4" in w and "expired on 2001-01-01" in w for w in manifest["warnings"])
    assert manifest["summaries"]["overrides"] == {"active": 3, "expired": 1}


def test_segment_summary_counts_the_segments_after_overrides(
    runs: tuple[Path, Path, Path, dict[str, str]],
) -> None:
    _, first, second, ids = runs
    seg = pd.read_parquet(first / "segments_customer.parquet")
    row = seg[seg["primary"] & (seg["customer_id"] == ids["customer"])].iloc[0]

    def entities(path: Path) -> pd.Series:
        summary = pd.read_parquet(path / "segment_summary.parquet")
        mine = summary[(summary["entity"] == "customer") & (summary["scheme"] == row["scheme"])]
        return mine.set_index("segment")["entities"]

    before, after = entities(first), entities(second)
    assert after.get(row["segment"], 0) == before[row["segment"]] - 1
    assert after["protect"] == before.get("protect", 0) + 1
    assert after.sum() == before.sum()


def test_an_unknown_id_stops_the_run(runs: tuple[Path, Path, Path, dict[str, str]]) -> None:
    ws, *_ = runs
    text = (ws / "overrides.csv").read_text()
    (ws / "overrides.csv").write_text(text + "product,NOPE,segment,AX,x,y,\n")
    try:
        with pytest.raises(ConfigError, match=r"row 6 \(product 'NOPE' segment\): unknown product"):
            run(load_workspace(ws), check_only=True)
    finally:
        (ws / "overrides.csv").write_text(text)
