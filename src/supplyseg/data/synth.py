"""A synthetic B2B/B2C distributor with known truth, for the demo, the tests and the benchmarks.

`synth_company` builds every canonical table from one seed with vectorised numpy (no per-row
Python loops: 10 M order lines in well under a minute on two cores); `write_workspace` writes
them as Parquet next to a ready, commented ``supplyseg.yaml``. The truth tables hold what was
designed, so tests can check that the analytics recover it.

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

Products (``truth_products``: pattern, abc_design), ids P00001..
    Demand patterns smooth / erratic / intermittent / lumpy in shares 40/20/25/15 %, designed on
    the product's total weekly demand net of credit notes (Syntetos-Boylan at weekly buckets):
    smooth: every week, gamma sizes with CV² 0.03..0.08 and up to ±15 % seasonality;
    erratic: every week, sizes with 15..30 % spike weeks 6..10x the base (CV² ≈ 1..2);
    intermittent: active weeks with probability 0.28..0.45 (ADI ≈ 2.2..3.6), CV² 0.05..0.15;
    lumpy: as intermittent in timing, sizes as erratic. The first and last week are always
    active, so the product's active horizon is the whole horizon. ``abc_design`` classes the
    designed net revenue at list price with cut-offs 80/95 %. Margins 15..45 % on list price.

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

from __future__ import annotations

import datetime as dt
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
from numpy.typing import NDArray

from supplyseg.data.contract import Reason
from supplyseg.errors import ConfigError

__all__ = [
    "CUSTOMER_TYPES",
    "HORIZON_END",
    "HORIZON_START",
    "PATTERNS",
    "TABLE_NAMES",
    "SynthCompany",
    "synth_company",
    "write_workspace",
]

Arr = NDArray[Any]
Rng = np.random.Generator

HORIZON_END = dt.date(2025, 12, 31)
_DAYS = 731
HORIZON_START = HORIZON_END - dt.timedelta(days=_DAYS - 1)  # 2024-01-01, a Monday
_WEEKS = (_DAYS + 6) // 7
_EPOCH = np.datetime64(HORIZON_START.isoformat(), "D")
_NULL = np.iinfo(np.int32).min  # day offset standing for a null date

CUSTOMER_TYPES = ("key_account", "distributor", "web_shop", "project")
_BEHAVIOURS = ("continuous_replenishment", "lean", "agile", "fully_flexible")
_CTS_LEVELS = ("low", "medium", "high", "high")
_CHANNELS = ("EDI", "portal", "web", "phone")  # index = the type whose channel it is
PATTERNS = ("smooth", "erratic", "intermittent", "lumpy")
_CUSTOMER_SHARE = (0.05, 0.20, 0.60, 0.15)
_PATTERN_SHARE = (0.40, 0.20, 0.25, 0.15)

# Per customer type, in CUSTOMER_TYPES order.
_ORDER_LINES = np.array([12.0, 5.0, 1.0, 6.0])  # relative lines per order
_LINE_UNITS = np.array([6.0, 4.0, 1.0, 16.0])  # relative units per line
_RUSH = np.array([0.01, 0.04, 0.35, 0.45])
_DISCOUNT = np.array([0.10, 0.18, 0.0, 0.02])
_LATE = np.array([0.03, 0.08, 0.10, 0.30])
_SHORT = np.array([0.02, 0.04, 0.03, 0.08])
_RETURNED = np.array([0.005, 0.015, 0.08, 0.02])
_TERMS = np.array([60.0, 30.0, 14.0, 45.0])
_PAY_AFTER_DUE = np.array([[-1.0, 2.0], [3.0, 5.0], [-8.0, 3.0], [25.0, 15.0]])  # mean, sd
_REQUESTED_LEAD = np.array([[3, 6], [5, 15], [1, 4], [7, 31]])  # days, [low, high)
_CREDIT_LIMIT = np.array([5e5, 1.5e5, 2e4, 1e5])
# Affinity of each type's orders for each pattern's products (rows types, columns patterns).
_AFFINITY = np.array(
    [
        [0.55, 0.30, 0.10, 0.05],
        [0.50, 0.30, 0.15, 0.05],
        [0.30, 0.25, 0.35, 0.10],
        [0.10, 0.15, 0.15, 0.60],
    ]
)
_PATTERN_LINES = np.array([1.0, 0.7, 0.35, 0.2])  # relative lines per active week
_PATTERN_UNITS = np.array([6.0, 6.0, 4.0, 20.0])  # median units per line
_CREDIT_NOTE_SHARE = 0.004
_BAD_REASONS: tuple[Reason, ...] = (Reason.MISSING_REQUIRED, Reason.ZERO_QUANTITY)
_BAD_REASONS += (Reason.NEGATIVE_QUANTITY, Reason.BAD_PRICE, Reason.DATE_OUT_OF_RANGE)
_BAD_REASONS += (Reason.DUPLICATE_KEY, Reason.UNKNOWN_CUSTOMER, Reason.UNKNOWN_PRODUCT)
_RETURN_REASONS = ("damaged", "wrong_item", "not_needed", "quality", "late_delivery")
_REGIONS = ("North", "South", "West", "East", "Central", "Coast", "Alpine", "Lakes")
_COUNTRIES = ("DE", "FR", "NL", "PL", "AT", "BE", "CH", "DK")
_CATEGORIES = ("Fasteners", "Tools", "Electrical", "Plumbing", "Safety", "Packaging", "Adhesives")
_NAME_A = ("Alpine", "Baltic", "Central", "Delta", "Eastern", "Falcon", "Granite", "Harbour")
_NAME_B = ("Trading", "Supply", "Industrial", "Logistics", "Wholesale", "Technik", "Build", "Shop")
_NAME_C = ("GmbH", "BV", "SA", "Ltd", "AG", "Sp. z o.o.")
TABLE_NAMES: tuple[str, ...] = ("order_lines", "customers", "products", "locations")
TABLE_NAMES += ("shipments", "invoices", "returns", "inventory")
_DATE_COLS = ("order_date", "requested_date", "promised_date", "ship_date", "delivered_date")
_LINE_COLUMNS: tuple[str, ...] = ("order", "line_no", "customer", "product", "location")
_LINE_COLUMNS += ("channel", *_DATE_COLS, "quantity", "delivered_quantity", "unit_price")
_LINE_COLUMNS += ("unit_cost", "rush")
# pandas' Arrow-backed string dtype with NaN for missing: the default ``str`` of pandas 3.
_STR = pd.StringDtype("pyarrow", na_value=np.nan)


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
    parameters: dict[str, int | float] = field(default_factory=dict)


# ---------------------------------------------------------------- small vector helpers


def _ids(prefix: str, numbers: Arr, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, as an Arrow string array."""
    text = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "")


def _strings(dictionary: Any, codes: Arr) -> pd.api.extensions.ExtensionArray:
    """``dictionary[codes]`` (null where code < 0) as pandas' Arrow-backed ``str`` array."""
    if not isinstance(dictionary, pa.Array):
        dictionary = pa.array(list(dictionary), pa.string())
    taken = dictionary.take(pa.array(codes, mask=codes < 0))
    return pd.array(taken, dtype=_STR)


def _frame(**columns: Any) -> pd.DataFrame:
    """A DataFrame of the given columns without copies; Arrow strings become ``str`` columns."""
    return pd.DataFrame(
        {k: pd.array(v, dtype=_STR) if isinstance(v, pa.Array) else v for k, v in columns.items()},
        copy=False,
    )


def _dates(days: Arr) -> Arr:
    """Day offsets from 2024-01-01 as datetime64[ns]; ``_NULL`` becomes NaT."""
    null = days == _NULL
    out = (_EPOCH + np.where(null, 0, days).astype("timedelta64[D]")).astype("datetime64[ns]")
    out[null] = np.datetime64("NaT")
    return out


def _ranks(counts: Arr) -> Arr:
    """0..n-1 within consecutive groups of the given sizes."""
    ranks: Arr = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return ranks


def _pick(rng: Rng, probs: Arr) -> Arr:
    """One categorical draw per row of ``probs`` (rows sum to 1)."""
    drawn: Arr = (rng.random(len(probs))[:, None] > np.cumsum(probs, 1)).sum(1)
    capped: Arr = np.minimum(drawn, probs.shape[1] - 1)
    return capped


def _width(n: int, least: int) -> int:
    return max(least, len(str(n)))


def _split(total: Arr, count: Arr, weight: Arr) -> Arr:
    """Split each group's integer total over its ``count`` rows (>= 1 each) by ``weight``."""
    first = np.cumsum(count) - count
    cum = np.cumsum(weight)
    within = cum - np.repeat(cum[first] - weight[first], count)
    share = within / np.repeat(within[first + count - 1], count)
    rest = np.rint(np.repeat(total - count, count) * share)
    prev = np.concatenate([[0.0], rest[:-1]])
    prev[first] = 0.0
    parts: Arr = 1.0 + rest - prev
    return parts


# ---------------------------------------------------------------- master data


def _locations(n: int) -> pd.DataFrame:
    regions = [_REGIONS[i % 8] + (f" {i // 8 + 1}" if i >= 8 else "") for i in range(n)]
    return _frame(
        location_id=pa.array([f"DC{i + 1}" for i in range(n)]),
        kind=pa.array(["dc"] * n),
        region=pa.array(regions),
    )


def _classes(rng: Rng, n: int, shares: tuple[float, ...], least: int) -> Arr:
    """Shuffled class codes in these shares, >= ``least`` each; the largest takes the rounding."""
    counts = np.maximum(least, np.floor(np.array(shares) * n)).astype(np.int64)
    rest = int(np.argmax(shares))
    counts[rest] += n - counts.sum()
    return rng.permutation(np.repeat(np.arange(len(shares), dtype=np.int64), counts))


def _customers(rng: Rng, kind: Arr, home: Arr, regions: pd.Series) -> pd.DataFrame:
    n = len(kind)
    words = [pa.array(w).take(rng.integers(0, len(w), n)) for w in (_NAME_A, _NAME_B, _NAME_C)]
    country = (home + (rng.random(n) < 0.2) * rng.integers(1, len(_COUNTRIES), n)) % 8
    limit = np.round(_CREDIT_LIMIT[kind] * rng.lognormal(0.0, 0.5, n), -3)
    return _frame(
        customer_id=_ids("C", np.arange(1, n + 1), _width(n, 5)),
        name=pc.binary_join_element_wise(*words, " "),
        country=_strings(_COUNTRIES, country),
        region=_strings(list(regions), home),
        channel=_strings(_CHANNELS, kind),
        credit_limit=np.maximum(limit, 1000.0),
        payment_terms_days=_TERMS[kind],
    )


def _products(rng: Rng, n: int) -> tuple[pd.DataFrame, Arr, Arr]:
    """The products table, list prices (margin 15..45 %) and unit weights."""
    ids = _ids("P", np.arange(1, n + 1), _width(n, 5))
    category = rng.integers(0, len(_CATEGORIES), n)
    cost = np.round(np.clip(rng.lognormal(np.log(12.0), 1.0, n), 0.2, 2000.0), 2)
    price = np.round(cost / (1.0 - rng.uniform(0.15, 0.45, n)), 2)
    weight = np.round(np.clip(rng.lognormal(np.log(1.2), 1.0, n), 0.01, 200.0), 3)
    lead = rng.choice(np.array([5.0, 7, 10, 14, 21, 28, 42, 56]), n)
    category_name = pa.array(_CATEGORIES).take(category)
    frame = _frame(
        product_id=ids,
        description=pc.binary_join_element_wise(category_name, "article", ids, " "),
        category=category_name,
        unit_cost=cost,
        unit_weight=weight,
        lead_time_days=lead,
        lead_time_std_days=np.round(lead * rng.uniform(0.1, 0.35, n), 1),
        moq=rng.choice(np.array([1.0, 5, 10, 20, 50, 100]), n),
        order_multiple=rng.choice(np.array([1.0, 1, 5, 10, 12, 24]), n),
    )
    return frame, price, weight


# ---------------------------------------------------------------- demand design


def _demand_cells(rng: Rng, pattern: Arr, n_lines: int) -> tuple[Arr, Arr, Arr, Arr]:
    """Active product-weeks: (product, week, total quantity, line count), sorted by week."""
    n = len(pattern)
    spiky = (pattern == 1) | (pattern == 3)
    p_active = np.where(pattern >= 2, rng.uniform(0.28, 0.45, n), 1.0)
    active = rng.random((n, _WEEKS)) < p_active[:, None]
    active[:, [0, -1]] = True  # the active horizon is the whole horizon
    cv2 = np.where(pattern == 0, rng.uniform(0.03, 0.08, n), rng.uniform(0.05, 0.15, n))[:, None]
    size = rng.gamma(1.0 / cv2, cv2, (n, _WEEKS))
    phase = rng.uniform(0.0, 2 * np.pi, n)[:, None]
    amp = np.where(pattern == 0, rng.uniform(0.0, 0.15, n), 0.0)[:, None]
    size *= 1.0 + amp * np.sin(2 * np.pi * np.arange(_WEEKS) / 52.18 + phase)
    # Spiky sizes: a steady base with 15..30 % of weeks 6..10x higher; a mixture keeps the sample
    # CV² well above 0.49 even over ~30 active weeks (a lognormal's sample CV² often falls below).
    share = rng.uniform(0.15, 0.30, n)[:, None]
    mult = rng.uniform(5.0, 9.0, n)[:, None]
    spikes = rng.gamma(4.0, 0.25, (n, _WEEKS)) * (1 + mult * (rng.random((n, _WEEKS)) < share))
    size = np.where(spiky[:, None], spikes / (1 + mult * share), size)

    week, prod = np.nonzero(active.T)
    if len(prod) > n_lines:  # too few lines for every active product-week: drop some at random
        keep = np.sort(rng.choice(len(prod), n_lines, replace=False))
        week, prod = week[keep], prod[keep]
    size_c = size[prod, week]
    popularity = rng.lognormal(0.0, 1.0, n)
    weight = popularity[prod] * _PATTERN_LINES[pattern[prod]] * np.sqrt(size_c)
    lines = 1 + rng.multinomial(n_lines - len(prod), weight / weight.sum())
    per_week = np.bincount(prod, lines, n) / np.maximum(np.bincount(prod, minlength=n), 1)
    units = _PATTERN_UNITS[pattern] * rng.lognormal(0.0, 0.4, n) * per_week
    total = np.maximum(1.0, np.rint(size_c * units[prod]))
    lines = np.minimum(lines, total).astype(np.int64)
    deficit = n_lines - int(lines.sum())
    while deficit > 0:  # give the lines lost to the cap to the cells with the most room
        room = total - lines
        if not room.any():
            total += 1.0
            continue
        cand = np.flatnonzero(room > 0)
        take = (
            cand if len(cand) <= deficit else cand[np.argsort(-room[cand], kind="stable")[:deficit]]
        )
        lines[take] += 1
        deficit -= len(take)
    return prod, week, total, lines


def _order_headers(rng: Rng, kind: Arr, n_lines: int) -> tuple[Arr, Arr]:
    """Candidate orders (customer, day) from each type's rhythm, sorted by day and customer."""
    parts: list[tuple[Arr, Arr]] = []
    key = np.flatnonzero(kind == 0)
    day = (7 * np.arange(_WEEKS)[None, :] + rng.integers(0, 3, len(key))[:, None]).ravel()
    day += (rng.random(len(day)) < 0.02) & (day + 1 < _DAYS)  # a rare holiday shift
    parts.append((np.repeat(key, _WEEKS), day))

    dist = np.flatnonzero(kind == 1)
    period = rng.choice(np.array([14, 21, 28]), len(dist))
    phase = rng.integers(0, period)
    count = (_DAYS - 1 - phase) // period + 1
    day = np.repeat(phase, count) + _ranks(count) * np.repeat(period, count)
    day += np.rint(rng.normal(0.0, 2.0, len(day))).astype(np.int64)
    keep = rng.random(len(day)) >= 0.05
    parts.append((np.repeat(dist, count)[keep], np.clip(day[keep], 0, _DAYS - 1)))

    web = np.flatnonzero(kind == 2)
    rate = np.clip(rng.lognormal(np.log(0.4), 0.8, len(web)), 0.03, 5.0)
    # Fewer than ~50 lines per customer: web shops order less often, so that candidate orders
    # (about 47 per customer at full rate) stay below the lines that could fill them.
    rate *= min(1.0, n_lines / (50.0 * len(kind)))
    count = rng.poisson(rate * _WEEKS)
    parts.append((np.repeat(web, count), rng.integers(0, _DAYS, int(count.sum()))))

    proj = np.flatnonzero(kind == 3)
    count = np.minimum(1 + rng.poisson(3.0, len(proj)), 8)
    span = rng.integers(60, 366, len(proj))
    start = rng.integers(0, _DAYS - span)
    offset = (rng.random(int(count.sum())) * np.repeat(span, count)).astype(np.int64)
    parts.append((np.repeat(proj, count), np.repeat(start, count) + offset))

    cust = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    order = np.lexsort((cust, day))
    return cust[order], day[order]


def _assign_lines(
    rng: Rng, line_week: Arr, line_pattern: Arr, order_week: Arr, weights: Arr
) -> Arr:
    """For each line, an order of the same week, with probability proportional to its weight.

    ``weights[o, pattern]`` is order o's draw weight for lines of that pattern; every week has
    orders (key accounts order every week), so each line finds one.
    """
    bounds = np.searchsorted(order_week, np.arange(_WEEKS + 1))
    out = np.empty(len(line_week), np.int64)
    for pattern in range(4):  # one vector pass per pattern
        sel = np.flatnonzero(line_pattern == pattern)
        cum = np.concatenate([[0.0], np.cumsum(weights[:, pattern])])
        lo_i, hi_i = bounds[line_week[sel]], bounds[line_week[sel] + 1]
        lo, hi = cum[lo_i], cum[hi_i]
        pick = np.searchsorted(cum, lo + rng.random(len(sel)) * (hi - lo), side="right") - 1
        out[sel] = np.clip(pick, lo_i, hi_i - 1)
    return out


def _order_dates(rng: Rng, kind: Arr, day: Arr) -> dict[str, Arr]:
    """Per order: channel, rush and the dates (``_NULL`` when after the horizon) as int32."""
    n = len(kind)
    rush = rng.random(n) < _RUSH[kind]
    lead = rng.integers(_REQUESTED_LEAD[kind, 0], _REQUESTED_LEAD[kind, 1])
    requested = day + np.where(rush, rng.integers(1, 3, n), lead)
    haggle = np.where((kind == 3) & (rng.random(n) < 0.6), rng.integers(0, 8, n), 0)
    promised = requested + haggle + (rush & (rng.random(n) < 0.3))
    transit = rng.integers(1, 4, n)
    late = np.where(rng.random(n) < _LATE[kind], rng.integers(1, 8, n) * (1 + (kind == 3)), 0)
    ship = np.maximum(day, promised - transit) + late
    delivered = ship + transit + (rng.random(n) < 0.05)
    dates = {
        "order_date": day,
        "requested_date": requested,
        "promised_date": promised,
        "ship_date": np.where(ship < _DAYS, ship, _NULL),
        "delivered_date": np.where(delivered < _DAYS, delivered, _NULL),
    }
    return {
        **{k: v.astype(np.int32) for k, v in dates.items()},
        "channel": np.where((kind != 3) & (rng.random(n) < 0.03), 3, kind).astype(np.int8),
        "rush": rush,
    }


def _sales_lines(
    rng: Rng,
    cells: tuple[Arr, ...],
    pattern: Arr,
    kind: Arr,
    home: Arr,
    n_loc: int,
    prices: tuple[Arr, Arr],
) -> tuple[dict[str, Arr], dict[str, Arr]]:
    """Sales lines (columns of codes, sorted by order) and their orders (sorted by date).

    ``home`` is each customer's DC; ``prices`` each product's list price and unit cost.
    """
    cell_prod, cell_week, cell_total, cell_lines = cells
    list_price, unit_cost = prices
    o_cust, o_day = _order_headers(rng, kind, int(cell_lines.sum()))
    o_kind = kind[o_cust]
    size = _ORDER_LINES[o_kind] * rng.lognormal(0.0, 0.3, len(o_kind))
    line_cell = np.repeat(np.arange(len(cell_prod)), cell_lines)
    prod = cell_prod[line_cell]
    week = cell_week[line_cell]
    del line_cell
    order = _assign_lines(rng, week, pattern[prod], o_day // 7, size[:, None] * _AFFINITY[o_kind])
    del week
    units = _LINE_UNITS[o_kind[order]] * rng.lognormal(0.0, 0.4, len(order))
    qty = _split(cell_total, cell_lines, units)
    del units
    used = np.bincount(order, minlength=len(o_cust)) > 0  # orders left without lines are dropped
    order = (np.cumsum(used) - 1)[order].astype(np.int32)
    by_order = np.argsort(order, kind="stable")
    order, prod, qty = order[by_order], prod[by_order].astype(np.int32), qty[by_order]
    del by_order
    orders = {"customer": o_cust[used], "kind": o_kind[used]}
    orders |= _order_dates(rng, orders["kind"], o_day[used])
    n = len(order)
    cust = orders["customer"][order]
    loc = home[cust]
    if n_loc > 1:  # a few lines ship from another DC
        other = rng.random(n) < 0.04
        loc = np.where(other, (loc + rng.integers(1, n_loc, n)) % n_loc, loc)
    line_kind = orders["kind"][order]
    price = list_price[prod] * (1.0 - _DISCOUNT[line_kind]) * rng.normal(1.0, 0.02, n)
    lines = {
        "order": order,
        "line_no": (_ranks(np.bincount(order, minlength=len(orders["kind"]))) + 1).astype(np.int32),
        "customer": cust.astype(np.int32),
        "product": prod,
        "location": loc.astype(np.int8),
        **{c: orders[c][order] for c in ("channel", *_DATE_COLS)},
        "quantity": qty,
        "unit_price": np.maximum(0.01, np.round(price, 2)),
        "unit_cost": unit_cost[prod],
        "rush": orders["rush"][order],
    }
    return lines, orders


def _credit_notes(rng: Rng, lines: dict[str, Arr], n_cn: int) -> dict[str, Arr]:
    """Credit notes (date order) for part of the quantity of ``n_cn`` random sales lines.

    The sales lines grow by the credited amount, so net weekly demand stays as designed.
    """
    n_orders = int(lines["order"][-1]) + 1
    src = rng.choice(len(lines["quantity"]), n_cn, replace=False)
    credit = 1.0 + np.floor(rng.random(n_cn) * lines["quantity"][src] * 0.5)
    lines["quantity"][src] += credit
    day = lines["order_date"][src]
    day = np.minimum(day + rng.integers(0, 7 - day % 7), _DAYS - 1).astype(np.int32)  # same week
    by_day = np.argsort(day, kind="stable")
    cn = {k: v[src][by_day] for k, v in lines.items()}
    cn |= {
        "order": (n_orders + np.arange(n_cn)).astype(np.int32),
        "line_no": np.ones(n_cn, np.int32),
        "order_date": day[by_day],
        "quantity": -credit[by_day],
        "rush": np.zeros(n_cn, bool),
    }
    for col in _DATE_COLS[1:]:
        cn[col] = np.full(n_cn, _NULL, np.int32)
    return cn


def _bad_rows(
    rng: Rng, good: dict[str, Arr], n_bad: int, n_orders: int, masters: tuple[int, int]
) -> tuple[dict[str, Arr], Arr, Arr]:
    """Copies of sales lines with one defect each: (columns, good row to go before, reason).

    ``masters`` are the numbers of customers and products: codes from there on are unknown.
    """
    customers, products = masters
    n_good = len(good["quantity"])
    src = rng.choice(np.flatnonzero(good["order"] < n_orders), n_bad, replace=False)
    reason = rng.permutation(np.arange(n_bad) % len(_BAD_REASONS))
    bad = {k: v[src] for k, v in good.items()}
    dup = reason == _BAD_REASONS.index(Reason.DUPLICATE_KEY)
    # Every other defect gets a fresh key: the next line numbers after the order's last line.
    last_line = np.bincount(good["order"], minlength=n_orders)  # sales lines are numbered 1..n
    fresh = np.flatnonzero(~dup)
    fresh = fresh[np.argsort(bad["order"][fresh], kind="stable")]
    o = bad["order"][fresh]
    starts = np.flatnonzero(np.r_[True, o[1:] != o[:-1]])
    rank = np.arange(len(o)) - np.repeat(starts, np.diff(np.r_[starts, len(o)]))
    bad["line_no"][fresh] = last_line[o] + 1 + rank

    def rows(r: str) -> Arr:
        return np.flatnonzero(reason == _BAD_REASONS.index(Reason(r)))

    missing = rows("missing_required")
    for i, col in enumerate(("customer", "product", "quantity", "unit_price")):
        bad[col][missing[i::4]] = -1 if i < 2 else np.nan
    zero = rows("zero_quantity")
    bad["quantity"][zero] = 0.0
    bad["delivered_quantity"][zero] = np.minimum(bad["delivered_quantity"][zero], 0.0)
    neg = rows("negative_quantity")
    bad["quantity"][neg] *= -1.0
    bad["delivered_quantity"][neg] = np.nan
    bad["unit_price"][rows("bad_price")] *= -1.0
    early = rows("date_out_of_range")
    shift = bad["order_date"][early] + rng.integers(1, 61, len(early))  # to 1..60 days before
    for col in _DATE_COLS:
        days = bad[col][early]
        bad[col][early] = np.where(days == _NULL, _NULL, days - shift)
    unknown = rows("unknown_customer")
    bad["customer"][unknown] = customers + np.arange(len(unknown))
    unknown = rows("unknown_product")
    bad["product"][unknown] = products + np.arange(len(unknown))
    slot = rng.integers(0, n_good + 1, n_bad)
    slot[dup] = rng.integers(src[dup] + 1, n_good + 1)  # a duplicate comes after its original
    return bad, slot, reason


def _interleave(good: dict[str, Arr], bad: dict[str, Arr], slot: Arr) -> tuple[dict[str, Arr], Arr]:
    """Bad row j goes before good row ``slot[j]``; returns the columns and the bad rows' places.

    Consumes ``good`` column by column to keep the peak memory down.
    """
    n_good, n_bad = len(good["quantity"]), len(slot)
    order = np.argsort(slot, kind="stable")
    bad_pos = slot[order] + np.arange(n_bad)
    good_pos = np.arange(n_good) + np.searchsorted(slot[order], np.arange(n_good), side="right")
    out: dict[str, Arr] = {}
    for k in list(good):
        v = good.pop(k)
        out[k] = np.empty(n_good + n_bad, v.dtype)
        out[k][good_pos] = v
        out[k][bad_pos] = bad[k][order]
    position = np.empty(n_bad, np.int64)
    position[order] = bad_pos
    return out, position


# ---------------------------------------------------------------- derived tables


def _shipments(
    rng: Rng,
    lines: dict[str, Arr],
    orders: dict[str, Arr],
    unit_weight: Arr,
    n_loc: int,
    ids: dict[str, pa.Array],
) -> pd.DataFrame:
    """One shipment per shipped (order, ship-from DC); freight by mode and weight, rush x1.6."""
    shipped = lines["ship_date"] != _NULL
    order = lines["order"][shipped].astype(np.int64)
    kilos = lines["delivered_quantity"][shipped] * unit_weight[lines["product"][shipped]]
    keys, inverse = np.unique(order * n_loc + lines["location"][shipped], return_inverse=True)
    weight = np.round(np.bincount(inverse, kilos), 3)
    s_order = keys // n_loc
    mode = (weight > 30).astype(np.int64) + (weight > 2000)
    freight: Arr = np.array([5.5, 45.0, 650.0])[mode] + np.array([0.9, 0.12, 0.03])[mode] * weight
    freight *= np.where(orders["rush"][s_order], 1.6, 1.0) * rng.lognormal(0.0, 0.1, len(keys))
    n = len(keys)
    return _frame(
        shipment_id=_ids("SH", np.arange(1, n + 1), _width(n, 7)),
        order_id=_strings(ids["order"], s_order),
        ship_date=_dates(orders["ship_date"][s_order]),
        freight_cost=np.round(freight, 2),
        mode=_strings(("parcel", "ltl", "ftl"), mode),
        weight=weight,
        location_id=_strings(ids["location"], keys % n_loc),
    )


def _invoices(
    rng: Rng, lines: dict[str, Arr], orders: dict[str, Arr], ids: dict[str, Any]
) -> pd.DataFrame:
    """One invoice per shipped order (``INV`` + the order number), paid by the type's habit."""
    value = np.nan_to_num(lines["delivered_quantity"] * lines["unit_price"])
    amount = np.bincount(lines["order"], value, minlength=len(orders["kind"]))
    inv = np.flatnonzero(orders["ship_date"] != _NULL)
    kind, day = orders["kind"][inv], orders["ship_date"][inv].astype(np.int64)
    due = day + _TERMS[kind].astype(np.int64)
    late = np.rint(rng.normal(_PAY_AFTER_DUE[kind, 0], _PAY_AFTER_DUE[kind, 1]))
    paid = np.maximum(day, due + late.astype(np.int64))
    unpaid = (paid >= _DAYS) | ((kind == 3) & (rng.random(len(inv)) < 0.02))
    return _frame(
        invoice_id=_ids("INV", inv + 1, ids["width"]),
        customer_id=_strings(ids["customer"], orders["customer"][inv]),
        invoice_date=_dates(day),
        due_date=_dates(due),
        amount=np.round(amount[inv], 2),
        paid_date=_dates(np.where(unpaid, _NULL, paid)),
    )


def _returns(
    rng: Rng, lines: dict[str, Arr], orders: dict[str, Arr], ids: dict[str, Any]
) -> pd.DataFrame:
    """Returns of delivered lines within 4 weeks of delivery, most of them from web shops."""
    kind = orders["kind"][lines["order"]]
    delivered = np.nan_to_num(lines["delivered_quantity"])
    hit = (lines["delivered_date"] != _NULL) & (delivered >= 1)
    idx = np.flatnonzero(hit & (rng.random(len(kind)) < _RETURNED[kind]))
    when = lines["delivered_date"][idx] + rng.integers(1, 29, len(idx))
    idx, when = idx[when < _DAYS], when[when < _DAYS]
    qty = np.minimum(delivered[idx], 1 + np.floor(rng.random(len(idx)) * delivered[idx] * 0.5))
    web = np.array([0.15, 0.20, 0.50, 0.10, 0.05])  # probabilities of _RETURN_REASONS
    other = np.array([0.35, 0.20, 0.05, 0.30, 0.10])
    reason = _pick(rng, np.where((kind[idx] == 2)[:, None], web, other))
    n = len(idx)
    return _frame(
        return_id=_ids("RT", np.arange(1, n + 1), _width(n, 7)),
        order_id=_strings(ids["order"], lines["order"][idx]),
        product_id=_strings(ids["product"], lines["product"][idx]),
        quantity=qty,
        return_date=_dates(when),
        reason=_strings(_RETURN_REASONS, reason),
    )


def _inventory(rng: Rng, weekly: Arr, loc_share: Arr, ids: dict[str, Any]) -> pd.DataFrame:
    """Every product at every DC: 0..6 weeks of cover on hand (5 % out of stock), some on order."""
    mean = (weekly[:, None] * loc_share[None, :]).ravel()
    n, n_loc = len(mean), len(loc_share)
    return _frame(
        product_id=_strings(ids["product"], np.repeat(np.arange(len(weekly)), n_loc)),
        location_id=_strings(ids["location"], np.tile(np.arange(n_loc), len(weekly))),
        on_hand=np.rint(mean * rng.uniform(0.0, 6.0, n)) * (rng.random(n) >= 0.05),
        on_order=np.rint(mean * rng.uniform(0.0, 4.0, n)) * (rng.random(n) < 0.5),
        as_of=_dates(np.full(n, _DAYS - 1)),
    )


def _abc(value: Arr) -> Arr:
    """0/1/2 = A/B/C: an item is A while the larger items' share is below 80 %, B below 95 %."""
    order = np.argsort(-value, kind="stable")
    before = (np.cumsum(value[order]) - value[order]) / max(float(value.sum()), 1e-12)
    out = np.empty(len(value), np.int64)
    out[order] = (before >= 0.80).astype(np.int64) + (before >= 0.95)
    return out


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


def synth_company(
    customers: int = 2000,
    products: int = 500,
    lines: int = 200_000,
    seed: int = 0,
    locations: int = 3,
    bad_share: float = 0.002,
) -> SynthCompany:
    """A synthetic distributor with designed customer types, demand patterns and bad rows.

    ``lines`` is the exact number of order-line rows: sales lines, 0.4 % credit notes and
    ``round(bad_share * lines)`` bad rows. Same arguments, same tables (see the module docstring).
    """
    customers = _check_int("customers", customers, 4, 10_000_000, " (one per customer type)")
    products = _check_int("products", products, 1, 1_000_000)
    lines = _check_int("lines", lines, 100, 100_000_000)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    locations = _check_int("locations", locations, 1, 50)
    bad_share = _check_share("bad_share", bad_share, 0.1)
    params: dict[str, int | float] = {"customers": customers, "products": products}
    params |= {"lines": lines, "seed": seed, "locations": locations, "bad_share": bad_share}
    rng = np.random.default_rng(seed)
    n_bad, n_cn = round(bad_share * lines), round(_CREDIT_NOTE_SHARE * lines)

    loc_frame = _locations(locations)
    loc_share = 1.0 / np.sqrt(np.arange(1.0, locations + 1))
    loc_share /= loc_share.sum()
    kind = _classes(rng, customers, _CUSTOMER_SHARE, 1)
    home = rng.choice(locations, customers, p=loc_share)
    cust_frame = _customers(rng, kind, home, loc_frame["region"])
    pattern = _classes(rng, products, _PATTERN_SHARE, 0)
    prod_frame, list_price, unit_weight = _products(rng, products)

    cells = _demand_cells(rng, pattern, lines - n_bad - n_cn)
    prices = (list_price, prod_frame["unit_cost"].to_numpy())
    sales, orders = _sales_lines(rng, cells, pattern, kind, home, locations, prices)
    credit = _credit_notes(rng, sales, n_cn)  # before deliveries: it grows the sales lines
    n_orders = len(orders["kind"])
    qty, line_kind = sales["quantity"], orders["kind"][sales["order"]]
    short = rng.random(len(qty)) < _SHORT[line_kind]
    delivered = np.where(short, np.floor(qty * rng.uniform(0.3, 0.95, len(qty))), qty)
    sales["delivered_quantity"] = np.where(sales["ship_date"] != _NULL, delivered, np.nan)
    credit["delivered_quantity"] = np.full(n_cn, np.nan)
    del qty, line_kind, short, delivered

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

    # All good rows in date order (sales then credit notes within a day), then the bad rows.
    by_day = np.argsort(
        np.r_[sales["order_date"], credit["order_date"]].astype(np.int16), kind="stable"
    )
    good = {k: np.concatenate([sales.pop(k), credit.pop(k)])[by_day] for k in list(sales)}
    del by_day
    bad, slot, reason = _bad_rows(rng, good, n_bad, n_orders, (customers, products))
    rows, position = _interleave(good, bad, slot)
    order_ids = pa.concat_arrays([ids["order"], _ids("CN", np.arange(1, n_cn + 1), width)])
    text = {"order": order_ids, "channel": pa.array(_CHANNELS)}
    text |= {k: ids[k] for k in ("customer", "product", "location")}
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
    order_lines = _frame(**columns)
    del columns
    truth_bad = _frame(
        table=pa.array(["order_lines"] * n_bad),
        row_number=position + 1,
        reason_code=_strings([r.value for r in _BAD_REASONS], reason),
    ).sort_values("row_number", ignore_index=True)
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
        ),
        truth_bad_rows=truth_bad,
        parameters=params,
    )


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame as Parquet with dates as ``date32`` (what the contract calls a date)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, col in enumerate(table.schema):
        if pa.types.is_timestamp(col.type):
            table = table.set_column(i, col.name, pc.cast(table.column(i), pa.date32()))
    pq.write_table(table.replace_schema_metadata(None), path)


_YAML = """\
# supplyseg workspace: a synthetic B2B/B2C distributor written by supplyseg.data.synth.
# Made by synth_company({call}).
# Every table under data/ already uses the canonical column names, so no `columns:` mapping is
# needed. truth/ holds what was designed (customer types, product demand patterns, the
# deliberately bad order lines); supplyseg does not read it. Those bad lines ({bad}) are
# meant to land in the run's rejects.parquet, each with the reason truth/bad_rows.parquet names.
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
    for name in TABLE_NAMES:
        _write_parquet(getattr(company, name), root / "data" / f"{name}.parquet")
    for name in ("customers", "products", "bad_rows"):
        _write_parquet(getattr(company, f"truth_{name}"), root / "truth" / f"{name}.parquet")
    text = _YAML.format(
        call=", ".join(f"{k}={v!r}" for k, v in company.parameters.items()),
        seed=company.parameters.get("seed", "?"),
        bad=f"{len(company.truth_bad_rows):,} of {len(company.order_lines):,}",
        tables="".join(f"  {t}:\n    path: data/{t}.parquet\n" for t in TABLE_NAMES[1:]),
        start=HORIZON_START.isoformat(),
        end=HORIZON_END.isoformat(),
    )
    path = root / "supplyseg.yaml"
    path.write_text(text, encoding="utf-8")
    return path
