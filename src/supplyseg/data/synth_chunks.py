"""The synthetic company written straight to a workspace, a chunk of order lines at a time.

``write_workspace(synth_company(...))`` holds every table in memory: about 21 GB at 100M
lines. `write_workspace_chunked` writes the same tables, Parquet schema and ``supplyseg.yaml``
from the same design (see `supplyseg.data.synth`) while holding the order lines, shipments,
invoices and returns of one chunk only: about 2 GB at 100M lines.

How
    The master data, the designed demand cells (product x week) and the candidate orders are
    drawn from the seed's generator exactly as `synth_company` draws them, so customers,
    products, locations, the supply tables and the customer and product truth are the same
    tables. The lines are then made one ISO week at a time: every line goes to an order of its
    week and a credit note is dated in the week of its line, so a week needs nothing of the
    others. Each week draws from its own random stream (``[seed, 31, week]``), so the files do
    not depend on ``chunk_lines``; weeks are gathered until they hold ``chunk_lines`` rows and
    written as one Parquet row group (one file per table: the loader streams it from there).
    Credit notes and bad rows are shared out over the weeks in proportion to their lines (a
    multivariate hypergeometric draw), so their numbers are exact.

What differs from `synth_company` with the same seed
    The lines and the tables made from them are other draws of the same design: statistically
    the same, not the same rows. Bad rows are inserted among the rows of their own week (a
    duplicate after its original in that week). Id widths are fixed before the lines exist,
    from upper bounds (order ids: the candidate orders; shipment and return ids: the sales
    lines), so an id may have a digit more.

Memory: master data, the cells (products x 105 weeks) and the candidate orders (about 8M at
100M lines, 1 customer per 500 lines), plus one chunk of lines and one week's working arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from supplyseg.data._synth_flows import (
    _bad_rows,
    _credit_notes,
    _demand_cells,
    _design,
    _interleave,
    _inventory,
    _invoices,
    _lines_of_orders,
    _order_headers,
    _returns,
    _shipments,
)
from supplyseg.data._synth_master import (
    _BAD_REASONS,
    _BEHAVIOURS,
    _CREDIT_NOTE_SHARE,
    _CTS_LEVELS,
    _STR,
    _WEEKS,
    CUSTOMER_TYPES,
    LIFECYCLES,
    PATTERNS,
    Arr,
    _abc,
    _frame,
    _ids,
    _strings,
    _width,
)
from supplyseg.data._synth_purchasing import SUPPLY_TABLE_NAMES, synth_supply
from supplyseg.data.synth import (
    TABLE_NAMES,
    SynthCompany,
    _arrow_table,
    _check_int,
    _deliver,
    _good_rows,
    _line_frame,
    _Master,
    _master,
    _parameters,
    _write_parquet,
    _write_yaml,
)

__all__ = ["read_workspace", "write_workspace_chunked"]

_WEEK_STREAM = 31  # the weeks' random streams are [seed, 31, week]
_DERIVED = ("shipments", "invoices", "returns")
_CN_CODE = -1  # credit note j (0-based) is coded -1 - j in a chunk's order column


@dataclass
class _Counters:
    """Running numbers across weeks: ids already used, rows already written."""

    orders: int = 0
    credit_notes: int = 0
    shipments: int = 0
    returns: int = 0
    unknown_customers: int = 0
    unknown_products: int = 0
    bad_rows: int = 0
    rows: int = 0


@dataclass
class _Chunk:
    """Weeks gathered for one row group: line columns, bad-row truth, derived frames."""

    lines: list[dict[str, Arr]] = field(default_factory=list)
    bad_rows: list[tuple[Arr, Arr]] = field(default_factory=list)  # (global row index, reason)
    derived: dict[str, list[pd.DataFrame]] = field(
        default_factory=lambda: {name: [] for name in _DERIVED}
    )
    rows: int = 0


def write_workspace_chunked(
    directory: str | Path,
    customers: int = 2000,
    products: int = 500,
    lines: int = 200_000,
    *,
    seed: int = 0,
    locations: int = 3,
    bad_share: float = 0.002,
    suppliers: int = 0,
    po_lines: int | None = None,
    chunk_lines: int = 1_000_000,
) -> Path:
    """Write the workspace of ``synth_company(customers, products, lines, seed, ...)`` in chunks
    of about ``chunk_lines`` order lines (at least one week's); returns ``supplyseg.yaml``'s path.

    Same tables, columns, types and yaml as `write_workspace`; the same master data and
    designed truth; the lines are other draws of the same design (module docstring). Memory
    grows with ``chunk_lines`` and the number of customers and products, not with ``lines``.
    """
    params = _parameters(
        customers, products, lines, seed, locations, bad_share, suppliers, po_lines
    )
    chunk_lines = _check_int("chunk_lines", chunk_lines, 1, 10**9)
    n_cust, n_prod, n_lines = (int(params[k]) for k in ("customers", "products", "lines"))
    rng = np.random.default_rng(int(params["seed"]))
    n_bad = round(params["bad_share"] * n_lines)
    n_cn = round(_CREDIT_NOTE_SHARE * n_lines)
    n_loc = int(params["locations"])

    master = _master(rng, n_cust, n_prod, n_loc)
    design = _design(rng, master.pattern)
    cells = _demand_cells(rng, master.pattern, design, n_lines - n_bad - n_cn)
    headers = _order_headers(rng, master.kind, int(cells[3].sum()))
    week_sales = np.bincount(cells[1], cells[3], _WEEKS).astype(np.int64)
    week_cn = rng.multivariate_hypergeometric(week_sales, n_cn)
    week_bad = rng.multivariate_hypergeometric(week_sales, n_bad)
    # Reasons in equal shares over the whole file, not per week (weeks have few bad rows).
    reasons = rng.permutation(np.arange(n_bad) % len(_BAD_REASONS))
    n_sales = int(week_sales.sum())
    ids: dict[str, Any] = {
        "customer": _ids("C", np.arange(1, n_cust + n_bad + 1), _width(n_cust, 5)),
        "product": _ids("P", np.arange(1, n_prod + n_bad + 1), _width(n_prod, 5)),
        "location": pa.array([f"DC{i + 1}" for i in range(n_loc)]),
        "width": _width(max(len(headers[0]), n_cn), 7),
        "shipment_width": _width(min(n_sales, len(headers[0]) * n_loc), 7),
        "return_width": _width(n_sales, 7),
    }
    weekly = np.bincount(cells[0], cells[2], n_prod)
    inventory = _inventory(rng, weekly / _WEEKS, master.loc_share, ids)

    root = Path(directory)
    for sub in ("data", "truth"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    writer = _Writer(root / "data")
    count, chunk = _Counters(), _Chunk()
    outliers: list[pd.DataFrame] = []
    bad_truth: list[tuple[Arr, Arr]] = []
    cell_at = np.searchsorted(cells[1], np.arange(_WEEKS + 1))
    order_at = np.searchsorted(headers[1] // 7, np.arange(_WEEKS + 1))
    week_args = (master, ids, (week_cn, week_bad, reasons), int(params["seed"]))
    try:
        for week in range(_WEEKS):
            part = slice(cell_at[week], cell_at[week + 1])
            if part.start == part.stop:
                continue  # no lines this week (a tiny company)
            week_cells = tuple(c[part] for c in cells)
            week_headers = tuple(h[order_at[week] : order_at[week + 1]] for h in headers)
            _add_week(chunk, count, week, week_cells, week_headers, *week_args)
            if chunk.rows >= chunk_lines:
                outliers.append(_flush(chunk, writer, ids))
                bad_truth += chunk.bad_rows
                chunk = _Chunk()
        if chunk.rows:
            outliers.append(_flush(chunk, writer, ids))
            bad_truth += chunk.bad_rows
    finally:
        writer.close()

    for name, frame in (
        ("customers", master.customers),
        ("products", master.products),
        ("locations", master.locations),
        ("inventory", inventory),
    ):
        _write_parquet(frame, root / "data" / f"{name}.parquet")
    supply = None
    if "suppliers" in params:
        supply = synth_supply(
            np.random.default_rng([int(params["seed"]), 21]),
            master.products,
            int(params["suppliers"]),
            int(params["po_lines"]),
            n_loc,
            master.loc_share,
        )
        for name in SUPPLY_TABLE_NAMES:
            _write_parquet(getattr(supply, name), root / "data" / f"{name}.parquet")
        _write_parquet(supply.truth_suppliers, root / "truth" / "suppliers.parquet")
    row = np.concatenate([b[0] for b in bad_truth]) if bad_truth else np.zeros(0, np.int64)
    reason = np.concatenate([b[1] for b in bad_truth]) if bad_truth else np.zeros(0, np.int64)
    truth = {
        "customers": _frame(
            customer_id=master.customers["customer_id"].array,
            customer_type=_strings(CUSTOMER_TYPES, master.kind),
            behaviour=_strings(_BEHAVIOURS, master.kind),
            cts_level=_strings(_CTS_LEVELS, master.kind),
        ),
        "products": _frame(
            product_id=master.products["product_id"].array,
            pattern=_strings(PATTERNS, master.pattern),
            abc_design=_strings(("A", "B", "C"), _abc(weekly * master.list_price)),
            lifecycle=_strings(LIFECYCLES, design["life"]),
            seasonal=design["seasonal"],
        ),
        "bad_rows": _frame(
            table=pa.array(["order_lines"] * len(row)),
            row_number=row + 1,
            reason_code=_strings([r.value for r in _BAD_REASONS], reason),
        ).sort_values("row_number", ignore_index=True),
        "outliers": pd.concat(outliers, ignore_index=True).sort_values(
            ["product_id", "order_date"], ignore_index=True
        ),
    }
    for name, frame in truth.items():
        _write_parquet(frame, root / "truth" / f"{name}.parquet")
    return _write_yaml(
        root, "write_workspace_chunked", params, (len(row), count.rows), supply is not None
    )


def _add_week(
    chunk: _Chunk,
    count: _Counters,
    week: int,
    cells: tuple[Arr, ...],
    headers: tuple[Arr, ...],
    master: _Master,
    ids: dict[str, Any],
    shares: tuple[Arr, Arr, Arr],
    seed: int,
) -> None:
    """Make one week's lines, credit notes, bad rows, shipments, invoices and returns (as
    `synth_company` makes the whole horizon's) into ``chunk``; advances ``count``."""
    rng = np.random.default_rng([seed, _WEEK_STREAM, week])
    prices = (master.list_price, master.products["unit_cost"].to_numpy())
    sales, orders = _lines_of_orders(
        rng,
        cells,
        (headers[0], headers[1]),
        master.pattern,
        master.kind,
        master.home,
        len(master.loc_share),
        prices,
    )
    n_cn, n_bad = int(shares[0][week]), int(shares[1][week])
    credit = _credit_notes(rng, sales, n_cn)
    n_orders = len(orders["kind"])
    _deliver(rng, sales, credit, orders)
    first = count.orders + 1
    week_ids = ids | {"order": _ids("SO", np.arange(first, first + n_orders), ids["width"])}
    derived = {
        "shipments": _shipments(
            rng,
            sales,
            orders,
            master.unit_weight,
            len(master.loc_share),
            week_ids,
            (count.shipments + 1, ids["shipment_width"]),
        ),
        "invoices": _invoices(rng, sales, orders, week_ids, first),
        "returns": _returns(rng, sales, orders, week_ids, (count.returns + 1, ids["return_width"])),
    }
    good = _good_rows(sales, credit)
    customers, products = len(master.kind), len(master.pattern)
    mine = shares[2][count.bad_rows : count.bad_rows + n_bad]
    bad, slot, reason = _bad_rows(rng, good, n_bad, n_orders, (customers, products), mine)
    # Unknown ids continue where the earlier weeks' stopped: each bad row has its own.
    for col, n_known, used in (
        ("customer", customers, "unknown_customers"),
        ("product", products, "unknown_products"),
    ):
        unknown = bad[col] >= n_known
        bad[col][unknown] += getattr(count, used)
        setattr(count, used, getattr(count, used) + int(unknown.sum()))
    rows, position = _interleave(good, bad, slot)
    # Order codes for the chunk: SO numbers from 0 on, credit note j as -1 - j.
    code = rows["order"].astype(np.int64)
    rows["order"] = np.where(
        code < n_orders, count.orders + code, _CN_CODE - count.credit_notes - (code - n_orders)
    )
    chunk.lines.append(rows)
    chunk.bad_rows.append((count.rows + position, reason))
    for name, frame in derived.items():
        chunk.derived[name].append(frame)
    chunk.rows += len(code)
    count.rows += len(code)
    count.orders += n_orders
    count.credit_notes += n_cn
    count.bad_rows += n_bad
    count.shipments += len(derived["shipments"])
    count.returns += len(derived["returns"])


def _flush(chunk: _Chunk, writer: _Writer, ids: dict[str, Any]) -> pd.DataFrame:
    """Write the chunk's rows as one row group per table; returns its outlier truth rows."""
    rows = {k: np.concatenate([w[k] for w in chunk.lines]) for k in chunk.lines[0]}
    chunk.lines.clear()
    code = rows["order"]
    sales, credit = code[code >= 0], _CN_CODE - code[code < 0]
    so_first = int(sales.min(initial=0))
    so_ids = _ids("SO", np.arange(so_first, int(sales.max(initial=-1)) + 1) + 1, ids["width"])
    cn_first = int(credit.min(initial=0))
    cn_ids = _ids("CN", np.arange(cn_first, int(credit.max(initial=-1)) + 1) + 1, ids["width"])
    rows["order"] = np.where(code >= 0, code - so_first, len(so_ids) + (_CN_CODE - code) - cn_first)
    extra = rows.pop("outlier")
    start = writer.rows
    frame = _line_frame(rows, ids | {"order": pa.concat_arrays([so_ids, cn_ids])})
    local = np.concatenate([np.zeros(0, np.int64), *(b[0] for b in chunk.bad_rows)]) - start
    extra[local] = 0.0  # a bad copy of an outlier line is rejected, not an outlier
    hit = np.flatnonzero(extra > 0)
    outliers = _frame(
        product_id=frame["product_id"].array[hit],
        order_id=frame["order_id"].array[hit],
        line_no=frame["line_no"].to_numpy()[hit],
        order_date=frame["order_date"].to_numpy()[hit],
        extra_quantity=extra[hit].astype(np.float64),
    )
    writer.write("order_lines", _arrow_table(frame))
    del frame
    for name in _DERIVED:
        writer.write(name, _arrow_table(pd.concat(chunk.derived[name], ignore_index=True)))
    return outliers


class _Writer:
    """One Parquet file per table, a row group per chunk, the schema of the first chunk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows = 0  # order lines written

    def write(self, name: str, table: pa.Table) -> None:
        writer = self.writers.get(name)
        if writer is None:
            path = self.folder / f"{name}.parquet"
            writer = self.writers[name] = pq.ParquetWriter(path, table.schema)
        elif table.schema != writer.schema:
            table = table.cast(writer.schema)  # e.g. a column null throughout the first chunk
        writer.write_table(table, row_group_size=max(table.num_rows, 1))
        if name == "order_lines":
            self.rows += table.num_rows

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def read_workspace(directory: str | Path) -> SynthCompany:
    """A synthetic workspace's tables and truth read back into memory (a small one: tests,
    notebooks); ``parameters`` are those its ``supplyseg.yaml`` was made with."""
    root = Path(directory)

    def read(path: Path) -> pd.DataFrame:
        table = pq.read_table(path)
        frame: pd.DataFrame = table.to_pandas(
            date_as_object=False,
            types_mapper=lambda t: (
                _STR if pa.types.is_string(t) or pa.types.is_large_string(t) else None
            ),
        )
        for col, kind in zip(table.column_names, table.schema.types, strict=True):
            if pa.types.is_date32(kind):  # as `synth_company` gives them
                frame[col] = frame[col].astype("datetime64[ns]")
        return frame

    made = (root / "supplyseg.yaml").read_text(encoding="utf-8").splitlines()[1]
    call = made[made.index("(") + 1 : made.rindex(")")]
    parameters: dict[str, int | float] = {}
    for item in call.split(", "):
        key, value = item.split("=")
        parameters[key] = float(value) if key == "bad_share" else int(value)
    supply = (root / "data" / "suppliers.parquet").exists()
    tables = {name: read(root / "data" / f"{name}.parquet") for name in TABLE_NAMES}
    truth = {
        f"truth_{name}": read(root / "truth" / f"{name}.parquet")
        for name in (
            "customers",
            "products",
            "bad_rows",
            "outliers",
            *(("suppliers",) if supply else ()),
        )
    }
    more = (
        {name: read(root / "data" / f"{name}.parquet") for name in SUPPLY_TABLE_NAMES}
        if supply
        else {}
    )
    return SynthCompany(**tables, **truth, **more, parameters=parameters)
