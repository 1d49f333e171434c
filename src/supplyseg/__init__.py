"""supplyseg: supply chain segmentation — demand classes, cost-to-serve, segments, policies.

The notebook API, one function per step (each takes a `Dataset`, a mapping of canonical
tables or the order lines, and returns pandas)::

    import supplyseg
    data = supplyseg.load_frames({"order_lines": lines})   # validated as files are
    profile = supplyseg.demand_profile(data)               # ABC, XYZ, pattern per product
    cts = supplyseg.cost_to_serve(data).customer           # cost-to-serve per customer

and the whole run: ``supplyseg.run(supplyseg.load_workspace("my-workspace"))``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("supplyseg")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

from typing import TYPE_CHECKING, Any

from supplyseg.errors import (
    ConfigError,
    DataContractError,
    PolicyError,
    ServiceError,
    SupplysegError,
)

__all__ = [
    "ConfigError",
    "DataContractError",
    "Dataset",
    "PolicyError",
    "ServiceError",
    "SupplysegError",
    "Workspace",
    "__version__",
    "abc_class",
    "compare_scenarios",
    "cost_to_serve",
    "customer_metrics",
    "demand_pattern",
    "demand_profile",
    "demand_series",
    "eoq",
    "fill_rate",
    "load_frames",
    "load_workspace",
    "order_up_to",
    "reorder_point",
    "run",
    "safety_stock",
    "segment_customers",
    "segment_products",
    "stock_mix",
    "stock_to_service_frontier",
    "xyz_class",
]

if TYPE_CHECKING:
    from supplyseg.analytics.demand import (
        abc_class,
        demand_pattern,
        demand_profile,
        demand_series,
        xyz_class,
    )
    from supplyseg.api import cost_to_serve, customer_metrics, segment_customers, segment_products
    from supplyseg.config import Workspace, load_workspace
    from supplyseg.data.frames import load_frames
    from supplyseg.data.load import Dataset
    from supplyseg.pipeline import run
    from supplyseg.policy.inventory import eoq, fill_rate, order_up_to, reorder_point, safety_stock
    from supplyseg.policy.optimise import stock_mix, stock_to_service_frontier
    from supplyseg.scenario.compare import compare_scenarios

# Loaded on first use (PEP 562): `import supplyseg` (and `supplyseg --help`) stays light; the
# first call of a function pays for Ibis, pandas and scipy.
_LAZY = {
    "Workspace": "supplyseg.config",
    "load_workspace": "supplyseg.config",
    "compare_scenarios": "supplyseg.scenario.compare",
    "Dataset": "supplyseg.data.load",
    "load_frames": "supplyseg.data.frames",
    "run": "supplyseg.pipeline",
    "demand_profile": "supplyseg.analytics.demand",
    "demand_series": "supplyseg.analytics.demand",
    "abc_class": "supplyseg.analytics.demand",
    "xyz_class": "supplyseg.analytics.demand",
    "demand_pattern": "supplyseg.analytics.demand",
    "cost_to_serve": "supplyseg.api",
    "customer_metrics": "supplyseg.api",
    "segment_customers": "supplyseg.api",
    "segment_products": "supplyseg.api",
    "safety_stock": "supplyseg.policy.inventory",
    "reorder_point": "supplyseg.policy.inventory",
    "order_up_to": "supplyseg.policy.inventory",
    "fill_rate": "supplyseg.policy.inventory",
    "eoq": "supplyseg.policy.inventory",
    "stock_mix": "supplyseg.policy.optimise",
    "stock_to_service_frontier": "supplyseg.policy.optimise",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'supplyseg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
