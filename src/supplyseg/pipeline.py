"""The main job: load + validate, then each analytics step; one immutable folder per run.

``run(workspace)`` writes ``out/<run_id>/`` with ``manifest.json`` (row accounting, reasons,
config hash, package version, timings, notes), ``rejects.parquet`` and the step outputs, then
points ``out/latest`` at the new run.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from supplyseg import __version__
from supplyseg.config import Workspace, config_hash
from supplyseg.data.load import Dataset, load_dataset
from supplyseg.engine import connect
from supplyseg.errors import ConfigError
from supplyseg.segment.migration import segment_migration, segment_movers

__all__ = [
    "STEPS",
    "RunResult",
    "compare_runs",
    "explain",
    "latest_run",
    "new_run_id",
    "run",
    "run_path",
]

# Step names in the order they run; progress callbacks receive them.
STEPS = ("load",)

Progress = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """What a run produced: its id and folder, the manifest, and the loaded dataset."""

    run_id: str
    path: Path
    manifest: dict[str, Any]
    dataset: Dataset
    outputs: dict[str, Path] = field(default_factory=dict)


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


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)


def _write_table(frame: pd.DataFrame, path: Path, outputs: dict[str, Path]) -> None:
    frame.to_parquet(path, index=False)
    outputs[path.stem] = path


def run(
    workspace: Workspace,
    *,
    backend: str | None = None,
    progress: Progress | None = None,
    check_only: bool = False,
) -> RunResult:
    """Run the pipeline on ``workspace``; ``check_only`` stops after load + validate."""
    con = connect(backend or workspace.engine.url)
    run_id = new_run_id()
    out = workspace.out_path / run_id
    out.mkdir(parents=True, exist_ok=False)
    timings: dict[str, float] = {}
    outputs: dict[str, Path] = {}
    steps = STEPS[:1] if check_only else STEPS

    def tick(i: int) -> None:
        if progress:
            progress(steps[i], i, len(steps))

    tick(0)
    with _timed(timings, "load"):
        dataset = load_dataset(workspace, con)
        _write_table(dataset.rejects, out / "rejects.parquet", outputs)

    manifest = {
        "run_id": run_id,
        "workspace": workspace.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "supplyseg_version": __version__,
        "config_hash": config_hash(workspace),
        "backend": backend or workspace.engine.url or "duckdb (in-memory)",
        "tables": {
            name: {
                "source": acc.source,
                "read": acc.read,
                "loaded": acc.loaded,
                "rejected": acc.rejected,
                "reasons": acc.reasons,
            }
            for name, acc in dataset.accounts.items()
        },
        "rows": {
            "read": sum(a.read for a in dataset.accounts.values()),
            "loaded": sum(a.loaded for a in dataset.accounts.values()),
            "rejected": sum(a.rejected for a in dataset.accounts.values()),
        },
        "timings_seconds": {
            **timings,
            **{f"load.{n}": a.seconds for n, a in dataset.accounts.items()},
        },
        "outputs": sorted(p.name for p in outputs.values()),
        "notes": dataset.notes,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (workspace.out_path / "latest").write_text(run_id + "\n", encoding="utf-8")
    return RunResult(run_id, out, manifest, dataset, outputs)


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
