"""Table settings of ``data.<table>`` in supplyseg.yaml: file, reading, columns and row rules."""

from __future__ import annotations

import codecs
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from supplyseg.contract import TABLES
from supplyseg.errors import ConfigError

__all__ = ["MAPPING_TAGS", "DerivedColumn", "RowRule", "Source", "check_source", "number_text"]


class _Model(BaseModel):
    # Typos in YAML keys must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _not_a_yaml_bool(value: Any) -> Any:
    # YAML 1.1 reads unquoted yes/no/on/off/true/false as booleans: `equals: NO` (Norway) would
    # silently compare with False. Refuse, so the fix (quoting) is one step away.
    if isinstance(value, bool):
        raise ValueError(
            f"{value} is a YAML boolean (unquoted yes/no/on/off/true/false); quote the text,"
            ' e.g. "NO" or "yes"'
        )
    if isinstance(value, date):
        return value.isoformat()
    return value


def number_text(value: str | int | float) -> str:
    """The text a number is written as in a source file: 123 for 123 and 123.0, 12.5 for 12.5."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class RowRule(_Model):
    """A structured row rule: one condition on one canonical column, and what to do on a match.

    Exactly one of ``equals``, ``in``, ``starts_with``, ``is_null`` is given. Rules test the
    source text (trimmed, before typing): a number in ``equals``/``in`` matches the same number
    however it is written (``123``, ``123.0``), a text matches that exact text, ``is_null``
    matches an empty field (or one of the table's ``null_values``).
    ``action: exclude`` rejects the row with reason ``excluded``; ``action: credit_note`` marks it
    as a credit note (netted or rejected as ``analysis.credit_notes`` says).
    """

    name: str = Field(min_length=1, description="Shown in rejects and the manifest.")
    column: str
    equals: str | int | float | None = None
    in_: list[str | int | float] | None = Field(default=None, alias="in")
    starts_with: str | None = None
    is_null: bool | None = None
    action: Literal["exclude", "credit_note"]

    @field_validator("equals", "starts_with", mode="before")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        return _not_a_yaml_bool(value)

    @field_validator("in_", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [_not_a_yaml_bool(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _one_condition(self) -> RowRule:
        given = [
            k
            for k, v in (
                ("equals", self.equals),
                ("in", self.in_),
                ("starts_with", self.starts_with),
                ("is_null", self.is_null),
            )
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError(
                f"rule {self.name!r} must have exactly one condition of equals, in, starts_with,"
                f" is_null; found {given or 'none'}"
            )
        return self

    @property
    def values(self) -> list[str | int | float]:
        """The values ``equals`` or ``in`` compares with (empty for starts_with / is_null)."""
        if self.in_ is not None:
            return list(self.in_)
        return [] if self.equals is None else [self.equals]


class DerivedColumn(_Model):
    """A canonical column computed per row instead of read from one source column.

    Exactly one of: ``value`` (the same text on every row, typed like a source value),
    ``divide: [a, b]`` (a / b), ``multiply: [a, b, ...]`` (a x b x ...), ``concat: [a, b, ...]``
    (texts joined by ``sep``). Operands are source column names, or numbers for divide and
    multiply. A row with an empty operand has an empty result; dividing by 0 rejects the row
    (``bad_value``).
    """

    value: str | int | float | None = None
    divide: list[str | float] | None = Field(default=None, min_length=2, max_length=2)
    multiply: list[str | float] | None = Field(default=None, min_length=2)
    concat: list[str] | None = Field(default=None, min_length=1)
    sep: str = Field(default="", description="Text between the parts of a concat.")

    @field_validator("value", mode="before")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        return _not_a_yaml_bool(value)

    @model_validator(mode="after")
    def _one_kind(self) -> DerivedColumn:
        kinds = ("value", "divide", "multiply", "concat")
        given = [k for k in kinds if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a derived column needs exactly one of value, divide, multiply, concat;"
                f" found {given or 'none'}"
            )
        if self.sep and self.concat is None:
            raise ValueError("sep only applies to concat")
        return self

    @property
    def kind(self) -> Literal["value", "divide", "multiply", "concat"]:
        """Which of value, divide, multiply, concat this column is."""
        if self.value is not None:
            return "value"
        if self.divide is not None:
            return "divide"
        return "multiply" if self.multiply is not None else "concat"

    @property
    def operands(self) -> list[str | float]:
        """The operands of divide, multiply or concat (empty for value)."""
        return list(self.divide or self.multiply or self.concat or [])

    @property
    def source_columns(self) -> list[str]:
        """The source columns the result is computed from."""
        return [o for o in self.operands if isinstance(o, str)]

    @property
    def text(self) -> str | None:
        """The constant's text (``value`` only)."""
        return None if self.value is None else number_text(self.value)


MAPPING_TAGS = ("<derived>", "<column>")


def _mapped_kind(value: Any) -> str:
    return MAPPING_TAGS[0] if isinstance(value, (dict, DerivedColumn)) else MAPPING_TAGS[1]


# A source column name or a derived column; the tag picks the branch, so that a mistake in a
# derived column is reported as such (not as "should be a valid string").
_Mapped = Annotated[
    Annotated[str, Tag(MAPPING_TAGS[1])] | Annotated[DerivedColumn, Tag(MAPPING_TAGS[0])],
    Discriminator(_mapped_kind),
]


_CSV_ONLY = ("delimiter", "encoding", "decimal", "thousands")
_THOUSANDS = (",", ".", " ", "'", "_", "\u00a0", "\u202f")


class Source(_Model):
    """Where one canonical table comes from, how to read it and how its columns map."""

    path: Path
    format: Literal["csv", "parquet", "xlsx"] | None = Field(
        default=None, description="Inferred from the file extension when omitted."
    )
    columns: dict[str, _Mapped] = Field(
        default_factory=dict,
        description="canonical name -> source column (or a derived column); unmapped canonical"
        " columns are taken from a source column of the same name when present.",
    )
    sheet: str | None = Field(
        default=None, description="Excel sheet name (first sheet if omitted)."
    )
    delimiter: str | None = Field(
        default=None,
        min_length=1,
        max_length=1,
        description="CSV field separator; default a tab for .tsv files, else a comma.",
    )
    encoding: str = Field(
        default="utf-8",
        description="CSV text encoding (utf-8 with or without BOM by default; cp1252, latin-1,"
        " utf-16 for other exports).",
    )
    decimal: Literal[".", ","] = Field(
        default=".", description="CSV decimal mark of numbers: '.' or ','."
    )
    thousands: str | None = Field(
        default=None,
        description="CSV thousands separator inside numbers (removed before parsing);"
        " default none, so 1,234 is not a number.",
    )
    date_format: str | None = Field(
        default=None,
        description="strftime format of text dates, e.g. %d/%m/%Y; ISO dates parse too."
        " Default: ISO dates only.",
    )
    null_values: list[str] = Field(
        default_factory=list,
        description="Texts read as missing besides an empty field, e.g. [NA, NULL, '-'];"
        " default none (NA is Namibia).",
    )
    rules: list[RowRule] = Field(default_factory=list)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"unknown encoding {value!r}; use e.g. utf-8, cp1252, latin-1 or utf-16"
            ) from None
        return value

    @field_validator("thousands")
    @classmethod
    def _separator(cls, value: str | None) -> str | None:
        if value is not None and value not in _THOUSANDS:
            raise ValueError(f"thousands separator {value!r} not allowed; allowed: {_THOUSANDS}")
        return value

    @field_validator("date_format")
    @classmethod
    def _round_trips(cls, value: str | None) -> str | None:
        if value is None:
            return value
        sample = datetime(2025, 1, 31, 13, 45, 30)
        try:
            back = datetime.strptime(sample.strftime(value), value)
        except ValueError:
            back = None
        if back is None or "%" not in value or back.date() != sample.date():
            raise ValueError(
                f"date format {value!r} does not write and read back a date; use strftime"
                " codes, e.g. %d/%m/%Y, %m/%d/%y or %d.%m.%Y %H:%M"
            )
        return value

    @model_validator(mode="after")
    def _settings_fit_the_format(self) -> Source:
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(
                f".thousands: {self.thousands!r} is also the decimal mark; they must differ"
            )
        try:
            fmt = self.file_format
        except ConfigError:
            return self  # reported when the table is read, with the fix
        if fmt != "csv":
            default = Source(path=self.path, format="csv")
            given = [k for k in _CSV_ONLY if getattr(self, k) != getattr(default, k)]
            if given:
                raise ValueError(
                    f".{given[0]}: applies to CSV files only, and {self.path.name} is {fmt};"
                    f" remove it"
                )
        return self

    @property
    def file_format(self) -> Literal["csv", "parquet", "xlsx"]:
        """The declared format, else the one the extension names (``.csv.gz`` is csv)."""
        if self.format is not None:
            return self.format
        ext = self._extension
        if ext in ("csv", "txt", "tsv"):
            return "csv"
        if ext in ("parquet", "pq"):
            return "parquet"
        if ext in ("xlsx", "xlsm", "xls"):
            return "xlsx"
        raise ConfigError(
            f"{self.path}: cannot tell the format from the extension {self.path.suffix!r};"
            " fix: add `format: csv | parquet | xlsx` to this data source"
        )

    @property
    def _extension(self) -> str:
        suffixes = [s.lower() for s in self.path.suffixes]
        if suffixes[-1:] == [".gz"]:
            suffixes.pop()
        return suffixes[-1].lstrip(".") if suffixes else ""

    @property
    def separator(self) -> str:
        """The CSV field separator in effect: ``delimiter``, else a tab for .tsv, else a comma."""
        if self.delimiter is not None:
            return self.delimiter
        return "\t" if self._extension == "tsv" else ","

    @property
    def derived(self) -> dict[str, DerivedColumn]:
        """The canonical columns computed per row (value, divide, multiply, concat)."""
        return {k: v for k, v in self.columns.items() if isinstance(v, DerivedColumn)}

    @property
    def mapped(self) -> dict[str, str]:
        """The canonical columns mapped to one source column each."""
        return {k: v for k, v in self.columns.items() if isinstance(v, str)}


def check_source(table: str, src: Source) -> None:
    """Column names, derived columns and rules of ``data.<table>`` against the contract."""
    spec = TABLES[table]
    bad = sorted(set(src.columns) - set(spec.names))
    if bad:
        raise ValueError(
            f".{table}.columns.{bad[0]}: unknown canonical column; allowed: {list(spec.names)}"
        )
    for name, derived in src.derived.items():
        dtype = spec.column(name).dtype
        if derived.kind in ("divide", "multiply") and dtype not in ("float", "int"):
            raise ValueError(
                f".{table}.columns.{name}: {derived.kind} gives a number, but {name} is a"
                f" {dtype}; fix: use value or concat"
            )
    for rule in src.rules:
        if rule.column not in spec.names:
            raise ValueError(
                f".{table}.rules: rule {rule.name!r} names unknown column {rule.column!r};"
                f" allowed: {list(spec.names)}"
            )
        computed = src.derived.get(rule.column)
        if computed is not None and computed.kind in ("divide", "multiply"):
            raise ValueError(
                f".{table}.rules: rule {rule.name!r} tests {rule.column!r}, which is computed"
                f" ({computed.kind}) and has no source text; fix: test another column"
            )
