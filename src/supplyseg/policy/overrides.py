"""Planner overrides: ``overrides.csv`` in the workspace, applied in every run.

One row per override: ``entity, id, field, value, reason, owner, expires``.

| entity | field | value |
|---|---|---|
| product | ``service_target`` | a target in [0.5, 0.9999] (its segment's service type) |
| product | ``segment`` | the product's primary segment (its template follows) |
| product | ``lead_time_days`` | the lead time in days, in [0, 3650] |
| customer | ``segment`` | the customer's primary segment (its order rules follow) |

``reason`` and ``owner`` are required (who asked for it and why); ``expires`` is a date
(YYYY-MM-DD, the last day the override applies) or empty for no end. An override whose date has
passed is not applied and the run warns about it. A row with an unknown entity, field or id (not
in the order lines nor the products/customers table), a bad value or date, or a second row for
the same entity, id and field is a `ConfigError` naming the file and the row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from supplyseg.errors import ConfigError

__all__ = [
    "FIELDS",
    "OVERRIDES_FILE",
    "OVERRIDE_COLUMNS",
    "Overrides",
    "check_override_ids",
    "read_overrides",
    "workspace_overrides",
]

OVERRIDES_FILE = "overrides.csv"
OVERRIDE_COLUMNS = ("entity", "id", "field", "value", "reason", "owner", "expires")


def _number(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not (low <= value <= high) or math.isnan(value):
            raise ValueError(f"outside the allowed range [{low:g}, {high:g}]")
        return value

    return parse


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("empty; give a segment name")
    return text.strip()


FIELDS: dict[str, dict[str, Callable[[str], Any]]] = {
    "product": {
        "service_target": _number(0.5, 0.9999),
        "segment": _text,
        "lead_time_days": _number(0.0, 3650.0),
    },
    "customer": {"segment": _text},
}
"""Fields a planner can override per entity, with the parser that checks the value."""


@dataclass
class Overrides:
    """The overrides in force (``active``) and those past their date (``expired``): both in
    `OVERRIDE_COLUMNS` plus ``row`` (the CSV line) and ``note`` (one line for the rationale)."""

    active: pd.DataFrame
    expired: pd.DataFrame
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def none(cls) -> Overrides:
        """No overrides (no file)."""
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in (*OVERRIDE_COLUMNS, "note")})
        return cls(empty.assign(row=pd.Series(dtype="int64")), empty.copy())

    def of(self, entity: str, name: str) -> pd.DataFrame:
        """Active overrides of one entity and field: ``id, value, note`` (value parsed)."""
        rows = self.active[(self.active["entity"] == entity) & (self.active["field"] == name)]
        parse = FIELDS[entity][name]
        return pd.DataFrame(
            {
                "id": rows["id"].astype(str).to_numpy(),
                "value": [parse(str(v)) for v in rows["value"]],
                "note": rows["note"].to_numpy(),
            }
        )

    def notes(self, entity: str) -> pd.Series:
        """Per id of ``entity``, the notes of its active overrides joined by "; "."""
        rows = self.active[self.active["entity"] == entity]
        return rows.groupby(rows["id"].astype(str))["note"].agg("; ".join)


def _fail(path: Path, row: int, record: dict[str, str], what: str) -> ConfigError:
    where = f"{record.get('entity')} {record.get('id')!r} {record.get('field')}"
    return ConfigError(f"{path}: row {row} ({where}): {what}")


def _note(record: dict[str, str]) -> str:
    until = f", until {record['expires']}" if record["expires"] else ""
    return (
        f"planner override {record['field']}={record['value']} ({record['reason']};"
        f" {record['owner']}{until})"
    )


def read_overrides(path: str | Path, *, today: date | None = None) -> Overrides:
    """Read and validate ``overrides.csv``; `Overrides.none` when there is no file.

    ``today`` (default the current date) decides which overrides have expired.
    """
    p, today = Path(path), today or date.today()
    if not p.exists():
        return Overrides.none()
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(
            f"{p}: not a readable CSV ({exc}); fix: columns {OVERRIDE_COLUMNS}"
        ) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in OVERRIDE_COLUMNS if c not in raw.columns]
    extra = [c for c in raw.columns if c not in OVERRIDE_COLUMNS]
    if missing or extra:
        raise ConfigError(
            f"{p}: columns {list(raw.columns)}; missing {missing}, unknown {extra}; fix: the"
            f" header must be {','.join(OVERRIDE_COLUMNS)}"
        )
    records, seen = [], dict[tuple[str, str, str], int]()
    for i, values in enumerate(raw[list(OVERRIDE_COLUMNS)].to_dict("records")):
        rec = {str(k): str(v).strip() for k, v in values.items()}
        row = i + 2  # the header is line 1
        fields = FIELDS.get(rec["entity"])
        if fields is None:
            raise _fail(p, row, rec, f"unknown entity {rec['entity']!r}; allowed: {list(FIELDS)}")
        if rec["field"] not in fields:
            raise _fail(
                p,
                row,
                rec,
                f"unknown field {rec['field']!r}; allowed for {rec['entity']}: {list(fields)}",
            )
        if not rec["id"]:
            raise _fail(p, row, rec, f"id is empty; give the {rec['entity']} id")
        try:
            fields[rec["field"]](rec["value"])
        except ValueError as exc:
            raise _fail(p, row, rec, f"value {rec['value']!r}: {exc}") from None
        for name in ("reason", "owner"):
            if not rec[name]:
                raise _fail(p, row, rec, f"{name} is empty; say who asked for it and why")
        try:
            expires = date.fromisoformat(rec["expires"]) if rec["expires"] else None
        except ValueError:
            raise _fail(p, row, rec, f"expires {rec['expires']!r}: give a date YYYY-MM-DD or"
                        " leave it empty") from None  # fmt: skip
        key = (rec["entity"], rec["id"], rec["field"])
        if key in seen:
            raise _fail(p, row, rec, f"also given in row {seen[key]}; keep one")
        seen[key] = row
        records.append({**rec, "expires": expires, "row": row, "note": _note(rec)})
    table = pd.DataFrame.from_records(records, columns=[*OVERRIDE_COLUMNS, "row", "note"])
    gone = table["expires"].map(lambda d: d is not None and d < today).astype(bool)
    out = Overrides(table[~gone].reset_index(drop=True), table[gone].reset_index(drop=True), p)
    for r in out.expired.itertuples():
        out.warnings.append(
            f"overrides: row {r.row} ({r.entity} {r.id!r} {r.field}={r.value}) expired on"
            f" {r.expires}, not applied; fix: renew its expires date or delete the row"
        )
    return out


def check_override_ids(overrides: Overrides, known: Mapping[str, Iterable[str]]) -> None:
    """`ConfigError` naming the row of the first override whose id is not among ``known``
    (entity -> ids in the data)."""
    table = pd.concat([overrides.active, overrides.expired], ignore_index=True)
    for entity, given in known.items():
        ids = set(map(str, given))
        rows = table[table["entity"] == entity].sort_values("row")
        for r in rows.to_dict("records"):
            if str(r["id"]) not in ids:
                sample = sorted(ids)[:3]
                raise ConfigError(
                    f"{overrides.path}: row {r['row']} ({entity} {r['id']!r} {r['field']}):"
                    f" unknown {entity} id {r['id']!r} (not in the data; e.g. {sample}); fix:"
                    " correct the id or delete the row"
                )


def _distinct_ids(tables: dict[str, Any], table: str, column: str) -> set[str]:
    t = tables.get(table)
    if t is None or column not in t.columns:
        return set()
    values = t.select(column).distinct().to_pandas()[column]
    return set(values.dropna().astype(str))


def workspace_overrides(
    root: Path, tables: dict[str, Any], *, today: date | None = None
) -> Overrides:
    """The validated ``overrides.csv`` of the workspace folder ``root`` (`Overrides.none`
    without one); ids are checked against the loaded tables (Ibis): order lines, products
    and customers."""
    overrides = read_overrides(root / OVERRIDES_FILE, today=today)
    if overrides.active.empty and overrides.expired.empty:
        return overrides
    known = {
        "product": _distinct_ids(tables, "order_lines", "product_id")
        | _distinct_ids(tables, "products", "product_id"),
        "customer": _distinct_ids(tables, "order_lines", "customer_id")
        | _distinct_ids(tables, "customers", "customer_id"),
    }
    check_override_ids(overrides, known)
    return overrides
