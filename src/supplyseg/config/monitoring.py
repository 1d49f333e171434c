"""The ``monitoring:`` section of supplyseg.yaml: what `supplyseg monitor` alerts on.

`supplyseg monitor` compares the latest run with the last published (else approved) policy
version. A check raises a ``warning`` when its value passes the threshold and a ``critical``
alert when it passes ``critical_factor`` times the threshold; expiring overrides are ``info``
and expired ones ``warning``. The command exits with code 3 when any alert is at or above
``fail_on``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SEVERITIES", "MonitoringSettings", "Severity"]

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
"""Alert severities, lowest first."""


class MonitoringSettings(BaseModel):
    """Alert thresholds of `supplyseg monitor`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fail_on: Literal["info", "warning", "critical", "never"] = Field(
        default="critical",
        description="Exit code 3 when an alert is at or above this severity; never: always 0.",
    )
    critical_factor: float = Field(
        default=2.0, gt=1.0, description="A value past threshold x this is critical."
    )
    migration_share: float = Field(
        default=0.10,
        gt=0.0,
        le=1.0,
        description="Share of entities of a scheme whose segment changed since the baseline.",
    )
    service_gap: float = Field(
        default=0.02,
        gt=0.0,
        le=1.0,
        description="Target minus achieved service (policy simulation) of a product segment.",
    )
    cts_drift_pct: float = Field(
        default=10.0,
        gt=0.0,
        description="Relative change in % of a customer segment's cost-to-serve share of revenue.",
    )
    forecast_drift_pct: float = Field(
        default=20.0,
        gt=0.0,
        description="Relative rise in % of a product segment's forecast error (MASE).",
    )
    override_expiry_days: int = Field(
        default=14, ge=0, description="Overrides expiring within this many days are reported."
    )
