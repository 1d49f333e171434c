"""Tests for supplyseg.policy.curves: stock-to-service curves rise with the target, and the
many-item spline path agrees with the gamma kernel."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.config.policy import policy_settings
from supplyseg.errors import PolicyError
from supplyseg.policy.assign import policy_outputs
from supplyseg.policy.curves import STOCK_TO_SERVICE_COLUMNS, stock_to_service
from supplyseg.policy.inventory import gamma_reorder_point


def _policies(items: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Policies of items ``(mean, cv, pattern, service type of A, segment, lead time days,
    unit cost)``; segment B has fill-rate targets, weekly buckets."""
    ids = [f"P{i}" for i in range(len(items))]
    segments = pd.DataFrame(
        {"product_id": ids, "scheme": "custom", "segment": [it[4] for it in items]}
    )
    demand = pd.DataFrame(
        {
            "product_id": ids,
            "mean": [it[0] for it in items],
            "std": [it[0] * it[1] for it in items],
            "pattern": [it[2] for it in items],
        }
    )
    products = pd.DataFrame(
        {
            "product_id": ids,
            "lead_time_days": [it[5] for it in items],
            "unit_cost": [it[6] for it in items],
        }
    )
    raw = {
        "builtin_defaults": False,
        "product": {"A": {"service_type": items[0][3]}, "B": {"service_type": "fill_rate"}},
    }
    s = policy_settings(raw)
    return policy_outputs(segments, demand, products, s, bucket="week").policies


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.05, 200.0),  # mean
            st.floats(0.0, 3.0),  # cv
            st.sampled_from(["smooth", "erratic", "intermittent", "lumpy"]),
            st.sampled_from(["cycle", "fill_rate"]),
            st.sampled_from(["A", "B"]),
            st.floats(0.0, 60.0),  # lead time days
            st.floats(0.5, 50.0),  # unit cost
        ),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.floats(0.5, 0.9999), min_size=2, max_size=8, unique=True),
)
def test_stock_to_service_is_monotone_in_the_target(
    items: list[tuple[Any, ...]], targets: list[float]
) -> None:
    curves = stock_to_service(_policies(items), sorted(targets))
    for _, part in curves.groupby("segment"):
        value = part["inventory_value"].to_numpy()
        ss_value = part["safety_stock_value"].to_numpy()
        assert np.all(np.diff(value) >= -1e-9 * (1 + np.abs(value[:-1])))
        assert np.all(np.diff(ss_value) >= -1e-9 * (1 + np.abs(ss_value[:-1])))
        assert np.all(ss_value >= 0)


def test_stock_to_service_for_many_gamma_items_matches_the_kernel() -> None:
    # Above 4,000 gamma items the curves use a spline of the gamma quantile (the kernel per
    # item costs ~1 us per value); it must agree with gamma_reorder_point to 1e-8.
    rng = np.random.default_rng(7)
    n = 6000
    d = rng.gamma(0.8, 5.0, n)
    pol = pd.DataFrame(
        {
            "product_segment": rng.choice(["A", "B"], n),
            "service_type": "cycle",
            "distribution": "gamma",
            "demand_mean": d,
            "demand_std": d * rng.uniform(0.05, 40.0, n),  # shapes from ~1e-3 to ~1e3
            "lead_time": rng.uniform(0.1, 8.0, n),
            "lead_time_std": rng.uniform(0.0, 2.0, n),
            "review_period": 0.0,
            "order_quantity": rng.uniform(1.0, 50.0, n),
            "unit_cost": rng.uniform(1.0, 20.0, n),
        }
    )
    targets = [0.5, 0.8, 0.95, 0.999]
    got = stock_to_service(pol, targets)
    p, c = pol["lead_time"].to_numpy(), pol["unit_cost"].to_numpy()
    for t in targets:
        rop = gamma_reorder_point(
            d, pol["demand_std"].to_numpy(), p, pol["lead_time_std"].to_numpy(), t
        )
        ss = np.maximum(np.asarray(rop) - d * p, 0.0) * c
        for seg in ("A", "B"):
            want = ss[pol["product_segment"].to_numpy() == seg].sum()
            row = got[(got["segment"] == seg) & (got["service_target"] == t)]
            assert float(row["safety_stock_value"].iloc[0]) == pytest.approx(want, rel=1e-8)


def test_targets_outside_the_open_unit_interval_are_refused() -> None:
    pol = _policies([(10.0, 0.5, "smooth", "cycle", "A", 7.0, 2.0)])
    assert list(stock_to_service(pol, [0.9]).columns) == list(STOCK_TO_SERVICE_COLUMNS)
    for bad in ([], [0.9, 1.0], [0.0], [[0.9]]):
        with pytest.raises(PolicyError, match="targets: value"):
            stock_to_service(pol, bad)  # type: ignore[arg-type]
