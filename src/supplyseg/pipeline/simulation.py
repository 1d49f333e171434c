"""The simulation step: the policy computed before the last window, replayed on its actual
demand."""

from __future__ import annotations

import pandas as pd

from supplyseg.analytics.demand import demand_outputs, demand_series
from supplyseg.pipeline.state import _demand_table, _history, _item_grain, _Run, _unique_ids
from supplyseg.pipeline.steps import _forecast_result, _policy_result
from supplyseg.policy.assign import DAYS_PER_BUCKET
from supplyseg.policy.optimised import optimise_policies
from supplyseg.policy.simulate import (
    policy_simulation,
    simulation_summary,
    split_history,
    window_start,
)


def _simulation(r: _Run) -> None:
    """Replay the window's actual daily demand against the policy computed before it."""
    ws = r.workspace
    settings, bucket = ws.simulation, ws.analysis.bucket
    demand = _demand_table(r)
    if not settings.enabled:
        r.notes.append("simulation: disabled in supplyseg.yaml")
        return
    if demand is None or "policies" not in r.frames:
        r.warnings.append("simulation: skipped, no policies to replay")
        return
    n = settings.window(bucket)
    history = _history(r)
    # The window is whole buckets, the last one the as-of date's (possibly partial).
    as_of = pd.Timestamp(r.as_of)
    last = {
        "day": as_of,
        "week": as_of - pd.Timedelta(days=as_of.weekday()),
        "month": as_of.replace(day=1),
    }[bucket]
    start = window_start(history, n, bucket=bucket, end=last)
    before, _ = split_history(history, n, bucket=bucket, end=last)
    need = settings.min_history_buckets or n
    have = int(pd.Series(before["ds"]).nunique()) if len(before) else 0
    if have < need:
        r.warnings.append(
            f"simulation: skipped, {have} {bucket}s of demand before the {n}-{bucket} window"
            f" (< {need}); fix: more history, or a shorter simulation.buckets"
        )
        return
    grain = _item_grain(r)
    lines = r.dataset.tables["order_lines"]
    grain_name = "product_location" if len(grain) > 1 else "product"
    profile = demand_outputs(
        lines,
        ws.demand.model_copy(update={"grains": (grain_name,)}),
        bucket=bucket,
        start=ws.analysis.start,
        end=(start - pd.Timedelta(days=1)).date(),
    ).tables[f"demand_{grain_name}"]
    forecast = _forecast_result(r, profile, before)
    result = _policy_result(
        r,
        profile,
        forecast.forecast if forecast else None,
        forecast.path if forecast else None,
        before,
    )
    if ws.policies.optimise.enabled:  # replay the policy as the run sets it
        result.policies = optimise_policies(result.policies, ws.policies.optimise).policies
    daily_history = demand_series(lines, grain, "day", horizon_end=r.as_of, start=start.date())
    daily_history["unique_id"] = _unique_ids(daily_history, grain)
    # Replayed day by day, as a daily planning run checks stock: times and rates per day.
    days = DAYS_PER_BUCKET[bucket]
    p = result.policies
    policies = p.assign(
        lead_time=p["lead_time"] * days,
        review_period=p["review_period"] * days,
        demand_mean=p["demand_mean"] / days,
        bucket="day",
    )
    window_days = (as_of - start).days + 1
    sim = policy_simulation(
        policies,
        daily_history[["unique_id", "ds", "y"]],
        buckets=window_days,
        start=start,
        horizon_end=as_of,
    )
    # What the replayed (out-of-sample) policy was built on, for reading results by pattern.
    built_on = policies.assign(unique_id=_unique_ids(policies, grain))
    built_on = built_on[["unique_id", "pattern", "lifecycle", "demand_source"]]
    sim = sim.merge(built_on.drop_duplicates("unique_id"), on="unique_id", how="left")
    r.write("policy_simulation", sim)
    summary = simulation_summary(sim)
    r.write("policy_simulation_summary", summary)
    r.facts["simulation"] = summary.to_dict("records")
    r.facts["simulation_window"] = {
        "start": str(start.date()),
        "end": str(r.as_of),
        "days": window_days,
        "buckets": n,
        "bucket": bucket,
    }
    r.notes.append(
        f"simulation: {len(sim):,} stocked items replayed over {window_days} days from"
        f" {start.date()} against policies computed from the data before"
    )
