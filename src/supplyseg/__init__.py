"""supplyseg: supply chain segmentation — demand classes, cost-to-serve, segments, policies."""

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
    "PolicyError",
    "ServiceError",
    "SupplysegError",
    "Workspace",
    "__version__",
    "compare_scenarios",
    "load_workspace",
    "stock_mix",
    "stock_to_service_frontier",
]

if TYPE_CHECKING:
    from supplyseg.config import Workspace, load_workspace
    from supplyseg.policy.optimise import stock_mix, stock_to_service_frontier
    from supplyseg.scenario.compare import compare_scenarios

# Loaded on first use (PEP 562): config imports pandas, and `supplyseg --help` should not wait
# for it.
_LAZY = {
    "Workspace": "supplyseg.config",
    "load_workspace": "supplyseg.config",
    "compare_scenarios": "supplyseg.scenario.compare",
    "stock_mix": "supplyseg.policy.optimise",
    "stock_to_service_frontier": "supplyseg.policy.optimise",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'supplyseg' has no attribute {name!r}")
