"""Scenario overlays: deep merge onto supplyseg.yaml, errors naming the scenario file."""

from __future__ import annotations

from pathlib import Path

import pytest

from supplyseg.errors import ConfigError
from supplyseg.scenario.overlay import deep_merge, load_scenario, scenario_names


def _ws(tmp_path: Path) -> Path:
    (tmp_path / "supplyseg.yaml").write_text(
        "data:\n  order_lines: {path: lines.csv}\n"
        "policies:\n  holding_rate: 0.2\n  product:\n    AX: {service_target: 0.97}\n"
    )
    (tmp_path / "scenarios").mkdir()
    return tmp_path


def test_deep_merge_merges_mappings_and_replaces_the_rest() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    over = {"a": {"c": [3], "e": 2}, "f": 3}
    assert deep_merge(base, over) == {"a": {"b": 1, "c": [3], "e": 2}, "d": 1, "f": 3}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # the inputs are left alone


def test_a_scenario_overlays_the_workspace(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    (ws / "scenarios" / "tight.yaml").write_text(
        "policies:\n  product:\n    AY: {service_target: 0.99}\n"
        "scenario:\n  description: tighter\n  demand_change_pct: {all: -20, segment: {AX: 5}}\n"
    )
    got = load_scenario(ws, "tight")
    assert got.scenario.name == "tight"
    assert got.scenario.demand_change_pct.all == -20
    assert got.scenario.demand_change_pct.segment == {"AX": 5}
    assert got.policies.holding_rate == 0.2  # kept from the workspace
    assert got.policies.product["AX"].service_target == 0.97  # merged, not replaced
    assert got.policies.product["AY"].service_target == 0.99
    assert load_scenario(ws, "base").scenario.name is None
    assert scenario_names(ws) == ["tight"]


def test_unknown_keys_and_bad_values_name_the_scenario_file(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    (ws / "scenarios" / "typo.yaml").write_text("policies:\n  holding_rat: 0.3\n")
    with pytest.raises(ConfigError, match=r"typo\.yaml.*policies\.holding_rat"):
        load_scenario(ws, "typo")
    (ws / "scenarios" / "drop.yaml").write_text("scenario:\n  demand_change_pct: {all: -100}\n")
    with pytest.raises(ConfigError, match=r"drop\.yaml.*outside the allowed range"):
        load_scenario(ws, "drop")


def test_missing_scenario_lists_those_there_are(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    (ws / "scenarios" / "a.yaml").write_text("{}\n")
    with pytest.raises(ConfigError, match=r"no such scenario.*\['a'\]"):
        load_scenario(ws, "b")
    with pytest.raises(ConfigError, match="allowed letters"):
        load_scenario(ws, "../etc")


def test_the_file_name_is_the_scenario_name(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    (ws / "scenarios" / "a.yaml").write_text("scenario: {name: b}\n")
    with pytest.raises(ConfigError, match="differs from the file name"):
        load_scenario(ws, "a")
