"""Scenarios screen: the comparison `supplyseg scenario compare` wrote, as a table and SVG
charts, or what to do when there is none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from supplyseg.scenario.compare import ALL, compare_scenarios
from supplyseg.scenario.page import metric_text, write_comparison

Browser = Callable[[str], Any]


def test_without_a_workspace_or_a_comparison(
    service: Any, workbench: Any, workspace: Path, browser: Browser
) -> None:
    page = browser("operator").get("/ui/scenarios").text
    assert "No scenario comparison in" in page
    assert "supplyseg scenario compare" in page
    assert browser("s1_only").get("/ui/scenarios").status_code == 403


def test_the_comparison_as_table_and_charts(
    workbench: Any, workspace: Path, browser: Browser
) -> None:
    (workspace / "scenarios").mkdir()
    (workspace / "scenarios" / "less_demand.yaml").write_text(
        "scenario: {demand_change_pct: {all: -20}}\n", encoding="utf-8"
    )
    frame = compare_scenarios(workspace, "base", ["less_demand"])
    write_comparison(frame, workspace / "out" / "scenario_comparison")
    answer = browser("operator").get("/ui/scenarios")
    assert answer.status_code == 200
    page = answer.text
    assert "<script" not in page
    assert "Base: <strong>base</strong>; compared: less_demand" in page
    whole = frame[(frame["segment"] == ALL) & (frame["metric"] == "safety_stock_value")]
    row = whole.set_index("scenario").loc["less_demand"]
    assert f"{metric_text('safety_stock_value', row['value'])} ({row['delta_pct']:+.1f} %)" in page
    charted = frame[frame["segment"] != ALL]["metric"].nunique()
    assert page.count("<svg") == charted
    bars = frame[(frame["segment"] != ALL) & frame["value"].notna()]
    assert page.count("<rect x=") - 2 * charted == len(bars)  # two legend swatches per chart
    assert f"Every value of the comparison ({len(frame)} rows)" in page


def test_a_foreign_table_is_not_shown(workbench: Any, workspace: Path, browser: Browser) -> None:
    folder = workspace / "out" / "scenario_comparison"
    folder.mkdir()
    pd.DataFrame({"x": [1]}).to_parquet(folder / "scenario_comparison.parquet")
    page = browser("operator").get("/ui/scenarios").text
    assert "is not a scenario comparison table" in page
