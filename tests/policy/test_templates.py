"""Tests for supplyseg.policy.templates: resolved templates and order rules, primary segment
rows, and the customer x product matrix cells chosen per product (hand-worked cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from supplyseg.config.customer import DEFAULT_RFM_SEGMENTS, RfmSettings
from supplyseg.config.policy import PolicySettings, policy_settings
from supplyseg.config.segmentation import CtsMarginSettings
from supplyseg.errors import DataContractError
from supplyseg.policy.templates import (
    BASE_RULES_SOURCE,
    matrix_templates,
    order_rules,
    primary_segments,
    product_templates,
    scheme_of,
)
from supplyseg.segment.schemes import (
    BUILT_IN,
    behavioural_scheme,
    cts_margin_scheme,
    rfm_scheme,
)


def test_order_rules_and_templates_tables() -> None:
    s = PolicySettings()
    rules = order_rules(s, ["protect", "re-price or exit"], "cts_margin")
    assert list(rules["min_order_value"]) == [0.0, 500.0]
    assert list(rules["allowed_channels"][1]) == ["edi", "portal"]
    tpl = product_templates(s, ["CZ"], "abc_xyz")
    assert tpl.loc[0, "inventory_rule"] == "make_to_order"


def test_primary_segments_keep_primary_rows_and_refuse_two() -> None:
    seg = pd.DataFrame(
        {
            "product_id": ["P1", "P1", "P2"],
            "scheme": ["abc_xyz", "pattern", "abc_xyz"],
            "segment": ["AX", "smooth", "CZ"],
            "primary": [True, False, True],
        }
    )
    rows = primary_segments(seg, ["product_id"], "products_seg")
    assert rows.to_dict("list") == {
        "product_id": ["P1", "P2"],
        "scheme": ["abc_xyz", "abc_xyz"],
        "segment": ["AX", "CZ"],
    }
    assert scheme_of(rows) == "abc_xyz"
    assert scheme_of(primary_segments(None, ["product_id"], "products_seg")) is None
    with pytest.raises(DataContractError, match=r"products_seg: \{'product_id': 'P1'\} has two"):
        primary_segments(seg.assign(primary=True), ["product_id"], "products_seg")


def test_matrix_cells_from_micro_segments_pick_the_strictest_candidate() -> None:
    # AX's built-in target is 98 %. Cells: protect x AX 99.5 %, grow x AX 90 %, tie x AX 98 %;
    # customer segment "other" has no cell, so it brings the AX template itself.
    settings = policy_settings(
        {
            "matrix": {
                "protect": {"AX": {"service_target": 0.995}},
                "grow": {"AX": {"service_target": 0.9}},
                "tie": {"AX": {"service_target": 0.98}},
            }
        }
    )
    templates = product_templates(settings, ["AX", "CZ"], "abc_xyz")
    seg_rows = pd.DataFrame({"product_id": ["P1", "P2", "P3"], "segment": ["AX", "AX", "CZ"]})
    no_customer_segments = primary_segments(None, ["customer_id"], "customers_seg")
    pairs = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C2", "C3", "C4"],
            "product_id": ["P1", "P1", "P2", "P2", "P2"],
            "segment": ["protect × AX", "grow × AX", "grow × AX", "other × AX", "tie × AX"],
        }
    )
    items = pa.array(["P1", "P2", "P3", "P1"])
    everything, code, customer_segment = matrix_templates(
        settings, templates, seg_rows, no_customer_segments, pairs, items, np.array([0, 0, 1, 0])
    )
    assert list(everything["source"][2:]) == [
        "policies.matrix.protect.AX",
        "policies.matrix.grow.AX",
        "policies.matrix.tie.AX",
    ]
    assert list(everything["service_target"][2:]) == [0.995, 0.9, 0.98]
    assert (everything["review_period"][2:] == templates["review_period"][0]).all()
    # P1: protect's 99.5 % beats grow's 90 %. P2: 90 % < 98 % (AX) = 98 % (tie cell): the tie
    # goes to the product template. P3 is bought by nobody: its own template stays.
    assert list(code) == [2, 0, 1, 2]
    assert customer_segment.tolist()[0] == "protect"
    assert customer_segment.isna().tolist() == [False, True, True, False]
    with pytest.raises(DataContractError, match="no customer segments for the matrix cells"):
        matrix_templates(
            settings,
            templates,
            seg_rows,
            no_customer_segments,
            pairs.drop(columns="segment"),
            items,
            np.zeros(4, dtype=np.int64),
        )


def _builtin_customer_segments() -> list[tuple[str, str]]:
    """(scheme, segment) of every built-in customer scheme: its rules' segments and default."""
    schemes = {
        "cts_margin": [
            cts_margin_scheme(),
            cts_margin_scheme(
                CtsMarginSettings(cts_pct_cutoffs=(10.0, 20.0), margin_pct_cutoffs=(5.0, 15.0))
            ),
        ],
        "behavioural": [behavioural_scheme()],
        "rfm": [
            rfm_scheme(pd.Series([r.name for r in DEFAULT_RFM_SEGMENTS])),
            rfm_scheme(pd.Series([], dtype=object)),
        ],
    }
    assert set(schemes) == {k for k, v in BUILT_IN.items() if v == "customer"}
    out = {(name, RfmSettings().default_segment) for name in ("rfm",)}
    for name, variants in schemes.items():
        for scheme in variants:
            out |= {(name, rule.segment) for rule in scheme.rules}
            out.add((name, scheme.default))
    return sorted(out)


@pytest.mark.parametrize(("scheme", "segment"), _builtin_customer_segments())
def test_every_builtin_customer_segment_has_builtin_order_rules(scheme: str, segment: str) -> None:
    rules = order_rules(PolicySettings(), [segment], scheme)
    assert rules.loc[0, "source"] == f"built-in {scheme} rules"


def test_rfm_rules_protect_the_best_and_gate_the_lost() -> None:
    rules = order_rules(PolicySettings(), ["Champions", "Lost"], "rfm").set_index("segment")
    assert rules.loc["Champions", "allocation_priority"] < rules.loc["Lost", "allocation_priority"]
    assert (rules.loc["Champions", "credit_check"], rules.loc["Lost", "credit_check"]) == (
        "soft",
        "hard",
    )
    # A segment of a custom scheme without rules gets the base rules, and says so.
    other = order_rules(PolicySettings(), ["my segment"], "custom")
    assert other.loc[0, "source"] == BASE_RULES_SOURCE
