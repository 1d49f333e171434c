"""Settings from SUPPLYSEG_* variables."""

from __future__ import annotations

import pytest

from supplyseg.errors import ConfigError, ServiceError
from supplyseg.service.schemas import MAX_QUANTITY, MAX_UNIT_PRICE
from supplyseg.service.settings import Settings


def test_the_database_has_no_default() -> None:
    with pytest.raises(ServiceError, match="SUPPLYSEG_DB_URL is not set; fix: set it"):
        Settings.from_env({})
    with pytest.raises(ValueError, match="db_url"):
        Settings()  # type: ignore[call-arg]


def test_defaults() -> None:
    s = Settings.from_env({"SUPPLYSEG_DB_URL": "sqlite:///x.db"})
    assert s.db_url == "sqlite:///x.db"
    assert (s.is_sqlite, s.pool_size, s.sqlite_synchronous) == (True, 1, "FULL")
    assert s.max_body_bytes == 1_048_576
    assert (s.max_quantity, s.max_unit_price) == (MAX_QUANTITY, MAX_UNIT_PRICE) == (1e9, 1e9)


def test_environment_and_overrides() -> None:
    env = {
        "SUPPLYSEG_DB_URL": "postgresql+psycopg://u@h/db",
        "SUPPLYSEG_MAX_BODY_BYTES": "2048",
        "SUPPLYSEG_MIGRATE_ON_START": "false",
        "SUPPLYSEG_API_KEY_CACHE_S": "0",
        "OTHER": "ignored",
    }
    s = Settings.from_env(env, max_batch_orders=7)
    assert (s.is_sqlite, s.pool_size, s.max_body_bytes) == (False, 5, 2048)
    assert (s.migrate_on_start, s.api_key_cache_s, s.max_batch_orders) == (False, 0.0, 7)
    pool = {"SUPPLYSEG_DB_POOL_SIZE": "3", "SUPPLYSEG_DB_URL": "sqlite:///x.db"}
    assert Settings.from_env(pool).pool_size == 3


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SUPPLYSEG_MAX_BODY_BYTES": "lots"}, "SUPPLYSEG_MAX_BODY_BYTES='lots'"),
        ({"SUPPLYSEG_DB_POOL_SIZE": "0"}, "SUPPLYSEG_DB_POOL_SIZE='0'"),
        ({"SUPPLYSEG_SQLITE_SYNCHRONOUS": "OFF"}, "SUPPLYSEG_SQLITE_SYNCHRONOUS='OFF'"),
        ({"SUPPLYSEG_MAX_QUANTITY": "0"}, "SUPPLYSEG_MAX_QUANTITY='0'"),
        ({"SUPPLYSEG_MAX_UNIT_PRICE": "1e16"}, "SUPPLYSEG_MAX_UNIT_PRICE='1e16'"),
        ({"SUPPLYSEG_MAX_QUANTITY": "inf"}, "SUPPLYSEG_MAX_QUANTITY='inf'"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(env, db_url="sqlite:///x.db")
