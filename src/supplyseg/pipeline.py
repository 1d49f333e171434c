"""The main job: load + validate, then each analytics step; one immutable folder per run.

``run(workspace)`` writes ``out/<run_id>/`` with ``manifest.json`` (row accounting, reasons,
config hash, package version, timings, notes), ``rejects.parquet`` and the step outputs, then
points ``out/latest`` at the new run.
"""

from __future__ import annotations

import json
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
from supplyseg.config.assumptions import assumptions
from supplyseg.config.forecast import FREQ_OF_BUCKET
from supplyseg.data.load import Dataset, load_dataset
from supplyseg.engine import backend_label, connect
from supplyseg.errors import ConfigError
from supplyseg.policy.adjust import (
    adjusted_policy_inputs,
    annotated_policies,
    overridden_segments,
)
from supplyseg.policy.assign import DAYS_PER_BUCKET, ITEM_KEY_SEP, PolicyResult, policy_outputs
from supplyseg.policy.export import write_policy_outputs
from supplyseg.policy.forecast import ForecastResult, forecast_methods, forecast_outputs
from supplyseg.policy.optimised import optimise_policies
from supplyseg.policy.overrides import Overrides, workspace_overrides
from supplyseg.policy.service_document import service_policy
from supplyseg.policy.simulate import (
    policy_simulation,
    simulation_summary,
    split_history,
    window_start,
)
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
from supplyseg.segment.features import customer_behaviour
from supplyseg.segment.segmentation import customer_feature_table, segmentation
from supplyseg.segment.supply import (
    policies_with_lead_time_source,
    products_with_learned_lead_times,
    supplier_outputs,
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
    "simulation",
    "report",
)

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
    run_id: str
    dataset: Dataset
    timings: dict[str, float]
    outputs: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    previous: Path | None = None
    overrides: Overrides = field(default_factory=Overrides.none)

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
    r.warnings.extend(result.warnings)
    if result.customer["net_profit"].notna().any():
        r.write("whale_curve", whale_curve(result.customer, missing="drop"))
        r.facts["whale"] = whale_summary(result.customer, missing="drop")


def _customer(r: _Run) -> None:
    result = customer_metrics(r.dataset.tables, r.workspace.customer, as_of=r.as_of)
    r.write("customer_metrics", result.table)
    r.notes.extend(f"customer: {n}" for n in result.notes)
    r.warnings.extend(result.warnings)


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
    # Planner overrides replace the primary segment (the summary counts the computed one).
    r.write("segments_customer", overridden_segments(result.customer, "customer", r.overrides))
    r.write("segments_product", overridden_segments(result.product, "product", r.overrides))
    if len(result.customer_product):
        r.write("segments_customer_product", result.customer_product)
    r.write("segment_summary", result.summary)
    for name, profile in result.profiles.items():
        r.write(f"cluster_profile_{name}", profile)
    r.notes.extend(result.notes)
    r.warnings.extend(result.warnings)
    r.facts["segmentation"] = result.schemes


def _supplier(r: _Run) -> None:
    """Lead times, supplier metrics and segments, landed cost (with purchase orders only)."""
    if "purchase_orders" not in r.dataset.tables:
        return
    ws = r.workspace
    result = supplier_outputs(
        r.dataset.tables, ws.supplier, ws.policies, demand_product=r.frames.get("demand_product"),
        bucket=ws.analysis.bucket,
    )  # fmt: skip
    for name, frame in result.tables.items():
        r.write(name, frame)
    r.frames["product_lead_times"] = result.product_lead_times
    r.notes.extend(result.notes)
    r.facts["supplier"] = result.summary


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
        )
        series["unique_id"] = _unique_ids(series, grain)
        r.frames["history"] = series
    return r.frames["history"]


def _demand_table(r: _Run) -> pd.DataFrame | None:
    """The demand profile at the policy grain (product x location, else product)."""
    return r.frames.get("demand_" + "_".join(g.removesuffix("_id") for g in _item_grain(r)))


def _forecast_result(r: _Run, demand: pd.DataFrame, history: pd.DataFrame) -> ForecastResult | None:
    """Forecasts for the items of ``demand`` from ``history``; None (with a reason) if skipped."""
    settings = r.workspace.forecast
    if not settings.enabled:
        r.notes.append("forecast: disabled in supplyseg.yaml")
        return None
    if len(demand) > settings.max_series:
        r.warnings.append(
            f"forecast: skipped, {len(demand):,} series > forecast.max_series"
            f" {settings.max_series:,}; policies use demand history"
        )
        return None
    grain = _item_grain(r)
    patterns = pd.DataFrame({"unique_id": _unique_ids(demand, grain), "pattern": demand["pattern"]})
    # Seasonality flags from the demand step, when it provides them (null: unknown). A season
    # is a property of the product, and its aggregate over locations shows it far more
    # clearly than one location's noisier series: item-locations take their product's flag.
    flags = r.frames.get("demand_product") if len(grain) > 1 else demand
    for col in ("seasonal", "season_length"):
        if flags is not None and col in flags.columns:
            by_product = flags.set_index("product_id")[col]
            patterns[col] = demand["product_id"].map(by_product).to_numpy()
    segments = r.frames.get("segments_product")
    if segments is not None and len(segments):
        primary = segments[segments["primary"]].set_index("product_id")["segment"]
        patterns["segment"] = demand["product_id"].map(primary).fillna("unsegmented").to_numpy()
    return forecast_outputs(
        history[["unique_id", "ds", "y"]],
        forecast_methods(patterns, settings.methods),
        h=settings.horizon,
        freq=FREQ_OF_BUCKET[r.workspace.analysis.bucket],
        n_windows=settings.backtest_windows,
        holdout_windows=settings.holdout_windows,
        season_length=settings.season_length,
        path_horizon=settings.path_horizon,
        cleansing_k=settings.cleansing.k if settings.cleansing.enabled else None,
        candidates=settings.candidates,
        select=settings.selection,
        selection_margin=settings.selection_margin,
        select_baselines=settings.select_baselines,
        last_season=settings.last_season,
    )


def _unique_ids(frame: pd.DataFrame, grain: list[str]) -> pd.Series:
    ids = frame[grain].astype(str)
    return ids.agg(ITEM_KEY_SEP.join, axis=1) if len(grain) > 1 else ids[grain[0]]


def _forecast(r: _Run) -> None:
    demand = _demand_table(r)
    if demand is None:
        r.warnings.append("forecast: skipped, no demand profile")
        return
    result = _forecast_result(r, demand, _history(r))
    if result is None:
        return
    r.write("forecast", result.forecast)
    r.write("forecast_path", result.path)
    r.write("demand_cleansing", result.cleansing)
    r.write("forecast_accuracy", result.accuracy)


def _policy_result(
    r: _Run,
    demand: pd.DataFrame,
    forecast: pd.DataFrame | None,
    path: pd.DataFrame | None,
    history: pd.DataFrame,
) -> PolicyResult:
    products = r.dataset.tables.get("products")
    inventory = r.dataset.tables.get("inventory")
    product_frame = products.to_pandas() if products is not None else None
    learned = r.frames.get("product_lead_times") if r.workspace.supplier.use_in_policies else None
    # The scenario's planned changes and the planner's overrides (supplyseg.policy.adjust),
    # on top of the lead times learned from purchase history.
    given = adjusted_policy_inputs(
        r.workspace,
        r.overrides,
        r.frames.get("segments_product"),
        demand,
        forecast,
        path,
        history,
        product_frame
        if learned is None
        else products_with_learned_lead_times(product_frame, learned),
    )
    r.notes.extend(n for n in given.notes if n not in r.notes)
    result = policy_outputs(
        r.frames.get("segments_product"),
        given.demand,
        given.products,
        r.workspace.policies,
        bucket=r.workspace.analysis.bucket,
        forecast=given.forecast,
        history=given.history,
        customers_seg=r.frames.get("segments_customer"),
        customer_product_seg=r.frames.get("segments_customer_product"),
        forecast_path=given.forecast_path,
        inventory=inventory.to_pandas() if inventory is not None else None,
        item_targets=given.item_targets,
    )
    if learned is not None:
        result.policies = policies_with_lead_time_source(
            result.policies, learned, r.frames.get("supplier_metrics"), product_frame
        )
    return result


def _policy(r: _Run) -> None:
    demand = _demand_table(r)
    if demand is None:
        r.warnings.append("policy: skipped, no demand profile")
        return
    result = _policy_result(
        r, demand, r.frames.get("forecast"), r.frames.get("forecast_path"), _history(r)
    )
    settings = r.workspace.policies
    if settings.optimise.enabled:
        optimised = optimise_policies(
            result.policies, settings.optimise, settings.stock_to_service_targets
        )
        result.policies = optimised.policies
        r.facts["optimise"] = optimised.summary
        if len(optimised.frontier):
            r.write("stock_to_service_frontier", optimised.frontier)
        r.notes.append(
            "policy: safety stocks optimised per "
            + settings.optimise.scope
            + " (demand-value-weighted fill rate; normal lead-time demand for every item)"
        )
    result.policies = annotated_policies(result.policies, r.overrides)
    r.frames["policies"] = result.policies
    paths = write_policy_outputs(
        result, r.path, r.previous, r.run_id, config_hash(r.workspace), erp=r.workspace.erp
    )
    r.outputs.update({p.name: p for p in paths})
    r.notes.extend(f"policy: {n}" for n in result.notes)
    r.facts["policy"] = result.summary
    if len(result.obsolete_stock):
        r.write("obsolete_stock", result.obsolete_stock)
    segments = r.frames.get("segments_customer")
    if segments is None or not segments["primary"].any():
        r.warnings.append(
            "policy: no service policy document (nothing to publish): no primary customer segments"
        )
        return
    customers = r.dataset.tables.get("customers")
    document = service_policy(
        version_id=r.run_id,
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


_STEP_FUNCTIONS: dict[str, Callable[[_Run], None]] = {
    "demand": _demand,
    "cost_to_serve": _cost_to_serve,
    "customer": _customer,
    "segment": _segment,
    "supplier": _supplier,
    "forecast": _forecast,
    "policy": _policy,
    "simulation": _simulation,
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
