"""Data frames in: validated like files (`load_frames`), or taken as canonical (`canonical_tables`).

`load_frames` is the notebook's `supplyseg run` load step: pandas DataFrames, pyarrow Tables or
Ibis tables go through the very checks a file goes through (same reject reasons, same derived
columns ``is_credit_note`` and ``line_no``), and the result is the pipeline's `Dataset`.

`canonical_tables` is what every analytics function does with its input: a `Dataset` as it is;
a mapping of tables (pandas, Arrow, Ibis) already on canonical column names, typed to the
contract (dates as dates, ids as text) but not validated; a single table taken as order lines.
Order lines without ``is_credit_note`` count negative quantities as credit notes, as the
demand functions always have.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend
from pydantic import ValidationError

from supplyseg.config import Analysis, Source, Workspace
from supplyseg.config.messages import close_matches, validation_message
from supplyseg.config.tables import check_source
from supplyseg.data.contract import TABLES
from supplyseg.data.load import Dataset, load_dataset
from supplyseg.data.read import SourceRows, arrow_rows
from supplyseg.engine import connect
from supplyseg.errors import ConfigError, DataContractError

__all__ = ["canonical_tables", "load_frames", "order_lines_table"]

_IBIS_TYPES = {
    "string": "string",
    "float": "float64",
    "int": "int64",
    "date": "date",
    "bool": "boolean",
}


def _check_names(names: list[str], what: str) -> None:
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        near = close_matches(unknown[0], TABLES)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ConfigError(
            f"{what}: unknown table {unknown[0]!r}{hint}; allowed: {', '.join(TABLES)}"
        )


def _arrow(name: str, frame: Any) -> pa.Table:
    """``frame`` as an Arrow table: pandas, pyarrow, Ibis, or anything ``pa.table`` takes."""
    where = f"frames[{name!r}]"
    if isinstance(frame, ir.Table):
        arrow: pa.Table = frame.to_pyarrow()
        return arrow
    if isinstance(frame, pa.Table):
        return frame
    try:
        if isinstance(frame, pd.DataFrame):
            return pa.Table.from_pandas(frame, preserve_index=False)
        return pa.table(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        first = str(exc).splitlines()[0]
        raise DataContractError(
            f"{where}: cannot read it as a table ({first}); fix: give each column values of one"
            " type (e.g. df[column].astype('string'))"
        ) from None
    except TypeError:
        raise DataContractError(
            f"{where}: a {type(frame).__name__} is not a table; give a pandas DataFrame, a"
            " pyarrow Table or an Ibis table"
        ) from None


def _rows(name: str, frame: Any) -> SourceRows:
    arrow = _arrow(name, frame)
    rows = arrow_rows(arrow, f"frames[{name!r}]")
    if rows.read == 0:
        raise DataContractError(
            f"frames[{name!r}]: the table has no rows; fix: give its rows, or leave it out"
        )
    return rows


def _source(name: str, given: Source | Mapping[str, Any] | None, base: Source | None) -> Source:
    """How a frame's columns map: ``given``, else the workspace's, else same-name columns."""
    label = Path(f"frames[{name!r}]")
    if isinstance(given, Source):
        return given.model_copy(update={"path": label, "format": "parquet"})
    if given is None and base is not None:
        # Mapping and rules as in supplyseg.yaml; the file settings (csv delimiter ...) do not
        # apply to a frame and are not looked at.
        return base.model_copy(update={"path": label, "format": "parquet"})
    raw = {**(given or {}), "path": label, "format": "parquet"}
    try:
        source = Source.model_validate(raw)
        check_source(name, source)
    except ValidationError as exc:
        raise ConfigError(
            validation_message(
                exc,
                raw,
                origin="load_frames",
                model=Source,
                prefix=f"sources.{name}",
                fix="correct the sources argument (keys as under data.<table> in supplyseg.yaml)",
            )
        ) from None
    except ValueError as exc:  # check_source: names the table's path itself
        raise ConfigError(f"load_frames: sources{exc}") from None
    return source


def load_frames(
    frames: Mapping[str, Any],
    *,
    sources: Mapping[str, Source | Mapping[str, Any]] | None = None,
    workspace: Workspace | None = None,
    con: BaseBackend | None = None,
    **settings: Any,
) -> Dataset:
    """Validate in-memory tables against the data contract, exactly as files are validated.

    Parameters
    ----------
    frames
        Table name -> pandas DataFrame, pyarrow Table or Ibis table; ``order_lines`` is
        required (see the data contract for the other tables and their columns).
    sources
        Per table, how its columns map and which rows are excluded or credit notes: the keys
        of ``data.<table>`` in supplyseg.yaml but ``path`` (``columns``, ``rules``,
        ``date_format``, ``null_values``). Default: the canonical column names as they are.
    workspace
        Take the mapping, rules and ``analysis`` settings from this workspace (its file
        paths are not read).
    con
        The Ibis backend to load into; default the workspace's engine (in-process DuckDB).
    **settings
        ``analysis`` settings: ``start``, ``end``, ``bucket``, ``credit_notes``,
        ``allow_zero_price``.

    Returns
    -------
    Dataset
        ``tables`` (canonical Ibis tables, with ``is_credit_note`` and ``line_no`` on order
        lines), ``rejects`` (one row per rejected row: ``table, row_number, reason_code,
        field, value, message``; ``row_number`` counts the frame's rows from 1) and
        ``accounts`` (read = loaded + rejected per table).

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> lines = pd.DataFrame({
    ...     "order_id": ["A1", "A1", "A2", "CN1"],
    ...     "customer_id": ["c1", "c1", "c2", "c1"],
    ...     "product_id": ["p1", "p2", "p1", "p1"],
    ...     "order_date": pd.to_datetime(["2025-01-06", "2025-01-06", "2025-01-07", "2025-01-09"]),
    ...     "quantity": [5, 0, 3, -2],
    ...     "unit_price": [2.0, 3.0, 2.0, 2.0],
    ... })
    >>> rules = [{"name": "credit notes", "column": "order_id", "starts_with": "CN",
    ...           "action": "credit_note"}]
    >>> data = supplyseg.load_frames({"order_lines": lines},
    ...                              sources={"order_lines": {"rules": rules}})
    >>> data.accounts["order_lines"].loaded, list(data.rejects["reason_code"])
    (3, ['zero_quantity'])
    """
    if not isinstance(frames, Mapping):
        raise DataContractError(
            f"frames: got a {type(frames).__name__}; give a mapping of table name -> data frame,"
            " e.g. {'order_lines': df}"
        )
    _check_names(list(frames), "frames")
    _check_names(list(sources or {}), "sources")
    if "order_lines" not in frames:
        raise DataContractError(
            f"frames: no order_lines among {sorted(frames)}; fix: add 'order_lines': <frame>"
        )
    base_analysis = workspace.analysis.model_dump() if workspace is not None else {}
    raw_analysis = {**base_analysis, **settings}
    try:
        analysis = Analysis.model_validate(raw_analysis)
    except ValidationError as exc:
        raise ConfigError(
            validation_message(
                exc,
                raw_analysis,
                origin="load_frames",
                model=Analysis,
                fix="correct the keyword argument",
            )
        ) from None
    data = {
        name: _source(
            name,
            (sources or {}).get(name),
            workspace.data.get(name) if workspace is not None else None,
        )
        for name in frames
    }
    ws = (workspace or Workspace(data=data)).model_copy(
        update={"data": data, "analysis": analysis, "root": Path.cwd()}
    )
    rows = {name: _rows(name, frame) for name, frame in frames.items()}
    return load_dataset(ws, con if con is not None else connect(ws.engine), frames=rows)


def _typed(name: str, t: ir.Table) -> ir.Table:
    """Canonical columns cast to the contract's types (a timestamp to a date, a number id to
    text); order lines get ``is_credit_note`` (negative quantity) when they lack it."""
    spec = TABLES[name]
    casts: dict[str, ir.Value] = {}
    for col in spec.names:
        if col not in t.columns:
            continue
        want = _IBIS_TYPES[spec.column(col).dtype]
        have = t[col].type()
        same = {
            "string": have.is_string(),
            "float64": have.is_floating(),
            "int64": have.is_integer(),
            "date": have.is_date(),
            "boolean": have.is_boolean(),
        }[want]
        if not same:
            casts[col] = t[col].cast(want)
    if casts:
        t = t.mutate(**casts)
    if name == "order_lines" and "is_credit_note" not in t.columns and "quantity" in t.columns:
        t = t.mutate(is_credit_note=t.quantity < 0)
    return t


def _ibis(name: str, frame: Any) -> ir.Table:
    if isinstance(frame, ir.Table):
        return frame
    return ibis.memtable(_arrow(name, frame))


def canonical_tables(data: Any) -> dict[str, ir.Table]:
    """The canonical Ibis tables in ``data``, as every analytics function reads its input.

    ``data`` is a `Dataset` (from `load_frames` or a run), a mapping of table name -> table
    (pandas, pyarrow or Ibis) on canonical column names, or one such table, taken as the order
    lines. Tables that are not a Dataset's are typed to the contract but not validated: call
    `load_frames` for the checks and rejects a file gets.
    """
    if isinstance(data, Dataset):
        return dict(data.tables)
    if isinstance(data, Mapping):
        _check_names([str(k) for k in data], "tables")
        return {str(k): _typed(str(k), _ibis(str(k), v)) for k, v in data.items()}
    return {"order_lines": _typed("order_lines", _ibis("order_lines", data))}


def order_lines_table(data: Any) -> ir.Table:
    """The order lines of ``data`` (anything `canonical_tables` takes) as an Ibis table."""
    tables = canonical_tables(data)
    if "order_lines" not in tables:
        raise DataContractError(
            f"order_lines: not among the tables given ({', '.join(sorted(tables))}); fix: pass"
            " the order lines, e.g. {'order_lines': df}"
        )
    return tables["order_lines"]
