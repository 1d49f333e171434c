"""Alembic environment of the service database.

Run through `supplyseg.service.db.migrate`, which hands over an open connection in
``config.attributes["connection"]``. For ``alembic revision --autogenerate`` during development,
set ``sqlalchemy.url`` (``-x`` is not needed): ``alembic -c <ini with script_location> ...``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from supplyseg.service.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run the migrations on the given connection, or on one opened from ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates tables in later revisions.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
