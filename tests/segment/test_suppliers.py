"""Kraljic supplier segments: the synthetic company's designed segments and lead times are
recovered; rules are configurable; every supplier is explained."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from supplyseg.analytics.lead_times import lead_times
from supplyseg.analytics.supplier import supplier_metrics
from supplyseg.config.segmentation import Condition, SegmentRule
from supplyseg.config.supplier import SupplierSettings
from supplyseg.data.synth import SUPPLIER_SEGMENTS, synth_company
from supplyseg.errors import ConfigError
from supplyseg.segment.suppliers import spend_classes, supplier_segments


@pytest.fixture(scope="module")
def recovered() -> pd.DataFrame:
    c = synth_company(customers=40, products=400, lines=3000, suppliers=40, seed=2)
    assert c.purchase_orders is not None
    assert c.truth_suppliers is not None
    metrics = supplier_metrics(ibis.memtable(c.purchase_orders), c.suppliers)
    segments = supplier_segments(metrics, SupplierSettings())
    return segments.merge(c.truth_suppliers, on="supplier_id", suffixes=("", "_truth"))


def test_designed_segments_are_recovered(recovered: pd.DataFrame) -> None:
    hit = recovered["segment"] == recovered["segment_truth"]
    shares = hit.groupby(recovered["segment_truth"]).mean()
    print(
        "recovered share by designed segment:", shares.round(3).to_dict(), f"all {hit.mean():.3f}"
    )
    assert set(recovered["segment_truth"]) == set(SUPPLIER_SEGMENTS)
    assert hit.mean() >= 0.9
    # Supply risk is designed far apart: every supplier's risk side is recovered.
    high_risk = recovered["risk_score"] >= 2
    assert (high_risk == (recovered["supply_risk"] == "high")).all()


def test_designed_lead_times_are_recovered(recovered: pd.DataFrame) -> None:
    rel_mean = recovered["lead_time_mean_days"] / recovered["lead_time_mean_days_truth"] - 1
    rel_std = recovered["lead_time_std_days"] / recovered["lead_time_std_days_truth"] - 1
    # Gamma draws rounded to whole days; 19+ receipts per supplier.
    assert rel_mean.abs().max() < 0.15
    assert rel_mean.abs().median() < 0.05
    assert rel_std.abs().median() < 0.15
    assert (recovered["otif"] - recovered["otif_truth"]).abs().median() < 0.05


def test_every_supplier_is_explained_and_gets_its_program(recovered: pd.DataFrame) -> None:
    assert recovered["explanation"].str.contains("spend class").all()
    assert recovered["explanation"].str.contains("risk factors").all()
    strategic = recovered[recovered["segment"] == "strategic"].iloc[0]
    assert strategic["explanation"].startswith("spend_class = A; risk_score")
    assert "lead-time CV" in strategic["explanation"]
    programs = dict(zip(recovered["segment"], recovered["program"], strict=True))
    assert programs == {
        "strategic": "vmi_collaborative_forecast",
        "leverage": "blanket_order_tender",
        "bottleneck": "safety_stock_dual_source",
        "non_critical": "catalogue_min_max",
    }


def test_rules_and_thresholds_are_configurable(recovered: pd.DataFrame) -> None:
    metrics = recovered[[c for c in recovered.columns if not c.endswith("_truth")]]
    metrics = metrics.drop(columns=["segment", "rule", "explanation", "program"])
    risk = {"lead_time_cv": 10, "long_lead_time_days": 999, "long_modes": [], "otif_below": 0.01}
    strict = SupplierSettings.model_validate({"risk": {**risk, "single_source_share": 1.0}})
    # Only the single-source factor can count now, so no supplier scores 2.
    got = supplier_segments(metrics, strict)
    assert set(got["segment"]) <= {"leverage", "non_critical"}
    own = SupplierSettings(
        rules=[SegmentRule(segment="watch", when={"otif": Condition(lt=0.9)})],
        default_segment="fine",
    )
    got = supplier_segments(metrics, own)
    assert ((got["segment"] == "watch") == (got["otif"] < 0.9)).all()
    assert (got.loc[got["segment"] == "fine", "program"] == "standard").all()
    bad = SupplierSettings(rules=[SegmentRule(segment="x", when={"nope": Condition(gt=1)})])
    with pytest.raises(ConfigError, match=r"supplier\.rules"):
        supplier_segments(metrics, bad)


def test_spend_classes_by_cumulative_share() -> None:
    share, cls = spend_classes(np.array([50.0, 30.0, 12.0, 5.0, 3.0, np.nan]), (0.8, 0.95))
    # Before each: 0, 50, 80, 92, 97 (% of 100): A A B B C; unknown spend is C.
    assert cls.tolist() == ["A", "A", "B", "B", "C", "C"]
    assert share[:5].tolist() == [0.5, 0.3, 0.12, 0.05, 0.03]


def test_lead_time_table_recovers_pairs_of_busy_suppliers() -> None:
    c = synth_company(customers=20, products=40, lines=1000, suppliers=8, po_lines=8000, seed=4)
    assert c.purchase_orders is not None
    assert c.truth_suppliers is not None
    got = lead_times(ibis.memtable(c.purchase_orders), by_location=False, min_receipts=30)
    own = got[got["source"] == "supplier_product"].merge(c.truth_suppliers, on="supplier_id")
    assert len(own) > 10
    rel = own["mean_days"] / own["lead_time_mean_days"] - 1
    assert rel.abs().median() < 0.06
