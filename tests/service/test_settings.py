"""Settings from SUPPLYSEG_* variables (pydantic-settings)."""

from __future__ import annotations

import pytest

from supplyseg.errors import ConfigError, ServiceError
from supplyseg.service.schemas import MAX_QUANTITY, MAX_UNIT_PRICE
from supplyseg.service.settings import Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"SUPPLYSEG_{name.upper()}", raising=False)


def test_the_database_has_no_default() -> None:
    with pytest.raises(ServiceError, match="SUPPLYSEG_DB_URL is not set; fix: set it"):
        Settings.from_env()
    with pytest.raises(ValueError, match="db_url"):
        Settings()  # type: ignore[call-arg]


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPLYSEG_DB_URL", "sqlite:///x.db")
    s = Settings.from_env()
    assert s.db_url == "sqlite:///x.db"
    assert (s.is_sqlite, s.pool_size, s.sqlite_synchronous) == (True, 1, "FULL")
    assert s.max_body_bytes == 1_048_576
    assert (s.max_quantity, s.max_unit_price) == (MAX_QUANTITY, MAX_UNIT_PRICE) == (1e9, 1e9)


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SUPPLYSEG_DB_URL": "postgresql+psycopg://u@h/db",
        "SUPPLYSEG_MAX_BODY_BYTES": "2048",
        "SUPPLYSEG_MIGRATE_ON_START": "false",
        "supplyseg_api_key_cache_s": "0",  # names are matched in any case
        "SUPPLYSEG_TEST_PG_URL": "ignored: not a setting",
        "OTHER": "ignored",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = Settings.from_env(max_batch_orders=7)
    assert (s.is_sqlite, s.pool_size, s.max_body_bytes) == (False, 5, 2048)
    assert (s.migrate_on_start, s.api_key_cache_s, s.max_batch_orders) == (False, 0.0, 7)
    assert Settings.from_env(db_url=None).db_url == env["SUPPLYSEG_DB_URL"]  # None: not given
    monkeypatch.setenv("SUPPLYSEG_DB_POOL_SIZE", "3")
    assert Settings.from_env(db_url="sqlite:///x.db").pool_size == 3


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SUPPLYSEG_MAX_BODY_BYTES": "lots"}, "SUPPLYSEG_MAX_BODY_BYTES (value 'lots')"),
        ({"SUPPLYSEG_DB_POOL_SIZE": "0"}, "SUPPLYSEG_DB_POOL_SIZE (value '0')"),
        (
            {"SUPPLYSEG_SQLITE_SYNCHRONOUS": "FUL"},
            "SUPPLYSEG_SQLITE_SYNCHRONOUS (value 'FUL'): Input should be 'FULL' or 'NORMAL'"
            " (did you mean 'FULL'?); fix: correct the environment variable",
        ),
        ({"SUPPLYSEG_MAX_QUANTITY": "0"}, "SUPPLYSEG_MAX_QUANTITY (value '0')"),
        ({"SUPPLYSEG_MAX_UNIT_PRICE": "1e16"}, "SUPPLYSEG_MAX_UNIT_PRICE (value '1e16')"),
        ({"SUPPLYSEG_MAX_QUANTITY": "inf"}, "SUPPLYSEG_MAX_QUANTITY (value 'inf')"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], needle: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        Settings.from_env(db_url="sqlite:///x.db")
    assert needle in str(info.value)


def test_every_bad_variable_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPLYSEG_MAX_BODY_BYTES", "0")
    monkeypatch.setenv("SUPPLYSEG_DB_POOL_TIMEOUT_S", "soon")
    with pytest.raises(ConfigError) as info:
        Settings.from_env(db_url="sqlite:///x.db")
    lines = str(info.value).splitlines()
    assert lines[0] == "service settings: 2 errors"
    assert lines[1].startswith("  - SUPPLYSEG_MAX_BODY_BYTES (value '0'):")
    assert lines[2].startswith("  - SUPPLYSEG_DB_POOL_TIMEOUT_S (value 'soon'):")
