"""The analytics engine: an Ibis backend, in-process DuckDB unless a URL names another."""

from __future__ import annotations

from typing import Any

import ibis
from ibis.backends import BaseBackend

from supplyseg.errors import ConfigError

__all__ = ["connect"]


def connect(url: str | None = None, **kwargs: Any) -> BaseBackend:
    """Connect to an Ibis backend; ``None`` is a fresh in-memory DuckDB.

    ``url`` is any Ibis connection URL, e.g. ``duckdb:///work/supply.ddb``.
    """
    if url is None or url in ("duckdb", "duckdb://", "memory"):
        return ibis.duckdb.connect(**kwargs)
    try:
        return ibis.connect(url, **kwargs)
    except ImportError as exc:
        raise ConfigError(
            f"engine url {url!r}: the backend's driver is not installed ({exc});"
            " fix: install the matching extra, e.g. pip install 'ibis-framework[duckdb]'"
        ) from None
    except Exception as exc:  # backends raise many different types for a bad URL
        raise ConfigError(
            f"engine url {url!r}: cannot connect ({type(exc).__name__}: {exc});"
            " fix: use an Ibis URL such as duckdb:///path/file.ddb or omit it for in-memory DuckDB"
        ) from None
