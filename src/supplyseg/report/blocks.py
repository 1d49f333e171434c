"""The report's building blocks (charts, top-row tables, KPI cards, call-outs, "not computed"
lines) and the context every section is built with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from supplyseg.report.columns import column_info, format_value
from supplyseg.report.run_folder import RunFolder
from supplyseg.report.style import Palette
from supplyseg.report.unknown import COST_DERIVED, NO_UNIT_COST, UNKNOWN

__all__ = [
    "TOP_ROWS",
    "Block",
    "Chart",
    "Context",
    "Kpi",
    "Missing",
    "Note",
    "Section",
    "Table",
    "plural",
    "table_block",
]

TOP_ROWS = 15
_WORDS = {"cogs": "COGS"}


@dataclass
class Chart:
    key: str
    title: str
    caption: str
    figure: go.Figure
    wide: bool = True


@dataclass
class Table:
    key: str
    title: str
    caption: str
    columns: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    note: str = ""


@dataclass
class Missing:
    key: str
    title: str
    reason: str


@dataclass
class Note:
    """A sentence the planner must not miss (a fallback, a replay result), shown as a call-out;
    ``tone`` "warn" for something that limits what the figures mean."""

    key: str
    text: str
    tone: str = "info"


Block = Chart | Table | Missing | Note


@dataclass
class Kpi:
    key: str
    label: str
    value: float | None
    text: str
    detail: str = ""
    warn: bool = False  # the figure needs attention (targets missed, obsolete stock)


@dataclass
class Section:
    key: str
    title: str
    intro: str
    blocks: list[Block] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)


@dataclass
class Context:
    """What every section builder needs: the run, the report's colours and sheet names."""

    run: RunFolder
    palette: Palette
    sheets: dict[str, str]
    cost_unknown: str | None = None  # why cost figures are unknown (no unit cost), else None

    @property
    def cur(self) -> str:
        return self.run.currency

    def lacks(self, table: str, columns: Sequence[str], *prefixes: str) -> str | None:
        """Why a block over ``table``'s ``columns`` cannot be drawn, or None when it can."""
        frame = self.run.table(table)
        if frame is None:
            return self.run.reason_absent(table)
        empty = [c for c in columns if c not in frame.columns or frame[c].isna().all()]
        if self.cost_unknown:
            # Without any unit cost a cost column's values are unknown even where an older
            # step wrote 0 (a pandas sum of nothing).
            empty += [c for c in columns if c in COST_DERIVED and c not in empty]
        if not empty:
            return None
        notes = self.run.notes_about(*prefixes) if prefixes else []
        # A note naming the empty column ("net profit ... unknown") beats the step's first note.
        words = [w for c in empty for w in (c, c.replace("_", " "))]
        naming = [n for n in notes if any(w in n.lower() for w in words)]
        unknown = [c for c in empty if c in COST_DERIVED and c in frame.columns]
        if self.cost_unknown and unknown and len(unknown) == len(empty):
            what = " and ".join(_WORDS.get(c, c.replace("_", " ")) for c in unknown)
            return f"{what} is unknown: {NO_UNIT_COST}"
        return (naming or notes or [f"{table} has no {', '.join(empty)} values"])[0]


def _decimals(amounts: pd.Series) -> int:
    """Decimals for a column of amounts: none when they are mostly 100 or more."""
    values = pd.to_numeric(amounts, errors="coerce").abs().dropna()
    return 0 if len(values) and float(values.median()) >= 100 else 2


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 or word.endswith("s") else f"{n:,} {word}s"


def table_block(
    ctx: Context,
    key: str,
    title: str,
    caption: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    total: int | None = None,
    source: str | None = None,
) -> Table:
    """``frame``'s ``columns`` formatted by unit; ``source`` names the full table's sheet.

    A missing number reads "unknown", never blank or 0; in a run without unit costs every
    cost-derived column reads "unknown" (older runs summed unknown margins to 0).
    """
    cols = [c for c in columns if c in frame.columns]
    units = [column_info(c, frame[c].dtype, table=source or "").unit for c in cols]
    numeric = [u not in ("text", "date") for u in units]
    cost_unknown = bool(ctx.cost_unknown)
    forced = [cost_unknown and c in COST_DERIVED and n for c, n in zip(cols, numeric, strict=True)]
    places = [
        _decimals(frame[c]) if u == "currency" else None for c, u in zip(cols, units, strict=True)
    ]
    rows = [
        [
            UNKNOWN
            if f or (num and _missing(v))
            else format_value(v, u, ctx.cur if u == "currency" else "", d)
            for v, u, d, num, f in zip(r, units, places, numeric, forced, strict=True)
        ]
        for r in frame[cols].itertuples(index=False, name=None)
    ]
    total = len(frame) if total is None else total
    notes = []
    for why, cost in (("no unit cost", True), ("not measured in this run", False)):
        unknown = [
            c.replace("_", " ")
            for c, num, f in zip(cols, numeric, forced, strict=True)
            if num and len(frame) and (f or frame[c].isna().all())
            and (bool(ctx.cost_unknown) and c in COST_DERIVED) == cost
        ]  # fmt: skip
        if unknown:
            notes.append(f"{', '.join(unknown)}: unknown ({why}).")
    if source:
        sheet = ctx.sheets.get(source, source)
        shown = f"{len(rows):,} of {total:,} rows" if total > len(rows) else f"all {total:,} rows"
        notes.append(f"Showing {shown}; the full table is sheet “{sheet}” of workbook.xlsx.")
    note = " ".join(notes)
    return Table(key, title, caption, [c.replace("_", " ") for c in cols], numeric, rows, note)
