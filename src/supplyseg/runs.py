"""Run folders: where a run is staged and published, the latest run, a run by id, and what
they hold.

A run folder ``out/<run_id>/`` is immutable once written (`supplyseg.pipeline.run` stages it in
`staging_folder` and points ``out/latest`` at it with `point_marker`); these functions find and
read them: `latest_run`, `run_path`, `require_complete` (what `publish`
checks), `explain` (why an entity is in its segments) and `compare_runs` (segment migration).
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from supplyseg.config import Workspace
from supplyseg.errors import ConfigError
from supplyseg.segment.migration import segment_migration, segment_movers

__all__ = [
    "compare_runs",
    "explain",
    "latest_run",
    "new_run_id",
    "point_marker",
    "require_complete",
    "run_path",
    "staging_folder",
]


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: UTC timestamp plus a short random suffix."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


def latest_run(workspace: Workspace) -> Path | None:
    """The folder of the newest run (from ``out/latest``), or None when there is none."""
    marker = workspace.out_path / "latest"
    if not marker.exists():
        return None
    path = workspace.out_path / marker.read_text(encoding="utf-8").strip()
    return path if path.is_dir() else None


def run_path(workspace: Workspace, run_id: str | None) -> Path:
    """The folder of run ``run_id`` (default the latest); `ConfigError` when there is none."""
    if run_id is None:
        latest = latest_run(workspace)
        if latest is None:
            raise ConfigError(
                f"{workspace.out_path}: no run yet; fix: run `supplyseg run {workspace.root}` first"
            )
        return latest
    path = workspace.out_path / run_id
    if not path.is_dir():
        runs = sorted(p.name for p in workspace.out_path.glob("*") if p.is_dir())
        raise ConfigError(f"run {run_id!r} not found in {workspace.out_path}; runs: {runs[-5:]}")
    return path


def require_complete(path: Path) -> dict[str, Any]:
    """The manifest of a complete full run in ``path``; `ConfigError` for anything else."""
    file = path / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    if manifest.get("status") != "complete" or manifest.get("kind") != "run":
        state = manifest.get("status", "no status") if manifest else "no readable manifest"
        raise ConfigError(
            f"{path}: not a complete run ({state}, kind {manifest.get('kind', 'unknown')});"
            " fix: publish a run made by `supplyseg run` (run it again if it was interrupted)"
        )
    return manifest


def _segments(path: Path, entity: str) -> pd.DataFrame:
    file = path / f"segments_{entity}.parquet"
    if not file.exists():
        raise ConfigError(
            f"{file}: this run has no {entity} segments; fix: run `supplyseg run` with the"
            " analytics the scheme needs"
        )
    return pd.read_parquet(file)


def explain(
    workspace: Workspace, entity: str, entity_id: str, run_id: str | None = None
) -> pd.DataFrame:
    """Every scheme's segment and explanation for one customer or product in a run."""
    path = run_path(workspace, run_id)
    table = _segments(path, entity)
    rows = table[table[f"{entity}_id"].astype(str) == str(entity_id)]
    if rows.empty:
        raise ConfigError(
            f"{entity} {entity_id!r} is not in run {path.name}; fix: check the id (as in the"
            f" source data); e.g. {table[f'{entity}_id'].head(3).tolist()}"
        )
    return rows.sort_values("primary", ascending=False, ignore_index=True)


def compare_runs(
    workspace: Workspace, run_a: str, run_b: str, entity: str = "customer"
) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    """Migration matrix and movers of the primary segments from run A to run B.

    Writes ``segment_migration.parquet`` and ``segment_movers.parquet`` into run B's folder
    (adding files; nothing a run wrote is changed).
    """
    a, b = run_path(workspace, run_a), run_path(workspace, run_b)
    ids = [f"{entity}_id"]
    before, after = _segments(a, entity), _segments(b, entity)
    before = before[before["primary"]]
    after = after[after["primary"]]
    demand = b / f"demand_{entity}.parquet"
    if demand.exists():
        after = after.merge(pd.read_parquet(demand)[[*ids, "revenue"]], on=ids, how="left")
    matrix = segment_migration(before, after, ids=ids)
    movers = segment_movers(before, after, ids=ids)
    matrix.to_parquet(b / "segment_migration.parquet", index=False)
    movers.to_parquet(b / "segment_movers.parquet", index=False)
    return matrix, movers, b


def staging_folder(root: Path, run_id: str) -> Path:
    """The hidden folder a run is written to; renamed to ``root/<run_id>`` once complete."""
    if root.exists() and not root.is_dir():
        raise ConfigError(
            f"output_dir {root}: is a file, not a folder; fix: remove it or set output_dir in"
            " supplyseg.yaml to a folder"
        )
    staging = root / f".partial-{run_id}"
    try:
        staging.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise ConfigError(
            f"output_dir {root}: cannot create the run folder ({exc.strerror}); fix: make it"
            " writable, free disk space or set output_dir in supplyseg.yaml"
        ) from None
    return staging


def point_marker(marker: Path, run_id: str) -> None:
    """Point ``marker`` (``out/latest``) at ``run_id`` atomically."""
    tmp = marker.with_name(f".{marker.name}.tmp")
    tmp.write_text(run_id + "\n", encoding="utf-8")
    os.replace(tmp, marker)
