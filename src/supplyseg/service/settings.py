"""Service settings, read from ``SUPPLYSEG_*`` environment variables into one `Settings` model.

pydantic-settings is not a dependency: `Settings.from_env` maps the variables by hand, and
pydantic validates them (a bad value raises `ConfigError` naming the variable).

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
======================================  =============================================  ==========
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from supplyseg.errors import ConfigError, ServiceError
from supplyseg.service.schemas import LIMIT_CEILING, MAX_QUANTITY, MAX_UNIT_PRICE

__all__ = ["ENV_PREFIX", "Settings"]

ENV_PREFIX = "SUPPLYSEG_"


class Settings(BaseModel):
    """Everything the service reads from its environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    db_url: str = Field(min_length=1)
    max_body_bytes: int = Field(1_048_576, gt=0)
    max_batch_orders: int = Field(1000, gt=0)
    db_pool_size: int | None = Field(None, gt=0, description="None: 1 for SQLite, else 5.")
    db_pool_timeout_s: float = Field(30.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0)
    # FULL: an acknowledged order survives a power cut, not only a crash of the process
    # (bench/service.py: the cost is in README.md).
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    api_key_cache_s: float = Field(5.0, ge=0)
    migrate_on_start: bool = True
    # Plausibility limits of a line, not business rules: beyond them is a typo or an attack.
    max_quantity: float = Field(MAX_QUANTITY, gt=0, le=LIMIT_CEILING)
    max_unit_price: float = Field(MAX_UNIT_PRICE, gt=0, le=LIMIT_CEILING)

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
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``SUPPLYSEG_<FIELD>`` variables; ``overrides`` win over the environment."""
        env = os.environ if environ is None else environ
        raw: dict[str, object] = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in env:
                raw[name] = env[key]
        raw.update(overrides)
        if raw.get("db_url") is None:
            raise ServiceError(
                f"no service database: {ENV_PREFIX}DB_URL is not set; fix: set it (or pass"
                " db_url=, or --db on the command line) to sqlite:////path/to/service.db or"
                " postgresql+psycopg://user:pw@host/db"
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = str(err["loc"][0]) if err["loc"] else "?"
            raise ConfigError(
                f"{ENV_PREFIX}{field.upper()}={raw.get(field)!r}: {err['msg']};"
                " fix the environment variable"
            ) from None
