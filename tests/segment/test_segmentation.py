"""The orchestrator: schemes per entity, primary flag, micro-segments, summary and warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supplyseg.config.segmentation import SegmentationSettings
from supplyseg.errors import ConfigError
from supplyseg.segment.segmentation import customer_feature_table, segment_summary, segmentation

CTS = pd.DataFrame(
    {
        "customer_id": ["a", "b", "c", "d"],
        "revenue": [1000.0, 500.0, 200.0, 100.0],
        "gross_margin": [300.0, 100.0, 40.0, 10.0],
        "cts_total": [50.0, 150.0, 10.0, 40.0],
        "cts_pct_revenue": [5.0, 30.0, 5.0, 40.0],
        "net_margin_pct": [25.0, -10.0, 15.0, -30.0],
    }
)
KPIS = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "otif": [1.0, 0.5, 0.9, 0.8]})
PRODUCTS = pd.DataFrame(
    {
        "product_id": ["p", "q", "r"],
        "revenue": [900.0, 600.0, 300.0],
        "abc_class": ["A", "A", "B"],
        "xyz_class": ["X", "Z", "X"],
        "pattern": ["smooth", "lumpy", "smooth"],
    }
)
PAIRS = pd.DataFrame({"customer_id": ["a", "b", "d"], "product_id": ["p", "q", "r"]})


def test_primary_schemes_summary_and_micro_segments() -> None:
    settings = SegmentationSettings(extra_schemes=["demand_pattern", "behavioural"])
    customers = customer_feature_table(cost_to_serve=CTS, kpis=KPIS)
    result = segmentation(settings, customers=customers, products=PRODUCTS, pairs=PAIRS)
    cust = result.customer.set_index("customer_id")
    assert cust["segment"].to_dict() == {
        "a": "protect",
        "b": "re-price or exit",
        "c": "protect",
        "d": "re-price or exit",
    }
    assert cust["primary"].all()
    prod = result.product[result.product["primary"]].set_index("product_id")["segment"]
    assert prod.to_dict() == {"p": "AX", "q": "AZ", "r": "BX"}
    assert set(result.product["scheme"]) == {"abc_xyz", "demand_pattern"}
    assert result.customer_product["segment"].tolist() == [
        "protect × AX",
        "re-price or exit × AZ",
        "re-price or exit × BX",
    ]
    assert any("behavioural: skipped" in n for n in result.notes)
    s = result.summary.set_index(["entity", "scheme", "segment"])
    protect = s.loc[("customer", "cts_margin", "protect")]
    assert protect["entities"] == 2
    assert protect["revenue_share"] == pytest.approx(1200 / 1800)
    assert protect["cts_pct"] == pytest.approx(100 * 60 / 1200)
    assert protect["otif"] == pytest.approx(0.95)
    assert s.loc[("product", "abc_xyz", "AX"), "pattern_mix"] == "smooth 100%"
    # Every scheme's shares add up to one.
    assert (
        result.summary.groupby(["entity", "scheme"])["share_entities"].sum().tolist()
        == [pytest.approx(1.0)] * 3
    )


def test_warnings_for_tiny_segments_and_too_many_segments() -> None:
    settings = SegmentationSettings(min_segment_share=0.3, max_segments=2, extra_schemes=[])
    result = segmentation(settings, products=PRODUCTS)
    assert result.warnings == ["product scheme abc_xyz: 3 segments; practice finds 2-5 workable"]
    settings = SegmentationSettings(min_segment_share=0.4, extra_schemes=[])
    result = segmentation(settings, products=PRODUCTS)
    assert len(result.warnings) == 3
    assert "product scheme abc_xyz: segment 'AX' holds 33.3% of entities (< 40%)" in result.warnings


def test_unknown_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown scheme 'nope'"):
        segmentation(SegmentationSettings(customer_scheme="nope"), customers=CTS)


def test_custom_scheme_is_used_as_primary() -> None:
    settings = SegmentationSettings.model_validate(
        {
            "customer_scheme": "size",
            "extra_schemes": [],
            "custom": {
                "size": {
                    "entity": "customer",
                    "rules": [{"segment": "key", "when": {"revenue": {"gte": 500}}}],
                    "default": "tail",
                }
            },
        }
    )
    result = segmentation(settings, customers=CTS)
    primary = result.customer[result.customer["primary"]]
    assert primary["segment"].tolist() == ["key", "key", "tail", "tail"]
    assert primary["explanation"].tolist()[0] == "revenue 1000 ≥ 500"


def test_customer_scheme_falls_back_with_a_warning_when_margins_are_unknown() -> None:
    # No unit costs: net margins are unknown, so cts_margin cannot run; behavioural metrics can.
    no_margin = CTS.assign(net_margin_pct=float("nan"), gross_margin=float("nan"))
    behaviour = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d"], "orders_per_year": [52.0, 12.0, 2.0, 1.0]}
    )
    customers = customer_feature_table(behaviour, cost_to_serve=no_margin, kpis=KPIS)
    settings = SegmentationSettings(extra_schemes=[])
    result = segmentation(settings, customers=customers, products=PRODUCTS)
    assert set(result.customer["scheme"]) == {"behavioural"}
    assert result.customer["primary"].all()
    assert result.schemes["customer"] == {
        "requested": "cts_margin",
        "used": "behavioural",
        "fallback": True,
        "reason": "no unit costs: net margins are unknown",
    }
    assert result.schemes["product"]["fallback"] is False
    assert any("'cts_margin' could not run" in w and "'behavioural'" in w for w in result.warnings)


def test_no_fallback_leaves_no_customer_segments_and_says_so() -> None:
    customers = customer_feature_table(cost_to_serve=CTS.assign(net_margin_pct=float("nan")))
    settings = SegmentationSettings(extra_schemes=[], customer_fallback=[])
    result = segmentation(settings, customers=customers, products=PRODUCTS)
    assert result.customer.empty
    assert result.schemes["customer"]["used"] is None
    assert any("no customer segments for policies" in w for w in result.warnings)
    with pytest.raises(ConfigError, match="customer_fallback: 'abc_xyz' is not a built-in"):
        segmentation(
            SegmentationSettings(extra_schemes=[], customer_fallback=["abc_xyz"]),
            customers=customers,
        )


def test_summary_pools_otif_over_due_lines_and_keeps_unknown_margins() -> None:
    segments = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "scheme": "s",
            "segment": ["x", "x", "y"],
            "primary": True,
        }
    )
    metrics = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "revenue": [100.0, 50.0, 10.0],
            "gross_margin": [float("nan")] * 3,  # no unit costs
            "otif": [1.0, 0.0, float("nan")],
            "lines_otif": [9, 0, 0],
            "lines_due": [9, 1, 0],
        }
    )
    out = segment_summary(segments, metrics, "customer").set_index("segment")
    # Nine of ten due lines OTIF in x (a mean of customer percentages would say 50 %).
    assert out.loc["x", "otif"] == pytest.approx(0.9)
    assert np.isnan(out.loc["y", "otif"])  # nothing due: unknown
    assert out["gross_margin"].isna().all()
    assert out["margin_pct"].isna().all()
    assert out.loc["x", "revenue_share"] == pytest.approx(150 / 160)


def test_overridden_segments_are_what_the_summary_and_cells_count() -> None:
    def planner(table: pd.DataFrame, entity: str) -> pd.DataFrame:
        # The planner moves customer d into "protect" (as supplyseg.policy.adjust does).
        if entity != "customer":
            return table
        hit = table["primary"] & (table["customer_id"] == "d")
        return table.assign(segment=table["segment"].where(~hit, "protect"))

    customers = customer_feature_table(cost_to_serve=CTS, kpis=KPIS)
    result = segmentation(
        SegmentationSettings(),
        customers=customers,
        products=PRODUCTS,
        pairs=PAIRS,
        overridden=planner,
    )
    assert result.customer.set_index("customer_id").loc["d", "segment"] == "protect"
    s = result.summary.set_index(["entity", "scheme", "segment"])
    protect = s.loc[("customer", "cts_margin", "protect")]
    assert protect["entities"] == 3
    assert protect["revenue"] == pytest.approx(1000 + 200 + 100)
    assert s.loc[("customer", "cts_margin", "re-price or exit"), "entities"] == 1
    assert result.customer_product["segment"].tolist()[-1] == "protect × BX"


def test_micro_segments_match_a_row_by_row_join_with_missing_entities_and_texts() -> None:
    """The categorical micro-segments equal the plain merge they replace (an independent
    computation): unknown customers/products read "unsegmented", missing explanations "-"."""
    from supplyseg.segment.segmentation import _micro_segments

    customer = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "segment": ["gold", "x", "gold", None],
            "explanation": ["why a", "other", None, "why c"],
            "primary": [True, False, True, True],
        }
    )
    product = pd.DataFrame(
        {
            "product_id": ["p", "q"],
            "segment": ["AX", "BZ"],
            "explanation": ["abc A", "abc B"],
            "primary": [True, True],
        }
    )
    pairs = pd.DataFrame(
        {
            "customer_id": pd.array(["a", "b", "c", "d", "a", "b"], dtype="string[pyarrow]"),
            "product_id": pd.array(["p", "q", "p", "q", "r", "p"], dtype="string[pyarrow]"),
        }
    )
    got = _micro_segments(pairs, customer, product)
    c = customer[customer["primary"]].set_index("customer_id")
    p = product[product["primary"]].set_index("product_id")
    want_segment, want_why = [], []
    for cid, pid in zip(pairs["customer_id"], pairs["product_id"], strict=True):
        cs = c["segment"].get(cid)
        ps = p["segment"].get(pid)
        want_segment.append(f"{cs or 'unsegmented'} × {ps or 'unsegmented'}")
        cw, pw = c["explanation"].get(cid), p["explanation"].get(pid)
        want_why.append(f"customer: {cw or '-'} | product: {pw or '-'}")
    assert got["segment"].astype(str).tolist() == want_segment
    assert got["explanation"].astype(str).tolist() == want_why
    assert got["customer_id"].tolist() == pairs["customer_id"].tolist()
    assert set(got["scheme"]) == {"customer x product"}
    assert set(got["rule"]) == {"matrix"}
    assert got["primary"].all()
    assert len(got) == len(pairs)
