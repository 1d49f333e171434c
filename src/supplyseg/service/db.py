"""Engine, sessions and schema migrations of the service database (SQLite file or PostgreSQL).

SQLite is set up for a concurrent web service: WAL journal (readers never block the writer),
a busy timeout for writers in other processes, foreign keys on, and every transaction started
with ``BEGIN IMMEDIATE`` so a transaction that reads and then writes cannot fail half-way on a
lock upgrade. Within one process the pool holds one connection, so requests queue fairly in the
pool rather than sleeping in SQLite's busy handler.

The schema is managed by Alembic (scripts in ``service/migrations``); `migrate` upgrades to the
newest revision and is called by ``publish`` and ``serve`` so a new or old database file just works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from supplyseg.errors import ServiceError
from supplyseg.service.settings import Settings

__all__ = [
    "MIGRATIONS_DIR",
    "READ_POOL_SIZE",
    "alembic_config",
    "engine_for",
    "migrate",
    "session_factory",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Read-only SQLite connections per process (reads run in the thread pool, in parallel).
READ_POOL_SIZE = 4
# Any constant; taken while migrating on PostgreSQL so two processes never migrate at once.
_PG_MIGRATION_LOCK = 7_240_911


def engine_for(settings: Settings, *, read_only: bool = False) -> Engine:
    """A SQLAlchemy engine for ``settings.db_url`` with the SQLite pragmas described above.

    ``read_only`` (SQLite): connections that only read, start plain (deferred) transactions and
    refuse writes (``query_only``). In WAL mode they read the last committed state while a
    writer holds the write lock, so reads never wait for a long write (a batch); there are
    ``READ_POOL_SIZE`` of them.
    """
    kwargs: dict[str, Any] = {
        "pool_size": READ_POOL_SIZE if read_only and settings.is_sqlite else settings.pool_size,
        "max_overflow": 0,
        "pool_timeout": settings.db_pool_timeout_s,
        "pool_pre_ping": not settings.is_sqlite,
    }
    if settings.is_sqlite:
        if settings.db_url.rstrip("/") in ("sqlite:", "sqlite:///:memory:") or ":memory:" in (
            settings.db_url
        ):
            raise ServiceError(
                f"db_url {settings.db_url!r}: an in-memory SQLite database cannot be shared by"
                " the service's threads; fix: use a file, e.g. sqlite:///service.db"
            )
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        }
    try:
        engine = create_engine(settings.db_url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise ServiceError(
            f"db_url {settings.db_url!r}: {exc}; fix: use sqlite:///path.db or"
            " postgresql+psycopg://user:password@host/dbname (pip install 'psycopg[binary]')"
        ) from None
    if settings.is_sqlite:
        _sqlite_setup(engine, settings, read_only)
    return engine


def _sqlite_setup(engine: Engine, settings: Settings, read_only: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN IMMEDIATE below is ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(settings.sqlite_busy_timeout_ms)}")
        if read_only:
            cur.execute("PRAGMA query_only = ON")  # WAL is a property of the file, set by writers
        else:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute(f"PRAGMA synchronous = {settings.sqlite_synchronous}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit (responses use them)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """The Alembic configuration of the service's migration scripts (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database schema to ``revision`` (idempotent; safe with concurrent callers)."""
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        raise ServiceError(
            f"database {engine.url.render_as_string(hide_password=True)} cannot be migrated:"
            f" {exc.orig}; fix: check the URL, that the server runs and the file is writable"
        ) from None
