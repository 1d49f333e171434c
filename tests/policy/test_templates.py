"""Tests for supplyseg.policy.templates: resolved templates and order rules, primary segment
rows, and the customer x product matrix cells chosen per product (hand-worked cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from supplyseg.config.policy import PolicySettings, policy_settings
from supplyseg.errors import DataContractError
from supplyseg.policy.templates import (
    matrix_templates,
    order_rules,
    primary_segments,
    product_templates,
    scheme_of,
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
