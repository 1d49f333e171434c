"""State shared by the steps of one run: the run folder, its tables and frames, timings."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from supplyseg.analytics.demand import demand_series
from supplyseg.config import Workspace
from supplyseg.data.load import Dataset
from supplyseg.policy.assign import ITEM_KEY_SEP
from supplyseg.policy.overrides import Overrides

T = TypeVar("T")
# Tables of millions of rows (one per customer x product pair at 10M order lines) that later
# steps read only in part: a run keeps just those columns in memory (the report reads the
# Parquet files), and of a table written by `write_only`, only from the step that needs them.
_KEPT_COLUMNS: dict[str, tuple[str, ...]] = {
    # the policy step's pairs, for matrix cells
    "segments_customer_product": ("customer_id", "product_id"),
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

    def write(self, name: str, frame: pd.DataFrame, keep: bool = True) -> None:
        """Write ``<name>.parquet`` into the run folder and keep the frame for later steps
        (only the columns later steps read, for the tables of `_KEPT_COLUMNS`; nothing with
        ``keep=False``: a later step reads it back with `kept`)."""
        path = self.path / f"{name}.parquet"
        _write_parquet(frame, path)
        self.outputs[name] = path
        if not keep:
            return
        if name in _KEPT_COLUMNS:
            keep_columns = [c for c in _KEPT_COLUMNS[name] if c in frame.columns]
            frame = pd.DataFrame({c: _own_copy(frame[c]) for c in keep_columns})
        self.frames[name] = frame

    def write_only(self, name: str, write: Callable[[Path], T]) -> T:
        """Write ``<name>.parquet`` with ``write`` (e.g. in batches from the engine) and return
        what it returns. Nothing is kept in memory: a later step that reads part of the table
        reads it back with `kept`."""
        path = self.path / f"{name}.parquet"
        result = write(path)
        self.outputs[name] = path
        return result

    def kept(self, name: str) -> pd.DataFrame | None:
        """The frame of table ``name`` for a later step (None if the run has none): as kept
        by `write`, or else read back from its file, and not kept. Of the tables of
        `_KEPT_COLUMNS`, those columns, the ids as categoricals: 89.7M customer x product pairs
        at 100M order lines take 1.4 GB so, instead of 3.6 GB of text held from step to step.
        """
        if name in self.frames or name not in self.outputs:
            return self.frames.get(name)
        path, columns, ids = self._kept_columns(name)
        table = pq.read_table(path, columns=columns, read_dictionary=ids)
        frame: pd.DataFrame = table.to_pandas(self_destruct=True)
        return frame

    def _kept_columns(self, name: str) -> tuple[Path, list[str], list[str]]:
        """The file of table ``name``, the columns to read and those read as categoricals."""
        path = self.outputs[name]
        present = pq.read_schema(path).names
        columns = [c for c in _KEPT_COLUMNS.get(name, present) if c in present]
        ids = [c for c in columns if c.endswith("_id") and name in _KEPT_COLUMNS]
        return path, columns, ids

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
    whole frame into one Arrow table first, a second copy of a 6M-row table in memory.

    Ids held as categoricals (`_Run.kept`) are written as text, as every table's ids are.
    Categoricals are converted to Arrow once, not per slice: a slice converts all of its
    categories (1.7M explanation texts for each of 90 slices of the 89.7M pair segments)."""
    coded = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    whole = {c: pa.array(frame[c]) for c in coded} if len(frame) > rows else {}
    first = pa.Table.from_pandas(frame.iloc[:rows], preserve_index=False)
    written = _used_dictionaries(_text_ids(first))  # ids as text first: nothing to cut
    try:
        with pq.ParquetWriter(path, written.schema) as writer:
            writer.write_table(written)
            for start in range(rows, len(frame), rows):
                part = frame.iloc[start : start + rows]
                plain = pa.Table.from_pandas(part.drop(columns=coded), preserve_index=False)
                columns = [
                    whole[f.name].slice(start, rows) if f.name in whole else plain[f.name]
                    for f in first.schema
                ]
                table = pa.Table.from_arrays(columns, names=first.schema.names)
                writer.write_table(_used_dictionaries(_text_ids(table)).cast(written.schema))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a later slice typed otherwise (all-null)
        frame.to_parquet(path, index=False)


def _used_dictionaries(table: pa.Table) -> pa.Table:
    """``table`` with each dictionary column's dictionary cut to the values its rows use.

    A slice of a categorical keeps all its categories, and Parquet stores each row group's
    dictionary whole: at 100M order lines, the 89.7M pair segments' 1.7M distinct explanations
    were written 90 times (17 GB before compression, 100 s). The order of the values is kept,
    so a reader that unifies the row groups' dictionaries gets the categories in their order
    of first appearance, as they were.
    """
    columns = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = pa.chunked_array([_used(chunk) for chunk in col.chunks], col.type)
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=table.schema)


def _used(arr: pa.DictionaryArray) -> pa.DictionaryArray:
    indices = arr.indices
    codes = pc.fill_null(indices, 0).to_numpy(zero_copy_only=False)
    valid = indices.is_valid().to_numpy(zero_copy_only=False)
    used = np.zeros(len(arr.dictionary), dtype=bool)
    used[codes[valid]] = True
    if used.all():
        return arr
    position = np.cumsum(used) - 1
    remapped = pa.array(position[codes], type=indices.type, mask=~valid)
    return pa.DictionaryArray.from_arrays(remapped, arr.dictionary.filter(pa.array(used)))


def _text_ids(table: pa.Table) -> pa.Table:
    """``table`` with its dictionary-encoded ``*_id`` columns as plain text (also in the pandas
    metadata, which would otherwise read them back as categoricals)."""
    schema = table.schema
    coded = [f.name for f in schema if f.name.endswith("_id") and pa.types.is_dictionary(f.type)]
    if not coded:
        return table
    fields = [pa.field(f.name, f.type.value_type) if f.name in coded else f for f in schema]
    meta = schema.pandas_metadata
    for col in meta["columns"] if meta else ():
        if col["name"] in coded:  # as pandas describes a column of its string dtype
            col.update(pandas_type="object", numpy_type="string", metadata=None)
    metadata = {b"pandas": json.dumps(meta).encode()} if meta else None
    return table.cast(pa.schema(fields, metadata=metadata))


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
