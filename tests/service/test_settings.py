"""Settings from SUPPLYSEG_* variables."""

from __future__ import annotations

import pytest

from supplyseg.errors import ConfigError
from supplyseg.service.settings import Settings


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.db_url == "sqlite:///supplyseg-service.db"
    assert (s.is_sqlite, s.pool_size, s.sqlite_synchronous) == (True, 1, "NORMAL")
    assert s.max_body_bytes == 1_048_576


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
    assert Settings.from_env({"SUPPLYSEG_DB_POOL_SIZE": "3"}).pool_size == 3


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SUPPLYSEG_MAX_BODY_BYTES": "lots"}, "SUPPLYSEG_MAX_BODY_BYTES='lots'"),
        ({"SUPPLYSEG_DB_POOL_SIZE": "0"}, "SUPPLYSEG_DB_POOL_SIZE='0'"),
        ({"SUPPLYSEG_SQLITE_SYNCHRONOUS": "OFF"}, "SUPPLYSEG_SQLITE_SYNCHRONOUS='OFF'"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(env)
