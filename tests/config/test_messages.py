"""Config error messages: every error listed, with the path, the value, close matches and a fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supplyseg.config import workspace_from_dict
from supplyseg.config.cost_to_serve import cost_to_serve_settings
from supplyseg.config.messages import close_matches
from supplyseg.config.policy import policy_settings
from supplyseg.errors import ConfigError

LINES = {"order_lines": {"path": "lines.csv"}}


def _message(raw: Any) -> str:
    with pytest.raises(ConfigError) as info:
        workspace_from_dict(raw, root=Path("."), origin="ws.yaml")
    return str(info.value)


def test_a_typo_in_a_key_suggests_the_key_and_lists_the_allowed_ones() -> None:
    msg = _message({"data": {"order_lines": {"path": "a.csv", "colums": {}}}})
    assert msg.startswith("ws.yaml: data.order_lines.colums: unknown setting 'colums'")
    assert "(did you mean 'columns'?)" in msg
    assert "allowed: columns, date_format, decimal, delimiter, encoding, format," in msg
    assert msg.endswith("; fix: correct it in the workspace file")
    assert "\n" not in msg  # one error, one line


def test_every_error_is_listed_one_line_each() -> None:
    raw = {"data": LINES, "analysis": {"bucket": "wek", "credit_note": "net"}, "demnd": {}}
    lines = _message(raw).splitlines()
    assert lines[0] == "ws.yaml: 3 errors"
    assert lines[1] == (
        "  - analysis.bucket (value 'wek'): Input should be 'day', 'week' or 'month'"
        " (did you mean 'week'?)"
    )
    assert lines[2].startswith(
        "  - analysis.credit_note (value 'net'): unknown setting 'credit_note' (did you mean"
        " 'credit_notes'?)"
    )
    # The loader's own field (root) is not offered: it is not a key of the file.
    assert lines[3].startswith("  - demnd: unknown setting 'demnd' (did you mean 'demand'?)")
    assert "root" not in lines[3]
    assert lines[4] == "fix: correct it in the workspace file"


def test_keys_inside_a_tagged_union_branch_are_suggested() -> None:
    raw = {"data": {"order_lines": {"path": "a.csv", "columns": {"order_id": {"divde": []}}}}}
    msg = _message(raw)
    assert "data.order_lines.columns.order_id.divde" in msg  # no union tag in the path
    assert "(did you mean 'divide'?); allowed: concat, divide, multiply, sep, value" in msg


def test_sections_validated_alone_use_the_same_format() -> None:
    with pytest.raises(ConfigError) as info:
        cost_to_serve_settings({"pols": {}}, origin="x.yaml")
    assert str(info.value).startswith(
        "x.yaml: cost_to_serve.pols: unknown setting 'pols' (did you mean 'pools'?)"
    )
    with pytest.raises(ConfigError) as info:
        policy_settings({"prodcut": {}})
    assert "policies.prodcut: unknown setting 'prodcut' (did you mean 'product'?)" in str(
        info.value
    )


def test_close_matches_needs_a_real_resemblance() -> None:
    assert close_matches("colums", ["columns", "rules", "path"]) == ["columns"]
    assert close_matches("zzz", ["columns", "rules"]) == []
