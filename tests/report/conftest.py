"""Fixtures: a small fake run folder with every output table, and the report written from it.

The tests run with ``--import-mode=importlib``; this folder goes on sys.path so the test modules
can import the helpers next to them (synthetic_run, html_parts).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_run import write_synthetic_run

from supplyseg.report import ReportResult, write_report


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A fresh fake run folder (150 customers, 60 products) for tests that change it."""
    return write_synthetic_run(tmp_path / "out" / "20250102T030405-abcd")


@pytest.fixture(scope="module")
def full_report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    """The report of a complete fake run, written once per test module."""
    path = tmp_path_factory.mktemp("run") / "20250102T030405-full"
    return write_report(write_synthetic_run(path))


@pytest.fixture(scope="module")
def book(full_report: ReportResult) -> Workbook:
    """The full report's workbook, reopened once per module."""
    return load_workbook(full_report.workbook)
