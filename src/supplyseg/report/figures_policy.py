"""Plotly figures of section 6 (stocking policies): inventory per segment, stock-to-service
curves, the policy replay (target vs achieved service) and forecast value added.

Like `supplyseg.report.figures`, each builder takes prepared pandas tables and returns a Figure in
the report's look; unknown values (NaN) are left out of the marks, never drawn as 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from supplyseg.report.style import (
    INK,
    MUTED,
    TEMPLATE,
    Palette,
    add_note,
    as_percent,
    money_title,
    new_figure,
)

__all__ = [
    "FVA_FLOOR",
    "fva_by_pattern",
    "fva_by_segment",
    "inventory_by_segment",
    "optimised_frontier",
    "service_target_vs_achieved",
    "stock_to_service_curves",
]

# FVA below -100 % (forecast error more than twice the naive one) is cut at the axis: one
# series with a near-zero naive error would otherwise flatten every other bar.
FVA_FLOOR = -100.0
_MET, _SHORT = "#59A14F", "#E15759"


def inventory_by_segment(summary: pd.DataFrame, palette: Palette, currency: str = "") -> go.Figure:
    """Inventory value per product segment, labelled with its service target
    (``segment, inventory_value, service_target_pct``)."""
    labels = summary["segment"].astype(str).tolist()
    target = summary["service_target_pct"].astype("float64").to_numpy()
    value = summary["inventory_value"].to_numpy(dtype="float64")
    fig = new_figure(height=400)
    fig.add_bar(
        x=labels,
        y=value,
        marker_color=[palette.segment(s) for s in labels],
        text=[
            ("" if np.isfinite(v) else "value unknown · ")
            + (f"target {t:.1f} %" if np.isfinite(t) else "")
            for v, t in zip(value, target, strict=True)
        ],
        textposition="outside",
        hovertemplate="%{x}: %{y:,.0f} · %{text}<extra></extra>",
        showlegend=False,
    )
    fig.update_layout(yaxis_title=money_title("Inventory value", currency))
    fig.update_xaxes(tickangle=-30, automargin=True, type="category")
    return fig


def stock_to_service_curves(
    curves: pd.DataFrame, palette: Palette, currency: str = ""
) -> go.Figure:
    """Inventory value needed for each service target, one line per segment."""
    d = curves.assign(target=as_percent(curves["service_target"]))
    d = d[np.isfinite(d["inventory_value"].astype("float64"))]
    fig = new_figure(height=420, legend_title_text="segment")
    for label, part in d.sort_values("target").groupby("segment", sort=True):
        fig.add_scatter(
            x=part["target"].to_numpy(dtype="float64"),
            y=part["inventory_value"].to_numpy(dtype="float64"),
            mode="lines+markers",
            name=str(label),
            line={"color": palette.segment(label), "width": 2},
            marker={"size": 5},
            hovertemplate="%{x:.1f} % → %{y:,.0f}<extra>" + str(label) + "</extra>",
        )
    fig.update_layout(
        xaxis_title="Service target (%)", yaxis_title=money_title("Inventory value", currency)
    )
    return fig


def optimised_frontier(
    frontier: pd.DataFrame,
    palette: Palette,
    currency: str = "",
    points: pd.DataFrame | None = None,
) -> go.Figure:
    """Safety-stock value per aggregate fill rate: the optimised stock mix (solid) against
    one uniform target for every item (dashed), one colour per scope (segment); ``points``
    (``scope, target_fill_rate, safety_stock_value, uniform_safety_stock_value``) marks where
    each scope stands: the run's optimised policy (dot) and one target per item (open)."""
    d = frontier.assign(target=as_percent(frontier["target"]))
    fig = new_figure(height=420, legend_title_text="segment")
    for scope, part in d.sort_values("target").groupby("scope", sort=True):
        colour = palette.segment(scope)
        x = part["target"].to_numpy(dtype="float64")
        for column, dash, kind in (
            ("optimised_ss_value", "solid", "optimised"),
            ("uniform_ss_value", "dash", "uniform target"),
        ):
            fig.add_scatter(
                x=x,
                y=part[column].to_numpy(dtype="float64"),
                mode="lines+markers",
                name=f"{scope} {kind}",
                legendgroup=str(scope),
                line={"color": colour, "width": 2, "dash": dash},
                marker={"size": 4},
                hovertemplate="%{x:.1f} % → %{y:,.0f}<extra>" + f"{scope} {kind}</extra>",
            )
    if points is not None:
        for scope, target, optimised, uniform in points[
            ["scope", "target_fill_rate", "safety_stock_value", "uniform_safety_stock_value"]
        ].itertuples(index=False):
            fig.add_scatter(
                x=[100 * target, 100 * target],
                y=[optimised, uniform],
                mode="markers",
                legendgroup=str(scope),
                showlegend=False,
                marker={
                    "color": palette.segment(scope),
                    "size": 11,
                    "symbol": ["circle", "circle-open"],
                },
                hovertemplate="%{x:.1f} %: %{y:,.0f}<extra>" + f"{scope} today</extra>",
            )
    fig.update_layout(
        xaxis_title="Aggregate fill rate (%, demand-value weighted)",
        yaxis_title=money_title("Safety-stock value", currency),
    )
    return fig


def service_target_vs_achieved(rows: pd.DataFrame, palette: Palette) -> go.Figure:
    """Per segment and service measure: the target (open diamond) and the service the replay
    achieved (dot: green when met, red when short), joined by a line
    (``label, segment, target_pct, achieved_pct, items, measure``)."""
    d = rows.reset_index(drop=True)
    labels = d["label"].astype(str).tolist()
    target = d["target_pct"].to_numpy(dtype="float64")
    achieved = d["achieved_pct"].to_numpy(dtype="float64")
    met = achieved >= target - 0.05  # targets are set to 0.1 %; half a tenth is rounding
    fig = new_figure(height=max(360, 300 + 6 * len(d)))
    for i, label in enumerate(labels):
        if np.isfinite(target[i]) and np.isfinite(achieved[i]):
            fig.add_scatter(
                x=[label, label], y=[target[i], achieved[i]], mode="lines", showlegend=False,
                line={"color": _MET if met[i] else _SHORT, "width": 3}, hoverinfo="skip",
            )  # fmt: skip
    custom = np.stack([d["items"].to_numpy(dtype="float64"), target], axis=1)
    fig.add_scatter(
        x=labels, y=target, mode="markers", name="target",
        marker={"symbol": "diamond-open", "size": 13, "color": INK, "line": {"width": 2}},
        hovertemplate="%{x}: target %{y:.1f} %<extra></extra>",
    )  # fmt: skip
    for name, mask, colour in (("achieved: met", met, _MET), ("achieved: short", ~met, _SHORT)):
        if not mask.any():
            continue
        fig.add_scatter(
            x=np.asarray(labels, dtype=object)[mask], y=achieved[mask], mode="markers+text",
            name=name, marker={"size": 12, "color": colour},
            text=[f"{v:.1f} %" for v in achieved[mask]], textposition="middle right",
            customdata=custom[mask],
            hovertemplate="%{x}: achieved %{y:.1f} % against %{customdata[1]:.1f} %"
            " · %{customdata[0]:,.0f} items<extra></extra>",
        )  # fmt: skip
    finite = np.concatenate([target[np.isfinite(target)], achieved[np.isfinite(achieved)]])
    low = float(finite.min()) if finite.size else 0.0
    fig.update_yaxes(title="Service level (%)", range=[max(0.0, low - 3.0), 100.5])
    fig.update_xaxes(tickangle=-30, automargin=True, type="category")
    return fig


def fva_by_pattern(
    per_pattern: pd.DataFrame, palette: Palette, overall: float | None = None
) -> go.Figure:
    """Forecast value added per demand pattern in % (``pattern, fva`` as a fraction, optional
    ``series, share_beating_baseline``): the share of the naive forecast's error the forecast
    removes. Above 0 the forecast beats the naive one; ``overall`` is drawn as a line."""
    d = per_pattern.reset_index(drop=True)
    labels = d["pattern"].astype(str).tolist()
    fva = d["fva"].to_numpy(dtype="float64") * 100.0
    series = d["series"] if "series" in d.columns else pd.Series(np.nan, index=d.index)
    share = (
        d["share_beating_baseline"]
        if "share_beating_baseline" in d.columns
        else pd.Series(np.nan, index=d.index)
    )
    hover = [
        f"{p}: FVA {v:+.1f} %"
        + (f" · {s:.0%} of series beat the naive forecast" if pd.notna(s) else "")
        + (f" · {int(n):,} series" if pd.notna(n) else "")
        for p, v, s, n in zip(labels, fva, share, series, strict=True)
    ]
    shown = np.maximum(fva, FVA_FLOOR)
    fig = new_figure(height=400)
    fig.add_bar(
        x=labels, y=shown, marker_color=[palette.pattern(p) for p in labels],
        text=[f"{v:+.0f} %" if np.isfinite(v) else "" for v in fva], textposition="auto",
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", showlegend=False,
    )  # fmt: skip
    fig.add_hline(y=0, line={"color": INK, "width": 1})
    if overall is not None and np.isfinite(overall):
        fig.add_hline(
            y=max(overall * 100.0, FVA_FLOOR),
            line={"color": MUTED, "dash": "dash", "width": 1},
            annotation_text=f"all patterns: {overall * 100:+.0f} %",
            annotation_position="top left",
        )
    finite = shown[np.isfinite(shown)]
    lo = min(-10.0, float(finite.min()) - 10.0) if finite.size else -10.0
    hi = max(10.0, float(finite.max()) + 10.0) if finite.size else 10.0
    fig.update_yaxes(title="Forecast value added (%)", range=[max(lo, FVA_FLOOR - 5), hi])
    fig.update_xaxes(type="category")
    if (fva < FVA_FLOOR).any():
        add_note(fig, "Bars below −100 % are cut at the axis; the label gives the value.")
    return fig


def fva_by_segment(per_segment: pd.DataFrame) -> go.Figure:
    """FVA (%) per product segment (rows) and demand pattern (columns): blue cells beat the
    naive forecast, red ones do worse (``segment, pattern, fva``)."""
    d = per_segment.assign(fva_pct=per_segment["fva"].astype("float64") * 100.0)
    grid = d.pivot_table(index="segment", columns="pattern", values="fva_pct", aggfunc="mean")
    patterns = [p for p in ("smooth", "erratic", "intermittent", "lumpy") if p in grid.columns]
    grid = grid[patterns + sorted(c for c in grid.columns if c not in patterns)]
    z = grid.to_numpy(dtype="float64")
    fig = go.Figure()
    fig.add_heatmap(
        z=np.clip(z, FVA_FLOOR, -FVA_FLOOR), x=[str(c) for c in grid.columns],
        y=[str(i) for i in grid.index], colorscale="RdBu", zmid=0, zmin=-50, zmax=50,
        colorbar={"title": {"text": "FVA %"}},
        text=[["" if np.isnan(v) else f"{v:+.0f} %" for v in row] for row in z],
        texttemplate="%{text}", hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
    )  # fmt: skip
    fig.update_layout(template=TEMPLATE, height=max(260, 120 + 34 * len(grid)))
    fig.update_xaxes(title="Demand pattern", showgrid=False, type="category")
    fig.update_yaxes(title="Product segment", showgrid=False, type="category", autorange="reversed")
    return fig
