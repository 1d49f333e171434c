"""S&OP scenario runs and their comparison with a base.

`scenario_run` runs the pipeline on a scenario's workspace (`supplyseg.scenario.overlay`): an
ordinary run folder whose manifest's ``scenario`` names it; it moves ``out/latest-scenario-<name>``,
not ``out/latest`` (which stays the base's, the run ``publish`` takes by default).

`compare_scenarios` takes the latest run of the base and of each scenario (made from the
current configuration; otherwise it runs it, without the report) and returns one long table,
`COMPARISON_COLUMNS`: per scenario, segment (``all`` for the whole) and metric (`METRICS`) the
value, its difference to the base (``delta``) and that difference in percent of the base
(``delta_pct``; empty when the base is 0 or unknown). Product-segment metrics come from the
policies and the policy simulation, customer-segment ones (cost-to-serve, net profit) from the
cost-to-serve table and each run's primary customer segments. Unknown stays unknown (NaN):
a value with no unit cost, a simulated fill rate of a run without a simulation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from supplyseg.config import Workspace, config_hash
from supplyseg.errors import ConfigError
from supplyseg.pipeline import Progress, RunResult, run
from supplyseg.scenario.overlay import BASE, load_scenario

__all__ = [
    "ALL",
    "COMPARISON_COLUMNS",
    "METRICS",
    "compare_scenarios",
    "latest_scenario_run",
    "run_metrics",
    "scenario_run",
]

COMPARISON_COLUMNS = ("scenario", "segment", "metric", "value", "delta", "delta_pct")
METRICS = (
    "safety_stock_value",
    "inventory_value",
    "expected_fill_rate",
    "simulated_fill_rate",
    "cost_to_serve",
    "net_profit",
    "make_to_order_share",
)
"""Metrics of the comparison: currency sums, demand-weighted fill rates, shares of items."""
ALL = "all"
"""The ``segment`` of a metric over every item or customer."""


def _root(workspace: Workspace | str | Path) -> Path:
    return workspace.root if isinstance(workspace, Workspace) else Path(workspace)


def scenario_run(
    workspace: Workspace | str | Path,
    name: str,
    *,
    report: bool = True,
    progress: Progress | None = None,
) -> RunResult:
    """Run the pipeline on scenario ``name`` (``base``: the workspace as it is)."""
    return run(load_scenario(_root(workspace), name), report=report, progress=progress)


def latest_scenario_run(ws: Workspace) -> Path | None:
    """The newest complete run of ``ws``'s scenario made from its current configuration."""
    name = ws.scenario.name
    marker = ws.out_path / ("latest" if name is None else f"latest-scenario-{name}")
    if not marker.exists():
        return None
    path = ws.out_path / marker.read_text(encoding="utf-8").strip()
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = manifest.get("config_hash") == config_hash(ws) and manifest.get("scenario") == name
    return path if same and manifest.get("status") == "complete" else None


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    ok = values.notna() & weights.notna() & (weights > 0)
    total = float(weights[ok].sum())
    return float((values[ok] * weights[ok]).sum() / total) if total > 0 else np.nan


def _by_segment(frame: pd.DataFrame, segment: str, metric: str, fn: Any) -> list[dict[str, Any]]:
    rows = [{"segment": ALL, "metric": metric, "value": fn(frame)}]
    for seg, group in frame.groupby(frame[segment].astype(str), sort=True):
        rows.append({"segment": seg, "metric": metric, "value": fn(group)})
    return rows


def _sum(col: str) -> Any:
    return lambda g: float(g[col].sum(min_count=1)) if len(g) else np.nan


def run_metrics(path: Path) -> pd.DataFrame:
    """``segment, metric, value`` of one run folder (`METRICS`; those its tables allow)."""
    rows: list[dict[str, Any]] = []
    policies_file = path / "policies.parquet"
    if policies_file.exists():
        p = pd.read_parquet(policies_file)
        p = p.assign(safety_stock_value=p["safety_stock"] * p["unit_cost"])
        stocked = p[p["expected_fill_rate"].notna()]
        rows += _by_segment(p, "product_segment", "safety_stock_value", _sum("safety_stock_value"))
        rows += _by_segment(p, "product_segment", "inventory_value", _sum("inventory_value"))
        rows += _by_segment(
            stocked,
            "product_segment",
            "expected_fill_rate",
            lambda g: _weighted(g["expected_fill_rate"], g["demand_mean"]),
        )
        rows += _by_segment(
            p,
            "product_segment",
            "make_to_order_share",
            lambda g: float((g["inventory_rule"] == "make_to_order").mean()),
        )
    sim_file = path / "policy_simulation.parquet"
    if sim_file.exists():
        sim = pd.read_parquet(sim_file)
        rows += _by_segment(
            sim,
            "product_segment",
            "simulated_fill_rate",
            lambda g: _weighted(g["achieved_fill_rate"], g["demand"]),
        )
    cts_file, seg_file = path / "cost_to_serve_customer.parquet", path / "segments_customer.parquet"
    if cts_file.exists() and seg_file.exists():
        seg = pd.read_parquet(seg_file)
        seg = seg[seg["primary"].astype(bool)][["customer_id", "segment"]]
        cts = pd.read_parquet(cts_file).merge(seg, on="customer_id", how="left")
        cts["segment"] = cts["segment"].astype(object).fillna("unsegmented")
        rows += _by_segment(cts, "segment", "cost_to_serve", _sum("cts_total"))
        rows += _by_segment(cts, "segment", "net_profit", _sum("net_profit"))
    return pd.DataFrame.from_records(rows, columns=["segment", "metric", "value"])


def _scenario_path(root: Path, name: str, rerun: bool) -> Path:
    ws = load_scenario(root, name)
    path = None if rerun else latest_scenario_run(ws)
    return path if path is not None else run(ws, report=False).path


def compare_scenarios(
    workspace: Workspace | str | Path,
    base: str = BASE,
    scenarios: Sequence[str] = (),
    *,
    rerun: bool = False,
) -> pd.DataFrame:
    """The comparison of ``scenarios`` with ``base`` in `COMPARISON_COLUMNS` (module docstring).

    Runs a scenario (without the report) when it has no run from its current configuration,
    or every one with ``rerun``. The base's own rows have delta 0.

    >>> import tempfile
    >>> from pathlib import Path
    >>> import supplyseg
    >>> from supplyseg.data.synth import synth_company, write_workspace
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = write_workspace(synth_company(customers=40, products=20, lines=2000), folder)
    >>> _ = (folder / "scenarios").mkdir()
    >>> _ = (folder / "scenarios" / "less_demand.yaml").write_text(
    ...     "scenario: {demand_change_pct: {all: -20}}"
    ... )
    >>> table = supplyseg.compare_scenarios(folder, "base", ["less_demand"])
    >>> row = table.query("segment == 'all' and metric == 'safety_stock_value'")
    >>> float(row.set_index("scenario").loc["less_demand", "delta"]) < 0
    True
    """
    if isinstance(scenarios, str):
        scenarios = [scenarios]
    names = [base, *(s for s in scenarios if s != base)]
    if len(names) < 2:
        raise ConfigError(
            f"compare: give at least one scenario besides the base {base!r}; e.g."
            " `supplyseg scenario compare WS base high_service`"
        )
    if len(set(names)) != len(names):
        raise ConfigError(f"compare: scenario names {names} repeat one; give each once")
    root = _root(workspace)
    frames = [
        run_metrics(_scenario_path(root, name, rerun)).assign(scenario=name) for name in names
    ]
    table = pd.concat(frames, ignore_index=True)
    ref = frames[0].set_index(["segment", "metric"])["value"]
    keys = pd.MultiIndex.from_frame(table[["segment", "metric"]])
    before = ref.reindex(keys).to_numpy(dtype=np.float64)
    value = table["value"].to_numpy(dtype=np.float64)
    # Sums over many items differ in the last bits between runs that changed nothing.
    same = np.isclose(value, before, rtol=1e-9, atol=1e-9)
    table["delta"] = np.where(same, 0.0, value - before)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["delta_pct"] = np.where(
            np.isfinite(before) & (before != 0), 100 * table["delta"] / np.abs(before), np.nan
        )
    order = {m: i for i, m in enumerate(METRICS)}
    table["_m"] = table["metric"].map(order)
    table["_s"] = table["scenario"].map({n: i for i, n in enumerate(names)})
    table["_a"] = table["segment"] != ALL
    table = table.sort_values(["_m", "_a", "segment", "_s"], kind="stable", ignore_index=True)
    return table[list(COMPARISON_COLUMNS)].astype(
        {"scenario": str, "segment": str, "metric": str, "value": "float64"}
    )
