"""Monitoring: drifts against the released version become alerts; exit code 3 at fail_on."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from supplyseg import cli
from supplyseg.config import load_workspace
from supplyseg.pipeline import run
from supplyseg.scenario.approval import approve, record_publish
from supplyseg.scenario.monitor import ALERT_COLUMNS, alerts_at_or_above, monitor_alerts

from .workspaces import small_workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A workspace with one run, not yet approved."""
    ws = small_workspace(tmp_path_factory.mktemp("mon"), "monitoring:\n  fail_on: never\n")
    return ws, run(load_workspace(ws), report=False).path


def _drifted(ws: Path, base: Path, name: str) -> str:
    """A copy of ``base`` with half the customers moved, CTS doubled, MASE up 50 %."""
    new = ws / "out" / name
    shutil.copytree(base, new, ignore=shutil.ignore_patterns("approval.jsonl"))
    seg = pd.read_parquet(new / "segments_customer.parquet")
    half = seg["customer_id"].isin(seg["customer_id"].drop_duplicates().iloc[::2])
    seg.loc[half, "segment"] = seg.loc[half, "segment"].astype(str) + " (moved)"
    seg.to_parquet(new / "segments_customer.parquet", index=False)
    cts = pd.read_parquet(new / "cost_to_serve_customer.parquet")
    cts["cts_total"] *= 2
    cts.to_parquet(new / "cost_to_serve_customer.parquet", index=False)
    acc = pd.read_parquet(new / "forecast_accuracy.parquet")
    acc["mase"] *= 1.5
    acc.to_parquet(new / "forecast_accuracy.parquet", index=False)
    return name


def test_without_a_baseline_only_the_runs_own_checks(released: tuple[Path, Path]) -> None:
    ws_dir, path = released
    result = monitor_alerts(load_workspace(ws_dir), path.name)
    assert result.baseline is None
    assert list(result.alerts.columns) == list(ALERT_COLUMNS)
    kinds = set(result.alerts["kind"])
    assert "no_baseline" in kinds
    assert kinds <= {"no_baseline", "service_gap"}


def test_drifts_against_the_published_version(released: tuple[Path, Path]) -> None:
    ws_dir, path = released
    ws = load_workspace(ws_dir)
    approve(ws, path.name, "ann")
    assert monitor_alerts(ws, path.name).baseline == path  # approved counts when none published
    record_publish(ws, path, "ops")
    same = monitor_alerts(ws, path.name).alerts
    assert not same["kind"].isin(["segment_migration", "cts_drift", "forecast_drift"]).any()
    name = _drifted(ws_dir, path, f"{path.name}-drift")
    found = monitor_alerts(ws, name).alerts
    alerts = found.set_index(["kind", "entity", "id"]).sort_index()
    # Every scheme moved half its customers: 50 % > 2 x 10 % -> critical.
    moved = alerts.loc[("segment_migration", "customer")]
    assert (moved["severity"] == "critical").all()
    assert moved["value"].between(0.45, 0.55).all()
    assert ("segment_migration", "product") not in alerts.index
    # CTS share of revenue doubled (+100 % > 2 x 10 %); forecast error +50 % (> 20 %).
    cts = alerts.loc[("cts_drift", "customer_segment", "all")]
    assert cts["value"] == pytest.approx(100.0)
    assert cts["severity"] == "critical"
    fc = alerts.loc[("forecast_drift", "product_segment", "all")]
    assert fc["value"] == pytest.approx(50.0)
    assert fc["threshold"] == 20.0
    # Most severe first.
    order = found["severity"].map({"critical": 0, "warning": 1, "info": 2}).to_numpy()
    assert (order[:-1] <= order[1:]).all()


def test_overrides_expiring_soon_and_expired(released: tuple[Path, Path]) -> None:
    ws_dir, path = released
    product = pd.read_parquet(path / "policies.parquet")["product_id"].iloc[0]
    soon, gone = date.today() + timedelta(days=3), date.today() - timedelta(days=2)
    (ws_dir / "overrides.csv").write_text(
        "entity,id,field,value,reason,owner,expires\n"
        f"product,{product},service_target,0.99,a,ann,{soon}\n"
        f"product,{product},lead_time_days,10,b,bob,{gone}\n"
    )
    try:
        alerts = monitor_alerts(load_workspace(ws_dir), path.name).alerts
    finally:
        (ws_dir / "overrides.csv").unlink()
    expiring = alerts[alerts["kind"] == "override_expiring"].iloc[0]
    assert (expiring["severity"], expiring["value"], expiring["id"]) == ("info", 3.0, product)
    expired = alerts[alerts["kind"] == "override_expired"].iloc[0]
    assert (expired["severity"], expired["value"]) == ("warning", 2.0)


def test_exit_code_3_at_or_above_fail_on(released: tuple[Path, Path]) -> None:
    ws_dir, path = released
    name = _drifted(ws_dir, path, f"{path.name}-cli")
    quiet = runner.invoke(cli.app, ["monitor", str(ws_dir), "--run", name])
    assert quiet.exit_code == 0, quiet.output  # fail_on: never
    alerts = pd.read_parquet(ws_dir / "out" / name / "alerts.parquet")
    assert alerts_at_or_above(alerts, "critical") > 0
    assert alerts_at_or_above(alerts, "never") == 0
    assert "Alerts" in (ws_dir / "out" / name / "report.html").read_text()
    yaml = ws_dir / "supplyseg.yaml"
    text = yaml.read_text()
    yaml.write_text(text.replace("fail_on: never", "fail_on: critical"))
    try:
        loud = runner.invoke(cli.app, ["monitor", str(ws_dir), "--run", name])
        assert loud.exit_code == 3, loud.output
        assert "exit code 3" in loud.output
        # A run with no drift and no service gap above the critical line passes.
        yaml.write_text(text.replace("fail_on: never", "fail_on: critical\n  service_gap: 1.0"))
        fine = runner.invoke(cli.app, ["monitor", str(ws_dir), "--run", path.name])
        assert fine.exit_code == 0, fine.output
    finally:
        yaml.write_text(text)


def test_service_gap_names_achieved_and_target_and_leaves_unknown_fill_rates_out(
    released: tuple[Path, Path],
) -> None:
    ws_dir, path = released
    new = ws_dir / "out" / "gap-run"
    shutil.copytree(path, new, ignore=shutil.ignore_patterns("approval.jsonl"))
    sim = pd.DataFrame(
        {
            "product_segment": ["AX", "AX", "AX"],
            "service_target": [0.98, 0.98, 0.98],
            "achieved_fill_rate": [0.90, 0.80, float("nan")],  # the third is unknown
            "demand": [30.0, 10.0, 1000.0],
        }
    )
    sim.to_parquet(new / "policy_simulation.parquet", index=False)
    alerts = monitor_alerts(load_workspace(ws_dir), "gap-run").alerts
    gap = alerts[alerts["kind"] == "service_gap"].iloc[0]
    # Demand-weighted over the known items: (30 x 0.90 + 10 x 0.80) / 40 = 87.5 %; counting
    # the unknown one as 0 would read 3.4 %.
    assert gap["value"] == pytest.approx(0.98 - 0.875)
    assert gap["message"] == (
        "AX: replayed fill rate 87.5% against a target of 98.0% (10.5 points below)"
    )
