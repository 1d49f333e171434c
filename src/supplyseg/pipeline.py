"""The main job: load + validate, then each analytics step; one immutable folder per run.

``run(workspace)`` writes ``out/<run_id>/`` with ``manifest.json`` (row accounting, reasons,
config hash, package version, timings, notes), ``rejects.parquet`` and the step outputs, then
points ``out/latest`` at the new run.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from supplyseg import __version__
from supplyseg.analytics.cost_to_serve import cost_to_serve
from supplyseg.analytics.customer import customer_metrics
from supplyseg.analytics.demand import demand_outputs, demand_series
from supplyseg.analytics.whale import whale_curve, whale_summary
from supplyseg.config import Workspace, config_hash
from supplyseg.config.forecast import FREQ_OF_BUCKET
from supplyseg.data.load import Dataset, load_dataset
from supplyseg.engine import backend_label, connect
from supplyseg.errors import ConfigError
from supplyseg.policy.assign import ITEM_KEY_SEP, policy_outputs
from supplyseg.policy.export import write_policy_outputs
from supplyseg.policy.forecast import demand_forecast, forecast_accuracy, forecast_methods
from supplyseg.policy.service_document import service_policy
from supplyseg.report import write_report
from supplyseg.segment.features import customer_behaviour
from supplyseg.segment.migration import segment_migration, segment_movers
from supplyseg.segment.segmentation import customer_feature_table, segmentation

__all__ = [
    "STEPS",
    "RunResult",
    "compare_runs",
    "compare_windows",
    "explain",
    "latest_run",
    "new_run_id",
    "run",
    "run_path",
]

# Step names in the order they run; progress callbacks receive them.
STEPS = ("load", "demand", "cost_to_serve", "customer", "segment", "forecast", "policy", "report")

Progress = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """What a run produced: its id and folder, the manifest, and the loaded dataset."""

    run_id: str
    path: Path
    manifest: dict[str, Any]
    dataset: Dataset
    outputs: dict[str, Path] = field(default_factory=dict)


@dataclass
class _Run:
    """State shared by the steps of one run."""

    workspace: Workspace
    path: Path
    dataset: Dataset
    outputs: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    previous: Path | None = None

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Write ``<name>.parquet`` into the run folder and keep the frame for later steps."""
        path = self.path / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        self.outputs[name] = path
        self.frames[name] = frame

    @property
    def as_of(self) -> date:
        """The analysis date: the horizon end if set, else the last order date loaded."""
        if self.workspace.analysis.end:
            return self.workspace.analysis.end
        if "as_of" not in self.facts:
            lines = self.dataset.tables["order_lines"]
            last = lines.order_date.max().to_pyarrow().as_py()
            self.facts["as_of"] = last if isinstance(last, date) else date.today()
        value: date = self.facts["as_of"]
        return value


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


def _demand(r: _Run) -> None:
    ws = r.workspace
    result = demand_outputs(
        r.dataset.tables["order_lines"],
        ws.demand,
        bucket=ws.analysis.bucket,
        start=ws.analysis.start,
        end=ws.analysis.end,
    )
    for name, frame in result.tables.items():
        r.write(name, frame)
    r.notes.extend(f"demand: {n}" for n in result.notes)
    r.facts["demand"] = result.summaries


def _cost_to_serve(r: _Run) -> None:
    result = cost_to_serve(r.dataset.tables, r.workspace.cost_to_serve, as_of=r.as_of)
    r.write("cost_to_serve_customer", result.customer)
    r.write("cts_breakdown", result.breakdown)
    r.write("cost_to_serve_customer_product", result.customer_product)
    r.write("cost_to_serve_order", result.order)
    r.notes.extend(f"cost_to_serve: {n}" for n in result.notes)
    if result.customer["net_profit"].notna().any():
        r.write("whale_curve", whale_curve(result.customer, missing="drop"))
        r.facts["whale"] = whale_summary(result.customer, missing="drop")


def _customer(r: _Run) -> None:
    result = customer_metrics(r.dataset.tables, r.workspace.customer, as_of=r.as_of)
    r.write("customer_metrics", result.table)
    r.notes.extend(f"customer: {n}" for n in result.notes)


def _segment(r: _Run) -> None:
    behaviour = customer_behaviour(r.dataset.tables["order_lines"], r.as_of)
    customers = customer_feature_table(
        behaviour,
        r.frames.get("cost_to_serve_customer"),
        r.frames.get("customer_metrics"),
        r.frames.get("demand_customer"),
    )
    result = segmentation(
        r.workspace.segmentation,
        customers=customers,
        products=r.frames.get("demand_product"),
        pairs=r.frames.get("demand_customer_product"),
    )
    r.write("customer_features", customers)
    r.write("segments_customer", result.customer)
    r.write("segments_product", result.product)
    if len(result.customer_product):
        r.write("segments_customer_product", result.customer_product)
    r.write("segment_summary", result.summary)
    for name, profile in result.profiles.items():
        r.write(f"cluster_profile_{name}", profile)
    r.notes.extend(result.notes)
    r.warnings.extend(result.warnings)


def _item_grain(r: _Run) -> list[str]:
    """Policies are per product x location when locations are known, else per product."""
    has_location = "demand_product_location" in r.frames
    return ["product_id", "location_id"] if has_location else ["product_id"]


def _history(r: _Run) -> pd.DataFrame:
    """Net demand per item and bucket (sparse), with the policy step's ``unique_id``."""
    if "history" not in r.frames:
        grain = _item_grain(r)
        series = demand_series(
            r.dataset.tables["order_lines"],
            grain,
            r.workspace.analysis.bucket,
            horizon_end=r.as_of,
            start=r.workspace.analysis.start,
        ).to_pandas()
        ids = series[grain].astype(str)
        series["unique_id"] = (
            ids.agg(ITEM_KEY_SEP.join, axis=1) if len(grain) > 1 else ids[grain[0]]
        )
        r.frames["history"] = series
    return r.frames["history"]


def _forecast(r: _Run) -> None:
    settings = r.workspace.forecast
    grain = _item_grain(r)
    demand = r.frames.get("demand_" + "_".join(g.removesuffix("_id") for g in grain))
    if not settings.enabled or demand is None:
        r.notes.append(
            "forecast: disabled in supplyseg.yaml"
            if demand is not None
            else "forecast: skipped, no demand profile"
        )
        return
    if len(demand) > settings.max_series:
        r.notes.append(
            f"forecast: skipped, {len(demand):,} series > forecast.max_series"
            f" {settings.max_series:,}; policies use demand history"
        )
        return
    ids = demand[grain].astype(str)
    patterns = pd.DataFrame(
        {
            "unique_id": ids.agg(ITEM_KEY_SEP.join, axis=1) if len(grain) > 1 else ids[grain[0]],
            "pattern": demand["pattern"],
        }
    )
    methods = forecast_methods(patterns, settings.methods)
    history = _history(r)[["unique_id", "ds", "y"]]
    forecast = demand_forecast(
        history,
        methods,
        h=settings.horizon,
        freq=FREQ_OF_BUCKET[r.workspace.analysis.bucket],
        n_windows=settings.backtest_windows,
        season_length=settings.season_length,
    )
    r.write("forecast", forecast)
    r.write("forecast_accuracy", forecast_accuracy(forecast))


def _policy(r: _Run) -> None:
    grain = _item_grain(r)
    demand = r.frames.get("demand_" + "_".join(g.removesuffix("_id") for g in grain))
    if demand is None:
        r.notes.append("policy: skipped, no demand profile")
        return
    products = r.dataset.tables.get("products")
    result = policy_outputs(
        r.frames.get("segments_product"),
        demand,
        products.to_pandas() if products is not None else None,
        r.workspace.policies,
        bucket=r.workspace.analysis.bucket,
        forecast=r.frames.get("forecast"),
        history=_history(r),
        customers_seg=r.frames.get("segments_customer"),
        customer_product_seg=r.frames.get("segments_customer_product"),
    )
    paths = write_policy_outputs(result, r.path, r.previous, r.path.name, config_hash(r.workspace))
    r.outputs.update({p.name: p for p in paths})
    r.notes.extend(f"policy: {n}" for n in result.notes)
    segments = r.frames.get("segments_customer")
    if segments is None or not segments["primary"].any():
        r.notes.append("policy: no service policy document, no primary customer segments")
        return
    customers = r.dataset.tables.get("customers")
    document = service_policy(
        version_id=r.path.name,
        config_hash=config_hash(r.workspace),
        order_rules=result.order_rules,
        customer_segments=segments,
        demand_product=r.frames["demand_product"],
        customers=customers.to_pandas() if customers is not None else None,
        customer_metrics=r.frames.get("customer_metrics"),
    )
    path = r.path / "policy_document.json"
    path.write_text(document.model_dump_json(indent=1), encoding="utf-8")
    r.outputs[path.name] = path


_STEP_FUNCTIONS: dict[str, Callable[[_Run], None]] = {
    "demand": _demand,
    "cost_to_serve": _cost_to_serve,
    "customer": _customer,
    "segment": _segment,
    "forecast": _forecast,
    "policy": _policy,
}


def _manifest(r: _Run, run_id: str, backend: str, timings: dict[str, float]) -> dict[str, Any]:
    ws, accounts = r.workspace, r.dataset.accounts
    return {
        "run_id": run_id,
        "workspace": ws.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "supplyseg_version": __version__,
        "config_hash": config_hash(ws),
        "backend": backend,
        "as_of": str(r.as_of),
        "tables": {
            name: {
                "source": acc.source,
                "read": acc.read,
                "loaded": acc.loaded,
                "rejected": acc.rejected,
                "reasons": acc.reasons,
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
        "summaries": {k: v for k, v in r.facts.items() if k != "as_of"},
        "warnings": r.warnings,
        "notes": r.notes,
    }


def run(
    workspace: Workspace,
    *,
    backend: str | None = None,
    progress: Progress | None = None,
    check_only: bool = False,
    report: bool = True,
) -> RunResult:
    """Run the pipeline on ``workspace``; ``check_only`` stops after load + validate.

    ``report=False`` skips the HTML report and workbook (e.g. for window comparisons).
    """
    con = connect(backend or workspace.engine)
    label = backend_label(con)
    previous = latest_run(workspace)
    run_id = new_run_id()
    out = workspace.out_path / run_id
    out.mkdir(parents=True, exist_ok=False)
    timings: dict[str, float] = {}
    steps = STEPS[:1] if check_only else STEPS if report else STEPS[:-1]

    def tick(name: str) -> None:
        if progress:
            progress(name, steps.index(name), len(steps))

    tick("load")
    with _timed(timings, "load"):
        dataset = load_dataset(workspace, con, rejects_path=out / "rejects.parquet")
    r = _Run(workspace, out, dataset, notes=list(dataset.notes), previous=previous)
    r.write("rejects", dataset.rejects)
    for name in steps:
        if name in _STEP_FUNCTIONS:
            tick(name)
            with _timed(timings, name):
                _STEP_FUNCTIONS[name](r)
    manifest = _manifest(r, run_id, label, timings)
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, default=str), encoding="utf-8"
    )
    if "report" in steps:
        tick("report")
        with _timed(timings, "report"):
            written = write_report(out)
        r.outputs.update({p.name: p for p in (written.html, written.workbook)})
        manifest = _manifest(r, run_id, label, timings)
        (out / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=str), encoding="utf-8"
        )
    (workspace.out_path / "latest").write_text(run_id + "\n", encoding="utf-8")
    return RunResult(run_id, out, manifest, dataset, r.outputs)


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
        probe = run(workspace, check_only=True)
        lines = probe.dataset.tables["order_lines"]
        end = lines.order_date.max().to_pyarrow().as_py()
        shutil.rmtree(probe.path)
    if not isinstance(end, date):
        raise ConfigError("compare --window: no order lines loaded, nothing to compare")
    middle = (pd.Timestamp(end) - pd.DateOffset(months=months)).date()
    start = (pd.Timestamp(middle) - pd.DateOffset(months=months)).date()
    runs = []
    for lo, hi in ((start + timedelta(days=1), middle), (middle + timedelta(days=1), end)):
        analysis = workspace.analysis.model_copy(update={"start": lo, "end": hi})
        runs.append(run(workspace.model_copy(update={"analysis": analysis}), report=False))
    return compare_runs(workspace, runs[0].run_id, runs[1].run_id, entity)
