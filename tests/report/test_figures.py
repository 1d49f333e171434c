"""Figure builders against plain pandas/numpy oracles and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic_run import demand_profile

from supplyseg.report import figures as fg
from supplyseg.report.style import MAX_CURVE_POINTS, MAX_POINTS, Palette


def _points(fig: object) -> int:
    return sum(len(t.x) for t in fig.data)  # type: ignore[attr-defined]


def _notes(fig: object) -> str:
    return " ".join(a.text for a in fig.layout.annotations)  # type: ignore[attr-defined]


def _cts(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "revenue": rng.uniform(10, 1000, n),
            "cts_pct_revenue": rng.gamma(2.0, 8.0, n),
            "net_margin_pct": rng.normal(10, 15, n),
            "net_profit": rng.normal(50, 80, n),
        }
    )


def test_a_big_scatter_is_sampled_and_says_so() -> None:
    cts = _cts(MAX_POINTS + 5_000)
    fig = fg.cts_margin_scatter(cts, None, Palette.build([]))
    assert _points(fig) == MAX_POINTS
    assert f"random sample of {MAX_POINTS:,} of {len(cts):,} customers" in _notes(fig)


def test_a_small_scatter_shows_every_point_and_no_sample_note() -> None:
    cts = _cts(500)
    segment = pd.Series(np.where(cts["net_profit"] > 0, "keep", "fix"), index=cts["customer_id"])
    fig = fg.cts_margin_scatter(cts, segment, Palette.build([["keep", "fix"]]), "scheme")
    assert _points(fig) == 500
    assert "sample" not in _notes(fig)
    assert {t.name for t in fig.data} == {"keep", "fix"}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=300))
def test_whale_curve_is_the_sorted_cumulative_profit(profits: list[float]) -> None:
    fig = fg.whale_curve(pd.DataFrame({"net_profit": profits}))
    y = np.asarray(fig.data[0].y, dtype="float64")[1:]  # after the (0, 0) start
    cum = np.cumsum(np.sort(profits)[::-1])
    total = cum[-1]
    expected = cum / total * 100 if total > 0 else cum
    np.testing.assert_allclose(y, expected, rtol=1e-9, atol=1e-6)


def test_whale_curve_of_many_customers_is_thinned_but_keeps_the_peak() -> None:
    profits = np.r_[np.linspace(100, 1, 40_000), -np.linspace(1, 30, 10_000)]
    fig = fg.whale_curve(pd.DataFrame({"net_profit": profits}))
    y = np.asarray(fig.data[0].y, dtype="float64")
    assert len(y) <= MAX_CURVE_POINTS + 2
    cum = np.cumsum(np.sort(profits)[::-1])
    assert y.max() == pytest.approx(cum.max() / cum[-1] * 100)
    assert y[-1] == pytest.approx(100.0)


def test_pareto_legend_gives_each_class_share_of_items_and_measure() -> None:
    d = demand_profile(np.random.default_rng(3), {"product_id": np.arange(400).astype(str)})
    fig = fg.pareto_curve(d, Palette.build([], ["A", "B", "C"]))
    for trace in fig.data:
        label = trace.name.split(":")[0]
        part = d[d["abc_class"] == label]
        items, measure = len(part) / len(d) * 100, part["share"].sum() * 100
        assert trace.name == (f"{label}: {items:.0f} % of products, {measure:.0f} % of the measure")
    assert fig.data[-1].y[-1] == pytest.approx(100.0)


def test_abc_xyz_cells_match_a_crosstab() -> None:
    d = demand_profile(np.random.default_rng(5), {"product_id": np.arange(300).astype(str)})
    fig = fg.abc_xyz_heatmap(d)
    counts = pd.crosstab(d["abc_class"], d["xyz_class"]).reindex(
        index=fig.data[0].y, columns=fig.data[0].x, fill_value=0
    )
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), counts.to_numpy())
    assert np.nansum(np.asarray(fig.data[1].z, dtype="float64")) == pytest.approx(100.0)


def test_demand_pattern_map_has_the_syntetos_boylan_lines_on_log_axes() -> None:
    d = pd.DataFrame(
        {
            "product_id": ["p1", "p2", "p3", "p4"],
            "adi": [1.0, 2.0, np.nan, 1.1],
            "cv2": [0.0, 0.9, np.nan, 0.2],
            "pattern": ["smooth", "lumpy", "insufficient_history", "smooth"],
        }
    )
    fig = fg.demand_pattern_map(d, Palette.build([]), "product_id")
    assert fig.layout.xaxis.type == fig.layout.yaxis.type == "log"
    lines = {(s.x0, s.y0) for s in fig.layout.shapes}
    assert any(x == 1.32 for x, _ in lines)
    assert any(y == 0.49 for _, y in lines)
    shown = {p: list(t.y) for t in fig.data for p in [t.name]}
    assert set(shown) == {"smooth", "lumpy"}  # insufficient history has no ADI/CV²
    assert shown["smooth"] == [0.001, 0.2]  # CV² = 0 drawn on the log floor


def test_waterfall_labels_each_step_and_ends_on_net_profit() -> None:
    # Hand-computed: 1000 - 600 = 400 gross margin; - 100 - 50 = 250 net profit.
    row = pd.Series(
        {"customer_id": "C1", "revenue": 1000.0, "cogs": 600.0, "orders": 100.0,
         "freight": 50.0, "rush": 0.0}
    )  # fmt: skip
    fig = fg.profit_waterfall(row, ["orders", "freight", "rush"])
    w = fig.data[0]
    assert list(w.x) == ["Revenue", "COGS", "Gross margin", "orders", "freight", "Net profit"]
    assert list(w.text) == ["1,000", "-600", "400", "-100", "-50", "250"]


def test_clv_histogram_counts_every_customer_once() -> None:
    values = pd.Series(np.r_[np.random.default_rng(1).lognormal(5, 1, 999), 1e9, np.nan])
    fig = fg.clv_distribution(values)
    assert sum(fig.data[0].y) == 1000  # the outlier lands in the last bar, NaN is left out
    assert fig.data[0].y[-1] >= 1


def test_category_labels_that_look_like_numbers_stay_categories() -> None:
    sizes = pd.DataFrame({"segment": ["1", "2"], "entity_share": [60.0, 40.0]})
    fig = fg.segment_size_revenue(sizes, Palette.build([["1", "2"]]), "customers")
    assert fig.layout.xaxis.type == "category"


def test_cost_by_pool_sums_each_pool_and_gives_its_share_of_revenue() -> None:
    cts = pd.DataFrame({"revenue": [600.0, 400.0, -50.0], "orders": [10.0, 20.0, 0.0],
                        "freight": [5.0, 0.0, 0.0]})  # fmt: skip
    fig = fg.cost_by_pool(cts, ["orders", "freight"])
    bars = dict(zip(fig.data[0].y, fig.data[0].x, strict=True))
    assert bars == {"orders": 30.0, "freight": 5.0}
    # Hand-computed: 30 of 1000 positive revenue = 3.0 %; largest pool drawn at the top.
    assert list(fig.data[0].text) == ["5 (0.5 % of revenue)", "30 (3.0 % of revenue)"]


def test_a_pool_of_unknown_cost_gets_no_bar_and_a_note_instead_of_zero() -> None:
    cts = pd.DataFrame(
        {"revenue": [100.0, 300.0], "orders": [10.0, 30.0], "freight": [np.nan, np.nan]}
    )
    fig = fg.cost_by_pool(cts, ["orders", "freight"])
    assert list(fig.data[0].y) == ["orders"]
    assert list(fig.data[0].x) == [40.0]
    assert "Cost unknown for every customer, not drawn: freight." in _notes(fig)
