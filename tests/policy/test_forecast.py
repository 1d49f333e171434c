"""Tests for supplyseg.policy.forecast: method mapping, hand-computed backtests, Croston/TSB
against plain-numpy oracles, a loop oracle with hypothesis, and a sanity check on synthetic
intermittent demand."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from weekly import WEEKS, assign, long

from supplyseg.errors import ConfigError, DataContractError
from supplyseg.policy.forecast import (
    DEFAULT_METHODS,
    METHODS,
    PATTERNS,
    demand_forecast,
    forecast_methods,
    forecast_outputs,
)

# --------------------------------------------------------------------------- method mapping


def test_patterns_are_the_demand_patterns() -> None:
    from supplyseg.analytics.demand import PATTERNS as ANALYTICS_PATTERNS

    assert PATTERNS == ANALYTICS_PATTERNS
    assert set(DEFAULT_METHODS) == set(PATTERNS)
    assert set(DEFAULT_METHODS.values()) <= set(METHODS)


def test_default_methods_by_pattern_from_series_and_frame() -> None:
    pats = pd.Series(list(PATTERNS), index=[f"i{k}" for k in range(5)])
    out = forecast_methods(pats)
    assert list(out.columns) == ["unique_id", "pattern", "method"]
    assert dict(zip(out["pattern"], out["method"], strict=True)) == {
        "smooth": "AutoETS",
        "erratic": "AutoETS",
        "intermittent": "TSB",
        "lumpy": "IMAPA",
        "insufficient_history": "HistoricAverage",
    }
    frame = pd.DataFrame({"product_id": ["a", "b"], "pattern": ["lumpy", "smooth"]})
    out = forecast_methods(frame, id_col="product_id")
    assert out.to_dict("list") == {
        "unique_id": ["a", "b"],
        "pattern": ["lumpy", "smooth"],
        "method": ["IMAPA", "AutoETS"],
    }


def test_overrides_replace_only_their_pattern() -> None:
    pats = pd.Series(["intermittent", "lumpy", "smooth"], index=["a", "b", "c"])
    out = forecast_methods(pats, {"intermittent": "CrostonSBA", "lumpy": "ADIDA"})
    assert list(out["method"]) == ["CrostonSBA", "ADIDA", "AutoETS"]


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        (
            {"lumpy": "Prophet"},
            r"overrides\['lumpy'\]='Prophet': unknown method; allowed: AutoETS,",
        ),
        ({"slow": "TSB"}, r"overrides key='slow': unknown pattern; allowed: smooth, erratic,"),
    ],
)
def test_bad_overrides_name_the_value_and_the_allowed(
    overrides: dict[str, str], pattern: str
) -> None:
    with pytest.raises(ConfigError, match=pattern):
        forecast_methods(pd.Series(["lumpy"], index=["a"]), overrides)


def test_bad_patterns_raise() -> None:
    with pytest.raises(ConfigError, match=r"patterns\['b'\]='slow': unknown pattern"):
        forecast_methods(pd.Series(["lumpy", "slow"], index=["a", "b"]))
    with pytest.raises(ConfigError, match="'a' appears twice"):
        forecast_methods(pd.Series(["lumpy", "smooth"], index=["a", "a"]))
    with pytest.raises(DataContractError, match=r"column\(s\) \['pattern'\] missing"):
        forecast_methods(pd.DataFrame({"unique_id": ["a"], "abc": ["A"]}))


# --------------------------------------------------------------------------- validation

Y8 = [2.0, 4.0, 1.0, 3.0, 5.0, 2.0, 6.0, 3.0]


def test_bad_series_and_methods_raise() -> None:
    s, m = long(a=Y8), assign("Naive", "a")
    with pytest.raises(DataContractError, match=r"series: column\(s\) \['y'\] missing"):
        demand_forecast(s.drop(columns="y"), m)
    with pytest.raises(ConfigError, match=r"row 2 .* every row needs a date and a finite number"):
        demand_forecast(s.assign(y=s["y"].where(s.index != 2)), m)
    with pytest.raises(ConfigError, match=r"duplicate \(unique_id, ds\) = \('a', 2024-01-15"):
        demand_forecast(pd.concat([s, s.iloc[[2]]]), m)
    tuesday = s.assign(ds=s["ds"].where(s.index != 3, pd.Timestamp("2024-01-23")))
    with pytest.raises(ConfigError, match=r"2024-01-23 00:00:00 \(row 3.*not on the freq='W-MON'"):
        demand_forecast(tuesday, m)
    with pytest.raises(ConfigError, match=r"no method for 1 series, e\.g\. \['b'\]"):
        demand_forecast(long(a=Y8, b=Y8), m)
    with pytest.raises(ConfigError, match=r"methods\.method\['a'\]='ETS': unknown method"):
        demand_forecast(s, assign("ETS", "a"))


# --------------------------------------------------------------------------- hand computations


def test_pattern_default_without_selection_by_hand() -> None:
    """HistoricAverage on 2 4 1 3 5 2 6 3 with selection and cleansing off."""
    kw = {"h": 2, "n_windows": 2, "select": False, "cleansing_k": None}
    d = demand_forecast(long(a=Y8), assign("HistoricAverage", "a"), **kw)
    # (mean 3.25, sum of squared deviations 19.5 over 8 periods).
    assert d.loc[0, "demand_mean"] == pytest.approx(26 / 8, abs=1e-12)
    assert d.loc[0, "demand_std"] == pytest.approx(math.sqrt(19.5 / 8), abs=1e-12)
    assert d.loc[0, "std_source"] == "history"
    assert d.loc[0, "selected_on"] == "selection off: pattern default"


def test_naive_held_out_score_and_one_step_std_by_hand() -> None:
    """Naive, h = 1, three windows at periods 5, 6, 7 (the last held out): forecasts 5, 2, 6
    vs actual 2, 6, 3. Held out: error +3, so MAE = RMSE = bias = 3; the baseline is Naive
    too (5 periods < 2 x 52: no season). One-step errors +3, -4, +3 at all windows give
    demand_std = sqrt(34/3). MASE scale: mean |diff| of 2 4 1 3 5 2 6 (before the held-out
    origin) = 16/6, so MASE = 18/16."""
    d = demand_forecast(long(a=Y8), assign("Naive", "a"), h=1, n_windows=3, select=False)
    r = d.iloc[0]
    assert list(d.columns[:11]) == [
        "unique_id",
        "pattern",
        "method",
        "demand_mean",
        "demand_std",
        "mae",
        "rmse",
        "bias",
        "mase",
        "n_backtest",
        "std_source",
    ]
    assert (r["season_length"], r["n_backtest"], r["std_source"]) == (1, 1, "backtest")
    assert (r["baseline_method"], r["n_1step"], r["demand_mean"]) == ("Naive", 3, 3.0)
    for col in ("mae", "rmse", "bias"):
        assert r[col] == pytest.approx(3.0, abs=1e-12)
        assert r[f"baseline_{col}"] == pytest.approx(3.0, abs=1e-12)
    assert r["demand_std"] == pytest.approx(math.sqrt(34 / 3), abs=1e-9)
    assert r["mase"] == pytest.approx(18 / 16, abs=1e-9)


def test_path_is_clipped_long_and_feeds_the_mean() -> None:
    """b ends with a net return: Naive forecasts -3 for every step, clipped at 0."""
    s = long(a=[5.0, 3.0, 4.0, 6.0, 5.0, 4.0, 5.0, 6.0], b=[4.0, 2.0, 1.0, 0, 0, 0, 0, -3.0])
    m = pd.concat([assign("HistoricAverage", "a"), assign("Naive", "b")])
    res = forecast_outputs(s, m, h=2, n_windows=2, path_horizon=5, select=False)
    path = res.path
    assert list(path.columns) == ["unique_id", "step", "ds", "forecast"]
    assert len(path) == 10
    a = path[path["unique_id"] == "a"]
    assert a["step"].tolist() == [1, 2, 3, 4, 5]
    assert list(a["ds"]) == list(pd.date_range(WEEKS[8], periods=5, freq="W-MON"))
    assert np.allclose(a["forecast"], 38 / 8)
    assert (path.loc[path["unique_id"] == "b", "forecast"] == 0.0).all()
    assert res.forecast["demand_mean"].tolist() == pytest.approx([38 / 8, 0.0])
    # the path is at least h long
    assert len(forecast_outputs(s, m, h=3, n_windows=1, path_horizon=1).path) == 6


def test_cleansing_lowers_mean_and_std_and_is_reported() -> None:
    """A one-off order of 500 in a series of 8-12s: capped, and neither the level nor the
    error std the policy sees follow it; the table lists the change."""
    y = [10.0, 12, 9, 11, 8, 10, 12, 9, 11, 10, 500, 10, 9, 11, 10, 12]
    m = assign("HistoricAverage", "a")
    kw = {"h": 2, "n_windows": 3, "select": False}
    res = forecast_outputs(long(a=y), m, **kw)  # type: ignore[arg-type]
    raw = forecast_outputs(long(a=y), m, cleansing_k=None, **kw)  # type: ignore[arg-type]
    assert res.cleansing[["ds", "y"]].values.tolist() == [[WEEKS[10], 500.0]]
    cap = res.cleansing["y_clean"].iloc[0]
    assert 12 < cap < 30
    assert raw.cleansing.empty
    assert res.forecast["demand_mean"].iloc[0] == pytest.approx((sum(y) - 500 + cap) / 16)
    assert res.forecast["demand_std"].iloc[0] < 0.2 * raw.forecast["demand_std"].iloc[0]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"holdout_windows": 3, "n_windows": 2}, "holdout_windows=3: not allowed; give at most"),
        ({"selection_margin": 1.0}, "selection_margin=1.0: not allowed; give a share in [0, 1)"),
        ({"candidates": {"lumpy": "TSB"}}, "candidates['lumpy']='TSB': not allowed; give a list"),
        ({"candidates": {"lumpy": ["Prophet"]}}, "candidates['lumpy']='Prophet': unknown method"),
        ({"path_horizon": 0}, "path_horizon=0: not allowed"),
        ({"cleansing_k": -1}, "k=-1: not allowed; give a number > 0"),
    ],
)
def test_bad_selection_parameters_raise(kwargs: dict[str, object], pattern: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(pattern)):
        forecast_outputs(long(a=Y8), assign("Naive", "a"), **kwargs)  # type: ignore[arg-type]


def test_optional_columns_pass_through_to_the_accuracy() -> None:
    pats = pd.DataFrame(
        {
            "product_id": ["a", "b"],
            "pattern": ["smooth", "smooth"],
            "seasonal": [None, False],
            "season_length": [np.nan, 4.0],
            "segment": ["AX", "CZ"],
        }
    )
    m = forecast_methods(pats, id_col="product_id")
    assert list(m.columns) == [
        "unique_id", "pattern", "method", "seasonal", "season_length", "segment"
    ]  # fmt: skip
    res = forecast_outputs(long(a=Y8 * 2, b=Y8 * 2), m, h=2, n_windows=3)
    assert res.forecast["segment"].tolist() == ["AX", "CZ"]
    assert set(res.accuracy["segment"]) == {"all", "AX", "CZ"}


def test_missing_periods_are_zero_to_the_horizon_end() -> None:
    """b has rows in weeks 3 and 5 only and the table ends in week 8 (series a), so b runs
    weeks 3..8 as 6 0 3 0 0 0: its HistoricAverage is 9 / 6."""
    sparse = pd.DataFrame({"unique_id": ["b", "b"], "ds": [WEEKS[2], WEEKS[4]], "y": [6.0, 3.0]})
    series = pd.concat([long(a=Y8), sparse], ignore_index=True)
    methods = assign("HistoricAverage", "a", "b")
    out = demand_forecast(series, methods, h=1, n_windows=1)
    assert out.set_index("unique_id").loc["b", "demand_mean"] == pytest.approx(1.5, abs=1e-12)
    explicit = pd.concat(
        [long(a=Y8), pd.DataFrame({"unique_id": "b", "ds": WEEKS[2:8], "y": [6, 0, 3, 0, 0, 0.0]})]
    )
    pd.testing.assert_frame_equal(out, demand_forecast(explicit, methods, h=1, n_windows=1))


def test_short_series_fall_back_and_negative_means_clip() -> None:
    s = long(a=[5.0, 3.0, 4.0, 6.0, 5.0, 4.0, 5.0, 6.0], b=[4.0, 2.0, 1.0, 0, 0, 0, 0, -3.0])
    m = pd.concat([assign("AutoETS", "a"), assign("Naive", "b")])
    out = demand_forecast(s, m, h=4, n_windows=1).set_index("unique_id")
    # a: first training window 8 - 4 = 4 periods < 7 that ETS needs -> HistoricAverage.
    assert (out.loc["a", "method"], out.loc["a", "fallback"]) == ("HistoricAverage", True)
    assert out.loc["a", "demand_mean"] == pytest.approx(38 / 8, abs=1e-12)
    # b: net returns in the last week; Naive forecasts -3, the policy input is clipped at 0.
    assert out.loc["b", "demand_mean"] == 0.0
    assert out.loc["b", "n_backtest"] == 4


# --------------------------------------------------------------------------- Croston / TSB


def croston_sba(y: np.ndarray, alpha: float = 0.1) -> float:
    """Croston (1972) with the Syntetos & Boylan (2005, IJF 21(2)) factor 1 - alpha/2.

    Initialisation as in Hyndman's forecast::croston_model (Shenstone & Hyndman 2005): size
    and interval start at the first demand size and the periods up to the first demand.
    """
    idx = np.flatnonzero(y > 0)
    sizes, intervals = y[idx], np.diff(np.concatenate([[-1], idx]))
    z, p = sizes[0], float(intervals[0])
    for s, q in zip(sizes[1:], intervals[1:], strict=True):
        z += alpha * (s - z)
        p += alpha * (q - p)
    return float((1 - alpha / 2) * z / p)


def tsb(y: np.ndarray, alpha_d: float = 0.1, alpha_p: float = 0.1) -> float:
    """Teunter, Syntetos & Babai (2011, EJOR 214(3)): the demand probability is smoothed every
    period, the size only when demand occurs; forecast = probability x size. Both start at
    their first observation (statsforecast's SES initialisation; the paper leaves it open)."""
    sizes = y[y > 0]
    z = float(sizes[0])
    for s in sizes[1:]:
        z += alpha_d * (s - z)
    p = float(y[0] > 0)
    for v in y[1:]:
        p += alpha_p * (float(v > 0) - p)
    return p * z


def test_croston_sba_hand_example() -> None:
    """y = 0 3 0 0 5 0 4: sizes 3 5 4, intervals 2 3 2. alpha 0.1: z = 3 -> 3.2 -> 3.28,
    p = 2 -> 2.1 -> 2.09; SBA = 0.95 x 3.28 / 2.09 = 3.116 / 2.09 = 16.4 / 11."""
    y = [0.0, 3.0, 0.0, 0.0, 5.0, 0.0, 4.0]
    m = assign("CrostonSBA", "a", pattern="intermittent")
    out = demand_forecast(long(a=y), m, h=3, select=False, cleansing_k=None)
    assert out.loc[0, "demand_mean"] == pytest.approx(16.4 / 11, abs=1e-12)
    assert croston_sba(np.array(y)) == pytest.approx(16.4 / 11, abs=1e-12)


@pytest.fixture(scope="module")
def intermittent_panel() -> pd.DataFrame:
    """Seeded weekly series, 104 weeks: 30 intermittent (Bernoulli(0.3..0.6) x gamma(3) sizes,
    CV² 1/3), 20 lumpy (x lognormal(sigma 1), CV² 1.7), 4 smooth."""
    rng = np.random.default_rng(20240601)
    rows = {}
    for i in range(30):
        p = rng.uniform(0.3, 0.6)  # ADI 1.7..3.3
        rows[f"int{i}"] = (rng.random(104) < p) * np.ceil(rng.gamma(3.0, 4.0, 104))
    for i in range(20):
        p = rng.uniform(0.15, 0.5)
        rows[f"lum{i}"] = (rng.random(104) < p) * np.ceil(rng.lognormal(2.0, 1.0, 104))
    for i in range(4):
        rows[f"smo{i}"] = np.round(rng.normal(50.0, 8.0, 104))
    return long(**{k: list(v) for k, v in rows.items()})


def test_croston_and_tsb_match_numpy_oracles(intermittent_panel: pd.DataFrame) -> None:
    ids = [f"int{i}" for i in range(10)]
    s = intermittent_panel[intermittent_panel["unique_id"].isin(ids)]
    for method, oracle in (("CrostonSBA", croston_sba), ("TSB", tsb)):
        m = assign(method, *ids, pattern="intermittent")
        out = demand_forecast(s, m, h=1, n_windows=1, cleansing_k=None)
        for uid, got in zip(out["unique_id"], out["demand_mean"], strict=True):
            y = s.loc[s["unique_id"] == uid, "y"].to_numpy()
            assert got == pytest.approx(oracle(y), rel=1e-9, abs=1e-12), (method, uid)


def test_selected_methods_beat_naive_on_held_out_windows(
    intermittent_panel: pd.DataFrame,
) -> None:
    """Windows 4 weeks apart, the last 4 of 10 held out (16 weeks per series), so the check is
    not noise: the chosen methods beat naive in aggregate for every pattern, on weeks they
    were not chosen on."""
    kinds = {"int": "intermittent", "lum": "lumpy", "smo": "smooth"}
    ids = intermittent_panel["unique_id"].drop_duplicates()
    patterns = pd.Series(ids.str[:3].map(kinds).to_numpy(), index=ids.to_numpy())
    res = forecast_outputs(
        intermittent_panel, forecast_methods(patterns), h=4, n_windows=10, holdout_windows=4
    )
    out = res.forecast
    assert (out["n_1step"] == 10).all()
    assert (out["n_backtest"] == 16).all()
    assert (out["std_source"] == "backtest").all()
    assert (out["demand_std"] > 0).all()
    assert set(out["selected_on"]) == {"windows 1-6 of 10, MAE"}
    assert set(out["baseline_method"]) == {"Naive"}
    acc = res.accuracy.set_index("pattern")
    assert (acc["fva"] > 0).all()
    assert acc.loc["intermittent", "fva"] > 0.05
    assert acc.loc["smooth", "fva"] > 0.05


ONLINE_RETAIL = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "online_retail"
) / "online_retail.parquet"


@pytest.mark.slow
def test_online_retail_selection_beats_naive_for_every_pattern() -> None:
    """Weekly Online Retail (all lines, net of cancellations): on the held-out last 4 weeks the
    chosen methods beat naive in aggregate for every pattern, and no item forecast follows a
    one-off order (the mean stays below 6x its history's mean)."""
    if not ONLINE_RETAIL.exists():
        pytest.skip(f"{ONLINE_RETAIL} absent")
    from supplyseg.analytics.demand import demand_pattern, demand_series

    raw = pd.read_parquet(ONLINE_RETAIL, columns=["StockCode", "InvoiceDate", "Quantity"])
    lines = pd.DataFrame(
        {
            "unique_id": raw["StockCode"].astype(str),
            "ds": raw["InvoiceDate"].dt.normalize(),
            "y": raw["Quantity"].astype(float),
        }
    )
    pats = demand_pattern(lines, bucket="week")[["unique_id", "pattern"]]
    series = demand_series(lines, bucket="week")
    res = forecast_outputs(series, forecast_methods(pats))
    acc = res.accuracy.set_index("pattern")
    for pattern in ("smooth", "erratic", "intermittent", "lumpy", "all"):
        assert acc.loc[pattern, "fva"] > 0, pattern
        assert acc.loc[pattern, "series"] > 200, pattern
    assert len(res.cleansing) > 0
    assert (res.path["forecast"] >= 0).all()


# --------------------------------------------------------------------------- one season of history


def _christmas(weeks: int = 56) -> list[float]:
    """A gift that sells from week 38 to 51 of each 52-week year, nothing otherwise; twice
    as much in its second year (the overlap weeks 53-56 lie in the quiet part)."""
    y = [0.0] * weeks
    for w in range(weeks):
        if 38 <= w % 52 <= 51:
            y[w] = 100.0 if w < 52 else 200.0
        if w in (0, 1, 2, 3):
            y[w] = 5.0  # last year's quiet start, the ratio's base
    for w in range(4, 12):
        y[w] = float(w)  # distinct quiet weeks: an off-by-one in the path shows
    for w in (52, 53, 54, 55):
        y[w] = 10.0
    return y


def test_one_season_of_a_concentrated_item_plans_last_seasons_weeks() -> None:
    from supplyseg.config.forecast import LastSeasonSettings

    y = _christmas()
    s = long(xmas=y, flat=[50.0 + (w % 3) for w in range(56)])
    methods = pd.concat([assign("AutoETS", "xmas", "flat")]).assign(seasonal=None)
    res = forecast_outputs(s, methods, h=2, path_horizon=8, last_season=LastSeasonSettings())
    f = res.forecast.set_index("unique_id")
    assert f.loc["xmas", "path_source"] == "last_season"
    assert f.loc["flat", "path_source"] == "model"  # 13 weeks hold 25 %: not a season
    ratio = (4 * 10.0) / (4 * 5.0)  # the last 4 weeks against the same 4 weeks a year ago
    assert f.loc["xmas", "season_ratio"] == pytest.approx(ratio)
    # step h is week 55 + h - 52 of the history: last year's weeks 4, 5, ... scaled
    path = res.path[res.path["unique_id"] == "xmas"]["forecast"].to_numpy()
    np.testing.assert_allclose(path, [y[55 + h - 52] * ratio for h in range(1, 9)])
    assert path[0] == pytest.approx(4.0 * ratio)
    assert f.loc["xmas", "demand_mean"] == pytest.approx(path[:2].mean())
    # off, or with seasonality known from two seasons, the model's path stays
    off = forecast_outputs(s, methods, h=2, path_horizon=8)
    assert (off.forecast["path_source"] == "model").all()
    known = forecast_outputs(
        s, methods.assign(seasonal=False), h=2, path_horizon=8, last_season=LastSeasonSettings()
    )
    assert (known.forecast["path_source"] == "model").all()
