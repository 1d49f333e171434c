"""The main job: load + validate, then each analytics step; one immutable folder per run.

``run(workspace)`` writes ``out/<run_id>/`` with ``manifest.json`` (row accounting, reasons,
config hash, package version, timings, notes), ``rejects.parquet`` and the step outputs, then
points ``out/latest`` at the new run.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from supplyseg import __version__
from supplyseg.config import Workspace, config_hash
from supplyseg.config.assumptions import assumptions
from supplyseg.data.load import Dataset, load_dataset
from supplyseg.engine import backend_label, connect
from supplyseg.errors import ConfigError
from supplyseg.pipeline.landed import _landed_cost
from supplyseg.pipeline.simulation import _simulation
from supplyseg.pipeline.state import _Run, _timed
from supplyseg.pipeline.steps import (
    _cost_to_serve,
    _customer,
    _demand,
    _forecast,
    _policy,
    _segment,
    _supplier,
)
from supplyseg.policy.overrides import workspace_overrides
from supplyseg.report import write_report
from supplyseg.report.background import BackgroundWorkbook
from supplyseg.runs import (
    compare_runs,
    explain,
    latest_run,
    new_run_id,
    point_marker,
    require_complete,
    run_path,
    staging_folder,
)

__all__ = [
    "STEPS",
    "RunResult",
    "compare_runs",
    "compare_windows",
    "explain",
    "latest_run",
    "new_run_id",
    "require_complete",
    "run",
    "run_path",
]

# Step names in the order they run; progress callbacks receive them.
STEPS = (
    "load",
    "demand",
    "cost_to_serve",
    "customer",
    "segment",
    "supplier",
    "forecast",
    "policy",
    "landed_cost",
    "simulation",
    "report",
)

Progress = Callable[[str, int, int], None]


_STEP_FUNCTIONS: dict[str, Callable[[_Run], None]] = {
    "demand": _demand,
    "cost_to_serve": _cost_to_serve,
    "customer": _customer,
    "segment": _segment,
    "supplier": _supplier,
    "forecast": _forecast,
    "policy": _policy,
    "landed_cost": _landed_cost,
    "simulation": _simulation,
}


@dataclass
class RunResult:
    """What a run produced: its id and folder, the manifest, and the loaded dataset."""

    run_id: str
    path: Path
    manifest: dict[str, Any]
    dataset: Dataset
    outputs: dict[str, Path] = field(default_factory=dict)


def _manifest(r: _Run, run_id: str, backend: str, timings: dict[str, float]) -> dict[str, Any]:
    ws, accounts = r.workspace, r.dataset.accounts
    return {
        "run_id": run_id,
        "workspace": ws.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "supplyseg_version": __version__,
        "config_hash": config_hash(ws),
        "backend": backend,
        "kind": "run" if "demand" in timings else "check",
        "as_of": str(r.as_of),
        "scenario": ws.scenario.name,
        "assumptions": assumptions(ws),
        "segmentation": r.facts.get("segmentation", {}),
        "tables": {
            name: {
                "source": acc.source,
                "read": acc.read,
                "loaded": acc.loaded,
                "rejected": acc.rejected,
                "reasons": acc.reasons,
                **({"nulled": acc.nulled} if acc.nulled else {}),
            }
            for name, acc in accounts.items()
        },
        "rows": {
            "read": sum(a.read for a in accounts.values()),
            "loaded": sum(a.loaded for a in accounts.values()),
            "rejected": sum(a.rejected for a in accounts.values()),
        },
        "timings_seconds": {
            **timings,
            **{f"load.{n}": a.seconds for n, a in accounts.items()},
        },
        "outputs": sorted(p.name for p in r.outputs.values()),
        "summaries": {k: v for k, v in r.facts.items() if k not in ("as_of", "segmentation")},
        "warnings": r.warnings,
        "notes": r.notes,
    }


def _write_manifest(r: _Run, label: str, timings: dict[str, float], status: str) -> dict[str, Any]:
    manifest = _manifest(r, r.run_id, label, timings)
    manifest["status"] = status  # last key: a reader that sees "complete" sees a whole run
    (r.path / "manifest.json").write_text(
        json.dumps(manifest, indent=2, default=str), encoding="utf-8"
    )
    return manifest


def run(
    workspace: Workspace,
    *,
    backend: str | None = None,
    progress: Progress | None = None,
    check_only: bool = False,
    report: bool = True,
) -> RunResult:
    """Run the pipeline on ``workspace``; ``check_only`` stops after load + validate.

    ``report=False`` skips the HTML report and workbook (e.g. for window comparisons). The run
    is written to a hidden ``out/.partial-<run_id>/`` and renamed to ``out/<run_id>/`` only
    when complete (its manifest's last key is ``"status": "complete"``); a failed run leaves
    nothing behind. A full run moves ``out/latest``, a check ``out/latest-check``.

    Examples
    --------
    >>> import tempfile
    >>> import supplyseg
    >>> from supplyseg.data.samples import demo_workspace
    >>> folder = tempfile.mkdtemp()
    >>> _ = demo_workspace(folder)
    >>> checked = supplyseg.run(supplyseg.load_workspace(folder), check_only=True)
    >>> rows = checked.manifest["rows"]
    >>> checked.manifest["kind"], rows["read"] == rows["loaded"] + rows["rejected"]
    ('check', True)
    """
    con = connect(backend or workspace.engine)
    label = backend_label(con)
    previous = latest_run(workspace)
    run_id = new_run_id()
    root = workspace.out_path
    staging = staging_folder(root, run_id)
    final = root / run_id
    try:
        r = _run_steps(workspace, con, staging, run_id, previous, progress, check_only, report)
        manifest = _write_manifest(r, label, r.timings, "complete")
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # A scenario's run is ordinary but does not become the latest run (what publish takes).
    scenario = workspace.scenario.name
    marker = (
        "latest-check" if check_only else f"latest-scenario-{scenario}" if scenario else "latest"
    )
    point_marker(root / marker, run_id)
    outputs = {name: final / path.relative_to(staging) for name, path in r.outputs.items()}
    return RunResult(run_id, final, manifest, r.dataset, outputs)


def _run_steps(
    workspace: Workspace,
    con: Any,
    out: Path,
    run_id: str,
    previous: Path | None,
    progress: Progress | None,
    check_only: bool,
    report: bool,
) -> _Run:
    steps = STEPS[:1] if check_only else STEPS if report else STEPS[:-1]

    def tick(name: str) -> None:
        if progress:
            progress(name, steps.index(name), len(steps))

    timings: dict[str, float] = {}
    tick("load")
    with _timed(timings, "load"):
        # Only written when nothing survives validation: the run stops, the rejects stay.
        failed = out.parent / f"{run_id}.failed" / "rejects.parquet"
        dataset = load_dataset(workspace, con, rejects_path=failed)
    r = _Run(workspace, out, run_id, dataset, timings, notes=list(dataset.notes), previous=previous)
    r.overrides = workspace_overrides(workspace.root, dataset.tables)
    r.warnings.extend(r.overrides.warnings)
    if len(r.overrides.active) or len(r.overrides.expired):
        r.facts["overrides"] = {
            "active": len(r.overrides.active),
            "expired": len(r.overrides.expired),
        }
    r.write("rejects", dataset.rejects)
    # The workbook's sheets are written in a second process as each step's tables are final.
    workbook = BackgroundWorkbook(out, out / "workbook.xlsx") if "report" in steps else None
    try:
        for name in steps:
            if name in _STEP_FUNCTIONS:
                tick(name)
                with _timed(timings, name):
                    _STEP_FUNCTIONS[name](r)
                if workbook is not None:
                    workbook.sync()
        if "report" in steps:
            # The report reads the manifest; it is rewritten complete once the report is there.
            _write_manifest(r, backend_label(con), timings, "writing report")
            tick("report")
            with _timed(timings, "report"):
                written = write_report(out, background=workbook)
            r.outputs.update({p.name: p for p in (written.html, written.workbook)})
    finally:
        if workbook is not None:
            workbook.abort()  # a no-op once the worker is done
    return r


def compare_windows(
    workspace: Workspace, months: int = 12, entity: str = "customer"
) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    """Segment migration inside one data set: the last ``months`` against the ``months`` before.

    Runs the pipeline (without report) twice with the analysis horizon set to each window —
    two ordinary run folders whose manifests show the window — then compares them as
    `compare_runs` does. The end is ``analysis.end`` or the last order date.
    """
    if months < 1:
        raise ConfigError(f"--window {months}: give a positive number of months, e.g. 12")
    end = workspace.analysis.end
    if end is None:
        lines = load_dataset(workspace, connect(workspace.engine)).tables["order_lines"]
        end = lines.order_date.max().to_pyarrow().as_py()
    if not isinstance(end, date):
        raise ConfigError("compare --window: no order lines loaded, nothing to compare")
    middle = (pd.Timestamp(end) - pd.DateOffset(months=months)).date()
    start = (pd.Timestamp(middle) - pd.DateOffset(months=months)).date()
    runs = []
    for lo, hi in ((start + timedelta(days=1), middle), (middle + timedelta(days=1), end)):
        analysis = workspace.analysis.model_copy(update={"start": lo, "end": hi})
        runs.append(run(workspace.model_copy(update={"analysis": analysis}), report=False))
    return compare_runs(workspace, runs[0].run_id, runs[1].run_id, entity)
