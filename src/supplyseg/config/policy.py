"""The ``policies:`` section of supplyseg.yaml: policy templates per segment and their defaults.

Three kinds of template, each a mapping from segment name to fields:

- ``product.<segment>`` (`InventoryTemplate`): how an item of a product segment is stocked —
  ``service_type`` (``cycle`` = alpha, the chance of no stock-out per replenishment cycle;
  ``fill_rate`` = beta, the share of demand served from stock), ``service_target``,
  ``review_period`` (days; 0 = continuous review), ``inventory_rule`` (``rop_eoq``,
  ``order_up_to``, ``base_stock``, ``make_to_order``), ``replenishment_program`` (``standard``,
  ``vmi``, ``crp``, ``make_to_order``) and ``forecast_method`` (``auto`` = by demand pattern, or
  a method of `supplyseg.policy.forecast.METHODS`); lifecycle (``stock_dormant``,
  ``stock_obsolete``: stock items without recent demand; default no) and where make-to-order
  is allowed (``mto_allowed_patterns``, ``mto_max_demand_frequency``,
  ``make_to_order_max_lead_time_days``; an item outside them is stocked instead).
- ``customer.<segment>`` (`OrderRules`): the order rules the order service applies to a
  customer segment (``moq``, ``order_multiple``, ``min_order_value``, ``promise_lead_time_days``,
  ``allowed_channels``, ``credit_check`` hard/soft/none, ``price_tolerance_pct``) and the
  ``allocation_priority`` (rank, 1 = served first when stock is short) with ``allocation``
  (`supplyseg.config.allocation.AllocationRule`: priority and protected share of supply), and
  the promising rules ``partial_shipment``, ``min_fill``, ``max_lateness_days`` and
  ``substitute_locations`` (`supplyseg.service.promise`).
- ``matrix.<customer segment>.<product segment>`` (`InventoryTemplate`): a cell of the
  customer x product matrix that overrides the product template for items that customer
  segment buys; an item bought by several customer segments takes the strictest cell (highest
  service target).

Every field is optional: a template inherits what it does not set. A product segment's fields
come, last wins, from `BASE_TEMPLATE`, then the built-in template of the active scheme for that
segment (``builtin_defaults: true``, `BUILTIN_TEMPLATES`) or else ``product_default``, then
``product.<segment>``; customer segments likewise from `BASE_ORDER_RULES`, `BUILTIN_ORDER_RULES`
or ``customer_default``, then ``customer.<segment>``. A segment with neither a template nor a
default is an error when policies are assigned (`supplyseg.policy.assign`), naming the segment.
Built-ins cover the abc_xyz 9-box, demand_pattern, cts_margin (2x2 and 3x3), behavioural and rfm
(`supplyseg.config.customer.DEFAULT_RFM_SEGMENTS`) segments and each scheme's default segment, so
a workspace without a ``policies:`` section runs. A customer segment nothing covers (a custom
scheme's, or an RFM name of one's own) gets `BASE_ORDER_RULES`; the run's notes list them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from supplyseg.config.allocation import AllocationRule
from supplyseg.config.customer import DEFAULT_RFM_SEGMENTS, RfmSettings
from supplyseg.config.messages import validation_message
from supplyseg.config.optimise import OptimiseSettings
from supplyseg.errors import ConfigError

__all__ = [
    "BASE_ORDER_RULES",
    "BASE_TEMPLATE",
    "BUILTIN_ORDER_RULES",
    "BUILTIN_TEMPLATES",
    "CHANNELS",
    "DEFAULT_STOCK_TO_SERVICE_TARGETS",
    "FORECAST_METHODS",
    "MTO_PATTERNS",
    "STATUS_EVENTS",
    "UNSEGMENTED",
    "Channel",
    "CreditCheck",
    "InventoryRule",
    "InventoryTemplate",
    "OrderRules",
    "PolicySettings",
    "ReplenishmentProgram",
    "ServiceType",
    "StatusEvent",
    "builtin_order_rules",
    "builtin_template",
    "check_template",
    "policy_settings",
    "resolve_order_rules",
    "resolve_template",
]

ServiceType = Literal["cycle", "fill_rate"]
InventoryRule = Literal["rop_eoq", "order_up_to", "base_stock", "make_to_order"]
ReplenishmentProgram = Literal["standard", "vmi", "crp", "make_to_order"]
DemandPattern = Literal["smooth", "erratic", "intermittent", "lumpy", "insufficient_history"]
CreditCheck = Literal["hard", "soft", "none"]
Channel = Literal["edi", "portal", "email", "manual"]
"""Where an order came from: EDI message, customer portal, e-mail or manual entry by a person."""
CHANNELS: tuple[Channel, ...] = get_args(Channel)
StatusEvent = Literal[
    "accepted",
    "accepted_with_warnings",
    "exception",
    "approved",
    "rejected",
    "amended",
    "shipped",
    "cancelled",
    "confirmation_changed",
]
"""Status changes an order goes through; a segment's ``notify`` lists those its customers get
(``confirmation_changed``: backorder processing changed a line's confirmed quantity or date)."""
STATUS_EVENTS: tuple[StatusEvent, ...] = get_args(StatusEvent)
# Mirrors supplyseg.policy.forecast.METHODS (a test keeps them equal), plus "auto".
FORECAST_METHODS = (
    "auto",
    "AutoETS",
    "AutoETS_full",
    "AutoTheta",
    "CrostonClassic",
    "CrostonSBA",
    "CrostonOptimized",
    "TSB",
    "ADIDA",
    "IMAPA",
    "HistoricAverage",
    "Naive",
    "SeasonalNaive",
    "AutoETS_seasonal",
    "SeasonalES",
)
DEFAULT_STOCK_TO_SERVICE_TARGETS = (0.80, 0.85, 0.90, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)
MTO_PATTERNS: tuple[DemandPattern, ...] = ("intermittent", "lumpy", "insufficient_history")
"""Patterns make-to-order is allowed for by default: demand that is not regular per bucket."""
UNSEGMENTED = "unsegmented"
"""Segment of items whose product has no primary segment in the run."""


def _within(
    low: float, high: float = math.inf, *, low_open: bool = False, high_open: bool = False
) -> Any:
    """A validator keeping a number in [low, high] (or open ends); its message names the range."""
    left = "(" if low_open else "["
    right = ")" if high_open or math.isinf(high) else "]"
    shown = f"{left}{low:g}, {high:g}{right}"

    def check(v: Any) -> Any:
        below = v <= low if low_open else v < low
        above = v >= high if high_open else v > high
        if below or above or v != v:  # v != v: NaN
            raise ValueError(f"{v!r} is outside the allowed range {shown}")
        return v

    return AfterValidator(check)


Target = Annotated[float, _within(0.5, 0.9999)]
Days = Annotated[float, _within(0.0, 365.0)]
NonNegative = Annotated[float, _within(0.0)]
Positive = Annotated[float, _within(0.0, low_open=True)]
Percent = Annotated[float, _within(0.0, 100.0)]


def _method(v: str) -> str:
    if v not in FORECAST_METHODS:
        raise ValueError(f"{v!r} is not a forecast method; allowed: {', '.join(FORECAST_METHODS)}")
    return v


class _Model(BaseModel):
    # Typos in YAML keys must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class InventoryTemplate(_Model):
    """How items of a product segment (or matrix cell) are stocked; unset fields are inherited."""

    service_type: ServiceType | None = Field(
        default=None, description="cycle (alpha: no stock-out per cycle) or fill_rate (beta)."
    )
    service_target: Target | None = Field(
        default=None, description="Target of service_type, in [0.5, 0.9999]."
    )
    review_period: Days | None = Field(
        default=None, description="Days between reviews; 0 = continuous review."
    )
    inventory_rule: InventoryRule | None = None
    replenishment_program: ReplenishmentProgram | None = None
    forecast_method: Annotated[str, AfterValidator(_method)] | None = Field(
        default=None, description="auto (by demand pattern) or a forecast method name."
    )
    stock_dormant: bool | None = Field(
        default=None, description="Keep stocking items whose lifecycle is dormant (default no)."
    )
    stock_obsolete: bool | None = Field(
        default=None, description="Keep stocking items whose lifecycle is obsolete (default no)."
    )
    mto_allowed_patterns: tuple[DemandPattern, ...] | None = Field(
        default=None,
        description="make_to_order applies only to items of these demand patterns; others are"
        " stocked (default: intermittent, lumpy, insufficient_history).",
    )
    mto_max_demand_frequency: Annotated[float, _within(0.0, 1.0)] | None = Field(
        default=None,
        description="make_to_order applies only to items with demand in at most this share of"
        " buckets (1 / ADI; default 0.5); more regular items are stocked.",
    )
    make_to_order_max_lead_time_days: Days | None = Field(
        default=None,
        description="make_to_order applies only to items whose lead time is at most this many"
        " days (customers wait for it); unset: no limit.",
    )

    def over(self, base: InventoryTemplate) -> InventoryTemplate:
        """This template's set fields on top of ``base``."""
        return base.model_copy(update=self.model_dump(exclude_none=True))


class OrderRules(_Model):
    """Order rules of a customer segment for the order service; unset fields are inherited."""

    moq: NonNegative | None = Field(default=None, description="Minimum quantity per line.")
    order_multiple: Positive | None = Field(
        default=None, description="Line quantities must be a whole multiple of this."
    )
    min_order_value: NonNegative | None = Field(default=None, description="Currency.")
    promise_lead_time_days: Annotated[int, _within(0, 365)] | None = Field(
        default=None, description="Days from order date to the earliest date promised."
    )
    allowed_channels: tuple[Channel, ...] | None = Field(default=None, min_length=1)
    credit_check: CreditCheck | None = Field(
        default=None, description="hard: exception; soft: warning; none: not checked."
    )
    price_tolerance_pct: Percent | None = Field(
        default=None, description="Allowed |price - list price| / list price, in percent."
    )
    allocation_priority: Annotated[int, _within(1, 99)] | None = Field(
        default=None, description="Rank when stock is short; 1 is served first."
    )
    notify: tuple[StatusEvent, ...] | None = Field(
        default=None,
        description="Order status changes the segment's customers are told of (the service"
        " writes them to its notification outbox); [] for none.",
    )
    allocation: AllocationRule | None = Field(
        default=None, description="Priority and protected share of scarce supply (allocation)."
    )
    # Promising rules (supplyseg.service.promise): how an order line may be confirmed.
    partial_shipment: bool | None = Field(
        default=None,
        description="A line may be confirmed in part (else the whole quantity or nothing).",
    )
    min_fill: Annotated[float, _within(0.0, 1.0)] | None = Field(
        default=None,
        description="Smallest share of a line's quantity confirmed in part; below it the line"
        " is not confirmed at all.",
    )
    max_lateness_days: Annotated[int, _within(0, 3650)] | None = Field(
        default=None,
        description="Days a promise may be later than requested; later (or no date at all) is"
        " an exception late_promise. Unset: no limit.",
    )
    substitute_locations: bool | None = Field(
        default=None,
        description="A line whose location cannot cover it is promised from another location.",
    )

    def over(self, base: OrderRules) -> OrderRules:
        """These rules' set fields on top of ``base`` (``allocation`` field by field)."""
        own = self.model_dump(exclude_none=True, exclude={"allocation"})
        if self.allocation is not None:
            own["allocation"] = self.allocation.over(base.allocation)
        return base.model_copy(update=own)


BASE_TEMPLATE = InventoryTemplate(
    service_type="cycle",
    service_target=0.95,
    review_period=0.0,
    inventory_rule="rop_eoq",
    replenishment_program="standard",
    forecast_method="auto",
    stock_dormant=False,
    stock_obsolete=False,
    mto_allowed_patterns=MTO_PATTERNS,
    mto_max_demand_frequency=0.5,
)
"""What a product template inherits when nothing else sets a field
(``make_to_order_max_lead_time_days`` stays unset: no lead-time limit)."""

# The same defaults as supplyseg.policy.document.SegmentRules (credit: CheckStrictness).
BASE_ORDER_RULES = OrderRules(
    moq=0.0,
    order_multiple=1.0,
    min_order_value=0.0,
    promise_lead_time_days=0,
    allowed_channels=CHANNELS,
    credit_check="hard",
    price_tolerance_pct=0.0,
    allocation_priority=5,
    notify=("exception", "shipped"),
    partial_shipment=True,
    min_fill=0.0,
    substitute_locations=False,
)
"""What customer order rules inherit when nothing else sets a field (``max_lateness_days``
stays unset: no lateness limit)."""


def _t(
    target: float,
    rule: InventoryRule = "rop_eoq",
    review: float = 0.0,
    program: ReplenishmentProgram = "standard",
) -> InventoryTemplate:
    return InventoryTemplate(
        service_target=target,
        inventory_rule=rule,
        review_period=review,
        replenishment_program=program,
    )


_MTO = InventoryTemplate(
    inventory_rule="make_to_order", replenishment_program="make_to_order", service_target=0.85
)

# ABC x XYZ: value drives the service target (A items carry the business, C items the tail),
# variability the rule. Steady A items on continuous replenishment with the highest cycle
# service; B/C items on weekly/fortnightly periodic review (cheap to run, pooled orders), steady
# C items managed by the vendor; CZ (low value, erratic) made or bought to order.
BUILTIN_TEMPLATES: dict[str, dict[str, InventoryTemplate]] = {
    "abc_xyz": {
        "AX": _t(0.98, program="crp"),
        "AY": _t(0.97),
        "AZ": _t(0.95),
        "BX": _t(0.96, "order_up_to", 7.0),
        "BY": _t(0.94, "order_up_to", 7.0),
        "BZ": _t(0.92, "order_up_to", 7.0),
        "CX": _t(0.92, "order_up_to", 14.0, "vmi"),
        "CY": _t(0.90, "order_up_to", 14.0),
        "CZ": _MTO,
        "unclassified": _t(0.90),
    },
    "demand_pattern": {
        "smooth": _t(0.95),
        "erratic": _t(0.95),
        "intermittent": _t(0.92),
        "lumpy": _t(0.90, "order_up_to", 14.0),
        "insufficient_history": _t(0.90),
    },
}
"""Built-in product templates per scheme; every scheme also gets one for `UNSEGMENTED`."""
_BUILTIN_UNSEGMENTED = _t(0.90)


def _r(
    mov: float,
    promise: int,
    channels: tuple[Channel, ...],
    credit: CreditCheck,
    tolerance: float,
    priority: int,
    notify: tuple[StatusEvent, ...] | None = None,
) -> OrderRules:
    return OrderRules(
        min_order_value=mov,
        promise_lead_time_days=promise,
        allowed_channels=channels,
        credit_check=credit,
        price_tolerance_pct=tolerance,
        allocation_priority=priority,
        notify=notify,
    )


_DIGITAL: tuple[Channel, ...] = ("edi", "portal")
# cts_margin (Kaplan & Narayanan 2001): protect the profitable, cheap-to-serve customers (first
# allocation, short promise, lenient price and credit checks); grow low-margin cheap ones;
# steer high-margin costly ones to cheap channels and bigger drops (fix cost-to-serve); for
# costly low-margin ones enforce price and minimum order value (re-price or exit). The
# customers to protect hear of every status change; the others of exceptions and shipments.
_QUADRANT = {
    "protect": _r(0.0, 2, CHANNELS, "soft", 5.0, 1, STATUS_EVENTS),
    "grow": _r(50.0, 3, CHANNELS, "soft", 3.0, 2),
    "fix cost-to-serve": _r(250.0, 5, _DIGITAL, "hard", 2.0, 2),
    "re-price or exit": _r(500.0, 7, _DIGITAL, "hard", 0.0, 4),
}
_CELL_QUADRANT = {  # 3x3 cells map to the 2x2 quadrant; "mid" counts as the favourable side
    ("low", "high"): "protect",
    ("low", "mid"): "protect",
    ("mid", "high"): "protect",
    ("mid", "mid"): "grow",
    ("low", "low"): "grow",
    ("mid", "low"): "grow",
    ("high", "high"): "fix cost-to-serve",
    ("high", "mid"): "fix cost-to-serve",
    ("high", "low"): "re-price or exit",
}
_UNKNOWN = _r(0.0, 7, CHANNELS, "hard", 0.0, 5)  # nothing known: base rules, last served
# RFM (recency x frequency grid): keep the best and the high-value lapsing customers served
# first and told of every status change (Champions, Can't lose); nurture the recent ones
# (hard credit check while they have no payment record); ask dormant ones (Hibernating, Lost)
# for a minimum order value and a longer promise, and serve them last.
_RFM: dict[str, OrderRules] = {
    "Champions": _r(0.0, 2, CHANNELS, "soft", 5.0, 1, STATUS_EVENTS),
    "Loyal": _r(0.0, 2, CHANNELS, "soft", 3.0, 1),
    "Potential loyalist": _r(0.0, 3, CHANNELS, "soft", 3.0, 2),
    "New": _r(0.0, 3, CHANNELS, "hard", 2.0, 3),
    "Promising": _r(0.0, 3, CHANNELS, "hard", 2.0, 3),
    "Need attention": _r(0.0, 3, CHANNELS, "soft", 3.0, 2),
    "About to sleep": _r(50.0, 5, CHANNELS, "soft", 2.0, 3),
    "Can't lose": _r(0.0, 2, CHANNELS, "soft", 5.0, 1, STATUS_EVENTS),
    "At risk": _r(0.0, 3, CHANNELS, "soft", 3.0, 2),
    "Hibernating": _r(100.0, 5, CHANNELS, "hard", 0.0, 4),
    "Lost": _r(250.0, 7, CHANNELS, "hard", 0.0, 5),
}
BUILTIN_ORDER_RULES: dict[str, dict[str, OrderRules]] = {
    "cts_margin": {
        **_QUADRANT,
        **{f"cts_{c}_margin_{m}": _QUADRANT[q] for (c, m), q in _CELL_QUADRANT.items()},
        "no revenue": _UNKNOWN,
        "not classified": _UNKNOWN,  # the scheme's default segment
    },
    "rfm": {
        # every name of the default RFM map, its default segment, and customers not scored
        **{rule.name: _RFM.get(rule.name, _UNKNOWN) for rule in DEFAULT_RFM_SEGMENTS},
        RfmSettings().default_segment: _UNKNOWN,
        "unscored": _UNKNOWN,
    },
    # Gattorna's behavioural types: continuous replenishment is scheduled (EDI/portal, first
    # allocation), lean is price-driven (strict price), agile pays for speed (short promise),
    # fully flexible is project business (manual channels, hard credit check). Scheduled
    # replenishment partners hear of every status change, like protected key accounts.
    "behavioural": {
        "continuous_replenishment": _r(0.0, 2, _DIGITAL, "soft", 2.0, 1, STATUS_EVENTS),
        "lean": _r(100.0, 5, CHANNELS, "soft", 0.0, 3),
        "agile": _r(0.0, 1, CHANNELS, "soft", 5.0, 2),
        "fully_flexible": _r(0.0, 10, CHANNELS, "hard", 5.0, 3),
    },
}
"""Built-in customer order rules per scheme; fields not set come from `BASE_ORDER_RULES`."""


def builtin_template(scheme: str | None, segment: str) -> InventoryTemplate | None:
    """The built-in product template of ``segment`` under ``scheme``, if there is one."""
    if segment == UNSEGMENTED:
        return _BUILTIN_UNSEGMENTED
    return BUILTIN_TEMPLATES.get(scheme or "", {}).get(segment)


def builtin_order_rules(scheme: str | None, segment: str) -> OrderRules | None:
    """The built-in order rules of ``segment`` under ``scheme``, if there are any."""
    return BUILTIN_ORDER_RULES.get(scheme or "", {}).get(segment)


class PolicySettings(_Model):
    """Templates per segment, the defaults they fall back to, and the policy parameters."""

    builtin_defaults: bool = Field(
        default=True,
        description="Use the built-in templates of the active schemes for segments not listed.",
    )
    product: dict[str, InventoryTemplate] = Field(default_factory=dict)
    product_default: InventoryTemplate | None = Field(
        default=None, description="Template of product segments with no own or built-in one."
    )
    customer: dict[str, OrderRules] = Field(default_factory=dict)
    customer_default: OrderRules | None = Field(
        default=None, description="Order rules of customer segments with no own or built-in."
    )
    matrix: dict[str, dict[str, InventoryTemplate]] = Field(
        default_factory=dict,
        description="customer segment -> product segment -> overrides of the product template.",
    )
    default_lead_time_days: Annotated[float, _within(0.0, 3650.0, low_open=True)] = Field(
        default=14.0, description="Lead time of products without products.lead_time_days."
    )
    default_lead_time_std_days: Annotated[float, _within(0.0, 3650.0)] = Field(
        default=0.0, description="Lead-time std of products without lead_time_std_days."
    )
    order_cost: Positive = Field(default=50.0, description="Fixed cost per order (EOQ's K).")
    holding_rate: Annotated[float, _within(0.0, 10.0, low_open=True)] = Field(
        default=0.25, description="Holding cost per year as a share of unit cost (EOQ's h/c)."
    )
    fallback_cover_days: Annotated[float, _within(0.0, 3650.0, low_open=True)] = Field(
        default=14.0,
        description="Order quantity in days of demand when EOQ has no unit cost to work with.",
    )
    slow_mover_mean: NonNegative = Field(
        default=1.0,
        description="Intermittent items (or too little history) with mean demand per bucket"
        " below this use a Poisson distribution; 0 switches it off.",
    )
    lumpy_distribution: Literal["empirical", "gamma"] = Field(
        default="empirical",
        description="Lumpy items: bootstrap of the history (needs it; else gamma) or gamma.",
    )
    empirical_samples: Annotated[int, _within(100, 100_000)] = Field(
        default=1000, description="Bootstrap samples per lumpy item (empirical distribution)."
    )
    seed: Annotated[int, _within(0)] = 0
    clamp_safety_stock: bool = Field(
        default=True,
        description="Raise negative safety stock (fill-rate, skewed distributions) to 0.",
    )
    stock_to_service_targets: tuple[Target, ...] = Field(
        default=DEFAULT_STOCK_TO_SERVICE_TARGETS, min_length=1
    )
    new_item_min_buckets: Annotated[int, _within(0, 520)] = Field(
        default=8,
        description="New items (lifecycle new) with fewer buckets of history than this, or"
        " pattern insufficient_history, take demand mean and CV from active analogues.",
    )
    target_tolerance: Annotated[float, _within(0.0, 0.1)] = Field(
        default=0.005,
        description="target_met holds when the service achieved is at most this below target.",
    )
    fill_rate_gap: Annotated[float, _within(0.0, 1.0)] = Field(
        default=0.10,
        description="A cycle target whose expected fill rate is more than this below the target"
        " is explained in the rationale, with the safety stock a fill-rate target needs.",
    )
    optimise: OptimiseSettings = Field(default_factory=OptimiseSettings)
    require_approval: bool = Field(
        default=False,
        description="`supplyseg publish` refuses a run whose policy version is not approved"
        " (`supplyseg policy approve`).",
    )

    @model_validator(mode="after")
    def _targets_increase(self) -> PolicySettings:
        t = self.stock_to_service_targets
        if any(a >= b for a, b in itertools.pairwise(t)):
            raise ValueError(f".stock_to_service_targets: {list(t)} must be strictly increasing")
        return self


def check_template(t: InventoryTemplate, path: str) -> None:
    """A resolved template must be coherent: both make_to_order or neither; (R, S) reviews."""
    mto_rule = t.inventory_rule == "make_to_order"
    mto_program = t.replenishment_program == "make_to_order"
    if mto_rule != mto_program:
        raise ConfigError(
            f"{path}: inventory_rule {t.inventory_rule!r} with replenishment_program"
            f" {t.replenishment_program!r}; allowed: both make_to_order or neither"
        )
    if t.inventory_rule == "order_up_to" and not (t.review_period or 0.0) > 0:
        raise ConfigError(
            f"{path}.review_period: value {t.review_period!r} with inventory_rule order_up_to;"
            " allowed: > 0 days (an (R, S) policy reviews every R days)"
        )


def resolve_template(
    settings: PolicySettings, scheme: str | None, segment: str
) -> tuple[InventoryTemplate, str] | None:
    """The complete, checked template of a product segment and where it came from (None when
    neither a template, a built-in nor ``product_default`` covers it)."""
    built = builtin_template(scheme, segment) if settings.builtin_defaults else None
    own = settings.product.get(segment)
    base = built if built is not None else settings.product_default
    if base is None and own is None:
        return None
    merged = BASE_TEMPLATE if base is None else base.over(BASE_TEMPLATE)
    if own is not None:
        merged = own.over(merged)
    if own is not None:
        source = f"policies.product.{segment}"
    elif built is not None:
        source = f"built-in {scheme or 'default'} template"
    else:
        source = "policies.product_default"
    check_template(merged, source)
    return merged, source


def resolve_order_rules(
    settings: PolicySettings, scheme: str | None, segment: str
) -> tuple[OrderRules, str] | None:
    """The complete order rules of a customer segment and where they came from (None when
    neither rules, a built-in nor ``customer_default`` covers it)."""
    built = builtin_order_rules(scheme, segment) if settings.builtin_defaults else None
    own = settings.customer.get(segment)
    base = built if built is not None else settings.customer_default
    if base is None and own is None:
        return None
    merged = BASE_ORDER_RULES if base is None else base.over(BASE_ORDER_RULES)
    if own is not None:
        return own.over(merged), f"policies.customer.{segment}"
    if built is not None:
        return merged, f"built-in {scheme} rules"
    return merged, "policies.customer_default"


def policy_settings(
    raw: Mapping[str, Any] | None, *, origin: str = "supplyseg.yaml"
) -> PolicySettings:
    """Validate the parsed ``policies:`` mapping; errors are `ConfigError`s naming the path.

    The message reads ``<origin>: policies.<path> (value <v>): <what is allowed>``, e.g.
    ``policies.product.AX.service_target (value 1.2): 1.2 is outside the allowed range
    [0.5, 0.9999]``.
    """
    if raw is None:
        return PolicySettings()
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{origin}: policies: expected a mapping (product:, customer:, ...), found"
            f" {type(raw).__name__}"
        )
    try:
        return PolicySettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            validation_message(exc, raw, origin=origin, model=PolicySettings, prefix="policies")
        ) from None
