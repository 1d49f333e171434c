"""Tests for supplyseg.policy.export: ERP files reopen identically, versions, diffs, order rules."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from supplyseg.config.erp import ErpSettings
from supplyseg.config.policy import PolicySettings, policy_settings
from supplyseg.errors import DataContractError
from supplyseg.policy import export
from supplyseg.policy.assign import PolicyResult, policy_outputs
from supplyseg.policy.document import PromisingRules, SegmentRules
from supplyseg.policy.export import (
    SAP_COLUMNS,
    SAP_SUPPLIER_COLUMNS,
    SUPPLIER_COLUMNS,
    erp_parameters,
    policy_diff,
    policy_version,
    segment_rules,
    write_policy_outputs,
)
from supplyseg.policy.templates import order_rules


def _result(raw: dict[str, Any] | None = None, drop: str | None = None) -> PolicyResult:
    seg = {"P1": "AX", "P2": "BY", "P3": "CZ", "P4": "CX"}
    segments = pd.DataFrame(
        {
            "product_id": list(seg),
            "scheme": "abc_xyz",
            "segment": list(seg.values()),
            "primary": True,
        }
    )
    demand = pd.DataFrame(
        {
            "product_id": ["P1", "P1", "P2", "P3", "P4"],
            "location_id": ["DC1", "DC2", "DC1", "DC1", "DC1"],
            "mean": [100.0, 40.0, 12.0, 3.0, 0.6],
            "std": [20.0, 15.0, 9.0, 5.0, 1.1],
            "pattern": ["smooth", "smooth", "erratic", "lumpy", "intermittent"],
        }
    )
    if drop is not None:
        demand = demand[demand["product_id"] != drop]
    products = pd.DataFrame(
        {
            "product_id": list(seg),
            "unit_cost": [10.0, 4.0, 2.0, np.nan],
            "lead_time_days": [14.0, 7.0, 21.0, 10.0],
            "order_multiple": [1.0, 12.0, 1.0, 1.0],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "scheme": "cts_margin",
            "segment": ["protect", "re-price or exit"],
            "primary": True,
        }
    )
    return policy_outputs(
        segments, demand, products, policy_settings(raw), bucket="week", customers_seg=customers
    )


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same shape, columns and values (numbers to 1e-12, NaN = empty cell = missing)."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for col in a.columns:
        x, y = a[col].to_numpy(dtype=object), b[col].to_numpy(dtype=object)
        for u, v in zip(x, y, strict=True):
            if pd.isna(u) or pd.isna(v):
                assert pd.isna(u), (col, u, v)
                assert pd.isna(v), (col, u, v)
            elif isinstance(u, float | int) and not isinstance(u, bool):
                assert float(v) == pytest.approx(float(u), rel=1e-12, abs=1e-12), (col, u, v)
            else:
                assert str(u) == str(v), (col, u, v)


def test_erp_csv_and_xlsx_reopen_with_the_same_rows_and_columns(tmp_path: Path) -> None:
    result = _result()
    paths = write_policy_outputs(result, tmp_path, None, "run-1", "cfg")
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [
            "policies.parquet",
            "erp_parameters.csv",
            "erp_parameters.xlsx",
            "order_rules.parquet",
            "stock_to_service.parquet",
            "policy_version.json",
        ]
    )
    erp = erp_parameters(result.policies)
    assert len(erp) == len(result.policies) == 5
    _same(erp, pd.read_csv(tmp_path / "erp_parameters.csv", keep_default_na=True))
    book = load_workbook(tmp_path / "erp_parameters.xlsx", read_only=True)
    try:
        rows = list(book.active.iter_rows(values_only=True))
    finally:
        book.close()
    _same(erp, pd.DataFrame(rows[1:], columns=list(rows[0])))
    # The parquet keeps full precision; the ERP files round to ERP_DECIMALS.
    back = pd.read_parquet(tmp_path / "policies.parquet")
    assert back["safety_stock"].to_numpy() == pytest.approx(
        result.policies["safety_stock"].to_numpy(), rel=0, abs=0
    )
    assert erp["safety_stock"].round(export.ERP_DECIMALS).equals(erp["safety_stock"])


def test_xlsx_continues_on_further_sheets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 2)
    write_policy_outputs(_result(), tmp_path, None, "run-1", "cfg")
    wb = load_workbook(tmp_path / "erp_parameters.xlsx", read_only=True)
    try:
        assert wb.sheetnames == ["erp_parameters", "erp_parameters_2", "erp_parameters_3"]
        sizes = [len(list(wb[s].iter_rows(values_only=True))) - 1 for s in wb.sheetnames]
    finally:
        wb.close()
    assert sizes == [2, 2, 1]


def test_xlsx_sheets_have_a_frozen_bold_header_a_filter_and_number_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 3)
    result = _result()
    write_policy_outputs(result, tmp_path, None, "run-1", "cfg")
    erp = erp_parameters(result.policies)
    last = get_column_letter(erp.shape[1])
    wb = load_workbook(tmp_path / "erp_parameters.xlsx")
    for ws, rows in zip(wb.worksheets, (3, 2), strict=True):
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{last}{rows + 1}"
        assert all(c.font.b for c in ws[1])
        shown = {
            (erp.columns[c.column - 1], c.number_format)
            for row in ws.iter_rows(min_row=2)
            for c in row
            if c.value is not None
        }
        floats = {c for c in erp.columns if pd.api.types.is_float_dtype(erp[c].dtype)}
        assert {fmt for col, fmt in shown if col in floats} == {"0.0000"}
        assert {fmt for col, fmt in shown if col not in floats} == {"General"}


def test_xlsx_keeps_formula_like_text_and_blanks_non_finite_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "product_id": ["=1+1", "http://x.example", None],
            "safety_stock": [np.inf, -np.inf, 2.5],
            "moq": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    export._write_xlsx(frame, tmp_path / "t.xlsx", "t")
    ws = load_workbook(tmp_path / "t.xlsx").active
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["product_id", "safety_stock", "moq"],
        ["=1+1", None, 1],
        ["http://x.example", None, None],
        [None, 2.5, 3],
    ]
    assert ws["A2"].data_type == "s"
    assert ws["A3"].hyperlink is None


def test_version_record_and_diff_against_the_previous_run(tmp_path: Path) -> None:
    first, second = tmp_path / "run-1", tmp_path / "run-2"
    first.mkdir()
    second.mkdir()
    old = _result()
    write_policy_outputs(old, first, None, "run-1", "cfg-a")
    assert not (first / "policy_diff.parquet").exists()
    record = json.loads((first / "policy_version.json").read_text())
    assert record["version_id"] == "pv-run-1"
    assert (record["source_run_id"], record["config_hash"]) == ("run-1", "cfg-a")
    assert record["previous_version_id"] is None
    assert record["items"] == 5

    # AX 0.98 -> 0.99 touches both P1 rows; nothing else changes.
    new = _result({"product": {"AX": {"service_target": 0.99}}})
    write_policy_outputs(new, second, first, "run-2", "cfg-b")
    diff = pd.read_parquet(second / "policy_diff.parquet")
    assert set(diff["product_id"]) == {"P1"}
    assert set(diff["location_id"]) == {"DC1", "DC2"}
    target = diff[(diff["parameter"] == "service_target") & (diff["location_id"] == "DC1")]
    assert (target["old"].iloc[0], target["new"].iloc[0]) == ("0.98", "0.99")
    # change_pct = 100 * (0.99 - 0.98) / 0.98 = 1.0204081632653...
    assert target["change_pct"].iloc[0] == pytest.approx(100 * 0.01 / 0.98, rel=1e-9)
    ss = diff[(diff["parameter"] == "safety_stock") & (diff["location_id"] == "DC2")].iloc[0]
    o = old.policies.query("product_id == 'P1' and location_id == 'DC2'")["safety_stock"]
    n = new.policies.query("product_id == 'P1' and location_id == 'DC2'")["safety_stock"]
    want = 100 * (float(n.iloc[0]) - float(o.iloc[0])) / float(o.iloc[0])
    assert ss["change_pct"] == pytest.approx(want, rel=1e-12)
    assert float(ss["old"]) == float(o.iloc[0])
    assert float(ss["new"]) == float(n.iloc[0])
    assert set(diff["parameter"]) == {
        "service_target",
        "safety_stock",
        "reorder_point",
        "expected_fill_rate",
        "inventory_value",
    }
    record = json.loads((second / "policy_version.json").read_text())
    assert record["previous_version_id"] == "pv-run-1"
    assert (record["changed_items"], record["diff_rows"]) == (2, len(diff))


def test_diff_of_identical_tables_is_empty_and_rows_added_or_removed_are_listed() -> None:
    a = _result().policies
    assert len(policy_diff(a, a.copy())) == 0
    b = _result(drop="P2").policies
    diff = policy_diff(a, b)
    assert diff.to_dict("records") == [
        {
            "product_id": "P2",
            "location_id": "DC1",
            "parameter": "row",
            "old": "present",
            "new": "absent",
            "change_pct": pytest.approx(math.nan, nan_ok=True),
        }
    ]
    assert policy_diff(b, a)[["parameter", "old", "new"]].values.tolist() == [
        ["row", "absent", "present"]
    ]


def test_diff_numbers_text_and_missing_values() -> None:
    old = pd.DataFrame(
        {
            "product_id": ["A", "B", "C"],
            "location_id": [None, None, None],
            "safety_stock": [10.0, 0.0, np.nan],
            "distribution": ["normal"] * 3,
            "reorder_point": [np.nan, 5.0, 7.0],
        }
    )
    new = old.copy()
    new["safety_stock"] = [12.5, 3.0, np.nan]  # +25 %, from 0 (no %), both missing (no change)
    new["distribution"] = ["normal", "gamma", "normal"]
    new["reorder_point"] = [1.0, 5.0 * (1 + 1e-12), 7.0]  # NaN -> 1 changes; 1e-12 does not
    diff = policy_diff(old, new).set_index(["product_id", "parameter"])
    assert diff.loc[("A", "safety_stock"), "change_pct"] == pytest.approx(25.0, rel=1e-12)
    assert math.isnan(diff.loc[("B", "safety_stock"), "change_pct"])
    assert (diff.loc[("B", "distribution"), "old"], diff.loc[("B", "distribution"), "new"]) == (
        "normal",
        "gamma",
    )
    assert pd.isna(diff.loc[("A", "reorder_point"), "old"])
    assert len(diff) == 4


def test_segment_rules_validate_as_the_services_segment_rules() -> None:
    rules = order_rules(
        PolicySettings(), ["protect", "fix cost-to-serve", "re-price or exit"], "cts_margin"
    )
    docs = segment_rules(rules)
    parsed = {k: SegmentRules.model_validate(v) for k, v in docs.items()}
    assert parsed["re-price or exit"].strictness.credit == "hard"
    assert parsed["protect"].strictness.credit == "soft"
    assert parsed["fix cost-to-serve"].allowed_channels == ["edi", "portal"]
    assert parsed["re-price or exit"].min_order_value == 500.0
    assert parsed["protect"].price_tolerance_pct == 5.0


def test_promising_rules_reach_the_services_segment_rules() -> None:
    settings = policy_settings(
        {
            "customer": {
                "protect": {"max_lateness_days": 3, "substitute_locations": True},
                "grow": {"partial_shipment": False, "min_fill": 0.8},
            }
        }
    )
    rules = order_rules(settings, ["protect", "grow", "re-price or exit"], "cts_margin")
    docs = {k: SegmentRules.model_validate(v) for k, v in segment_rules(rules).items()}
    assert docs["protect"].promising.model_dump() == {
        "partial_shipment": True,
        "min_fill": 0.0,
        "max_lateness_days": 3,
        "substitute_locations": True,
    }
    assert (docs["grow"].promising.partial_shipment, docs["grow"].promising.min_fill) == (
        False,
        0.8,
    )
    assert docs["re-price or exit"].promising == PromisingRules()  # the defaults


def test_order_rules_written_for_customer_segments(tmp_path: Path) -> None:
    write_policy_outputs(_result(), tmp_path, None, "run-1", "cfg")
    rules = pd.read_parquet(tmp_path / "order_rules.parquet")
    assert list(rules["segment"]) == ["protect", "re-price or exit"]
    assert list(rules["allocation_priority"]) == [1, 4]
    assert list(rules["allowed_channels"].iloc[1]) == ["edi", "portal"]


def test_version_id_uses_the_characters_the_service_accepts() -> None:
    record = policy_version(_result(), source_run_id="run 1/ä", config_hash="h")
    assert record["version_id"] == "pv-run-1--"


# --------------------------------------------------------------------------- ERP layout


def _policies() -> pd.DataFrame:
    """One item per planning method, with hand-checkable numbers (weekly buckets)."""
    return pd.DataFrame(
        {
            "product_id": ["A", "B", "C", "D", "E", "F"],
            "location_id": ["DC1", "DC1", None, "DC2", "DC1", "DC1"],
            "safety_stock": [10.2, 4.000000001, 7.0, 0.0, 0.0, 0.0],
            "reorder_point": [50.01, 20.0, np.nan, 0.0, 0.0, 0.0],
            "order_quantity": [100.0, 1.0, 30.0, np.nan, np.nan, np.nan],
            "order_up_to": [np.nan, 21.0, 64.3, np.nan, np.nan, np.nan],
            "lead_time": [2.0, 10 / 7, 1.5, 3.0, 1.0, 1.0],
            "lead_time_std": [0.5, 0.0, 0.0, 0.0, 0.0, 0.0],
            "review_period": [0.0, 0.0, 2.0, 0.0, 0.0, 0.0],
            "inventory_rule": [
                "rop_eoq",
                "base_stock",
                "order_up_to",
                "make_to_order",
                "rop_eoq",  # no net demand: the policy step gives it no lot size
                "no_stock",
            ],
            "bucket": "week",
        }
    )


def test_generic_layout_whole_units_days_and_planning_methods() -> None:
    erp = erp_parameters(_policies())
    assert list(erp["planning_method"]) == [
        "reorder_point",
        "min_max",
        "periodic_order_up_to",
        "make_to_order",
        "on_demand",
        "no_planning",
    ]
    assert list(erp.columns[erp.columns.get_loc("inventory_rule") + 1 :][:1]) == ["planning_method"]
    # Rounded up to whole units; float noise (4.000000001) does not add a unit.
    assert erp["safety_stock"].tolist()[:3] == [11, 4, 7]
    assert erp["reorder_point"].tolist()[:2] == [51, 20]
    assert erp["order_up_to"].tolist()[1:3] == [21, 65]
    assert erp["safety_stock"].dtype == "Int64"
    # No stock held: empty cells, not zeros that read like a policy.
    for col in ("safety_stock", "reorder_point", "order_quantity", "order_up_to"):
        assert erp[col].iloc[3:].isna().all(), col
    # Weeks to whole days (10/7 weeks = 10 days; 1.5 weeks = 10.5 days -> 11, halves up).
    assert erp["lead_time_days"].tolist() == [14, 10, 11, 21, 7, 7]
    assert erp["review_period_days"].tolist() == [0, 0, 14, 0, 0, 0]
    assert erp["lead_time_std_days"].tolist()[0] == 3.5
    assert "lead_time" not in erp.columns


def test_order_quantity_rounds_up_to_the_order_multiple_when_policies_carry_it() -> None:
    pol = _policies().assign(
        order_multiple=[12.0, 1.0, 0.5, np.nan, np.nan, np.nan],
        moq=[24.0, 0.0, np.nan, 5.0, np.nan, np.nan],
    )
    pol.loc[2, "order_quantity"] = 30.2
    erp = erp_parameters(pol)
    assert erp["order_quantity"].iloc[0] == 108.0  # 100 -> 9 x 12
    assert erp["order_quantity"].iloc[2] == 30.5  # a fractional multiple keeps fractions
    assert erp["order_quantity"].dtype == np.float64
    assert erp["order_multiple"].iloc[0] == 12.0
    sap = erp_parameters(pol, ErpSettings(format="sap"))
    assert sap["BSTRF"].tolist()[:3] == [12.0, 1.0, 0.5]
    assert sap["BSTMI"].iloc[0] == 24.0
    assert pd.isna(sap["BSTMI"].iloc[1])  # moq 0: no minimum lot
    assert sap["BSTFE"].iloc[0] == 108.0


def test_sap_layout_maps_rules_to_mrp_types_and_marc_fields() -> None:
    sap = erp_parameters(_policies(), ErpSettings(format="sap", plant="1000"))
    assert tuple(sap.columns) == SAP_COLUMNS
    assert list(sap["MATNR"]) == ["A", "B", "C", "D", "E", "F"]
    assert list(sap["WERKS"]) == ["DC1", "DC1", "1000", "DC2", "DC1", "DC1"]
    assert list(sap["DISMM"]) == ["VB", "VB", "R1", "PD", "PD", "ND"]
    assert sap["DISLS"].tolist()[:5] == ["FX", "HB", "EX", "EX", "EX"]
    assert pd.isna(sap["DISLS"].iloc[5])

    def cells(col: str) -> list[Any]:
        return [None if pd.isna(v) else v for v in sap[col]]

    assert cells("MINBE") == [51, 20, None, None, None, None]  # reorder point planning only
    assert cells("EISBE") == [11, 4, 7, None, None, None]
    assert cells("BSTFE") == [100, None, None, None, None, None]  # fixed lot (FX) only
    assert cells("MABST") == [None, 21, None, None, None, None]  # max stock (HB) only
    assert cells("PLIFZ") == [14, 10, 11, 21, 7, 7]
    assert cells("STRGR") == [None, None, None, "20", None, None]
    assert cells("review_period_days") == [None, None, 14, None, None, None]
    assert cells("BSTMI") == [None] * 6  # policies carry no moq / order_multiple here


def test_monthly_buckets_convert_to_days() -> None:
    pol = _policies().iloc[:1].assign(bucket="month", lead_time=0.5)
    assert erp_parameters(pol)["lead_time_days"].iloc[0] == 15  # 365.25 / 24 = 15.2
    assert erp_parameters(pol, ErpSettings(format="sap"))["PLIFZ"].iloc[0] == 15


def test_erp_errors_name_the_value() -> None:
    with pytest.raises(DataContractError, match="inventory_rule: value 'kanban'"):
        erp_parameters(_policies().assign(inventory_rule="kanban"))
    with pytest.raises(DataContractError, match="bucket"):
        erp_parameters(_policies().drop(columns="bucket"))


def test_sap_files_reopen_with_the_same_rows(tmp_path: Path) -> None:
    result = _result()
    write_policy_outputs(result, tmp_path, None, "run-1", "cfg", erp=ErpSettings(format="sap"))
    sap = erp_parameters(result.policies, ErpSettings(format="sap"))
    back = pd.read_csv(tmp_path / "erp_parameters.csv", dtype={"STRGR": str})
    _same(sap, back)
    text = (tmp_path / "erp_parameters.csv").read_text().splitlines()
    assert text[0] == ",".join(SAP_COLUMNS)
    assert ".0," not in text[1]  # whole units are written as integers
    book = load_workbook(tmp_path / "erp_parameters.xlsx", read_only=True)
    try:
        rows = list(book.active.iter_rows(values_only=True))
    finally:
        book.close()
    _same(sap, pd.DataFrame(rows[1:], columns=list(rows[0])))


def _supplied() -> pd.DataFrame:
    """The hand-checkable policies with the supplier columns the supplier step adds."""
    return _policies().assign(
        replenishment_program="standard",
        supplier_id=["S1", "S1", "S2", "S2", None, "S3"],
        supplier_segment=["strategic", "strategic", "bottleneck", "bottleneck", None, "leverage"],
        supplier_program=[
            "vmi_collaborative_forecast",
            "vmi_collaborative_forecast",
            "safety_stock_dual_source",
            "safety_stock_dual_source",
            None,
            "blanket_order_tender",
        ],
        lead_time_source=[
            "supplier_product",
            "supplier_product",
            "supplier",
            "supplier",
            "default",
            "product_column",
        ],
    )


def test_generic_layout_carries_the_supplier_and_its_program_after_the_product_program() -> None:
    erp = erp_parameters(_supplied())
    cols = list(erp.columns)
    at = cols.index("replenishment_program")
    assert cols[at + 1 : at + 1 + len(SUPPLIER_COLUMNS)] == list(SUPPLIER_COLUMNS)
    assert erp["supplier_program"].tolist()[:3] == [
        "vmi_collaborative_forecast",
        "vmi_collaborative_forecast",
        "safety_stock_dual_source",
    ]
    # A product without a current supplier stays empty, never a made-up program.
    assert pd.isna(erp["supplier_id"].iloc[4])
    assert pd.isna(erp["supplier_program"].iloc[4])
    # Without purchase history nothing is added.
    assert not set(SUPPLIER_COLUMNS) & set(erp_parameters(_policies()).columns)


def test_sap_layout_adds_the_vendor_and_custom_supplier_columns_only_with_a_supplier() -> None:
    sap = erp_parameters(_supplied(), ErpSettings(format="sap", plant="1000"))
    assert tuple(sap.columns) == (*SAP_COLUMNS, *SAP_SUPPLIER_COLUMNS)
    assert sap["LIFNR"].tolist()[:4] == ["S1", "S1", "S2", "S2"]
    assert pd.isna(sap["LIFNR"].iloc[4])
    assert sap["ZZ_SUPPLIER_SEGMENT"].iloc[5] == "leverage"
    assert sap["ZZ_SUPPLIER_PROGRAM"].iloc[2] == "safety_stock_dual_source"
    assert tuple(erp_parameters(_policies(), ErpSettings(format="sap")).columns) == SAP_COLUMNS


def test_files_and_diff_carry_the_supplier_program(tmp_path: Path) -> None:
    result = _result()
    old = result.policies.assign(supplier_id="S1", supplier_program="catalogue_min_max")
    new = old.assign(supplier_program="vmi_collaborative_forecast")
    diff = policy_diff(old, new)
    assert set(diff["parameter"]) == {"supplier_program"}
    assert set(diff["new"]) == {"vmi_collaborative_forecast"}
    result.policies = new
    write_policy_outputs(result, tmp_path, None, "run-1", "cfg")
    back = pd.read_csv(tmp_path / "erp_parameters.csv")
    assert set(back["supplier_program"]) == {"vmi_collaborative_forecast"}
    assert set(back["supplier_id"]) == {"S1"}
