"""What ``supplyseg publish`` carries into the service for order promising, read from a run
folder: ``allocation_shares.parquet`` (`supplyseg.allocation.plan.allocation_shares`),
``allocation_products.parquet`` (``product_id, product_segment``),
``allocation_protection.parquet`` (protected quantities, `supplyseg.allocation.protection`)
and ``supply.parquet`` (`supplyseg.allocation.supply.supply_table`). Each file is optional;
without them promising runs without an allocation plan (no nesting) or on the supply already
in the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from supplyseg.errors import ServiceError
from supplyseg.service.promise import publish_allocation, replace_all_supply

__all__ = ["ALLOCATION_FILES", "Allocation", "publish_run_allocation", "read_allocation_files"]

ALLOCATION_FILES = (
    "allocation_shares.parquet",
    "allocation_products.parquet",
    "supply.parquet",
    "allocation_protection.parquet",
)


@dataclass(frozen=True)
class Allocation:
    """The allocation plan of a version and, if given, the supply that replaces the service's."""

    shares: list[dict[str, Any]]
    products: list[dict[str, Any]]
    supply: list[dict[str, Any]] | None = None
    protection: list[dict[str, Any]] = field(default_factory=list)


def _records(path: Path, columns: tuple[str, ...]) -> list[dict[str, Any]] | None:
    if not path.exists():
        return None
    import pandas as pd

    frame = pd.read_parquet(path)
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        raise ServiceError(f"{path}: column(s) {missing} missing; expected {list(columns)}")
    return [{str(k): v for k, v in r.items()} for r in frame[list(columns)].to_dict("records")]


def read_allocation_files(folder: Path) -> Allocation | None:
    """The run folder's allocation files (None when it has none of them)."""
    shares = _records(
        folder / ALLOCATION_FILES[0],
        ("product_segment", "customer_segment", "priority", "share", "strategy"),
    )
    products = _records(folder / ALLOCATION_FILES[1], ("product_id", "product_segment"))
    supply = _records(
        folder / ALLOCATION_FILES[2], ("product_id", "location_id", "date", "kind", "quantity")
    )
    protection = _records(
        folder / ALLOCATION_FILES[3],
        ("product_id", "customer_segment", "protected_quantity", "horizon_start", "horizon_end"),
    )
    if shares is None and products is None and supply is None:
        return None
    for rows, keys in ((supply, ("date",)), (protection, ("horizon_start", "horizon_end"))):
        for row in rows or ():
            for k in keys:
                row[k] = row[k].date() if hasattr(row[k], "date") else row[k]
    return Allocation(shares or [], products or [], supply, protection or [])


def publish_run_allocation(
    session: Session, version_id: str, allocation: Allocation, *, actor: str
) -> None:
    """Write ``allocation`` for ``version_id`` (the caller commits with the publish)."""
    shares = [
        {
            "product_segment": str(r["product_segment"]),
            "customer_segment": str(r["customer_segment"]),
            "priority": int(r["priority"]),
            "share": float(r["share"]),
            "strategy": str(r["strategy"]),
        }
        for r in allocation.shares
    ]
    products = [
        {"product_id": str(r["product_id"]), "product_segment": str(r["product_segment"])}
        for r in allocation.products
    ]
    protection = [
        {
            "product_id": str(r["product_id"]),
            "customer_segment": str(r["customer_segment"]),
            "protected_quantity": float(r["protected_quantity"]),
            "horizon_start": r["horizon_start"],
            "horizon_end": r["horizon_end"],
        }
        for r in allocation.protection
    ]
    publish_allocation(session, version_id, shares, products, protection)
    if allocation.supply is not None:
        rows = [
            {
                "product_id": str(r["product_id"]),
                "location_id": str(r["location_id"]),
                "date": r["date"],
                "kind": str(r["kind"]),
                "quantity": float(r["quantity"]),
            }
            for r in allocation.supply
        ]
        replace_all_supply(session, rows, actor=actor)
