"""Load and validate the canonical tables on the engine: every read row is loaded or rejected.

Each table is read (`read_source`), its columns mapped to canonical names and typed, and every
row checked in one pass of Ibis expressions. A rejected row carries exactly one reason: the first
that applies in the order of `Reason`:

1. ``excluded`` / ``credit_note``: a row rule in supplyseg.yaml (rules in their listed order);
2. ``missing_required``, ``bad_type``, ``bad_date``: per column, in contract order;
3. ``zero_quantity``, ``negative_quantity``, ``bad_price``, ``bad_value``: value ranges;
4. ``date_out_of_range``: a date outside 1900..2100, or an order date outside the horizon;
5. ``duplicate_key``: a later row with an earlier valid row's key (the first one is kept);
6. ``unknown_customer``, ``unknown_product``, ``unknown_location``, ``unknown_order``: a reference
   to a row the referenced table does not hold (checked only when that table is loaded).

Credit-note rows (``analysis.credit_notes: net``) are loaded with ``is_credit_note = true`` and a
negative quantity whatever the sign in the source, so that sums net them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from supplyseg.config import Analysis, RowRule, Source, Workspace
from supplyseg.data.contract import TABLES, Column, Reason, TableSpec
from supplyseg.data.read import ROW_NUMBER, read_source
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
    "order_lines",
    "shipments",
    "invoices",
    "returns",
    "inventory",
)
REJECT_COLUMNS = ("table", "row_number", "reason_code", "field", "value", "message")
_MIN_DATE, _MAX_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
_TRUE = ("true", "t", "yes", "y", "1", "x")
_FALSE = ("false", "f", "no", "n", "0")
_IBIS_TYPE = {
    "string": "string",
    "float": "float64",
    "int": "int64",
    "date": "date",
    "bool": "boolean",
}
_TYPE_WORDS = {
    "float": "a number",
    "int": "a whole number",
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
}
_MESSAGES = {
    Reason.EXCLUDED: "excluded by rule '{rule}'",
    Reason.CREDIT_NOTE: "credit note (rule '{rule}') rejected because analysis.credit_notes is"
    " 'reject'; set it to 'net' to net credit notes against demand",
    Reason.MISSING_REQUIRED: "{field} is empty but required; fill it at the source or add a rule"
    " that excludes such rows",
    Reason.BAD_TYPE: "{field} = {value!r} is not {dtype}; fix the value at the source",
    Reason.BAD_DATE: "{field} = {value!r} is not a date; use ISO dates such as 2025-01-31",
    Reason.ZERO_QUANTITY: "{field} is 0; a line needs a quantity (drop it at the source)",
    Reason.NEGATIVE_QUANTITY: "{field} = {value} is negative on a row that is not a credit note;"
    " mark credit notes with a credit_note rule or fix the sign",
    Reason.BAD_PRICE: "{field} = {value} is not a positive price; fix it, exclude such rows by a"
    " rule, or set analysis.allow_zero_price for free goods",
    Reason.BAD_VALUE: "{field} = {value} is negative; it must be >= 0",
    Reason.DATE_OUT_OF_RANGE: "{field} = {value} is outside the allowed range {range}",
    Reason.DUPLICATE_KEY: "key {field} = {value} repeats an earlier row; the first one was kept",
    Reason.UNKNOWN_CUSTOMER: "{field} = {value!r} is not in the customers table",
    Reason.UNKNOWN_PRODUCT: "{field} = {value!r} is not in the products table",
    Reason.UNKNOWN_LOCATION: "{field} = {value!r} is not in the locations table",
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
    rule: str = ""


def _text(col: ir.Value) -> ir.StringValue:
    # Trimmed text with "" as missing: what a spreadsheet user means by an empty cell.
    s: ir.StringValue = col.cast("string").strip()
    return s.nullif("")


def _from_text(src: Any, column: Column) -> bool:
    """Whether a source column of type ``src`` is parsed from its text (not natively typed)."""
    if column.dtype == "string":
        return False
    if column.dtype == "bool":
        return not (src.is_boolean() or src.is_numeric())
    if column.dtype == "date":
        return not (src.is_date() or src.is_timestamp())
    return not src.is_numeric()


def _typed(raw: ir.Value, column: Column) -> ir.Value:
    """The canonical typed value of a raw source column (null where it does not parse)."""
    target = _IBIS_TYPE[column.dtype]
    src = raw.type()
    if column.dtype == "string":
        return _text(raw)
    if column.dtype == "bool":
        if src.is_boolean():
            return raw
        if src.is_numeric():
            return raw != 0
        low = _text(raw).lower()
        return ibis.cases(
            (low.isin(_TRUE), True), (low.isin(_FALSE), False), else_=ibis.null("boolean")
        )
    if column.dtype == "date":
        if src.is_date():
            return raw
        if src.is_timestamp():
            return raw.cast("date")
        return _text(raw).try_cast("timestamp").cast("date")
    value = raw.cast("float64") if src.is_numeric() else _text(raw).try_cast("float64")
    if column.dtype == "int":
        # 3.0 is a valid line number, 3.5 is not.
        return ibis.ifelse(value == value.round(0), value.cast("int64"), ibis.null("int64"))
    return value.cast(target)


def _rule_match(rule: RowRule, value: ir.Value) -> ir.BooleanValue:
    if rule.is_null is not None:
        return value.isnull() if rule.is_null else value.notnull()
    if rule.starts_with is not None:
        return value.cast("string").startswith(rule.starts_with)
    if rule.in_ is not None:
        return value.isin(rule.in_)
    return value == rule.equals


def _mapping(spec: TableSpec, source: Source, present: list[str], path: str) -> dict[str, str]:
    """canonical -> source column; explicit mapping first, then same-name columns."""
    mapping: dict[str, str] = {}
    for name in spec.names:
        src = source.columns.get(name, name if name in present else None)
        if src is None:
            continue
        if src not in present:
            raise DataContractError(
                f"{path}: column {src!r} (mapped to {spec.name}.{name}) not found; columns"
                f" present: {present}; fix: correct data.{spec.name}.columns.{name}"
            )
        mapping[name] = src
    missing = [n for n in spec.required if n not in mapping]
    if missing:
        raise DataContractError(
            f"{path}: required column(s) {missing} of {spec.name} not found; columns present:"
            f" {present}; fix: map them under data.{spec.name}.columns (canonical: source)"
        )
    return mapping


def _row_checks(
    spec: TableSpec,
    source: Source,
    analysis: Analysis,
    shown: dict[str, ir.StringValue],
    filled: dict[str, ir.BooleanValue],
    typed: dict[str, ir.Value],
    is_credit: ir.BooleanValue,
) -> list[_Check]:
    """Row-level checks in precedence order (everything but duplicate keys and references).

    ``shown`` is each mapped column as trimmed text (null when empty), ``filled`` whether it
    is not empty, ``typed`` its value.
    """
    checks: list[_Check] = []
    for rule in source.rules:
        if rule.action == "exclude":
            hit = _rule_match(rule, typed[rule.column])
            checks.append(_Check(hit, Reason.EXCLUDED, rule.column, shown[rule.column], rule.name))
        elif analysis.credit_notes == "reject":
            hit = _rule_match(rule, typed[rule.column])
            checks.append(
                _Check(hit, Reason.CREDIT_NOTE, rule.column, shown[rule.column], rule.name)
            )
    for name in shown:
        column = spec.column(name)
        if column.required:
            checks.append(_Check(~filled[name], Reason.MISSING_REQUIRED, name, shown[name]))
        if column.dtype != "string":
            reason = Reason.BAD_DATE if column.dtype == "date" else Reason.BAD_TYPE
            bad = filled[name] & typed[name].isnull()
            checks.append(_Check(bad, reason, name, shown[name]))
    if spec.name in ("order_lines", "returns"):
        qty = typed["quantity"]
        negative_ok = is_credit if spec.name == "order_lines" else ibis.literal(False)
        checks.append(_Check(qty == 0, Reason.ZERO_QUANTITY, "quantity", shown["quantity"]))
        checks.append(
            _Check(
                (qty < 0) & ~negative_ok, Reason.NEGATIVE_QUANTITY, "quantity", shown["quantity"]
            )
        )
    if spec.name == "order_lines":
        price = typed["unit_price"]
        bad_price = (price < 0) if analysis.allow_zero_price else (price <= 0)
        checks.append(_Check(bad_price, Reason.BAD_PRICE, "unit_price", shown["unit_price"]))
    for name in _NON_NEGATIVE.get(spec.name, ()):
        if name in shown:
            checks.append(_Check(typed[name] < 0, Reason.BAD_VALUE, name, shown[name]))
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
) -> tuple[ir.Table, pd.DataFrame, TableAccount]:
    """Read, map, type and check one table; returns (loaded, rejects, account)."""
    started = time.perf_counter()
    spec = TABLES[table]
    arrow = read_source(path, source)
    present = [c for c in arrow.column_names if c != ROW_NUMBER]
    mapping = _mapping(spec, source, present, str(path))
    for rule in source.rules:
        if rule.column not in mapping:
            raise ConfigError(
                f"data.{table}.rules: rule {rule.name!r} tests column {rule.column!r}, which"
                f" {path} does not provide; fix: map it under data.{table}.columns"
            )
        if rule.action == "credit_note" and table != "order_lines":
            raise ConfigError(
                f"data.{table}.rules: rule {rule.name!r} has action credit_note, which only"
                " applies to order_lines; fix: use action: exclude"
            )
    read = arrow.num_rows
    src = temp_table(con, f"_raw_{table}", arrow)
    del arrow  # the engine holds the rows now; this frees a copy of the whole table
    raw = {name: src[col] for name, col in mapping.items()}
    # Columns parsed from text keep that text (the checks test it, rejects show it); natively
    # typed ones keep their raw value, shown as text only on a rejected row: formatting every
    # number and date of 10M lines as text takes longer than all the checks.
    text = [n for n in mapping if _from_text(raw[n].type(), spec.column(n))]
    native = [n for n in mapping if spec.column(n).dtype != "string" and n not in text]
    # Parse in a projection of its own: the checks read each value many times, and Spark (unlike
    # DuckDB) computes a repeated expression again wherever it appears; columns it reads once.
    src = src.select(
        ROW_NUMBER,
        **{name: _typed(raw[name], spec.column(name)) for name in mapping},
        **{f"_s_{name}": _text(raw[name]) for name in text},
        **{f"_r_{name}": raw[name] for name in native},
    )
    typed: dict[str, ir.Value] = {name: src[name] for name in mapping}
    shown = {
        name: _text(src[f"_r_{name}"])
        if name in native
        else src[f"_s_{name}" if name in text else name]
        for name in mapping
    }
    filled = {
        name: src[f"_r_{name}"].notnull() if name in native else shown[name].notnull()
        for name in mapping
    }
    credit_rules = [r for r in source.rules if r.action == "credit_note"]
    is_credit: ir.BooleanValue = ibis.literal(False)
    for rule in credit_rules:
        is_credit = is_credit | _rule_match(rule, typed[rule.column]).fill_null(False)
    if table == "order_lines":
        typed["quantity"] = ibis.ifelse(is_credit, -typed["quantity"].abs(), typed["quantity"])
        if "line_no" not in typed:
            # Without line numbers, the position within the order (in file order) is the line.
            typed["line_no"] = (
                ibis.row_number().over(group_by=typed["order_id"], order_by=src[ROW_NUMBER]) + 1
            )
        typed["is_credit_note"] = is_credit

    checks = _row_checks(spec, source, analysis, shown, filled, typed, is_credit)
    # The checks run once per row, for the position of the first that fails; reason, field and
    # rule are looked up from it on the rejected rows alone (an expression per output column
    # would run every check four times: DuckDB does not share work between CASE expressions).
    checked = src.mutate(_check=_first_failed(checks))
    t = checked.select(
        **typed,
        **{ROW_NUMBER: src[ROW_NUMBER]},
        _check=checked._check,
        _value=_pick(checked._check, [c.value for c in checks]),
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
    late = temp_table(con, f"_late_{table}", _late_rejects(staged, spec.key, refs, loaded))
    keep = [c for c in staged.columns if not c.startswith("_")]
    passed = staged.filter(staged._check.isnull())
    good = temp_table(con, table, passed.anti_join(late, ROW_NUMBER).select(*keep))
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
    )
    return good, rejects, account


def _late_rejects(
    staged: ir.Table,
    key: tuple[str, ...],
    refs: list[tuple[str, str, Reason]],
    loaded: dict[str, ir.Table],
) -> ir.Table:
    """Rows that passed the row checks but repeat an earlier row's key (the first is kept) or
    name a row a referenced table lacks: (row_number, _reason, _field, _value, _rule).

    A narrow pass over the key and reference columns only: a window over every column of 10M
    rows costs more than all the row checks.
    """
    cols = dict.fromkeys([ROW_NUMBER, *key, *(col for col, _, _ in refs)])
    t = staged.filter(staged._check.isnull()).select(*cols)
    dup = ibis.row_number().over(group_by=[t[k] for k in key], order_by=t[ROW_NUMBER]) > 0
    t = t.mutate(
        _reason=ibis.ifelse(dup, Reason.DUPLICATE_KEY.value, ibis.null("string")),
        _field=ibis.ifelse(dup, ",".join(key), ibis.null("string")),
        _value=ibis.ifelse(
            dup, ibis.literal("|").join([t[k].cast("string") for k in key]), ibis.null("string")
        ),
    )
    for col, ref, reason in refs:
        ref_col = "order_id" if ref == "order_lines" else col
        # A left join to the distinct keys, not `~isin(subquery)`: Spark plans NOT IN inside a
        # projection as a nested-loop join (rows x keys; minutes at 200k lines), while an
        # equi-join is a hash join on every engine.
        known = loaded[ref].select(_known=loaded[ref][ref_col]).distinct()
        t = t.left_join(known, t[col] == known._known)
        unknown = t._reason.isnull() & t[col].notnull() & t._known.isnull()
        t = t.mutate(
            _reason=ibis.ifelse(unknown, reason.value, t._reason),
            _field=ibis.ifelse(unknown, col, t._field),
            _value=ibis.ifelse(unknown, t[col], t._value),
        ).drop("_known")
    return t.filter(t._reason.notnull()).select(
        ROW_NUMBER, "_reason", "_field", "_value", _rule=ibis.null("string")
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


def load_dataset(
    workspace: Workspace,
    con: BaseBackend,
    progress: Callable[[str], None] | None = None,
) -> Dataset:
    """Load every table the workspace names, in reference order; collect rejects and accounts."""
    tables: dict[str, ir.Table] = {}
    accounts: dict[str, TableAccount] = {}
    reject_parts: list[pd.DataFrame] = []
    for name in LOAD_ORDER:
        if name not in workspace.data:
            continue
        if progress:
            progress(name)
        good, bad, account = load_table(
            con,
            name,
            workspace.data[name],
            workspace.analysis,
            workspace.source_path(name),
            tables,
        )
        tables[name] = good
        accounts[name] = account
        if account.rejected:
            reject_parts.append(bad)
    rejects = (
        pd.concat(reject_parts, ignore_index=True)
        if reject_parts
        else pd.DataFrame({c: pd.Series(dtype="string") for c in [*REJECT_COLUMNS, "rule"]})
    )
    rejects = rejects.astype({"row_number": "int64"}) if len(rejects) else rejects
    rejects["message"] = _messages(rejects, workspace) if len(rejects) else rejects["message"]
    rejects = rejects[list(REJECT_COLUMNS)].sort_values(["table", "row_number"], ignore_index=True)
    notes = [
        f"{name}: not provided; steps that need it are skipped"
        for name in TABLES
        if name not in workspace.data
    ]
    return Dataset(con, tables, rejects, accounts, notes)
