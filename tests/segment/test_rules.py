"""The rule engine: first match wins, boundaries, one segment per entity, explanations, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.config.segmentation import RuleScheme
from supplyseg.errors import ConfigError
from supplyseg.segment.rules import apply_rules, unreachable_rules


def scheme(rules: list[dict[str, Any]], default: str = "other") -> RuleScheme:
    return RuleScheme.model_validate({"entity": "customer", "rules": rules, "default": default})


GRID = scheme(
    [
        {"segment": "protect", "when": {"cts": {"lt": 15}, "margin": {"gte": 10}}},
        {"segment": "fix", "when": {"cts": {"gte": 15}, "margin": {"gte": 10}}},
        {"segment": "reprice", "when": {"margin": {"lt": 10}}},
    ]
)


def metrics(**cols: list[Any]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], **cols})


def test_boundaries_gte_vs_gt() -> None:
    m = metrics(cts=[14.999, 15.0, 15.0, 3.0], margin=[10.0, 10.0, 9.999, np.nan])
    out = apply_rules(m, GRID, ids=["customer_id"], name="grid")
    assert out["segment"].tolist() == ["protect", "fix", "reprice", "other"]
    assert out["rule"].tolist() == ["protect", "fix", "reprice", "default"]
    assert out["explanation"][0] == "cts 14.999 < 15; margin 10 ≥ 10"
    assert out["explanation"][1] == "cts 15 ≥ 15; margin 10 ≥ 10"
    assert out["explanation"][2] == "margin 9.999 < 10"
    assert out["explanation"][3].startswith("no rule matched (first rule 'protect'")
    assert "margin is missing" in out["explanation"][3]


def test_first_match_wins_over_later_overlap() -> None:
    s = scheme(
        [
            {"segment": "big", "when": {"revenue": {"gte": 100}}},
            {"segment": "loyal", "when": {"orders": {"gte": 10}}},
        ]
    )
    m = metrics(revenue=[150, 50, 150], orders=[20, 20, 1])
    assert apply_rules(m, s, ids=["customer_id"], name="s")["segment"].tolist() == [
        "big",
        "loyal",
        "big",
    ]


def test_any_combination_explains_only_the_met_conditions() -> None:
    s = scheme(
        [{"segment": "urgent", "combine": "any", "when": {"rush": {"gte": 0.5}, "lead": {"lt": 2}}}]
    )
    out = apply_rules(metrics(rush=[0.6, 0.1], lead=[5, 1]), s, ids=["customer_id"], name="s")
    assert out["segment"].tolist() == ["urgent", "urgent"]
    assert out["explanation"].tolist() == ["rush 0.6 ≥ 0.5", "lead 1 < 2"]


def test_in_and_eq_on_text_metrics() -> None:
    s = scheme(
        [
            {"segment": "edi", "when": {"channel": {"eq": "EDI"}}},
            {"segment": "online", "when": {"channel": {"in": ["web", "portal"]}}},
        ]
    )
    out = apply_rules(metrics(channel=["EDI", "web", "phone"]), s, ids=["customer_id"], name="s")
    assert out["segment"].tolist() == ["edi", "online", "other"]
    assert out["explanation"][1] == "channel = web ∈ {web, portal}"


def test_unknown_metric_names_the_rule() -> None:
    with pytest.raises(
        ConfigError, match=r"x\.rules\.0 \(segment .protect.\): unknown metric\(s\) \[.margin.\]"
    ):
        apply_rules(metrics(cts=[1.0]), GRID, ids=["customer_id"], name="g", path="x")


@pytest.mark.parametrize(
    ("rules", "pair"),
    [
        (
            [
                {"segment": "a", "when": {"m": {"gte": 5}}},
                {"segment": "b", "when": {"m": {"gte": 10}, "n": {"lt": 3}}},
            ],
            (0, 1),
        ),
        ([{"segment": "a", "when": {}}, {"segment": "b", "when": {"m": {"gt": 1}}}], (0, 1)),
        (
            [
                {"segment": "a", "when": {"c": {"in": ["x", "y"]}}},
                {"segment": "b", "when": {"c": {"eq": "x"}}},
            ],
            (0, 1),
        ),
        (
            [
                {"segment": "a", "combine": "any", "when": {"m": {"gt": 1}, "n": {"gt": 1}}},
                {"segment": "b", "when": {"n": {"gt": 2}}},
            ],
            (0, 1),
        ),
    ],
)
def test_unreachable_rules_are_found(rules: list[dict[str, Any]], pair: tuple[int, int]) -> None:
    s = scheme(rules)
    assert unreachable_rules(s) == [pair]
    m = metrics(m=[1.0], n=[1.0], c=["x"])
    with pytest.raises(ConfigError, match=rf"rules\.{pair[1]} .* is unreachable"):
        apply_rules(m, s, ids=["customer_id"], name="s")


@pytest.mark.parametrize(
    "rules",
    [
        [
            {"segment": "a", "when": {"m": {"gt": 5}}},
            {"segment": "b", "when": {"m": {"gte": 5}}},
        ],
        [
            {"segment": "a", "when": {"m": {"gte": 5}, "n": {"lt": 1}}},
            {"segment": "b", "when": {"m": {"gte": 10}}},
        ],
        [
            {"segment": "a", "when": {"c": {"eq": "x"}}},
            {"segment": "b", "when": {"c": {"in": ["x", "y"]}}},
        ],
    ],
)
def test_reachable_rules_pass(rules: list[dict[str, Any]]) -> None:
    assert unreachable_rules(scheme(rules)) == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"entity": "customer", "rules": [{"segment": "a"}]}, "default"),
        ({"entity": "customer", "default": "o", "rules": []}, "at least 1"),
        (
            {"entity": "customer", "default": "o", "rules": [{"segment": "a", "when": {"m": {}}}]},
            "needs one of",
        ),
        (
            {
                "entity": "customer",
                "default": "o",
                "rules": [{"segment": "a", "when": {"m": {"gte": 5, "lt": 2}}}],
            },
            "range is empty",
        ),
        (
            {
                "entity": "customer",
                "default": "o",
                "rules": [{"segment": "a", "when": {"m": {"gte": 5, "eq": 2}}}],
            },
            "either a range",
        ),
        (
            {
                "entity": "customer",
                "default": "o",
                "rules": [{"segment": "a", "when": {"m": {"expr": "x > 1"}}}],
            },
            "Extra inputs are not permitted",
        ),
    ],
)
def test_bad_rule_tables_are_rejected(body: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        RuleScheme.model_validate(body)


values = st.one_of(st.floats(min_value=-50, max_value=50, allow_nan=False), st.just(float("nan")))


@settings(max_examples=60, deadline=None)
@given(
    cts=st.lists(values, min_size=0, max_size=40),
    seed=st.integers(0, 1000),
)
def test_every_entity_gets_exactly_one_segment_and_it_is_deterministic(
    cts: list[float], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    m = (
        metrics(cts=cts, margin=list(rng.normal(8, 6, len(cts))))
        if cts
        else pd.DataFrame({"customer_id": pd.Series(dtype=str), "cts": [], "margin": []})
    )
    out = apply_rules(m, GRID, ids=["customer_id"], name="g")
    assert len(out) == len(m)
    assert out["customer_id"].tolist() == m["customer_id"].tolist()
    assert set(out["segment"]) <= {"protect", "fix", "reprice", "other"}
    # An independent first-match oracle, row by row.
    for (_, row), seg in zip(m.iterrows(), out["segment"], strict=True):
        c, g = row["cts"], row["margin"]
        expected = (
            "protect"
            if c < 15 and g >= 10
            else "fix"
            if c >= 15 and g >= 10
            else "reprice"
            if g < 10
            else "other"
        )
        assert seg == expected
    again = apply_rules(m, GRID, ids=["customer_id"], name="g")
    pd.testing.assert_frame_equal(out, again)
