"""The exception tree: value errors are ValueErrors too, as in scikit-learn."""

from __future__ import annotations

import pytest

from supplyseg import ConfigError, DataContractError, PolicyError, ServiceError, SupplysegError
from supplyseg.policy.inventory import safety_stock


@pytest.mark.parametrize("error", [ConfigError, DataContractError, PolicyError])
def test_errors_about_values_are_value_errors(error: type[SupplysegError]) -> None:
    assert issubclass(error, SupplysegError)
    assert issubclass(error, ValueError)


def test_service_errors_are_not_value_errors() -> None:
    assert issubclass(ServiceError, SupplysegError)
    assert not issubclass(ServiceError, ValueError)


def test_a_bad_argument_is_caught_as_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"service_level: value 1\.5"):
        safety_stock(10.0, 2.0, 1.0, service_level=1.5)
