"""The notebook API: the pipeline's steps as functions of data, returning pandas.

Every function takes ``data`` as a `Dataset` (`supplyseg.load_frames`, or a run's), a mapping
of canonical tables (pandas, Arrow or Ibis) or, for order-line functions, the order lines
alone; settings as the config model of their section, a mapping, or keyword arguments (the
keys of that section of supplyseg.yaml). Each computes what `supplyseg run` computes for the
same data and settings: the same functions run underneath, in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

import pandas as pd
from pydantic import BaseModel, ValidationError

from supplyseg.analytics.cost_to_serve import CostToServeResult
from supplyseg.analytics.cost_to_serve import cost_to_serve as _cost_to_serve
from supplyseg.analytics.customer import CustomerMetricsResult
from supplyseg.analytics.customer import customer_metrics as _customer_metrics
from supplyseg.analytics.demand import demand_outputs
from supplyseg.config import Analysis, Workspace
from supplyseg.config.cost_to_serve import CostToServeSettings
from supplyseg.config.customer import CustomerSettings
from supplyseg.config.demand import DemandSettings
from supplyseg.config.messages import validation_message
from supplyseg.config.segmentation import SegmentationSettings
from supplyseg.data.frames import canonical_tables
from supplyseg.errors import ConfigError
from supplyseg.segment.features import customer_behaviour
from supplyseg.segment.segmentation import (
    SegmentationResult,
    customer_feature_table,
    segmentation,
)

__all__ = ["cost_to_serve", "customer_metrics", "segment_customers", "segment_products"]

M = TypeVar("M", bound=BaseModel)


def section_settings(
    model: type[M], settings: M | Mapping[str, Any] | None, overrides: Mapping[str, Any], name: str
) -> M:
    """``settings`` (a model, a mapping or None for the defaults) with ``overrides`` on top,
    validated as the ``name:`` section of supplyseg.yaml is."""
    if isinstance(settings, model) and not overrides:
        return settings
    if isinstance(settings, BaseModel):
        base: dict[str, Any] = settings.model_dump(exclude_unset=True)
    elif settings is None:
        base = {}
    elif isinstance(settings, Mapping):
        base = dict(settings)
    else:
        raise ConfigError(
            f"settings: got a {type(settings).__name__}; give a {model.__name__}, a mapping of"
            f" the {name}: keys of supplyseg.yaml, or keyword arguments"
        )
    raw = {**base, **overrides}
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            validation_message(
                exc, raw, origin=f"{name} settings", model=model, prefix=name, fix="correct it"
            )
        ) from None


def cost_to_serve(
    data: Any,
    settings: CostToServeSettings | Mapping[str, Any] | None = None,
    *,
    as_of: date | None = None,
    **kwargs: Any,
) -> CostToServeResult:
    """Activity-based cost-to-serve per customer, customer x product and order.

    ``settings``/``kwargs``: the ``cost_to_serve:`` section (``pools``,
    ``warn_share_above_revenue``); default pools when absent. ``as_of``: the analysis date,
    default the last order date. Returns the tables the run writes as pandas DataFrames:
    ``.customer`` (cost_to_serve_customer), ``.breakdown`` (cts_breakdown),
    ``.customer_product``, ``.order``, with ``.notes`` and ``.warnings``.

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> lines = pd.DataFrame({
    ...     "order_id": ["o1", "o1", "o2"], "customer_id": ["c1", "c1", "c2"],
    ...     "product_id": ["p1", "p2", "p1"],
    ...     "order_date": pd.to_datetime(["2025-03-03", "2025-03-03", "2025-03-04"]),
    ...     "quantity": [10, 5, 1], "unit_price": [4.0, 2.0, 4.0],
    ... })
    >>> pools = [{"name": "handling", "driver": "orders", "rate": 5.0},
    ...          {"name": "picking", "driver": "order_lines", "rate": 1.0}]
    >>> cts = supplyseg.cost_to_serve({"order_lines": lines}, pools=pools)
    >>> cts.customer[["customer_id", "revenue", "cts_total"]].values.tolist()
    [['c1', 50.0, 7.0], ['c2', 4.0, 6.0]]
    """
    s = section_settings(CostToServeSettings, settings, kwargs, "cost_to_serve")
    return _cost_to_serve(canonical_tables(data), s, as_of=as_of)


def customer_metrics(
    data: Any,
    settings: CustomerSettings | Mapping[str, Any] | None = None,
    *,
    as_of: date | None = None,
    **kwargs: Any,
) -> CustomerMetricsResult:
    """RFM, churn, OTIF, DSO, channel and CLV (BG/NBD, Gamma-Gamma) per purchasing customer.

    ``settings``/``kwargs``: the ``customer:`` section. Returns ``.table`` (the run's
    customer_metrics table, one row per customer), ``.notes``, ``.warnings`` and the fitted
    models ``.clv_fit`` and ``.spend_fit``.

    Examples
    --------
    >>> import pandas as pd
    >>> import supplyseg
    >>> lines = pd.DataFrame({
    ...     "order_id": ["o1", "o2", "o3"], "customer_id": ["c1", "c1", "c2"],
    ...     "product_id": ["p1", "p1", "p2"],
    ...     "order_date": pd.to_datetime(["2025-01-06", "2025-02-03", "2025-02-10"]),
    ...     "quantity": [1, 2, 1], "unit_price": [10.0, 10.0, 99.0],
    ... })
    >>> from datetime import date
    >>> kpis = supplyseg.customer_metrics(lines, as_of=date(2025, 2, 28))
    >>> kpis.table[["customer_id", "frequency", "recency_days", "monetary"]].values.tolist()
    [['c1', 2, 25, 30.0], ['c2', 1, 18, 99.0]]
    """
    s = section_settings(CustomerSettings, settings, kwargs, "customer")
    return _customer_metrics(canonical_tables(data), s, as_of=as_of)


def _segmentation(
    data: Any,
    settings: SegmentationSettings | Mapping[str, Any] | None,
    kwargs: Mapping[str, Any],
    workspace: Workspace | None,
    as_of: date | None,
    customers: bool,
) -> SegmentationResult:
    """The run's segment step, with the demand, cost-to-serve and customer steps it reads."""
    seg = section_settings(
        SegmentationSettings,
        settings if settings is not None or workspace is None else workspace.segmentation,
        kwargs,
        "segmentation",
    )
    analysis = workspace.analysis if workspace is not None else Analysis()
    tables = canonical_tables(data)
    lines = tables["order_lines"]
    if as_of is None:
        as_of = analysis.end
    if as_of is None:
        last = lines.order_date.max().to_pyarrow().as_py()
        as_of = last if isinstance(last, date) else date.today()
    demand = demand_outputs(
        lines,
        workspace.demand if workspace is not None else DemandSettings(),
        bucket=analysis.bucket,
        start=analysis.start,
        end=analysis.end,
    ).tables
    features = None
    if customers:
        cts = _cost_to_serve(
            tables,
            workspace.cost_to_serve if workspace is not None else CostToServeSettings(),
            as_of=as_of,
        )
        kpis = _customer_metrics(
            tables, workspace.customer if workspace is not None else CustomerSettings(), as_of
        )
        features = customer_feature_table(
            customer_behaviour(lines, as_of),
            cts.customer,
            kpis.table,
            demand.get("demand_customer"),
        )
    return segmentation(
        seg,
        customers=features,
        products=demand.get("demand_product"),
        pairs=demand.get("demand_customer_product") if customers else None,
    )


def segment_customers(
    data: Any,
    settings: SegmentationSettings | Mapping[str, Any] | None = None,
    *,
    workspace: Workspace | None = None,
    as_of: date | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Customer segments by every configured scheme: the run's ``segments_customer`` table.

    Computes what the schemes read (buying behaviour, cost-to-serve, customer KPIs, demand per
    customer) from ``data`` first, with the settings of ``workspace`` (defaults without one).
    ``settings``/``kwargs``: the ``segmentation:`` section. One row per customer and scheme:
    ``customer_id, scheme, segment, rule, explanation, primary``.

    Examples
    --------
    >>> import supplyseg
    >>> from supplyseg.data.synth import synth_company
    >>> company = synth_company(customers=60, products=30, lines=3000, seed=1)
    >>> credit_notes = {"name": "cn", "column": "order_id", "starts_with": "CN",
    ...                 "action": "credit_note"}
    >>> data = supplyseg.load_frames(
    ...     {"order_lines": company.order_lines, "customers": company.customers},
    ...     sources={"order_lines": {"rules": [credit_notes]}})
    >>> segments = supplyseg.segment_customers(data)
    >>> sorted(segments.columns)
    ['customer_id', 'explanation', 'primary', 'rule', 'scheme', 'segment']
    """
    result = _segmentation(data, settings, kwargs, workspace, as_of, customers=True)
    return result.customer


def segment_products(
    data: Any,
    settings: SegmentationSettings | Mapping[str, Any] | None = None,
    *,
    workspace: Workspace | None = None,
    as_of: date | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Product segments by every configured scheme: the run's ``segments_product`` table.

    The demand profile per product (ABC, XYZ, pattern, lifecycle) is computed from ``data``
    first, with the settings of ``workspace`` (defaults without one). One row per product
    and scheme: ``product_id, scheme, segment, rule, explanation, primary``.

    Examples
    --------
    >>> import supplyseg
    >>> from supplyseg.data.synth import synth_company
    >>> company = synth_company(customers=60, products=30, lines=3000, seed=1)
    >>> segments = supplyseg.segment_products(company.order_lines)
    >>> segments.loc[segments["primary"], "scheme"].unique().tolist()
    ['abc_xyz']
    """
    result = _segmentation(data, settings, kwargs, workspace, as_of, customers=False)
    return result.product
