"""Built-in segmentation schemes, each a rule table over a metrics table.

- ``cts_margin`` (customers): cost-to-serve % of revenue x net margin % — the profitability
  matrix of activity-based costing (Kaplan & Narayanan 2001, "Measuring and managing customer
  profitability"). 2x2: protect (low cost, high margin), grow (low cost, low margin: room to
  sell more or better), fix cost-to-serve (high cost, high margin: change the service model),
  re-price or exit (high cost, low margin). 3x3 names the cell ``cts_<level>_margin_<level>``.
- ``abc_xyz`` (products): the 9-box of value class x variability class (AX ... CZ).
- ``demand_pattern`` (products): smooth / erratic / intermittent / lumpy (Syntetos–Boylan).
- ``behavioural`` (customers): the four supply chain types buying behaviour calls for
  (Gattorna, "Dynamic Supply Chains"): continuous replenishment, lean, agile, fully flexible;
  thresholds in `BehaviouralSettings`.
- ``rfm`` (customers): the RFM segment of the customer KPI table.
Custom rule tables (``segmentation.custom``) use the same engine.
"""

from __future__ import annotations

import itertools

import pandas as pd

from supplyseg.config.segmentation import (
    BehaviouralSettings,
    Condition,
    CtsMarginSettings,
    RuleScheme,
    SegmentRule,
)

__all__ = [
    "BUILT_IN",
    "abc_xyz_scheme",
    "behavioural_scheme",
    "cts_margin_scheme",
    "demand_pattern_scheme",
    "rfm_scheme",
]

BUILT_IN = {
    "cts_margin": "customer",
    "behavioural": "customer",
    "rfm": "customer",
    "abc_xyz": "product",
    "demand_pattern": "product",
}
PATTERNS = ("smooth", "erratic", "intermittent", "lumpy")
_LEVELS = {2: ("low", "high"), 3: ("low", "mid", "high")}
_GRID_2X2 = {
    ("low", "high"): "protect",
    ("low", "low"): "grow",
    ("high", "high"): "fix cost-to-serve",
    ("high", "low"): "re-price or exit",
}


def _bands(cutoffs: tuple[float, ...]) -> list[Condition]:
    """Conditions for the intervals between cut-offs: [< c1], [c1, c2), [>= c_last]."""
    edges = [None, *cutoffs, None]
    return [
        Condition(gte=lo, lt=hi)
        if lo is not None and hi is not None
        else Condition(lt=hi)
        if hi is not None
        else Condition(gte=lo)
        for lo, hi in itertools.pairwise(edges)
    ]


def cts_margin_scheme(settings: CtsMarginSettings | None = None) -> RuleScheme:
    """The cost-to-serve % x net margin % grid (2x2 or 3x3) over the cost-to-serve table."""
    settings = settings or CtsMarginSettings()
    cts_bands = _bands(settings.cts_pct_cutoffs)
    margin_bands = _bands(settings.margin_pct_cutoffs)
    levels = _LEVELS[len(cts_bands)]
    rules = []
    for cts_level, cts in zip(levels, cts_bands, strict=True):
        for margin_level, margin in zip(reversed(levels), reversed(margin_bands), strict=True):
            name = (
                _GRID_2X2[(cts_level, margin_level)]
                if len(levels) == 2
                else f"cts_{cts_level}_margin_{margin_level}"
            )
            when = {"cts_pct_revenue": cts, "net_margin_pct": margin}
            rules.append(SegmentRule(segment=name, when=when))
    return RuleScheme(
        entity="customer",
        rules=rules,
        default="not classified",
        description="cost-to-serve % of revenue x net margin %",
    )


def abc_xyz_scheme(abc_labels: list[str], xyz_labels: list[str]) -> RuleScheme:
    """The ABC x XYZ matrix: one segment per (value class, variability class) cell."""
    rules = [
        SegmentRule(
            segment=f"{a}{x}",
            when={"abc_class": Condition(eq=a), "xyz_class": Condition(eq=x)},
        )
        for a in abc_labels
        for x in xyz_labels
    ]
    return RuleScheme(
        entity="product", rules=rules, default="unclassified", description="ABC x XYZ"
    )


def demand_pattern_scheme() -> RuleScheme:
    """Segments by Syntetos–Boylan demand pattern; too little history is the default."""
    rules = [SegmentRule(segment=p, when={"pattern": Condition(eq=p)}) for p in PATTERNS]
    return RuleScheme(
        entity="product",
        rules=rules,
        default="insufficient_history",
        description="demand pattern (ADI x CV²)",
    )


def behavioural_scheme(settings: BehaviouralSettings | None = None) -> RuleScheme:
    """The four behavioural supply chain types, over `customer_behaviour` features."""
    settings = settings or BehaviouralSettings()
    return RuleScheme(
        entity="customer",
        rules=[
            SegmentRule(
                segment="fully_flexible",
                when={
                    "orders_per_year": Condition(lte=settings.flexible_max_orders_per_year),
                    "order_value_ratio": Condition(gte=settings.flexible_min_order_value_ratio),
                },
            ),
            SegmentRule(
                segment="agile",
                combine="any",
                when={
                    "rush_share": Condition(gte=settings.agile_min_rush_share),
                    "requested_lead_days": Condition(lte=settings.agile_max_requested_lead_days),
                },
            ),
            SegmentRule(
                segment="continuous_replenishment",
                when={
                    "orders_per_month": Condition(gte=settings.continuous_min_orders_per_month),
                    "interval_cv": Condition(lte=settings.continuous_max_interval_cv),
                },
            ),
        ],
        default="lean",
        description="buying behaviour: continuous replenishment, lean, agile, fully flexible",
    )


def rfm_scheme(rfm_segments: pd.Series) -> RuleScheme:
    """Passes the customer KPI table's RFM segment through as a scheme (one rule per name)."""
    names = sorted(str(v) for v in rfm_segments.dropna().unique())
    rules = [SegmentRule(segment=n, when={"rfm_segment": Condition(eq=n)}) for n in names]
    if not rules:
        rules = [SegmentRule(segment="unscored", when={"rfm_segment": Condition(eq="")})]
    return RuleScheme(entity="customer", rules=rules, default="unscored", description="RFM")
