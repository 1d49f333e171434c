"""HTTP routes, one module per resource."""

from supplyseg.service.routes import api_keys, exceptions, health, notifications, orders, policies

__all__ = ["ROUTERS"]

ROUTERS = (
    health.router,
    orders.router,
    exceptions.router,
    notifications.router,
    policies.router,
    api_keys.router,
)
