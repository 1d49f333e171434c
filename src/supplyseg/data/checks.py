"""Which rows break the data contract: the row checks and the key, reference and order checks.

`row_checks` lists a table's row-level checks in the precedence order of `Reason` (rules,
required fields, types, value ranges, dates); `first_failed` finds the first one a row fails,
in one pass. `late_rejects` then checks, on the rows that passed, what needs other rows or
tables: duplicate keys, unknown references and orders whose lines name two customers. The
loader (`supplyseg.data.load`) runs both and turns the result into rejects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from supplyseg.config import Analysis, RowRule, Source
from supplyseg.config.tables import number_text
from supplyseg.data import parse
from supplyseg.data.contract import LENIENT, SUPPLY_KINDS, Reason, TableSpec
from supplyseg.data.read import ROW_NUMBER

__all__ = [
    "MAX_DATE",
    "MIN_DATE",
    "REFERENCES",
    "Check",
    "first_failed",
    "late_rejects",
    "pick",
    "row_checks",
    "rule_match",
]

MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)

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
REFERENCES = {
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


@dataclass
class Check:
    when: ir.BooleanValue
    reason: Reason
    field: str
    value: ir.StringValue
    rule: str = ""  # shown in the message


def rule_match(rule: RowRule, cols: parse.Columns) -> ir.BooleanValue:
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


def row_checks(
    spec: TableSpec,
    source: Source,
    analysis: Analysis,
    cols: parse.Columns,
    is_credit: ir.BooleanValue,
) -> list[Check]:
    """Row-level checks in precedence order (all but bad rows, duplicates and references)."""
    checks: list[Check] = []
    typed, shown, filled = cols.typed, cols.shown, cols.filled
    for rule in source.rules:
        if rule.action == "exclude":
            checks.append(
                Check(rule_match(rule, cols), Reason.EXCLUDED, rule.column, shown[rule.column],
                       rule.name)
            )  # fmt: skip
        elif analysis.credit_notes == "reject":
            checks.append(
                Check(rule_match(rule, cols), Reason.CREDIT_NOTE, rule.column,
                       shown[rule.column], rule.name)
            )  # fmt: skip
    for name in shown:
        column = spec.column(name)
        if column.required:
            checks.append(Check(~filled[name], Reason.MISSING_REQUIRED, name, shown[name]))
        if name in cols.status:
            checks.append(Check(cols.status[name] == 1, Reason.BAD_TYPE, name, shown[name]))
        elif column.dtype != "string" and name not in LENIENT.get(spec.name, ()):
            reason = Reason.BAD_DATE if column.dtype == "date" else Reason.BAD_TYPE
            bad = filled[name] & parse.missing(typed[name])
            checks.append(Check(bad, reason, name, shown[name]))
    # Not-finite numbers first: none of the range checks below applies to them (so they need
    # no guard against infinity), and they are no value at all, so bad_value.
    for name in shown:
        if typed[name].type().is_floating():
            checks.append(
                Check(
                    parse.not_finite(typed[name]), Reason.BAD_VALUE, name, shown[name], _NOT_FINITE
                )
            )
    if spec.name in ("order_lines", "returns", "purchase_orders"):
        qty = typed["quantity"]
        negative_ok = is_credit if spec.name == "order_lines" else ibis.literal(False)
        checks.append(Check(qty == 0, Reason.ZERO_QUANTITY, "quantity", shown["quantity"]))
        negative = (qty < 0) & ~negative_ok
        checks.append(Check(negative, Reason.NEGATIVE_QUANTITY, "quantity", shown["quantity"]))
    if (
        spec.name in ("order_lines", "purchase_orders", "sourcing_options")
        and "unit_price" in typed
    ):
        price = typed["unit_price"]
        bad_price = (price < 0) if analysis.allow_zero_price else (price <= 0)
        checks.append(Check(bad_price, Reason.BAD_PRICE, "unit_price", shown["unit_price"]))
    if spec.name == "supply":
        why = f"is not a supply kind; allowed: {', '.join(SUPPLY_KINDS)}"
        bad_kind = ~typed["kind"].isin(SUPPLY_KINDS)
        checks.append(Check(bad_kind, Reason.BAD_VALUE, "kind", shown["kind"], why))
    for name in _NON_NEGATIVE.get(spec.name, ()):
        if name in shown:
            checks.append(Check(typed[name] < 0, Reason.BAD_VALUE, name, shown[name], _NEGATIVE))
    for name, status in cols.status.items():
        divisor = source.derived[name].operands[1]
        why = f"divides by zero ({divisor} is 0); fix it at the source or exclude such rows"
        checks.append(Check(status == 2, Reason.BAD_VALUE, name, shown[name], why))
    for name in shown:
        value = typed[name]
        if spec.column(name).dtype == "date":
            lo, hi = MIN_DATE, MAX_DATE
            if spec.name == "order_lines" and name == "order_date":
                lo, hi = analysis.start or lo, analysis.end or hi
            out = (value < ibis.literal(lo)) | (value > ibis.literal(hi))
            checks.append(
                Check(out, Reason.DATE_OUT_OF_RANGE, name, value.cast("string"), f"{lo}..{hi}")
            )
    if spec.name == "purchase_orders":
        # A goods receipt or promise before the order would be a negative lead time.
        for name in ("promised_date", "receipt_date"):
            if name in typed:
                early = typed[name] < typed["order_date"]
                why = "on or after the line's order_date"
                value = typed[name].cast("string")
                checks.append(Check(early, Reason.DATE_OUT_OF_RANGE, name, value, why))
    return checks


def first_failed(checks: list[Check]) -> ir.IntegerValue:
    """The position of the first check a row fails; null when it passes them all."""
    if not checks:
        return ibis.null("int16")
    cases = [(c.when.fill_null(False), i) for i, c in enumerate(checks)]
    return ibis.cases(*cases, else_=ibis.null("int16")).cast("int16")


def pick(position: ir.IntegerValue, values: list[Any]) -> ir.StringValue:
    """``values[position]`` (null where ``position`` is null)."""
    if not values:
        return ibis.null("string")
    cases = [(position == i, value) for i, value in enumerate(values)]
    return ibis.cases(*cases, else_=ibis.null("string"))


def late_rejects(
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
        _reason=pick(t._which, [f[1] for f in found]),
        _field=pick(t._which, [f[2] for f in found]),
        _value=pick(
            t._which, [f[3].cast("string") if not isinstance(f[3], str) else f[3] for f in found]
        ),
        _rule=pick(t._which, [f[4] for f in found]),
    )
