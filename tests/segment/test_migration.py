"""Segment migration between two runs with a known injected change."""

from __future__ import annotations

import pandas as pd

from supplyseg.segment.migration import GONE, NEW, segment_migration, segment_movers


def test_injected_moves_are_found() -> None:
    before = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d"], "segment": ["protect", "grow", "grow", "exit"]}
    )
    after = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "e"],
            "segment": ["protect", "protect", "grow", "grow"],
            "revenue": [100.0, 50.0, 20.0, 5.0],
        }
    )
    matrix = segment_migration(before, after)
    cells = {(r["from"], r["to"]): (r["entities"], r["revenue"]) for _, r in matrix.iterrows()}
    assert cells == {
        ("protect", "protect"): (1, 100.0),
        ("grow", "protect"): (1, 50.0),
        ("grow", "grow"): (1, 20.0),
        ("exit", GONE): (1, 0.0),
        (NEW, "grow"): (1, 5.0),
    }
    assert matrix["entities"].sum() == 5
    movers = segment_movers(before, after)
    assert movers["customer_id"].tolist() == ["b", "e", "d"]
