"""Demand analytics: ABC on a measure, XYZ on the coefficient of variation, SBC demand patterns.

All functions take canonical order lines (an Ibis table, or a pandas DataFrame / pyarrow Table
that is registered as an Ibis memtable so there is one code path) or a long demand table in the
statsforecast convention ``(unique_id, ds, y)``. The work runs on the engine as Ibis
expressions (generic operations only, so PySpark runs them too); only the per-item result comes
back, as pandas, already sorted by the engine in ABC order, and ABC's running totals are then
one vectorised pass over it (a window over millions of items on the engine would sort twice).

Definitions (see also `supplyseg.config.demand.DemandSettings`):

- **Series.** Demand per item and bucket (day, week starting Monday, calendar month) is the
  net quantity: credit-note rows carry negative quantities and are summed with the sales. An
  item's series runs from the period of its first line (sale or credit note) to the horizon
  end (``end`` if given, else the last order date in the data), and periods without lines
  count as 0; periods before an item's first line do not count, so new items are not
  punished. Lines outside ``start``..``end`` are ignored.
- **XYZ.** ``mean`` and ``std`` (population, ddof = 0) of that series; ``cv = std / mean``.
  Class X if cv <= 0.5, Y if cv <= 1.0, else Z (the cut-offs are configurable; a cv equal to a
  cut-off stays in the steadier class). An item with mean <= 0 (net demand not positive) has
  no cv and is always in the last class; `demand_summary` counts them.
- **Pattern** (Syntetos, Boylan & Croston 2005). A period is a demand occurrence when its net
  demand is > 0 (zero or negative net periods are not); ``n_nonzero`` counts them.
  ``adi = n_periods / n_nonzero``; ``cv2`` = (std / mean)² of the positive sizes (ddof = 0).
  smooth: adi < 1.32 and cv2 < 0.49; erratic: adi < 1.32, cv2 >= 0.49; intermittent:
  adi >= 1.32, cv2 < 0.49; lumpy: adi >= 1.32, cv2 >= 0.49. Fewer than 2 occurrences:
  ``insufficient_history`` (cv2 is then null; adi is null with no occurrence).
- **ABC.** Items are ranked by the measure, largest first, ties by id ascending (``rank`` 1 is
  the largest). ``share`` is the item's measure over the total of positive measures and
  ``cum_share`` the running total including the item. An item is in the first class whose
  cut-off is still above its cumulative share *before* it: class A is every item with
  ``cum_share - share < 0.8``, so the item that crosses 0.8, or lands exactly on it, is A.
  Items whose measure is not positive (or unknown, e.g. margin without unit cost) have share 0
  and are always in the last class. Measures are compared rounded to 6 decimals, so that the
  order in which an engine happens to add up equal amounts cannot decide a rank. With several
  measures, ``abc_<measure>`` holds each measure's class; rule ``worst``/``best`` takes the
  worst/best of them (share, cum_share and rank are then those of the first measure), rule
  ``weighted`` classes the score ``sum(weight * share of measure)`` the same way (share,
  cum_share, rank of the score).

Computation: the series is never densified (``demand_series(dense=True)`` does that, for
statsforecast). Zero periods add nothing to sums, so with ``T = sum(y)``, ``S2 = sum(y²)``
over the periods that have lines and ``n = n_periods``, ``mean = T / n`` and
``var = (n * S2 - T²) / n²``. Class boundaries are tested in that integer-friendly form
(``cv <= c`` as ``n * S2 - T² <= c² * T²``), so integer quantities are classed exactly at a
boundary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import ValidationError

from supplyseg.analytics._demand_client import (
    BATCH_ROWS,
    PROFILE_COLUMNS,
    abc_extra,
    engine_batches,
    engine_columns,
    merged_summaries,
    profile_frame,
    profile_table,
    write_batches,
)
from supplyseg.analytics._demand_engine import (
    GRAINS,
    Bucket,
    Prepared,
    abc_keys,
    as_table,
    check_bucket,
    horizon_index,
    in_horizon,
    item_measures,
    item_series_stats,
    null_safe_join,
    pattern_columns,
    period_demand,
    period_starts,
    prepared,
    repeated_pairs,
    xyz_columns,
)
from supplyseg.config.demand import DemandSettings, Measure
from supplyseg.errors import ConfigError, DataContractError

__all__ = [
    "GRAINS",
    "ITEM_GRAINS",
    "OUTPUT_NAMES",
    "PATTERNS",
    "PROFILE_COLUMNS",
    "DemandOutputs",
    "DemandTable",
    "abc_class",
    "demand_by_customer_group",
    "demand_outputs",
    "demand_pattern",
    "demand_profile",
    "demand_series",
    "demand_summary",
    "xyz_class",
]

OUTPUT_NAMES: dict[str, str] = {g: f"demand_{g}" for g in GRAINS}
# Grains whose tables carry lifecycle and seasonality: the planned product series (for the
# customer grains they would cost a fifth more time on the largest table, for no consumer).
ITEM_GRAINS = ("product", "product_location")
PATTERNS = ("smooth", "erratic", "intermittent", "lumpy", "insufficient_history")

Data = Any  # an Ibis table, pandas DataFrame or pyarrow Table (anything ibis.memtable takes)


# --- helpers --------------------------------------------------------------------------------


def _settings(params: dict[str, tuple[str, Any]]) -> DemandSettings:
    """DemandSettings from public-function parameters; errors name the parameter, not the field."""
    values = {f: v for f, (_, v) in params.items() if v is not None}
    try:
        return DemandSettings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        where = str(err["loc"][0]) if err["loc"] else ""
        if msg.startswith("."):
            where, _, msg = msg[1:].partition(": ")
        param, value = params.get(where, (where, None))
        raise ConfigError(f"{param}={value!r}: {msg}") from None


def _check_measures(p: Prepared, s: DemandSettings, param: str) -> None:
    bad = [m for m in s.abc_measures if m not in p.measures]
    if bad:
        why = (
            "a long (unique_id, ds, y) table carries quantity only"
            if p.long
            else "margin needs a unit_cost column in the order lines"
        )
        raise ConfigError(
            f"{param}={list(s.abc_measures)!r}: {bad[0]!r} is not available ({why});"
            f" allowed here: {list(p.measures)}"
        )


def _default_settings(p: Prepared) -> DemandSettings:
    return DemandSettings(abc_measures=("quantity",)) if p.long else DemandSettings()


def _measure_param(measure: str | Sequence[str] | None, p: Prepared) -> tuple[Any, ...] | None:
    if measure is None:
        return ("quantity",) if p.long else None
    return (measure,) if isinstance(measure, str) else tuple(measure)


# --- public API ------------------------------------------------------------------------------


def demand_series(
    data: Data,
    grain: str | Sequence[str] | None = None,
    bucket: str = "week",
    horizon_end: dt.date | str | None = None,
    *,
    start: dt.date | str | None = None,
    dense: bool = False,
) -> pd.DataFrame:
    """Net demand per item and period as a long table ``(ids..., ds, y)``; ds = period start.

    Sparse by default (periods with lines only). ``dense=True`` adds the zero periods from each
    item's first period to the horizon end, ready for statsforecast; that table has
    items x periods rows, so prefer the sparse one for large data.

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> lines = pd.DataFrame({
    ...     "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"], "customer_id": ["c1"] * 6,
    ...     "product_id": ["p1", "p1", "p2", "p3", "p1", "p2"],
    ...     "order_date": pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-13",
    ...                                   "2025-01-20", "2025-01-20", "2025-02-03"]),
    ...     "quantity": [10, 12, 1, 1, 9, 6], "unit_price": [5.0, 5.0, 20.0, 3.0, 5.0, 20.0],
    ... })
    >>> series = supplyseg.demand_series(lines, bucket="week", dense=True)
    >>> series[series["product_id"] == "p2"][["ds", "y"]].astype(str).values.tolist()
    [['2025-01-13', '1.0'], ['2025-01-20', '0.0'], ['2025-01-27', '0.0'], ['2025-02-03', '6.0']]
    """
    b = check_bucket(bucket)
    p, end = in_horizon(prepared(data, grain), start, horizon_end)
    per = period_demand(p, b)
    h = horizon_index(p, end, b)
    lo = per._p.min().to_pyarrow().as_py()
    # Period starts come from a small calendar built on the client: portable, and it also
    # dates the periods in which no item has any line.
    idx = pd.Series(range(int(lo), h + 1) if lo is not None and h is not None else [], name="_p")
    cal = ibis.memtable(
        pd.DataFrame({"_p": idx.astype("int64"), "ds": period_starts(idx, b).dt.date}),
        schema={"_p": "int64", "ds": "date"},
    )
    if not dense:
        sparse = per.join(cal, "_p").select(*p.ids, "ds", "y").order_by([*p.ids, "ds"])
        frame: pd.DataFrame = sparse.to_pandas()
        return frame
    first = per.group_by(list(p.ids)).aggregate(_f=per._p.min())
    grid = first.join(cal, [first._f <= cal._p]).select(*p.ids, "_p", "ds")
    full = null_safe_join(grid, per, [*p.ids, "_p"], how="left")
    out = full.select(*p.ids, "ds", y=full.y.fill_null(0.0))
    dense_frame: pd.DataFrame = out.order_by([*p.ids, "ds"]).to_pandas()
    return dense_frame


def demand_profile(
    data: Data,
    grain: str | Sequence[str] | None = None,
    bucket: str = "week",
    settings: DemandSettings | None = None,
    *,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    lifecycle: bool = True,
    seasonality: bool = True,
) -> pd.DataFrame:
    """ABC, XYZ, demand pattern, lifecycle and seasonality per item, ordered by ABC rank.

    ``grain`` is a grain name (product, product_location, customer, customer_product) or id
    columns; default product_id for order lines, unique_id for a long table. ``settings``
    default to revenue ABC (quantity for a long table, which has no prices).
    ``lifecycle=False`` / ``seasonality=False`` leave out those columns (and their cost;
    seasonality needs a query of its own). Seasonality needs the lifecycle.

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> lines = pd.DataFrame({
    ...     "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"], "customer_id": ["c1"] * 6,
    ...     "product_id": ["p1", "p1", "p2", "p3", "p1", "p2"],
    ...     "order_date": pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-13",
    ...                                   "2025-01-20", "2025-01-20", "2025-02-03"]),
    ...     "quantity": [10, 12, 1, 1, 9, 6], "unit_price": [5.0, 5.0, 20.0, 3.0, 5.0, 20.0],
    ... })
    >>> profile = supplyseg.demand_profile(lines, bucket="week")
    >>> profile[["product_id", "abc_class", "xyz_class"]].values.tolist()
    [['p1', 'A', 'Y'], ['p2', 'A', 'Z'], ['p3', 'C', 'Z']]
    >>> profile["pattern"].tolist()
    ['intermittent', 'lumpy', 'insufficient_history']
    """
    b = check_bucket(bucket)
    p, e = in_horizon(prepared(data, grain), start, end)
    s = settings if settings is not None else _default_settings(p)
    _check_measures(p, s, "settings.abc_measures")
    h = horizon_index(p, e, b)
    h0 = h if h is not None else 0
    season = s.seasonality if seasonality and lifecycle else None
    return profile_frame(profile_table(p, s, b, h0, lifecycle=lifecycle), p, b, s, h0, season)


def abc_class(
    data: Data,
    measure: str | Sequence[str] | None = None,
    cutoffs: Sequence[float] = (0.8, 0.95),
    *,
    grain: str | Sequence[str] | None = None,
    rule: str = "worst",
    weights: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> pd.DataFrame:
    """ABC class per item by cumulative share of ``measure`` (default revenue; quantity for a
    long table); several measures combine by ``rule`` (worst, best, weighted).

    Returns the item measures, ``share``, ``cum_share``, ``rank``, ``abc_class`` and, with
    several measures, ``abc_<measure>``.

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> lines = pd.DataFrame({
    ...     "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"], "customer_id": ["c1"] * 6,
    ...     "product_id": ["p1", "p1", "p2", "p3", "p1", "p2"],
    ...     "order_date": pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-13",
    ...                                   "2025-01-20", "2025-01-20", "2025-02-03"]),
    ...     "quantity": [10, 12, 1, 1, 9, 6], "unit_price": [5.0, 5.0, 20.0, 3.0, 5.0, 20.0],
    ... })
    >>> abc = supplyseg.abc_class(lines, "revenue", (0.8, 0.95))
    >>> abc[["product_id", "revenue", "abc_class"]].values.tolist()
    [['p1', 155.0, 'A'], ['p2', 140.0, 'A'], ['p3', 3.0, 'C']]
    """
    p, _ = in_horizon(prepared(data, grain), start, end)
    s = _settings(
        {
            "abc_measures": ("measure", _measure_param(measure, p)),
            "abc_cutoffs": ("cutoffs", tuple(cutoffs)),
            "abc_rule": ("rule", rule),
            "abc_weights": ("weights", None if weights is None else tuple(weights)),
            "abc_labels": ("labels", None if labels is None else tuple(labels)),
        }
    )
    _check_measures(p, s, "measure")
    return profile_frame(abc_keys(item_measures(p), p.ids, s), p, None, s)


def xyz_class(
    data: Data,
    cutoffs: Sequence[float] = (0.5, 1.0),
    *,
    grain: str | Sequence[str] | None = None,
    bucket: str = "week",
    labels: Sequence[str] | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> pd.DataFrame:
    """XYZ class per item from the coefficient of variation of its bucketed net demand.

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> lines = pd.DataFrame({
    ...     "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"], "customer_id": ["c1"] * 6,
    ...     "product_id": ["p1", "p1", "p2", "p3", "p1", "p2"],
    ...     "order_date": pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-13",
    ...                                   "2025-01-20", "2025-01-20", "2025-02-03"]),
    ...     "quantity": [10, 12, 1, 1, 9, 6], "unit_price": [5.0, 5.0, 20.0, 3.0, 5.0, 20.0],
    ... })
    >>> xyz = supplyseg.xyz_class(lines, (0.5, 1.0), bucket="week")
    >>> xyz[["product_id", "xyz_class"]].values.tolist(), round(float(xyz["cv"].iloc[0]), 3)
    ([['p1', 'Y'], ['p2', 'Z'], ['p3', 'Z']], 0.831)
    """
    b = check_bucket(bucket)
    p, e = in_horizon(prepared(data, grain), start, end)
    s = _settings(
        {
            "xyz_cutoffs": ("cutoffs", tuple(cutoffs)),
            "xyz_labels": ("labels", None if labels is None else tuple(labels)),
        }
    )
    h = horizon_index(p, e, b)
    stats = item_series_stats(p, b, h if h is not None else 0)
    return profile_frame(stats.mutate(**xyz_columns(stats, s)), p, b, None)


def demand_pattern(
    data: Data,
    *,
    grain: str | Sequence[str] | None = None,
    bucket: str = "week",
    adi_threshold: float = 1.32,
    cv2_threshold: float = 0.49,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> pd.DataFrame:
    """Syntetos–Boylan–Croston demand pattern per item from ADI and CV² of its demand sizes.

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> lines = pd.DataFrame({
    ...     "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"], "customer_id": ["c1"] * 6,
    ...     "product_id": ["p1", "p1", "p2", "p3", "p1", "p2"],
    ...     "order_date": pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-13",
    ...                                   "2025-01-20", "2025-01-20", "2025-02-03"]),
    ...     "quantity": [10, 12, 1, 1, 9, 6], "unit_price": [5.0, 5.0, 20.0, 3.0, 5.0, 20.0],
    ... })
    >>> sbc = supplyseg.demand_pattern(lines, bucket="week")
    >>> sbc[["product_id", "pattern"]].values.tolist()
    [['p1', 'intermittent'], ['p2', 'lumpy'], ['p3', 'insufficient_history']]
    """
    b = check_bucket(bucket)
    p, e = in_horizon(prepared(data, grain), start, end)
    s = _settings(
        {
            "adi_threshold": ("adi_threshold", adi_threshold),
            "cv2_threshold": ("cv2_threshold", cv2_threshold),
        }
    )
    h = horizon_index(p, e, b)
    stats = item_series_stats(p, b, h if h is not None else 0)
    return profile_frame(stats.mutate(**pattern_columns(stats, s)), p, b, None)


def demand_summary(profile: pd.DataFrame) -> dict[str, Any]:
    """Class counts of a profile (ABC, XYZ, pattern, lifecycle, seasonal true/false/unknown),
    and the counts the manifest carries as notes.

    ``xyz_nonpositive_mean``: items classed in the last XYZ class because their mean demand is
    not positive; ``abc_nonpositive_measure``: items in the last ABC class because their
    measure is not positive.
    """
    out: dict[str, Any] = {"items": len(profile)}
    for col in ("abc_class", "xyz_class", "pattern", "lifecycle"):
        if col in profile.columns:
            counts = profile[col].value_counts().sort_index()
            out[col] = {str(k): int(v) for k, v in counts.items()}
    if "seasonal" in profile.columns:
        flag = profile["seasonal"]
        out["seasonal"] = {
            "true": int(flag.eq(True).sum()),
            "false": int(flag.eq(False).sum()),
            "unknown": int(flag.isna().sum()),
        }
    if "mean" in profile.columns:
        out["xyz_nonpositive_mean"] = int((profile["mean"] <= 0).sum())
    if "share" in profile.columns:
        out["abc_nonpositive_measure"] = int((profile["share"] <= 0).sum())
    return out


@dataclass(frozen=True)
class DemandTable:
    """A demand table of millions of items (customer x product at 10M order lines) left on the
    engine: `write_parquet` computes it and writes it in batches, so it is never one data frame
    in memory."""

    name: str
    expr: ir.Table
    ids: tuple[str, ...]
    bucket: Bucket
    settings: DemandSettings

    def write_parquet(self, path: Path, batch_rows: int = BATCH_ROWS) -> dict[str, Any]:
        """Write the table to ``path`` (rows and values as `demand_profile` gives them);
        returns its `demand_summary`."""
        s = self.settings
        batches = engine_batches(
            self.expr, self.ids, self.bucket, s, _output_columns(s), batch_rows
        )
        return merged_summaries([demand_summary(df) for df in write_batches(batches, path)])

    def notes(self, summary: dict[str, Any]) -> list[str]:
        """The manifest notes of the table with ``summary`` (what `demand_outputs` notes)."""
        return _summary_notes(self.name, summary, self.settings)


def _output_columns(s: DemandSettings) -> list[str]:
    return [*PROFILE_COLUMNS, *abc_extra(s)]


def _summary_notes(name: str, summary: dict[str, Any], s: DemandSettings) -> list[str]:
    if not summary.get("xyz_nonpositive_mean"):
        return []
    return [
        f"{name}: {summary['xyz_nonpositive_mean']} item(s) with net mean demand <= 0"
        f" classed {s.xyz_class_labels[-1]}"
    ]


@dataclass(frozen=True)
class DemandOutputs:
    """The demand tables for a run (output name -> table), and notes for the manifest;
    ``streamed``: the tables asked to stay on the engine until written (their summaries and
    notes come from `DemandTable.write_parquet`)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    streamed: dict[str, DemandTable] = field(default_factory=dict)


def demand_outputs(
    lines: Data,
    settings: DemandSettings | None = None,
    *,
    bucket: str = "week",
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    streamed: Collection[str] = (),
) -> DemandOutputs:
    """Every demand table ``settings.grains`` asks for, from canonical order lines.

    Grains whose columns are missing (product_location without location_id) are skipped with a
    note; so is the margin criterion without unit_cost (the other measures still class). The
    grains in ``streamed`` (customer, customer_product: the grains without lifecycle and
    seasonality) come back as `DemandTable` in ``streamed``, to be written in batches.
    """
    s = settings if settings is not None else DemandSettings()
    b = check_bucket(bucket)
    if bad := [g for g in streamed if g not in GRAINS or g in ITEM_GRAINS]:
        raise ConfigError(
            f"streamed={list(streamed)!r}: {bad[0]!r} cannot be written in batches; allowed:"
            f" {[g for g in GRAINS if g not in ITEM_GRAINS]} (the other grains' seasonality"
            " needs the whole table)"
        )
    lines = as_table(lines)  # register a DataFrame once, not once per grain
    base, e = in_horizon(prepared(lines, "product"), start, end)
    if base.long:
        raise ConfigError(
            "lines: demand_outputs needs canonical order lines, not (unique_id, ds, y)"
        )
    h = horizon_index(base, e, b)
    notes: list[str] = []
    if "margin" in s.abc_measures and "margin" not in base.measures:
        kept: tuple[Measure, ...] = tuple(m for m in s.abc_measures if m != "margin") or (
            "revenue",
        )
        notes.append(
            f"ABC measure margin skipped (order_lines has no unit_cost); classed by"
            f" {', '.join(kept)}"
        )
        weights = s.abc_weights
        if weights is not None:
            pairs = zip(s.abc_measures, weights, strict=True)
            weights = tuple(w for m, w in pairs if m != "margin")
        update = {"abc_measures": kept, "abc_weights": weights or None}
        s = DemandSettings.model_validate(s.model_dump() | update)
    cols = set(lines.columns)
    # Computed once for every grain that includes the product (small: see repeated_pairs).
    repeated = ibis.memtable(repeated_pairs(base).to_pyarrow())
    out = DemandOutputs(notes=notes)
    for g in s.grains:
        name = OUTPUT_NAMES[g]
        missing = [c for c in GRAINS[g] if c not in cols]
        if missing:
            notes.append(f"{name} skipped: order_lines has no {', '.join(missing)} column")
            continue
        p, _ = in_horizon(prepared(lines, g), start, end)
        h0 = h if h is not None else 0
        item = g in ITEM_GRAINS
        t = profile_table(p, s, b, h0, repeated, item)
        if g in streamed:
            out.streamed[name] = DemandTable(name, engine_columns(t, p), p.ids, b, s)
            continue
        df = profile_frame(t, p, b, s, h0, s.seasonality if item else None)
        out.tables[name] = df
        out.summaries[name] = demand_summary(df)
        notes.extend(_summary_notes(name, out.summaries[name], s))
    return out


def demand_by_customer_group(
    lines: Data,
    groups: pd.DataFrame,
    *,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> pd.DataFrame:
    """Net quantity per product and customer group: ``product_id``, the group column,
    ``quantity``, sorted by both; customers without a group are left out.

    ``groups`` maps ``customer_id`` to one other column (a segment, say), ids compared as
    text. The sums are those of ``demand_customer_product``'s quantity per product and group
    over the same horizon, in one group-by of the order lines on the engine: no table of
    customer x product pairs (89.7M rows at 100M lines) is made.
    """
    others = [c for c in groups.columns if c != "customer_id"]
    if "customer_id" not in groups.columns or len(others) != 1:
        raise DataContractError(
            f"groups: columns {list(groups.columns)}; give customer_id and one group column"
        )
    (name,) = others
    ids = groups["customer_id"].astype(str)
    if ids.duplicated().any():
        raise DataContractError(
            f"groups: customer_id {ids[ids.duplicated()].iloc[0]!r} has several rows; give one"
            " group per customer"
        )
    p, _ = in_horizon(prepared(as_table(lines), ("customer_id", "product_id")), start, end)
    g = ibis.memtable(
        pd.DataFrame({"_cid": ids, name: groups[name].astype(str)}),
        schema={"_cid": "string", name: "string"},  # typed when empty
    )
    t = p.table.join(g, p.table.customer_id.cast("string") == g._cid)
    t = t.mutate(product_id=t.product_id.cast("string"))
    out = t.group_by(["product_id", name]).aggregate(quantity=t._q.sum())
    frame: pd.DataFrame = out.order_by(["product_id", name]).to_pandas()
    return frame.astype({"quantity": "float64"})
