"""Labels and integer codes of the policy modules, and the Arrow lookups between them.

Item arrays carry small integer codes (template, demand pattern, distribution, inventory rule)
instead of strings: a million items cost a few MB, group in one hashing pass, and `strings`
turns codes back into Arrow-backed labels for the policies table. Ids are matched with Arrow's
hash lookups (`positions`), never a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from supplyseg.policy.forecast import PATTERNS

__all__ = [
    "BASE_STOCK",
    "BUCKET_UNIT",
    "DAYS_PER_BUCKET",
    "DISTRIBUTIONS",
    "DORMANT",
    "EMPIRICAL",
    "ERRATIC",
    "GAMMA",
    "INTERMITTENT",
    "ITEM_KEY_SEP",
    "LIFECYCLES",
    "LUMPY",
    "MTO",
    "NEW",
    "NONE",
    "NORMAL",
    "NO_STOCK",
    "OBSOLETE",
    "ORDER_UP_TO",
    "PATTERNS",
    "POISSON",
    "PROGRAMS",
    "RULES",
    "SHORT",
    "SMOOTH",
    "STR",
    "BoolArray",
    "FloatArray",
    "IntArray",
    "arrow_strings",
    "codes",
    "floats",
    "item_keys",
    "positions",
    "strings",
]

DAYS_PER_BUCKET = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0}
BUCKET_UNIT = {"day": "d", "week": "wk", "month": "mo"}
ITEM_KEY_SEP = "@"
DISTRIBUTIONS = ("none", "normal", "gamma", "poisson", "empirical")
NONE, NORMAL, GAMMA, POISSON, EMPIRICAL = range(len(DISTRIBUTIONS))
INTERMITTENT, LUMPY, SHORT = (
    PATTERNS.index(p) for p in ("intermittent", "lumpy", "insufficient_history")
)
SMOOTH, ERRATIC = PATTERNS.index("smooth"), PATTERNS.index("erratic")
RULES = ("rop_eoq", "order_up_to", "base_stock", "make_to_order", "no_stock")
ORDER_UP_TO, BASE_STOCK, MTO, NO_STOCK = 1, 2, 3, 4
LIFECYCLES = ("new", "active", "dormant", "obsolete")
NEW, _ACTIVE, DORMANT, OBSOLETE = range(len(LIFECYCLES))
PROGRAMS = ("standard", "vmi", "crp", "make_to_order")
STR = pd.StringDtype("pyarrow", na_value=np.nan)
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def floats(df: pd.DataFrame, col: str) -> FloatArray:
    """A column as float64, NaN where missing or not a number."""
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def arrow_strings(values: pd.Series) -> pa.Array:
    """String values as one Arrow array (zero-copy for Arrow-backed pandas strings)."""
    arr = pa.array(values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    return arr


def positions(values: pa.Array, keys: pa.Array) -> IntArray:
    """Position of each value in ``keys`` (first match), -1 when absent or null."""
    if keys.type != values.type:
        keys = pc.cast(keys, values.type)
    found = pc.index_in(values, value_set=keys).fill_null(-1)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def item_keys(product: pa.Array, location: pa.Array | None) -> pa.Array:
    """``product_id`` or ``product_id@location_id`` per item (to match other tables)."""
    if location is None:
        return product
    sep = pa.scalar(ITEM_KEY_SEP, product.type)
    location = pc.cast(location.fill_null(""), product.type)
    return pc.binary_join_element_wise(product, location, sep)


def codes(values: pd.Series, labels: Sequence[str]) -> IntArray:
    """Position of each value in ``labels``, -1 when absent or missing (hash lookups)."""
    return positions(arrow_strings(values), pa.array(list(labels), type=pa.string()))


def strings(labels: Sequence[Any], at: IntArray) -> pd.Series:
    """Arrow-backed strings ``labels[at]`` (code -1 = missing), without a Python loop."""
    arr = pa.array(list(labels), type=pa.string())
    return pd.Series(arr.take(pa.array(at, mask=at < 0)), dtype=STR)
