"""The ``supplier:`` section: lead times from purchase history, Kraljic segments, programs, TLC.

Used only when the workspace provides ``purchase_orders`` (lead times, supplier metrics and
segments) and ``sourcing_options`` (total landed cost). Every default is an assumption, and
the README's configuration reference lists them.

Kraljic segments are a first-match rule table (`RuleScheme`, as custom customer segments) over
two supplier metrics: ``spend_class`` (A/B/C of spend by ``spend_class_cutoffs``: the profit
impact) and ``risk_score`` (how many of the four supply-risk factors of `RiskSettings` the
supplier shows: the supply risk). The default table: strategic = spend class A and risk score
>= 2; leverage = spend class A; bottleneck = risk score >= 2; everything else non_critical.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from supplyseg.config.segmentation import Condition, RuleScheme, SegmentRule

__all__ = [
    "DEFAULT_KRALJIC_RULES",
    "DEFAULT_PROGRAMS",
    "LandedCostSettings",
    "RiskSettings",
    "SupplierProgram",
    "SupplierSettings",
    "supplier_assumptions",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RiskSettings(_Model):
    """Supply-risk factors; a supplier scores one point for each it shows (``risk_score``)."""

    lead_time_cv: float = Field(
        default=0.30, gt=0, description="Variable supply: lead-time std / mean at least this."
    )
    otif_below: float = Field(
        default=0.90, gt=0, le=1, description="Unreliable supply: OTIF below this share."
    )
    single_source_share: float = Field(
        default=0.50,
        gt=0,
        le=1,
        description="Few alternatives: at least this share of the supplier's spend is on"
        " products bought from it alone.",
    )
    long_lead_time_days: float = Field(
        default=45.0,
        gt=0,
        description="Distant supply: mean lead time at least this many days, or a main transport"
        " mode among long_modes.",
    )
    long_modes: list[str] = Field(
        default_factory=lambda: ["sea", "rail"],
        description="Transport modes (purchase_orders.mode, lower case) that count as distant.",
    )


DEFAULT_KRALJIC_RULES: tuple[SegmentRule, ...] = (
    SegmentRule(
        segment="strategic",
        when={"spend_class": Condition(eq="A"), "risk_score": Condition(gte=2)},
    ),
    SegmentRule(segment="leverage", when={"spend_class": Condition(eq="A")}),
    SegmentRule(segment="bottleneck", when={"risk_score": Condition(gte=2)}),
)


class SupplierProgram(_Model):
    """The replenishment program of a supplier segment: its name and what it means."""

    program: str = Field(min_length=1)
    description: str = ""


DEFAULT_PROGRAMS: dict[str, SupplierProgram] = {
    "strategic": SupplierProgram(
        program="vmi_collaborative_forecast",
        description="vendor-managed inventory or a shared (collaborative) forecast; long-term"
        " partnership, joint capacity and risk plans",
    ),
    "leverage": SupplierProgram(
        program="blanket_order_tender",
        description="blanket (framework) orders with call-offs; tender regularly and play the"
        " market for price",
    ),
    "bottleneck": SupplierProgram(
        program="safety_stock_dual_source",
        description="buffer with safety stock on the learned lead-time variability; qualify a"
        " second source",
    ),
    "non_critical": SupplierProgram(
        program="catalogue_min_max",
        description="catalogue or e-procurement buying with min-max replenishment; bundle and"
        " automate to cut the cost per order",
    ),
}


class LandedCostSettings(_Model):
    """How total landed cost per unit is computed for each sourcing option."""

    holding_rate: float | None = Field(
        default=None,
        gt=0,
        le=10,
        description="Carrying cost per year as a share of the unit price; default"
        " policies.holding_rate.",
    )
    service_level: float = Field(
        default=0.95,
        ge=0.5,
        le=0.9999,
        description="Cycle service level of the safety stock, for products without a policy"
        " service target.",
    )
    customs_value_basis: Literal["CIF", "FOB"] = Field(
        default="CIF",
        description="CIF (EU and most countries: duty on price + freight + insurance to the"
        " border) or FOB (US: duty on the price alone).",
    )


class SupplierSettings(_Model):
    """Lead times, supplier metrics, Kraljic segments, replenishment programs, landed cost."""

    min_receipts: int = Field(
        default=3,
        ge=1,
        description="Receipts a supplier x product (x location) needs for lead-time statistics"
        " of its own; fewer fall back to the supplier x product, then the supplier.",
    )
    lead_time_by_location: bool = Field(
        default=True,
        description="Learn lead times per supplier x product x location (when PO lines name a"
        " location), else per supplier x product.",
    )
    use_in_policies: bool = Field(
        default=True,
        description="Policies take each product's lead time (mean and std) from its current"
        " supplier's learned lead times.",
    )
    otif_tolerance_days: int = Field(
        default=0, ge=0, description="On time: received at most this many days after promised."
    )
    in_full_tolerance: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="In full: received quantity at least (1 - this) x ordered quantity.",
    )
    spend_class_cutoffs: tuple[float, float] = Field(
        default=(0.80, 0.95),
        description="Cumulative spend shares closing classes A and B (the profit impact).",
    )
    risk: RiskSettings = Field(default_factory=RiskSettings)
    rules: list[SegmentRule] = Field(
        default_factory=lambda: list(DEFAULT_KRALJIC_RULES),
        min_length=1,
        description="Kraljic rule table over supplier metrics: the first rule a supplier meets"
        " gives its segment.",
    )
    default_segment: str = Field(
        default="non_critical", min_length=1, description="Segment of suppliers no rule matches."
    )
    programs: dict[str, SupplierProgram] = Field(
        default_factory=lambda: dict(DEFAULT_PROGRAMS),
        description="Replenishment program per supplier segment; segments not listed get"
        " 'standard'.",
    )
    landed_cost: LandedCostSettings = Field(default_factory=LandedCostSettings)

    @property
    def scheme(self) -> RuleScheme:
        """The rules as a rule scheme for `supplyseg.segment.rules.apply_rules`."""
        return RuleScheme(entity="product", rules=self.rules, default=self.default_segment)

    @model_validator(mode="after")
    def _cutoffs(self) -> SupplierSettings:
        a, b = self.spend_class_cutoffs
        if not 0 < a < b <= 1:
            raise ValueError(
                f".spend_class_cutoffs: {[a, b]} must rise within (0, 1], e.g. [0.8, 0.95]"
            )
        return self


_OPS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<", "eq": "=", "in_": "in"}
_RISK_ASSUMPTIONS = (
    "lead_time_cv",
    "otif_below",
    "single_source_share",
    "long_lead_time_days",
    "long_modes",
)


def supplier_assumptions(
    settings: SupplierSettings,
    *,
    holding_rate: float,
    holding_rate_given: bool,
    landed_cost: bool,
    origin: str = "supplyseg.yaml",
) -> list[dict[str, Any]]:
    """The supplier settings that are statements about the business, with where each came
    from (``origin`` when set in the YAML, else ``"built-in default"``): OTIF tolerances, the
    Kraljic thresholds and rules and, with ``landed_cost``, the holding rate landed cost
    uses (``holding_rate``: ``policies.holding_rate``, unless ``landed_cost.holding_rate`` is
    set; ``holding_rate_given``: whether the policies one was set) and the fallback service
    level. For the run manifest's ``assumptions`` list."""

    def entry(setting: str, value: Any, given: bool) -> dict[str, Any]:
        source = origin if given else "built-in default"
        return {"setting": f"supplier.{setting}", "value": value, "source": source}

    s, r = settings, settings.risk
    out = [
        entry(name, getattr(s, name), name in s.model_fields_set)
        for name in ("otif_tolerance_days", "in_full_tolerance")
    ]
    cutoffs = list(s.spend_class_cutoffs)
    out.append(entry("spend_class_cutoffs", cutoffs, "spend_class_cutoffs" in s.model_fields_set))
    out += [
        entry(f"risk.{name}", getattr(r, name), name in r.model_fields_set)
        for name in _RISK_ASSUMPTIONS
    ]
    rules = "; ".join(
        f"{rule.segment}: "
        + " and ".join(
            f"{col} {_OPS[op]} {f'{value:g}' if isinstance(value, float) else value}"
            for col, cond in rule.when.items()
            for op, value in cond.model_dump(exclude_none=True).items()
        )
        for rule in s.rules
    )
    out.append(
        entry(
            "rules",
            f"{rules}; else {s.default_segment}",
            bool({"rules", "default_segment"} & s.model_fields_set),
        )
    )
    if landed_cost:
        lc = s.landed_cost
        own = lc.holding_rate is not None
        out.append(
            entry(
                "landed_cost.holding_rate",
                lc.holding_rate if own else holding_rate,
                own or holding_rate_given,
            )
        )
        out.append(
            entry(
                "landed_cost.service_level",
                lc.service_level,
                "service_level" in lc.model_fields_set,
            )
        )
    return out
