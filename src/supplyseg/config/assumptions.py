"""The assumptions a run rests on: business rates and defaults that are not measured in the data.

Cost-to-serve rates, holding and order costs, default lead times, OTIF tolerances, the Kraljic
supplier thresholds (with purchase orders), the holding rate of landed cost (with sourcing
options) and the built-in service targets change what a planner reads in the report, yet most
users never set them. `assumptions` lists each one in force with its value and whether it came from
``supplyseg.yaml`` or is a built-in default, so the manifest and the report can say which
figures rest on assumed values (pydantic's ``model_fields_set`` tells set from defaulted).
"""

from __future__ import annotations

from typing import Any

from supplyseg.config.allocation import DEFAULT_FILL_TARGET
from supplyseg.config.cost_to_serve import cts_assumptions
from supplyseg.config.customer import customer_assumptions
from supplyseg.config.supplier import supplier_assumptions
from supplyseg.config.workspace import Workspace

__all__ = ["BUILT_IN", "FROM_CONFIG", "assumptions"]

BUILT_IN = "built-in default"
FROM_CONFIG = "supplyseg.yaml"

# Settings that are statements about the business rather than choices of method.
_POLICY_FIELDS = (
    "default_lead_time_days",
    "default_lead_time_std_days",
    "order_cost",
    "holding_rate",
    "fallback_cover_days",
)


def _entry(setting: str, value: Any, given: bool) -> dict[str, Any]:
    return {"setting": setting, "value": value, "source": FROM_CONFIG if given else BUILT_IN}


def assumptions(ws: Workspace) -> list[dict[str, Any]]:
    """Every business assumption in force: ``setting, value, source`` (built-in or yaml)."""
    # A section the YAML leaves out is the default model, whose model_fields_set is empty.
    out = cts_assumptions(ws.cost_to_serve, origin=FROM_CONFIG)
    out += customer_assumptions(ws.customer, origin=FROM_CONFIG)
    policies = ws.policies
    out += [
        _entry(f"policies.{name}", getattr(policies, name), name in policies.model_fields_set)
        for name in _POLICY_FIELDS
    ]
    if policies.builtin_defaults:
        out.append(
            _entry(
                "policies.builtin_defaults",
                "service targets and rules of segments not listed under policies.product /"
                " policies.customer come from the built-in templates",
                "builtin_defaults" in policies.model_fields_set,
            )
        )
    if "purchase_orders" in ws.data:
        out += supplier_assumptions(
            ws.supplier,
            holding_rate=policies.holding_rate,
            holding_rate_given="holding_rate" in policies.model_fields_set,
            landed_cost="sourcing_options" in ws.data,
            origin=FROM_CONFIG,
        )
    if "supply" in ws.data or "inventory" in ws.data:
        rules = [*policies.customer.values(), policies.customer_default]
        given = any(r is not None and r.allocation is not None for r in rules)
        out.append(
            _entry(
                "policies.customer.*.allocation.fill_target",
                f"customer segments of priority 1 without a share protect"
                f" {DEFAULT_FILL_TARGET:g} of their forecast demand per product over the supply"
                " horizon (independent weekly forecast errors, as in the safety stock; a level"
                " error of the forecast is not covered)",
                given,
            )
        )
    last = ws.forecast.last_season
    if ws.forecast.enabled and last.enabled:
        out.append(
            _entry(
                "forecast.last_season",
                f"a series with one season of history whose last season has >= {last.min_share:g}"
                " of its demand in one quarter-season is seasonal: its forecast path is last"
                " season's same periods x the year-over-year ratio (not validated out of sample)",
                "last_season" in ws.forecast.model_fields_set,
            )
        )
    return out
