"""Read what a run folder holds: the manifest, the output tables, and why a table is absent."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from supplyseg.errors import DataContractError

__all__ = ["TABLE_ORDER", "RunFolder", "read_run_folder"]

# The output tables in report order; anything else found in the folder follows alphabetically.
TABLE_ORDER = (
    "demand_product",
    "demand_product_location",
    "demand_customer",
    "demand_customer_product",
    "cost_to_serve_customer",
    "cts_breakdown",
    "cost_to_serve_customer_product",
    "cost_to_serve_order",
    "customer_metrics",
    "segments_customer",
    "segments_product",
    "segment_summary",
    "segment_migration",
    "policies",
    "stock_to_service",
    "policy_simulation",
    "obsolete_stock",
    "supplier_metrics",
    "lead_times",
    "landed_cost",
    "demand_cleansing",
    "forecast_accuracy",
    "rejects",
)

# Manifest-note prefixes of the step that writes each table (notes read "<step>: <what>").
_STEP_PREFIXES: dict[str, tuple[str, ...]] = {
    "policy_simulation": ("simulation", "policy_simulation", "replay"),
    "obsolete_stock": ("obsolete", "obsolete_stock", "lifecycle", "inventory"),
    "demand_cleansing": ("cleansing", "demand_cleansing"),
    "demand": ("demand",),
    "cost_to_serve": ("cost_to_serve", "cts"),
    "cts": ("cost_to_serve", "cts"),
    "customer_metrics": ("customer_metrics", "customer"),
    "segment": ("segment", "segments", "segmentation"),
    "policies": ("policy", "policies", "inventory"),
    "stock_to_service": ("policy", "policies", "stock_to_service", "inventory"),
    "forecast": ("forecast", "forecast_accuracy"),
    "supplier_metrics": ("supplier",),
    "lead_times": ("supplier",),
    "landed_cost": ("supplier",),
}
_DEFAULT_REASONS = {
    "segment_migration": "there is no earlier run to compare with",
    "policy_simulation": "the run did not replay the policies against past demand (no"
    " policy_simulation.parquet; runs before the replay existed have none)",
    "obsolete_stock": "the run wrote no obsolete_stock.parquet (runs before lifecycles existed"
    " have none)",
}
_SKIP_WORDS = re.compile(r"skip|disabled|not |no |absent|missing|cannot|unavailable", re.I)


def _prefixes(table: str) -> tuple[str, ...]:
    for key, prefixes in _STEP_PREFIXES.items():
        if table.startswith(key):
            return (table, *prefixes)
    return (table,)


def _strip_prefix(note: str, prefix: str) -> str:
    rest = note[len(prefix) :].lstrip(" :,-")
    if rest.lower().startswith("not provided"):  # the loader's note on an absent input table
        return f"no {note[: len(prefix)]} table was provided"
    rest = re.sub(r"^skipped\s*[:,;-]?\s*", "", rest, flags=re.I)
    return rest.rstrip(". ")


def _match(note: str, prefixes: tuple[str, ...]) -> str | None:
    """The longest of ``prefixes`` the note starts with (followed by ``:`` or a space)."""
    low = note.lower()
    for prefix in sorted(prefixes, key=len, reverse=True):
        if low.startswith(prefix.lower()) and low[len(prefix) : len(prefix) + 1] in (":", " "):
            return prefix
    return None


@dataclass
class RunFolder:
    """One run's folder: its manifest and (lazily read, cached) Parquet output tables."""

    path: Path
    manifest: dict[str, Any]
    _cache: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", self.path.name))

    @property
    def notes(self) -> list[str]:
        notes = self.manifest.get("notes") or []
        return [str(n) for n in notes]

    @property
    def warnings(self) -> list[str]:
        """The run's warnings (``manifest["warnings"]``): things that limit what figures mean."""
        found = self.manifest.get("warnings") or []
        return [str(w) for w in found] if isinstance(found, list) else [str(found)]

    @property
    def assumptions(self) -> list[dict[str, Any]]:
        """``manifest["assumptions"]``: ``{setting, value, source}`` per setting in force
        (source "built-in default" or "supplyseg.yaml"); [] for runs made before it existed."""
        found = self.manifest.get("assumptions") or []
        if not isinstance(found, list):
            return []
        return [
            {
                "setting": str(a.get("setting", "")),
                "value": a.get("value"),
                "source": str(a.get("source", "")),
            }
            for a in found
            if isinstance(a, dict)
        ]

    @property
    def defaults_in_force(self) -> list[dict[str, Any]]:
        """The assumptions that are built-in defaults, not set in supplyseg.yaml."""
        return [a for a in self.assumptions if "default" in a["source"].lower()]

    def summary(self, name: str) -> Any:
        """``manifest["summaries"][name]`` or None."""
        summaries = self.manifest.get("summaries") or {}
        return summaries.get(name) if isinstance(summaries, dict) else None

    @property
    def segmentation(self) -> dict[str, Any]:
        """The customer scheme as run: ``manifest["segmentation"]["customer"]`` (``requested``,
        ``used``, ``fallback``, ``reason``) or {}."""
        found = self.manifest.get("segmentation") or {}
        customer = found.get("customer") if isinstance(found, dict) else None
        return customer if isinstance(customer, dict) else {}

    @property
    def currency(self) -> str:
        """The currency code when the manifest names one (``currency``), else ''."""
        return str(self.manifest.get("currency") or "")

    def table_names(self) -> list[str]:
        """Every output table in the folder, in report order."""
        present = {p.stem for p in self.path.glob("*.parquet")}
        known = [t for t in TABLE_ORDER if t in present]
        return known + sorted(present - set(known))

    def table_path(self, name: str) -> Path:
        return self.path / f"{name}.parquet"

    def has(self, name: str) -> bool:
        return self.table_path(name).is_file()

    def table(self, name: str) -> pd.DataFrame | None:
        """The table as a DataFrame, or None when the run did not produce it."""
        if name not in self._cache:
            path = self.table_path(name)
            try:
                self._cache[name] = pd.read_parquet(path) if path.is_file() else None
            except (OSError, ValueError) as exc:
                raise DataContractError(
                    f"run folder {self.path}: {path.name} cannot be read ({exc}); rerun"
                    " `supplyseg run` to rewrite it"
                ) from exc
        return self._cache[name]

    def notes_about(self, *prefixes: str) -> list[str]:
        """Manifest notes that start with one of ``prefixes`` (as ``<prefix>:`` or ``<prefix> ``),
        with the prefix removed; notes that say something was skipped come first."""
        found: list[str] = []
        for note in self.notes:
            # The pipeline prefixes its steps' notes with the step ("customer: otif: skipped"):
            # the note is also tried without that first word.
            head, _, rest = note.partition(": ")
            tries = [rest, note] if rest and " " not in head else [note]
            for text in tries:
                hit = _match(text, prefixes)
                if hit is not None:
                    found.append(_strip_prefix(text, hit))
                    break
        return sorted(found, key=lambda n: not _SKIP_WORDS.search(n))

    def reason_absent(self, name: str) -> str:
        """Why ``name`` is not in the folder: the step's manifest note, else a default line."""
        notes = [n for n in self.notes_about(*_prefixes(name)) if _SKIP_WORDS.search(n)]
        if notes:
            return notes[0]
        return _DEFAULT_REASONS.get(name, "the table was not produced by this run")


def read_run_folder(run_dir: Path | str) -> RunFolder:
    """Open ``out/<run_id>/``; raises DataContractError when it is not a run folder."""
    path = Path(run_dir)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise DataContractError(
            f"run_dir: {str(path)!r} has no manifest.json; pass a run folder out/<run_id>/"
            " written by `supplyseg run`"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataContractError(
            f"run_dir: {manifest_path} is not valid JSON ({exc}); rerun `supplyseg run`"
        ) from exc
    if not isinstance(manifest, dict):
        raise DataContractError(f"run_dir: {manifest_path} does not hold a JSON object")
    return RunFolder(path, manifest)
