"""The OTIF test lines, hand-checked against AS_OF 2024-03-31 and OTIF_TOL (early 1 day, late
2 days, 10 % short): shared by the OTIF tests and the customer-metrics tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from supplyseg.config.customer import OtifSettings

AS_OF = date(2024, 3, 31)
OTIF_TOL = OtifSettings(early_tolerance_days=1, late_tolerance_days=2, in_full_tolerance_pct=10)

# order_id, customer, requested (due) date, delivered date, quantity, delivered quantity, extras
CASES: list[tuple[str, str, str | None, str | None, float, float | None, dict[str, Any]]] = [
    ("L1", "a", "2024-03-10", "2024-03-10", 10, 10, {}),  # exact: OTIF
    ("L2", "a", "2024-03-10", "2024-03-09", 10, 9, {}),  # 1 early (tol 1), 10 % short (tol 10)
    ("L3", "a", "2024-03-10", "2024-03-08", 10, 10, {}),  # 2 early: fails a 1-day window
    ("L4", "a", "2024-03-10", "2024-03-12", 10, 8.9, {}),  # 2 late (tol 2); 11 % short
    ("L5", "a", "2024-03-10", "2024-03-13", 10, 12, {}),  # 3 late; over-delivered = in full
    ("L6", "a", "2024-03-20", None, 10, None, {}),  # due, never delivered: fails both
    ("L7", "a", "2024-03-30", None, 10, None, {}),  # open, late window runs to 04-01: not due
    ("L8", "a", "2024-04-05", "2024-03-30", 10, 10, {}),  # due after as_of: not due
    ("L9", "a", None, "2024-03-10", 10, 10, {}),  # no reference date: excluded
    ("L10", "a", "2024-03-10", None, -5, None, {"credit": True}),  # credit note: ignored
    ("L11", "a", "2024-03-25", "2024-04-02", 10, 10, {}),  # delivered after as_of: failure
    ("L12", "a", "2024-03-15", "2024-03-15", 10, None, {}),  # no delivered qty: in full
    ("L13", "a", "2024-03-29", "2024-03-29", 10, 10, {}),  # delivered, window open: measured
    ("M1", "b", "2024-03-01", "2024-03-04", 5, 5, {"promised": "2024-03-03"}),
    ("N1", "c", "2024-04-10", None, 1, None, {}),  # only a line not yet due
]
