"""The bundled demo: a small synthetic company written as a ready workspace."""

from __future__ import annotations

from pathlib import Path

from supplyseg.data.synth import synth_company, write_workspace

__all__ = ["DEMO_SIZE", "demo_workspace"]

# Small enough to run end to end in seconds, large enough for every segment to be populated.
DEMO_SIZE = {"customers": 400, "products": 150, "lines": 40_000, "seed": 42}


def demo_workspace(directory: str | Path) -> Path:
    """Write the demo company to ``directory``; returns the path of its supplyseg.yaml."""
    return write_workspace(synth_company(**DEMO_SIZE), directory)
