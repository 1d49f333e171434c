"""Server-drawn SVG bar charts: bars proportional to their values around the zero line, ticks
covering every value, unknown values listed instead of drawn."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supplyseg.service.ui.charts import _ticks, grouped_bars


def _frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=["scenario", "segment", "value"])


def test_bars_are_proportional_and_unknown_is_not_drawn() -> None:
    frame = _frame([("base", "A", 100.0), ("base", "B", 50.0), ("low", "A", -25.0),
                    ("low", "B", float("nan"))])  # fmt: skip
    chart = grouped_bars(frame, "Net profit", ["base", "low"], lambda v: f"{v:,.0f}")
    assert [b.title for b in chart.bars] == ["base · A: 100", "low · A: -25", "base · B: 50"]
    a, neg, b = chart.bars
    assert a.height == pytest.approx(2 * b.height, abs=0.2)
    assert a.height == pytest.approx(4 * neg.height, abs=0.2)
    assert a.y + a.height == pytest.approx(chart.zero_y, abs=0.1)  # above the zero line
    assert neg.y == pytest.approx(chart.zero_y, abs=0.1)  # below it
    assert chart.unknown == ["low · B"]
    assert [t for _, t in chart.legend] == ["#0072B2", "#D55E00"]
    assert [label for _, label in chart.x_labels] == ["A", "B"]


def test_a_chart_of_unknowns_only_has_no_bars() -> None:
    frame = _frame([("base", "A", float("nan"))])
    chart = grouped_bars(frame, "Fill rate", ["base"], str)
    assert chart.bars == []
    assert chart.unknown == ["base · A"]


@given(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=20))
def test_ticks_cover_every_value_and_zero(values: list[float]) -> None:
    low, high = min([0.0, *values]), max([0.0, *values])
    ticks = _ticks(low, high)
    assert ticks[0] <= low
    assert ticks[-1] >= high or high == low
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) <= 1 or max(steps) - min(steps) <= 1e-6 * max(abs(high), abs(low), 1)
