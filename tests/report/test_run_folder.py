"""Reading a run folder and explaining absent tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supplyseg.errors import DataContractError
from supplyseg.report.run_folder import read_run_folder


def _folder(tmp_path: Path, notes: list[str]) -> Path:
    (tmp_path / "manifest.json").write_text(json.dumps({"run_id": "r1", "notes": notes}))
    return tmp_path


def test_reason_comes_from_the_step_note_without_its_prefix(tmp_path: Path) -> None:
    run = read_run_folder(
        _folder(
            tmp_path,
            [
                "cost_to_serve: freight estimated from rates",
                "cost_to_serve: skipped, no unit_cost column",
                "demand_product_location skipped: order_lines has no location_id column",
            ],
        )
    )
    assert run.reason_absent("cost_to_serve_customer") == "no unit_cost column"
    assert run.reason_absent("cts_breakdown") == "no unit_cost column"
    assert run.reason_absent("demand_product_location") == ("order_lines has no location_id column")
    assert run.reason_absent("policies") == "the table was not produced by this run"
    assert run.reason_absent("segment_migration") == "there is no earlier run to compare with"


def test_an_input_table_note_does_not_explain_a_similar_named_output(tmp_path: Path) -> None:
    run = read_run_folder(
        _folder(tmp_path, ["customers: not provided; steps that need it are skipped"])
    )
    assert run.reason_absent("customer_metrics") == "the table was not produced by this run"


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match=r"has no manifest\.json"):
        read_run_folder(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DataContractError, match="not valid JSON"):
        read_run_folder(tmp_path)


def test_unreadable_table_names_the_file(tmp_path: Path) -> None:
    run = read_run_folder(_folder(tmp_path, []))
    (tmp_path / "policies.parquet").write_bytes(b"not parquet")
    assert run.table_names() == ["policies"]
    with pytest.raises(DataContractError, match=r"policies\.parquet cannot be read"):
        run.table("policies")
    assert run.table("demand_product") is None


def test_the_loader_note_on_an_absent_input_reads_as_a_reason(tmp_path: Path) -> None:
    run = read_run_folder(
        _folder(tmp_path, ["inventory: not provided; steps that need it are skipped"])
    )
    assert run.reason_absent("policies") == "no inventory table was provided"
