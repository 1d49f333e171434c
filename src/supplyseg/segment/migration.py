"""Segment migration between two runs (or two windows of one run): who moved where.

Entities are matched by their ids, which are the source's ids and so stable across runs. An
entity only in the later run comes from ``(new)``; one only in the earlier run goes to
``(gone)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from supplyseg.errors import DataContractError

__all__ = ["GONE", "NEW", "segment_migration", "segment_movers"]

NEW, GONE = "(new)", "(gone)"


def _joined(
    before: pd.DataFrame, after: pd.DataFrame, ids: Sequence[str], value: str | None
) -> pd.DataFrame:
    for label, frame in (("before", before), ("after", after)):
        missing = [c for c in [*ids, "segment"] if c not in frame.columns]
        if missing:
            raise DataContractError(f"segment table {label!r} lacks column(s) {missing}")
    keep = [*ids, "segment", *([value] if value and value in after.columns else [])]
    merged = before[[*ids, "segment"]].merge(
        after[keep], on=list(ids), how="outer", suffixes=("_from", "_to"), indicator=False
    )
    merged = merged.rename(columns={"segment_from": "from", "segment_to": "to"})
    merged["from"] = merged["from"].fillna(NEW)
    merged["to"] = merged["to"].fillna(GONE)
    return merged


def segment_migration(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    ids: Sequence[str] = ("customer_id",),
    value: str | None = "revenue",
) -> pd.DataFrame:
    """The migration matrix as a long table: ``from, to, entities, <value>``.

    ``value`` (e.g. revenue in the later run) is summed per cell when ``after`` holds it.
    """
    merged = _joined(before, after, ids, value)
    agg: dict[str, tuple[str, str]] = {"entities": (ids[0], "size")}
    if value and value in merged.columns:
        agg[value] = (value, "sum")
    return (
        merged.groupby(["from", "to"], as_index=False)
        .agg(**agg)
        .sort_values(["from", "to"], ignore_index=True)
    )


def segment_movers(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    ids: Sequence[str] = ("customer_id",),
    value: str | None = "revenue",
) -> pd.DataFrame:
    """The entities whose segment changed: ``<ids>, from, to[, value]``, largest value first."""
    merged = _joined(before, after, ids, value)
    movers = merged[merged["from"] != merged["to"]]
    if value and value in movers.columns:
        movers = movers.sort_values(value, ascending=False, na_position="last")
    return movers.reset_index(drop=True)
