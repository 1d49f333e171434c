"""supplyseg: supply chain segmentation — demand classes, cost-to-serve, segments, policies."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("supplyseg")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

from supplyseg.config import Workspace, load_workspace
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
    "load_workspace",
]
