"""The ``customer:`` section of supplyseg.yaml: RFM map, OTIF, DSO, churn, channels and CLV."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT_RFM_SEGMENTS",
    "ChannelSettings",
    "ChurnSettings",
    "ClvSettings",
    "CustomerSettings",
    "DsoSettings",
    "OtifSettings",
    "RfmSegmentRule",
    "RfmSettings",
    "customer_assumptions",
]


class _Model(BaseModel):
    # Typos in YAML keys must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


ScoreRange = tuple[int, int]


class RfmSegmentRule(_Model):
    """One row of the RFM segment map: a name and inclusive score ranges it applies to.

    A customer matches when each of its scores lies in the rule's range (``[1, 5]``, the
    default, matches any score). Rules are tried top to bottom; the first match wins.
    """

    name: str = Field(min_length=1)
    r: ScoreRange = (1, 5)
    f: ScoreRange = (1, 5)
    m: ScoreRange = (1, 5)

    @field_validator("r", "f", "m")
    @classmethod
    def _range(cls, v: ScoreRange) -> ScoreRange:
        lo, hi = v
        if not 1 <= lo <= hi <= 5:
            raise ValueError(
                f"score range {list(v)} must be [low, high] with 1 <= low <= high <= 5"
            )
        return v


# The widely used R x F grid (Champions ... Lost); together the rules cover all 25 cells.
DEFAULT_RFM_SEGMENTS: tuple[RfmSegmentRule, ...] = (
    RfmSegmentRule(name="Champions", r=(5, 5), f=(4, 5)),
    RfmSegmentRule(name="Loyal", r=(3, 4), f=(4, 5)),
    RfmSegmentRule(name="Potential loyalist", r=(4, 5), f=(2, 3)),
    RfmSegmentRule(name="New", r=(5, 5), f=(1, 1)),
    RfmSegmentRule(name="Promising", r=(4, 4), f=(1, 1)),
    RfmSegmentRule(name="Need attention", r=(3, 3), f=(3, 3)),
    RfmSegmentRule(name="About to sleep", r=(3, 3), f=(1, 2)),
    RfmSegmentRule(name="Can't lose", r=(1, 2), f=(5, 5)),
    RfmSegmentRule(name="At risk", r=(1, 2), f=(3, 4)),
    RfmSegmentRule(name="Hibernating", r=(2, 2), f=(1, 2)),
    RfmSegmentRule(name="Lost", r=(1, 1), f=(1, 2)),
)


class RfmSettings(_Model):
    """RFM scoring: the window frequency and monetary look back over, and the segment map."""

    window_days: int | None = Field(
        default=None,
        ge=1,
        description="Frequency and monetary count orders in the last window_days before as-of;"
        " None = all history. Recency always uses the last order.",
    )
    segments: tuple[RfmSegmentRule, ...] = DEFAULT_RFM_SEGMENTS
    default_segment: str = Field(default="Other", min_length=1)

    @field_validator("segments")
    @classmethod
    def _unique_names(cls, v: tuple[RfmSegmentRule, ...]) -> tuple[RfmSegmentRule, ...]:
        names = [s.name for s in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"segment name(s) {dup} appear more than once")
        return v


class OtifSettings(_Model):
    """On time in full per order line: which dates are compared and the tolerances.

    A line is on time when delivered no later than due + late_tolerance_days; an early delivery
    is on time (common practice) unless early_tolerance_days sets an early window, beyond which
    an early delivery fails. See `supplyseg.analytics.otif` for the whole definition.
    """

    reference_date: Literal["requested", "promised"] = Field(
        default="requested", description="Due date: requested_date or promised_date."
    )
    delivery_date: Literal["delivered_date", "ship_date"] = "delivered_date"
    early_tolerance_days: int | None = Field(
        default=None,
        ge=0,
        description="Days a delivery may come before the due date and still be on time;"
        " None (default) = any early delivery is on time.",
    )
    late_tolerance_days: int = Field(
        default=0, ge=0, description="Days after the due date a delivery still counts on time."
    )
    in_full_tolerance_pct: float = Field(
        default=0.0,
        ge=0,
        lt=100,
        description="A line is in full when delivered >= quantity x (1 - pct/100).",
    )


class DsoSettings(_Model):
    """Days sales outstanding from invoices."""

    enabled: bool = True


class ChurnSettings(_Model):
    """A customer has churned after no order for max(window_days, multiple x own median gap)."""

    window_days: int = Field(default=180, ge=1)
    interpurchase_multiple: float = Field(default=3.0, gt=0)


class ChannelSettings(_Model):
    """Per-customer share of each sales channel (order_lines.channel)."""

    basis: Literal["revenue", "orders"] = Field(
        default="revenue", description="revenue: gross line value; orders: distinct orders."
    )
    max_channels: int = Field(
        default=20, ge=1, description="Largest channels get a column; the rest are 'other'."
    )


class ClvSettings(_Model):
    """Customer lifetime value over the next 12 months: purchase-count model + Gamma-Gamma.

    ``model: mbgnbd`` (default) lets a customer drop out after any purchase, so one-time buyers'
    P(alive) falls with silence; ``bgnbd`` keeps them at P(alive) = 1 for ever (see
    `supplyseg.analytics.mbgnbd`). With ``margin`` = 1 the CLV is revenue, not profit.
    """

    enabled: bool = True
    model: Literal["mbgnbd", "bgnbd"] = Field(
        default="mbgnbd",
        description="Purchase-count model: mbgnbd (Batislam et al. 2007) or bgnbd (Fader,"
        " Hardie & Lee 2005).",
    )
    time_unit: Literal["D", "W", "M"] = Field(
        default="W", description="Unit the models are fitted in (W = weeks, as Fader-Hardie)."
    )
    annual_discount_rate: float = Field(default=0.10, ge=0, lt=10)
    discount_step: Literal["month", "week"] = "month"
    margin: float = Field(
        default=1.0,
        ge=0,
        description="Share of revenue counted as value; 1 (default) = the CLV is revenue, not"
        " margin (customer_metrics' clv_basis says which).",
    )
    min_customers: int = Field(
        default=30, ge=2, description="Skip the fit (with a note) below this many customers."
    )
    min_repeat_customers: int = Field(
        default=10, ge=2, description="Skip the Gamma-Gamma fit below this many repeat buyers."
    )


class CustomerSettings(_Model):
    """The whole ``customer:`` section."""

    rfm: RfmSettings = RfmSettings()
    otif: OtifSettings = OtifSettings()
    dso: DsoSettings = DsoSettings()
    churn: ChurnSettings = ChurnSettings()
    channels: ChannelSettings = ChannelSettings()
    clv: ClvSettings = ClvSettings()


# The settings whose values are assumptions about the business, as (section, field) pairs.
_ASSUMPTIONS: tuple[tuple[str, str], ...] = (
    ("otif", "reference_date"),
    ("otif", "delivery_date"),
    ("otif", "early_tolerance_days"),
    ("otif", "late_tolerance_days"),
    ("otif", "in_full_tolerance_pct"),
    ("churn", "window_days"),
    ("churn", "interpurchase_multiple"),
    ("rfm", "window_days"),
    ("clv", "model"),
    ("clv", "time_unit"),
    ("clv", "annual_discount_rate"),
    ("clv", "margin"),
)


def customer_assumptions(
    settings: CustomerSettings, *, origin: str = "supplyseg.yaml"
) -> list[dict[str, Any]]:
    """The customer settings that are assumptions, each with where its value came from.

    One dict per setting: ``setting`` (YAML path, e.g. ``customer.otif.early_tolerance_days``),
    ``value`` and ``source``: ``origin`` when the user set it, else ``"built-in default"``
    (pydantic's ``model_fields_set``). For the run manifest's ``assumptions`` list.
    """
    out = []
    for section, name in _ASSUMPTIONS:
        model = getattr(settings, section)
        given = section in settings.model_fields_set and name in model.model_fields_set
        out.append(
            {
                "setting": f"customer.{section}.{name}",
                "value": getattr(model, name),
                "source": origin if given else "built-in default",
            }
        )
    return out
