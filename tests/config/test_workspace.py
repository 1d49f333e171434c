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
        (
            {
                **GOOD,
                "demand": {"grains": ["product"]},
                "policies": {"matrix": {"protect": {"AX": {"service_target": 0.99}}}},
            },
            "policies.matrix: its cells apply to customer x product pairs, but demand.grains is"
            " ['product']",
        ),
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


# ---- table settings ----------------------------------------------------------------------------


def _lines_ws(**source: Any) -> Any:
    return _ws({"data": {"order_lines": {"path": "lines.csv", **source}}})


def test_duplicate_yaml_keys_are_named_with_their_lines(tmp_path: Path) -> None:
    (tmp_path / "supplyseg.yaml").write_text(
        "data:\n"
        "  order_lines:\n"
        "    path: a.csv\n"
        "    path: b.csv\n"
        "  order_lines: {path: c.csv}\n"
        "analysis: {bucket: week}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_workspace(tmp_path)
    message = str(err.value)
    assert "duplicate key(s) 'path' (lines 3 and 4), 'order_lines' (lines 2 and 5):" in message
    assert "fix: keep one" in message
    assert "\n" not in message


def test_yaml_merge_keys_may_override(tmp_path: Path) -> None:
    (tmp_path / "supplyseg.yaml").write_text(
        "base: &base {path: a.csv, delimiter: ';'}\n"
        "data:\n"
        "  order_lines: {<<: *base, path: b.csv}\n".replace("base: &base", "x-base: &base")
    )
    with pytest.raises(ConfigError, match="x-base"):  # unknown top-level key, not a duplicate
        load_workspace(tmp_path)


def test_zero_padded_codes_stay_text(tmp_path: Path) -> None:
    (tmp_path / "supplyseg.yaml").write_text(
        "data:\n"
        "  order_lines:\n"
        "    path: a.csv\n"
        "    rules: [{name: r, column: product_id, in: [0123, 77, 00], action: exclude}]\n"
    )
    rule = load_workspace(tmp_path).data["order_lines"].rules[0]
    assert rule.in_ == ["0123", 77, "00"]  # YAML 1.1 would read 0123 as octal 83


def test_yaml_booleans_in_rules_are_refused() -> None:
    rule = {"name": "norway", "column": "product_id", "equals": False, "action": "exclude"}
    with pytest.raises(ConfigError, match="YAML boolean"):
        _lines_ws(rules=[rule])


def test_table_setting_defaults() -> None:
    src = _lines_ws().data["order_lines"]
    assert (src.encoding, src.decimal, src.thousands, src.date_format) == ("utf-8", ".", None, None)
    assert (src.null_values, src.separator, src.derived) == ([], ",", {})


@pytest.mark.parametrize(
    ("path", "fmt", "separator"),
    [
        ("lines.csv.gz", "csv", ","),
        ("lines.tsv", "csv", "\t"),
        ("LINES.TSV.GZ", "csv", "\t"),
        ("lines.txt", "csv", ","),
        ("lines.parquet", "parquet", ","),
    ],
)
def test_format_and_separator_from_the_extension(path: str, fmt: str, separator: str) -> None:
    src = _ws({"data": {"order_lines": {"path": path}}}).data["order_lines"]
    assert (src.file_format, src.separator) == (fmt, separator)


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"decimal": ";"}, "data.order_lines.decimal"),
        ({"thousands": "x"}, "thousands separator 'x' not allowed"),
        ({"decimal": ",", "thousands": ","}, "is also the decimal mark"),
        ({"date_format": "dd/mm/yyyy"}, "does not write and read back a date"),
        ({"date_format": "%H:%M"}, "does not write and read back a date"),
        ({"path": "lines.parquet", "encoding": "cp1252"}, ".encoding: applies to CSV files only"),
        ({"path": "lines.xlsx", "delimiter": ";"}, ".delimiter: applies to CSV files only"),
        ({"columns": {"product_id": {}}}, "exactly one of value, divide, multiply, concat"),
        ({"columns": {"product_id": {"value": "X", "concat": ["a"]}}}, "found ['value', 'concat']"),
        ({"columns": {"unit_price": {"divide": ["a"]}}}, "at least 2 items"),
        ({"columns": {"order_id": {"concat": ["a"], "sep": "-", "x": 1}}}, "unknown setting 'x'"),
        ({"columns": {"unit_price": {"value": "1", "sep": "-"}}}, "sep only applies to concat"),
        (
            {"columns": {"product_id": {"divide": ["a", "b"]}}},
            "data.order_lines.columns.product_id: divide gives a number, but product_id is a",
        ),
        (
            {
                "columns": {"unit_price": {"divide": ["a", "b"]}},
                "rules": [{"name": "r", "column": "unit_price", "equals": 1, "action": "exclude"}],
            },
            "has no source text",
        ),
    ],
)
def test_table_setting_errors_name_path_and_fix(source: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        _lines_ws(**source)
    assert needle in str(err.value)
    assert "fix" in str(err.value)


def test_derived_columns_parse() -> None:
    columns = {
        "product_id": {"value": "CD"},
        "quantity": {"value": 1},
        "unit_price": {"divide": ["dollar_value", "number_of_cds"]},
        "unit_cost": {"multiply": ["unit_cost_cents", 0.01]},
        "order_id": {"concat": ["store", "ticket"], "sep": "-"},
        "customer_id": "customer",
    }
    src = _lines_ws(columns=columns).data["order_lines"]
    assert src.mapped == {"customer_id": "customer"}
    derived = src.derived
    assert (derived["product_id"].kind, derived["product_id"].text) == ("value", "CD")
    assert derived["quantity"].text == "1"
    assert derived["unit_price"].source_columns == ["dollar_value", "number_of_cds"]
    assert derived["unit_cost"].operands == ["unit_cost_cents", 0.01]
    assert derived["order_id"].kind == "concat"
