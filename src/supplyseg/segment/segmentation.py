"""Segment customers, products and customer x product pairs by the configured schemes.

Inputs are the analytics tables of a run (any may be missing; a scheme whose inputs are missing
is skipped with a note). Outputs are long tables ``<ids>, scheme, segment, rule, explanation,
primary`` — one row per entity and scheme, ``primary`` marking the scheme that policies use —
plus a summary per scheme and segment and the warnings practice calls for (a segment with
< 1 % of entities, a scheme with more than 10 segments).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from supplyseg.config.segmentation import RuleScheme, SegmentationSettings
from supplyseg.errors import ConfigError
from supplyseg.segment.cluster import cluster_segments
from supplyseg.segment.rules import apply_rules
from supplyseg.segment.schemes import (
    BUILT_IN,
    abc_xyz_scheme,
    behavioural_scheme,
    cts_margin_scheme,
    demand_pattern_scheme,
    rfm_scheme,
)

__all__ = [
    "SegmentationResult",
    "customer_feature_table",
    "pair_segments",
    "segment_summary",
    "segmentation",
]

IDS = {
    "customer": ["customer_id"],
    "product": ["product_id"],
    "customer_product": ["customer_id", "product_id"],
    "product_location": ["product_id", "location_id"],
}
_PREFIXED = ("cv", "adi", "cv2", "pattern", "abc_class", "xyz_class", "mean", "std")


@dataclass
class SegmentationResult:
    """Segment tables per entity, summary, cluster profiles, warnings and notes."""

    customer: pd.DataFrame
    product: pd.DataFrame
    customer_product: pd.DataFrame
    summary: pd.DataFrame
    profiles: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    schemes: dict[str, dict[str, object]] = field(default_factory=dict)
    """Per entity: the ``requested`` primary scheme, the one ``used``, ``fallback`` and
    ``reason`` (when a fallback applied)."""


def customer_feature_table(
    behaviour: pd.DataFrame | None = None,
    cost_to_serve: pd.DataFrame | None = None,
    kpis: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer with every metric a scheme may use.

    Demand-profile columns that would clash (cv, pattern, abc_class, ...) get a ``demand_``
    prefix; otherwise the first table to bring a column wins, in argument order.
    """
    parts = [p for p in (behaviour, cost_to_serve, kpis) if p is not None]
    if demand is not None:
        parts.append(demand.rename(columns={c: f"demand_{c}" for c in _PREFIXED}))
    if not parts:
        raise ConfigError("no customer table to segment: the run produced no customer metrics")
    table = parts[0].copy()
    for part in parts[1:]:
        new = [c for c in part.columns if c == "customer_id" or c not in table.columns]
        table = table.merge(part[new], on="customer_id", how="outer")
    return table.sort_values("customer_id", ignore_index=True)


def _scheme(
    name: str, entity: str, table: pd.DataFrame, settings: SegmentationSettings
) -> RuleScheme | None:
    """The rule table of a built-in or custom scheme, or None when its inputs are missing."""
    if name in settings.custom:
        return settings.custom[name]
    has_margin = "net_margin_pct" in table and table["net_margin_pct"].notna().any()
    if name == "cts_margin" and has_margin:
        return cts_margin_scheme(settings.cts_margin)
    if name == "behavioural" and "orders_per_year" in table:
        return behavioural_scheme(settings.behavioural)
    if name == "rfm" and "rfm_segment" in table:
        return rfm_scheme(table["rfm_segment"])
    if name == "abc_xyz" and {"abc_class", "xyz_class"} <= set(table):
        abc = sorted(table["abc_class"].dropna().unique())
        xyz = sorted(table["xyz_class"].dropna().unique())
        return abc_xyz_scheme([str(a) for a in abc], [str(x) for x in xyz])
    if name == "demand_pattern" and "pattern" in table:
        return demand_pattern_scheme()
    return None


def _entity_of(name: str, settings: SegmentationSettings) -> str:
    if name in settings.custom:
        return settings.custom[name].entity
    if name in settings.cluster:
        return settings.cluster[name].entity
    if name in BUILT_IN:
        return BUILT_IN[name]
    known = sorted({*BUILT_IN, *settings.custom, *settings.cluster})
    raise ConfigError(
        f"segmentation: unknown scheme {name!r}; known: {known}; fix: use one of those or"
        " define it under segmentation.custom or segmentation.cluster"
    )


_NEEDS = (
    "cts_margin needs unit costs for margins; rfm needs customer KPIs; abc_xyz and"
    " demand_pattern need the demand profile"
)


def _one_scheme(
    name: str,
    entity: str,
    table: pd.DataFrame,
    settings: SegmentationSettings,
    result: SegmentationResult,
) -> pd.DataFrame | None:
    """One scheme's segment rows, or None (with a note) when its inputs are missing."""
    ids = IDS[entity]
    if name in settings.cluster:
        clustered = cluster_segments(
            table, settings.cluster[name], ids=ids, name=name, path=f"segmentation.cluster.{name}"
        )
        result.profiles[name] = clustered.profile
        return clustered.segments
    scheme = _scheme(name, entity, table, settings)
    if scheme is None:
        result.notes.append(
            f"segmentation {name}: skipped, its input metrics are missing ({_NEEDS})"
        )
        return None
    path = f"segmentation.custom.{name}" if name in settings.custom else f"segmentation.{name}"
    data = table
    if name not in settings.custom:
        # A built-in scheme degrades when optional data is absent (e.g. no rush flag): the
        # conditions on the missing metric never match. Custom schemes stay strict.
        used = {m for rule in scheme.rules for m in rule.when}
        absent = sorted(used - set(table.columns))
        if absent:
            data = table.assign(**dict.fromkeys(absent, np.nan))
            result.notes.append(
                f"segmentation {name}: {absent} not available in this data; conditions on"
                " them never match"
            )
    return apply_rules(data, scheme, ids=ids, name=name, path=path)


def _run_schemes(
    entity: str,
    table: pd.DataFrame | None,
    names: list[str],
    primary: str,
    settings: SegmentationSettings,
    result: SegmentationResult,
) -> pd.DataFrame:
    ids = IDS[entity]
    done: dict[str, pd.DataFrame] = {}
    if table is None:
        result.notes.extend(
            f"segmentation {name}: skipped, no {entity} metrics in this run" for name in names
        )
    else:
        for name in names:
            frame = _one_scheme(name, entity, table, settings, result)
            if frame is not None:
                done[name] = frame
    used = _primary_used(entity, table, primary, settings, result, done)
    result.schemes[entity] = {
        "requested": primary,
        "used": used,
        "fallback": used is not None and used != primary,
        "reason": None if used == primary else _skip_reason(primary, entity),
    }
    if not done:
        columns = [*ids, "scheme", "segment", "rule", "explanation", "primary"]
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    out = pd.concat(done.values(), ignore_index=True)
    out["primary"] = out["scheme"] == used
    return out


def _primary_used(
    entity: str,
    table: pd.DataFrame | None,
    primary: str,
    settings: SegmentationSettings,
    result: SegmentationResult,
    done: dict[str, pd.DataFrame],
) -> str | None:
    """The scheme that policies use: the configured one, else the first fallback that runs.

    A fallback is a warning, not a note: policies then rest on another scheme than configured.
    """
    if primary in done:
        return primary
    if table is None:  # not asked to segment this entity at all
        return None
    fallbacks = settings.customer_fallback if entity == "customer" else settings.product_fallback
    option = f"segmentation.{entity}_fallback"
    for name in fallbacks:
        if name not in BUILT_IN or BUILT_IN[name] != entity:
            raise ConfigError(
                f"{option}: {name!r} is not a built-in {entity} scheme; allowed:"
                f" {sorted(k for k, v in BUILT_IN.items() if v == entity)}"
            )
        if name not in done:
            frame = _one_scheme(name, entity, table, settings, result)
            if frame is not None:
                done[name] = frame
        if name in done:
            result.warnings.append(
                f"segmentation: primary {entity} scheme {primary!r} could not run"
                f" ({_skip_reason(primary, entity)});"
                f" {entity} policies use {name!r} instead (set segmentation.{entity}_scheme to"
                " choose another)"
            )
            return name
    result.warnings.append(
        f"segmentation: primary {entity} scheme {primary!r} was skipped"
        f" ({_skip_reason(primary, entity)}) and no fallback in {option}"
        f" ({list(fallbacks)}) could run: no {entity} segments for policies"
    )
    return None


def _skip_reason(name: str, entity: str) -> str:
    reasons = {
        "cts_margin": "no unit costs: net margins are unknown",
        "rfm": "no customer KPIs",
        "behavioural": "no order behaviour metrics",
        "abc_xyz": "no demand profile",
        "demand_pattern": "no demand profile",
    }
    return reasons.get(name, f"its input {entity} metrics are missing")


def pair_segments(pairs: ir.Table, customer: pd.DataFrame, product: pd.DataFrame) -> ir.Table:
    """Customer segment x product segment of every pair of ``pairs`` (an engine table with
    ``customer_id``, ``product_id``), from the primary schemes' segment tables.

    ``segment`` reads "<customer segment> × <product segment>" (``unsegmented`` for an entity
    without a segment) and ``explanation`` "customer: <why> | product: <why>" ("-" when
    unknown). Computed on the engine: 89.7M pairs at 100M order lines, written from there in
    the engine's order.
    """

    def texts(table: pd.DataFrame, key: str) -> ir.Table:
        rows = table[table["primary"]].drop_duplicates(key)
        frame = pd.DataFrame(
            {
                key: rows[key].astype(str),
                f"_s_{key}": rows["segment"].astype(object).where(rows["segment"].notna()),
                f"_w_{key}": rows["explanation"].astype(object).where(rows["explanation"].notna()),
            }
        )
        schema = {key: "string", f"_s_{key}": "string", f"_w_{key}": "string"}
        return ibis.memtable(frame, schema=schema)

    t = pairs.select(
        customer_id=pairs.customer_id.cast("string"), product_id=pairs.product_id.cast("string")
    )
    t = t.left_join(texts(customer, "customer_id"), "customer_id")
    t = t.left_join(texts(product, "product_id"), "product_id")
    cs, ps = (t[f"_s_{k}"].fill_null("unsegmented") for k in ("customer_id", "product_id"))
    cw, pw = (t[f"_w_{k}"].fill_null("-") for k in ("customer_id", "product_id"))
    return t.select(
        "customer_id",
        "product_id",
        scheme=ibis.literal("customer x product"),
        segment=cs.concat(" × ", ps),
        rule=ibis.literal("matrix"),
        explanation=ibis.literal("customer: ").concat(cw, " | product: ", pw),
        primary=ibis.literal(True),
    )


def _micro_segments(
    pairs: pd.DataFrame, customer: pd.DataFrame, product: pd.DataFrame
) -> pd.DataFrame:
    """`pair_segments` of in-memory pairs, in their order."""
    ids = pd.DataFrame(
        {
            "customer_id": pairs["customer_id"].astype(str),
            "product_id": pairs["product_id"].astype(str),
            "_row": np.arange(len(pairs)),
        }
    )
    schema = {"customer_id": "string", "product_id": "string", "_row": "int64"}
    t = ibis.memtable(ids, schema=schema)
    out = pair_segments(t, customer, product)
    rows = t.select("customer_id", "product_id", "_row")
    ordered = out.join(rows, ["customer_id", "product_id"]).order_by("_row").drop("_row")
    frame: pd.DataFrame = ordered.to_pandas()
    return frame


def segment_summary(segments: pd.DataFrame, metrics: pd.DataFrame, entity: str) -> pd.DataFrame:
    """Per scheme and segment: entities, shares, revenue, margin, CTS %, OTIF, pattern mix."""
    ids = IDS[entity]
    data = segments.merge(metrics, on=ids, how="left", suffixes=("", "_m"))
    data["_one"] = 1.0
    sums = {c: c for c in ("revenue", "gross_margin", "cts_total", "net_profit") if c in data}
    grouped = data.groupby(["scheme", "segment"], sort=True)
    out = grouped.agg(entities=("_one", "sum"))
    for name in sums:  # unknown stays unknown: a sum of nothing known is NaN, not 0
        out[name] = grouped[name].sum(min_count=1)
    out["entities"] = out["entities"].astype(int)
    totals = out.groupby(level="scheme").transform(lambda c: c.sum(min_count=1))
    out["share_entities"] = out["entities"] / totals["entities"]
    if "revenue" in out:
        out["revenue_share"] = out["revenue"] / totals["revenue"].replace(0, np.nan)
        if "gross_margin" in out:
            out["margin_pct"] = 100 * out["gross_margin"] / out["revenue"].replace(0, np.nan)
        if "cts_total" in out:
            out["cts_pct"] = 100 * out["cts_total"] / out["revenue"].replace(0, np.nan)
    if {"lines_otif", "lines_due"} <= set(data):
        # One OTIF definition: the segment's due lines delivered on time and in full
        # (supplyseg.analytics.otif), never a mean of customer percentages.
        due = grouped["lines_due"].sum(min_count=1)
        out["otif"] = grouped["lines_otif"].sum(min_count=1) / due.where(due > 0)
    elif "otif" in data:
        out["otif"] = grouped["otif"].mean()
    pattern = (
        "pattern" if "pattern" in data else "demand_pattern" if "demand_pattern" in data else None
    )
    if pattern:
        mix = data.groupby(["scheme", "segment"])[pattern].value_counts(normalize=True)
        text = [f"{key[2]} {share:.0%}" for key, share in mix.items()]  # type: ignore[index]
        labels = pd.Series(text, index=mix.index).groupby(level=[0, 1]).agg(", ".join)
        out["pattern_mix"] = labels
    out = out.reset_index()
    out.insert(0, "entity", entity)
    return out


def segmentation(
    settings: SegmentationSettings,
    *,
    customers: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    overridden: Callable[[pd.DataFrame, str], pd.DataFrame] | None = None,
) -> SegmentationResult:
    """Run every configured scheme; ``customers``/``products`` are the metric tables.

    ``overridden(table, entity)``, when given, returns an entity's segment table with the
    planner's overrides applied (`supplyseg.policy.adjust.overridden_segments`); the customer x
    product cells, the summary and its warnings then count the segments in force."""
    result = SegmentationResult(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    wanted: dict[str, list[str]] = {"customer": [], "product": []}
    for name in [settings.customer_scheme, settings.product_scheme, *settings.extra_schemes]:
        entity = _entity_of(name, settings)
        if entity not in wanted:
            raise ConfigError(
                f"segmentation: scheme {name!r} segments {entity}; only customer and product"
                " schemes run here (customer x product cells come from their matrix)"
            )
        if name not in wanted[entity]:
            wanted[entity].append(name)
    result.customer = _run_schemes(
        "customer", customers, wanted["customer"], settings.customer_scheme, settings, result
    )
    result.product = _run_schemes(
        "product", products, wanted["product"], settings.product_scheme, settings, result
    )
    if overridden is not None:
        result.customer = overridden(result.customer, "customer")
        result.product = overridden(result.product, "product")
    if pairs is not None and len(result.customer) and len(result.product):
        result.customer_product = _micro_segments(pairs, result.customer, result.product)
    summaries = []
    for entity, frame, metrics in (
        ("customer", result.customer, customers),
        ("product", result.product, products),
    ):
        if metrics is not None and len(frame):
            summaries.append(segment_summary(frame, metrics, entity))
    result.summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    result.warnings.extend(_warnings(result.summary, settings))
    return result


def _warnings(summary: pd.DataFrame, settings: SegmentationSettings) -> list[str]:
    """Tiny segments and schemes with too many segments to run differently in practice."""
    if summary.empty:
        return []
    out = []
    small = summary[summary["share_entities"] < settings.min_segment_share]
    for entity, scheme, segment, share in small[
        ["entity", "scheme", "segment", "share_entities"]
    ].itertuples(index=False):
        out.append(
            f"{entity} scheme {scheme}: segment {segment!r} holds {share:.1%} of entities"
            f" (< {settings.min_segment_share:.0%})"
        )
    counts = summary.groupby(["entity", "scheme"]).size().reset_index(name="n")
    for entity, scheme, n in counts.itertuples(index=False):
        if n > settings.max_segments:
            out.append(f"{entity} scheme {scheme}: {n} segments; practice finds 2-5 workable")
    return out
