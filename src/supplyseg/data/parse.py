"""Source values to canonical ones, as Ibis expressions: text, numbers, dates, derived columns.

`source_mapping` finds each canonical column's source column, `canonical_columns` projects the
raw table to typed values (with the source text the checks and rejects need).

The rules every format follows:

- Text is trimmed of spaces; an empty field, or one of the table's ``null_values``, is
  missing. ``NA``, ``NULL``, ``N/A``, ``NaN`` are values unless listed there.
- A whole-number float read as an identifier is written without ``.0`` (pandas stores an
  integer column with a gap as float: 123.0 is the id ``123``); a NaN there is missing.
- Numbers in text use the table's ``decimal`` mark and optional ``thousands`` separator. A
  whole number (``int`` columns) must be below 2^53 in size, where floats are still exact.
- A date in text is ISO (``2025-01-31``, with or without a time), or the table's
  ``date_format`` (ISO still accepted). A timestamp with a time zone or offset is converted to
  UTC before its date is taken; one without is taken as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from supplyseg.config import Source
from supplyseg.config.tables import DerivedColumn
from supplyseg.data.contract import Column, TableSpec
from supplyseg.data.read import ROW_NUMBER
from supplyseg.errors import DataContractError

__all__ = [
    "EXACT_INT",
    "Columns",
    "canonical_columns",
    "computed_parts",
    "from_text",
    "id_text",
    "missing",
    "not_finite",
    "number",
    "source_mapping",
    "text",
    "typed",
    "with_parsed_dates",
]

EXACT_INT = 2**53
_TRUE = ("true", "t", "yes", "y", "1", "x")
_FALSE = ("false", "f", "no", "n", "0")
_UTC = dt.Timestamp(timezone="UTC")
_PARSED_DATE = "__supplyseg_date_"


@ibis.udf.scalar.builtin(name="trim")  # type: ignore[untyped-decorator]
def _trim(s: str) -> str:  # type: ignore[empty-body]
    """SQL TRIM(s): spaces off both ends, the same on every engine.

    Not `StringValue.strip()`: Ibis 12 writes it for Spark as TRIM(' \\t\\n\\r\\v\\f' FROM s), and
    Spark SQL reads \\v and \\f as the letters v and f, so "inf" became "in" and "SHELF" "SHEL".
    """


def text(col: ir.Value, nulls: tuple[str, ...] = ()) -> ir.StringValue:
    """Trimmed text with "" (and, for text sources, ``nulls``) as missing.

    A float is written as a whole number where it is one (123.0 -> "123"), else as is ("nan").
    """
    src = col.type()
    if src.is_floating():
        whole = (col % 1 == 0) & (col.abs() < EXACT_INT)
        s: ir.StringValue = ibis.cases(
            (col.isnan(), "NaN"),  # spelled alike on every engine (DuckDB: nan, Spark: NaN)
            (not_finite(col), ibis.ifelse(col > 0, "inf", "-inf")),
            (whole, col.try_cast("int64").cast("string")),
            else_=col.cast("string"),
        )
    else:
        s = col.cast("string")
    s = _trim(s).nullif("")
    if nulls and src.is_string():
        s = ibis.ifelse(s.isin(list(nulls)), ibis.null("string"), s)
    return s


def id_text(col: ir.Value, nulls: tuple[str, ...] = ()) -> ir.StringValue:
    """An identifier or other text value; a float NaN (pandas' gap in a column) is missing."""
    if col.type().is_floating():
        return ibis.ifelse(col.isnan(), ibis.null("string"), text(col))
    return text(col, nulls)


def not_finite(value: ir.NumericValue) -> ir.BooleanValue:
    """Whether a number is infinite or NaN (null for null).

    inf - inf and NaN - NaN are NaN, which differs from 0, and a finite x - x is 0. Not isinf():
    Ibis 12 compiles that for Spark as FALSE.
    """
    result: ir.BooleanValue = (value - value) != 0
    return result


def missing(value: ir.Value) -> ir.BooleanValue:
    """Whether a value is null, NaN not counting: Ibis's isnull() is true for NaN on Spark."""
    if value.type().is_floating():
        return value.isnull() & ~not_finite(value).fill_null(False)
    return value.isnull()


def number(s: ir.StringValue, source: Source) -> ir.FloatingValue:
    """The number a trimmed text holds, by the table's decimal mark and thousands separator.

    Separators must sit where they belong: with ``thousands: "."`` and ``decimal: ","``,
    ``1.234,5`` is 1234.5 while ``1,234.5`` is no number (not 1.2345); with ``decimal: ","``
    and no thousands separator, ``1.5`` is no number either.
    """
    sep, mark = source.thousands, source.decimal
    if sep is not None:
        grouped = rf"^[+-]?[0-9]{{1,3}}({re.escape(sep)}[0-9]{{3}})+({re.escape(mark)}[0-9]*)?$"
        s = ibis.ifelse(
            s.contains(sep),
            ibis.ifelse(s.re_search(grouped), s.replace(sep, ""), ibis.null("string")),
            s,
        )
    if mark != ".":
        s = ibis.ifelse(s.contains("."), ibis.null("string"), s.replace(mark, "."))
    value: ir.FloatingValue = s.try_cast("float64")
    return value


def from_text(src: Any, column: Column) -> bool:
    """Whether a source column of type ``src`` is parsed from its text (not natively typed)."""
    if column.dtype == "string":
        return False
    if column.dtype == "bool":
        return not (src.is_boolean() or src.is_numeric())
    if column.dtype == "date":
        return not (src.is_date() or src.is_timestamp())
    return not src.is_numeric()


def _whole(value: ir.FloatingValue) -> ir.IntegerValue:
    # 3.0 is a valid line number, 3.5 is not; 1e19 and inf are no int64 (the cast would fail).
    # Not value.round(0): Ibis casts that to int64, which fails on 1e19 and inf.
    exact = (value % 1 == 0) & (value.abs() < EXACT_INT)
    return ibis.ifelse(exact, value.try_cast("int64"), ibis.null("int64"))


def _iso_date(s: ir.StringValue) -> ir.DateValue:
    """The date of an ISO date or timestamp; one with a zone or offset is converted to UTC first.

    Up to 19 characters (``2025-01-31 23:30:00``) there is no room for a zone, and the plain
    timestamp cast is twice as fast as the zone-aware one, so only longer texts take that. The
    zone-aware cast reads a text without zone in the session's zone, UTC under Ibis.
    """
    plain = s.try_cast("timestamp").cast("date")
    zoned = s.try_cast(_UTC).cast("date")
    date: ir.DateValue = ibis.ifelse(s.length() <= 19, plain, zoned)
    return date


def typed(
    raw: ir.Value, column: Column, source: Source, parsed_date: ir.Value | None = None
) -> ir.Value:
    """The canonical typed value of a raw source column (null where it does not parse).

    ``parsed_date`` is the value parsed by ``date_format`` (null where it did not match).
    """
    src = raw.type()
    nulls = tuple(source.null_values)
    if column.dtype == "string":
        return id_text(raw, nulls)
    if column.dtype == "bool":
        if src.is_boolean():
            return raw
        if src.is_numeric():
            return raw != 0
        low = text(raw, nulls).lower()
        return ibis.cases(
            (low.isin(_TRUE), True), (low.isin(_FALSE), False), else_=ibis.null("boolean")
        )
    if column.dtype == "date":
        if src.is_date():
            return raw
        if src.is_timestamp():
            return raw.cast("date")  # tz-aware: the UTC date (Ibis runs sessions in UTC)
        iso = _iso_date(text(raw, nulls))
        return iso if parsed_date is None else parsed_date.cast("date").coalesce(iso)
    value = raw.cast("float64") if src.is_numeric() else number(text(raw, nulls), source)
    return _whole(value) if column.dtype == "int" else value


def computed_parts(
    spec: DerivedColumn, columns: dict[str, ir.Value], source: Source
) -> tuple[ir.FloatingValue, ir.StringValue, ir.IntegerValue]:
    """(value, shown text, status) of a divide or multiply column.

    ``shown`` is the operands' text ("11.77 / 0"; null when one is empty); ``status`` is 1 where
    an operand is not a number, 2 where the divisor is 0, else null (and ``value`` is null
    wherever ``status`` is not).
    """
    nulls = tuple(source.null_values)
    texts: list[ir.StringValue] = []
    numbers: list[ir.FloatingValue] = []
    for operand in spec.operands:
        if isinstance(operand, str):
            col = columns[operand]
            shown = text(col, nulls)
            texts.append(shown)
            numbers.append(
                col.cast("float64") if col.type().is_numeric() else number(shown, source)
            )
        else:
            texts.append(ibis.literal(f"{operand:g}"))
            numbers.append(ibis.literal(float(operand)))
    sep = " / " if spec.kind == "divide" else " * "
    joined = texts[0]
    for part in texts[1:]:
        joined = joined + sep + part
    any_text_missing = ibis.or_(*(t.isnull() for t in texts))
    unparsed = ibis.or_(*(missing(n) for n in numbers)) & ~any_text_missing
    status = ibis.cases((unparsed, 1), else_=ibis.null("int8"))
    if spec.kind == "divide":
        zero = ~unparsed & (numbers[1] == 0)
        status = ibis.cases((unparsed, 1), (zero, 2), else_=ibis.null("int8"))
        value = ibis.ifelse(status.isnull(), numbers[0] / numbers[1], ibis.null("float64"))
    else:
        product = numbers[0]
        for n in numbers[1:]:
            product = product * n
        value = ibis.ifelse(status.isnull(), product, ibis.null("float64"))
    shown_or_null = ibis.ifelse(any_text_missing, ibis.null("string"), joined)
    return value.cast("float64"), shown_or_null, status.cast("int8")


def concatenated(spec: DerivedColumn, columns: dict[str, ir.Value], source: Source) -> ir.Value:
    """The texts of a concat column's source columns joined by ``sep`` (null if one is empty)."""
    parts = [id_text(columns[c], tuple(source.null_values)) for c in spec.source_columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + spec.sep + part if spec.sep else joined + part
    return ibis.ifelse(ibis.or_(*(p.isnull() for p in parts)), ibis.null("string"), joined)


@dataclass
class Columns:
    """Each canonical column as typed value, source text (null when empty), and whether filled.

    ``status`` holds the state of divide/multiply columns (1 operand not a number, 2 division by
    zero); ``numbers`` the number each numeric column's source text holds, for rules that
    compare numbers (built on demand: most rules never need it).
    """

    typed: dict[str, ir.Value]
    shown: dict[str, ir.StringValue]
    filled: dict[str, ir.BooleanValue]
    status: dict[str, ir.IntegerValue]
    numbers: dict[str, Callable[[], ir.FloatingValue]]


def source_mapping(
    spec: TableSpec, source: Source, present: list[str], path: str
) -> dict[str, str]:
    """canonical -> source column; explicit mapping first, then same-name columns.

    Derived columns are not in it, but their source columns are checked to exist.
    """
    found: dict[str, str] = {}
    explicit = source.mapped
    for name in spec.names:
        if name in source.derived:
            continue
        src = explicit.get(name, name if name in present else None)
        if src is None:
            continue
        if src not in present:
            raise DataContractError(
                f"{path}: column {src!r} (mapped to {spec.name}.{name}) not found; columns"
                f" present: {present}; fix: correct data.{spec.name}.columns.{name}"
            )
        found[name] = src
    for name, derived in source.derived.items():
        absent = [c for c in derived.source_columns if c not in present]
        if absent:
            raise DataContractError(
                f"{path}: column(s) {absent} (used to compute {spec.name}.{name}) not found;"
                f" columns present: {present}; fix: correct data.{spec.name}.columns.{name}"
            )
    absent = [n for n in spec.required if n not in found and n not in source.derived]
    if absent:
        raise DataContractError(
            f"{path}: required column(s) {absent} of {spec.name} not found; columns present:"
            f" {present}; fix: map them under data.{spec.name}.columns (canonical: source)"
        )
    return found


def _as_float(value: ir.NumericValue) -> ir.FloatingValue:
    result: ir.FloatingValue = value.cast("float64")
    return result


def with_parsed_dates(
    arrow: pa.Table, spec: TableSpec, source: Source, mapping: dict[str, str]
) -> pa.Table:
    """Text date columns parsed by ``date_format`` (pyarrow's strptime, null where no match).

    In Arrow, not Ibis: engines' strptime fails a whole query on one bad value, and only
    pyarrow's has an error-is-null mode.
    """
    if source.date_format is None:
        return arrow
    for name, col in mapping.items():
        if spec.column(name).dtype == "date" and arrow[col].type == pa.string():
            text = pc.utf8_trim_whitespace(arrow[col])
            parsed = pc.strptime(text, format=source.date_format, unit="s", error_is_null=True)
            arrow = arrow.append_column(f"{_PARSED_DATE}{name}", parsed)
    return arrow


def canonical_columns(
    src: ir.Table, spec: TableSpec, source: Source, mapping: dict[str, str]
) -> tuple[ir.Table, Columns]:
    """Project the raw table to typed columns (and the text checks need); describe them.

    Columns parsed from text keep that text (the checks test it, rejects show it); natively
    typed ones keep their raw value, shown as text only on a rejected row: formatting every
    number and date of 10M lines as text takes longer than all the checks. Parsing happens in a
    projection of its own: the checks read each value many times, and Spark (unlike DuckDB)
    computes a repeated expression again wherever it appears; columns it reads once.
    """
    nulls = tuple(source.null_values)
    raw: dict[str, ir.Value] = {name: src[col] for name, col in mapping.items()}
    computed: dict[str, DerivedColumn] = {}
    for name, derived in source.derived.items():
        if derived.kind == "value":
            raw[name] = ibis.literal(derived.text, "string")
        elif derived.kind == "concat":
            raw[name] = concatenated(derived, {c: src[c] for c in src.columns}, source)
        else:
            computed[name] = derived
    order = [n for n in spec.names if n in raw or n in computed]
    texts = [n for n in raw if from_text(raw[n].type(), spec.column(n))]
    natives = [n for n in raw if spec.column(n).dtype != "string" and n not in texts]
    parsed = {n: src[f"{_PARSED_DATE}{n}"] for n in texts if f"{_PARSED_DATE}{n}" in src.columns}
    projection: dict[str, ir.Value] = {ROW_NUMBER: src[ROW_NUMBER]}
    for name in order:
        column = spec.column(name)
        if name in computed:
            value, text_of, status = computed_parts(
                computed[name], {c: src[c] for c in src.columns}, source
            )
            projection |= {name: value, f"_s_{name}": text_of, f"_x_{name}": status}
            continue
        projection[name] = typed(raw[name], column, source, parsed.get(name))
        if name in texts:
            projection[f"_s_{name}"] = text(raw[name], nulls)
        elif name in natives:
            projection[f"_r_{name}"] = raw[name]
    t = src.select(**projection)
    shown: dict[str, ir.StringValue] = {}
    filled: dict[str, ir.BooleanValue] = {}
    numbers: dict[str, Callable[[], ir.FloatingValue]] = {}
    for name in order:
        if name in natives:
            r = t[f"_r_{name}"]
            shown[name] = text(r)
            filled[name] = ~missing(r)
            if r.type().is_numeric():
                numbers[name] = partial(_as_float, r)
        else:
            shown[name] = t[f"_s_{name}" if f"_s_{name}" in t.columns else name]
            filled[name] = shown[name].notnull()
        if name not in numbers and spec.column(name).dtype in ("float", "int"):
            numbers[name] = partial(number, shown[name], source)
    status = {name: t[f"_x_{name}"] for name in computed}
    return t, Columns({n: t[n] for n in order}, shown, filled, status, numbers)
