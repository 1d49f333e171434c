"""HTTP routes, one module per resource."""

from supplyseg.service.routes import (
    api_keys,
    batches,
    cancellations,
    exceptions,
    health,
    notifications,
    orders,
    policies,
)

__all__ = ["ROUTERS"]

ROUTERS = (
    health.router,
    orders.router,
    batches.router,
    cancellations.router,
    exceptions.router,
    notifications.router,
    policies.router,
    api_keys.router,
)
