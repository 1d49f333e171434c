"""The assumptions a run rests on: business rates and defaults that are not measured in the data.

Cost-to-serve rates, holding and order costs, default lead times, OTIF tolerances and the
built-in service targets change what a planner reads in the report, yet most users never set
them. `assumptions` lists each one in force with its value and whether it came from
``supplyseg.yaml`` or is a built-in default, so the manifest and the report can say which
figures rest on assumed values (pydantic's ``model_fields_set`` tells set from defaulted).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

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
_OTIF_FIELDS = ("late_tolerance_days", "early_tolerance_days", "in_full_tolerance_pct")
_CHURN_FIELDS = ("window_days", "interpurchase_multiple")
_CLV_FIELDS = ("annual_discount_rate", "margin", "model")


def _entry(setting: str, value: Any, given: bool) -> dict[str, Any]:
    return {"setting": setting, "value": value, "source": FROM_CONFIG if given else BUILT_IN}


def _fields(
    model: BaseModel, prefix: str, names: tuple[str, ...], given: bool = True
) -> list[dict[str, Any]]:
    """One entry per field of ``model`` that exists; ``given`` False marks a defaulted parent."""
    return [
        _entry(f"{prefix}.{name}", getattr(model, name), given and name in model.model_fields_set)
        for name in names
        if name in type(model).model_fields
    ]


def _cost_pools(ws: Workspace) -> list[dict[str, Any]]:
    cts = ws.cost_to_serve
    given = "cost_to_serve" in ws.model_fields_set and "pools" in cts.model_fields_set
    out = []
    for pool in cts.pools:
        prefix = f"cost_to_serve.pools.{pool.name}"
        if pool.rate is not None:
            out.append(_entry(f"{prefix}.rate", pool.rate, given))
        if pool.rate_by_channel:
            out.append(_entry(f"{prefix}.rate_by_channel", dict(pool.rate_by_channel), given))
    return out


def assumptions(ws: Workspace) -> list[dict[str, Any]]:
    """Every business assumption in force: ``setting, value, source`` (built-in or yaml)."""
    set_ = ws.model_fields_set
    customer = ws.customer
    c_set = "customer" in set_
    out = _cost_pools(ws)
    out += _fields(
        customer.otif, "customer.otif", _OTIF_FIELDS, c_set and "otif" in customer.model_fields_set
    )
    out += _fields(
        customer.churn,
        "customer.churn",
        _CHURN_FIELDS,
        c_set and "churn" in customer.model_fields_set,
    )
    out += _fields(
        customer.clv, "customer.clv", _CLV_FIELDS, c_set and "clv" in customer.model_fields_set
    )
    policies = ws.policies
    out += _fields(policies, "policies", _POLICY_FIELDS, "policies" in set_)
    if policies.builtin_defaults:
        out.append(
            _entry(
                "policies.builtin_defaults",
                "service targets and rules of segments not listed under policies.product /"
                " policies.customer come from the built-in templates",
                "policies" in set_ and "builtin_defaults" in policies.model_fields_set,
            )
        )
    return out
