"""Monitoring: the latest run against the last released policy version, as alerts.

`monitor_alerts` compares a run (default the latest) with the baseline: the run whose version
was published last, else approved last (`supplyseg.scenario.approval.last_released`). Checks
(thresholds in `supplyseg.config.monitoring.MonitoringSettings`):

- ``segment_migration`` (entity customer or product, id the scheme): the share of entities in
  both runs whose segment changed; threshold ``migration_share``.
- ``service_gap`` (product_segment): target minus achieved fill rate, demand-weighted, from
  the policy simulation's replay (without one: the policies' expected fill rate; a cycle
  target implies a fill rate at least as high); ``service_gap``.
- ``cts_drift`` (customer_segment, or ``all``): the change in % of cost-to-serve as a share
  of revenue; ``cts_drift_pct``.
- ``forecast_drift`` (product_segment, or ``all``): the rise in % of the forecast error (MASE,
  series-weighted); ``forecast_drift_pct``.
- ``override_expiring`` (info; the override's entity and id): days left, within
  ``override_expiry_days``; ``override_expired`` (warning): days since it expired.
- ``no_baseline`` (info): nothing published or approved yet; only the run's own checks.

A value past its threshold is a ``warning``, past ``critical_factor`` times it ``critical``.
Drifts only compare what both runs have; a change of unknown size (a missing table, a base
of 0) raises nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from supplyseg.config import Workspace
from supplyseg.config.monitoring import SEVERITIES
from supplyseg.policy.overrides import OVERRIDES_FILE, read_overrides
from supplyseg.runs import require_complete, run_path
from supplyseg.scenario.approval import last_released

__all__ = ["ALERT_COLUMNS", "Monitoring", "alerts_at_or_above", "monitor_alerts"]

ALERT_COLUMNS = ("severity", "kind", "entity", "id", "message", "value", "threshold")


class Monitoring:
    """The alerts of one run against its baseline (``baseline`` None when there is none)."""

    def __init__(self, alerts: pd.DataFrame, run: Path, baseline: Path | None) -> None:
        self.alerts, self.run, self.baseline = alerts, run, baseline


def _table(path: Path | None, name: str) -> pd.DataFrame | None:
    if path is None:
        return None
    file = path / f"{name}.parquet"
    return pd.read_parquet(file) if file.exists() else None


def _severity(value: float, threshold: float, factor: float) -> str | None:
    if not np.isfinite(value) or value <= threshold:
        return None
    return "critical" if value > threshold * factor else "warning"


def _migration(new: Path, old: Path) -> list[tuple[str, str, float, int]]:
    """(entity, scheme, share changed, entities compared) per scheme of both runs."""
    out = []
    for entity in ("customer", "product"):
        a, b = _table(old, f"segments_{entity}"), _table(new, f"segments_{entity}")
        if a is None or b is None:
            continue
        key = f"{entity}_id"
        both = a[[key, "scheme", "segment"]].merge(
            b[[key, "scheme", "segment"]], on=[key, "scheme"], suffixes=("_old", "_new")
        )
        for scheme, g in both.groupby("scheme", sort=True):
            moved = g["segment_old"].astype(str) != g["segment_new"].astype(str)
            out.append((entity, str(scheme), float(moved.mean()), len(g)))
    return out


def _ratio_by(frame: pd.DataFrame, by: str, num: str, den: str) -> pd.Series:
    sums = frame.groupby(by)[[num, den]].sum(min_count=1)
    whole = frame[[num, den]].sum(min_count=1)
    sums.loc["all"] = whole
    return (sums[num] / sums[den].where(sums[den] > 0)).astype("float64")


def _cts_share(path: Path) -> pd.Series | None:
    cts, seg = _table(path, "cost_to_serve_customer"), _table(path, "segments_customer")
    if cts is None or seg is None:
        return None
    seg = seg[seg["primary"].astype(bool)][["customer_id", "segment"]]
    frame = cts.merge(seg, on="customer_id", how="left")
    frame["segment"] = frame["segment"].astype(object).fillna("unsegmented").astype(str)
    return _ratio_by(frame, "segment", "cts_total", "revenue")


def _mase(path: Path) -> pd.Series | None:
    acc = _table(path, "forecast_accuracy")
    if acc is None or "mase" not in acc.columns:
        return None
    acc = acc[acc["mase"].notna() & (acc["series"] > 0)]
    acc = acc.assign(w=acc["mase"] * acc["series"], segment=acc["segment"].astype(str))
    return _ratio_by(acc, "segment", "w", "series")


def _service_gaps(path: Path) -> tuple[pd.DataFrame, str]:
    """``target, achieved, gap`` (target - achieved fill rate) per product segment,
    demand-weighted over the items whose target and fill rate are known (an unknown fill rate
    is left out, never counted as 0): the replay when there is one, else the policies'
    expected fill rate. A cycle target implies a fill rate at least as high, so the fill rate
    is held against either kind of target."""
    sim = _table(path, "policy_simulation")
    if sim is not None and len(sim):
        frame = sim.assign(a=sim["achieved_fill_rate"], w=sim["demand"])
        source = "replayed fill rate"
    else:
        pol = _table(path, "policies")
        if pol is None:
            return pd.DataFrame(columns=["target", "achieved", "gap"], dtype="float64"), ""
        pol = pol[pol["expected_fill_rate"].notna()]
        frame = pol.assign(a=pol["expected_fill_rate"], w=pol["demand_mean"])
        source = "expected fill rate"
    frame = frame[(frame["w"] > 0) & frame["a"].notna() & frame["service_target"].notna()]
    frame = frame.assign(
        ta=frame["service_target"] * frame["w"],
        aa=frame["a"] * frame["w"],
        segment=frame["product_segment"].astype(str),
    )
    sums = frame.groupby("segment")[["ta", "aa", "w"]].sum()
    out = pd.DataFrame({"target": sums["ta"] / sums["w"], "achieved": sums["aa"] / sums["w"]})
    return out.assign(gap=out["target"] - out["achieved"]).astype("float64"), source


def _relative(new: pd.Series | None, old: pd.Series | None) -> pd.Series:
    if new is None or old is None:
        return pd.Series(dtype="float64")
    old = old.reindex(new.index)
    ok = old.notna() & new.notna() & (old.abs() > 0)
    return (100 * (new[ok] - old[ok]) / old[ok].abs()).astype("float64")


def monitor_alerts(
    ws: Workspace, run_id: str | None = None, *, today: date | None = None
) -> Monitoring:
    """The alerts of run ``run_id`` (default the latest) in `ALERT_COLUMNS`, most severe first."""
    m, today = ws.monitoring, today or date.today()
    path = run_path(ws, run_id)
    require_complete(path)
    baseline = last_released(ws)
    rows: list[dict[str, Any]] = []

    def add(kind: str, entity: str, ident: str, value: float, threshold: float, text: str,
            severity: str | None = None) -> None:  # fmt: skip
        level = severity or _severity(value, threshold, m.critical_factor)
        if level is not None:
            rows.append(
                {"severity": level, "kind": kind, "entity": entity, "id": ident,
                 "message": text, "value": value, "threshold": threshold}
            )  # fmt: skip

    if baseline is None:
        add("no_baseline", "policy", "-", np.nan, np.nan,
            "no policy version is published or approved yet: drifts are not checked; approve"
            " one with `supplyseg policy approve`", "info")  # fmt: skip
    else:
        where = f"since {baseline.name}"
        for entity, scheme, share, n in _migration(path, baseline):
            add("segment_migration", entity, scheme, share, m.migration_share,
                f"{share:.1%} of {n:,} {entity}s changed {scheme} segment {where}")  # fmt: skip
        for seg, pct in _relative(_cts_share(path), _cts_share(baseline)).items():
            add("cts_drift", "customer_segment", str(seg), abs(pct), m.cts_drift_pct,
                f"cost-to-serve share of revenue of {seg} changed {pct:+.1f}% {where}")  # fmt: skip
        for seg, pct in _relative(_mase(path), _mase(baseline)).items():
            add("forecast_drift", "product_segment", str(seg), pct, m.forecast_drift_pct,
                f"forecast error (MASE) of {seg} rose {pct:+.1f}% {where}")  # fmt: skip
    gaps, source = _service_gaps(path)
    for seg, g in gaps.iterrows():
        add("service_gap", "product_segment", str(seg), float(g["gap"]), m.service_gap,
            f"{seg}: {source} {g['achieved']:.1%} against a target of {g['target']:.1%}"
            f" ({g['gap'] * 100:.1f} points below)")  # fmt: skip
    overrides = read_overrides(ws.root / OVERRIDES_FILE, today=today)
    for r in overrides.expired.to_dict("records"):
        days = (today - r["expires"]).days
        add("override_expired", str(r["entity"]), str(r["id"]), float(days), 0.0,
            f"override {r['field']}={r['value']} (row {r['row']}, {r['owner']}) expired"
            f" {days} days ago, not applied", "warning")  # fmt: skip
    soon = overrides.active[overrides.active["expires"].notna()]
    for r in soon.to_dict("records"):
        days = (r["expires"] - today).days
        if days <= m.override_expiry_days:
            add("override_expiring", str(r["entity"]), str(r["id"]), float(days),
                float(m.override_expiry_days),
                f"override {r['field']}={r['value']} (row {r['row']}, {r['owner']}) expires in"
                f" {days} days ({r['expires']})", "info")  # fmt: skip
    alerts = pd.DataFrame.from_records(rows, columns=list(ALERT_COLUMNS))
    rank = alerts["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    alerts = alerts.iloc[np.argsort(-rank.to_numpy(), kind="stable")].reset_index(drop=True)
    return Monitoring(alerts.astype({"value": "float64", "threshold": "float64"}), path, baseline)


def alerts_at_or_above(alerts: pd.DataFrame, level: str) -> int:
    """How many alerts are at or above severity ``level`` (``never``: none)."""
    if level not in SEVERITIES:
        return 0
    floor = SEVERITIES.index(level)
    return int(alerts["severity"].map(lambda s: SEVERITIES.index(s) >= floor).sum())
