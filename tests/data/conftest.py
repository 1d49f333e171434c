"""The `intake` fixture: load order lines from one file, with the row accounting checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from supplyseg.config import workspace_from_dict
from supplyseg.data.load import Dataset, load_dataset
from supplyseg.engine import connect

BAD = Path(__file__).parent / "bad"


class Intake:
    """Loads order lines from a file in tests/data/bad (or ``root``) and checks that no row is
    lost: read = loaded + rejected, and the row numbers partition 1..read."""

    header = "order_id,line_no,customer_id,product_id,order_date,quantity,unit_price"

    def __init__(self, tmp_path: Path) -> None:
        self.bad = BAD
        self.tmp = tmp_path

    def load(
        self,
        path: str,
        root: Path = BAD,
        analysis: dict[str, Any] | None = None,
        more: dict[str, Any] | None = None,
        **source: Any,
    ) -> Dataset:
        """Order lines from ``root / path`` with ``source`` settings (and ``more`` tables)."""
        data = {"order_lines": {"path": path, **source}, **(more or {})}
        ws = workspace_from_dict(
            {"data": data, "analysis": analysis or {}}, root=root, origin="test.yaml"
        )
        ds = load_dataset(ws, connect())
        for table in ds.accounts:
            self.assert_accounted(ds, table)
        return ds

    def write(self, name: str, body: str, header: str | None = None) -> str:
        """A CSV under tmp_path: the header (the contract's by default) and ``body``."""
        (self.tmp / name).write_text(f"{header or self.header}\n{body}", encoding="utf-8")
        return name

    @staticmethod
    def assert_accounted(ds: Dataset, table: str = "order_lines") -> None:
        acc = ds.accounts[table]
        loaded = ds.tables[table].row_number.to_pandas().tolist()
        rejected = ds.rejects.loc[ds.rejects["table"] == table, "row_number"].tolist()
        assert acc.read == acc.loaded + acc.rejected
        assert acc.loaded == len(loaded)
        assert sorted(loaded + rejected) == list(range(1, acc.read + 1))

    @staticmethod
    def lines(ds: Dataset) -> pd.DataFrame:
        """The loaded order lines in file order, indexed by order_id."""
        frame = ds.tables["order_lines"].to_pandas().sort_values("row_number")
        return frame.set_index("order_id")

    @staticmethod
    def reasons(ds: Dataset) -> dict[int, str]:
        """row_number -> reason_code of the order-line rejects."""
        r = ds.rejects[ds.rejects["table"] == "order_lines"]
        return dict(zip(r["row_number"].tolist(), r["reason_code"].tolist(), strict=True))

    @staticmethod
    def messages(ds: Dataset) -> dict[int, str]:
        """row_number -> message of the order-line rejects."""
        r = ds.rejects[ds.rejects["table"] == "order_lines"]
        return dict(zip(r["row_number"].tolist(), r["message"].tolist(), strict=True))


@pytest.fixture
def intake(tmp_path: Path) -> Intake:
    """Load order lines with the row accounting checked (see `Intake`)."""
    return Intake(tmp_path)
