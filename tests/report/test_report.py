"""write_report: both files land in the run folder; the page stays small for 100k customers."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_run import write_synthetic_run

from supplyseg.errors import DataContractError
from supplyseg.report import read_run_folder, write_html, write_report

MAX_BYTES = 10 * 1024 * 1024


def test_write_report_writes_the_page_and_the_workbook_into_the_run_folder(
    run_dir: Path,
) -> None:
    result = write_report(run_dir)
    assert result.html == run_dir / "report.html"
    assert result.workbook == run_dir / "workbook.xlsx"
    assert result.html.stat().st_size > 1_000_000  # plotly.js is in it
    assert result.workbook.read_bytes()[:2] == b"PK"  # an xlsx is a zip
    assert {s.table for s in result.sheets} == {p.stem for p in run_dir.glob("*.parquet")}


def test_a_folder_without_a_manifest_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match=r"run_dir: .* has no manifest\.json"):
        write_report(tmp_path)


def test_report_for_100k_customers_stays_under_10_mb(tmp_path: Path) -> None:
    path = write_synthetic_run(
        tmp_path / "big", n_customers=100_000, n_products=5_000, omit={"demand_customer_product"}
    )
    html = write_html(read_run_folder(path), path / "report.html")
    size = html.stat().st_size
    assert size <= MAX_BYTES, f"report.html is {size / 1e6:.1f} MB"
    text = html.read_text(encoding="utf-8")
    assert "random sample of 20,000 of 100,000 customers" in text
