"""Demand analytics: an independent pandas/Fraction oracle, hand cases, a textbook ABC example,
and invariants on the real Online Retail data."""

from __future__ import annotations

import datetime as dt
import math
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from statsmodels.tsa.seasonal import seasonal_decompose

from supplyseg.analytics.demand import (
    GRAINS,
    ITEM_GRAINS,
    abc_class,
    demand_by_customer_group,
    demand_outputs,
    demand_pattern,
    demand_profile,
    demand_series,
    demand_summary,
    xyz_class,
)
from supplyseg.config.demand import DemandSettings, LifecycleSettings, SeasonalitySettings
from supplyseg.errors import ConfigError, DataContractError

D0 = dt.date(2024, 1, 1)  # a Monday
FREQ = {"day": "D", "week": "W-SUN", "month": "M"}  # pandas periods; W-SUN weeks run Mon..Sun


# --- the oracle: dense series by reindexing over a full period range, exact arithmetic ---------


def _classes_abc(
    items: list[tuple[Any, ...]], values: dict[Any, Fraction | None], cutoffs: tuple[float, ...]
) -> dict[Any, tuple[int, float, float, int]]:
    """Class number, share, cum_share and rank of each item for one measure, exactly."""

    def key(k: tuple[Any, ...]) -> tuple[Any, ...]:
        v = values[k]
        ids = tuple((x is None, "" if x is None else x) for x in k)
        return (v is None, -(v if v is not None else 0), ids)

    order = sorted(items, key=key)
    total = sum((v for v in values.values() if v is not None and v > 0), Fraction(0))
    out, cum = {}, Fraction(0)
    for rank, k in enumerate(order, start=1):
        v = values[k]
        pos = v if v is not None and v > 0 else Fraction(0)
        before, cum = cum, cum + pos
        cls = len(cutoffs)
        if pos > 0:
            cls = next(
                (i for i, c in enumerate(cutoffs) if before < Fraction(str(c)) * total),
                len(cutoffs),
            )
        share = float(pos / total) if total else 0.0
        out[k] = (cls, share, float(cum / total) if total else 0.0, rank)
    return out


def oracle_profile(
    lines: pd.DataFrame,
    ids: tuple[str, ...],
    bucket: str,
    end: dt.date | None,
    s: DemandSettings,
) -> pd.DataFrame:
    """The demand profile computed the plain way: groupby, reindex to a dense series, Fractions."""
    df = lines.copy()
    if end is not None:
        df = df[df.order_date <= end]
    freq = FREQ[bucket]
    df["period"] = pd.PeriodIndex(pd.to_datetime(df.order_date), freq=freq)
    horizon = pd.Period(end if end is not None else df.order_date.max(), freq=freq)
    rows = []
    for key, g in df.groupby(list(ids), dropna=False, sort=False):
        k = key if isinstance(key, tuple) else (key,)
        k = tuple(None if (isinstance(x, float) and math.isnan(x)) else x for x in k)
        sums = g.groupby("period").quantity.sum()
        full = sums.reindex(pd.period_range(sums.index.min(), horizon, freq=freq), fill_value=0)
        y = [Fraction(int(v)) for v in full]
        n = len(y)
        mean = sum(y, Fraction(0)) / n
        var = sum(((v - mean) ** 2 for v in y), Fraction(0)) / n
        sizes = [v for v in y if v > 0]
        m = len(sizes)
        live = g[~g.is_credit_note]
        row: dict[str, Any] = dict(zip(ids, k, strict=True))
        row |= {
            "revenue": float((g.quantity * g.unit_price).sum()),
            "quantity": float(g.quantity.sum()),
            "order_lines": len(live),
            "orders": live.order_id.nunique(),
            "first_period": full.index[0].start_time,
            "last_period": sums.index.max().start_time,
            "n_periods": n,
            "n_nonzero": m,
            "mean": float(mean),
            "std": math.sqrt(var),
            "cv": math.sqrt(var) / float(mean) if mean > 0 else math.nan,
            "adi": n / m if m else math.nan,
        }
        if "unit_cost" in g.columns:
            row["margin"] = float((g.quantity * (g.unit_price - g.unit_cost)).sum())
        labels = s.xyz_class_labels
        if mean <= 0:
            row["xyz_class"] = labels[-1]
        else:
            cv2 = var / mean**2
            row["xyz_class"] = next(
                (labels[i] for i, c in enumerate(s.xyz_cutoffs) if cv2 <= Fraction(str(c)) ** 2),
                labels[-1],
            )
        if m < 2:
            row["cv2"], row["pattern"] = math.nan, "insufficient_history"
        else:
            ms = sum(sizes, Fraction(0)) / m
            cv2s = sum(((v - ms) ** 2 for v in sizes), Fraction(0)) / m / ms**2
            row["cv2"] = float(cv2s)
            low_adi = Fraction(n, m) < Fraction(str(s.adi_threshold))
            low_cv2 = cv2s < Fraction(str(s.cv2_threshold))
            row["pattern"] = {
                (True, True): "smooth",
                (True, False): "erratic",
                (False, True): "intermittent",
                (False, False): "lumpy",
            }[(low_adi, low_cv2)]
        row |= _oracle_lifecycle_and_seasonality([float(v) for v in y], full.index, bucket, s)
        row["_key"] = k
        rows.append(row)
    out = pd.DataFrame(rows)
    keys = list(out._key)
    per: dict[str, dict[Any, tuple[int, float, float, int]]] = {}
    for meas in s.abc_measures:
        exact = {
            # Ranking compares measures rounded to 6 decimals (float sums differ in the last bit).
            k: (None if pd.isna(v) else Fraction(round(v, 6)))
            for k, v in zip(keys, out[meas], strict=True)
        }
        per[meas] = _classes_abc(keys, exact, s.abc_cutoffs)
    labels = s.abc_class_labels
    first = s.abc_measures[0]
    if len(s.abc_measures) > 1 and s.abc_rule == "weighted":
        w = s.abc_weight_values
        score = {
            k: sum(
                (
                    Fraction(wi) * Fraction(per[m][k][1])
                    for m, wi in zip(s.abc_measures, w, strict=True)
                ),
                Fraction(0),
            )
            for k in keys
        }
        per["_score"] = _classes_abc(keys, score, s.abc_cutoffs)
        first = "_score"
    pick = max if s.abc_rule == "worst" else min
    out["share"] = [per[first][k][1] for k in keys]
    out["cum_share"] = [per[first][k][2] for k in keys]
    out["rank"] = [per[first][k][3] for k in keys]
    if len(s.abc_measures) == 1 or s.abc_rule == "weighted":
        out["abc_class"] = [labels[per[first][k][0]] for k in keys]
    else:
        out["abc_class"] = [labels[pick(per[m][k][0] for m in s.abc_measures)] for k in keys]
    if len(s.abc_measures) > 1:
        for m in s.abc_measures:
            out[f"abc_{m}"] = [labels[per[m][k][0]] for k in keys]
    return out.drop(columns="_key").sort_values("rank").reset_index(drop=True)


def _oracle_lifecycle_and_seasonality(
    y: list[float], periods: pd.PeriodIndex, bucket: str, s: DemandSettings
) -> dict[str, Any]:
    """Lifecycle by scanning the dense series; seasonal strength by statsmodels'
    ``seasonal_decompose`` (FPP3 4.3: F_S = max(0, 1 - Var(R) / Var(S + R)))."""
    new, dormant, obsolete = s.lifecycle.resolved(bucket)
    pos = [i for i, v in enumerate(y) if v > 0]
    h = len(y) - 1
    out: dict[str, Any] = {"first_demand_date": pd.NaT, "last_demand_date": pd.NaT}
    out |= {"buckets_since_demand": math.nan, "seasonal_strength": math.nan}
    if not pos:
        out["lifecycle"] = "obsolete"
    else:
        out["first_demand_date"] = periods[pos[0]].start_time
        out["last_demand_date"] = periods[pos[-1]].start_time
        since = out["buckets_since_demand"] = h - pos[-1]
        out["lifecycle"] = (
            "obsolete"
            if since >= obsolete
            else "dormant"
            if since >= dormant
            else "new"
            if h - pos[0] < new
            else "active"
        )
        m = s.seasonality.length(bucket)
        end = pos[-1] if out["lifecycle"] in ("dormant", "obsolete") else h
        k = (end + 1) // m
        if k >= s.seasonality.min_seasons:
            x = np.array(y[end + 1 - k * m : end + 1])
            d = seasonal_decompose(x, period=m, extrapolate_trend="period")
            total = np.var(d.resid + d.seasonal)
            flat = total <= (1e-9 * np.abs(x).max()) ** 2
            out["seasonal_strength"] = 0.0 if flat else max(0.0, 1 - np.var(d.resid) / total)
    strength = out["seasonal_strength"]
    out["seasonal"] = None if math.isnan(strength) else bool(strength >= s.seasonality.min_strength)
    out["season_length"] = s.seasonality.length(bucket)
    return out


# --- random order lines ------------------------------------------------------------------------

line_rows = st.lists(
    st.tuples(
        st.integers(0, 3),  # product
        st.integers(0, 2),  # customer
        st.sampled_from(["L1", "L2", None]),  # location (may be unknown)
        st.integers(0, 75),  # day offset
        st.integers(-4, 9),  # quantity (negative = credit note; 0 kept as a line)
        st.integers(0, 6),  # price (0 allowed: zero revenue)
        st.integers(0, 8),  # unit cost
        st.integers(0, 11),  # order
    ),
    min_size=1,
    max_size=30,
)


def lines_frame(rows: list[tuple[Any, ...]], cost: bool = True) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "order_id": [f"o{r[7]}" if r[4] >= 0 else f"C{r[7]}" for r in rows],
            "customer_id": [f"c{r[1]}" for r in rows],
            "product_id": [f"p{r[0]}" for r in rows],
            "location_id": pd.array([r[2] for r in rows], dtype="object"),
            "order_date": [D0 + dt.timedelta(days=r[3]) for r in rows],
            "quantity": [float(r[4]) for r in rows],
            "unit_price": [float(r[5]) for r in rows],
            "is_credit_note": [r[4] < 0 for r in rows],
        }
    )
    if cost:
        df["unit_cost"] = [float(r[6]) for r in rows]
    return df


def assert_matches(got: pd.DataFrame, want: pd.DataFrame, ids: tuple[str, ...]) -> None:
    assert list(got["rank"]) == list(range(1, len(want) + 1))

    def ids_of(col: pd.Series) -> list[Any]:
        return [None if pd.isna(x) else x for x in col]

    for c in ids:
        assert ids_of(got[c]) == ids_of(want[c]), c
    for c in want.columns:
        if c in ids:
            continue
        g, w = got[c], want[c]
        if c in ("first_period", "last_period", "first_demand_date", "last_demand_date"):
            assert ids_of(pd.to_datetime(g)) == ids_of(pd.to_datetime(w)), c
        elif c in ("seasonal", "lifecycle"):
            assert ids_of(g) == ids_of(w), c
        elif w.dtype == object or c.endswith("class") or c == "pattern" or c.startswith("abc_"):
            assert g.astype(str).tolist() == w.astype(str).tolist(), c
        else:
            np.testing.assert_allclose(
                g.to_numpy(dtype=float), w.to_numpy(dtype=float), rtol=1e-9, atol=1e-9, err_msg=c
            )


profile_settings = st.sampled_from(
    [
        DemandSettings(),
        DemandSettings(abc_cutoffs=(0.5, 0.8, 0.95), xyz_cutoffs=(0.25, 0.5, 1.0)),
        DemandSettings(abc_measures=("margin",), adi_threshold=1.0, cv2_threshold=0.25),
        DemandSettings(abc_measures=("revenue", "quantity", "order_lines"), abc_rule="worst"),
        DemandSettings(abc_measures=("quantity", "margin"), abc_rule="best"),
        DemandSettings(
            lifecycle=LifecycleSettings(new_buckets=4, dormant_buckets=2, obsolete_buckets=5),
            seasonality=SeasonalitySettings(season_length=3, min_strength=0.6),
        ),
    ]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=line_rows,
    grain=st.sampled_from(sorted(GRAINS)),
    bucket=st.sampled_from(["day", "week", "month"]),
    end_offset=st.one_of(st.none(), st.integers(10, 120)),
    s=profile_settings,
)
def test_profile_agrees_with_plain_pandas_oracle(
    rows: list[tuple[Any, ...]], grain: str, bucket: str, end_offset: int | None, s: DemandSettings
) -> None:
    lines = lines_frame(rows)
    end = None if end_offset is None else D0 + dt.timedelta(days=end_offset)
    assume(end is None or (lines.order_date <= end).any())
    ids = GRAINS[grain]
    got = demand_profile(lines, grain=grain, bucket=bucket, settings=s, end=end)
    want = oracle_profile(lines, ids, bucket, end, s)
    assert_matches(got, want, ids)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=line_rows, weights=st.sampled_from([None, (1.0, 3.0), (2.0, 1.0, 1.0)]))
def test_weighted_abc_agrees_with_oracle_away_from_float_ties(
    rows: list[tuple[Any, ...]], weights: tuple[float, ...] | None
) -> None:
    measures = (
        ("revenue", "quantity")
        if weights is None or len(weights) == 2
        else (
            "revenue",
            "quantity",
            "order_lines",
        )
    )
    s = DemandSettings(abc_measures=measures, abc_rule="weighted", abc_weights=weights)
    lines = lines_frame(rows)
    want = oracle_profile(lines, ("product_id",), "week", None, s)
    # The weighted score is a float sum: exact ties between different items, or a cumulative
    # share landing on a cut-off, are decided by rounding and are not part of the contract.
    score = want.share.to_numpy()
    assume(all(abs(a - b) > 1e-9 or a == b for a in score for b in score))
    before = want.cum_share.to_numpy() - score
    assume(all(abs(x - c) > 1e-9 for x in before for c in s.abc_cutoffs))
    got = demand_profile(lines, settings=s)
    assert_matches(got, want, ("product_id",))


@settings(max_examples=6, deadline=None)
@given(rows=line_rows, bucket=st.sampled_from(["day", "week", "month"]))
def test_dense_series_is_the_reindexed_series(rows: list[tuple[Any, ...]], bucket: str) -> None:
    lines = lines_frame(rows)
    got = demand_series(lines, "product", bucket, dense=True)
    freq = FREQ[bucket]
    horizon = pd.Period(lines.order_date.max(), freq=freq)
    parts = []
    periods = pd.PeriodIndex(pd.to_datetime(lines.order_date), freq=freq)
    for pid, g in lines.assign(period=periods).groupby("product_id"):
        sums = g.groupby("period").quantity.sum()
        full = sums.reindex(pd.period_range(sums.index.min(), horizon, freq=freq), fill_value=0)
        parts.append(
            pd.DataFrame({"product_id": pid, "ds": full.index.start_time, "y": full.to_numpy()})
        )
    want = pd.concat(parts, ignore_index=True)
    assert got.product_id.tolist() == want.product_id.tolist()
    assert (pd.to_datetime(got.ds) == want.ds).all()
    np.testing.assert_array_equal(got.y.to_numpy(), want.y.to_numpy(dtype=float))
    sparse = demand_series(lines, "product", bucket)
    assert len(sparse) == len(lines.assign(period=periods).groupby(["product_id", "period"]))
    assert sparse.y.sum() == pytest.approx(lines.quantity.sum())


# --- hand-computed cases -----------------------------------------------------------------------


def lines_of(*rows: tuple[str, int, float, float]) -> pd.DataFrame:
    """Order lines from (product, day offset, quantity, unit price); one order per line."""
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": ["c1"] * len(rows),
            "product_id": [r[0] for r in rows],
            "order_date": [D0 + dt.timedelta(days=r[1]) for r in rows],
            "quantity": [float(r[2]) for r in rows],
            "unit_price": [float(r[3]) for r in rows],
            "is_credit_note": [r[2] < 0 for r in rows],
        }
    )


def by_id(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index(df.columns[0])


def test_item_landing_exactly_on_the_cutoff_is_a_and_the_next_is_b() -> None:
    # Revenues 50, 30, 15, 5 of 100: cum shares 0.5, 0.8 (exactly), 0.95 (exactly), 1.0.
    lines = lines_of(("a", 0, 50, 1), ("b", 0, 30, 1), ("c", 0, 15, 1), ("d", 0, 5, 1))
    got = by_id(abc_class(lines))
    assert got.abc_class.to_dict() == {"a": "A", "b": "A", "c": "B", "d": "C"}
    assert got.cum_share.tolist() == [0.5, 0.8, 0.95, 1.0]
    assert got["rank"].tolist() == [1, 2, 3, 4]


def test_item_crossing_a_cutoff_belongs_to_the_upper_class() -> None:
    # a = 0.7 of the total, b takes the cumulative share from 0.7 to 0.9 -> crosses 0.8: A.
    lines = lines_of(("a", 0, 70, 1), ("b", 0, 20, 1), ("c", 0, 6, 1), ("d", 0, 4, 1))
    got = by_id(abc_class(lines))
    assert got.abc_class.to_dict() == {"a": "A", "b": "A", "c": "B", "d": "C"}


def test_ties_are_broken_by_id_and_four_classes() -> None:
    lines = lines_of(("z", 0, 25, 1), ("y", 0, 25, 1), ("x", 0, 25, 1), ("w", 0, 25, 1))
    got = abc_class(lines, cutoffs=(0.25, 0.5, 0.75))
    assert got.product_id.tolist() == ["w", "x", "y", "z"]
    assert got.abc_class.tolist() == ["A", "B", "C", "D"]
    got = abc_class(lines, cutoffs=(0.3, 0.6, 0.9), labels=["top", "mid", "low", "tail"])
    assert got.abc_class.tolist() == ["top", "top", "mid", "low"]


def test_nonpositive_measure_is_always_last_class() -> None:
    # e: sold and fully credited (net 0); f: net negative; both rank after every positive item.
    lines = lines_of(
        ("a", 0, 10, 1), ("e", 0, 5, 1), ("e", 8, -5, 1), ("f", 0, 2, 1), ("f", 9, -3, 1)
    )
    got = by_id(demand_profile(lines))
    assert got.abc_class.to_dict() == {"a": "A", "e": "C", "f": "C"}
    assert got.share.to_dict() == {"a": 1.0, "e": 0.0, "f": 0.0}
    assert got.loc[["e", "f"], "rank"].tolist() == [2, 3]
    assert got.loc["e", "order_lines"] == 1
    assert got.loc["e", "orders"] == 1
    # Net-zero item: mean 0 -> no cv, last XYZ class; the summary counts it.
    assert got.loc["e", "xyz_class"] == "Z"
    assert math.isnan(got.loc["e", "cv"])
    assert got.loc["f", "mean"] < 0
    assert got.loc["f", "xyz_class"] == "Z"
    summary = demand_summary(got.reset_index())
    assert summary["xyz_nonpositive_mean"] == 2
    assert summary["abc_nonpositive_measure"] == 2
    assert summary["abc_class"] == {"A": 1, "C": 2}


def test_all_zero_demand_has_no_positive_total() -> None:
    lines = lines_of(("a", 0, 3, 0), ("a", 2, -3, 0))
    got = demand_profile(lines)
    assert got.share.tolist() == [0.0]
    assert got.cum_share.tolist() == [0.0]
    assert got.abc_class.tolist() == ["C"]
    assert got.xyz_class.tolist() == ["Z"]
    assert got.n_nonzero.tolist() == [0]
    assert math.isnan(got.adi[0])
    assert got.pattern.tolist() == ["insufficient_history"]


def test_single_sale_in_first_week_of_a_ten_week_horizon() -> None:
    # One sale of 10 in week 1, horizon 10 weeks: mean 1, std 3 (9 zeros), cv 3, adi 10.
    lines = lines_of(("a", 0, 10, 2), ("b", 69, 1, 1))
    got = by_id(demand_profile(lines))
    a = got.loc["a"]
    assert (a.n_periods, a.n_nonzero, a["mean"], a["std"], a.cv, a.adi) == (10, 1, 1, 3, 3, 10)
    assert a.xyz_class == "Z"
    assert a.pattern == "insufficient_history"
    assert math.isnan(a.cv2)
    assert a.first_period == pd.Timestamp("2024-01-01") == a.last_period
    b = got.loc["b"]  # new item: only its own period counts, not the nine before it
    assert (b.n_periods, b["mean"], b["std"], b.xyz_class) == (1, 1.0, 0.0, "X")
    assert b.first_period == pd.Timestamp("2024-03-04")  # day 69 = Sun 10 Mar -> Monday 4 Mar


def test_horizon_end_extends_every_series_with_zeros() -> None:
    lines = lines_of(("a", 0, 4, 1), ("a", 7, 4, 1))
    got = xyz_class(lines, end=dt.date(2024, 1, 28))  # weeks of 1, 8, 15, 22 Jan
    assert got.n_periods.tolist() == [4]
    assert got["mean"].tolist() == [2.0]
    assert got["std"].tolist() == [2.0]
    assert got.xyz_class.tolist() == ["Y"]  # cv = 1.0 exactly: on the cut-off stays Y
    got = xyz_class(lines, end=dt.date(2024, 1, 21))  # 3 weeks: mean 8/3
    assert got.xyz_class.tolist() == ["Y"]
    assert got.cv[0] == pytest.approx(math.sqrt(2) / 2)
    got = xyz_class(lines)  # 2 weeks of 4: cv 0 -> X
    assert got.cv.tolist() == [0.0]
    assert got.xyz_class.tolist() == ["X"]


def test_xyz_boundary_cv_exactly_half_is_x() -> None:
    lines = lines_of(("a", 0, 1, 1), ("a", 7, 3, 1))  # [1, 3]: mean 2, std 1, cv 0.5
    got = xyz_class(lines)
    assert got.cv.tolist() == [0.5]
    assert got.xyz_class.tolist() == ["X"]


def test_credit_notes_net_within_their_period_and_negative_net_is_not_demand() -> None:
    # Week 1: 6 sold, 2 credited -> 4. Week 2: 5 credited (net -5). Week 3: 3. Week 4: 5.
    lines = lines_of(
        ("a", 0, 6, 1), ("a", 3, -2, 1), ("a", 8, -5, 1), ("a", 15, 3, 1), ("a", 22, 5, 1)
    )
    got = demand_profile(lines).iloc[0]
    assert got.quantity == 7
    assert got.revenue == 7
    assert got.order_lines == 3
    assert got.orders == 3
    assert (got.n_periods, got.n_nonzero) == (4, 3)
    assert got["mean"] == pytest.approx(7 / 4)
    assert got["std"] == pytest.approx(np.std([4, -5, 3, 5]))
    assert got.adi == pytest.approx(4 / 3)
    assert got.cv2 == pytest.approx(np.var([4, 3, 5]) / 16)  # sizes 4, 3, 5 only
    assert got.pattern == "intermittent"  # adi 1.33 >= 1.32, cv2 0.042 < 0.49


@pytest.mark.parametrize(
    ("series", "pattern"),
    [
        ([5, 5, 6, 4, 5, 5], "smooth"),  # adi 1, cv2 0.013
        ([1, 9, 1, 9, 1, 9], "erratic"),  # adi 1, cv2 0.64
        ([5, 0, 0, 5, 0, 6], "intermittent"),  # adi 2, cv2 0.005
        ([1, 0, 0, 9, 0, 1], "lumpy"),  # adi 2, cv2 = var(1, 9, 1) / (11/3)² = 1.06
        ([0, 0, 0, 0, 7, 0], "insufficient_history"),
        ([4, 0, 0, 0, 0, 0], "insufficient_history"),
    ],
)
def test_demand_pattern_quadrants(series: list[int], pattern: str) -> None:
    rows = [("a", 7 * i, q, 1) for i, q in enumerate(series) if q]
    got = demand_pattern(lines_of(*rows), end=D0 + dt.timedelta(days=7 * len(series) - 1))
    assert got.pattern.tolist() == [pattern]


def test_adi_exactly_at_threshold_is_intermittent() -> None:
    # 33 weeks with demand in 25 of them: ADI = 33/25 = 1.32 exactly -> not < 1.32.
    weeks = [w for w in range(33) if w % 4 != 3][:25]
    rows = [("a", 7 * w, 2, 1) for w in weeks]
    got = demand_pattern(lines_of(*rows), end=D0 + dt.timedelta(days=7 * 33 - 1))
    assert got.n_periods.tolist() == [33]
    assert got.n_nonzero.tolist() == [25]
    assert got.pattern.tolist() == ["intermittent"]
    got = demand_pattern(
        lines_of(*rows), end=D0 + dt.timedelta(days=7 * 33 - 1), adi_threshold=1.33
    )
    assert got.pattern.tolist() == ["smooth"]


def test_cv2_exactly_at_threshold_is_erratic() -> None:
    # Sizes 3 and 17: mean 10, var 49 -> cv2 = 0.49 exactly -> not < 0.49.
    got = demand_pattern(lines_of(("a", 0, 3, 1), ("a", 7, 17, 1)))
    assert got.cv2[0] == pytest.approx(0.49)
    assert got.pattern.tolist() == ["erratic"]


def test_multi_criteria_worst_best_weighted() -> None:
    # Revenue: a 60, b 30, c 10; quantity: a 1, b 3, c 16 (of 20).
    lines = lines_of(("a", 0, 1, 60), ("b", 0, 3, 10), ("c", 0, 16, 0.625))
    rev = by_id(abc_class(lines))
    qty = by_id(abc_class(lines, measure="quantity"))
    assert rev.abc_class.to_dict() == {"a": "A", "b": "A", "c": "B"}
    assert qty.abc_class.to_dict() == {"c": "A", "b": "B", "a": "C"}
    worst = by_id(abc_class(lines, measure=["revenue", "quantity"], rule="worst"))
    assert worst.abc_class.to_dict() == {"a": "C", "b": "B", "c": "B"}
    assert worst.abc_revenue.to_dict() == rev.abc_class.to_dict()
    assert worst.abc_quantity.to_dict() == qty.abc_class.to_dict()
    assert worst["rank"].to_dict() == {"a": 1, "b": 2, "c": 3}  # ranks of the first measure
    best = by_id(abc_class(lines, measure=["revenue", "quantity"], rule="best"))
    assert best.abc_class.to_dict() == {"a": "A", "b": "A", "c": "A"}
    # Weighted 1:1 scores: a (0.6 + 0.05)/2 = 0.325, b (0.3 + 0.15)/2 = 0.225, c (0.1 + 0.8)/2
    # = 0.45 -> order c, a, b with cum 0.45, 0.775, 1.0 -> with cut-offs 0.5/0.9: A, A, B.
    both = ["revenue", "quantity"]
    w = by_id(abc_class(lines, measure=both, cutoffs=(0.5, 0.9), rule="weighted"))
    assert w["rank"].to_dict() == {"c": 1, "a": 2, "b": 3}
    assert w.share.to_dict() == pytest.approx({"c": 0.45, "a": 0.325, "b": 0.225})
    assert w.abc_class.to_dict() == {"c": "A", "a": "A", "b": "B"}
    # Weights 3:1 on revenue: a 0.4625, b 0.2625, c 0.275 -> a, c, b: cum 0.4625, 0.7375, 1.
    w = by_id(abc_class(lines, both, (0.5, 0.9), rule="weighted", weights=[3, 1]))
    assert list(w.index) == ["a", "c", "b"]
    assert w.abc_class.to_dict() == {"a": "A", "c": "A", "b": "B"}


def test_margin_needs_unit_cost_and_unknown_cost_is_last_class() -> None:
    lines = lines_of(("a", 0, 10, 5), ("b", 0, 10, 3), ("c", 0, 10, 4))
    with pytest.raises(ConfigError, match=r"measure=\['margin'\].*unit_cost"):
        abc_class(lines, measure="margin")
    lines["unit_cost"] = [1.0, 1.0, None]
    got = by_id(abc_class(lines, measure="margin"))
    assert (got.margin["a"], got.margin["b"]) == (40.0, 20.0)
    assert math.isnan(got.margin["c"])
    assert got.abc_class.to_dict() == {"a": "A", "b": "A", "c": "C"}


def test_long_statsforecast_table() -> None:
    long = pd.DataFrame(
        {
            "unique_id": ["s1"] * 4 + ["s2"] * 2,
            "ds": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-15", "2024-01-22", "2024-01-08", "2024-01-22"]
            ),
            "y": [1.0, 1.0, 2.0, 2.0, 0.0, 5.0],
        }
    )
    got = by_id(demand_profile(long))
    assert "revenue" not in got.columns
    assert got.quantity.to_dict() == {"s1": 6.0, "s2": 5.0}
    assert got.n_periods.to_dict() == {"s1": 4, "s2": 3}
    assert got.n_nonzero.to_dict() == {"s1": 3, "s2": 1}
    assert got.abc_class.to_dict() == {"s1": "A", "s2": "A"}
    with pytest.raises(ConfigError, match="long"):
        demand_profile(long, settings=DemandSettings())
    dense = demand_series(long, dense=True)
    assert dense.y.tolist() == [2.0, 0.0, 2.0, 2.0, 0.0, 0.0, 5.0]


def test_month_buckets_and_start_filter() -> None:
    lines = lines_of(("a", 0, 1, 1), ("a", 40, 2, 1), ("a", 95, 3, 1))  # Jan 1, Feb 10, Apr 5
    got = demand_profile(lines, bucket="month").iloc[0]
    assert (got.n_periods, got.n_nonzero) == (4, 3)  # Jan..Apr, March empty
    assert got.first_period == pd.Timestamp("2024-01-01")
    assert got.last_period == pd.Timestamp("2024-04-01")
    got = demand_profile(lines, bucket="month", start="2024-02-01").iloc[0]
    assert (got.quantity, got.n_periods) == (5.0, 3)


def test_ibis_table_input_runs_on_the_engine() -> None:
    con = ibis.duckdb.connect()
    lines = lines_of(("a", 0, 3, 1), ("b", 1, 1, 1))
    t = con.create_table("lines", lines)
    got = demand_profile(t)
    assert got.product_id.tolist() == ["a", "b"]
    assert got.revenue.sum() == 4.0


def test_demand_outputs_skips_missing_location_and_margin_with_notes() -> None:
    lines = lines_of(("a", 0, 3, 1), ("a", 20, -4, 1), ("b", 1, 1, 1))
    out = demand_outputs(lines, DemandSettings(abc_measures=("margin", "revenue")))
    assert sorted(out.tables) == ["demand_customer", "demand_customer_product", "demand_product"]
    assert any("demand_product_location skipped" in n for n in out.notes)
    assert any("margin skipped" in n for n in out.notes)
    assert any("1 item(s) with net mean demand <= 0" in n for n in out.notes)
    assert out.summaries["demand_product"]["xyz_nonpositive_mean"] == 1
    lines["location_id"] = ["L1", "L2", "L1"]
    out = demand_outputs(lines)
    assert len(out.tables["demand_product_location"]) == 3


@settings(max_examples=3, deadline=None)
@given(rows=line_rows)
def test_demand_outputs_are_the_per_grain_profiles(rows: list[tuple[Any, ...]]) -> None:
    # demand_outputs shares the repeated (order, product) pairs between grains and takes a
    # pyarrow table; the tables must be exactly what demand_profile gives grain by grain.
    lines = lines_frame(rows)
    out = demand_outputs(pa.Table.from_pandas(lines, preserve_index=False))
    assert sorted(out.tables) == sorted(f"demand_{g}" for g in GRAINS)
    for g in GRAINS:
        item = g in ITEM_GRAINS
        want = demand_profile(lines, grain=g, lifecycle=item, seasonality=item)
        pd.testing.assert_frame_equal(out.tables[f"demand_{g}"], want)


@settings(max_examples=20, deadline=None)
@given(rows=line_rows, start=st.integers(0, 40))
def test_demand_by_customer_group_sums_the_lines_of_each_group(
    rows: list[tuple[Any, ...]], start: int
) -> None:
    lines = lines_frame(rows)
    groups = pd.DataFrame({"customer_id": ["c0", "c1"], "segment": ["grow", "grow"]})
    groups.loc[len(groups)] = ["c2", "protect"] if start % 2 else ["c9", "protect"]
    begin = D0 + dt.timedelta(days=start)
    got = demand_by_customer_group(lines, groups, start=begin)
    # line by line: the lines from ``begin``, their customer's group, summed
    kept = lines[lines["order_date"] >= begin].merge(groups, on="customer_id")
    want = kept.groupby(["product_id", "segment"], as_index=False)["quantity"].sum()
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # and the customer x product demand table summed per product and group: the same
    pairs = demand_outputs(lines, DemandSettings(grains=("customer_product",)), start=begin)
    table = pairs.tables["demand_customer_product"].merge(groups, on="customer_id")
    summed = table.groupby(["product_id", "segment"], as_index=False)["quantity"].sum()
    pd.testing.assert_frame_equal(got, summed, check_dtype=False)
    assert demand_by_customer_group(lines, groups.iloc[:0]).empty


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (pd.DataFrame({"customer": ["c0"], "segment": ["a"]}), "give customer_id and one group"),
        (pd.DataFrame({"customer_id": ["c0"], "a": [1], "b": [2]}), "give customer_id and one"),
        (pd.DataFrame({"customer_id": ["c0", "c0"], "s": ["a", "b"]}), "'c0' has several rows"),
    ],
)
def test_demand_by_customer_group_refuses_groups_it_cannot_use(
    groups: pd.DataFrame, message: str
) -> None:
    with pytest.raises(DataContractError, match=message):
        demand_by_customer_group(lines_frame([(0, 0, None, 0, 1, 1, 1, 0)]), groups)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda df: abc_class(df, cutoffs=(0.9, 0.8)), r"cutoffs=\(0\.9, 0\.8\).*increasing"),
        (lambda df: abc_class(df, cutoffs=(0.8, 1.5)), r"cutoffs=.*\(0, 1\]"),
        (lambda df: abc_class(df, measure="volume"), r"measure=\('volume',\).*revenue"),
        (lambda df: abc_class(df, rule="median"), r"rule='median'.*worst"),
        (lambda df: abc_class(df, weights=[1, 2]), r"weights=\(1, 2\).*weighted"),
        (lambda df: abc_class(df, labels=["A", "B"]), r"labels=\('A', 'B'\).*give 3"),
        (lambda df: xyz_class(df, cutoffs=(-1.0,)), r"cutoffs=\(-1\.0,\).*> 0"),
        (lambda df: demand_pattern(df, adi_threshold=0.5), r"adi_threshold=0\.5.*1"),
        (lambda df: demand_pattern(df, cv2_threshold=0), r"cv2_threshold=0.*0"),
        (lambda df: demand_profile(df, bucket="year"), r"bucket='year'.*day, week, month"),
        (lambda df: demand_profile(df, grain=("sku",)), r"grain=\('sku',\).*not in the table"),
        (lambda df: demand_profile(df, start="2024-02-01", end="2024-01-01"), r"start=.*after"),
        (lambda df: demand_profile(df, end="soon"), r"end='soon': not a date"),
    ],
)
def test_parameter_errors_name_parameter_value_and_range(call: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call(lines_of(("a", 0, 1, 1)))


def test_missing_columns_is_a_data_contract_error() -> None:
    with pytest.raises(DataContractError, match="unit_price"):
        demand_profile(pd.DataFrame({"order_id": ["1"], "product_id": ["a"], "quantity": [1.0]}))


# --- a published worked example ------------------------------------------------------------------


def test_heizer_render_silicon_chips_abc_example() -> None:
    """Heizer, Render & Munson, *Operations Management*, ch. 12 "Inventory Management",
    Example 1 "ABC analysis for a chip manufacturer" (Silicon Chips, Inc.): ten items, annual
    volume x unit cost = annual dollar volume, total $232,057; the book groups #10286 and
    #11526 as A (72 %), the next three as B (23 %), the last five as C (5 %)."""
    book = [  # stock number, annual units, unit cost, dollar volume, % as printed, class
        ("#10286", 1_000, 90.00, 90_000, 38.8, "A"),
        ("#11526", 500, 154.00, 77_000, 33.2, "A"),
        ("#12760", 1_550, 17.00, 26_350, 11.3, "B"),
        ("#10867", 350, 42.86, 15_001, 6.4, "B"),
        ("#10500", 1_000, 12.50, 12_500, 5.4, "B"),
        ("#12572", 600, 14.17, 8_502, 3.7, "C"),
        ("#14075", 2_000, 0.60, 1_200, 0.5, "C"),
        ("#01036", 100, 8.50, 850, 0.4, "C"),
        ("#01307", 1_200, 0.42, 504, 0.2, "C"),
        ("#10572", 250, 0.60, 150, 0.1, "C"),
    ]
    lines = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(book))],
            "customer_id": "c",
            "product_id": [b[0] for b in book],
            "order_date": dt.date(2024, 1, 1),
            "quantity": [float(b[1]) for b in book],
            "unit_price": [b[2] for b in book],
        }
    )
    # The book's grouping is A = first 72 %, B = up to 95 %: cut-offs 0.70 / 0.95 reproduce it.
    got = abc_class(lines, cutoffs=(0.70, 0.95))
    assert got.product_id.tolist() == [b[0] for b in book]
    np.testing.assert_allclose(got.revenue, [b[3] for b in book])
    assert got.revenue.sum() == pytest.approx(232_057)
    # The printed percentages are rounded loosely (11.355 % is printed 11.3, 6.464 % as 6.4).
    np.testing.assert_allclose(got.share * 100, [b[4] for b in book], atol=0.07)
    groups = (got.share * 100).groupby(got.abc_class).sum().round().to_dict()
    assert groups == {"A": 72, "B": 23, "C": 5}
    assert got.abc_class.tolist() == [b[5] for b in book]
    # The default 80/95 rule: #12760 crosses 80 % (72.0 % -> 83.3 %), so it is A here.
    assert abc_class(lines).abc_class.tolist() == list("AAABBCCCCC")


# --- real data: Online Retail ---------------------------------------------------------------------

RETAIL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "online_retail"
NON_PRODUCT = [
    "POST", "DOT", "M", "m", "C2", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS",
    "gift_0001_10", "gift_0001_20", "gift_0001_30", "gift_0001_40", "gift_0001_50",
]  # fmt: skip


@pytest.mark.slow
def test_online_retail_weekly_product_profile() -> None:
    path = RETAIL / "online_retail.parquet"
    if not path.exists():
        pytest.skip(f"{path} not present")
    t0 = time.perf_counter()
    con = ibis.duckdb.connect()
    raw = con.read_parquet(path)
    clean = raw.filter(
        ~raw.InvoiceNo.startswith("C"),
        raw.Quantity > 0,
        raw.UnitPrice > 0,
        raw.CustomerID.notnull(),
        ~raw.StockCode.isin(NON_PRODUCT),
    )
    lines = clean.select(
        order_id=clean.InvoiceNo,
        customer_id=clean.CustomerID.cast("string"),
        product_id=clean.StockCode,
        order_date=clean.InvoiceDate.cast("date"),
        quantity=clean.Quantity.cast("float64"),
        unit_price=clean.UnitPrice,
        location_id=clean.Country,
        is_credit_note=ibis.literal(False),
    )
    # The README's reference cleaning: 396,337 rows, revenue 8,761,066.65.
    assert lines.count().execute() == 396_337
    revenue = (lines.quantity * lines.unit_price).sum().execute()
    assert revenue == pytest.approx(8_761_066.65, abs=0.01)

    prof = demand_profile(lines, grain="product", bucket="week")
    assert len(prof) == 3_659 == prof.product_id.nunique()
    assert prof.revenue.sum() == pytest.approx(8_761_066.65, abs=0.01)
    assert prof.share.sum() == pytest.approx(1.0, abs=1e-9)
    assert prof.cum_share.is_monotonic_increasing
    assert prof["rank"].is_monotonic_increasing
    assert prof.cum_share.iloc[-1] == pytest.approx(1.0)
    codes = prof.abc_class.map({"A": 0, "B": 1, "C": 2})
    assert codes.is_monotonic_increasing  # classes never go back up along cum_share
    a_last = prof[prof.abc_class == "A"].iloc[-1]
    assert a_last.cum_share - a_last.share < 0.8 <= a_last.cum_share
    assert (prof[prof.abc_class == "B"].cum_share - prof[prof.abc_class == "B"].share >= 0.8).all()
    assert (prof.n_periods >= 1).all()
    assert (prof.n_nonzero <= prof.n_periods).all()
    assert prof.n_periods.max() == 54  # Mon 29 Nov 2010 .. Mon 5 Dec 2011: 54 weeks
    assert (prof.first_period.dt.dayofweek == 0).all()
    summary = demand_summary(prof)
    print("\nOnline Retail, product x week:", summary)
    assert summary["xyz_nonpositive_mean"] == 0
    assert sum(summary["pattern"].values()) == len(prof)

    # A second, dense implementation: an items x weeks matrix with numpy (the data is small).
    weekly = (
        lines.mutate(week=lines.order_date.truncate("W"))
        .group_by(["product_id", "week"])
        .aggregate(y=lines.quantity.sum())
        .to_pandas()
        .pivot(index="product_id", columns="week", values="y")
    )
    # Weeks in which nothing sold at all (Christmas 2010) still count.
    weekly = weekly.reindex(columns=pd.date_range(weekly.columns.min(), "2011-12-05", freq="W-MON"))
    y = weekly.to_numpy()
    started = np.cumsum(~np.isnan(y), axis=1) > 0  # from the item's first week on
    dense = np.where(started, np.nan_to_num(y), np.nan)
    cv = np.nanstd(dense, axis=1) / np.nanmean(dense, axis=1)
    xyz = np.select([cv <= 0.5, cv <= 1.0], ["X", "Y"], "Z")
    sizes = np.where(dense > 0, dense, np.nan)
    n_nonzero = (dense > 0).sum(axis=1)
    adi = started.sum(axis=1) / n_nonzero
    with np.errstate(invalid="ignore"):
        cv2 = (np.nanstd(sizes, axis=1) / np.nanmean(sizes, axis=1)) ** 2
    pattern = np.select(
        [n_nonzero < 2, (adi < 1.32) & (cv2 < 0.49), adi < 1.32, cv2 < 0.49],
        ["insufficient_history", "smooth", "erratic", "intermittent"],
        "lumpy",
    )
    mine = prof.set_index("product_id").loc[weekly.index]
    assert (mine.xyz_class.to_numpy() == xyz).all()
    assert (mine.pattern.to_numpy() == pattern).all()
    np.testing.assert_allclose(mine.cv, cv, rtol=1e-9)
    assert time.perf_counter() - t0 < 30
