"""Benchmark forecasting + rolling-origin backtest per demand pattern on many weekly series.

Generates weekly demand with numpy (default 10,000 series x 104 weeks; about 40 % smooth,
20 % erratic, 25 % intermittent, 15 % lumpy by construction, 10 % of them introduced late),
classifies them with `supplyseg.analytics.demand.demand_pattern` (timed apart), then runs
`demand_forecast` (candidates chosen on 3 rolling origins x h = 4, scored on a 4th, plus the
final forecast) and prints the time per method group, the total, the accuracy table and
peak RSS. The naive baseline fits
the same methods one series per StatsForecast call (the usual notebook loop) on a sample and
is extrapolated per series (printed as such). Budget: 10k series <= 60 s.

    .venv/bin/python bench/forecast.py                        # 10,000 series
    .venv/bin/python bench/forecast.py --series 1_000 --loop-sample 20
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from supplyseg.analytics.demand import demand_pattern
from supplyseg.policy.forecast import demand_forecast, forecast_accuracy, forecast_methods

MIX = {"smooth": 0.40, "erratic": 0.20, "intermittent": 0.25, "lumpy": 0.15}


def synthetic_series(n: int, weeks: int, seed: int) -> pd.DataFrame:
    """Sparse long table (rows with y != 0 only) of weekly demand in the given pattern mix."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(list(MIX), size=n, p=list(MIX.values()))
    level = rng.gamma(2.0, 10.0, n)[:, None]
    t = np.arange(weeks)[None, :]
    season = 1.0 + rng.uniform(0.0, 0.3, n)[:, None] * np.sin(2 * np.pi * t / 52.0)
    smooth = rng.gamma(25.0, level * season / 25.0, (n, weeks))  # cv 0.2
    erratic = level * rng.lognormal(-0.5, 1.0, (n, weeks)) * (rng.random((n, weeks)) < 0.95)
    p_int = rng.uniform(0.15, 0.6, n)[:, None]
    occurs = rng.random((n, weeks)) < p_int
    intermittent = occurs * (1.0 + rng.poisson(level / 4.0, (n, weeks)))
    lumpy = occurs * np.ceil(level * rng.lognormal(-0.5, 1.0, (n, weeks)))
    y = np.select(
        [kind[:, None] == k for k in MIX],
        [np.round(smooth), np.round(erratic), intermittent, lumpy],
    )
    late = rng.random(n) < 0.10  # new items: history starts somewhere in the second year
    first = np.where(late, rng.integers(weeks // 2, weeks, n), 0)
    y[t < first[:, None]] = 0.0
    ds = pd.date_range("2023-01-02", periods=weeks, freq="W-MON")
    ids = np.array([f"sku{i:06d}" for i in range(n)])
    row, col = np.nonzero(y)
    return pd.DataFrame({"unique_id": ids[row], "ds": ds[col], "y": y[row, col]})


def loop_baseline(series: pd.DataFrame, methods: pd.DataFrame, sample: int) -> float:
    """Seconds per series when every series gets its own demand_forecast (StatsForecast) call."""
    ids = methods["unique_id"].sample(sample, random_state=0).to_numpy()
    t0 = time.perf_counter()
    for uid in ids:
        demand_forecast(series[series["unique_id"] == uid], methods[methods["unique_id"] == uid])
    return (time.perf_counter() - t0) / len(ids)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--series", type=lambda s: int(s.replace("_", "")), default=10_000)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--loop-sample", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()

    t0 = time.perf_counter()
    import statsforecast  # noqa: F401  (timed here so the budget below excludes the import)

    t_import = time.perf_counter() - t0
    series = synthetic_series(a.series, a.weeks, a.seed)
    t0 = time.perf_counter()
    patterns = demand_pattern(series, bucket="week")
    t_classify = time.perf_counter() - t0
    methods = forecast_methods(patterns[["unique_id", "pattern"]])

    wall, cpu = time.perf_counter(), time.process_time()
    result = demand_forecast(series, methods, h=4, freq="W-MON", n_windows=4)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    accuracy = forecast_accuracy(result)
    per_series = wall / a.series
    loop = loop_baseline(series, methods, min(a.loop_sample, a.series))

    print(f"series {a.series:,} x {a.weeks} weeks; sparse rows {len(series):,}")
    print(f"statsforecast import {t_import:.2f} s; pattern classification {t_classify:.2f} s")
    print("\npatterns:", methods["pattern"].value_counts().to_dict())
    print("fallback to HistoricAverage (too short):", int(result["fallback"].sum()))
    print("\nseconds per (step, method, season) group:")
    counts = result.groupby(["method", "season_length"]).size()
    for name, sec in result.attrs["seconds"].items():
        print(f"  {name:<34} {sec:7.2f}")
    print("series per (method, backtest season):", counts.to_dict())
    print(f"\ndemand_forecast total: {wall:.2f} s wall, {cpu:.2f} s CPU (budget 60 s)")
    print(
        f"per series: vectorised {1e3 * per_series:.2f} ms, one call per series"
        f" {1e3 * loop:.2f} ms (sample of {min(a.loop_sample, a.series)}, extrapolated"
        f" {loop * a.series:.0f} s) -> ratio {loop / per_series:.1f}x"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")
    print(f"std from backtest: {(result['std_source'] == 'backtest').mean():.1%}")
    print("\naccuracy per pattern (relative_mae = method MAE / seasonal-naive MAE):")
    with pd.option_context("display.width", 160, "display.precision", 3):
        print(accuracy.to_string(index=False))


if __name__ == "__main__":
    main()
