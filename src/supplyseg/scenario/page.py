"""The scenario comparison as one self-contained HTML page: charts side by side, no network.

One grouped bar chart per metric (segments on the x axis, one bar per scenario) in a two-column
grid, then the whole-business table (segment ``all``) with each scenario's difference to the
base. plotly.js is inlined once, as in the run report (`supplyseg.report.html`).
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from supplyseg.scenario.compare import ALL, METRICS

__all__ = ["LABELS", "comparison_html", "delta_text", "metric_text", "write_comparison"]

LABELS = {
    "safety_stock_value": "Safety-stock value",
    "inventory_value": "Inventory value",
    "expected_fill_rate": "Expected fill rate",
    "simulated_fill_rate": "Simulated fill rate (replay)",
    "cost_to_serve": "Cost-to-serve",
    "net_profit": "Net profit",
    "make_to_order_share": "Make-to-order share of items",
}
_RATES = {"expected_fill_rate", "simulated_fill_rate", "make_to_order_share"}
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 1rem; }
.card { border: 1px solid #d9e2ec; border-radius: 6px; padding: .5rem; }
table { border-collapse: collapse; margin-top: 1rem; }
td, th { border-bottom: 1px solid #d9e2ec; padding: .3rem .7rem; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.up { color: #1b7f3b; } .down { color: #b42318; }
"""


def metric_text(metric: str, value: float) -> str:
    """A value as the table shows it: percent for rates and shares, else whole numbers;
    "unknown" for NaN."""
    if pd.isna(value):
        return "unknown"
    return f"{value * 100:.1f}%" if metric in _RATES else f"{value:,.0f}"


def delta_text(metric: str, delta: float, delta_pct: float) -> str:
    """A difference to the base as the tables show it: percentage points for rates and shares
    (a fill rate from 88.7 % to 84.1 % is "-4.6 pts", not "-5.2%"), else percent of the base
    (the amount when the base is 0); "same" for none, "unknown" when either side is."""
    if pd.isna(delta):
        return "unknown"
    if delta == 0:
        return "same"
    if metric in _RATES:
        return f"{delta * 100:+.1f} pts"
    return f"{delta_pct:+.1f}%" if pd.notna(delta_pct) else f"{delta:+,.0f}"


def _figure(frame: pd.DataFrame, metric: str, scenarios: list[str]) -> go.Figure:
    fig = go.Figure()
    rows = frame[(frame["metric"] == metric) & (frame["segment"] != ALL)]
    for name in scenarios:
        mine = rows[rows["scenario"] == name]
        fig.add_bar(name=name, x=mine["segment"], y=mine["value"])
    fig.update_layout(
        title=LABELS.get(metric, metric),
        barmode="group",
        height=360,
        margin={"l": 50, "r": 10, "t": 50, "b": 80},
        yaxis_tickformat=".0%" if metric in _RATES else ",.0f",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def _summary(frame: pd.DataFrame, scenarios: list[str]) -> str:
    head = "".join(f"<th>{html.escape(n)}</th>" for n in scenarios)
    body = []
    for metric in METRICS:
        rows = frame[(frame["metric"] == metric) & (frame["segment"] == ALL)]
        if rows.empty:
            continue
        cells = []
        for name in scenarios:
            hit = rows[rows["scenario"] == name]
            if hit.empty:
                cells.append("<td>unknown</td>")
                continue
            r = hit.iloc[0]
            text = metric_text(metric, r["value"])
            if name != scenarios[0] and pd.notna(r["delta"]) and r["delta"] != 0:
                tone = "up" if r["delta"] > 0 else "down"
                shown = html.escape(delta_text(metric, r["delta"], r["delta_pct"]))
                text += f' <span class="{tone}">({shown})</span>'
            cells.append(f"<td>{text}</td>")
        label = html.escape(LABELS.get(metric, metric))
        body.append(f"<tr><td>{label}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>metric (all segments)</th>{head}</tr>{''.join(body)}</table>"


def comparison_html(frame: pd.DataFrame, title: str = "Scenario comparison") -> str:
    """The page for a `supplyseg.scenario.compare.compare_scenarios` table."""
    scenarios = list(dict.fromkeys(frame["scenario"]))
    charts = [
        '<div class="card">'
        + _figure(frame, m, scenarios).to_html(full_html=False, include_plotlyjs=False)
        + "</div>"
        for m in METRICS
        if (frame["metric"] == m).any()
    ]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style><script>{plotly.offline.get_plotlyjs()}</script></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Base: <b>{html.escape(scenarios[0])}</b>; compared:"
        f" {html.escape(', '.join(scenarios[1:]))}. Differences in percent of the base; rates"
        " and shares in percentage points (pts).</p>"
        f"{_summary(frame, scenarios)}<div class='grid'>{''.join(charts)}</div></body></html>"
    )


def write_comparison(frame: pd.DataFrame, folder: Path) -> tuple[Path, Path]:
    """Write ``scenario_comparison.parquet`` and ``.html`` into ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    table, page = folder / "scenario_comparison.parquet", folder / "scenario_comparison.html"
    frame.to_parquet(table, index=False)
    page.write_text(comparison_html(frame), encoding="utf-8")
    return table, page
