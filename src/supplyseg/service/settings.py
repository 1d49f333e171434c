"""Service settings, read from ``SUPPLYSEG_*`` environment variables into one `Settings` model.

A pydantic-settings model: each field reads ``SUPPLYSEG_<FIELD>`` (any case); keyword
arguments win over the environment. `Settings.from_env` turns a bad value into a `ConfigError`
naming the variable and the value.

The database has no default: the service never creates a file wherever it happens to be
imported or started. ``SUPPLYSEG_DB_URL`` (or ``db_url=``) must name one, else `from_env` raises
`ServiceError` saying so. The CLI's ``--db`` reads the same variable; without either,
``publish`` writes ``service.db`` in the workspace folder and ``serve``/``keys`` stop with a
one-line error.

======================================  =============================================  ==========
variable                                meaning                                        default
======================================  =============================================  ==========
``SUPPLYSEG_DB_URL``                    SQLAlchemy URL (``sqlite:///file.db``,          required
                                        ``postgresql+psycopg://user:pw@host/db``)
``SUPPLYSEG_MAX_BODY_BYTES``            request bodies larger than this get 413        1 MiB
``SUPPLYSEG_MAX_BATCH_ORDERS``          orders per batch/CSV request                   1000
``SUPPLYSEG_DB_POOL_SIZE``              connections per process (SQLite: 1, so          1 / 5
                                        writers queue in the pool instead of
                                        sleeping in SQLite's busy handler)
``SUPPLYSEG_DB_POOL_TIMEOUT_S``         wait for a connection before 503               30
``SUPPLYSEG_SQLITE_BUSY_TIMEOUT_MS``    wait for another process's write lock          10000
``SUPPLYSEG_SQLITE_SYNCHRONOUS``        ``FULL``: a commit survives power loss;        FULL
                                        ``NORMAL``: only a process crash
``SUPPLYSEG_API_KEY_CACHE_S``           seconds a valid key is trusted without a       5
                                        database read (revocation delay for other
                                        processes; 0 = always read)
``SUPPLYSEG_MIGRATE_ON_START``          upgrade the schema when the app starts         true
``SUPPLYSEG_MAX_QUANTITY``              largest quantity of an order line (422         1e9
                                        above; at most 1e15)
``SUPPLYSEG_MAX_UNIT_PRICE``            largest unit price of an order line (422       1e9
                                        above; at most 1e15)
``SUPPLYSEG_WORKSPACE``                 workspace folder (with supplyseg.yaml) whose   none
                                        runs the workbench shows: approval, KPIs,
                                        alerts, explanations, scenarios
======================================  =============================================  ==========
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from supplyseg.config.messages import validation_message
from supplyseg.errors import ConfigError, ServiceError
from supplyseg.service.schemas import LIMIT_CEILING, MAX_QUANTITY, MAX_UNIT_PRICE

__all__ = ["ENV_PREFIX", "Settings"]

ENV_PREFIX = "SUPPLYSEG_"


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    # Other SUPPLYSEG_* variables (e.g. the tests' SUPPLYSEG_TEST_PG_URL) are not settings and
    # are ignored; a keyword argument the model does not know is an error.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    db_url: str = Field(min_length=1, description="SQLAlchemy URL of the service database.")
    max_body_bytes: int = Field(1_048_576, gt=0, description="Larger request bodies get 413.")
    max_batch_orders: int = Field(1000, gt=0, description="Orders per batch or CSV request.")
    db_pool_size: int | None = Field(
        None, gt=0, description="Connections per process; None: 1 for SQLite, else 5."
    )
    db_pool_timeout_s: float = Field(30.0, gt=0, description="Wait for a connection before 503.")
    sqlite_busy_timeout_ms: int = Field(
        10_000, ge=0, description="Wait for another process's SQLite write lock."
    )
    # FULL: an acknowledged order survives a power cut, not only a crash of the process
    # (bench/service.py: the cost is in README.md).
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="FULL: a commit survives power loss; NORMAL: only a process crash."
    )
    api_key_cache_s: float = Field(
        5.0, ge=0, description="Seconds a valid API key is trusted without a database read."
    )
    migrate_on_start: bool = Field(True, description="Upgrade the schema when the app starts.")
    # Plausibility limits of a line, not business rules: beyond them is a typo or an attack.
    max_quantity: float = Field(
        MAX_QUANTITY, gt=0, le=LIMIT_CEILING, description="Largest quantity of one order line."
    )
    max_unit_price: float = Field(
        MAX_UNIT_PRICE, gt=0, le=LIMIT_CEILING, description="Largest unit price of one line."
    )
    # Optional: without it the API and the order screens work; the workbench's run screens
    # (approval, KPIs, alerts, explanations, scenarios) say what to set instead.
    workspace: Path | None = Field(
        None, description="Workspace folder whose run folders the workbench reads."
    )

    @field_validator("workspace")
    @classmethod
    def _workspace_is_a_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a folder; give the folder holding supplyseg.yaml")
        return value.resolve() if value is not None else None

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite (WAL, busy timeout and one pooled connection apply)."""
        return self.db_url.startswith("sqlite")

    @property
    def pool_size(self) -> int:
        """Connections per process: the configured size, else 1 for SQLite and 5 otherwise."""
        if self.db_pool_size is not None:
            return self.db_pool_size
        return 1 if self.is_sqlite else 5

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``SUPPLYSEG_<FIELD>`` variables; ``overrides`` win over the environment.

        A missing database is a `ServiceError`, a bad value a `ConfigError` naming the variable.
        """
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**given)  # type: ignore[arg-type]
        except ValidationError as exc:
            if any(e["type"] == "missing" and e["loc"] == ("db_url",) for e in exc.errors()):
                raise ServiceError(
                    f"no service database: {ENV_PREFIX}DB_URL is not set; fix: set it (or pass"
                    " db_url=, or --db on the command line) to sqlite:////path/to/service.db or"
                    " postgresql+psycopg://user:pw@host/db"
                ) from None
            inputs = {str(e["loc"][0]): e["input"] for e in exc.errors() if e["loc"]}
            raise ConfigError(
                validation_message(
                    exc,
                    inputs,
                    origin="service settings",
                    model=cls,
                    name=lambda field: f"{ENV_PREFIX}{field.upper()}",
                    fix="correct the environment variable",
                )
            ) from None
