"""Plotly figure builders for the report, one function per chart, named after what it shows.

Every builder takes the run's tables (pandas) and returns a `plotly.graph_objects.Figure` in the
report's look and colours (`supplyseg.report.style`). Big inputs stay small in the page: scatters
are sampled, curves thinned and histograms binned here, and the chart says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from supplyseg.report.style import (
    ADI_CUT,
    CV2_CUT,
    GRID,
    INK,
    MUTED,
    NEUTRAL,
    SEGMENT_COLOURS,
    TEMPLATE,
    Palette,
    add_note,
    as_percent,
    central_range,
    curve_index,
    faded,
    money_title,
    new_figure,
    sample_note,
    sampled,
)

__all__ = [
    "abc_xyz_heatmap",
    "clv_distribution",
    "cost_by_pool",
    "cts_margin_scatter",
    "demand_pattern_map",
    "inventory_by_policy",
    "otif_dso_by_segment",
    "pareto_curve",
    "profit_waterfall",
    "rejects_by_reason",
    "rfm_map",
    "segment_migration_sankey",
    "segment_size_revenue",
    "whale_curve",
]

_CV2_FLOOR = 1e-3  # log axis: constant-size items (CV² = 0) are drawn on this floor


# --------------------------------------------------------------------------- 1. headline


def rejects_by_reason(reasons: pd.DataFrame) -> go.Figure:
    """Rejected rows per reason code, stacked by input table (``table, reason_code, rows``)."""
    order = reasons.groupby("reason_code")["rows"].sum().sort_values().index.tolist()
    fig = new_figure(height=max(220, 120 + 30 * len(order)))
    for i, (table, part) in enumerate(reasons.groupby("table", sort=True)):
        part = part.set_index("reason_code").reindex(order).fillna({"rows": 0})
        fig.add_bar(
            y=order,
            x=part["rows"].to_numpy(),
            name=str(table),
            orientation="h",
            marker_color=SEGMENT_COLOURS[i % len(SEGMENT_COLOURS)],
            hovertemplate="%{y}: %{x:,} rows<extra>" + str(table) + "</extra>",
        )
    fig.update_layout(barmode="stack", xaxis_title="Rejected rows", yaxis_title=None)
    fig.update_yaxes(automargin=True, type="category")
    return fig


def _totals_bar(
    labels: list[str], values: np.ndarray, colours: object, text: list[str]
) -> go.Figure:
    """Horizontal bars of totals, the largest at the top (values sorted ascending)."""
    fig = new_figure(height=max(220, 110 + 34 * len(labels)), showlegend=False)
    fig.add_bar(
        y=labels, x=values, orientation="h", marker_color=colours, text=text,
        textposition="auto", hovertemplate="%{y}: %{text}<extra></extra>",
    )  # fmt: skip
    fig.update_yaxes(automargin=True, type="category")
    return fig


def inventory_by_policy(
    policies: pd.DataFrame, by: str, palette: Palette, currency: str = ""
) -> go.Figure:
    """Inventory value summed per policy group (``by``: service_type or product_segment)."""
    # min_count=1: a group whose values are all unknown stays unknown (no bar), never 0.
    total = policies.groupby(by, dropna=False)["inventory_value"].sum(min_count=1).sort_values()
    labels = [str(v) for v in total.index]
    text = [f"{v:,.0f}" if np.isfinite(v) else "unknown" for v in total.to_numpy()]
    fig = _totals_bar(labels, total.to_numpy(), [palette.segment(s) for s in labels], text)
    fig.update_layout(xaxis_title=money_title("Inventory value", currency))
    return fig


# --------------------------------------------------------------------------- 2. demand


def pareto_curve(demand: pd.DataFrame, palette: Palette, entity: str = "products") -> go.Figure:
    """Cumulative share of the ABC measure against the share of items, coloured by ABC class."""
    d = demand.sort_values("rank", kind="stable").reset_index(drop=True)
    n = len(d)
    x = np.arange(1, n + 1) / n * 100.0
    y = as_percent(d["cum_share"]).to_numpy()
    share = as_percent(d["share"]) if "share" in d.columns else pd.Series(np.nan, index=d.index)
    classes = d["abc_class"].astype("string").fillna("n/a").to_numpy()
    change = np.flatnonzero(classes[1:] != classes[:-1])
    idx = curve_index(n, keep=[*change, *(change + 1)])
    fig = new_figure()
    start = 0
    for end in [*(change + 1), n]:
        label = str(classes[start])
        # Each class's band starts at the previous band's last point so the curve is unbroken.
        sel = idx[(idx >= max(start - 1, 0)) & (idx < end)]
        items, measure = (end - start) / n * 100.0, float(share.iloc[start:end].sum())
        fig.add_scatter(
            x=np.concatenate([[0.0], x[sel]]) if start == 0 else x[sel],
            y=np.concatenate([[0.0], y[sel]]) if start == 0 else y[sel],
            mode="lines",
            fill="tozeroy",
            line={"color": palette.abc.get(label, NEUTRAL), "width": 2},
            name=f"{label}: {items:.0f} % of {entity}, {measure:.0f} % of the measure",
            hovertemplate="%{x:.1f} % of " + entity + " → %{y:.1f} %<extra>" + label + "</extra>",
        )
        start = end
    fig.update_layout(
        xaxis={"title": f"Share of {entity}, largest first (%)", "range": [0, 100]},
        yaxis={"title": "Cumulative share of the ABC measure (%)", "range": [0, 102]},
    )
    return fig


def _class_order(frame: pd.DataFrame, column: str, by: str) -> list[str]:
    if by in frame.columns:
        key = frame.groupby(column)[by].median().sort_values()
        return [str(v) for v in key.index]
    return sorted(str(v) for v in frame[column].dropna().unique())


def abc_xyz_heatmap(demand: pd.DataFrame, entity: str = "products") -> go.Figure:
    """ABC × XYZ grid: number of items and share of revenue per cell, side by side."""
    d = demand.dropna(subset=["abc_class", "xyz_class"]).astype(
        {"abc_class": str, "xyz_class": str}
    )
    abc, xyz = _class_order(d, "abc_class", "rank"), _class_order(d, "xyz_class", "cv")
    cells = d.groupby(["abc_class", "xyz_class"])
    counts = cells.size().unstack("xyz_class").reindex(index=abc, columns=xyz).fillna(0)
    revenue = cells["revenue"].sum().unstack("xyz_class").reindex(index=abc, columns=xyz)
    revenue = revenue.fillna(0.0)
    total = float(revenue.to_numpy().sum())
    rev_pct = revenue / total * 100.0 if total else revenue * np.nan
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(f"Number of {entity}", "Share of revenue (%)"),
        horizontal_spacing=0.12,
    )
    for col, (z, fmt) in enumerate(((counts, "{:,.0f}"), (rev_pct, "{:.1f} %")), start=1):
        values = z.to_numpy(dtype="float64")
        fig.add_heatmap(
            z=values, x=xyz, y=abc, colorscale="Blues", showscale=False,
            text=[[fmt.format(v) for v in row] for row in values], texttemplate="%{text}",
            hovertemplate="%{y}%{x}: %{text}<extra></extra>", row=1, col=col,
        )  # fmt: skip
    fig.update_layout(template=TEMPLATE, height=360, margin={"t": 56})
    fig.update_xaxes(title_text="XYZ class (variability)", side="bottom", showgrid=False)
    fig.update_yaxes(title_text="ABC class", autorange="reversed", showgrid=False)
    return fig


def demand_pattern_map(demand: pd.DataFrame, palette: Palette, id_column: str) -> go.Figure:
    """ADI × CV² scatter (log axes) with the Syntetos–Boylan cut-offs 1.32 and 0.49."""
    d = demand[np.isfinite(demand["adi"].astype("float64"))]
    d = d[np.isfinite(d["cv2"].astype("float64")) & (d["adi"] > 0)]
    # SVG scatter, not WebGL: prints, and renders in a browser without a GPU.
    shown = sampled(d)
    fig = new_figure(height=460)
    for pattern, part in shown.groupby("pattern", sort=True):
        fig.add_scatter(
            x=part["adi"].to_numpy(dtype="float64"),
            y=np.maximum(part["cv2"].to_numpy(dtype="float64"), _CV2_FLOOR),
            mode="markers", name=str(pattern), text=part[id_column].astype(str).to_numpy(),
            marker={"color": palette.pattern(pattern), "size": 6, "opacity": 0.65},
            hovertemplate=f"%{{text}}<br>ADI %{{x:.2f}}, CV² %{{y:.2f}}<extra>{pattern}</extra>",
        )  # fmt: skip
    fig.add_vline(x=ADI_CUT, line={"color": MUTED, "dash": "dash", "width": 1})
    fig.add_hline(y=CV2_CUT, line={"color": MUTED, "dash": "dash", "width": 1})
    for text, x, y, xa, ya in (
        ("smooth", 0.01, 0.01, "left", "bottom"),
        ("erratic", 0.01, 0.99, "left", "top"),
        ("intermittent", 0.99, 0.01, "right", "bottom"),
        ("lumpy", 0.99, 0.99, "right", "top"),
    ):
        fig.add_annotation(
            text=text.upper(), xref="paper", yref="paper", x=x, y=y, xanchor=xa, yanchor=ya,
            showarrow=False, font={"size": 11, "color": palette.pattern(text)},
        )  # fmt: skip
    top_x = float(d["adi"].max()) if len(d) else 2.0
    xt = [v for v in (1, ADI_CUT, 2, 5, 10, 20, 50, 100, 200, 500) if v <= max(top_x, 2.0) * 1.5]
    yt = [0.001, 0.01, 0.1, CV2_CUT, 1, 10, 100]
    fig.update_xaxes(
        type="log", title="ADI: average periods between demands (log scale)",
        range=[np.log10(0.95), np.log10(max(top_x, 2.0) * 1.15)],
        tickvals=xt, ticktext=[f"{v:g}" for v in xt], minor={"showgrid": False},
    )  # fmt: skip
    fig.update_yaxes(
        type="log", title="CV² of non-zero demand sizes (log scale)",
        tickvals=yt, ticktext=[f"{v:g}" for v in yt],
    )  # fmt: skip
    note = sample_note(len(shown), len(d), "items")
    if note:
        add_note(fig, note)
    return fig


# --------------------------------------------------------------------------- 3. cost-to-serve


def whale_curve(cts: pd.DataFrame, currency: str = "") -> go.Figure:
    """Cumulative net profit (% of total) against the share of customers, most profitable first."""
    profit = np.sort(cts["net_profit"].astype("float64").dropna().to_numpy())[::-1]
    n = len(profit)
    cum = np.cumsum(profit)
    total = float(cum[-1]) if n else 0.0
    as_share = total > 0
    y = cum / total * 100.0 if as_share else cum
    x = np.arange(1, n + 1) / max(n, 1) * 100.0
    peak = int(np.argmax(y)) if n else 0
    idx = curve_index(n, keep=[peak])
    fig = new_figure()
    fig.add_scatter(
        x=np.concatenate([[0.0], x[idx]]),
        y=np.concatenate([[0.0], y[idx]]),
        mode="lines",
        fill="tozeroy",
        line={"color": "#4E79A7", "width": 2},
        name="cumulative net profit",
        hovertemplate="top %{x:.1f} % of customers → %{y:,.1f}"
        + (" % of profit" if as_share else "")
        + "<extra></extra>",
    )
    if as_share:
        fig.add_hline(y=100, line={"color": MUTED, "dash": "dash", "width": 1})
    if n:
        fig.add_annotation(
            x=x[peak],
            y=y[peak],
            text=f"peak: {x[peak]:.0f} % of customers earn "
            + (
                f"{y[peak]:.{0 if y[peak] >= 110 else 1}f} % of profit"
                if as_share
                else f"{y[peak]:,.0f}"
            ),
            showarrow=True,
            arrowhead=2,
            # Point the label into the plot: from the left when the peak is on the right.
            ax=-90 if x[peak] > 60 else 60,
            ay=-30,
        )
    fig.update_layout(
        showlegend=False,
        xaxis={"title": "Share of customers, most profitable first (%)", "range": [0, 100]},
        yaxis={
            "title": "Cumulative net profit (% of total)"
            if as_share
            else money_title("Cumulative net profit", currency)
        },
    )
    return fig


def cts_margin_scatter(
    cts: pd.DataFrame, segment: pd.Series | None, palette: Palette, segment_title: str = "segment"
) -> go.Figure:
    """Cost-to-serve % of revenue against net margin %, one point per customer, by segment."""
    d = cts[["customer_id", "revenue", "cts_pct_revenue", "net_margin_pct"]].copy()
    d = d[np.isfinite(d["cts_pct_revenue"].astype("float64"))]
    d = d[np.isfinite(d["net_margin_pct"].astype("float64"))]
    seg = segment.reindex(d["customer_id"]).to_numpy() if segment is not None else None
    d["segment"] = (
        pd.Series(seg, index=d.index).fillna("not segmented") if seg is not None else "all"
    )
    shown = sampled(d)
    fig = new_figure(height=480, legend_title_text=segment_title)
    for label, part in shown.groupby("segment", sort=True):
        fig.add_scatter(
            x=part["cts_pct_revenue"].to_numpy(dtype="float64"),
            y=part["net_margin_pct"].to_numpy(dtype="float64"),
            mode="markers", name=str(label), text=part["customer_id"].astype(str).to_numpy(),
            marker={"color": palette.segment(label), "size": 6, "opacity": 0.6},
            customdata=part["revenue"].to_numpy(dtype="float64"),
            hovertemplate="%{text}<br>CTS %{x:.1f} % · net margin %{y:.1f} %"
            "<br>revenue %{customdata:,.0f}<extra>" + str(label) + "</extra>",
        )  # fmt: skip
    # Tiny customers have CTS % in the thousands; the axes show the central 98 % of customers.
    x_range, x_in = central_range(d["cts_pct_revenue"])
    y_range, y_in = central_range(d["net_margin_pct"])
    outside = int((~(x_in & y_in)).sum())
    notes = [sample_note(len(shown), len(d), "customers") or ""]
    if outside:
        notes.append(f"{outside:,} customers lie outside the axes (1st–99th percentile shown).")
    if any(notes):
        add_note(fig, " ".join(n for n in notes if n))
    fig.add_hline(y=0, line={"color": MUTED, "width": 1})
    fig.update_xaxes(title="Cost-to-serve (% of revenue)", range=x_range)
    fig.update_yaxes(title="Net margin (% of revenue)", range=y_range)
    return fig


def cost_by_pool(cts: pd.DataFrame, pools: Sequence[str], currency: str = "") -> go.Figure:
    """Total cost-to-serve per cost pool, largest at the top, labelled with % of revenue."""
    # min_count=1: a pool whose cost is unknown for every customer gets no bar, not a 0 bar.
    sums = cts[list(pools)].sum(min_count=1)
    unknown = [str(p).replace("_", " ") for p in sums.index[sums.isna()]]
    totals = sums.dropna().sort_values()
    revenue = float(cts["revenue"].clip(lower=0).sum())
    share = totals / revenue * 100 if revenue > 0 else totals * np.nan
    text = [
        f"{v:,.0f} ({p:.1f} % of revenue)" if np.isfinite(p) else f"{v:,.0f}"
        for v, p in zip(totals, share, strict=True)
    ]
    labels = [p.replace("_", " ") for p in totals.index]
    fig = _totals_bar(labels, totals.to_numpy(dtype="float64"), "#E15759", text)
    fig.update_layout(xaxis_title=money_title("Cost-to-serve", currency))
    if unknown:
        add_note(fig, f"Cost unknown for every customer, not drawn: {', '.join(unknown)}.")
    return fig


def profit_waterfall(row: pd.Series, pools: Sequence[str], currency: str = "") -> go.Figure:
    """From revenue to net profit for one customer: COGS, then each cost pool."""
    steps: list[tuple[str, str, float]] = [("Revenue", "absolute", float(row["revenue"]))]
    cogs = float(row.get("cogs", np.nan))
    if np.isfinite(cogs):
        steps.append(("COGS", "relative", -cogs))
        steps.append(("Gross margin", "total", 0.0))
    # An unknown pool cost would break the running sum: it is left out.
    steps += [
        (p.replace("_", " "), "relative", -float(row[p]))
        for p in pools
        if pd.notna(row[p]) and row[p] != 0
    ]
    steps.append(("Net profit", "total", 0.0))
    # Totals are drawn from the running sum; label every bar with its own amount.
    labels, running = [], 0.0
    for _, measure, value in steps:
        running = (
            value if measure == "absolute" else running + (value if measure == "relative" else 0)
        )
        labels.append(f"{(running if measure != 'relative' else value):,.0f}")
    fig = new_figure(height=400)
    fig.add_waterfall(
        x=[s[0] for s in steps],
        measure=[s[1] for s in steps],
        y=[s[2] for s in steps],
        text=labels,
        increasing={"marker": {"color": "#59A14F"}},
        decreasing={"marker": {"color": "#E15759"}},
        totals={"marker": {"color": "#4E79A7"}},
        connector={"line": {"color": GRID}},
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{x}: %{text}<extra></extra>",
    )
    fig.update_layout(showlegend=False, yaxis_title=money_title("Amount", currency))
    fig.update_xaxes(tickangle=-35, automargin=True, type="category")
    return fig


# --------------------------------------------------------------------------- 4. customers


def rfm_map(metrics: pd.DataFrame, currency: str = "") -> go.Figure:
    """Customers per recency × frequency score, hover shows their revenue (monetary)."""
    d = metrics.dropna(subset=["r_score", "f_score"])
    grid = d.groupby(["f_score", "r_score"]).agg(
        customers=("customer_id", "size"), monetary=("monetary", "sum")
    )
    r = sorted(d["r_score"].unique().tolist())
    f = sorted(d["f_score"].unique().tolist())
    counts = grid["customers"].unstack("r_score").reindex(index=f, columns=r).fillna(0)
    money = grid["monetary"].unstack("r_score").reindex(index=f, columns=r).fillna(0.0)
    fig = new_figure(height=420)
    fig.add_heatmap(
        z=counts.to_numpy(dtype="float64"),
        x=[str(int(v)) for v in r],
        y=[str(int(v)) for v in f],
        colorscale="Blues",
        colorbar={"title": {"text": "customers"}},
        text=[[f"{v:,.0f}" for v in row] for row in counts.to_numpy()],
        texttemplate="%{text}",
        customdata=money.to_numpy(dtype="float64"),
        hovertemplate="R %{x} · F %{y}: %{text} customers<br>revenue %{customdata:,.0f}"
        "<extra></extra>",
    )
    fig.update_xaxes(title="Recency score (5 = bought most recently)", showgrid=False)
    fig.update_yaxes(title="Frequency score (5 = buys most often)", showgrid=False)
    return fig


def otif_dso_by_segment(stats: pd.DataFrame, palette: Palette) -> go.Figure:
    """OTIF (%) and DSO (days) per segment side by side (``segment, otif_pct, dso_days``)."""
    labels = stats["segment"].astype(str).tolist()
    colours = [palette.segment(s) for s in labels]
    titles = ("OTIF (% of due lines)", "DSO (days)")
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.1)
    for col, (column, fmt) in enumerate((("otif_pct", "{:.1f} %"), ("dso_days", "{:.0f} d")), 1):
        values = stats[column].astype("float64").to_numpy()
        fig.add_bar(
            x=labels, y=values, marker_color=colours, textposition="auto", showlegend=False,
            text=["" if np.isnan(v) else fmt.format(v) for v in values],
            hovertemplate="%{x}: %{text}<extra></extra>", row=1, col=col,
        )  # fmt: skip
        if np.isnan(values).all():
            fig.add_annotation(
                text="not measured", xref=f"x{col if col > 1 else ''} domain",
                yref=f"y{col if col > 1 else ''} domain", x=0.5, y=0.5, showarrow=False,
                font={"color": MUTED},
            )  # fmt: skip
    fig.update_layout(template=TEMPLATE, height=400, margin={"t": 56})
    fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(tickangle=-30, automargin=True, type="category")
    return fig


def clv_distribution(values: pd.Series, currency: str = "") -> go.Figure:
    """Histogram of 12-month CLV; the top 1 % are folded into the last bar."""
    v = values.astype("float64").to_numpy()
    v = v[np.isfinite(v)]
    cap = float(np.percentile(v, 99)) if v.size else 1.0
    lo = min(float(v.min()), 0.0) if v.size else 0.0
    clipped = np.clip(v, lo, cap)
    counts, edges = np.histogram(clipped, bins=40, range=(lo, cap if cap > lo else lo + 1.0))
    mids = (edges[:-1] + edges[1:]) / 2
    fig = new_figure(height=380)
    fig.add_bar(
        x=mids,
        y=counts,
        width=np.diff(edges),
        marker_color="#4E79A7",
        customdata=np.stack([edges[:-1], edges[1:]], axis=1),
        hovertemplate="%{customdata[0]:,.0f} – %{customdata[1]:,.0f}: %{y:,} customers"
        "<extra></extra>",
    )
    if v.size:
        med = float(np.median(v))
        fig.add_vline(x=med, line={"color": INK, "dash": "dash", "width": 1})
        fig.add_annotation(
            x=med, y=1, yref="paper", text=f"median {med:,.0f}", showarrow=False, xanchor="left"
        )
        add_note(fig, f"Customers above the 99th percentile ({cap:,.0f}) are in the last bar.")
    fig.update_layout(
        showlegend=False,
        bargap=0.02,
        xaxis_title=money_title("CLV, next 12 months", currency),
        yaxis_title="Customers",
    )
    return fig


# --------------------------------------------------------------------------- 5. segments


def segment_size_revenue(sizes: pd.DataFrame, palette: Palette, entity: str) -> go.Figure:
    """Share of entities (light) and of revenue (solid) per segment (``segment, entity_share,
    revenue_share`` in %)."""
    labels = sizes["segment"].astype(str).tolist()
    colours = [palette.segment(s) for s in labels]
    fig = new_figure(height=380, barmode="group")
    # Legend keys in grey: the bars carry the segment colours, light vs solid is the message.
    for name, opacity in ((f"% of {entity} (light)", 0.45), ("% of revenue (solid)", 1.0)):
        fig.add_scatter(
            x=[None], y=[None], name=name, mode="markers",
            marker={"symbol": "square", "size": 12, "color": MUTED, "opacity": opacity},
        )  # fmt: skip
    fig.add_bar(
        x=labels,
        y=sizes["entity_share"].to_numpy(dtype="float64"),
        showlegend=False,
        marker={"color": colours, "opacity": 0.45},
        texttemplate="%{y:.0f} %",
        hovertemplate="%{x}: %{y:.1f} % of " + entity + "<extra></extra>",
    )
    if "revenue_share" in sizes.columns and sizes["revenue_share"].notna().any():
        fig.add_bar(
            x=labels,
            y=sizes["revenue_share"].to_numpy(dtype="float64"),
            showlegend=False,
            marker={"color": colours},
            texttemplate="%{y:.0f} %",
            hovertemplate="%{x}: %{y:.1f} % of revenue<extra></extra>",
        )
    fig.update_layout(yaxis_title="Share (%)")
    fig.update_xaxes(tickangle=-30, automargin=True, type="category")
    return fig


def segment_migration_sankey(migration: pd.DataFrame, palette: Palette) -> go.Figure:
    """Entities moving from their earlier segment (left) to this run's segment (right)."""
    m = migration.copy()
    m["from"], m["to"] = m["from"].astype(str), m["to"].astype(str)
    left, right = sorted(m["from"].unique()), sorted(m["to"].unique())
    nodes = [*left, *right]
    pos = {("from", s): i for i, s in enumerate(left)} | {
        ("to", s): len(left) + i for i, s in enumerate(right)
    }
    revenue = (
        m["revenue"].astype("float64") if "revenue" in m.columns else pd.Series(np.nan, m.index)
    )

    fig = new_figure(height=max(360, 40 * max(len(left), len(right))))
    fig.add_sankey(
        arrangement="snap",
        node={
            "label": nodes,
            "color": [palette.segment(s) for s in nodes],
            "pad": 14,
            "thickness": 16,
            "line": {"color": "white", "width": 0.5},
        },
        link={
            "source": [pos[("from", s)] for s in m["from"]],
            "target": [pos[("to", s)] for s in m["to"]],
            "value": m["entities"].astype("float64").to_numpy(),
            "color": [faded(palette.segment(s), 0.35) for s in m["from"]],
            "customdata": revenue.to_numpy(),
            "hovertemplate": "%{source.label} → %{target.label}: %{value:,} entities"
            "<br>revenue %{customdata:,.0f}<extra></extra>",
        },
    )
    fig.add_annotation(text="earlier run", x=0, y=1.06, xref="paper", yref="paper", showarrow=False)
    fig.add_annotation(text="this run", x=1, y=1.06, xref="paper", yref="paper", showarrow=False)
    return fig
