"""The ``cost_to_serve:`` section of supplyseg.yaml: activity cost pools, each a driver × rate.

A pool names a **driver** (what is counted or summed per customer) and a **rate** (currency per
driver unit). Built-in drivers:

==================  ===========================================================  ==============
driver              driver quantity per customer                                 rate unit
==================  ===========================================================  ==============
orders              orders with at least one non-credit line; ``rate_by_channel``  per order
                    prices EDI/web/phone orders differently (``rate`` = others)
order_lines         non-credit order lines (picking per line)                    per line
units               units on non-credit lines (picking per unit)                 per unit
shipments           rows of ``shipments`` (packing per shipment)                 per shipment
freight             actual ``shipments.freight_cost`` allocated to lines by       per kg or per
                    weight, else by value; without shipments an estimate          currency unit
                    ``rate`` × line weight or value (``basis``)                   of value
rush_lines          non-credit lines with ``rush`` true                          per rush line
returned_lines      rows of ``returns`` (handling) plus the lost value           per returned
                    (returned quantity × unit cost or price × ``lost_value_share``) line
receivable_days     Σ invoice amount × days outstanding (paid date or as-of −     annual capital
                    invoice date); without invoices, revenue × payment terms      rate (÷ 365)
customer_years      years in the analysed horizon, for customers matching         per customer
                    ``where`` on the customers table (all customers if omitted)   per year
==================  ===========================================================  ==============

Any other driver is a structured count or sum over one canonical column, e.g.
``driver: {table: order_lines, column: order_id, agg: count_distinct, where: {channel: EDI}}``
(no expressions from text). Validation errors name the YAML path, the value and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from supplyseg.config.messages import validation_message
from supplyseg.contract import TABLES
from supplyseg.errors import ConfigError

__all__ = [
    "BUILTIN_DRIVERS",
    "CUSTOMER_TABLES",
    "DETAIL_LEVELS",
    "FIXED_COLUMNS",
    "CostPool",
    "CostToServeSettings",
    "CustomDriver",
    "DetailLevel",
    "DriverName",
    "WhereValue",
    "cost_to_serve_settings",
    "cts_assumptions",
]

DriverName = Literal[
    "orders",
    "order_lines",
    "units",
    "shipments",
    "freight",
    "rush_lines",
    "returned_lines",
    "receivable_days",
    "customer_years",
]
BUILTIN_DRIVERS: tuple[str, ...] = get_args(DriverName)
DetailLevel = Literal["order", "customer_product"]
DETAIL_LEVELS: tuple[DetailLevel, ...] = get_args(DetailLevel)

# Tables whose rows can be attributed to one customer: directly by customer_id or via order_id.
CUSTOMER_TABLES: tuple[str, ...] = ("order_lines", "customers", "invoices", "shipments", "returns")

# Columns of the customer table that a pool name must not shadow.
FIXED_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "product_id",
    "order_id",
    "order_date",
    "revenue",
    "cogs",
    "gross_margin",
    "cts_total",
    "net_profit",
    "cts_pct_revenue",
    "net_margin_pct",
    "profit_rank",
    "cum_profit_share",
)

Scalar = str | bool | int | float | dt.date
WhereValue = Scalar | list[Scalar]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DTYPE_OK: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "float": (int, float),
    "int": (int,),
    "bool": (bool,),
    "date": (dt.date,),
}


class _Model(BaseModel):
    # Typos in YAML keys must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _columns(table: str) -> dict[str, str]:
    """Column name -> type of a canonical table as analytics see it (the loader adds flags)."""
    extra = {"is_credit_note": "bool"} if table == "order_lines" else {}
    return {c.name: c.dtype for c in TABLES[table].columns} | extra


def _check_where(table: str, where: Mapping[str, WhereValue]) -> None:
    """Raise ValueError (".where.<col>: ...") if a condition names an unknown column or bad type."""
    cols = _columns(table)
    for col, value in where.items():
        if col not in cols:
            raise ValueError(
                f".where.{col}: unknown column {col!r} of table {table}; allowed: {list(cols)}"
            )
        for v in value if isinstance(value, list) else [value]:
            # bool is an int subclass; a flag is never a valid number and vice versa.
            bad_bool = isinstance(v, bool) != (cols[col] == "bool")
            if not isinstance(v, _DTYPE_OK[cols[col]]) or bad_bool:
                raise ValueError(
                    f".where.{col}: value {v!r} does not fit column {table}.{col} of type"
                    f" {cols[col]}"
                )


class CustomDriver(_Model):
    """A user-defined driver: ``agg`` of ``table.column`` over the rows matching ``where``.

    ``where`` is a mapping column -> value (or list of values), all conditions AND-ed.
    ``count`` counts non-null values, ``count_distinct`` distinct non-null values, ``sum`` adds a
    numeric column. Rows are attributed to customers by ``customer_id`` or via ``order_id``.
    """

    table: str
    column: str
    agg: Literal["count", "sum", "count_distinct"]
    where: dict[str, WhereValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> CustomDriver:
        if self.table not in TABLES:
            raise ValueError(
                f".table: unknown table {self.table!r}; allowed: {list(CUSTOMER_TABLES)}"
            )
        if self.table not in CUSTOMER_TABLES:
            raise ValueError(
                f".table: rows of table {self.table!r} cannot be attributed to a customer;"
                f" allowed: {list(CUSTOMER_TABLES)}"
            )
        cols = _columns(self.table)
        if self.column not in cols:
            raise ValueError(
                f".column: unknown column {self.column!r} of table {self.table};"
                f" allowed: {list(cols)}"
            )
        if self.agg == "sum" and cols[self.column] not in ("float", "int"):
            numeric = [c for c, t in cols.items() if t in ("float", "int")]
            raise ValueError(
                f".agg: sum needs a numeric column, {self.table}.{self.column} is"
                f" {cols[self.column]}; numeric columns: {numeric}"
                " (or use agg count / count_distinct)"
            )
        _check_where(self.table, self.where)
        return self

    @property
    def label(self) -> str:
        """A short readable form for the breakdown's ``driver`` column."""
        cond = ",".join(f"{k}={v}" for k, v in self.where.items())
        return f"{self.agg}({self.table}.{self.column}{'|' + cond if cond else ''})"


# Pool fields that only make sense for one driver; setting them elsewhere is an error.
_ONLY_FOR: dict[str, str] = {
    "rate_by_channel": "orders",
    "basis": "freight",
    "lost_value_share": "returned_lines",
    "lost_value_basis": "returned_lines",
    "terms_days": "receivable_days",
    "where": "customer_years",
    "years": "customer_years",
}


class CostPool(_Model):
    """One activity cost pool: ``cost = driver quantity × rate`` per customer (see module doc)."""

    name: str = Field(description="Column name in the outputs: lower-case letters, digits, _.")
    driver: DriverName | CustomDriver
    rate: float | None = Field(
        default=None,
        ge=0,
        description="Currency per driver unit; for receivable_days the annual capital rate"
        " (0.08 = 8 %); for freight the estimate rate used only without shipments.",
    )
    rate_by_channel: dict[str, float] = Field(
        default_factory=dict,
        description="orders: rate per order channel (matched case-insensitively); other"
        " channels and orders without a channel get ``rate``.",
    )
    basis: Literal["weight", "value"] = Field(
        default="value",
        description="freight estimate without shipments: rate per kg (weight = quantity ×"
        " products.unit_weight) or per currency unit of line value.",
    )
    lost_value_share: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="returned_lines: share of the returned goods' value lost (1 = written off).",
    )
    lost_value_basis: Literal["cost", "price"] = Field(
        default="cost", description="returned_lines: value returned goods at unit cost or price."
    )
    terms_days: float = Field(
        default=30.0,
        ge=0,
        description="receivable_days without invoices: payment terms when"
        " customers.payment_terms_days is absent or empty.",
    )
    where: dict[str, WhereValue] = Field(
        default_factory=dict,
        description="customer_years: only customers matching these customers-table columns.",
    )
    years: float | None = Field(
        default=None,
        gt=0,
        description="customer_years: length of the horizon; default first to last order date.",
    )

    @field_validator("name")
    @classmethod
    def _name_ok(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(
                f"pool name {name!r} is not allowed; use lower-case letters, digits and _,"
                " starting with a letter (it becomes a column name)"
            )
        if name in FIXED_COLUMNS:
            raise ValueError(
                f"pool name {name!r} clashes with an output column; reserved: {list(FIXED_COLUMNS)}"
            )
        return name

    @field_validator("driver", mode="before")
    @classmethod
    def _driver_ok(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in BUILTIN_DRIVERS:
                raise ValueError(
                    f"unknown driver {value!r}; allowed: {list(BUILTIN_DRIVERS)} or a mapping"
                    " {table, column, agg: count|sum|count_distinct, where}"
                )
            return value
        if isinstance(value, Mapping):
            try:
                return CustomDriver.model_validate(value)
            except ValidationError as exc:
                # Re-raise with the deeper path first so the error names e.g. driver.column.
                err = exc.errors()[0]
                msg = err["msg"].removeprefix("Value error, ")
                sub = "".join(f".{p}" for p in err["loc"])
                if not msg.startswith("."):
                    shown = "" if isinstance(err["input"], dict) else f" (value {err['input']!r})"
                    msg = f"{sub}: {msg}{shown}" if sub else msg
                raise ValueError(msg) from None
        raise ValueError(
            f"driver must be one of {list(BUILTIN_DRIVERS)} or a mapping"
            f" {{table, column, agg, where}}; found {type(value).__name__}"
        )

    @field_validator("rate_by_channel")
    @classmethod
    def _channels_ok(cls, rates: dict[str, float]) -> dict[str, float]:
        seen: dict[str, str] = {}
        for key, rate in rates.items():
            if rate < 0:
                raise ValueError(f".{key}: rate {rate!r} is negative; rates must be >= 0")
            if key.lower() in seen:
                raise ValueError(
                    f".{key}: channel {key!r} repeats {seen[key.lower()]!r} (channels are"
                    " matched case-insensitively); keep one"
                )
            seen[key.lower()] = key
        return rates

    @model_validator(mode="after")
    def _fits_driver(self) -> CostPool:
        driver = self.driver if isinstance(self.driver, str) else "custom"
        for field in sorted(self.model_fields_set & set(_ONLY_FOR)):
            # A default value (e.g. from a model_dump) is harmless; a chosen one is a mistake.
            default = type(self).model_fields[field].get_default(call_default_factory=True)
            if _ONLY_FOR[field] != driver and getattr(self, field) != default:
                raise ValueError(
                    f".{field}: {field} = {getattr(self, field)!r} only applies to driver"
                    f" {_ONLY_FOR[field]}; this pool's driver is {driver}"
                )
        if self.rate is None and driver != "freight":
            raise ValueError(f".rate: required for driver {driver}; give a rate >= 0")
        if self.where:
            _check_where("customers", self.where)
        return self

    @property
    def driver_name(self) -> str:
        """The built-in driver name, or ``custom``."""
        return self.driver if isinstance(self.driver, str) else "custom"


def _default_pools() -> list[CostPool]:
    # Order-of-magnitude rates for a European B2B distributor; replace with your own.
    return [
        CostPool(
            name="order_handling",
            driver="orders",
            rate=12.0,
            rate_by_channel={"edi": 2.0, "web": 4.0},
        ),
        CostPool(name="picking_lines", driver="order_lines", rate=1.2),
        CostPool(name="picking_units", driver="units", rate=0.05),
        CostPool(name="packing", driver="shipments", rate=4.0),
        CostPool(name="freight", driver="freight", rate=0.04, basis="value"),
        CostPool(name="rush", driver="rush_lines", rate=25.0),
        CostPool(name="returns", driver="returned_lines", rate=15.0),
        CostPool(name="credit", driver="receivable_days", rate=0.08),
        CostPool(name="account_service", driver="customer_years", rate=50.0),
    ]


class CostToServeSettings(_Model):
    """The ``cost_to_serve:`` section: the list of cost pools (defaults: typical B2B pools).

    The built-in pools' rates are order-of-magnitude assumptions for a European B2B distributor,
    not facts about any business: `cts_assumptions` lists which rates are built-in, and a run
    warns when cost-to-serve exceeds revenue for more than ``warn_share_above_revenue`` of the
    customers.
    """

    pools: list[CostPool] = Field(default_factory=_default_pools)
    warn_share_above_revenue: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Warn when cost-to-serve exceeds revenue for more than this share of the"
        " customers (a sign the rates do not fit the business).",
    )
    details: tuple[DetailLevel, ...] = Field(
        default=DETAIL_LEVELS,
        description="The detail tables a run writes: cost_to_serve_order and"
        " cost_to_serve_customer_product. Read by no later step; at 100M order lines the"
        " customer × product one has ~90M rows and takes minutes, so leave it out when no one"
        " reads it.",
    )

    @model_validator(mode="after")
    def _unique(self) -> CostToServeSettings:
        if len(set(self.details)) != len(self.details):
            raise ValueError(f".details: repeated level in {list(self.details)}")
        first: dict[str, int] = {}
        for i, pool in enumerate(self.pools):
            if pool.name in first:
                raise ValueError(
                    f".pools.{i}.name: duplicate pool name {pool.name!r} (also"
                    f" pools.{first[pool.name]}); names must be unique"
                )
            first[pool.name] = i
        return self


def cost_to_serve_settings(
    raw: Mapping[str, Any] | None, *, origin: str = "supplyseg.yaml"
) -> CostToServeSettings:
    """Validate the parsed ``cost_to_serve:`` mapping; errors are `ConfigError`s naming the path.

    The message reads ``<origin>: cost_to_serve.<path> (value <v>): <what is allowed>``.
    """
    if raw is None:
        return CostToServeSettings()
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{origin}: cost_to_serve: expected a mapping with `pools:`, found {type(raw).__name__}"
        )
    try:
        return CostToServeSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            validation_message(
                exc, raw, origin=origin, model=CostToServeSettings, prefix="cost_to_serve"
            )
        ) from None


# Per driver, the pool fields besides ``rate`` whose values are assumptions.
_POOL_ASSUMPTIONS: dict[str, tuple[str, ...]] = {
    "orders": ("rate_by_channel",),
    "freight": ("basis",),
    "returned_lines": ("lost_value_share", "lost_value_basis"),
    "receivable_days": ("terms_days",),
    "customer_years": ("years",),
}


def cts_assumptions(
    settings: CostToServeSettings, *, origin: str = "supplyseg.yaml"
) -> list[dict[str, Any]]:
    """The cost-to-serve rates and settings that are assumptions, with where each came from.

    One dict per setting: ``setting`` (e.g. ``cost_to_serve.pools.order_handling.rate``),
    ``value`` and ``source``: ``origin`` when the user set it in the YAML, else
    ``"built-in default"`` (pydantic's ``model_fields_set``; every pool is built-in when
    ``pools`` is not given). For the run manifest's ``assumptions`` list.
    """
    user_pools = "pools" in settings.model_fields_set
    out: list[dict[str, Any]] = []
    for pool in settings.pools:
        fields = ("rate", *_POOL_ASSUMPTIONS.get(pool.driver_name, ()))
        for name in fields:
            given = user_pools and name in pool.model_fields_set
            out.append(
                {
                    "setting": f"cost_to_serve.pools.{pool.name}.{name}",
                    "value": getattr(pool, name),
                    "source": origin if given else "built-in default",
                }
            )
    given = "warn_share_above_revenue" in settings.model_fields_set
    out.append(
        {
            "setting": "cost_to_serve.warn_share_above_revenue",
            "value": settings.warn_share_above_revenue,
            "source": origin if given else "built-in default",
        }
    )
    return out
