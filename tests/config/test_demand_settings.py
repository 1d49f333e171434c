"""The ``demand:`` settings section: defaults, labels, weights and the validation messages."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from supplyseg.config.demand import DemandSettings


def test_defaults_are_the_documented_ones() -> None:
    s = DemandSettings()
    assert s.abc_measures == ("revenue",)
    assert s.abc_cutoffs == (0.8, 0.95)
    assert s.abc_class_labels == ("A", "B", "C")
    assert s.xyz_cutoffs == (0.5, 1.0)
    assert s.xyz_class_labels == ("X", "Y", "Z")
    assert (s.adi_threshold, s.cv2_threshold) == (1.32, 0.49)
    assert s.grains == ("product", "product_location", "customer", "customer_product")


def test_default_labels_grow_with_the_cutoffs() -> None:
    s = DemandSettings(abc_cutoffs=(0.5, 0.8, 0.95), xyz_cutoffs=(0.25, 0.5, 1.0))
    assert s.abc_class_labels == ("A", "B", "C", "D")
    assert s.xyz_class_labels == ("W", "X", "Y", "Z")


def test_weights_are_normalised_and_default_to_equal() -> None:
    s = DemandSettings(abc_measures=("revenue", "margin"), abc_rule="weighted")
    assert s.abc_weight_values == (0.5, 0.5)
    s = DemandSettings(
        abc_measures=("revenue", "margin"), abc_rule="weighted", abc_weights=(3.0, 1.0)
    )
    assert s.abc_weight_values == (0.75, 0.25)


def test_yaml_lists_become_tuples_and_the_model_is_frozen() -> None:
    s = DemandSettings.model_validate({"abc_measures": ["quantity"], "abc_cutoffs": [0.7, 0.9]})
    assert s.abc_measures == ("quantity",)
    with pytest.raises(ValidationError):
        s.abc_rule = "best"  # type: ignore[misc]
    assert hash(s) == hash(DemandSettings.model_validate(s.model_dump()))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"abc_cutoffs": [0.95, 0.8]}, r"\.abc_cutoffs: \[0\.95, 0\.8\] must be strictly"),
        ({"abc_cutoffs": [0.0, 0.8]}, r"in \(0, 1\]"),
        ({"abc_cutoffs": []}, "at least 1"),
        ({"xyz_cutoffs": [1.0, 1.0]}, r"\.xyz_cutoffs: .* > 0"),
        ({"abc_labels": ["A", "B"]}, r"\.abc_labels: .* give 3"),
        ({"abc_labels": ["A", "A", "C"]}, "distinct"),
        ({"xyz_labels": ["X", "", "Z"]}, "non-empty"),
        ({"abc_measures": ["revenue", "revenue"]}, "repeated measure"),
        ({"abc_measures": ["volume"]}, "'revenue', 'margin', 'quantity' or 'order_lines'"),
        ({"abc_weights": [1.0]}, "weights apply to abc_rule weighted only"),
        (
            {"abc_rule": "weighted", "abc_measures": ["revenue", "quantity"], "abc_weights": [1]},
            "1 values for 2 abc_measures",
        ),
        (
            {
                "abc_rule": "weighted",
                "abc_measures": ["revenue", "quantity"],
                "abc_weights": [0, 0],
            },
            "positive sum",
        ),
        ({"adi_threshold": 0.9}, "greater than or equal to 1"),
        ({"cv2_threshold": 0}, "greater than 0"),
        ({"grains": ["store"]}, "'product', 'product_location', 'customer' or 'customer_product'"),
        ({"grains": ["product", "product"]}, "repeated grain"),
        ({"abc_cutof": [0.8]}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_settings_say_what_is_allowed(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DemandSettings.model_validate(fields)
