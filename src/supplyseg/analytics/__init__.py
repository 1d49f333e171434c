"""Analytics on the engine: demand classes, cost-to-serve, customer KPIs."""

__all__: list[str] = []
