"""The scenarios screen: the comparison ``supplyseg scenario compare`` wrote
(``<output_dir>/scenario_comparison/scenario_comparison.parquet``) as a table of the whole
business, one SVG chart per metric (`supplyseg.service.ui.charts`) and the full table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from supplyseg.service.ui.auth import UiUser
from supplyseg.service.ui.charts import grouped_bars
from supplyseg.service.ui.render import current_user, page, require
from supplyseg.service.ui.workspace import records, workspace_or_reason

__all__ = ["COMPARISON_FILE", "comparison_view", "router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[UiUser, Depends(current_user)]
COMPARISON_FILE = "scenario_comparison/scenario_comparison.parquet"
_COLUMNS = {"scenario", "segment", "metric", "value", "delta", "delta_pct"}


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def comparison_view(frame: pd.DataFrame) -> dict[str, Any]:
    """What the page shows of a comparison table: ``scenarios`` (base first), ``summary`` (per
    metric, the whole business: label and per scenario the value text and delta in %),
    ``charts`` (one per metric) and ``rows`` (every row, as text)."""
    from supplyseg.scenario.compare import ALL, METRICS
    from supplyseg.scenario.page import LABELS, metric_text

    scenarios = list(dict.fromkeys(frame["scenario"].astype(str)))
    metrics = [m for m in METRICS if (frame["metric"] == m).any()]
    metrics += sorted(set(frame["metric"].astype(str)) - set(metrics))
    summary, charts = [], []
    for metric in metrics:
        mine = frame[frame["metric"] == metric]
        whole = {str(r["scenario"]): r for r in records(mine[mine["segment"] == ALL])}
        cells: list[dict[str, Any]] = []
        for name in scenarios:
            r = whole.get(name)
            if r is None:
                cells.append({"value": "unknown", "delta_pct": None})
                continue
            pct = r["delta_pct"] if name != scenarios[0] else None
            cells.append({"value": metric_text(metric, _float(r["value"])), "delta_pct": pct})
        summary.append({"label": LABELS.get(metric, metric), "cells": cells})
        parts = mine[mine["segment"] != ALL]
        if not parts.empty:
            fmt = lambda v, m=metric: metric_text(m, v)  # noqa: E731
            charts.append(grouped_bars(parts, LABELS.get(metric, metric), scenarios, fmt))
    rows = [
        {
            "scenario": r["scenario"],
            "segment": r["segment"],
            "metric": LABELS.get(str(r["metric"]), str(r["metric"])),
            "value": metric_text(str(r["metric"]), _float(r["value"])),
            "delta": metric_text(str(r["metric"]), _float(r["delta"])),
            "delta_pct": "unknown" if r["delta_pct"] is None else f"{r['delta_pct']:+.1f} %",
        }
        for r in records(frame)
    ]
    return {"scenarios": scenarios, "summary": summary, "charts": charts, "rows": rows}


@router.get("/scenarios")
def scenarios(request: Request, user: UserDep) -> Response:
    """The latest scenario comparison of the workspace, or what to do to have one."""
    require(user, "policies:read")
    ws, reason = workspace_or_reason(request)
    view: dict[str, Any] | None = None
    written = None
    if ws is not None:
        file = ws.out_path / COMPARISON_FILE
        frame = pd.read_parquet(file) if file.exists() else None
        if frame is None:
            reason = (
                f"No scenario comparison in {ws.out_path} yet: run `supplyseg scenario compare"
                f" {ws.root} base SCENARIO ...` (scenarios are files in {ws.root / 'scenarios'})."
            )
        elif not set(frame.columns) >= _COLUMNS or frame.empty:
            reason = f"{file} is not a scenario comparison table; run the comparison again."
        else:
            view = comparison_view(frame)
            written = datetime.fromtimestamp(file.stat().st_mtime, UTC)
    return page(
        request,
        "scenarios.html",
        user,
        title="Scenarios",
        reason=reason,
        view=view,
        written=written,
    )
