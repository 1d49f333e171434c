"""Unknown is never 0: totals that stay unknown when nothing is known, and why cost figures are
unknown in a run without unit costs.

A column that is null for every row is unknown, not zero: pandas sums it to 0 unless told
``min_count=1``, so every total in the report goes through `known_total`. A run without unit
costs leaves margin, COGS, net profit and stock values null; older runs sometimes summed them to
0 in summary tables, so in such a run the report shows every cost-derived column as unknown.
(CLV is revenue × ``clv.margin``: it needs no unit cost.)
"""

from __future__ import annotations

import pandas as pd

from supplyseg.report.run_folder import RunFolder

__all__ = [
    "COST_DERIVED",
    "NO_UNIT_COST",
    "UNKNOWN",
    "cost_unknown_reason",
    "known_total",
]

UNKNOWN = "unknown"
NO_UNIT_COST = (
    "the data has no unit cost (map order_lines.unit_cost or products.unit_cost in supplyseg.yaml)"
)
# Columns whose values need a unit cost (COGS, margins, stock and CLV values).
COST_DERIVED = frozenset(
    {
        "cogs", "margin", "gross_margin", "net_profit", "net_margin_pct", "margin_pct",
        "gross_margin_pct", "profit_rank", "cum_profit_share", "inventory_value",
        "avg_on_hand_value", "unit_cost", "value",
    }
)  # fmt: skip
# Where a known cost shows: a known value here means the run had unit costs (for some items).
# A make-to-order item's inventory value is 0 whatever its cost, so there only non-zero counts,
# and only when the policies carry no unit_cost column of their own.
_COST_EVIDENCE = (
    ("cost_to_serve_customer", "cogs"),
    ("cost_to_serve_customer", "gross_margin"),
    ("demand_product", "margin"),
    ("policies", "unit_cost"),
)
_COST_WORDS = ("unit_cost", "unit cost", "unit costs")


def known_total(values: pd.Series) -> float:
    """The sum of the known values; NaN (unknown) when none is known — never 0 for all-null."""
    return float(pd.to_numeric(values, errors="coerce").sum(min_count=1))


def cost_unknown_reason(run: RunFolder) -> str | None:
    """Why cost figures are unknown when the run has no unit cost at all, else None.

    The reason is the step's own note when one names the unit cost, else "no unit cost".
    """
    seen = False
    for table, column in _COST_EVIDENCE:
        frame = run.table(table)
        if frame is None or column not in frame.columns:
            continue
        seen = True
        if frame[column].notna().any():
            return None
    pol = run.table("policies")
    if pol is not None and "unit_cost" not in pol.columns and "inventory_value" in pol.columns:
        seen = True
        if pol["inventory_value"].fillna(0).ne(0).any():
            return None
    seg = run.manifest.get("segmentation") or {}
    seg_reason = str(seg.get("reason") or "") if isinstance(seg, dict) else ""
    if not seen and not any(w in seg_reason.lower() for w in _COST_WORDS):
        return None
    for note in run.notes:
        if any(w in note.lower() for w in _COST_WORDS) and "unknown" in note.lower():
            return note.split(":", 1)[1].strip().rstrip(".") if ":" in note else note
    return "no unit cost"
