"""Palette, sampling and curve thinning."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from supplyseg.report.style import (
    MAX_CURVE_POINTS,
    PATTERN_COLOURS,
    SEGMENT_COLOURS,
    Palette,
    curve_index,
    sampled,
)


def test_labels_shown_together_get_distinct_colours_and_keep_them_everywhere() -> None:
    customer = ["gold", "silver", "bronze"]
    product = [f"P{i}" for i in range(12)] + ["gold"]
    palette = Palette.build([customer, product])
    assert len({palette.segment(s) for s in customer}) == 3
    assert len({palette.segment(s) for s in product}) == 13
    # "gold" got its colour in the first group and keeps it in the second.
    assert palette.segment("gold") == Palette.build([customer]).segment("gold")


def test_meaningful_labels_have_fixed_colours() -> None:
    palette = Palette.build([["lumpy", "protect", "re-price or exit", "x"]])
    assert palette.segment("lumpy") == PATTERN_COLOURS["lumpy"]
    assert palette.segment("protect") != palette.segment("re-price or exit")
    assert palette.segment("x") not in {palette.segment("protect"), palette.segment("lumpy")}


def test_more_labels_than_colours_repeat_instead_of_failing() -> None:
    labels = [f"s{i:02d}" for i in range(len(SEGMENT_COLOURS) + 3)]
    palette = Palette.build([labels])
    assert all(palette.segment(s) in SEGMENT_COLOURS for s in labels)


@given(st.integers(0, 3000), st.integers(1, 500))
def test_sampled_is_capped_deterministic_and_keeps_order(n: int, limit: int) -> None:
    frame = pd.DataFrame({"v": range(n)})
    a, b = sampled(frame, limit), sampled(frame, limit)
    assert len(a) == min(n, limit)
    assert a.equals(b)
    assert a["v"].is_monotonic_increasing


@given(st.integers(1, 50_000), st.lists(st.integers(0, 50_000), max_size=5))
def test_curve_index_keeps_the_ends_and_asked_points(n: int, keep: list[int]) -> None:
    idx = curve_index(n, keep)
    assert idx[0] == 0
    assert idx[-1] == n - 1
    assert len(idx) <= max(n, 0)
    assert len(idx) <= MAX_CURVE_POINTS + len(keep)
    if n > MAX_CURVE_POINTS:
        assert {k for k in keep if k < n} <= set(idx.tolist())
