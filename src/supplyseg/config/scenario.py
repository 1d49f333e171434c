"""The ``scenario:`` section of supplyseg.yaml: planned changes a scenario overlay makes.

A scenario (``scenarios/<name>.yaml``, `supplyseg.scenario.overlay`) is deep-merged onto the
workspace file; besides any workspace setting (service targets, cost-to-serve rates, holding
rate ...) it can set the changes below, which the policy step applies to its inputs. In the
workspace file itself they default to no change.

A change in percent applies to an item by the first of: its product's primary segment
(``segment``), its product category (``products.category``, ``category``), else ``all``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = ["NAME_PATTERN", "ChangePct", "ScenarioSettings"]

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""Scenario names: a file name stem of letters, digits, ``_ . -`` (at most 64)."""


def _pct(v: float) -> float:
    if not -100.0 < v <= 1000.0 or v != v:
        raise ValueError(f"{v!r} is outside the allowed range (-100, 1000] percent")
    return v


Pct = Annotated[float, AfterValidator(_pct)]


def _name(v: str | None) -> str | None:
    if v is not None and not NAME_PATTERN.fullmatch(v):
        raise ValueError(f"{v!r}: allowed letters, digits, _ . - (a file name, at most 64)")
    return v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChangePct(_Model):
    """A change in percent for every item, per product category, or per product segment."""

    all: Pct = Field(default=0.0, description="Percent change of every item (-20 = 20 % less).")
    category: dict[str, Pct] = Field(
        default_factory=dict, description="products.category -> percent change (before all)."
    )
    segment: dict[str, Pct] = Field(
        default_factory=dict,
        description="Primary product segment -> percent change (before category and all).",
    )

    @property
    def is_zero(self) -> bool:
        """True when nothing changes."""
        values = [self.all, *self.category.values(), *self.segment.values()]
        return not any(values)


class ScenarioSettings(_Model):
    """Which scenario a run belongs to and the planned changes it makes."""

    name: Annotated[str | None, AfterValidator(_name)] = Field(
        default=None,
        description="Set by `supplyseg scenario run` from the file name; empty for the base.",
    )
    description: str = Field(default="", description="One line for the comparison and report.")
    demand_change_pct: ChangePct = Field(
        default_factory=ChangePct,
        description="Planned demand change: scales demand mean, std, forecast and history the"
        " policies are computed from.",
    )
    lead_time_change_pct: ChangePct = Field(
        default_factory=ChangePct,
        description="Lead-time change: scales products.lead_time_days (and the default lead"
        " time of products without one).",
    )
