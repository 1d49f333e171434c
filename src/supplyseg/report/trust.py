"""Can the policies be trusted? The replay of past demand against them (target vs achieved),
items whose target is not met, lifecycle, obsolete stock, demand cleansing and forecast value
added (FVA), each read from the run folder when the run wrote it.

Every element is optional: a run made before these outputs existed still renders, and the block
says what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from supplyseg.report import figures_policy as fp
from supplyseg.report.blocks import TOP_ROWS, Block, Chart, Context, Kpi, Missing, Note, plural
from supplyseg.report.blocks import table_block as _table
from supplyseg.report.columns import format_value, fraction_scale
from supplyseg.report.run_folder import RunFolder
from supplyseg.report.unknown import known_total

__all__ = [
    "ForecastValueAdded",
    "forecast_value_added",
    "fva_column",
    "policy_kpis",
    "replay_sentence",
    "simulation_by_segment",
    "trust_blocks",
]

_MEASURE = {"fill_rate": "achieved_fill_rate", "cycle_service": "achieved_cycle_service"}
_LIFECYCLES = ("new", "active", "dormant", "obsolete")


# --------------------------------------------------------------------------- policy replay


def _achieved(frame: pd.DataFrame) -> pd.Series:
    """The achieved service in the policy's own measure (fill rate unless cycle service)."""
    stype = frame["service_type"].astype(str) if "service_type" in frame.columns else None
    fill = frame.get("achieved_fill_rate", pd.Series(np.nan, index=frame.index))
    cycle = frame.get("achieved_cycle_service", pd.Series(np.nan, index=frame.index))
    if stype is None:
        return fill.astype("float64")
    return pd.Series(
        np.where(stype == "cycle_service", cycle, fill), index=frame.index, dtype="float64"
    )


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    v, w = values.to_numpy(dtype="float64"), weights.to_numpy(dtype="float64")
    ok = np.isfinite(v) & np.isfinite(w) & (w > 0)
    return float(np.average(v[ok], weights=w[ok])) if ok.any() else float("nan")


def simulation_by_segment(run: RunFolder) -> pd.DataFrame | None:
    """Per product segment and service type: ``items, target, achieved, avg_on_hand_value``
    (fractions; demand-weighted). The manifest's ``summaries.simulation`` when the run wrote it,
    else computed from ``policy_simulation.parquet``; None when the run replayed nothing."""
    rows = run.summary("simulation")
    if isinstance(rows, list) and rows:
        d = pd.DataFrame([r for r in rows if isinstance(r, dict)])
        if {"product_segment", "target"} <= set(d.columns):
            d = d.assign(achieved=_achieved(d))
            d["avg_on_hand_value"] = pd.to_numeric(
                d.get("avg_on_hand_value", pd.Series(np.nan, index=d.index)), errors="coerce"
            )
            return d.rename(columns={"target": "service_target"})
    sim = run.table("policy_simulation")
    if sim is None or not {"product_segment", "service_target"} <= set(sim.columns):
        return None
    sim = sim.assign(_achieved=_achieved(sim))
    weight = sim["demand"] if "demand" in sim.columns else pd.Series(1.0, index=sim.index)
    keys = ["product_segment"] + (["service_type"] if "service_type" in sim.columns else [])
    out = []
    for key, g in sim.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        value = g.get("avg_on_hand_value", pd.Series(np.nan, index=g.index))
        out.append(
            {
                **dict(zip(keys, key, strict=True)),
                "items": len(g),
                "service_target": _weighted(g["service_target"], weight.loc[g.index]),
                "achieved": _weighted(g["_achieved"], weight.loc[g.index]),
                "avg_on_hand_value": known_total(value),
            }
        )
    return pd.DataFrame(out)


def _horizon(run: RunFolder) -> str:
    """The replayed window, from ``summaries.simulation_window`` when the run names it."""
    window = run.summary("simulation_window")
    if isinstance(window, dict) and {"start", "end", "days"} <= set(window):
        return (
            f"the {window['days']} days from {window['start']} to {window['end']} against"
            " policies computed from the data before them"
        )
    return "past demand against these policies"


def _labelled(rows: pd.DataFrame) -> pd.DataFrame:
    d = rows.copy()
    stype = d["service_type"].astype(str) if "service_type" in d.columns else None
    d["measure"] = (
        stype.str.replace("_", " ") if stype is not None else pd.Series("fill rate", d.index)
    )
    several = d.groupby("product_segment")["product_segment"].transform("size") > 1
    d["label"] = np.where(
        several, d["product_segment"].astype(str) + " · " + d["measure"], d["product_segment"]
    )
    d["segment"] = d["product_segment"].astype(str)
    scale = fraction_scale(pd.concat([d["service_target"], d["achieved"]]))
    d["target_pct"] = d["service_target"].astype("float64") * scale
    d["achieved_pct"] = d["achieved"].astype("float64") * scale
    return d


def replay_sentence(run: RunFolder, rows: pd.DataFrame) -> str:
    """One sentence a planner can repeat: how many segments met their target in the replay and
    the largest misses, e.g. "segment CX reached 85.1 % fill rate against 90 %"."""
    d = _labelled(rows)
    known = d[np.isfinite(d["achieved_pct"]) & np.isfinite(d["target_pct"])]
    gap = known["target_pct"] - known["achieved_pct"]
    short = known[gap > 0.05].assign(gap=gap).sort_values("gap", ascending=False)
    items = int(pd.to_numeric(d["items"], errors="coerce").sum()) if "items" in d else 0
    text = (
        f"Replaying {_horizon(run)} ({plural(items, 'item')}),"
        f" {len(known) - len(short)} of {len(known)} segment groups reached their service target"
    )
    if short.empty:
        return text + "."
    misses = [
        f"segment {r.label} reached {r.achieved_pct:.1f} % {r.measure} against {r.target_pct:.1f} %"
        for r in short.head(3).itertuples()
    ]
    more = f" and {len(short) - 3} more" if len(short) > 3 else ""
    return f"{text}; {'; '.join(misses)}{more}."


def _not_met(ctx: Context) -> Block:
    pol = ctx.run.table("policies")
    if pol is None or "target_met" not in pol.columns:
        why = ctx.run.reason_absent("policies") if pol is None else (
            "the policies have no target_met column (a run made before the policy replay)"
        )  # fmt: skip
        return Missing("target_not_met", "Items whose service target is not met", why)
    missed = pol[pol["target_met"].eq(False)].copy()
    sim = ctx.run.table("policy_simulation")
    if sim is not None and {"product_id", "location_id"} <= set(sim.columns):
        sim = sim.assign(achieved=_achieved(sim))
        keep = ["product_id", "location_id", "achieved", "stockout_buckets", "avg_on_hand_value"]
        sim = sim[[c for c in keep if c in sim.columns]]
        missed = missed.merge(sim, on=["product_id", "location_id"], how="left")
    if "achieved" in missed.columns and "service_target" in missed.columns:
        missed["shortfall_pct"] = 100.0 * (missed["service_target"] - missed["achieved"])
        missed = missed.sort_values("shortfall_pct", ascending=False, na_position="last")
    return _table(
        ctx, "target_not_met", "Items whose service target is not met",
        "The replay's largest shortfalls first: achieved service in the policy's own measure,"
        " stock-out periods and the stock held. Raise safety stock, shorten lead times or lower"
        " the target for these items.",
        missed.head(TOP_ROWS),
        ["product_id", "location_id", "product_segment", "service_type", "service_target",
         "achieved", "shortfall_pct", "stockout_buckets", "lifecycle", "avg_on_hand_value"],
        total=len(missed), source="policies",
    )  # fmt: skip


def _replay_blocks(ctx: Context) -> list[Block]:
    rows = simulation_by_segment(ctx.run)
    if rows is None or rows.empty:
        why = ctx.run.reason_absent("policy_simulation")
        return [Missing("service_replay", "Service target vs achieved per segment", why)]
    d = _labelled(rows)
    return [
        Note("replay_sentence", replay_sentence(ctx.run, rows)),
        Chart(
            "service_replay", "Service target vs achieved per segment",
            "The policies replayed against past demand: the diamond is the segment's service"
            " target, the dot the service the replay achieved (demand-weighted over its items;"
            " fill rate or cycle service as the policy sets). Red: short of the target.",
            fp.service_target_vs_achieved(d, ctx.palette),
        ),
    ]  # fmt: skip


# --------------------------------------------------------------------------- lifecycle & stock


def _lifecycle_detail(pol: pd.DataFrame) -> str:
    counts = pol["lifecycle"].astype(str).value_counts()
    order = [c for c in _LIFECYCLES if c in counts.index] + sorted(
        c for c in counts.index if c not in _LIFECYCLES
    )
    return " · ".join(f"{c} {int(counts[c]):,}" for c in order)


def policy_kpis(ctx: Context) -> list[Kpi]:
    """Section 6's cards: items by lifecycle, targets not met, obsolete stock, cleansed values;
    a card is left out when the run did not write what it needs."""
    run, kpis = ctx.run, []
    pol = run.table("policies")
    summary = run.summary("policy")
    summary = summary if isinstance(summary, dict) else {}
    if pol is not None and "lifecycle" in pol.columns:
        n = len(pol)
        kpis.append(Kpi("policy_items", "Items with a policy", n, f"{n:,}", _lifecycle_detail(pol)))
    not_met = summary.get("target_not_met")
    if not_met is None and pol is not None and "target_met" in pol.columns:
        not_met = int(pol["target_met"].eq(False).sum())
    if not_met is not None:
        kpis.append(
            Kpi(
                "target_not_met", "Service target not met", int(not_met), f"{int(not_met):,}",
                "stocked items whose policy is expected to fall short of its target (the"
                " rationale says why and what would reach it)", warn=int(not_met) > 0,
            )
        )  # fmt: skip
    saving = _optimise_kpi(run.summary("optimise"))
    if saving is not None:
        kpis.append(saving)
    obsolete = run.table("obsolete_stock")
    if obsolete is not None:
        kpis.append(_obsolete_kpi(ctx, obsolete, summary))
    cleansing = run.table("demand_cleansing")
    if cleansing is not None:
        kpis.append(_cleansing_kpi(cleansing))
    return kpis


def _optimise_kpi(rows: object) -> Kpi | None:
    """ "Same service for X % less safety stock" over the optimised scopes, or None."""
    if not isinstance(rows, list) or not rows:
        return None
    opt = [r.get("safety_stock_value") for r in rows if isinstance(r, dict)]
    uni = [r.get("uniform_safety_stock_value") for r in rows if isinstance(r, dict)]
    pairs = [
        (o, u) for o, u in zip(opt, uni, strict=True)
        if isinstance(o, int | float) and isinstance(u, int | float) and u > 0
    ]  # fmt: skip
    if not pairs:
        return None
    total_o, total_u = sum(o for o, _ in pairs), sum(u for _, u in pairs)
    pct = 100 * (1 - total_o / total_u)
    return Kpi(
        "optimised_saving", "Same service, less safety stock", pct, f"{pct:.1f} %",
        f"the optimised stock mix needs {total_o:,.0f} of safety-stock value where one target"
        f" for every item needs {total_u:,.0f}, for the same fill rate per segment",
    )  # fmt: skip


def _obsolete_kpi(ctx: Context, obsolete: pd.DataFrame, summary: dict[str, object]) -> Kpi:
    units = known_total(obsolete["on_hand"]) if "on_hand" in obsolete.columns else float("nan")
    value = summary.get("obsolete_stock_value")
    if not isinstance(value, int | float):
        value = known_total(obsolete["value"]) if "value" in obsolete.columns else float("nan")
    where = f"{plural(len(obsolete), 'item')} with stock but no recent demand"
    if not len(obsolete):
        return Kpi("obsolete_stock", "Obsolete stock", 0.0, "none", "no item is obsolete")
    if np.isnan(float(value)):
        why = "no unit cost" if ctx.cost_unknown or "value" in obsolete.columns else "not valued"
        worth = f"value unknown ({why})"
    else:
        worth = f"worth {format_value(float(value), 'currency', ctx.cur)}"
    known = bool(np.isfinite(units))
    return Kpi(
        "obsolete_stock", "Obsolete stock", units if known else None,
        f"{units:,.0f} units" if known else "unknown", f"{where}; {worth}", warn=True,
    )  # fmt: skip


def _cleansing_kpi(cleansing: pd.DataFrame) -> Kpi:
    if "rule" in cleansing.columns:
        changed = cleansing["rule"].notna()
    else:
        same = np.isclose(cleansing["y"], cleansing["y_clean"], equal_nan=True)
        changed = pd.Series(~same, index=cleansing.index)
    n = int(changed.sum())
    share = n / len(cleansing) if len(cleansing) else float("nan")
    detail = f"of {len(cleansing):,} demand values ({format_value(share, 'fraction')})"
    if "rule" in cleansing.columns and n:
        by = cleansing.loc[changed, "rule"].astype(str).value_counts()
        detail += " · " + ", ".join(f"{r} {int(c):,}" for r, c in by.items())
    return Kpi("cleansed", "Demand values cleansed", n, f"{n:,}", detail)


def _lifecycle_table(ctx: Context) -> Block | None:
    pol = ctx.run.table("policies")
    if pol is None or "lifecycle" not in pol.columns:
        return None
    rule = pol["inventory_rule"] if "inventory_rule" in pol.columns else None
    groups = pol.assign(
        _mto=rule.eq("make_to_order") if rule is not None else False,
        _none=rule.eq("no_stock") if rule is not None else False,
        _value=pol.get("inventory_value", pd.Series(np.nan, index=pol.index)),
    ).groupby("lifecycle", sort=False)
    table = pd.DataFrame(
        {
            "items": groups.size(),
            "make_to_order_items": groups["_mto"].sum(),
            "no_stock_items": groups["_none"].sum(),
            "inventory_value": groups["_value"].sum(min_count=1),
        }
    ).reset_index()
    rank = {c: i for i, c in enumerate(_LIFECYCLES)}
    table = table.sort_values("lifecycle", key=lambda s: s.map(rank).fillna(len(rank)))
    return _table(
        ctx, "lifecycle", "Items by lifecycle",
        "New items have too little history for a statistical policy; dormant ones have had no"
        " demand for a while; obsolete ones are not restocked (no_stock) and their stock is"
        " listed below.",
        table, ["lifecycle", "items", "make_to_order_items", "no_stock_items", "inventory_value"],
    )  # fmt: skip


def _obsolete_table(ctx: Context) -> Block:
    obsolete = ctx.run.table("obsolete_stock")
    if obsolete is None:
        return Missing("obsolete_stock", "Obsolete stock", ctx.run.reason_absent("obsolete_stock"))
    keys = [c for c in ("value", "on_hand") if c in obsolete.columns]
    top = obsolete.sort_values(keys, ascending=False, na_position="last") if keys else obsolete
    return _table(
        ctx, "obsolete_stock_table", "Obsolete stock",
        "Stock of items with no demand since the obsolescence window, largest first: candidates"
        " to sell off, return or write down.",
        top.head(TOP_ROWS),
        ["product_id", "location_id", "last_demand_date", "on_hand", "unit_cost", "value"],
        total=len(obsolete), source="obsolete_stock",
    )  # fmt: skip


def trust_blocks(ctx: Context) -> list[Block]:
    """The replay (sentence, chart, shortfalls), lifecycle and obsolete-stock blocks."""
    blocks = _replay_blocks(ctx)
    blocks.append(_not_met(ctx))
    lifecycle = _lifecycle_table(ctx)
    if lifecycle is not None:
        blocks.append(lifecycle)
    blocks.append(_obsolete_table(ctx))
    return blocks


# --------------------------------------------------------------------------- forecast value added


@dataclass
class ForecastValueAdded:
    """FVA per pattern (``pattern, series, fva, share_beating_baseline``), per segment and
    pattern when the table has a segment column, the overall FVA and the series not scored."""

    per_pattern: pd.DataFrame
    per_segment: pd.DataFrame | None
    overall: float | None
    unscored_series: int | None  # None: not counted (older runs have no series column)
    unscored_rows: int


def fva_column(d: pd.DataFrame) -> pd.Series:
    """FVA per row: the ``fva`` column, else 1 - ``relative_mae``, else 1 - mae / baseline_mae."""
    if "fva" in d.columns:
        return pd.to_numeric(d["fva"], errors="coerce").astype("float64")
    if "relative_mae" in d.columns:
        return 1.0 - pd.to_numeric(d["relative_mae"], errors="coerce").astype("float64")
    base = pd.to_numeric(d["baseline_mae"], errors="coerce").astype("float64")
    return 1.0 - pd.to_numeric(d["mae"], errors="coerce").astype("float64") / base.where(base > 0)


def _pooled(g: pd.DataFrame) -> dict[str, float]:
    """One group's FVA from its rows: errors added up over series (mae is a mean per series)."""
    n = g["series"].astype("float64") if "series" in g.columns else pd.Series(1.0, g.index)
    if {"mae", "baseline_mae"} <= set(g.columns):
        base = float((g["baseline_mae"] * n).sum(min_count=1))
        fva = 1.0 - float((g["mae"] * n).sum(min_count=1)) / base if base > 0 else np.nan
    else:
        fva = _weighted(g["fva"], n)
    share = (
        _weighted(g["share_beating_baseline"], n)
        if "share_beating_baseline" in g.columns
        else np.nan
    )
    return {"series": float(n.sum()), "fva": fva, "share_beating_baseline": share}


def forecast_value_added(accuracy: pd.DataFrame) -> ForecastValueAdded:
    """FVA = 1 - MAE / naive MAE per demand pattern (the ``fva`` column, else from
    ``relative_mae`` or the MAEs of older runs). Rows of series without enough history
    (``pattern == "insufficient_history"`` or ``scored`` false) are counted apart, never drawn
    as a ratio."""
    d = accuracy.assign(fva=fva_column(accuracy))
    unscored = d["pattern"].astype(str).eq("insufficient_history")
    if "scored" in d.columns:
        unscored |= d["scored"].eq(False)
    rest = d[~unscored]
    count = None
    if "series" in d.columns:
        counted = unscored
        total = d["segment"].isna() | d["segment"].astype(str).eq("all") if "segment" in d else None
        if total is not None and (unscored & total).any():
            # A per-segment breakdown repeats the total row: count the total only.
            counted = unscored & total
        count = int(pd.to_numeric(d.loc[counted, "series"], errors="coerce").fillna(0).sum())
    overall_rows = rest[rest["pattern"].astype(str) == "all"]
    rest = rest[rest["pattern"].astype(str) != "all"]
    per_segment = None
    if "segment" in rest.columns:
        is_total = rest["segment"].isna() | rest["segment"].astype(str).eq("all")
        segs = rest[~is_total]
        per_segment = segs[["segment", "pattern", "fva"]] if len(segs) else None
        totals = rest[is_total]
        if totals.empty:
            totals = pd.DataFrame(
                [{"pattern": p, **_pooled(g)} for p, g in segs.groupby("pattern", sort=False)]
            )
        rest = totals
    cols = [c for c in ("pattern", "series", "fva", "share_beating_baseline") if c in rest]
    per_pattern = rest[cols].reset_index(drop=True)
    if not overall_rows.empty:
        overall: float | None = float(overall_rows["fva"].iloc[0])
    elif len(rest) and "series" in rest.columns:
        overall = _pooled(rest)["fva"] if {"mae", "baseline_mae"} <= set(rest.columns) else None
    else:
        overall = None
    return ForecastValueAdded(per_pattern, per_segment, overall, count, int(unscored.sum()))
