"""The workspace behind the workbench's run screens: which folder, which run, and the headline
figures and alerts read from a run folder.

The folder is the optional service setting ``SUPPLYSEG_WORKSPACE`` (``supplyseg serve
--workspace``). Without it, or when it cannot be read, `workspace_or_reason` gives the sentence
a screen shows instead: what to set, or what is wrong with the folder. Every figure that a run
cannot tell is None and reads "unknown", never 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from fastapi import Request

from supplyseg.errors import SupplysegError
from supplyseg.service.security import Principal

if TYPE_CHECKING:
    from supplyseg.config import Workspace

__all__ = [
    "NO_WORKSPACE",
    "RunAlerts",
    "headline_kpis",
    "records",
    "run_alerts",
    "run_folder",
    "workspace_or_reason",
]

NO_WORKSPACE = (
    "No workspace folder is set, so the workbench cannot read run folders. Start the service"
    " with `supplyseg serve --workspace DIR` or set SUPPLYSEG_WORKSPACE=DIR (the folder holding"
    " supplyseg.yaml), then reload this page."
)


def workspace_or_reason(request: Request) -> tuple[Workspace | None, str | None]:
    """The service's workspace, or None and the sentence saying what to set or fix."""
    folder: Path | None = request.app.state.settings.workspace
    if folder is None:
        return None, NO_WORKSPACE
    from supplyseg.config import load_workspace

    try:
        return load_workspace(folder), None
    except SupplysegError as exc:
        return None, f"The workspace {folder} cannot be read: {exc}"


def run_folder(ws: Workspace, run_id: str | None) -> Path | None:
    """The complete run ``run_id`` of ``ws`` (a name in its output folder, nothing else); None
    when there is no such run."""
    if not run_id or run_id != Path(run_id).name or run_id.startswith("."):
        return None
    path = ws.out_path / run_id
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = manifest.get("status") == "complete" and manifest.get("kind") == "run"
    return path if ok else None


def _value(value: Any) -> Any:
    missing = value is None or value is pd.NaT or value is pd.NA
    missing = missing or (isinstance(value, float) and value != value)  # NaN
    return None if missing else value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts, with None where a value is missing (NaN, NaT, None)."""
    return [{str(k): _value(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _table(path: Path, name: str, columns: list[str]) -> pd.DataFrame | None:
    file = path / f"{name}.parquet"
    if not file.exists():
        return None
    frame = pd.read_parquet(file)
    return frame if set(columns) <= set(frame.columns) else None


def _known_sum(values: pd.Series) -> float | None:
    total = values.sum(min_count=1)
    return None if pd.isna(total) else float(total)


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


def _service_rows(path: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Per product segment: target, simulated fill rate (the replay) and demand."""
    rows = (manifest.get("summaries") or {}).get("simulation")
    if not isinstance(rows, list):
        table = _table(
            path,
            "policy_simulation_summary",
            ["product_segment", "service_target", "achieved_fill_rate", "demand"],
        )
        rows = [] if table is None else table.to_dict("records")
    out = []
    for r in rows:
        fill = r.get("achieved_fill_rate")
        target = r.get("service_target")
        out.append(
            {
                "segment": str(r.get("product_segment")),
                "service_type": r.get("service_type"),
                "target": None if target is None or pd.isna(target) else float(target),
                "fill_rate": None if fill is None or pd.isna(fill) else float(fill),
                "demand": float(r.get("demand") or 0.0),
            }
        )
    return out


def headline_kpis(path: Path) -> dict[str, Any]:
    """The run's headline figures (None = unknown): ``inventory_value`` (with
    ``inventory_items_unknown``, items whose value is missing, so the sum is a lower bound),
    ``service`` (per product segment: target, simulated fill rate), ``fill_rate`` (replay,
    demand-weighted), ``cts_total``, ``revenue``, ``cts_pct_revenue``, ``otif`` (on-time in-full
    share of due lines), ``currency``, ``as_of``."""
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    kpis: dict[str, Any] = {"run_id": path.name, "as_of": manifest.get("as_of")}
    doc = path / "policy_document.json"
    try:
        kpis["currency"] = json.loads(doc.read_text(encoding="utf-8")).get("currency")
    except (OSError, ValueError):
        kpis["currency"] = None
    pol = _table(path, "policies", ["inventory_value"])
    kpis["inventory_value"] = None if pol is None else _known_sum(pol["inventory_value"])
    kpis["inventory_items_unknown"] = 0 if pol is None else int(pol["inventory_value"].isna().sum())
    service = _service_rows(path, manifest)
    kpis["service"] = service
    known = [s for s in service if s["fill_rate"] is not None and s["demand"] > 0]
    weight = sum(s["demand"] for s in known)
    kpis["fill_rate"] = (
        sum(s["fill_rate"] * s["demand"] for s in known) / weight if weight > 0 else None
    )
    cts = _table(path, "cost_to_serve_customer", ["cts_total", "revenue"])
    kpis["cts_total"] = None if cts is None else _known_sum(cts["cts_total"])
    kpis["revenue"] = None if cts is None else _known_sum(cts["revenue"])
    kpis["cts_pct_revenue"] = _ratio(kpis["cts_total"], kpis["revenue"])
    otif = _table(path, "customer_metrics", ["lines_otif", "lines_due"])
    kpis["otif"] = (
        None
        if otif is None
        else _ratio(_known_sum(otif["lines_otif"]), _known_sum(otif["lines_due"]))
    )
    return kpis


@dataclass(frozen=True)
class RunAlerts:
    """Monitoring alerts of a run: the rows, where they come from and when."""

    rows: list[dict[str, Any]]
    source: str


def _visible(alerts: pd.DataFrame, principal: Principal) -> pd.DataFrame:
    # An alert about one customer is that customer's data, as an order is.
    if principal.customers is None:
        return alerts
    other = (alerts["entity"] == "customer") & ~alerts["id"].astype(str).isin(principal.customers)
    return alerts[~other]


def run_alerts(ws: Workspace, path: Path, principal: Principal) -> RunAlerts:
    """The alerts `supplyseg monitor` wrote into the run (``alerts.parquet``), else computed now
    with `supplyseg.scenario.monitor.monitor_alerts`; only those ``principal`` may see."""
    file = path / "alerts.parquet"
    if file.exists():
        alerts = pd.read_parquet(file)
        at = datetime.fromtimestamp(file.stat().st_mtime, UTC)
        source = f"written by `supplyseg monitor` at {at:%Y-%m-%d %H:%M} UTC"
    else:
        from supplyseg.scenario.monitor import monitor_alerts

        alerts = monitor_alerts(ws, path.name).alerts
        source = "computed now (no `supplyseg monitor` output in the run)"
    alerts = _visible(alerts, principal)
    return RunAlerts(records(alerts), source)
