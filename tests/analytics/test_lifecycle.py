"""Item lifecycle: hand cases on the thresholds, settings, the synthetic company's designed
lifecycles, and the real Online Retail data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pytest

from supplyseg.analytics.demand import demand_outputs, demand_profile
from supplyseg.analytics.lifecycle import LIFECYCLES
from supplyseg.config.demand import DemandSettings, LifecycleSettings
from supplyseg.data.synth import HORIZON_END, synth_company
from supplyseg.errors import ConfigError

D0 = dt.date(2024, 1, 1)  # a Monday


def lines_of(*rows: tuple[str, int, float]) -> pd.DataFrame:
    """Order lines from (product, week offset, quantity); one order per line, price 1."""
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": "c1",
            "product_id": [r[0] for r in rows],
            "order_date": [D0 + dt.timedelta(weeks=r[1]) for r in rows],
            "quantity": [float(r[2]) for r in rows],
            "unit_price": 1.0,
        }
    )


def life(lines: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    return demand_profile(lines, **kwargs).set_index("product_id")  # type: ignore[arg-type]


def test_thresholds_at_their_boundaries_weekly_defaults() -> None:
    # As-of week 40 (defaults: new 13, dormant 13, obsolete 26 weeks).
    lines = lines_of(
        ("act", 0, 5), ("act", 40, 5),  # sold in the as-of week
        ("dor", 0, 5), ("dor", 27, 5),  # 13 weeks since: dormant (12 would be active)
        ("act12", 0, 5), ("act12", 28, 5),
        ("obs", 0, 5), ("obs", 14, 5),  # 26 weeks since: obsolete
        ("dor25", 0, 5), ("dor25", 15, 5),
        ("new", 28, 5),  # first demand 12 weeks before: new
        ("old", 27, 5), ("old", 40, 1),  # first demand 13 weeks before: active
    )  # fmt: skip
    got = life(lines)
    want = {
        "act": ("active", 0),
        "dor": ("dormant", 13),
        "act12": ("active", 12),
        "obs": ("obsolete", 26),
        "dor25": ("dormant", 25),
        "new": ("new", 12),
        "old": ("active", 0),
    }
    for item, (cls, since) in want.items():
        assert (got.loc[item, "lifecycle"], got.loc[item, "buckets_since_demand"]) == (cls, since)
    assert got.loc["dor", "first_demand_date"] == pd.Timestamp(D0)
    assert got.loc["dor", "last_demand_date"] == pd.Timestamp(D0 + dt.timedelta(weeks=27))
    assert set(got["lifecycle"]) <= set(LIFECYCLES)


def test_net_demand_decides_and_never_positive_is_obsolete_with_unknown_dates() -> None:
    lines = lines_of(
        ("a", 0, 5), ("a", 10, 5), ("a", 10, -5),  # week 10 nets to 0: last demand week 0
        ("b", 5, -3),  # only a credit note: no demand at all
        ("c", 0, 1), ("c", 10, 1),
    )  # fmt: skip
    got = life(lines, settings=DemandSettings(lifecycle=LifecycleSettings(dormant_buckets=5)))
    assert got.loc["a", "buckets_since_demand"] == 10
    assert got.loc["a", "lifecycle"] == "dormant"
    assert got.loc["b", "lifecycle"] == "obsolete"
    assert pd.isna(got.loc["b", "buckets_since_demand"])
    assert pd.isna(got.loc["b", "first_demand_date"])
    assert pd.isna(got.loc["b", "last_demand_date"])
    assert got["buckets_since_demand"].dtype == "Int64"
    assert got.loc["c", "lifecycle"] == "new"  # 10 weeks of history < 13


def test_stopped_beats_new_and_end_moves_the_as_of() -> None:
    # First sale 4 weeks before as-of, last 3 weeks before: new by start, dormant by stop.
    lines = lines_of(("x", 20, 1), ("x", 21, 1), ("y", 0, 1), ("y", 24, 1))
    s = DemandSettings(lifecycle=LifecycleSettings(new_buckets=6, dormant_buckets=3))
    assert life(lines, settings=s).loc["x", "lifecycle"] == "dormant"
    later = life(lines, end=D0 + dt.timedelta(weeks=60))  # as-of 36 weeks after the last sale
    assert later["lifecycle"].tolist() == ["obsolete", "obsolete"]
    assert later.loc[["x", "y"], "buckets_since_demand"].tolist() == [39, 36]


def test_month_and_day_buckets_use_their_own_defaults() -> None:
    lines = lines_of(("a", 0, 1), ("a", 10, 1), ("b", 0, 1), ("b", 30, 1))  # weeks 10, 30
    end = D0 + dt.timedelta(weeks=30)  # 2024-07-29
    month = life(lines, bucket="month", end=end)
    # a: last sale 2024-03-11 (month 2), as-of month 6: 4 months since -> dormant (3..5).
    assert month.loc["a", ["lifecycle", "buckets_since_demand"]].tolist() == ["dormant", 4]
    assert month.loc["a", "last_demand_date"] == pd.Timestamp("2024-03-01")
    day = life(lines, bucket="day", end=end)
    assert day.loc["a", ["lifecycle", "buckets_since_demand"]].tolist() == ["dormant", 140]


def test_settings_are_checked_against_the_bucket_defaults() -> None:
    with pytest.raises(ValueError, match="dormant_buckets: 8 must be less than obsolete_buckets 8"):
        LifecycleSettings(dormant_buckets=8, obsolete_buckets=8)
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        LifecycleSettings(new_buckets=0)
    s = DemandSettings(lifecycle=LifecycleSettings(dormant_buckets=8))  # fine for weeks (26)
    lines = lines_of(("a", 0, 1))
    demand_profile(lines, settings=s)
    with pytest.raises(ConfigError, match=r"demand\.lifecycle\.dormant_buckets: 8 .*6.*month"):
        demand_profile(lines, settings=s, bucket="month")


def test_synthetic_company_lifecycles_are_recovered_exactly() -> None:
    c = synth_company()
    good = c.order_lines.drop(index=c.truth_bad_rows["row_number"].to_numpy() - 1)
    out = demand_outputs(good, end=HORIZON_END)
    truth = c.truth_products.set_index("product_id")["lifecycle"]
    got = out.tables["demand_product"].set_index("product_id")["lifecycle"].reindex(truth.index)
    share = (got == truth).mean()
    print(f"\nsynthetic lifecycle recovered: {share:.1%}", pd.crosstab(truth, got), sep="\n")
    assert share == 1.0
    assert out.summaries["demand_product"]["lifecycle"] == truth.value_counts().to_dict()
    # Per location, an item is never "more alive" than the product.
    loc = out.tables["demand_product_location"]
    rank = {"new": 0, "active": 0, "dormant": 1, "obsolete": 2}
    best = loc.assign(r=loc["lifecycle"].map(rank)).groupby("product_id")["r"].min()
    assert (best == truth.map(rank).reindex(best.index)).all()


RETAIL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "online_retail"


@pytest.mark.slow
def test_online_retail_weekly_lifecycle() -> None:
    path = RETAIL / "online_retail.parquet"
    if not path.exists():
        pytest.skip(f"{path} not present")
    raw = ibis.duckdb.connect().read_parquet(path)
    clean = raw.filter(raw.Quantity > 0, raw.UnitPrice > 0, ~raw.InvoiceNo.startswith("C"))
    lines = clean.select(
        order_id=clean.InvoiceNo,
        customer_id=clean.CustomerID.cast("string"),
        product_id=clean.StockCode,
        order_date=clean.InvoiceDate.cast("date"),
        quantity=clean.Quantity.cast("float64"),
        unit_price=clean.UnitPrice,
    )
    out = demand_outputs(lines, DemandSettings(grains=("product",)), end="2011-12-09")
    prof = out.tables["demand_product"].set_index("product_id")
    counts = out.summaries["demand_product"]["lifecycle"]
    print("\nOnline Retail lifecycle (weekly, as of 2011-12-09):", counts)
    assert sum(counts.values()) == len(prof)
    assert prof.loc["35004C", "lifecycle"] in ("dormant", "obsolete")
    assert prof.loc["35004C", "last_demand_date"] < pd.Timestamp("2011-04-01")
    # 53 weeks of history: two seasons of 52 need 104, so seasonality is unknown everywhere.
    assert prof["seasonal"].isna().all()
    assert prof["seasonal_strength"].isna().all()
    since = prof["buckets_since_demand"].dropna()
    assert ((since >= 26) == (prof.loc[since.index, "lifecycle"] == "obsolete")).all()
