"""The report's allocation section (`supplyseg.report.allocation`), on hand-made plan tables
written into a fake run folder and checked against a hand computation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from supplyseg.report.blocks import Note, Section, Table
from supplyseg.report.run_folder import read_run_folder
from supplyseg.report.sections import report_sections

SHARES = pd.DataFrame(
    {
        "product_segment": ["A", "A", "A"],
        "customer_segment": ["key", "mid", "tail"],
        "priority": [1, 2, 3],
        "share": [0.5, 0.3, 0.2],
        "share_source": ["demand", "demand", "demand"],
        "strategy": ["gain", "redistribute", "redistribute"],
        "fill_target": [0.95, np.nan, np.nan],
    }
)
PRODUCTS = pd.DataFrame({"product_id": ["P1", "P2", "P3"], "product_segment": ["A"] * 3})
SUPPLY = pd.DataFrame(
    {
        "product_id": ["P1", "P1", "P2", "P3"],
        "location_id": ["DC1"] * 4,
        "date": [
            dt.date(2026, 1, 1),
            dt.date(2026, 1, 8),
            dt.date(2026, 1, 1),
            dt.date(2026, 1, 1),
        ],
        "quantity": [60.0, 40.0, 10.0, 50.0],
        "kind": ["on_hand", "receipt", "on_hand", "on_hand"],
    }
)
KEPT = pd.DataFrame(
    {  # P1: 30 of its 100 kept; P2: 25 wanted of 10 (all of it); P3 has no target row
        "product_id": ["P1", "P2"],
        "customer_segment": ["key", "key"],
        "priority": [1, 1],
        "fill_target": [0.95, 0.95],
        "horizon_start": [dt.date(2026, 1, 1)] * 2,
        "horizon_end": [dt.date(2026, 1, 29)] * 2,
        "horizon_days": [28.0, 28.0],
        "demand_share": [0.5, 0.8],
        "expected_demand": [25.0, 20.0],
        "demand_std": [5.0, 4.0],
        "protected_quantity": [30.0, 25.0],
    }
)


def _section(run_dir: Path, tables: dict[str, pd.DataFrame]) -> Section:
    for name, frame in tables.items():
        frame.to_parquet(run_dir / f"{name}.parquet", index=False)
    sections = report_sections(read_run_folder(run_dir))
    return next(s for s in sections if s.key == "allocation")


def test_kept_supply_per_segment_and_the_most_protected_products(run_dir: Path) -> None:
    tables = {"allocation_shares": SHARES, "allocation_products": PRODUCTS, "supply": SUPPLY}
    sec = _section(run_dir, {**tables, "allocation_protection": KEPT})
    segments, products = (b for b in sec.blocks if isinstance(b, Table))
    rows = {r[0]: r for r in segments.rows}
    # key: min(30, 100) + min(25, 10) + P3's share 0.5 x 50 = 65 of 160
    assert rows["key"][2:] == ["fill target 95 %", "gain", "3", "65", "40.6 %"]
    # mid keeps its share of every product: 0.3 x 160 = 48
    assert rows["mid"][2:] == ["share of demand 30 %", "redistribute", "3", "48", "30.0 %"]
    # the lowest level keeps nothing of its own
    assert rows["tail"][2:] == ["what the others leave", "redistribute", "0", "0", "0.0 %"]
    # P2 first: 25 wanted of 10 reads "all of it"
    assert [r[0] for r in products.rows] == ["P2", "P1"]
    assert products.rows[0][-1] == "100.0 %"
    assert products.rows[1][-1] == "30.0 %"
    kpi = sec.kpis[0]
    # (30 + 10) of the 110 units of the two protected products; all of it on one
    assert kpi.value == (30 + 10) / 110
    assert "all of it on 1 product" in kpi.detail


def test_without_protection_or_plan_the_section_says_why(run_dir: Path) -> None:
    no_target = SHARES.assign(fill_target=np.nan)
    sec = _section(
        run_dir, {"allocation_shares": no_target, "allocation_products": PRODUCTS, "supply": SUPPLY}
    )
    notes = [b for b in sec.blocks if isinstance(b, Note)]
    assert "no segment has a fill target" in notes[0].text
    assert not sec.kpis
    (run_dir / "allocation_shares.parquet").unlink()
    # without a plan the section is left out, as suppliers' is without purchase orders
    assert all(s.key != "allocation" for s in report_sections(read_run_folder(run_dir)))
