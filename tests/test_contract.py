"""The canonical table contract and the column check of DataFrame arguments."""

from __future__ import annotations

import pandas as pd
import pytest

from supplyseg.contract import TABLES, require_columns, table_spec
from supplyseg.errors import DataContractError


def test_require_columns_returns_the_frame_itself() -> None:
    df = pd.DataFrame({"a": [1], "b": [2], "extra": [3]})
    assert require_columns("t", df, ["a", "b"]) is df


def test_require_columns_names_missing_required_and_present_columns() -> None:
    df = pd.DataFrame({"a": [1], "z": [2]})
    with pytest.raises(DataContractError) as err:
        require_columns("demand", df, ["a", "b", "c"])
    assert str(err.value) == (
        "demand: column(s) ['b', 'c'] missing; required: a, b, c; present: ['a', 'z']"
    )


def test_require_columns_rejects_what_is_not_a_dataframe() -> None:
    with pytest.raises(DataContractError, match=r"series: got list; give a pandas DataFrame"):
        require_columns("series", [1, 2], ["unique_id"])


def test_every_key_column_is_required_but_the_derived_line_number() -> None:
    for name, spec in TABLES.items():
        assert table_spec(name) is spec
        # line_no may be absent: the loader numbers an order's lines in file order.
        assert set(spec.key) - {"line_no"} <= set(spec.required), name
        assert set(spec.key) <= set(spec.names), name


def test_the_data_package_re_exports_the_contract() -> None:
    from supplyseg.data import contract as old_home

    assert old_home.TABLES is TABLES
    assert old_home.require_columns is require_columns
