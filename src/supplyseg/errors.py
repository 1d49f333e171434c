"""The exception tree: every user-facing failure is a `SupplysegError` with a one-line fix.

As in scikit-learn, an error about a value the caller passed is also a `ValueError`
(`ConfigError`, `DataContractError`, `PolicyError`), so ``except ValueError`` in a notebook
catches a bad setting as it catches a bad numpy argument. `ServiceError` (a database, a key, a
publish that cannot happen) is not about a value and stays a plain `SupplysegError`.
"""

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


class ConfigError(SupplysegError, ValueError):
    """The workspace configuration (``supplyseg.yaml``) or a parameter is invalid."""


class DataContractError(SupplysegError, ValueError):
    """An input file breaks the data contract as a whole (missing, unreadable, wrong columns)."""


class PolicyError(SupplysegError, ValueError):
    """A policy parameter or inventory-kernel argument is out of range."""


class ServiceError(SupplysegError):
    """The order-validation service cannot do what was asked (database, publish, auth)."""
