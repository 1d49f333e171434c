"""Workspace config: valid files load; every mistake names the YAML path, the value and a fix."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from supplyseg.config import config_hash, load_workspace, workspace_from_dict
from supplyseg.errors import ConfigError

GOOD: dict[str, Any] = {"data": {"order_lines": {"path": "lines.csv"}}}


def _ws(raw: Any) -> Any:
    return workspace_from_dict(raw, root=Path("/ws"), origin="supplyseg.yaml")


def test_starter_file_loads(tmp_path: Path) -> None:
    (tmp_path / "supplyseg.yaml").write_text(
        files("supplyseg").joinpath("starter.yaml").read_text(encoding="utf-8")
    )
    ws = load_workspace(tmp_path)
    assert ws.data["order_lines"].columns["quantity"] == "Qty"
    assert ws.data["order_lines"].rules[0].action == "credit_note"
    assert ws.analysis.bucket == "week"
    assert ws.source_path("order_lines") == tmp_path.resolve() / "data" / "order_lines.csv"


def test_defaults() -> None:
    ws = _ws(GOOD)
    assert (ws.analysis.bucket, ws.analysis.credit_notes) == ("week", "net")
    assert ws.engine.url is None
    assert ws.out_path == Path("/ws/out")
    assert ws.data["order_lines"].file_format == "csv"


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (
            {"data": {"order_lines": {"path": "x.csv", "columns": {"qty": "Q"}}}},
            "data.order_lines.columns.qty: unknown canonical column",
        ),
        ({**GOOD, "analysis": {"bucket": "year"}}, "analysis.bucket (value 'year')"),
        ({**GOOD, "anlysis": {}}, "anlysis"),
        ({"data": {"customers": {"path": "c.csv"}}}, "order_lines is required"),
        ({"data": {**GOOD["data"], "orders": {"path": "o.csv"}}}, "unknown table(s) ['orders']"),
        (
            {
                "data": {
                    "order_lines": {
                        "path": "x.csv",
                        "rules": [
                            {
                                "name": "two",
                                "column": "order_id",
                                "starts_with": "C",
                                "is_null": True,
                                "action": "exclude",
                            }
                        ],
                    }
                }
            },
            "data.order_lines.rules.0: rule 'two' must have exactly one condition",
        ),
        (
            {
                "data": {
                    "order_lines": {
                        "path": "x.csv",
                        "rules": [
                            {"name": "r", "column": "nope", "in": ["a"], "action": "exclude"}
                        ],
                    }
                }
            },
            "data.order_lines.rules: rule 'r' names unknown column 'nope'",
        ),
        ({**GOOD, "analysis": {"start": "2025-02-01", "end": "2025-01-01"}}, "is after end"),
        ({**GOOD, "analysis": {"start": "2025-13-01"}}, "analysis.start (value '2025-13-01')"),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
)
def test_errors_name_path_value_and_fix(raw: Any, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        _ws(raw)
    message = str(info.value)
    assert message.startswith("supplyseg.yaml: ")
    assert needle in message
    assert "fix" in message


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    (tmp_path / "supplyseg.yaml").write_text("data:\n  order_lines: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: not valid YAML"):
        load_workspace(tmp_path)


def test_missing_workspace_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no workspace file here; fix: run `supplyseg init"):
        load_workspace(tmp_path)


def test_unknown_extension_needs_format() -> None:
    ws = _ws({"data": {"order_lines": {"path": "lines.dat"}}})
    with pytest.raises(ConfigError, match=re.escape("add `format: csv | parquet | xlsx`")):
        _ = ws.data["order_lines"].file_format


def test_config_hash_is_stable_and_sensitive() -> None:
    assert config_hash(_ws(GOOD)) == config_hash(_ws(GOOD))
    assert config_hash(_ws(GOOD)) != config_hash(_ws({**GOOD, "analysis": {"bucket": "month"}}))
