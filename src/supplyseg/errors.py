"""The exception tree: every user-facing failure is a `SupplysegError` with a one-line fix."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataContractError",
    "PolicyError",
    "ServiceError",
    "SupplysegError",
]


class SupplysegError(Exception):
    """Base of every error supplyseg raises for a user mistake (CLI exit code 1)."""


class ConfigError(SupplysegError):
    """The workspace configuration (``supplyseg.yaml``) or a parameter is invalid."""


class DataContractError(SupplysegError):
    """An input file breaks the data contract as a whole (missing, unreadable, wrong columns)."""


class PolicyError(SupplysegError):
    """A policy parameter or inventory-kernel argument is out of range."""


class ServiceError(SupplysegError):
    """The order-validation service cannot do what was asked (database, publish, auth)."""
