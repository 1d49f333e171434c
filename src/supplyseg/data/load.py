"""Load and validate the canonical tables on the engine: every read row is loaded or rejected.

Each table is read (`read_source`), its columns mapped to canonical names (or derived: a
constant, a quotient, a product, a concatenation) and typed (`supplyseg.data.parse`), and every
row checked in one pass of Ibis expressions (the checks: `supplyseg.data.checks`). A rejected
row carries exactly one reason: the first that applies in the order of `Reason`:

0. ``bad_row``: a CSV row that does not split into the header's columns (checked nothing else);
1. ``excluded`` / ``credit_note``: a row rule in supplyseg.yaml (rules in their listed order),
   tested against the source text;
2. ``missing_required``, ``bad_type``, ``bad_date``: per column, in contract order;
3. ``zero_quantity``, ``negative_quantity``, ``bad_price``, ``bad_value``: value ranges (a value
   that is not a finite number, or a division by zero, is ``bad_value``);
4. ``date_out_of_range``: a date outside 1900..2100, or an order date outside the horizon;
5. ``duplicate_key``: a later row with an earlier valid row's key (the first one is kept);
6. ``unknown_customer``, ``unknown_product``, ``unknown_location``, ``unknown_order``,
   ``unknown_supplier``: a reference to a row the referenced table does not hold (checked only
   when that table is loaded);
7. ``inconsistent_order``: every line of an order whose remaining lines name different customers.

A purchase-order line received or promised before its order date is ``date_out_of_range``. In
the lenient columns of purchasing exports (`supplyseg.data.contract.LENIENT`: dates, costs and
rates that real exports fill with text such as "Date Not Captured", "See ID#123" or "Freight
Included in Commodity Cost"), a text that is no value is read as unknown (null) and the row is
kept; `TableAccount.nulled` and the load notes count those texts per column.

Credit-note rows (``analysis.credit_notes: net``) are loaded with ``is_credit_note = true`` and a
negative quantity whatever the sign in the source, so that sums net them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from supplyseg.config import Analysis, Source, Workspace
from supplyseg.data import parse
from supplyseg.data.checks import (
    MAX_DATE,
    MIN_DATE,
    REFERENCES,
    first_failed,
    late_rejects,
    pick,
    row_checks,
    rule_match,
)
from supplyseg.data.contract import LENIENT, TABLES, Reason
from supplyseg.data.lenient import nulled_counts, nulled_notes, nulled_text
from supplyseg.data.read import ROW_NUMBER, SourceRows, engine_rows, read_source
from supplyseg.engine import drop_temp, temp_table
from supplyseg.errors import ConfigError, DataContractError

__all__ = [
    "LOAD_ORDER",
    "REJECT_COLUMNS",
    "Dataset",
    "TableAccount",
    "load_dataset",
    "load_table",
]

# Referenced tables first, so references can be checked against what was loaded.
LOAD_ORDER = (
    "customers",
    "products",
    "locations",
    "suppliers",
    "order_lines",
    "shipments",
    "invoices",
    "returns",
    "inventory",
    "supply",
    "purchase_orders",
    "sourcing_options",
)
REJECT_COLUMNS = ("table", "row_number", "reason_code", "field", "value", "message")
_TYPE_WORDS = {
    "float": "a number",
    "int": f"a whole number (below {parse.EXACT_INT:.0e} in size)",
    "bool": "a yes/no flag",
    "date": "a date",
}

_MESSAGES = {
    Reason.BAD_ROW: "the row does not split into the header's columns: {rule}; fix the row at"
    " the source (or quote the value that holds the delimiter)",
    Reason.EXCLUDED: "excluded by rule '{rule}'",
    Reason.CREDIT_NOTE: "credit note (rule '{rule}') rejected because analysis.credit_notes is"
    " 'reject'; set it to 'net' to net credit notes against demand",
    Reason.MISSING_REQUIRED: "{field} is empty but required; fill it at the source or add a rule"
    " that excludes such rows",
    Reason.BAD_TYPE: "{field} = {value!r} is not {dtype}; fix the value at the source",
    Reason.BAD_DATE: "{field} = {value!r} is not a date; use ISO dates such as 2025-01-31, or"
    " set the table's date_format",
    Reason.ZERO_QUANTITY: "{field} is 0; a line needs a quantity (drop it at the source)",
    Reason.NEGATIVE_QUANTITY: "{field} = {value} is negative on a row that is not a credit note;"
    " mark credit notes with a credit_note rule or fix the sign",
    Reason.BAD_PRICE: "{field} = {value} is not a positive price; fix it, exclude such rows by a"
    " rule, or set analysis.allow_zero_price for free goods",
    Reason.BAD_VALUE: "{field} = {value} {rule}",
    Reason.DATE_OUT_OF_RANGE: "{field} = {value} is outside the allowed range {range}",
    Reason.DUPLICATE_KEY: "key {field} = {value} repeats an earlier row; the first one was kept",
    Reason.INCONSISTENT_ORDER: "{rule}, but an order has one customer: all the order's lines are"
    " rejected; fix the export or the order_id / customer_id mapping",
    Reason.UNKNOWN_CUSTOMER: "{field} = {value!r} is not in the customers table",
    Reason.UNKNOWN_PRODUCT: "{field} = {value!r} is not in the products table",
    Reason.UNKNOWN_LOCATION: "{field} = {value!r} is not in the locations table",
    Reason.UNKNOWN_SUPPLIER: "{field} = {value!r} is not in the suppliers table",
    Reason.UNKNOWN_ORDER: "{field} = {value!r} is not an order among the loaded order lines",
}


@dataclass
class TableAccount:
    """Row accounting of one table: ``read == loaded + rejected``."""

    read: int
    loaded: int
    rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    source: str = ""
    seconds: float = 0.0
    # Lenient columns (`contract.LENIENT`): text read as unknown, per field and text, e.g.
    # {"freight_cost": {"Freight Included in Commodity Cost": 12}}.
    nulled: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Dataset:
    """The loaded canonical tables (on the engine), the rejects and the row accounting."""

    con: BaseBackend
    tables: dict[str, ir.Table]
    rejects: pd.DataFrame
    accounts: dict[str, TableAccount]
    notes: list[str] = field(default_factory=list)


def load_table(
    con: BaseBackend,
    table: str,
    source: Source,
    analysis: Analysis,
    path: Any,
    loaded: dict[str, ir.Table],
    rows: SourceRows | None = None,
) -> tuple[ir.Table, pd.DataFrame, TableAccount, list[str]]:
    """Read, map, type and check one table; returns (loaded, rejects, account, notes).

    ``rows``: the table's rows already in memory (a data frame's; `supplyseg.load_frames`),
    checked exactly as a file's; ``path`` then only names them in messages.
    """
    started = time.perf_counter()
    spec = TABLES[table]
    raw = f"_raw_{table}"
    scanned = engine_rows(con, Path(path), source, raw) if rows is None else None
    if scanned is not None:
        src, rows = scanned
        present = [c for c in src.columns if c != ROW_NUMBER]
    else:
        rows = read_source(Path(path), source) if rows is None else rows
        present = [c for c in rows.table.column_names if c != ROW_NUMBER]
    mapping = parse.source_mapping(spec, source, present, str(path))
    for rule in source.rules:
        if rule.column not in mapping and rule.column not in source.derived:
            raise ConfigError(
                f"data.{table}.rules: rule {rule.name!r} tests column {rule.column!r}, which"
                f" {path} does not provide; fix: map it under data.{table}.columns"
            )
        if rule.action == "credit_note" and table != "order_lines":
            raise ConfigError(
                f"data.{table}.rules: rule {rule.name!r} has action credit_note, which only"
                " applies to order_lines; fix: use action: exclude"
            )
    read = rows.read
    if scanned is None:
        src = temp_table(con, raw, parse.with_parsed_dates(rows.table, spec, source, mapping))
        # The engine holds the rows now; this frees a copy of the whole table.
        rows.table = rows.table.slice(0, 0)
    src, cols = parse.canonical_columns(src, spec, source, mapping)
    typed = cols.typed
    is_credit: ir.BooleanValue = ibis.literal(False)
    for rule in source.rules:
        if rule.action == "credit_note":
            is_credit = is_credit | rule_match(rule, cols).fill_null(False)
    if table == "order_lines":
        typed["quantity"] = ibis.ifelse(is_credit, -typed["quantity"].abs(), typed["quantity"])
        if "line_no" not in typed:
            # Without line numbers, the position within the order (in file order) is the line.
            typed["line_no"] = (
                ibis.row_number().over(group_by=typed["order_id"], order_by=src[ROW_NUMBER]) + 1
            )
        typed["is_credit_note"] = is_credit

    checks = row_checks(spec, source, analysis, cols, is_credit)
    # The checks run once per row, for the position of the first that fails; reason, field and
    # rule are looked up from it on the rejected rows alone (an expression per output column
    # would run every check four times: DuckDB does not share work between CASE expressions).
    checked = src.mutate(_check=first_failed(checks))
    lenient = [n for n in LENIENT.get(table, ()) if n in typed and n not in cols.status]
    t = checked.select(
        **typed,
        **{ROW_NUMBER: src[ROW_NUMBER]},
        _check=checked._check,
        _value=pick(checked._check, [c.value for c in checks]),
        **{f"_n_{n}": nulled_text(cols, n) for n in lenient},
    )
    staged = temp_table(con, f"_staged_{table}", t)
    # Spark computes a cached table on first use: count it before dropping what it is made of
    # (DuckDB has the rows already and answers from metadata).
    staged.count().execute()
    if scanned is None:
        drop_temp(con, raw)
    else:
        con.drop_view(raw, force=True)
    refs = [
        (col, ref, reason)
        for col, ref, reason in REFERENCES.get(table, ())
        if ref in loaded and col in typed
    ]
    late = temp_table(con, f"_late_{table}", late_rejects(staged, spec, refs, loaded))
    keep = [c for c in staged.columns if not c.startswith("_")]
    passed = staged.filter(staged._check.isnull())
    kept = passed.anti_join(late, ROW_NUMBER)
    nulled = nulled_counts(kept, lenient)
    # the order lines grow with the data: worth compressing (the others are a tenth the size)
    good = temp_table(con, table, kept.select(*keep), compress=table == "order_lines")
    failed = staged.filter(staged._check.notnull())
    bad = failed.select(
        ROW_NUMBER,
        _reason=pick(failed._check, [c.reason.value for c in checks]),
        _field=pick(failed._check, [c.field for c in checks]),
        _value=failed._value,
        _rule=pick(failed._check, [c.rule for c in checks]),
    ).union(late)
    rejects = bad.select(
        table=ibis.literal(table),
        row_number=bad[ROW_NUMBER],
        reason_code=bad._reason,
        field=bad._field,
        value=bad._value,
        rule=bad._rule,
    ).to_pandas()
    rejects = _with_bad_rows(rejects, table, rows)
    loaded_rows = int(good.count().execute())  # as above: computes Spark's cache
    drop_temp(con, f"_staged_{table}")
    drop_temp(con, f"_late_{table}")
    reasons = rejects["reason_code"].value_counts().to_dict()
    account = TableAccount(
        read=read,
        loaded=loaded_rows,
        rejected=len(rejects),
        reasons={str(r): int(n) for r, n in sorted(reasons.items())},
        source=str(path),
        seconds=round(time.perf_counter() - started, 3),
        nulled=nulled,
    )
    notes = [f"{table}: {n}" for n in rows.notes] + nulled_notes(table, nulled)
    return good, rejects, account, notes


def _with_bad_rows(rejects: pd.DataFrame, table: str, rows: SourceRows) -> pd.DataFrame:
    """``rejects`` and the rows the reader could not split (reason ``bad_row``)."""
    if not rows.bad_rows:
        return rejects
    bad = pd.DataFrame(
        {
            "table": table,
            "row_number": [b.row_number for b in rows.bad_rows],
            "reason_code": Reason.BAD_ROW.value,
            "field": None,
            "value": [b.text for b in rows.bad_rows],
            "rule": [f"line {b.line}: {b.problem}" if b.line else b.problem for b in rows.bad_rows],
        }
    )
    parts = [rejects.astype({"row_number": "int64"}), bad] if len(rejects) else [bad]
    return pd.concat(parts, ignore_index=True)


def _messages(rejects: pd.DataFrame, workspace: Workspace) -> pd.Series:
    """One human message per reject row, from the reason template."""
    horizon = f"{workspace.analysis.start or MIN_DATE}..{workspace.analysis.end or MAX_DATE}"
    out = []
    for reason, fld, value, rule, table in zip(
        rejects["reason_code"],
        rejects["field"],
        rejects["value"],
        rejects["rule"],
        rejects["table"],
        strict=True,
    ):
        dtype = (
            _TYPE_WORDS.get(TABLES[table].column(fld).dtype, "")
            if fld in TABLES[table].names
            else ""
        )
        rng = horizon if table == "order_lines" and fld == "order_date" else rule
        out.append(
            _MESSAGES[Reason(reason)].format(
                field=fld, value=value, rule=rule, dtype=dtype, range=rng
            )
        )
    return pd.Series(out, index=rejects.index, dtype="string")


def _all_rejects(parts: list[pd.DataFrame], workspace: Workspace) -> pd.DataFrame:
    rejects = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({c: pd.Series(dtype="string") for c in [*REJECT_COLUMNS, "rule"]})
    )
    rejects = rejects.astype({"row_number": "int64"}) if len(rejects) else rejects
    rejects["message"] = _messages(rejects, workspace) if len(rejects) else rejects["message"]
    return rejects[list(REJECT_COLUMNS)].sort_values(["table", "row_number"], ignore_index=True)


def load_dataset(
    workspace: Workspace,
    con: BaseBackend,
    progress: Callable[[str], None] | None = None,
    rejects_path: Path | None = None,
    frames: Mapping[str, SourceRows] | None = None,
) -> Dataset:
    """Load every table the workspace names, in reference order; collect rejects and accounts.

    When no order line survives validation, writes the rejects to ``rejects_path`` (if given)
    and raises `DataContractError` pointing there. A table in ``frames`` is taken from there
    instead of its file (see `supplyseg.data.frames.load_frames`).
    """
    frames = frames or {}
    tables: dict[str, ir.Table] = {}
    accounts: dict[str, TableAccount] = {}
    reject_parts: list[pd.DataFrame] = []
    notes: list[str] = []
    for name in LOAD_ORDER:
        if name not in workspace.data:
            continue
        if progress:
            progress(name)
        good, bad, account, read_notes = load_table(
            con,
            name,
            workspace.data[name],
            workspace.analysis,
            workspace.data[name].path if name in frames else workspace.source_path(name),
            tables,
            frames.get(name),
        )
        tables[name] = good
        accounts[name] = account
        notes.extend(read_notes)
        if account.rejected:
            reject_parts.append(bad)
        if name == "order_lines" and account.loaded == 0:
            _no_order_lines(account, _all_rejects(reject_parts, workspace), rejects_path)
    rejects = _all_rejects(reject_parts, workspace)
    notes += [
        f"{name}: not provided; steps that need it are skipped"
        for name in TABLES
        if name not in workspace.data
    ]
    return Dataset(con, tables, rejects, accounts, notes)


def _no_order_lines(account: TableAccount, rejects: pd.DataFrame, path: Path | None) -> None:
    """Stop the run: every order line was rejected, so no later step has anything to work on."""
    where = ""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        rejects.to_parquet(path, index=False)
        where = f" at {path}"
    top = sorted(account.reasons.items(), key=lambda kv: -kv[1])[:3]
    why = ", ".join(f"{reason} {n:,}" for reason, n in top)
    raise DataContractError(
        f"{account.source}: no order lines left after validation ({account.read:,} read, all"
        f" rejected: {why}); see rejects{where}; fix: correct the column mapping, rules or"
        " settings behind the most frequent reason"
    )
