"""The ``segmentation:`` section: which scheme segments customers and products, and rule tables.

A rule table is an ordered list of ``{segment, when: {metric: {op: value}}, combine}`` rules; the
first rule that matches an entity decides its segment, and ``default`` catches the rest.
Conditions are structured data only (``gte, gt, lte, lt, eq, in``); nothing is evaluated from
text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BehaviouralSettings",
    "ClusterScheme",
    "Condition",
    "CtsMarginSettings",
    "Entity",
    "RuleScheme",
    "SegmentRule",
    "SegmentationSettings",
]

Entity = Literal["customer", "product", "customer_product", "product_location"]
Scalar = float | str | bool


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Model):
    """A test on one metric: a range (``gte``/``gt`` with ``lte``/``lt``) or ``eq`` / ``in``."""

    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None
    eq: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")

    @model_validator(mode="after")
    def _consistent(self) -> Condition:
        ranges = [v for v in (self.gte, self.gt, self.lte, self.lt) if v is not None]
        sets = [v for v in (self.eq, self.in_) if v is not None]
        if not ranges and not sets:
            raise ValueError("a condition needs one of gte, gt, lte, lt, eq, in")
        if ranges and sets:
            raise ValueError("use either a range (gte/gt/lte/lt) or eq/in, not both")
        if self.eq is not None and self.in_ is not None:
            raise ValueError("use either eq or in, not both")
        if self.gte is not None and self.gt is not None:
            raise ValueError("use either gte or gt, not both")
        if self.lte is not None and self.lt is not None:
            raise ValueError("use either lte or lt, not both")
        lo = self.gte if self.gte is not None else self.gt
        hi = self.lte if self.lte is not None else self.lt
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"the range is empty: lower bound {lo} is above upper bound {hi}")
        return self


class SegmentRule(_Model):
    """One rule: the segment it assigns and the conditions an entity must meet."""

    segment: str = Field(min_length=1)
    when: dict[str, Condition] = Field(default_factory=dict)
    combine: Literal["all", "any"] = "all"
    name: str | None = Field(default=None, description="Shown in outputs; default the segment.")

    @property
    def label(self) -> str:
        """The rule's name as shown in outputs."""
        return self.name or self.segment


class RuleScheme(_Model):
    """A custom rule table for one kind of entity, with a required default segment."""

    entity: Entity
    rules: list[SegmentRule] = Field(min_length=1)
    default: str = Field(min_length=1, description="Segment of entities no rule matches.")
    description: str = ""


class ClusterScheme(_Model):
    """k-means on standardised metrics; k chosen by silhouette within [k_min, k_max]."""

    entity: Entity
    metrics: list[str] = Field(min_length=2)
    log: list[str] = Field(default_factory=list, description="Metrics to log1p before scaling.")
    k_min: int = Field(default=2, ge=2)
    k_max: int = Field(default=6, ge=2, le=20)
    seed: int = 0

    @model_validator(mode="after")
    def _k_range(self) -> ClusterScheme:
        if self.k_min > self.k_max:
            raise ValueError(f"k_min {self.k_min} is above k_max {self.k_max}")
        unknown = sorted(set(self.log) - set(self.metrics))
        if unknown:
            raise ValueError(f"log names {unknown}, which are not among metrics {self.metrics}")
        return self


class CtsMarginSettings(_Model):
    """Cut-offs of the cost-to-serve x net-margin grid (both in % of revenue).

    One cut-off per axis gives the 2x2 grid (protect, grow, fix cost-to-serve, re-price or
    exit); two per axis give 3x3.
    """

    cts_pct_cutoffs: tuple[float, ...] = Field(default=(15.0,), min_length=1, max_length=2)
    margin_pct_cutoffs: tuple[float, ...] = Field(default=(10.0,), min_length=1, max_length=2)

    @model_validator(mode="after")
    def _same_grid(self) -> CtsMarginSettings:
        if len(self.cts_pct_cutoffs) != len(self.margin_pct_cutoffs):
            raise ValueError("cts_pct_cutoffs and margin_pct_cutoffs need as many values (1 or 2)")
        for name in ("cts_pct_cutoffs", "margin_pct_cutoffs"):
            values = getattr(self, name)
            if list(values) != sorted(set(values)):
                raise ValueError(f"{name} must be strictly increasing, got {list(values)}")
        return self


class BehaviouralSettings(_Model):
    """Thresholds of the four behavioural supply chain types (first match wins, in this order).

    fully_flexible: few orders a year of large value (project, one-off business);
    agile: a high share of rush lines, or short requested lead times (unpredictable, urgent);
    continuous_replenishment: frequent orders at a regular rhythm (steady, predictable);
    lean: the rest (regular, price-driven, efficient).
    """

    flexible_max_orders_per_year: float = Field(default=8.0, gt=0)
    flexible_min_order_value_ratio: float = Field(
        default=1.5, gt=0, description="Order value at least this multiple of the median."
    )
    agile_min_rush_share: float = Field(default=0.2, ge=0, le=1)
    agile_max_requested_lead_days: float = Field(
        default=3.0, ge=0, description="Or: orders asked for within this many days on average."
    )
    continuous_min_orders_per_month: float = Field(default=3.0, gt=0)
    continuous_max_interval_cv: float = Field(default=0.5, gt=0)


class SegmentationSettings(_Model):
    """Which schemes segment customers and products, their thresholds, and custom schemes."""

    customer_scheme: str = Field(default="cts_margin", description="A built-in or custom name.")
    product_scheme: str = "abc_xyz"
    customer_fallback: list[str] = Field(
        default_factory=lambda: ["rfm", "behavioural"],
        description="Built-in customer schemes tried in order when customer_scheme cannot run on"
        " the data (e.g. cts_margin without unit costs); [] to have no customer segments then.",
    )
    product_fallback: list[str] = Field(
        default_factory=lambda: ["abc_xyz", "demand_pattern"],
        description="Built-in product schemes tried in order when product_scheme cannot run.",
    )
    extra_schemes: list[str] = Field(
        default_factory=lambda: ["behavioural", "demand_pattern", "rfm"],
        description="Further schemes computed for comparison (skipped when inputs are missing).",
    )
    cts_margin: CtsMarginSettings = CtsMarginSettings()
    behavioural: BehaviouralSettings = BehaviouralSettings()
    custom: dict[str, RuleScheme] = Field(default_factory=dict)
    cluster: dict[str, ClusterScheme] = Field(default_factory=dict)
    min_segment_share: float = Field(
        default=0.01, ge=0, lt=1, description="Warn when a segment holds fewer entities."
    )
    max_segments: int = Field(default=10, ge=2, description="Warn when a scheme yields more.")
