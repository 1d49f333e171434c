"""The ``demand:`` section of supplyseg.yaml: ABC, XYZ, SBC, lifecycle and seasonality."""

from __future__ import annotations

import itertools
import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "GRAIN_NAMES",
    "LIFECYCLE_DEFAULTS",
    "MEASURES",
    "SEASON_LENGTHS",
    "DemandSettings",
    "Grain",
    "LifecycleSettings",
    "Measure",
    "SeasonalitySettings",
]

Measure = Literal["revenue", "margin", "quantity", "order_lines"]
Grain = Literal["product", "product_location", "customer", "customer_product"]
MEASURES: tuple[Measure, ...] = ("revenue", "margin", "quantity", "order_lines")
GRAIN_NAMES: tuple[Grain, ...] = ("product", "product_location", "customer", "customer_product")
# Per bucket: (new, dormant, obsolete) buckets: a quarter, a quarter and half a year.
LIFECYCLE_DEFAULTS: dict[str, tuple[int, int, int]] = {
    "day": (91, 91, 182),
    "week": (13, 13, 26),
    "month": (3, 3, 6),
}
# Per bucket: one season (a year in weeks and months; a week in days).
SEASON_LENGTHS: dict[str, int] = {"day": 7, "week": 52, "month": 12}


def _increasing(values: tuple[float, ...]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


class LifecycleSettings(BaseModel):
    """Item lifecycle relative to the as-of date (the horizon end), in buckets of the analysis.

    ``obsolete``: no positive net demand in the last ``obsolete_buckets`` buckets; ``dormant``:
    none in the last ``dormant_buckets`` but not obsolete; ``new``: the first positive demand
    lies within the last ``new_buckets``; ``active`` otherwise. None = the bucket's default:
    day 91 / 91 / 182, week 13 / 13 / 26, month 3 / 3 / 6 (new / dormant / obsolete).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    new_buckets: int | None = Field(
        default=None, ge=1, description="First demand within this many last buckets: new."
    )
    dormant_buckets: int | None = Field(
        default=None, ge=1, description="No demand in this many last buckets: dormant."
    )
    obsolete_buckets: int | None = Field(
        default=None, ge=2, description="No demand in this many last buckets: obsolete."
    )

    @model_validator(mode="after")
    def _ordered(self) -> LifecycleSettings:
        d, o = self.dormant_buckets, self.obsolete_buckets
        if d is not None and o is not None and d >= o:
            raise ValueError(
                f".lifecycle.dormant_buckets: {d} must be less than obsolete_buckets {o}"
            )
        return self

    def resolved(self, bucket: str) -> tuple[int, int, int]:
        """(new, dormant, obsolete) buckets for ``bucket``, defaults filled in and checked."""
        new, dormant, obsolete = LIFECYCLE_DEFAULTS[bucket]
        new = self.new_buckets if self.new_buckets is not None else new
        dormant = self.dormant_buckets if self.dormant_buckets is not None else dormant
        obsolete = self.obsolete_buckets if self.obsolete_buckets is not None else obsolete
        if dormant >= obsolete:
            raise ValueError(
                f".lifecycle.dormant_buckets: {dormant} must be less than obsolete_buckets"
                f" {obsolete} (bucket {bucket}; set both)"
            )
        return new, dormant, obsolete


class SeasonalitySettings(BaseModel):
    """Seasonality per series: Hyndman's seasonal strength from a classical decomposition.

    ``F_S = max(0, 1 - Var(R) / Var(S + R))`` (Wang, Smith & Hyndman 2006; Hyndman &
    Athanasopoulos, FPP3 section 4.3) of the additive decomposition statsmodels'
    ``seasonal_decompose(extrapolate_trend="period")`` makes, on the latest whole seasons.
    ``seasonal`` is ``F_S >= min_strength``, and unknown (null) below ``min_seasons`` seasons.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Compute seasonal and seasonal_strength.")
    season_length: int | None = Field(
        default=None, ge=2, description="Buckets per season; None = week 52, month 12, day 7."
    )
    min_seasons: int = Field(
        default=2, ge=2, description="Whole seasons of history needed; shorter is unknown."
    )
    # White noise gives F_S ~ Beta((m-1)/2, m(k-1)/2) (F_S is then the eta² of a one-way
    # layout of m positions x k seasons): at 2 seasons of 52 weeks its 99.9 % quantile is 0.71.
    min_strength: float = Field(
        default=0.7,
        gt=0.0,
        le=1.0,
        description="Seasonal strength from which a series is seasonal.",
    )

    def length(self, bucket: str) -> int:
        """Season length for ``bucket``: the setting or the bucket's default."""
        return self.season_length if self.season_length is not None else SEASON_LENGTHS[bucket]


class DemandSettings(BaseModel):
    """How demand is classed: ABC on a measure, XYZ on the CV, SBC pattern on ADI and CV².

    ABC: items are ranked by the measure (descending, ties by id); an item belongs to the first
    class whose cut-off its cumulative share *before* it is still below, so the item that
    crosses a cut-off (or lands exactly on it) stays in the upper class. Items whose measure is
    not positive are always in the last class. With several measures, ``abc_rule`` combines
    them: ``worst``/``best`` class over the measures, or ``weighted``, which classes the
    weighted sum of each item's share of every measure.

    XYZ: X if cv <= the first cut-off, Y if <= the second, ... (a cv equal to a cut-off stays
    in the lower-variability class, as an item on an ABC cut-off stays in the upper class).

    Pattern (Syntetos, Boylan & Croston 2005): smooth ADI < adi, CV² < cv2; erratic ADI < adi,
    CV² >= cv2; intermittent ADI >= adi, CV² < cv2; lumpy ADI >= adi, CV² >= cv2.
    """

    # Typos in YAML keys must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)

    abc_measures: tuple[Measure, ...] = Field(
        default=("revenue",),
        min_length=1,
        description="What ABC ranks by; several measures are combined by abc_rule.",
    )
    abc_rule: Literal["worst", "best", "weighted"] = Field(
        default="worst", description="How several ABC measures combine into one class."
    )
    abc_weights: tuple[float, ...] | None = Field(
        default=None,
        description="Weights of abc_measures for abc_rule weighted (default equal); normalised.",
    )
    abc_cutoffs: tuple[float, ...] = Field(
        default=(0.8, 0.95),
        min_length=1,
        description="Cumulative-share cut-offs, increasing in (0, 1]; n cut-offs give n+1 classes.",
    )
    abc_labels: tuple[str, ...] | None = Field(
        default=None, description="Class names, one more than cut-offs (default A, B, C, ...)."
    )
    xyz_cutoffs: tuple[float, ...] = Field(
        default=(0.5, 1.0),
        min_length=1,
        description="Coefficient-of-variation cut-offs, positive and increasing.",
    )
    xyz_labels: tuple[str, ...] | None = Field(
        default=None, description="Class names, one more than cut-offs (default ..., X, Y, Z)."
    )
    adi_threshold: float = Field(
        default=1.32, ge=1.0, description="ADI at or above which demand is intermittent/lumpy."
    )
    cv2_threshold: float = Field(
        default=0.49,
        gt=0.0,
        description="CV² of demand sizes at or above which it is erratic/lumpy.",
    )
    grains: tuple[Grain, ...] = Field(
        default=GRAIN_NAMES,
        min_length=1,
        description="Which demand tables to build (product_location needs location_id).",
    )
    lifecycle: LifecycleSettings = Field(
        default=LifecycleSettings(), description="new / active / dormant / obsolete thresholds."
    )
    seasonality: SeasonalitySettings = Field(
        default=SeasonalitySettings(), description="Seasonal strength and flag per product series."
    )

    @model_validator(mode="after")
    def _consistent(self) -> DemandSettings:
        if len(set(self.abc_measures)) != len(self.abc_measures):
            raise ValueError(f".abc_measures: repeated measure in {list(self.abc_measures)}")
        if len(set(self.grains)) != len(self.grains):
            raise ValueError(f".grains: repeated grain in {list(self.grains)}")
        cut = self.abc_cutoffs
        if not all(0.0 < c <= 1.0 for c in cut) or not _increasing(cut):
            raise ValueError(
                f".abc_cutoffs: {list(cut)} must be strictly increasing values in (0, 1]"
            )
        if not all(c > 0.0 for c in self.xyz_cutoffs) or not _increasing(self.xyz_cutoffs):
            raise ValueError(
                f".xyz_cutoffs: {list(self.xyz_cutoffs)} must be strictly increasing values > 0"
            )
        _check_labels("abc_labels", self.abc_labels, len(cut))
        _check_labels("xyz_labels", self.xyz_labels, len(self.xyz_cutoffs))
        if len(self.xyz_cutoffs) + 1 > 26 and self.xyz_labels is None:
            raise ValueError(".xyz_cutoffs: more than 25 cut-offs need explicit xyz_labels")
        if len(cut) + 1 > 26 and self.abc_labels is None:
            raise ValueError(".abc_cutoffs: more than 25 cut-offs need explicit abc_labels")
        w = self.abc_weights
        if w is not None:
            if self.abc_rule != "weighted":
                raise ValueError(
                    f".abc_weights: given but abc_rule is {self.abc_rule!r}; weights apply to"
                    " abc_rule weighted only"
                )
            if len(w) != len(self.abc_measures):
                raise ValueError(
                    f".abc_weights: {list(w)} has {len(w)} values for"
                    f" {len(self.abc_measures)} abc_measures; give one weight per measure"
                )
            if not all(x >= 0.0 for x in w) or sum(w) <= 0.0:
                raise ValueError(f".abc_weights: {list(w)} must be >= 0 with a positive sum")
        return self

    @property
    def abc_class_labels(self) -> tuple[str, ...]:
        """ABC class names, best first: the given labels or A, B, C, ..."""
        n = len(self.abc_cutoffs) + 1
        return self.abc_labels or tuple(string.ascii_uppercase[:n])

    @property
    def xyz_class_labels(self) -> tuple[str, ...]:
        """XYZ class names, steadiest first: the given labels or the last letters up to Z."""
        n = len(self.xyz_cutoffs) + 1
        return self.xyz_labels or tuple(string.ascii_uppercase[26 - n :])

    @property
    def abc_weight_values(self) -> tuple[float, ...]:
        """Weights of abc_measures normalised to sum 1 (equal when not given)."""
        w = self.abc_weights or (1.0,) * len(self.abc_measures)
        total = sum(w)
        return tuple(x / total for x in w)


def _check_labels(name: str, labels: tuple[str, ...] | None, n_cutoffs: int) -> None:
    if labels is None:
        return
    if len(labels) != n_cutoffs + 1:
        raise ValueError(
            f".{name}: {list(labels)} has {len(labels)} names for {n_cutoffs} cut-offs;"
            f" give {n_cutoffs + 1} (one more than cut-offs)"
        )
    if len(set(labels)) != len(labels) or not all(s.strip() for s in labels):
        raise ValueError(f".{name}: {list(labels)} must be distinct non-empty names")
