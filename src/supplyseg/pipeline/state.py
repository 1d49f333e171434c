"""State shared by the steps of one run: the run folder, its tables and frames, timings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from supplyseg.analytics.demand import demand_series
from supplyseg.config import Workspace
from supplyseg.data.load import Dataset
from supplyseg.policy.assign import ITEM_KEY_SEP
from supplyseg.policy.overrides import Overrides

T = TypeVar("T")
# The string type of the kept columns (`_own_copy`'s): later steps write them to Parquet.
_KEPT_STRINGS = {t: pd.StringDtype("pyarrow") for t in (pa.string(), pa.large_string())}

# Tables of millions of rows (one per customer x product pair at 10M order lines) that later
# steps read only in part: a run keeps just those columns in memory (the report reads the
# Parquet files).
_KEPT_COLUMNS: dict[str, tuple[str, ...]] = {
    # the segment step's pairs; the quantity weighs the allocation shares (policy step)
    "demand_customer_product": ("customer_id", "product_id", "quantity"),
}


@dataclass
class _Run:
    """State shared by the steps of one run."""

    workspace: Workspace
    path: Path
    run_id: str
    dataset: Dataset
    timings: dict[str, float]
    outputs: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    previous: Path | None = None
    overrides: Overrides = field(default_factory=Overrides.none)

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Write ``<name>.parquet`` into the run folder and keep the frame for later steps
        (only the columns later steps read, for the tables of `_KEPT_COLUMNS`)."""
        path = self.path / f"{name}.parquet"
        _write_parquet(frame, path)
        self.outputs[name] = path
        if name in _KEPT_COLUMNS:
            keep = [c for c in _KEPT_COLUMNS[name] if c in frame.columns]
            frame = pd.DataFrame({c: _own_copy(frame[c]) for c in keep})
        self.frames[name] = frame

    def write_only(self, name: str, write: Callable[[Path], T]) -> T:
        """Write ``<name>.parquet`` with ``write`` (e.g. in batches from the engine) and return
        what it returns. Nothing is kept in memory, except for the tables of `_KEPT_COLUMNS`:
        their columns are read back from the file."""
        path = self.path / f"{name}.parquet"
        result = write(path)
        self.outputs[name] = path
        if name in _KEPT_COLUMNS:
            present = set(pq.read_schema(path).names)
            keep = [c for c in _KEPT_COLUMNS[name] if c in present]
            table = pq.read_table(path, columns=keep)
            self.frames[name] = table.to_pandas(types_mapper=_KEPT_STRINGS.get, self_destruct=True)
        return result

    @property
    def as_of(self) -> date:
        """The analysis date: the horizon end if set, else the last order date loaded."""
        if self.workspace.analysis.end:
            return self.workspace.analysis.end
        if "as_of" not in self.facts:
            lines = self.dataset.tables["order_lines"]
            last = lines.order_date.max().to_pyarrow().as_py()
            self.facts["as_of"] = last if isinstance(last, date) else date.today()
        value: date = self.facts["as_of"]
        return value


def _write_parquet(frame: pd.DataFrame, path: Path, rows: int = 1_000_000) -> None:
    """``frame.to_parquet(path, index=False)``, a million rows at a time: to_parquet turns the
    whole frame into one Arrow table first, a second copy of a 6M-row table in memory."""
    if len(frame) <= rows:
        frame.to_parquet(path, index=False)
        return
    first = pa.Table.from_pandas(frame.iloc[:rows], preserve_index=False)
    try:
        with pq.ParquetWriter(path, first.schema) as writer:
            writer.write_table(first)
            for start in range(rows, len(frame), rows):
                part = frame.iloc[start : start + rows]
                writer.write_table(
                    pa.Table.from_pandas(part, schema=first.schema, preserve_index=False)
                )
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a later slice typed otherwise (all-null)
        frame.to_parquet(path, index=False)


def _own_copy(column: pd.Series) -> pd.Series:
    """``column`` in buffers of its own. A column converted from the engine's Arrow result may
    share an allocation with the other columns of its batch, and would keep them all alive."""
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        data = column.array._pa_array
        if not data.num_chunks:
            return column
        copied = pa.chunked_array([pa.concat_arrays(data.chunks)], type=data.type)
        return pd.Series(pd.arrays.ArrowStringArray(copied), index=column.index, name=column.name)
    return column.copy(deep=True)


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - started, 3)


def _item_grain(r: _Run) -> list[str]:
    """Policies are per product x location when locations are known, else per product."""
    has_location = "demand_product_location" in r.frames
    return ["product_id", "location_id"] if has_location else ["product_id"]


def _history(r: _Run) -> pd.DataFrame:
    """Net demand per item and bucket (sparse), with the policy step's ``unique_id``."""
    if "history" not in r.frames:
        grain = _item_grain(r)
        series = demand_series(
            r.dataset.tables["order_lines"],
            grain,
            r.workspace.analysis.bucket,
            horizon_end=r.as_of,
            start=r.workspace.analysis.start,
        )
        series["unique_id"] = _unique_ids(series, grain)
        r.frames["history"] = series
    return r.frames["history"]


def _demand_table(r: _Run) -> pd.DataFrame | None:
    """The demand profile at the policy grain (product x location, else product)."""
    return r.frames.get("demand_" + "_".join(g.removesuffix("_id") for g in _item_grain(r)))


def _unique_ids(frame: pd.DataFrame, grain: list[str]) -> pd.Series:
    ids = frame[grain].astype(str)
    # Column-wise concatenation: a row-wise join is a Python call per row (seconds per
    # million rows of daily history).
    out = ids[grain[0]]
    for name in grain[1:]:
        out = out + ITEM_KEY_SEP + ids[name]
    return out
