"""The report's content: six sections of headline numbers, charts, top-row tables and captions.

Each block appears when its tables (and columns) are in the run folder; otherwise it becomes a
`Missing` block whose reason comes from the manifest notes or says the table was not produced.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from supplyseg.report import figures as fg
from supplyseg.report.alerts import alerts_section
from supplyseg.report.allocation import allocation_section
from supplyseg.report.blocks import (
    TOP_ROWS,
    Chart,
    Context,
    Missing,
    Note,
    Section,
    plural,
    table_block,
)
from supplyseg.report.columns import fraction_scale
from supplyseg.report.headline import headline_section
from supplyseg.report.policies import policies_section
from supplyseg.report.run_folder import RunFolder
from supplyseg.report.style import Palette
from supplyseg.report.suppliers import suppliers_section
from supplyseg.report.unknown import cost_unknown_reason
from supplyseg.report.workbook import sheet_names

__all__ = ["report_sections"]

_CUSTOMER_SCHEMES = ("cts_margin", "behavioural", "rfm")  # first found colours customer charts


# --------------------------------------------------------------------------- 2. demand


def _demand(ctx: Context) -> Section:
    sec = Section(
        "demand", "2. Demand",
        "Which products carry the business (ABC), how steady their demand is (XYZ) and what"
        " demand pattern each follows — the basis for forecasting and stocking rules.",
    )  # fmt: skip
    why = ctx.lacks("demand_product", ["product_id"])
    if why:
        sec.blocks.append(Missing("demand", "Demand classes", why))
        return sec
    d = ctx.run.table("demand_product")
    assert d is not None
    why = ctx.lacks("demand_product", ["rank", "cum_share", "abc_class"], "demand")
    sec.blocks.append(
        Missing("pareto", "Pareto curve", why)
        if why
        else Chart(
            "pareto", "Pareto (ABC) curve",
            "Products are ranked from largest to smallest on the ABC measure; the curve shows"
            " the share of the total they add up to. A steep start means a few products make"
            " most of the business; the coloured bands are the ABC classes.",
            fg.pareto_curve(d, ctx.palette),
        )
    )  # fmt: skip
    why = ctx.lacks("demand_product", ["abc_class", "xyz_class", "revenue"], "demand")
    sec.blocks.append(
        Missing("abc_xyz", "ABC × XYZ", why)
        if why
        else Chart(
            "abc_xyz", "ABC × XYZ: products and revenue per cell",
            "Rows are value classes (A = most important), columns variability classes"
            " (X = steadiest). AX products are valuable and predictable: lean stocks work;"
            " CZ products are small and erratic: make-to-order or stock with care.",
            fg.abc_xyz_heatmap(d),
        )
    )  # fmt: skip
    why = ctx.lacks("demand_product", ["adi", "cv2", "pattern"], "demand")
    if why:
        sec.blocks.append(Missing("demand_pattern", "Demand patterns", why))
    else:
        short = int((d["pattern"] == "insufficient_history").sum())
        extra = f" {plural(short, 'product')} with too little history not shown." if short else ""
        sec.blocks.append(
            Chart(
                "demand_pattern", "Demand patterns: ADI × CV²",
                "Each point is a product. Right of the dashed line (ADI ≥ 1.32) demand comes"
                " in some periods only; above it (CV² ≥ 0.49) order sizes vary a lot. Smooth"
                " items suit standard forecasts, intermittent and lumpy ones Croston-type"
                " methods. Both axes are logarithmic; CV² of 0 is drawn at 0.001." + extra,
                fg.demand_pattern_map(d, ctx.palette, "product_id"),
            )
        )  # fmt: skip
    top = d.sort_values("revenue", ascending=False) if "revenue" in d.columns else d
    sec.blocks.append(
        table_block(
            ctx, "top_products", "Largest products",
            "The products with the most revenue and their classes.",
            top.head(TOP_ROWS),
            ["product_id", "revenue", "share", "orders", "abc_class", "xyz_class", "pattern"],
            total=len(d), source="demand_product",
        )
    )  # fmt: skip
    return sec


# --------------------------------------------------------------------------- 3. cost-to-serve

_CTS_NOT_POOLS = {
    "customer_id", "revenue", "cogs", "gross_margin", "cts_total", "net_profit",
    "cts_pct_revenue", "net_margin_pct", "profit_rank", "cum_profit_share", "n_cost_missing",
}  # fmt: skip


def _pools(ctx: Context, cts: pd.DataFrame) -> list[str]:
    numeric = [c for c in cts.columns if pd.api.types.is_numeric_dtype(cts[c].dtype)]
    pools = [c for c in numeric if c not in _CTS_NOT_POOLS]
    br = ctx.run.table("cts_breakdown")
    if br is not None and "pool" in br.columns:
        named = [p for p in br["pool"].astype(str).unique() if p in cts.columns]
        pools = named or pools
    return pools


def _customer_segments(ctx: Context) -> tuple[pd.Series | None, str]:
    """The customers' segment in the main scheme (cts_margin first) and the scheme's name."""
    seg = ctx.run.table("segments_customer")
    if seg is not None and {"customer_id", "segment"} <= set(seg.columns):
        if "scheme" in seg.columns:
            schemes = seg["scheme"].astype(str).unique().tolist()
            pick = next((s for s in _CUSTOMER_SCHEMES if s in schemes), schemes[0])
            seg = seg[seg["scheme"].astype(str) == pick]
        else:
            pick = "segment"
        return seg.drop_duplicates("customer_id").set_index("customer_id")["segment"], pick
    metrics = ctx.run.table("customer_metrics")
    if metrics is not None and "rfm_segment" in metrics.columns:
        return metrics.set_index("customer_id")["rfm_segment"], "RFM segment"
    return None, "segment"


def _cost_to_serve(ctx: Context) -> Section:
    sec = Section(
        "cost_to_serve", "3. Cost-to-serve and customer profitability",
        "Revenue minus cost of goods minus the cost of serving each customer (orders, lines,"
        " freight, credit...) gives the net profit each customer really brings.",
    )  # fmt: skip
    why = ctx.lacks("cost_to_serve_customer", ["customer_id", "revenue"], "cost_to_serve")
    if why:
        sec.blocks.append(Missing("cost_to_serve", "Cost-to-serve", why))
        return sec
    cts = ctx.run.table("cost_to_serve_customer")
    assert cts is not None
    pools = _pools(ctx, cts)
    if pools:
        sec.blocks.append(
            Chart(
                "cost_by_pool", "Cost-to-serve by activity",
                "What serving customers costs in total, per activity (cost pool), largest"
                " first; the label gives its share of revenue.",
                fg.cost_by_pool(cts, pools, ctx.cur),
            )
        )  # fmt: skip
    why = ctx.lacks("cost_to_serve_customer", ["net_profit"], "cost_to_serve")
    if why:
        sec.blocks.append(
            Missing("profitability", "Whale curve, CTS vs margin and profit waterfalls", why)
        )
        return sec
    sec.blocks.append(
        Chart(
            "whale_curve", "Whale curve of customer profit",
            "Customers are sorted from most to least profitable; the curve adds up their net"
            " profit. Where it rises above 100 % the best customers earn more than the total;"
            " the drop to the right is the profit the unprofitable customers destroy.",
            fg.whale_curve(cts, ctx.cur),
        )
    )  # fmt: skip
    why = ctx.lacks(
        "cost_to_serve_customer", ["cts_pct_revenue", "net_margin_pct"], "cost_to_serve"
    )
    if why:
        sec.blocks.append(Missing("cts_margin", "Cost-to-serve vs net margin", why))
    else:
        seg, scheme = _customer_segments(ctx)
        sec.blocks.append(
            Chart(
                "cts_margin", "Cost-to-serve vs net margin",
                "One point per customer. Right = expensive to serve relative to what they buy;"
                " below the line = they lose money. Colours show the customer segment"
                f" ({scheme}). Customers without positive revenue are not shown.",
                fg.cts_margin_scatter(cts, seg, ctx.palette, scheme),
            )
        )  # fmt: skip
    ranked = cts.dropna(subset=["net_profit"]).sort_values("net_profit", ascending=False)
    if len(ranked) and {"revenue"} <= set(cts.columns):
        for key, row, what in (
            ("waterfall_best", ranked.iloc[0], "Most profitable customer"),
            ("waterfall_worst", ranked.iloc[-1], "Least profitable customer"),
        ):
            sec.blocks.append(
                Chart(
                    key, f"{what}: {row['customer_id']}",
                    "From revenue (left) through cost of goods and each cost-to-serve pool"
                    " (red) to net profit (right).",
                    fg.profit_waterfall(row, pools, ctx.cur), wide=False,
                )
            )  # fmt: skip
    sec.blocks.append(
        table_block(
            ctx, "least_profitable", "Least profitable customers",
            "The customers whose cost-to-serve outweighs their margin the most.",
            ranked.tail(TOP_ROWS).iloc[::-1],
            ["customer_id", "revenue", "gross_margin", "cts_total", "net_profit",
             "cts_pct_revenue", "net_margin_pct"],
            total=len(cts), source="cost_to_serve_customer",
        )
    )  # fmt: skip
    return sec


# --------------------------------------------------------------------------- 4. customers


def _weighted(values: pd.Series, weights: pd.Series | None) -> float:
    ok = values.notna() & (weights.notna() & (weights > 0) if weights is not None else True)
    if not ok.any():
        return float("nan")
    if weights is None:
        return float(values[ok].mean())
    return float(np.average(values[ok].astype("float64"), weights=weights[ok].astype("float64")))


OTIF_DEFINITION = "on time = delivered by the due date + tolerance; early counts as on time"


def segment_otif(metrics: pd.DataFrame, segment: pd.Series) -> pd.DataFrame:
    """OTIF per segment from the one OTIF figure, ``customer_metrics.otif`` (``otif``,
    ``customers``): the share of the segment's due lines delivered on time and in full, i.e.
    the customers' OTIF weighted by their ``lines_due``; the plain mean over customers when the
    run has no ``lines_due``. Customers whose OTIF is unknown are left out."""
    if "otif" not in metrics.columns:
        return pd.DataFrame(columns=["otif", "customers"])
    d = metrics.assign(segment=segment.reindex(metrics["customer_id"]).to_numpy())
    d = d.dropna(subset=["segment", "otif"])
    due = d["lines_due"] if "lines_due" in d.columns else None
    rows = {
        s: {"otif": _weighted(g["otif"], None if due is None else due.loc[g.index]),
            "customers": len(g)}
        for s, g in d.groupby("segment", sort=True)
    }  # fmt: skip
    return pd.DataFrame.from_dict(rows, orient="index", columns=["otif", "customers"])


def otif_words(metrics: pd.DataFrame) -> str:
    """What the report's OTIF per segment is, in one sentence with the definition."""
    how = (
        "share of the segment's due order lines delivered on time and in full"
        if "lines_due" in metrics.columns
        else "average over the segment's customers of their share of due lines delivered on"
        " time and in full"
    )
    return f"OTIF, the {how} ({OTIF_DEFINITION})."


def _customers(ctx: Context) -> Section:
    sec = Section(
        "customers", "4. Customers",
        "How recently and how often customers buy, how well they are served (OTIF), how fast"
        " they pay (DSO) and what they are expected to be worth over the next year (CLV).",
    )  # fmt: skip
    why = ctx.lacks("customer_metrics", ["customer_id"])
    if why:
        sec.blocks.append(Missing("customers", "Customer metrics", why))
        return sec
    m = ctx.run.table("customer_metrics")
    assert m is not None
    why = ctx.lacks("customer_metrics", ["r_score", "f_score"], "rfm")
    sec.blocks.append(
        Missing("rfm_map", "RFM map", why)
        if why
        else Chart(
            "rfm_map", "RFM map: customers by recency and frequency",
            "Each cell counts customers with a recency score (columns) and frequency score"
            " (rows), 5 = best. Top right: loyal, recent buyers; bottom left: lapsed one-off"
            " buyers. Hover a cell for the revenue it holds.",
            fg.rfm_map(m, ctx.cur),
        )
    )  # fmt: skip
    seg, scheme = _customer_segments(ctx)
    why_otif = ctx.lacks("customer_metrics", ["otif"], "otif")
    why_dso = ctx.lacks("customer_metrics", ["dso_days"], "dso")
    if seg is None or (why_otif and why_dso):
        reason = f"{why_otif}; {why_dso}" if seg is not None else "no customer segments exist"
        sec.blocks.append(Missing("otif_dso", "OTIF and DSO by segment", reason))
    else:
        df = m.assign(segment=seg.reindex(m["customer_id"]).to_numpy()).dropna(subset=["segment"])
        money = df["monetary"] if "monetary" in df.columns else None
        otif = segment_otif(m, seg)
        scale = fraction_scale(m["otif"]) if "otif" in m.columns else 100.0
        stats = pd.DataFrame(
            [
                {
                    "segment": s,
                    "otif_pct": scale * otif["otif"].get(s, np.nan) if len(otif) else np.nan,
                    "dso_days": _weighted(
                        g["dso_days"], None if money is None else money.loc[g.index]
                    )
                    if "dso_days" in g.columns
                    else np.nan,
                }
                for s, g in df.groupby("segment", sort=True)
            ]
        )
        sec.blocks.append(
            Chart(
                "otif_dso", f"OTIF and DSO by segment ({scheme})",
                f"Left: {otif_words(m)} Right: days sales outstanding, weighted by revenue."
                " Higher OTIF and lower DSO are better."
                + (f" OTIF: {why_otif}." if why_otif else "")
                + (f" DSO: {why_dso}." if why_dso else ""),
                fg.otif_dso_by_segment(stats, ctx.palette),
            )
        )  # fmt: skip
    why = ctx.lacks("customer_metrics", ["clv_12m"], "clv")
    sec.blocks.append(
        Missing("clv", "Customer lifetime value", why)
        if why
        else Chart(
            "clv", "Customer lifetime value over the next 12 months",
            "How many customers (bars) are expected to bring how much discounted value in the"
            " next 12 months (BG/NBD and Gamma-Gamma models; value = revenue × clv.margin,"
            " revenue by default). A long right tail means a few customers hold most of the"
            " future value.",
            fg.clv_distribution(m["clv_12m"], ctx.cur),
        )
    )  # fmt: skip
    return sec


# --------------------------------------------------------------------------- 5. segments


def _segment_sizes(ctx: Context) -> list[tuple[str, str, pd.DataFrame]]:
    """Per scheme: (scheme, entity word, segment / entity_share % / revenue_share %)."""
    out: list[tuple[str, str, pd.DataFrame]] = []
    for table, ids, entity, revenue_tables in (
        ("segments_customer", "customer_id", "customers",
         ("cost_to_serve_customer", "demand_customer", "customer_metrics")),
        ("segments_product", "product_id", "products", ("demand_product",)),
    ):  # fmt: skip
        seg = ctx.run.table(table)
        if seg is None or not {ids, "segment"} <= set(seg.columns):
            continue
        rev = None
        for name in revenue_tables:
            frame = ctx.run.table(name)
            col = "revenue" if frame is not None and "revenue" in frame.columns else "monetary"
            if frame is not None and col in frame.columns and ids in frame.columns:
                rev = frame.groupby(ids)[col].sum()
                break
        schemes = seg.groupby("scheme", sort=False) if "scheme" in seg.columns else [("", seg)]
        for scheme, part in schemes:
            sizes = part.groupby("segment").size().rename("n").to_frame()
            sizes["entity_share"] = 100.0 * sizes["n"] / sizes["n"].sum()
            if rev is not None:
                grouped = part.assign(_r=rev.reindex(part[ids]).to_numpy()).groupby("segment")
                r = grouped["_r"].sum(min_count=1)
                total = float(r.sum())
                sizes["revenue_share"] = 100.0 * r / total if total else np.nan
            out.append((str(scheme), entity, sizes.reset_index()))
    return out


_SCHEME_WORDS = {
    "rfm": "RFM (recency, frequency, monetary value)",
    "cts_margin": "cost-to-serve and net margin",
    "behavioural": "buying behaviour",
}


def segmentation_fallback(run: RunFolder) -> str | None:
    """The sentence saying customers are not segmented by the requested scheme, and why (from
    ``manifest["segmentation"]``), or None when the requested scheme was used."""
    seg = run.segmentation
    if not seg.get("fallback"):
        return None
    used = str(seg.get("used") or "another scheme")
    requested = seg.get("requested")
    reason = str(seg.get("reason") or "the requested scheme could not be computed").rstrip(". ")
    text = f"Customers are segmented by {_SCHEME_WORDS.get(used, used)}"
    if requested:
        text += f", not by {_SCHEME_WORDS.get(str(requested), str(requested))} as configured,"
    text += f" because {reason}."
    if "cost" in reason.lower() or "margin" in reason.lower():
        text += (
            " Map unit costs (order_lines.unit_cost or products.unit_cost) to segment by profit."
        )
    return text


def _summary_with_report_otif(ctx: Context, summary: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The segment profiles with OTIF per customer segment recomputed from
    ``customer_metrics.otif`` as in the OTIF chart, so the page shows one OTIF figure."""
    metrics, seg = ctx.run.table("customer_metrics"), ctx.run.table("segments_customer")
    if (
        metrics is None or seg is None or "otif" not in metrics.columns
        or not {"scheme", "segment"} <= set(summary.columns) or "scheme" not in seg.columns
    ):  # fmt: skip
        return summary, ""
    out = summary.copy()
    if "otif" not in out.columns:
        out["otif"] = np.nan
    out["otif"] = out["otif"].astype("float64")
    for scheme, part in seg.groupby("scheme", sort=False):
        segment = part.drop_duplicates("customer_id").set_index("customer_id")["segment"]
        otif = segment_otif(metrics, segment)["otif"]
        rows = out["scheme"] == scheme
        out.loc[rows, "otif"] = out.loc[rows, "segment"].map(otif).astype("float64").to_numpy()
    return out, f" {otif_words(metrics)}"


def _segments(ctx: Context) -> Section:
    sec = Section(
        "segments", "5. Segments",
        "The segments each scheme put customers and products in: how big they are, how much"
        " of the business they carry, and who moved since the earlier run.",
    )  # fmt: skip
    fallback = segmentation_fallback(ctx.run)
    if fallback:
        sec.blocks.append(Note("segmentation_fallback", fallback, tone="warn"))
    summary = ctx.run.table("segment_summary")
    if summary is None:
        sec.blocks.append(
            Missing("segment_profile", "Segment profiles", ctx.run.reason_absent("segment_summary"))
        )
    else:
        summary, otif_note = _summary_with_report_otif(ctx, summary)
        sec.blocks.append(
            table_block(
                ctx, "segment_profile", "Segment profiles",
                "One row per segment: its size, share of revenue and its service and cost"
                " figures." + otif_note,
                summary.head(60), list(summary.columns), total=len(summary),
                source="segment_summary",
            )
        )  # fmt: skip
    sizes = _segment_sizes(ctx)
    if not sizes:
        why = ctx.run.reason_absent("segments_customer")
        sec.blocks.append(Missing("segment_sizes", "Segment sizes", why))
    for scheme, entity, frame in sizes[:6]:
        sec.blocks.append(
            Chart(
                f"segment_sizes_{scheme}", f"Size and revenue per segment: {scheme or 'segments'}",
                f"Light bars: share of {entity} in each segment; solid bars: their share of"
                " revenue. A segment with a small light bar and a tall solid one is few"
                f" {entity} carrying much of the business.",
                fg.segment_size_revenue(frame, ctx.palette, entity), wide=len(frame) > 6,
            )
        )  # fmt: skip
    mig = ctx.run.table("segment_migration")
    lack = ctx.lacks("segment_migration", ["from", "to", "entities"], "segment", "migration")
    if lack or mig is None:
        sec.blocks.append(Missing("migration", "Segment migration", lack or ""))
    else:
        groups = mig.groupby("scheme", sort=False) if "scheme" in mig.columns else [("", mig)]
        for key, part in groups:
            name = str(key)
            suffix = f": {name}" if name else ""
            sec.blocks.append(
                Chart(
                    f"migration_{name}", f"Segment migration since the earlier run{suffix}",
                    "Bands flow from each entity's segment in the earlier run (left) to its"
                    " segment now (right); band width = number of entities. (new) entered since,"
                    " (gone) left.",
                    fg.segment_migration_sankey(part, ctx.palette),
                )
            )  # fmt: skip
    return sec


def _label_groups(run: RunFolder) -> list[list[str]]:
    """Labels that share a chart (a scheme's segments, a policy column), for distinct colours."""
    groups: list[list[str]] = []
    for table, cols in (
        ("segments_customer", ("segment",)),
        ("segments_product", ("segment",)),
        ("segment_summary", ("segment",)),
        ("segment_migration", ("from", "to")),
        ("policies", ("product_segment",)),
        ("policies", ("service_type",)),
        ("stock_to_service", ("segment",)),
        ("customer_metrics", ("rfm_segment",)),
    ):
        frame = run.table(table)
        if frame is None or not set(cols) <= set(frame.columns):
            continue
        parts = frame.groupby("scheme", sort=False) if "scheme" in frame.columns else [("", frame)]
        for _, part in parts:
            groups.append(sorted({str(v) for c in cols for v in part[c].dropna().unique()}))
    return groups


def _palette(run: RunFolder) -> Palette:
    demand = run.table("demand_product")
    abc: list[str] = []
    if demand is not None and "abc_class" in demand.columns:
        key = "rank" if "rank" in demand.columns else "abc_class"
        first = demand.dropna(subset=["abc_class"]).groupby("abc_class")[key].min()
        abc = [str(c) for c in first.sort_values().index]
    return Palette.build(_label_groups(run), abc)


def report_sections(run: RunFolder) -> list[Section]:
    """The six report sections for ``run``, each block present or explained as missing."""
    ctx = Context(run, _palette(run), sheet_names(run.table_names()), cost_unknown_reason(run))
    alerts = alerts_section(ctx)  # only when `supplyseg monitor` wrote alerts
    return [
        *([alerts] if alerts else []),
        headline_section(ctx),
        _demand(ctx),
        _cost_to_serve(ctx),
        _customers(ctx),
        _segments(ctx),
        policies_section(ctx),
        *([suppliers_section(ctx)] if ctx.run.table("supplier_metrics") is not None else []),
        *([allocation_section(ctx)] if ctx.run.has("allocation_shares") else []),
    ]
