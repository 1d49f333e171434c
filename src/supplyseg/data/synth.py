"""A synthetic B2B/B2C distributor with known truth, for the demo, the tests and the benchmarks.

`synth_company` builds every canonical table from one seed with vectorised numpy (no per-row
Python loops: 10 M order lines in well under a minute on two cores); `write_workspace` writes
them as Parquet next to a ready, commented ``supplyseg.yaml``. The truth tables hold what was
designed, so tests can check that the analytics recover it. Master data and shared constants
live in ``_synth_master``, the flows (demand, orders, lines and what follows) in ``_synth_flows``.

Horizon and network
    731 daily dates 2024-01-01 (a Monday, so ``day // 7`` is the ISO week) .. 2025-12-31 (the
    data's "today"): 105 weekly buckets, the last one Monday..Wednesday. DCs ``DC1..DCn``
    (kind ``dc``); every customer has a home DC, about 4 % of lines ship from another one.

Customers (``truth_customers``: customer_type, behaviour, cts_level), ids C00001..
    ``key_account`` (5 %, continuous_replenishment, cts low): one order every week on a fixed
    weekday Mon..Wed, EDI, the most lines per order over a broad range, 1 % rush, 3..5 days
    requested lead time, 10 % discount, 60-day terms paid on time.
    ``distributor`` (20 %, lean, cts medium): every 14/21/28 days ±2 days (5 % skipped), portal,
    medium orders, 18 % discount (price-driven: thin or negative margins), 4 % rush.
    ``web_shop`` (60 %, agile, cts high): Poisson timing, 1..2 small lines, web channel,
    35 % rush, 1..3 days requested lead time, 8 % of lines returned, 14-day terms.
    ``project`` (15 %, fully_flexible, cts high): 1..8 one-off orders within a 2..12-month
    project window, phone, few lines with large quantities mostly of lumpy items, 45 % rush,
    often shipped late, pays about 25 days after due (2 % never).
    Separable per customer by order-interval cv (key < distributor < web, project), rush share,
    order value, product breadth and channel. 3 % of non-project orders come in by phone.

Products (``truth_products``: pattern, abc_design, lifecycle, seasonal), ids P00001..
    Demand patterns smooth / erratic / intermittent / lumpy in shares 40/20/25/15 %, designed on
    the product's total weekly demand net of credit notes (Syntetos-Boylan at weekly buckets):
    smooth: every week, gamma sizes with CV² 0.03..0.08;
    erratic: every week, sizes with 15..30 % spike weeks 6..10x the base (CV² ≈ 1..2);
    intermittent: active weeks with probability 0.28..0.45 (ADI ≈ 2.2..3.6), CV² 0.05..0.15;
    lumpy: as intermittent in timing, sizes as erratic. The first and last week of a product's
    designed life are always active. ``abc_design`` classes the designed net revenue at list
    price with cut-offs 80/95 %. Margins 15..45 % on list price.
    Lifecycle (any pattern; shares 88/4/4/4 %, as-of = the week of 2025-12-31): ``active``
    sells from the first to the last week; ``new`` launched 3..10 weeks before the end;
    ``dormant`` stopped 15..21 weeks (about 4 months) before it; ``obsolete`` 39..65 weeks
    (9..15 months) before it. Stopped items keep the stock the inventory table gives them.
    Seasonal (10 % of products, all active smooth ones): a Christmas peak, 1 + 1.5..2.5 times
    a bell of sd 4 weeks centred on 15 December, with 40 % less noise (CV² of the sizes stays
    below 0.49: the items are still smooth). No other item has an annual profile.
    Outliers (``truth_outliers``: product_id, order_id, line_no, order_date, extra_quantity; 2 %
    of products, active smooth non-seasonal ones): one line per item carries 4..6x the
    item's mean weekly demand on top, once, in week 8..96.

How lines are made (the product pattern holds exactly; customer types stay distinguishable)
    1. For every active product-week a total quantity and a line count (at least one line, more
       for popular products and big weeks; together the requested number of lines).
    2. Order headers per customer from its type's rhythm (above).
    3. Each line of a product-week goes to an order of the same week, chosen with probability
       proportional to the order's size (lines) times its type's affinity for the product's
       pattern (projects draw mostly lumpy items, key accounts mostly smooth ones); orders left
       without lines are dropped.
    4. The week's total is split over its lines (each >= 1) in proportion to the type's units per
       line, so the weekly total is exactly the designed one.
    Dates: requested = order + type lead time (1..2 days when rush), promised >= requested,
    ship = promised - transit (never before the order) + lateness; ship/delivery after
    2025-12-31 are null (open orders, in transit), so requested/promised may lie after the
    horizon. About 2..8 % of lines are short-shipped (delivered_quantity < quantity).

Credit notes (0.4 % of lines, not bad rows): one-line documents ``CN0000001..`` with the
    negative quantity of part of an earlier line, same customer, product and price, dated in
    the same ISO week; the original line carries that much more, so net weekly demand is as
    designed. Rule in the YAML: ``order_id`` starts with ``CN`` -> credit_note, netted.

Other tables: ``shipments`` one per (order, ship-from DC) shipped by 2025-12-31, mode by weight
    (parcel <= 30 kg < ltl <= 2 t < ftl), freight by mode and weight, x1.6 when rush;
    ``invoices`` one per shipped order, ``INV`` + the order number, amount = delivered value,
    due = invoice date + terms, paid by the type's habit (null = open); ``returns`` more for web
    shops; ``inventory`` every product at every DC as of 2025-12-31.

Deliberately bad rows (``truth_bad_rows``: table, row_number = 1-based row in the written
    order_lines file, reason_code): ``round(bad_share * lines)`` extra copies of good sales
    lines, each with exactly one defect and a fresh key (line_no after the order's last line),
    inserted at random places, in equal shares: ``missing_required`` (customer_id, product_id,
    quantity or unit_price null), ``zero_quantity``, ``negative_quantity`` (on an SO order),
    ``bad_price`` (negative unit_price), ``date_out_of_range`` (all dates shifted so the order
    date falls 1..60 days before 2024-01-01), ``duplicate_key`` (an exact copy placed after
    its original), ``unknown_customer``, ``unknown_product`` (ids absent from the master
    tables). They are extra rows: the good rows alone carry the designed demand.

Size caveats: ``lines`` is the exact row count of order_lines (good + credit notes + bad). The
designed patterns need at least one line per active product-week, about ``products * 80``
lines; with fewer, product-weeks are dropped at random and the patterns blur. Customer types
separate well from about 50 lines per customer.
"""

import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from supplyseg.data._synth_flows import (
    _bad_rows,
    _credit_notes,
    _demand_cells,
    _design,
    _interleave,
    _inventory,
    _invoices,
    _returns,
    _sales_lines,
    _shipments,
)
from supplyseg.data._synth_master import (
    _BAD_REASONS,
    _BEHAVIOURS,
    _CHANNELS,
    _CREDIT_NOTE_SHARE,
    _CTS_LEVELS,
    _CUSTOMER_SHARE,
    _DATE_COLS,
    _LINE_COLUMNS,
    _NULL,
    _PATTERN_SHARE,
    _SHORT,
    _WEEKS,
    CUSTOMER_TYPES,
    HORIZON_END,
    HORIZON_START,
    LIFECYCLES,
    PATTERNS,
    TABLE_NAMES,
    Arr,
    _abc,
    _classes,
    _customers,
    _dates,
    _frame,
    _ids,
    _locations,
    _products,
    _strings,
    _width,
)
from supplyseg.data._synth_purchasing import SUPPLIER_SEGMENTS, SUPPLY_TABLE_NAMES, synth_supply
from supplyseg.errors import ConfigError

__all__ = [
    "CUSTOMER_TYPES",
    "HORIZON_END",
    "HORIZON_START",
    "LIFECYCLES",
    "PATTERNS",
    "SUPPLIER_SEGMENTS",
    "SUPPLY_TABLE_NAMES",
    "TABLE_NAMES",
    "SynthCompany",
    "synth_company",
    "write_workspace",
]


@dataclass(frozen=True, eq=False)
class SynthCompany:
    """The canonical tables of a synthetic distributor and the truth it was designed with."""

    order_lines: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame
    locations: pd.DataFrame
    shipments: pd.DataFrame
    invoices: pd.DataFrame
    returns: pd.DataFrame
    inventory: pd.DataFrame
    truth_customers: pd.DataFrame
    truth_products: pd.DataFrame
    truth_bad_rows: pd.DataFrame
    truth_outliers: pd.DataFrame
    parameters: dict[str, int | float] = field(default_factory=dict)
    # Purchasing side (``synth_company(suppliers=...)``; None without suppliers).
    suppliers: pd.DataFrame | None = None
    purchase_orders: pd.DataFrame | None = None
    sourcing_options: pd.DataFrame | None = None
    truth_suppliers: pd.DataFrame | None = None


# ---------------------------------------------------------------- public API


def _check_int(name: str, value: object, low: int, high: int, why: str = "") -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
        if low <= number <= high:
            return number
    raise ConfigError(
        f"synth_company: {name}={value!r} is not allowed; use an integer from {low:,} to"
        f" {high:,}{why}"
    )


def _check_share(name: str, value: object, high: float) -> float:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and 0.0 <= number <= high:
            return number
    raise ConfigError(
        f"synth_company: {name}={value!r} is not allowed; use a number from 0 to {high}"
    )


def _parameters(
    customers: object,
    products: object,
    lines: object,
    seed: object,
    locations: object,
    bad_share: object,
    suppliers: object,
    po_lines: object,
) -> dict[str, int | float]:
    """The checked arguments of `synth_company` (suppliers and po_lines only when suppliers)."""
    n_customers = _check_int("customers", customers, 4, 10_000_000, " (one per customer type)")
    n_products = _check_int("products", products, 1, 1_000_000)
    params: dict[str, int | float] = {"customers": n_customers, "products": n_products}
    params |= {
        "lines": _check_int("lines", lines, 100, 100_000_000),
        "seed": _check_int("seed", seed, 0, 2**63 - 1),
        "locations": _check_int("locations", locations, 1, 50),
        "bad_share": _check_share("bad_share", bad_share, 0.1),
    }
    n_suppliers = _check_int("suppliers", suppliers, 0, 100_000)
    n_po = _check_int("po_lines", 20 * n_products if po_lines is None else po_lines, 1, 10**8)
    if n_suppliers:
        params |= {"suppliers": n_suppliers, "po_lines": n_po}
    return params


@dataclass(frozen=True, eq=False)
class _Master:
    """Master data and the per-customer/per-product codes the flows are drawn from."""

    locations: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame
    kind: Arr  # customer type code per customer
    home: Arr  # home DC code per customer
    pattern: Arr  # demand pattern code per product
    loc_share: Arr  # each DC's share of the customers
    list_price: Arr
    unit_weight: Arr


def _master(rng: np.random.Generator, customers: int, products: int, locations: int) -> _Master:
    loc_frame = _locations(locations)
    loc_share = 1.0 / np.sqrt(np.arange(1.0, locations + 1))
    loc_share /= loc_share.sum()
    kind = _classes(rng, customers, _CUSTOMER_SHARE, 1)
    home = rng.choice(locations, customers, p=loc_share)
    cust_frame = _customers(rng, kind, home, loc_frame["region"])
    pattern = _classes(rng, products, _PATTERN_SHARE, 0)
    prod_frame, list_price, unit_weight = _products(rng, products)
    return _Master(
        loc_frame, cust_frame, prod_frame, kind, home, pattern, loc_share, list_price, unit_weight
    )


def synth_company(
    customers: int = 2000,
    products: int = 500,
    lines: int = 200_000,
    seed: int = 0,
    locations: int = 3,
    bad_share: float = 0.002,
    suppliers: int = 0,
    po_lines: int | None = None,
) -> SynthCompany:
    """A synthetic distributor with designed customer types, demand patterns and bad rows.

    ``lines`` is the exact number of order-line rows: sales lines, 0.4 % credit notes and
    ``round(bad_share * lines)`` bad rows. Same arguments, same tables (see the module docstring).
    ``suppliers`` > 0 adds suppliers, purchase orders (``po_lines`` of them, default 20 per
    product) and sourcing options with designed Kraljic segments (`_synth_purchasing`); they draw
    from a random stream of their own, so the other tables do not change.
    """
    params = _parameters(
        customers, products, lines, seed, locations, bad_share, suppliers, po_lines
    )
    customers, products, lines = (int(params[k]) for k in ("customers", "products", "lines"))
    seed, locations, bad_share = int(params["seed"]), int(params["locations"]), params["bad_share"]
    suppliers, po_lines = int(params.get("suppliers", 0)), int(params.get("po_lines", 0))
    rng = np.random.default_rng(seed)
    n_bad, n_cn = round(bad_share * lines), round(_CREDIT_NOTE_SHARE * lines)

    master = _master(rng, customers, products, locations)
    loc_frame, cust_frame, prod_frame = master.locations, master.customers, master.products
    kind, home, pattern, loc_share = master.kind, master.home, master.pattern, master.loc_share
    list_price, unit_weight = master.list_price, master.unit_weight

    design = _design(rng, pattern)
    cells = _demand_cells(rng, pattern, design, lines - n_bad - n_cn)
    prices = (list_price, prod_frame["unit_cost"].to_numpy())
    sales, orders = _sales_lines(rng, cells, pattern, kind, home, locations, prices)
    credit = _credit_notes(rng, sales, n_cn)  # before deliveries: it grows the sales lines
    n_orders = len(orders["kind"])
    _deliver(rng, sales, credit, orders)

    width = _width(max(n_orders, n_cn), 7)
    ids: dict[str, Any] = {
        "order": _ids("SO", np.arange(1, n_orders + 1), width),
        "customer": _ids("C", np.arange(1, customers + n_bad + 1), _width(customers, 5)),
        "product": _ids("P", np.arange(1, products + n_bad + 1), _width(products, 5)),
        "location": pa.array([f"DC{i + 1}" for i in range(locations)]),
        "width": width,
    }
    shipments = _shipments(rng, sales, orders, unit_weight, locations, ids)
    invoices = _invoices(rng, sales, orders, ids)
    returns = _returns(rng, sales, orders, ids)
    weekly = np.bincount(cells[0], cells[2], products)
    inventory = _inventory(rng, weekly / _WEEKS, loc_share, ids)

    good = _good_rows(sales, credit)
    bad, slot, reason = _bad_rows(rng, good, n_bad, n_orders, (customers, products))
    rows, position = _interleave(good, bad, slot)
    order_ids = pa.concat_arrays([ids["order"], _ids("CN", np.arange(1, n_cn + 1), width)])
    order_lines = _line_frame(rows, ids | {"order": order_ids})
    extra = rows.pop("outlier")
    extra[position] = 0.0  # a bad copy of an outlier line is rejected, not an outlier
    hit = np.flatnonzero(extra > 0)
    truth_outliers = _frame(
        product_id=order_lines["product_id"].array[hit],
        order_id=order_lines["order_id"].array[hit],
        line_no=order_lines["line_no"].to_numpy()[hit],
        order_date=order_lines["order_date"].to_numpy()[hit],
        extra_quantity=extra[hit].astype(np.float64),
    ).sort_values(["product_id", "order_date"], ignore_index=True)
    truth_bad = _frame(
        table=pa.array(["order_lines"] * n_bad),
        row_number=position + 1,
        reason_code=_strings([r.value for r in _BAD_REASONS], reason),
    ).sort_values("row_number", ignore_index=True)
    supply = (
        synth_supply(
            np.random.default_rng([seed, 21]), prod_frame, suppliers, po_lines, locations, loc_share
        )
        if suppliers
        else None
    )
    return SynthCompany(
        order_lines=order_lines,
        customers=cust_frame,
        products=prod_frame,
        locations=loc_frame,
        shipments=shipments,
        invoices=invoices,
        returns=returns,
        inventory=inventory,
        truth_customers=_frame(
            customer_id=cust_frame["customer_id"].array,
            customer_type=_strings(CUSTOMER_TYPES, kind),
            behaviour=_strings(_BEHAVIOURS, kind),
            cts_level=_strings(_CTS_LEVELS, kind),
        ),
        truth_products=_frame(
            product_id=prod_frame["product_id"].array,
            pattern=_strings(PATTERNS, pattern),
            abc_design=_strings(("A", "B", "C"), _abc(weekly * list_price)),
            lifecycle=_strings(LIFECYCLES, design["life"]),
            seasonal=design["seasonal"],
        ),
        truth_bad_rows=truth_bad,
        truth_outliers=truth_outliers,
        parameters=params,
        suppliers=supply.suppliers if supply else None,
        purchase_orders=supply.purchase_orders if supply else None,
        sourcing_options=supply.sourcing_options if supply else None,
        truth_suppliers=supply.truth_suppliers if supply else None,
    )


def _deliver(
    rng: np.random.Generator, sales: dict[str, Any], credit: dict[str, Any], orders: dict[str, Any]
) -> None:
    """Add ``delivered_quantity``: the ordered quantity but on short-shipped lines, null when
    not shipped (and on credit notes)."""
    qty, line_kind = sales["quantity"], orders["kind"][sales["order"]]
    short = rng.random(len(qty)) < _SHORT[line_kind]
    delivered = np.where(short, np.floor(qty * rng.uniform(0.3, 0.95, len(qty))), qty)
    sales["delivered_quantity"] = np.where(sales["ship_date"] != _NULL, delivered, np.nan)
    credit["delivered_quantity"] = np.full(len(credit["quantity"]), np.nan)


def _good_rows(sales: dict[str, Any], credit: dict[str, Any]) -> dict[str, Any]:
    """All good rows in date order (sales then credit notes within a day); empties both."""
    by_day = np.argsort(
        np.r_[sales["order_date"], credit["order_date"]].astype(np.int16), kind="stable"
    )
    return {k: np.concatenate([sales.pop(k), credit.pop(k)])[by_day] for k in list(sales)}


def _line_frame(rows: dict[str, Any], ids: dict[str, Any]) -> pd.DataFrame:
    """The order_lines frame of line columns (codes; popped) and the id dictionaries ``ids``
    (order, customer, product, location) the codes index."""
    text = {"channel": pa.array(_CHANNELS)} | {
        k: ids[k] for k in ("order", "customer", "product", "location")
    }
    columns: dict[str, Any] = {}
    for col in _LINE_COLUMNS:  # one column at a time: the peak is one frame plus one column
        v = rows.pop(col)
        name = f"{col}_id" if col in ("order", "customer", "product", "location") else col
        if col in text:
            columns[name] = _strings(text[col], v)
        elif col in _DATE_COLS:
            columns[name] = _dates(v)
        else:
            columns[name] = v.astype(np.int64) if col == "line_no" else v
    return _frame(**columns)


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A frame as the Arrow table written to Parquet: dates as ``date32`` (what the contract
    calls a date), no pandas metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, col in enumerate(table.schema):
        if pa.types.is_timestamp(col.type):
            table = table.set_column(i, col.name, pc.cast(table.column(i), pa.date32()))
    return table.replace_schema_metadata(None)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    pq.write_table(_arrow_table(frame), path)


_YAML = """\
# supplyseg workspace: a synthetic B2B/B2C distributor written by supplyseg.data.synth.
# Made by {made_by}({call}).
# Every table under data/ already uses the canonical column names, so no `columns:` mapping is
# needed. truth/ holds what was designed (customer types; product demand patterns, lifecycles
# and seasonality; injected outlier lines; the deliberately bad order lines); supplyseg does
# not read it. Those bad lines ({bad}) are meant to land in the run's rejects.parquet, each
# with the reason truth/bad_rows.parquet names.
name: synthetic distributor (seed {seed})

data:
  order_lines:
    path: data/order_lines.parquet
    rules:
      # Credit notes are their own documents, numbered CN..., with negative quantities.
      - name: credit notes
        column: order_id
        starts_with: "CN"
        action: credit_note
{tables}
analysis:
  start: {start}    # first order day of the data
  end: {end}      # last order day: the data's "today"
  bucket: week          # demand classes per ISO week (Monday..Sunday)
  credit_notes: net     # credit notes are loaded and net demand and revenue
"""


def write_workspace(company: SynthCompany, directory: str | Path) -> Path:
    """Write ``data/<table>.parquet``, ``truth/*.parquet`` and ``supplyseg.yaml``; returns the
    path of ``supplyseg.yaml``."""
    root = Path(directory)
    for sub in ("data", "truth"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    supply = SUPPLY_TABLE_NAMES if company.suppliers is not None else ()
    for name in (*TABLE_NAMES, *supply):
        _write_parquet(getattr(company, name), root / "data" / f"{name}.parquet")
    for name in ("customers", "products", "bad_rows", "outliers", *supply[:1]):
        _write_parquet(getattr(company, f"truth_{name}"), root / "truth" / f"{name}.parquet")
    counts = (len(company.truth_bad_rows), len(company.order_lines))
    return _write_yaml(root, "synth_company", company.parameters, counts, bool(supply))


def _write_yaml(
    root: Path, made_by: str, parameters: dict[str, int | float], bad: tuple[int, int], supply: bool
) -> Path:
    """Write ``supplyseg.yaml`` for the tables under ``root/data``; ``bad`` = (bad rows, lines)."""
    tables = (*TABLE_NAMES[1:], *(SUPPLY_TABLE_NAMES if supply else ()))
    text = _YAML.format(
        made_by=made_by,
        call=", ".join(f"{k}={v!r}" for k, v in parameters.items()),
        seed=parameters.get("seed", "?"),
        bad=f"{bad[0]:,} of {bad[1]:,}",
        tables="".join(f"  {t}:\n    path: data/{t}.parquet\n" for t in tables),
        start=HORIZON_START.isoformat(),
        end=HORIZON_END.isoformat(),
    )
    path = root / "supplyseg.yaml"
    path.write_text(text, encoding="utf-8")
    return path
