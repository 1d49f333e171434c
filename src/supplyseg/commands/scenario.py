"""CLI verbs of policy management: ``scenario run|compare``, ``policy approve|reject|status``
and ``monitor``; registered in `supplyseg.cli`.

Only typer and rich are imported here; the work (pandas, the pipeline) is imported inside the
commands, so ``supplyseg --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from supplyseg.commands import out, user_errors

__all__ = ["monitor", "policy_app", "scenario_app", "scenario_notes"]

scenario_app = typer.Typer(
    help="S&OP scenarios: overlays of supplyseg.yaml in scenarios/<name>.yaml.",
    no_args_is_help=True,
)
policy_app = typer.Typer(
    help="Approval of policy versions: draft -> approved -> published -> retired.",
    no_args_is_help=True,
)
WorkspaceDir = Annotated[Path, typer.Argument(help="Workspace folder holding supplyseg.yaml.")]
RunId = Annotated[str | None, typer.Argument(help="Run id (default the latest run).")]
By = Annotated[str, typer.Option("--by", help="Who decides (recorded in the history).")]


def scenario_notes(manifest: dict[str, object]) -> list[str]:
    """The notes a planner needs after a scenario run: what the scenario changed, and settings
    it names that match nothing in the run (e.g. a service target for a segment that does not
    exist), which would otherwise leave the scenario silently without effect."""
    notes = manifest.get("notes") or []
    assert isinstance(notes, list)
    return [
        str(n)
        for n in notes
        if str(n).startswith("scenario") or "templates unused" in str(n) or "no such" in str(n)
    ]


@scenario_app.command("run")
def scenario_run_cmd(
    directory: WorkspaceDir,
    name: Annotated[str, typer.Argument(help="Scenario: scenarios/<NAME>.yaml (base: none).")],
) -> None:
    """Run the pipeline on a scenario; the last line printed is the run folder.

    Example: supplyseg scenario run ./acme high_service
    """
    with user_errors():
        from supplyseg.scenario.compare import scenario_run

        result = scenario_run(directory, name)
        for note in scenario_notes(result.manifest):
            out.print(f"[dim]note:[/] {note}", highlight=False)
        print(result.path)


@scenario_app.command("compare")
def scenario_compare_cmd(
    directory: WorkspaceDir,
    base: Annotated[str, typer.Argument(help="The base scenario (base: the workspace as is).")],
    names: Annotated[list[str], typer.Argument(help="Scenarios to compare with the base.")],
    rerun: Annotated[bool, typer.Option(help="Run every scenario again.")] = False,
) -> None:
    """Compare scenarios with a base: table, scenario_comparison.parquet and .html.

    Each scenario's latest run from its current configuration is used, else it is run.
    Written to <output_dir>/scenario_comparison/.

    Example: supplyseg scenario compare ./acme base high_service low_demand
    """
    with user_errors():
        from supplyseg.config import load_workspace
        from supplyseg.scenario.compare import ALL, compare_scenarios
        from supplyseg.scenario.page import LABELS, delta_text, metric_text, write_comparison

        frame = compare_scenarios(directory, base, names, rerun=rerun)
        scenarios = list(dict.fromkeys(frame["scenario"]))
        table = Table(title=f"Scenarios against {base} (all segments)", title_justify="left")
        table.add_column("metric")
        for name in scenarios:
            table.add_column(name, justify="right")
        whole = frame[frame["segment"] == ALL]
        for metric, rows in whole.groupby("metric", sort=False):
            cells = []
            for name in scenarios:
                hit = rows[rows["scenario"] == name]
                if hit.empty:
                    cells.append("unknown")
                    continue
                r = hit.iloc[0]
                text = metric_text(str(metric), r["value"])
                if name != base:
                    text += f" ({delta_text(str(metric), r['delta'], r['delta_pct'])})"
                cells.append(text)
            table.add_row(LABELS.get(str(metric), str(metric)), *cells)
        out.print(table)
        out.print(
            "[dim]Differences: percent of the base; rates and shares in percentage points (pts)."
            " Cost-to-serve and net profit are the history's: a scenario changes policies.[/]"
        )
        ws = load_workspace(directory)
        for name in scenarios[1:]:
            mine = frame[frame["scenario"] == name]
            if len(mine) and (mine["delta"].fillna(0) == 0).all():
                out.print(
                    f"[yellow]{name}: changes none of these figures against {base}; check that"
                    " its settings name segments and categories of the run[/]",
                    highlight=False,
                )
                marker = ws.out_path / f"latest-scenario-{name}"
                if not marker.exists():
                    continue
                manifest = ws.out_path / marker.read_text().strip() / "manifest.json"
                if manifest.exists():
                    for note in scenario_notes(json.loads(manifest.read_text(encoding="utf-8"))):
                        out.print(f"[dim]note:[/] {note}", highlight=False)
        folder = ws.out_path / "scenario_comparison"
        parquet, page = write_comparison(frame, folder)
        out.print(f"table: {parquet}\npage: {page}", highlight=False)


@policy_app.command("approve")
def approve_cmd(
    directory: WorkspaceDir,
    run_id: RunId = None,
    by: By = "",
    comment: Annotated[str, typer.Option(help="Why (recorded in the history).")] = "",
) -> None:
    """Approve a run's policy version (draft -> approved).

    Example: supplyseg policy approve ./acme --by "A. Planner" --comment "S&OP 2026-03"
    """
    _decide("approve", directory, run_id, by, comment)


@policy_app.command("reject")
def reject_cmd(
    directory: WorkspaceDir,
    run_id: RunId = None,
    by: By = "",
    comment: Annotated[str, typer.Option(help="Why (required).")] = "",
) -> None:
    """Reject a run's policy version (draft or approved -> rejected; final).

    Example: supplyseg policy reject ./acme --by "A. Planner" --comment "targets too high"
    """
    _decide("reject", directory, run_id, by, comment)


def _decide(decision: str, directory: Path, run_id: str | None, by: str, comment: str) -> None:
    with user_errors():
        from supplyseg.config import load_workspace
        from supplyseg.scenario.approval import approve, reject

        move = approve if decision == "approve" else reject
        record = move(load_workspace(directory), run_id, by, comment)
        out.print(f"{record['version_id']}: {record['from']} -> {record['to']} by {record['by']}")


@policy_app.command("status")
def status_cmd(directory: WorkspaceDir) -> None:
    """The state of every run's policy version and its last decision, newest first.

    Example: supplyseg policy status ./acme
    """
    with user_errors():
        from supplyseg.config import load_workspace
        from supplyseg.scenario.approval import policy_status

        ws = load_workspace(directory)
        frame = policy_status(ws)
        need = "required" if ws.policies.require_approval else "optional"
        table = Table(title=f"Policy versions (approval {need})", title_justify="left")
        shown = ("run_id", "scenario", "state", "by", "at", "comment")
        for col in shown:
            table.add_column(col, no_wrap=col in ("run_id", "state"))
        for row in frame[list(shown)].itertuples(index=False):
            table.add_row(*("" if v is None or v != v else str(v) for v in row))
        out.print(table)


def monitor(
    directory: WorkspaceDir,
    run_id: Annotated[str | None, typer.Option("--run", help="Run id (default latest).")] = None,
) -> None:
    """Alerts: the latest run against the last published (else approved) policy version.

    Writes alerts.parquet into the run folder and rewrites its report with an alerts section.
    Exit code 3 when an alert is at or above monitoring.fail_on (default critical).

    Example: supplyseg monitor ./acme
    """
    with user_errors():
        from supplyseg.config import load_workspace
        from supplyseg.report import write_report
        from supplyseg.scenario.monitor import alerts_at_or_above, monitor_alerts

        ws = load_workspace(directory)
        result = monitor_alerts(ws, run_id)
        alerts = result.alerts
        alerts.to_parquet(result.run / "alerts.parquet", index=False)
        write_report(result.run)
        base = result.baseline.name if result.baseline else "nothing published or approved"
        if result.baseline is not None and result.baseline.name == result.run.name:
            base += " (itself: no drift to show until a newer run)"
        table = Table(title=f"Alerts: run {result.run.name} against {base}", title_justify="left")
        shown = ("kind", "entity", "id", "message")
        for col in ("severity", *shown):
            table.add_column(col)
        colour = {"critical": "bold red", "warning": "yellow", "info": "dim"}
        for r in alerts.to_dict("records"):
            sev = str(r["severity"])
            table.add_row(f"[{colour[sev]}]{sev}[/]", *(str(r[c]) for c in shown))
        out.print(table if len(alerts) else "no alerts")
        out.print(f"alerts: {result.run / 'alerts.parquet'}", highlight=False)
        failing = alerts_at_or_above(alerts, ws.monitoring.fail_on)
    if failing:
        out.print(f"{failing} alert(s) at or above {ws.monitoring.fail_on}: exit code 3")
        raise typer.Exit(3)
