"""Synthetic company, part 1: horizon, designed parameters, vector helpers and master data.

See `supplyseg.data.synth` for what is designed and why; this module holds the constants every
part shares, the small vectorised helpers, and the customers, products and locations tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from supplyseg.data.contract import Reason

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
# Designed item properties (see synth's docstring): lifecycle codes in LIFECYCLES order.
LIFECYCLES = ("active", "new", "dormant", "obsolete")
_LIFECYCLE_SHARE = (0.88, 0.04, 0.04, 0.04)
_SEASONAL_SHARE = 0.10  # of all products, drawn from the active smooth ones
_OUTLIER_SHARE = 0.02  # of all products, drawn from the active smooth non-seasonal ones
_PEAK_DAY = 349.0  # day of the year of the seasonal items' Christmas peak (15 December)


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


def _abc(value: Arr) -> Arr:
    """0/1/2 = A/B/C: an item is A while the larger items' share is below 80 %, B below 95 %."""
    order = np.argsort(-value, kind="stable")
    before = (np.cumsum(value[order]) - value[order]) / max(float(value.sum()), 1e-12)
    out = np.empty(len(value), np.int64)
    out[order] = (before >= 0.80).astype(np.int64) + (before >= 0.95)
    return out
