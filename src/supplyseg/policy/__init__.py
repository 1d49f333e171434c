"""Policies per segment: inventory kernels, forecasts, assignment and export."""

__all__: list[str] = []
