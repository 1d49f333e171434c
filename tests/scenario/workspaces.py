"""Small synthetic workspaces for the policy-management tests (each module makes its own)."""

from __future__ import annotations

from pathlib import Path

from supplyseg.data.synth import synth_company, write_workspace

SIZE = {"customers": 80, "products": 40, "lines": 8000, "seed": 5}


def small_workspace(folder: Path, extra: str = "") -> Path:
    """A synthetic company of 80 customers, 40 products and 8,000 lines in ``folder``;
    ``extra`` YAML is appended to its supplyseg.yaml."""
    path = write_workspace(synth_company(**SIZE), folder)
    if extra:
        with path.open("a", encoding="utf-8") as file:
            file.write(extra)
    return folder
