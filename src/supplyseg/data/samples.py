"""The bundled demo: a small synthetic company written as a ready workspace."""

from __future__ import annotations

from pathlib import Path

from supplyseg.data.synth import synth_company, write_workspace

__all__ = ["DEMO_SIZE", "demo_workspace"]

# Small enough to run end to end in seconds, large enough for every segment to be populated.
DEMO_SIZE = {"customers": 400, "products": 150, "lines": 40_000, "seed": 42}


# The demo shows what a planner can switch on: per-item targets chosen by the optimiser.
_DEMO_SETTINGS = """
policies:
  optimise: {enabled: true, scope: segment}   # stock-mix optimiser: same service, less stock
  require_approval: true   # publish only approved versions: supplyseg policy approve
"""


def demo_workspace(directory: str | Path) -> Path:
    """Write the demo company to ``directory``; returns the path of its supplyseg.yaml."""
    path = write_workspace(synth_company(**DEMO_SIZE), directory)
    with path.open("a", encoding="utf-8") as yaml_file:
        yaml_file.write(_DEMO_SETTINGS)
    return path
