"""The analytics steps of a run, each a function of the run state (`supplyseg.pipeline.state`)."""

from __future__ import annotations

from functools import partial

import pandas as pd

from supplyseg.allocation.run_tables import allocation_customers, allocation_tables
from supplyseg.analytics.cost_to_serve import cost_to_serve
from supplyseg.analytics.customer import customer_metrics
from supplyseg.analytics.demand import demand_by_customer_group, demand_outputs
from supplyseg.analytics.whale import whale_curve, whale_summary
from supplyseg.config import config_hash
from supplyseg.config.cost_to_serve import DETAIL_LEVELS
from supplyseg.config.forecast import FREQ_OF_BUCKET
from supplyseg.engine import write_parquet
from supplyseg.pipeline.state import _demand_table, _history, _item_grain, _Run, _unique_ids
from supplyseg.policy.adjust import (
    adjusted_policy_inputs,
    annotated_policies,
    overridden_segments,
)
from supplyseg.policy.assign import PolicyResult, policy_outputs
from supplyseg.policy.export import write_policy_outputs
from supplyseg.policy.forecast import ForecastResult, forecast_methods, forecast_outputs
from supplyseg.policy.optimised import optimise_policies
from supplyseg.policy.service_document import service_policy
from supplyseg.segment.features import customer_behaviour
from supplyseg.segment.segmentation import customer_feature_table, pair_segments, segmentation
from supplyseg.segment.supply import (
    item_lead_times,
    policies_with_lead_time_source,
    products_with_learned_lead_times,
    supplier_outputs,
)


def _demand(r: _Run) -> None:
    ws = r.workspace
    result = demand_outputs(
        r.dataset.tables["order_lines"],
        ws.demand,
        bucket=ws.analysis.bucket,
        start=ws.analysis.start,
        end=ws.analysis.end,
        streamed=("customer_product",),  # millions of pairs: written in batches
    )
    for name, frame in result.tables.items():
        r.write(name, frame)
    summaries, notes = dict(result.summaries), list(result.notes)
    for name, table in result.streamed.items():
        summaries[name] = r.write_only(name, table.write_parquet)
        notes.extend(table.notes(summaries[name]))
    r.notes.extend(f"demand: {n}" for n in notes)
    r.facts["demand"] = summaries


def _cost_to_serve(r: _Run) -> None:
    result = cost_to_serve(r.dataset.tables, r.workspace.cost_to_serve, as_of=r.as_of)
    r.write("cost_to_serve_customer", result.customer)
    r.write("cts_breakdown", result.breakdown)
    # Millions of rows, read by no later step: written from the engine in batches.
    details = r.workspace.cost_to_serve.details
    for level in DETAIL_LEVELS:
        if level in details:
            r.write_only(f"cost_to_serve_{level}", partial(result.write_parquet, level))
        else:
            r.notes.append(
                f"cost_to_serve: cost_to_serve_{level} not written (cost_to_serve.details is"
                f" {list(details)})"
            )
    r.notes.extend(f"cost_to_serve: {n}" for n in result.notes)
    r.warnings.extend(result.warnings)
    if result.customer["net_profit"].notna().any():
        r.write("whale_curve", whale_curve(result.customer, missing="drop"))
        r.facts["whale"] = whale_summary(result.customer, missing="drop")


def _customer(r: _Run) -> None:
    result = customer_metrics(r.dataset.tables, r.workspace.customer, as_of=r.as_of)
    r.write("customer_metrics", result.table)
    r.notes.extend(f"customer: {n}" for n in result.notes)
    r.warnings.extend(result.warnings)


def _segment(r: _Run) -> None:
    behaviour = customer_behaviour(r.dataset.tables["order_lines"], r.as_of)
    customers = customer_feature_table(
        behaviour,
        r.frames.get("cost_to_serve_customer"),
        r.frames.get("customer_metrics"),
        r.frames.get("demand_customer"),
    )
    result = segmentation(
        r.workspace.segmentation,
        customers=customers,
        products=r.frames.get("demand_product"),
        overridden=lambda table, entity: overridden_segments(table, entity, r.overrides),
    )
    r.write("customer_features", customers)
    r.write("segments_customer", result.customer)
    r.write("segments_product", result.product)
    pairs = r.outputs.get("demand_customer_product")
    if pairs is not None and len(result.customer) and len(result.product):
        # one row per pair, made and written by the engine: read back by the policy step only
        # for matrix cells
        table = pair_segments(r.dataset.con.read_parquet(pairs), result.customer, result.product)
        r.write_only("segments_customer_product", partial(write_parquet, table))
    r.write("segment_summary", result.summary)
    for name, profile in result.profiles.items():
        r.write(f"cluster_profile_{name}", profile)
    r.notes.extend(result.notes)
    r.warnings.extend(result.warnings)
    r.facts["segmentation"] = result.schemes


def _supplier(r: _Run) -> None:
    """Lead times, supplier metrics and segments (with purchase orders only)."""
    if "purchase_orders" not in r.dataset.tables:
        return
    ws = r.workspace
    result = supplier_outputs(
        r.dataset.tables, ws.supplier, ws.policies, demand_product=r.frames.get("demand_product"),
        bucket=ws.analysis.bucket, with_landed_cost=False,  # after the policy step (landed.py)
    )  # fmt: skip
    for name, frame in result.tables.items():
        r.write(name, frame)
    r.frames["product_lead_times"] = result.product_lead_times
    if result.location_lead_times is not None:
        r.frames["location_lead_times"] = result.location_lead_times
    r.notes.extend(result.notes)
    r.facts["supplier"] = result.summary


def _forecast_result(r: _Run, demand: pd.DataFrame, history: pd.DataFrame) -> ForecastResult | None:
    """Forecasts for the items of ``demand`` from ``history``; None (with a reason) if skipped."""
    settings = r.workspace.forecast
    if not settings.enabled:
        r.notes.append("forecast: disabled in supplyseg.yaml")
        return None
    if len(demand) > settings.max_series:
        r.warnings.append(
            f"forecast: skipped, {len(demand):,} series > forecast.max_series"
            f" {settings.max_series:,}; policies use demand history"
        )
        return None
    grain = _item_grain(r)
    patterns = pd.DataFrame({"unique_id": _unique_ids(demand, grain), "pattern": demand["pattern"]})
    # Seasonality flags from the demand step, when it provides them (null: unknown). A season
    # is a property of the product, and its aggregate over locations shows it far more
    # clearly than one location's noisier series: item-locations take their product's flag.
    flags = r.frames.get("demand_product") if len(grain) > 1 else demand
    for col in ("seasonal", "season_length"):
        if flags is not None and col in flags.columns:
            by_product = flags.set_index("product_id")[col]
            patterns[col] = demand["product_id"].map(by_product).to_numpy()
    segments = r.frames.get("segments_product")
    if segments is not None and len(segments):
        primary = segments[segments["primary"]].set_index("product_id")["segment"]
        patterns["segment"] = demand["product_id"].map(primary).fillna("unsegmented").to_numpy()
    return forecast_outputs(
        history[["unique_id", "ds", "y"]],
        forecast_methods(patterns, settings.methods),
        h=settings.horizon,
        freq=FREQ_OF_BUCKET[r.workspace.analysis.bucket],
        n_windows=settings.backtest_windows,
        holdout_windows=settings.holdout_windows,
        season_length=settings.season_length,
        path_horizon=settings.path_horizon,
        cleansing_k=settings.cleansing.k if settings.cleansing.enabled else None,
        candidates=settings.candidates,
        select=settings.selection,
        selection_margin=settings.selection_margin,
        select_baselines=settings.select_baselines,
        last_season=settings.last_season,
    )


def _forecast(r: _Run) -> None:
    demand = _demand_table(r)
    if demand is None:
        r.warnings.append("forecast: skipped, no demand profile")
        return
    result = _forecast_result(r, demand, _history(r))
    if result is None:
        return
    r.write("forecast", result.forecast)
    r.write("forecast_path", result.path)
    r.write("demand_cleansing", result.cleansing)
    r.write("forecast_accuracy", result.accuracy)


def _policy_result(
    r: _Run,
    demand: pd.DataFrame,
    forecast: pd.DataFrame | None,
    path: pd.DataFrame | None,
    history: pd.DataFrame,
) -> PolicyResult:
    products = r.dataset.tables.get("products")
    inventory = r.dataset.tables.get("inventory")
    product_frame = products.to_pandas() if products is not None else None
    learned = r.frames.get("product_lead_times") if r.workspace.supplier.use_in_policies else None
    per_location = r.frames.get("location_lead_times")
    # The scenario's planned changes and the planner's overrides (supplyseg.policy.adjust),
    # on top of the lead times learned from purchase history.
    given = adjusted_policy_inputs(
        r.workspace,
        r.overrides,
        r.frames.get("segments_product"),
        demand,
        forecast,
        path,
        history,
        product_frame
        if learned is None
        else products_with_learned_lead_times(product_frame, learned),
        item_lead_times(per_location) if learned is not None else None,
    )
    r.notes.extend(n for n in given.notes if n not in r.notes)
    result = policy_outputs(
        r.frames.get("segments_product"),
        given.demand,
        given.products,
        r.workspace.policies,
        bucket=r.workspace.analysis.bucket,
        forecast=given.forecast,
        history=given.history,
        customers_seg=r.frames.get("segments_customer"),
        customer_product_seg=(
            r.kept("segments_customer_product") if r.workspace.policies.matrix else None
        ),
        forecast_path=given.forecast_path,
        inventory=inventory.to_pandas() if inventory is not None else None,
        item_targets=given.item_targets,
        item_lead_times=given.item_lead_times,
    )
    if learned is not None:
        result.policies = policies_with_lead_time_source(
            result.policies, learned, r.frames.get("supplier_metrics"), product_frame, per_location
        )
    return result


def _policy(r: _Run) -> None:
    demand = _demand_table(r)
    if demand is None:
        r.warnings.append("policy: skipped, no demand profile")
        return
    result = _policy_result(
        r, demand, r.frames.get("forecast"), r.frames.get("forecast_path"), _history(r)
    )
    settings = r.workspace.policies
    if settings.optimise.enabled:
        optimised = optimise_policies(
            result.policies, settings.optimise, settings.stock_to_service_targets
        )
        result.policies = optimised.policies
        r.facts["optimise"] = optimised.summary
        if len(optimised.frontier):
            r.write("stock_to_service_frontier", optimised.frontier)
        r.notes.append(
            "policy: safety stocks optimised per "
            + settings.optimise.scope
            + " (demand-value-weighted fill rate; normal lead-time demand for every item)"
        )
    result.policies = annotated_policies(result.policies, r.overrides)
    r.frames["policies"] = result.policies
    paths = write_policy_outputs(
        result, r.path, r.previous, r.run_id, config_hash(r.workspace), erp=r.workspace.erp
    )
    r.outputs.update({p.name: p for p in paths})
    r.notes.extend(f"policy: {n}" for n in result.notes)
    r.facts["policy"] = result.summary
    if len(result.obsolete_stock):
        r.write("obsolete_stock", result.obsolete_stock)
    segments = r.frames.get("segments_customer")
    if segments is None or not segments["primary"].any():
        r.warnings.append(
            "policy: no service policy document (nothing to publish): no primary customer segments"
        )
        return
    customers = r.dataset.tables.get("customers")
    document = service_policy(
        version_id=r.run_id,
        config_hash=config_hash(r.workspace),
        order_rules=result.order_rules,
        customer_segments=segments,
        demand_product=r.frames["demand_product"],
        customers=customers.to_pandas() if customers is not None else None,
        customer_metrics=r.frames.get("customer_metrics"),
    )
    path = r.path / "policy_document.json"
    path.write_text(document.model_dump_json(indent=1), encoding="utf-8")
    r.outputs[path.name] = path
    _allocation(r)


def _allocation(r: _Run) -> None:
    """The allocation plan and supply `supplyseg publish` carries into the order service."""
    supply, inventory = (r.dataset.tables.get(n) for n in ("supply", "inventory"))
    customers, products = r.frames.get("segments_customer"), r.frames.get("segments_product")
    demand = None
    if customers is not None and products is not None:  # from the lines: no pairs needed
        analysis = r.workspace.analysis
        demand = demand_by_customer_group(
            r.dataset.tables["order_lines"],
            allocation_customers(customers),
            start=analysis.start,
            end=analysis.end,
        )
    frames = allocation_tables(
        r.workspace.policies,
        pairs=None,
        product_demand=demand,
        customer_segments=customers,
        product_segments=products,
        supply=None if supply is None else supply.to_pandas(),
        inventory=None if inventory is None else inventory.to_pandas(),
        as_of=r.as_of,
        policies=r.frames.get("policies"),
    )
    for name, frame in frames.items():
        r.write(name, frame)
