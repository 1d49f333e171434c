"""The ``erp:`` section: default generic, sap with a plant; mistakes name the path and value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supplyseg.config import workspace_from_dict
from supplyseg.config.erp import ErpSettings
from supplyseg.errors import ConfigError

GOOD: dict[str, Any] = {"data": {"order_lines": {"path": "lines.csv"}}}


def _ws(erp: Any) -> Any:
    raw = {**GOOD, "erp": erp}
    return workspace_from_dict(raw, root=Path("/ws"), origin="supplyseg.yaml")


def test_default_is_generic_without_a_plant() -> None:
    ws = workspace_from_dict(GOOD, root=Path("/ws"), origin="supplyseg.yaml")
    assert ws.erp == ErpSettings()
    assert (ws.erp.format, ws.erp.plant) == ("generic", None)


def test_sap_with_a_plant() -> None:
    ws = _ws({"format": "sap", "plant": "1000"})
    assert (ws.erp.format, ws.erp.plant) == ("sap", "1000")


@pytest.mark.parametrize(
    ("erp", "where"),
    [
        ({"format": "oracle"}, "erp.format (value 'oracle')"),
        ({"format": "sap", "plant": "PLANT1"}, "erp.plant (value 'PLANT1')"),
        ({"fromat": "sap"}, "erp.fromat"),
    ],
)
def test_mistakes_name_the_path_and_value(erp: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigError) as err:
        _ws(erp)
    assert where in str(err.value)
    assert "fix:" in str(err.value)
