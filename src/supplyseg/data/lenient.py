"""Lenient purchasing columns: text that stands for "not known" is read as null and counted.

Purchasing exports fill date and cost columns with text ("Date Not Captured", "See ID#123",
"Freight Included in Commodity Cost"). In the columns `supplyseg.data.contract.LENIENT` names,
such a value is loaded as null (the row keeps its other values) and counted per column and
text in `TableAccount.nulled` and the load notes.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from supplyseg.data import parse
from supplyseg.data.contract import TABLES

__all__ = ["nulled_counts", "nulled_notes", "nulled_text"]

_WORDS = {"float": "a number", "int": "a whole number", "date": "a date", "bool": "a flag"}


def nulled_text(cols: parse.Columns, name: str) -> ir.StringValue:
    """The source text of a lenient column where it is filled but no value (else null)."""
    unread = cols.filled[name] & parse.missing(cols.typed[name])
    return ibis.ifelse(unread, cols.shown[name], ibis.null("string"))


def nulled_counts(kept: ir.Table, names: list[str]) -> dict[str, dict[str, int]]:
    """Per lenient column of the loaded rows: how often each text was read as unknown."""
    if not names:
        return {}
    parts = [
        kept.filter(kept[f"_n_{n}"].notnull())
        .group_by(_text=kept[f"_n_{n}"])
        .agg(_rows=ibis._.count())
        .mutate(_field=ibis.literal(n))
        for n in names
    ]
    counts = ibis.union(*parts).to_pandas().sort_values(["_field", "_rows", "_text"])
    out: dict[str, dict[str, int]] = {}
    for fld, text, rows in zip(counts["_field"], counts["_text"], counts["_rows"], strict=True):
        out.setdefault(str(fld), {})[str(text)] = int(rows)
    return {f: dict(sorted(v.items(), key=lambda kv: -kv[1])) for f, v in sorted(out.items())}


def nulled_notes(table: str, nulled: dict[str, dict[str, int]]) -> list[str]:
    notes = []
    for fld, texts in nulled.items():
        shown = ", ".join(f"{t!r} {n:,}" for t, n in list(texts.items())[:3])
        more = f" and {len(texts) - 3:,} other text(s)" if len(texts) > 3 else ""
        notes.append(
            f"{table}: {sum(texts.values()):,} {fld} value(s) are text, not"
            f" {_WORDS[TABLES[table].column(fld).dtype]}, and were read as unknown"
            f" ({shown}{more});"
            " the rows are kept"
        )
    return notes
