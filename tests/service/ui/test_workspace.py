"""The workspace setting and what the workbench reads from run folders: headline KPIs and
monitoring alerts on the dashboard, and the sentence shown without a workspace."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from supplyseg.errors import ConfigError
from supplyseg.service.commands import publish_policy, read_policy_file
from supplyseg.service.security import Principal
from supplyseg.service.settings import Settings
from supplyseg.service.ui.workspace import NO_WORKSPACE, headline_kpis, run_alerts, run_folder

Browser = Callable[[str], Any]


def _run(workspace: Path) -> Path:
    return workspace / "out" / (workspace / "out" / "latest").read_text().strip()


def test_the_setting_reads_the_environment_and_wants_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings(db_url="sqlite://").workspace is None
    monkeypatch.setenv("SUPPLYSEG_WORKSPACE", str(tmp_path))
    assert Settings.from_env(db_url="sqlite://").workspace == tmp_path.resolve()
    with pytest.raises(ConfigError, match=r"SUPPLYSEG_WORKSPACE.*is not a folder"):
        Settings.from_env(db_url="sqlite://", workspace=tmp_path / "nope")


def test_without_a_workspace_the_screens_say_what_to_set(service: Any, browser: Browser) -> None:
    admin = browser("admin")
    for path in ("/ui/", "/ui/policies"):
        answer = admin.get(path)
        assert answer.status_code == 200
        assert "SUPPLYSEG_WORKSPACE" in answer.text
        assert "--workspace" in answer.text
    assert NO_WORKSPACE.startswith("No workspace folder is set")


def test_a_run_folder_is_a_complete_run_by_its_name_only(workspace: Path) -> None:
    from supplyseg.config import load_workspace

    ws = load_workspace(workspace)
    run = _run(workspace)
    assert run_folder(ws, run.name) == run
    for bad in ("..", "../ws", ".", "", "latest", f"{run.name}/..", "nope"):
        assert run_folder(ws, bad) is None


def test_headline_kpis_against_the_run_tables(workspace: Path) -> None:
    run = _run(workspace)
    kpis = headline_kpis(run)
    # Independent: the same figures summed straight from the run's own tables.
    pol = pd.read_parquet(run / "policies.parquet")
    cts = pd.read_parquet(run / "cost_to_serve_customer.parquet")
    cm = pd.read_parquet(run / "customer_metrics.parquet")
    sim = pd.read_parquet(run / "policy_simulation_summary.parquet")
    assert kpis["inventory_value"] == pytest.approx(pol["inventory_value"].sum())
    assert kpis["inventory_items_unknown"] == pol["inventory_value"].isna().sum()
    assert kpis["cts_total"] == pytest.approx(cts["cts_total"].sum())
    assert kpis["cts_pct_revenue"] == pytest.approx(cts["cts_total"].sum() / cts["revenue"].sum())
    assert kpis["otif"] == pytest.approx(cm["lines_otif"].sum() / cm["lines_due"].sum())
    weighted = (sim["achieved_fill_rate"] * sim["demand"]).sum() / sim["demand"].sum()
    assert kpis["fill_rate"] == pytest.approx(weighted)
    assert {s["segment"] for s in kpis["service"]} == set(sim["product_segment"])


def test_unknown_kpis_stay_unknown(workspace: Path) -> None:
    run = _run(workspace)
    for name in ("policies", "cost_to_serve_customer", "customer_metrics"):
        (run / f"{name}.parquet").unlink()
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["summaries"].pop("simulation")
    (run / "manifest.json").write_text(json.dumps(manifest))
    (run / "policy_simulation_summary.parquet").unlink()
    kpis = headline_kpis(run)
    for key in ("inventory_value", "cts_total", "cts_pct_revenue", "otif", "fill_rate"):
        assert kpis[key] is None, key
    assert kpis["service"] == []


def test_the_dashboard_shows_kpis_and_alerts_of_the_published_run(
    workbench: Any, workspace: Path, browser: Browser
) -> None:
    run = _run(workspace)
    op = browser("operator")
    before = op.get("/ui/").text
    assert "is not a complete run in" in before  # the fixture policy came from elsewhere
    publish_policy(workbench.db_url, read_policy_file(run / "policy_document.json"))
    page = op.get("/ui/").text
    assert f"Run <code>{run.name}</code>" in page
    kpis = headline_kpis(run)
    assert f"{kpis['inventory_value']:,.0f}" in page
    assert f"{kpis['otif'] * 100:.1f} %" in page
    assert "Service target against the simulated fill rate" in page
    assert "Monitoring alerts of the latest run" in page
    assert "computed now" in page  # no `supplyseg monitor` output yet
    assert "no_baseline" in page  # nothing approved in the workspace


def test_alerts_come_from_the_monitor_file_and_follow_the_binding(workspace: Path) -> None:
    from supplyseg.config import load_workspace

    run = _run(workspace)
    alerts = pd.DataFrame.from_records(
        [
            {"severity": "warning", "kind": "override_expired", "entity": "customer",
             "id": "C00001", "message": "m1", "value": 3.0, "threshold": 0.0},
            {"severity": "info", "kind": "override_expiring", "entity": "customer",
             "id": "C00002", "message": "m2", "value": 5.0, "threshold": 14.0},
            {"severity": "warning", "kind": "service_gap", "entity": "product_segment",
             "id": "AX", "message": "m3", "value": 0.1, "threshold": 0.02},
        ]
    )  # fmt: skip
    alerts.to_parquet(run / "alerts.parquet", index=False)
    ws = load_workspace(workspace)
    everyone = run_alerts(ws, run, Principal("k", "operator", None))
    assert "supplyseg monitor" in everyone.source
    assert [a["message"] for a in everyone.rows] == ["m1", "m2", "m3"]
    bound = run_alerts(ws, run, Principal("k", "operator", frozenset({"C00002"})))
    assert [a["message"] for a in bound.rows] == ["m2", "m3"]
