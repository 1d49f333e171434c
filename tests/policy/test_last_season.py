"""Last season's same periods, scaled: checked against a plain loop over each series."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from supplyseg.errors import ConfigError
from supplyseg.policy.last_season import last_season_path, season_concentration

M = 8  # a short season keeps the hand cases readable (quarter-season window: 2 periods)


def _oracle(y: list[float], m: int, horizon: int, overlap: int) -> tuple[list[float], float]:
    """The path and ratio by the definition, one period at a time."""
    t = len(y) - 1
    k = min(overlap, len(y) - m)
    ratio = sum(y[t - k + 1 :]) / sum(y[t - k + 1 - m : t - m + 1])
    return [y[t + h - m - ((h - 1) // m) * m] * ratio for h in range(1, horizon + 1)], ratio


def test_a_concentrated_season_follows_last_season_scaled() -> None:
    # One season (8 periods) + 2: the peak is periods 5-6 of the season, and this year the
    # item sells twice as much in the two periods both years share.
    y = [1, 2, 0, 0, 0, 9, 12, 1, 2, 4]
    path, ratio = _oracle(y, M, 10, overlap=4)
    got = last_season_path(
        np.array([y], dtype=float), M, 10, candidates=np.array([True]), overlap=4
    )
    assert ratio == pytest.approx(2.0)  # (2 + 4) / (1 + 2)
    assert got.used.tolist() == [True]
    assert got.ratio[0] == pytest.approx(ratio)
    np.testing.assert_allclose(got.path[0], path)
    assert got.path[0, :3].tolist() == [0.0, 0.0, 0.0]  # last season's quiet periods
    assert got.path[0, 3] == pytest.approx(18.0)  # 9 x 2
    assert got.concentration[0] == pytest.approx(21 / 28)  # 9 + 12 of the last 8 periods


def test_flat_single_order_and_unknown_base_keep_the_model() -> None:
    y = np.array(
        [
            [5, 5, 5, 5, 5, 5, 5, 5, 5, 5],  # flat: 2 of 8 periods hold 25 %
            [0, 0, 0, 0, 0, 40, 0, 0, 1, 1],  # one large order: the window is half empty
            [0, 0, 0, 0, 9, 12, 1, 0, 3, 4],  # nothing in the base periods: no ratio
            [np.nan, np.nan, 0, 1, 0, 9, 12, 1, 2, 4],  # less than one season + overlap
        ]
    )
    got = last_season_path(y, M, 4, candidates=np.ones(4, dtype=bool))
    assert got.used.tolist() == [False, False, False, False]
    assert np.isnan(got.path).all()
    assert np.isnan(got.ratio[2])


def test_only_candidates_are_replaced() -> None:
    y = np.array([[1, 2, 0, 0, 0, 9, 12, 1, 2, 4]] * 2, dtype=float)
    got = last_season_path(y, M, 3, candidates=np.array([False, True]))
    assert got.used.tolist() == [False, True]


def test_a_season_of_only_returns_or_nothing_is_unknown() -> None:
    y = np.array([[0, 0, 0, 0, 0, 0, 0, -5, 0, 0], [0.0] * 10])
    share, busy = season_concentration(y, M)
    assert np.isnan(share).all()  # nothing sold: unknown, not seasonal
    assert np.isnan(busy).all()
    share, busy = season_concentration(np.array([[0, 0, 0, 0, 0, 0, 5, -2, 1, 0]], float), M)
    assert share[0] == pytest.approx(5 / 6)  # the return counts as no sale, not against one
    assert busy[0] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"min_share": 0.0}, "min_share"), ({"overlap": 0}, "overlap")],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        last_season_path(np.zeros((1, 10)), M, 4, candidates=np.ones(1, bool), **kwargs)  # type: ignore[arg-type]


@given(arrays(np.float64, (5, 20), elements=st.floats(0, 1000)), st.integers(1, 30))
def test_a_season_of_path_is_the_ratio_times_last_season(y: np.ndarray, horizon: int) -> None:
    got = last_season_path(y, M, max(horizon, M), candidates=np.ones(5, bool), min_share=0.01)
    assert (np.nan_to_num(got.path) >= 0).all()
    for i in np.flatnonzero(got.used):
        season_total = y[i, -M:].sum()
        expected = got.ratio[i] * season_total
        assert got.path[i, :M].sum() == pytest.approx(expected, rel=1e-9, abs=1e-300)
        # the profile repeats every season
        np.testing.assert_allclose(
            got.path[i, M : 2 * M][: got.path.shape[1] - M],
            got.path[i, : got.path.shape[1] - M][:M],
        )
