"""What a scenario and the planner overrides change in a run, as the pipeline applies them.

- `overridden_segments`: primary segments of customers or products a planner overrides
  (``rule`` ``override``, the explanation names the override and the segment it replaced);
- `adjusted_policy_inputs`: the policy step's inputs with the scenario's demand change
  (demand mean and std, forecast, forecast path and history scaled per item) and lead-time
  change (``products.lead_time_days``, the default lead time of products without one, and the
  lead times per item-location learned from purchase orders), the
  lead-time overrides (before the scenario's change) and the service-target overrides (for
  `supplyseg.policy.assign.policy_outputs`);
- `annotated_policies`: the ``override`` column of the policies table and the override named at
  the start of the rationale.

A percent change applies to an item by its product's primary segment, else its category, else
``all`` (`supplyseg.config.scenario.ChangePct`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from supplyseg.config import Workspace
from supplyseg.config.scenario import ChangePct
from supplyseg.policy._codes import ITEM_KEY_SEP
from supplyseg.policy.overrides import Overrides

__all__ = [
    "PolicyInputs",
    "adjusted_policy_inputs",
    "annotated_policies",
    "change_factors",
    "overridden_segments",
]


@dataclass
class PolicyInputs:
    """The policy step's inputs after the scenario's changes and the overrides."""

    demand: pd.DataFrame
    forecast: pd.DataFrame | None
    forecast_path: pd.DataFrame | None
    history: pd.DataFrame
    products: pd.DataFrame | None
    item_targets: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)
    item_lead_times: pd.DataFrame | None = None


def overridden_segments(table: pd.DataFrame, entity: str, overrides: Overrides) -> pd.DataFrame:
    """``segments_<entity>`` with the planner's segment overrides on the primary rows; ids
    without a primary row (not segmented in this run) are left out."""
    wanted = overrides.of(entity, "segment")
    if wanted.empty or table.empty:
        return table
    ids = table[f"{entity}_id"].astype(str)
    new = ids.map(wanted.set_index("id")["value"])
    note = ids.map(wanted.set_index("id")["note"])
    hit = table["primary"].astype(bool) & new.notna()
    if not hit.any():
        return table
    out = table.copy()
    for col in ("segment", "rule", "explanation"):
        out[col] = out[col].astype(object)
    was = out.loc[hit, "segment"].astype(str)
    out.loc[hit, "explanation"] = note[hit] + "; was " + was + ": " + out.loc[hit, "explanation"]
    out.loc[hit, "segment"] = new[hit]
    out.loc[hit, "rule"] = "override"
    return out.astype({c: table[c].dtype for c in ("segment", "rule", "explanation")})


def change_factors(
    change: ChangePct,
    product_ids: pd.Series,
    segment_of: pd.Series | None,
    category_of: pd.Series | None,
) -> np.ndarray:
    """``1 + percent / 100`` per product: its primary segment's change, else its category's,
    else ``all``."""
    pct = pd.Series(change.all, index=product_ids.index, dtype="float64")
    ids = product_ids.astype(str)
    for by, lookup in ((change.category, category_of), (change.segment, segment_of)):
        if by and lookup is not None:
            group = ids.map(lookup.astype(str))
            given = group.map(pd.Series(by, dtype="float64"))
            pct = given.where(given.notna(), pct)
    return 1.0 + pct.to_numpy(dtype=np.float64) / 100.0


def _product_of(frame: pd.DataFrame) -> pd.Series:
    if "product_id" in frame.columns:
        return frame["product_id"].astype(str)
    return frame["unique_id"].astype(str).str.split(ITEM_KEY_SEP, n=1).str[0]


def _scaled(
    frame: pd.DataFrame | None, cols: tuple[str, ...], factor: pd.Series
) -> pd.DataFrame | None:
    if frame is None:
        return None
    f = _product_of(frame).map(factor).fillna(1.0).to_numpy(dtype=np.float64)
    return frame.assign(**{c: frame[c] * f for c in cols if c in frame.columns})


def _unknown(
    change: ChangePct, setting: str, segments: set[str], categories: set[str]
) -> list[str]:
    notes = []
    if gone := sorted(set(change.segment) - segments):
        notes.append(f"scenario: {setting}.segment {gone}: no such product segment in this run")
    if gone := sorted(set(change.category) - categories):
        notes.append(f"scenario: {setting}.category {gone}: no such products.category")
    return notes


def adjusted_policy_inputs(
    ws: Workspace,
    overrides: Overrides,
    segments_product: pd.DataFrame | None,
    demand: pd.DataFrame,
    forecast: pd.DataFrame | None,
    forecast_path: pd.DataFrame | None,
    history: pd.DataFrame,
    products: pd.DataFrame | None,
    item_lead_times: pd.DataFrame | None = None,
) -> PolicyInputs:
    """The policy inputs with the scenario's changes and the overrides (module docstring).

    ``item_lead_times`` (per item-location, `supplyseg.segment.supply.item_lead_times`) take
    the scenario's lead-time change too; a product's planner lead-time override replaces
    them at every location."""
    sc = ws.scenario
    segment_of = None
    if segments_product is not None and len(segments_product):
        primary = segments_product[segments_product["primary"].astype(bool)]
        segment_of = primary.set_index(primary["product_id"].astype(str))["segment"]
    category_of = None
    if products is not None and "category" in products.columns:
        category_of = products.set_index(products["product_id"].astype(str))["category"]
    out = PolicyInputs(demand, forecast, forecast_path, history, products, None)
    out.item_lead_times = item_lead_times
    segments = set(segment_of.astype(str)) if segment_of is not None else set()
    categories = set(category_of.dropna().astype(str)) if category_of is not None else set()
    all_ids = pd.Series(pd.unique(demand["product_id"].astype(str)))
    if not sc.demand_change_pct.is_zero:
        factor = pd.Series(
            change_factors(sc.demand_change_pct, all_ids, segment_of, category_of),
            index=all_ids.to_numpy(),
        )
        out.demand = _scaled(demand, ("mean", "std"), factor)  # type: ignore[assignment]
        out.forecast = _scaled(forecast, ("demand_mean", "demand_std"), factor)
        out.forecast_path = _scaled(forecast_path, ("forecast",), factor)
        out.history = _scaled(history, ("y",), factor)  # type: ignore[assignment]
        out.notes += _unknown(sc.demand_change_pct, "demand_change_pct", segments, categories)
        out.notes.append(
            f"scenario {sc.name}: demand scaled per item by {factor.min():.3g}..{factor.max():.3g}"
        )
    lead = overrides.of("product", "lead_time_days")
    if len(lead) or not sc.lead_time_change_pct.is_zero:
        out.products = _lead_times(ws, out.products, all_ids, lead, segment_of, category_of)
        if item_lead_times is not None:
            mine = item_lead_times[~item_lead_times["product_id"].astype(str).isin(lead["id"])]
            scale = change_factors(
                ws.scenario.lead_time_change_pct, mine["product_id"], segment_of, category_of
            )
            out.item_lead_times = mine.assign(lead_time_days=mine["lead_time_days"] * scale)
        out.notes += _unknown(sc.lead_time_change_pct, "lead_time_change_pct", segments, categories)
    targets = overrides.of("product", "service_target")
    if len(targets):
        out.item_targets = targets.rename(columns={"id": "product_id", "value": "service_target"})
    return out


def _lead_times(
    ws: Workspace,
    products: pd.DataFrame | None,
    all_ids: pd.Series,
    lead: pd.DataFrame,
    segment_of: pd.Series | None,
    category_of: pd.Series | None,
) -> pd.DataFrame:
    """Products with every demanded product's lead time: overrides, then the scenario's change
    (products without a lead time start from ``policies.default_lead_time_days``)."""
    base = products if products is not None else pd.DataFrame({"product_id": all_ids})
    ids = base["product_id"].astype(str)
    absent = sorted(set(all_ids) - set(ids))
    if absent:
        base = pd.concat([base, pd.DataFrame({"product_id": absent})], ignore_index=True)
        ids = base["product_id"].astype(str)
    days = (
        pd.to_numeric(base["lead_time_days"], errors="coerce")
        if "lead_time_days" in base.columns
        else pd.Series(np.nan, index=base.index)
    ).astype("float64")
    days = ids.map(lead.set_index("id")["value"]).astype("float64").fillna(days)
    change = ws.scenario.lead_time_change_pct
    if not change.is_zero:
        days = days.fillna(ws.policies.default_lead_time_days)
        days = days * change_factors(change, ids, segment_of, category_of)
    return base.assign(lead_time_days=days.to_numpy())


def annotated_policies(policies: pd.DataFrame, overrides: Overrides) -> pd.DataFrame:
    """Policies with an ``override`` column (the product's active overrides, empty for none)
    and those overrides named at the start of the rationale; unchanged without overrides."""
    notes = overrides.notes("product")
    if notes.empty:
        return policies
    note = policies["product_id"].astype(str).map(notes)
    out = policies.assign(override=note.astype(object))
    hit = note.notna()
    if hit.any() and "rationale" in out.columns:
        text = out["rationale"].astype(object)
        text[hit] = note[hit] + "; " + text[hit].astype(str)
        out["rationale"] = text.astype("category")
    return out
