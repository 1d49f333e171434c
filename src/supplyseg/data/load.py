"""Load and validate the canonical tables on the engine: every read row is loaded or rejected.

Each table is read (`read_source`), its columns mapped to canonical names (or derived: a
constant, a quotient, a product, a concatenation) and typed (`supplyseg.data.parse`), and every
row checked in one pass of Ibis expressions. A rejected row carries exactly one reason: the first
that applies in the order of `Reason`:

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

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from supplyseg.config import Analysis, RowRule, Source, Workspace
from supplyseg.config.tables import number_text
from supplyseg.data import parse
from supplyseg.data.contract import LENIENT, SUPPLY_KINDS, TABLES, Reason, TableSpec
from supplyseg.data.lenient import nulled_counts, nulled_notes, nulled_text
from supplyseg.data.read import ROW_NUMBER, SourceRows, read_source
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
_MIN_DATE, _MAX_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
_TYPE_WORDS = {
    "float": "a number",
    "int": f"a whole number (below {parse.EXACT_INT:.0e} in size)",
    "bool": "a yes/no flag",
    "date": "a date",
}

# Columns that must not be negative (the value ranges a bad_value reject stands for).
_NON_NEGATIVE = {
    "order_lines": ("delivered_quantity", "unit_cost"),
    "customers": ("credit_limit", "payment_terms_days"),
    "products": (
        "unit_cost",
        "unit_weight",
        "lead_time_days",
        "lead_time_std_days",
        "moq",
        "order_multiple",
    ),
    "shipments": ("freight_cost", "weight"),
    "supply": ("quantity",),
    "purchase_orders": ("received_quantity", "freight_cost", "insurance_cost", "duty_rate"),
    "sourcing_options": (
        "lead_time_days",
        "lead_time_std_days",
        "moq",
        "freight_per_unit",
        "insurance_rate",
        "duty_rate",
    ),
}
# (column, referenced table, reason) checked when the referenced table is loaded.
_REFERENCES = {
    "order_lines": (
        ("customer_id", "customers", Reason.UNKNOWN_CUSTOMER),
        ("product_id", "products", Reason.UNKNOWN_PRODUCT),
        ("location_id", "locations", Reason.UNKNOWN_LOCATION),
    ),
    "shipments": (
        ("order_id", "order_lines", Reason.UNKNOWN_ORDER),
        ("location_id", "locations", Reason.UNKNOWN_LOCATION),
    ),
    "invoices": (("customer_id", "customers", Reason.UNKNOWN_CUSTOMER),),
    "returns": (
        ("order_id", "order_lines", Reason.UNKNOWN_ORDER),
        ("product_id", "products", Reason.UNKNOWN_PRODUCT),
    ),
    "inventory": (
        ("product_id", "products", Reason.UNKNOWN_PRODUCT),
        ("location_id", "locations", Reason.UNKNOWN_LOCATION),
    ),
    "supply": (
        ("product_id", "products", Reason.UNKNOWN_PRODUCT),
        ("location_id", "locations", Reason.UNKNOWN_LOCATION),
    ),
    "purchase_orders": (
        ("supplier_id", "suppliers", Reason.UNKNOWN_SUPPLIER),
        ("product_id", "products", Reason.UNKNOWN_PRODUCT),
        ("location_id", "locations", Reason.UNKNOWN_LOCATION),
    ),
    "sourcing_options": (
        ("supplier_id", "suppliers", Reason.UNKNOWN_SUPPLIER),
        ("product_id", "products", Reason.UNKNOWN_PRODUCT),
    ),
}
_NEGATIVE = "is negative; it must be >= 0"
_NOT_FINITE = (
    "is not a finite number (infinity or NaN); fix it at the source, or leave the field empty"
    " where the value is unknown"
)
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


@dataclass
class _Check:
    when: ir.BooleanValue
    reason: Reason
    field: str
    value: ir.StringValue
    rule: str = ""  # shown in the message


def _rule_match(rule: RowRule, cols: parse.Columns) -> ir.BooleanValue:
    """Whether a row's source text meets the rule.

    A number in the rule matches a numeric column's value however it is written (12.5 matches
    12.50), and a text column's text only when written the same way (123 matches 123, not
    0123: codes with leading zeros are other codes).
    """
    name = rule.column
    if rule.is_null is not None:
        return ~cols.filled[name] if rule.is_null else cols.filled[name]
    if rule.starts_with is not None:
        return cols.shown[name].startswith(rule.starts_with)
    numbers = [float(v) for v in rule.values if not isinstance(v, str)]
    texts = [v if isinstance(v, str) else number_text(v) for v in rule.values]
    hit: ir.BooleanValue = cols.shown[name].isin(texts)
    if numbers and name in cols.numbers:
        hit = hit | cols.numbers[name]().isin(numbers)
    return hit


def _row_checks(
    spec: TableSpec,
    source: Source,
    analysis: Analysis,
    cols: parse.Columns,
    is_credit: ir.BooleanValue,
) -> list[_Check]:
    """Row-level checks in precedence order (all but bad rows, duplicates and references)."""
    checks: list[_Check] = []
    typed, shown, filled = cols.typed, cols.shown, cols.filled
    for rule in source.rules:
        if rule.action == "exclude":
            checks.append(
                _Check(_rule_match(rule, cols), Reason.EXCLUDED, rule.column, shown[rule.column],
                       rule.name)
            )  # fmt: skip
        elif analysis.credit_notes == "reject":
            checks.append(
                _Check(_rule_match(rule, cols), Reason.CREDIT_NOTE, rule.column,
                       shown[rule.column], rule.name)
            )  # fmt: skip
    for name in shown:
        column = spec.column(name)
        if column.required:
            checks.append(_Check(~filled[name], Reason.MISSING_REQUIRED, name, shown[name]))
        if name in cols.status:
            checks.append(_Check(cols.status[name] == 1, Reason.BAD_TYPE, name, shown[name]))
        elif column.dtype != "string" and name not in LENIENT.get(spec.name, ()):
            reason = Reason.BAD_DATE if column.dtype == "date" else Reason.BAD_TYPE
            bad = filled[name] & parse.missing(typed[name])
            checks.append(_Check(bad, reason, name, shown[name]))
    # Not-finite numbers first: none of the range checks below applies to them (so they need
    # no guard against infinity), and they are no value at all, so bad_value.
    for name in shown:
        if typed[name].type().is_floating():
            checks.append(
                _Check(
                    parse.not_finite(typed[name]), Reason.BAD_VALUE, name, shown[name], _NOT_FINITE
                )
            )
    if spec.name in ("order_lines", "returns", "purchase_orders"):
        qty = typed["quantity"]
        negative_ok = is_credit if spec.name == "order_lines" else ibis.literal(False)
        checks.append(_Check(qty == 0, Reason.ZERO_QUANTITY, "quantity", shown["quantity"]))
        negative = (qty < 0) & ~negative_ok
        checks.append(_Check(negative, Reason.NEGATIVE_QUANTITY, "quantity", shown["quantity"]))
    if (
        spec.name in ("order_lines", "purchase_orders", "sourcing_options")
        and "unit_price" in typed
    ):
        price = typed["unit_price"]
        bad_price = (price < 0) if analysis.allow_zero_price else (price <= 0)
        checks.append(_Check(bad_price, Reason.BAD_PRICE, "unit_price", shown["unit_price"]))
    if spec.name == "supply":
        why = f"is not a supply kind; allowed: {', '.join(SUPPLY_KINDS)}"
        bad_kind = ~typed["kind"].isin(SUPPLY_KINDS)
        checks.append(_Check(bad_kind, Reason.BAD_VALUE, "kind", shown["kind"], why))
    for name in _NON_NEGATIVE.get(spec.name, ()):
        if name in shown:
            checks.append(_Check(typed[name] < 0, Reason.BAD_VALUE, name, shown[name], _NEGATIVE))
    for name, status in cols.status.items():
        divisor = source.derived[name].operands[1]
        why = f"divides by zero ({divisor} is 0); fix it at the source or exclude such rows"
        checks.append(_Check(status == 2, Reason.BAD_VALUE, name, shown[name], why))
    for name in shown:
        value = typed[name]
        if spec.column(name).dtype == "date":
            lo, hi = _MIN_DATE, _MAX_DATE
            if spec.name == "order_lines" and name == "order_date":
                lo, hi = analysis.start or lo, analysis.end or hi
            out = (value < ibis.literal(lo)) | (value > ibis.literal(hi))
            checks.append(
                _Check(out, Reason.DATE_OUT_OF_RANGE, name, value.cast("string"), f"{lo}..{hi}")
            )
    if spec.name == "purchase_orders":
        # A goods receipt or promise before the order would be a negative lead time.
        for name in ("promised_date", "receipt_date"):
            if name in typed:
                early = typed[name] < typed["order_date"]
                why = "on or after the line's order_date"
                value = typed[name].cast("string")
                checks.append(_Check(early, Reason.DATE_OUT_OF_RANGE, name, value, why))
    return checks


def _first_failed(checks: list[_Check]) -> ir.IntegerValue:
    """The position of the first check a row fails; null when it passes them all."""
    if not checks:
        return ibis.null("int16")
    cases = [(c.when.fill_null(False), i) for i, c in enumerate(checks)]
    return ibis.cases(*cases, else_=ibis.null("int16")).cast("int16")


def _pick(position: ir.IntegerValue, values: list[Any]) -> ir.StringValue:
    """``values[position]`` (null where ``position`` is null)."""
    if not values:
        return ibis.null("string")
    cases = [(position == i, value) for i, value in enumerate(values)]
    return ibis.cases(*cases, else_=ibis.null("string"))


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
    rows = read_source(Path(path), source) if rows is None else rows
    arrow = rows.table
    present = [c for c in arrow.column_names if c != ROW_NUMBER]
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
    arrow = parse.with_parsed_dates(arrow, spec, source, mapping)
    read = rows.read
    src = temp_table(con, f"_raw_{table}", arrow)
    # The engine holds the rows now; this frees a copy of the whole table.
    del arrow
    rows.table = rows.table.slice(0, 0)
    src, cols = parse.canonical_columns(src, spec, source, mapping)
    typed = cols.typed
    is_credit: ir.BooleanValue = ibis.literal(False)
    for rule in source.rules:
        if rule.action == "credit_note":
            is_credit = is_credit | _rule_match(rule, cols).fill_null(False)
    if table == "order_lines":
        typed["quantity"] = ibis.ifelse(is_credit, -typed["quantity"].abs(), typed["quantity"])
        if "line_no" not in typed:
            # Without line numbers, the position within the order (in file order) is the line.
            typed["line_no"] = (
                ibis.row_number().over(group_by=typed["order_id"], order_by=src[ROW_NUMBER]) + 1
            )
        typed["is_credit_note"] = is_credit

    checks = _row_checks(spec, source, analysis, cols, is_credit)
    # The checks run once per row, for the position of the first that fails; reason, field and
    # rule are looked up from it on the rejected rows alone (an expression per output column
    # would run every check four times: DuckDB does not share work between CASE expressions).
    checked = src.mutate(_check=_first_failed(checks))
    lenient = [n for n in LENIENT.get(table, ()) if n in typed and n not in cols.status]
    t = checked.select(
        **typed,
        **{ROW_NUMBER: src[ROW_NUMBER]},
        _check=checked._check,
        _value=_pick(checked._check, [c.value for c in checks]),
        **{f"_n_{n}": nulled_text(cols, n) for n in lenient},
    )
    staged = temp_table(con, f"_staged_{table}", t)
    # Spark computes a cached table on first use: count it before dropping what it is made of
    # (DuckDB has the rows already and answers from metadata).
    staged.count().execute()
    drop_temp(con, f"_raw_{table}")
    refs = [
        (col, ref, reason)
        for col, ref, reason in _REFERENCES.get(table, ())
        if ref in loaded and col in typed
    ]
    late = temp_table(con, f"_late_{table}", _late_rejects(staged, spec, refs, loaded))
    keep = [c for c in staged.columns if not c.startswith("_")]
    passed = staged.filter(staged._check.isnull())
    kept = passed.anti_join(late, ROW_NUMBER)
    nulled = nulled_counts(kept, lenient)
    good = temp_table(con, table, kept.select(*keep))
    failed = staged.filter(staged._check.notnull())
    bad = failed.select(
        ROW_NUMBER,
        _reason=_pick(failed._check, [c.reason.value for c in checks]),
        _field=_pick(failed._check, [c.field for c in checks]),
        _value=failed._value,
        _rule=_pick(failed._check, [c.rule for c in checks]),
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


def _late_rejects(
    staged: ir.Table,
    spec: TableSpec,
    refs: list[tuple[str, str, Reason]],
    loaded: dict[str, ir.Table],
) -> ir.Table:
    """Rows that passed the row checks but repeat an earlier row's key (the first is kept), name
    a row a referenced table lacks, or belong to an order whose lines name two customers:
    (row_number, _reason, _field, _value, _rule).

    A narrow pass over the key and reference columns only: a window over every column of 10M
    rows costs more than all the row checks. For order lines one window (per order, by line
    number) finds both the duplicate keys and the orders' customers.
    """
    key = spec.key
    per_order = spec.name == "order_lines"
    extra = ("customer_id",) if per_order else ()
    cols = dict.fromkeys([ROW_NUMBER, *key, *extra, *(col for col, _, _ in refs)])
    t = staged.filter(staged._check.isnull()).select(*cols)
    unknown: list[str] = []
    for i, (col, ref, _) in enumerate(refs):
        ref_col = "order_id" if ref == "order_lines" else col
        # A left join to the distinct keys, not `~isin(subquery)`: Spark plans NOT IN inside a
        # projection as a nested-loop join (rows x keys; minutes at 200k lines), while an
        # equi-join is a hash join on every engine.
        known = loaded[ref].select(_known=loaded[ref][ref_col]).distinct()
        t = t.left_join(known, t[col] == known._known)
        t = t.mutate(**{f"_u{i}": t[col].notnull() & t._known.isnull()}).drop("_known")
        unknown.append(f"_u{i}")
    if per_order:
        by_line = ibis.window(group_by=t.order_id, order_by=[t.line_no, t[ROW_NUMBER]])
        dup = (ibis.row_number().over(by_line) > 0) & t.line_no.identical_to(
            t.line_no.lag().over(by_line)
        )
        # Cost-to-serve and customer KPIs count an order once, for one customer: an order whose
        # lines name two customers cannot be attributed, so none of its lines is loaded. Lines
        # with an unknown reference do not count (they are rejected for that); duplicates do.
        counted = ibis.and_(*(~t[u] for u in unknown)) if unknown else ibis.literal(True)
        t = t.mutate(
            _dup=dup,
            _first=t.customer_id.min(where=counted).over(group_by=t.order_id),
            _last=t.customer_id.max(where=counted).over(group_by=t.order_id),
        )
    else:
        dup = ibis.row_number().over(group_by=[t[k] for k in key], order_by=t[ROW_NUMBER]) > 0
        t = t.mutate(_dup=dup)
    found: list[tuple[ir.BooleanValue, str, Any, Any, Any]] = [
        (
            t._dup,
            Reason.DUPLICATE_KEY.value,
            ",".join(key),
            ibis.literal("|").join([t[k].cast("string") for k in key]),
            ibis.null("string"),
        )
    ]
    for u, (col, _, reason) in zip(unknown, refs, strict=True):
        found.append((t[u], reason.value, col, t[col], ibis.null("string")))
    if per_order:
        mixed = t._first != t._last
        why = "order " + t.order_id + " has customer_id " + t._first + " and " + t._last
        found.append((mixed, Reason.INCONSISTENT_ORDER.value, "customer_id", t.customer_id, why))
    which = ibis.cases(*((when, i) for i, (when, *_) in enumerate(found)), else_=ibis.null("int8"))
    t = t.mutate(_which=which)
    t = t.filter(t._which.notnull())
    return t.select(
        ROW_NUMBER,
        _reason=_pick(t._which, [f[1] for f in found]),
        _field=_pick(t._which, [f[2] for f in found]),
        _value=_pick(
            t._which, [f[3].cast("string") if not isinstance(f[3], str) else f[3] for f in found]
        ),
        _rule=_pick(t._which, [f[4] for f in found]),
    )


def _messages(rejects: pd.DataFrame, workspace: Workspace) -> pd.Series:
    """One human message per reject row, from the reason template."""
    horizon = f"{workspace.analysis.start or _MIN_DATE}..{workspace.analysis.end or _MAX_DATE}"
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
