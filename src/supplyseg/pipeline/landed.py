"""The landed-cost step of a run: after the policy step, so each product's safety-stock carrying
cost uses the service level of its own policy (`supplyseg.segment.supply.policy_service_levels`).

Runs with ``purchase_orders`` and ``sourcing_options``; products without a policy (none made,
or not demanded) take ``supplier.landed_cost.service_level``.
"""

from __future__ import annotations

from supplyseg.pipeline.state import _Run
from supplyseg.segment.supply import policy_service_levels, supplier_landed_cost


def _landed_cost(r: _Run) -> None:
    tables = r.dataset.tables
    if "purchase_orders" not in tables or "sourcing_options" not in tables:
        return
    ws = r.workspace
    policies = r.frames.get("policies")
    result = supplier_landed_cost(
        tables,
        ws.supplier,
        ws.policies,
        demand_product=r.frames.get("demand_product"),
        bucket=ws.analysis.bucket,
        service_levels=policy_service_levels(policies) if policies is not None else None,
    )
    r.write("landed_cost", result.table)
    r.facts.setdefault("supplier", {})["landed_cost"] = result.summary
    r.notes.extend(result.notes)
