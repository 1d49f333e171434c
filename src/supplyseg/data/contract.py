"""The canonical tables, re-exported: they live in `supplyseg.contract`, below ``config``.

Config validates workspaces against the contract, and config sits below ``data``; this module
keeps ``from supplyseg.data.contract import TABLES`` working.
"""

from __future__ import annotations

from supplyseg.contract import (
    LENIENT,
    SUPPLY_KINDS,
    TABLES,
    Column,
    DType,
    Reason,
    TableSpec,
    require_columns,
    table_spec,
)

__all__ = [
    "LENIENT",
    "SUPPLY_KINDS",
    "TABLES",
    "Column",
    "DType",
    "Reason",
    "TableSpec",
    "require_columns",
    "table_spec",
]
