"""What changed between two policy versions, as a long table of changes.

One row per changed value: ``part`` (segment, customer, product), the item's ``id``, the
``field`` (``moq``, ``strictness.credit``, ``segment``, ``list_price`` ...; ``(added)`` or
``(removed)`` for a whole item) and the values ``before`` and ``after`` as text (``-`` for
none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from supplyseg.policy.document import PolicyVersion

__all__ = ["Change", "policy_diff"]


@dataclass(frozen=True)
class Change:
    """One changed value between version A and version B."""

    part: str
    id: str
    field: str
    before: str
    after: str


def _flat(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


def _compare(
    part: str, a: Mapping[str, Mapping[str, Any]], b: Mapping[str, Mapping[str, Any]]
) -> Iterable[Change]:
    for item in sorted(a.keys() | b.keys()):
        if item not in b:
            yield Change(part, item, "(removed)", "", "")
            continue
        if item not in a:
            yield Change(part, item, "(added)", "", "")
            continue
        before, after = _flat(a[item]), _flat(b[item])
        for field in sorted(before.keys() | after.keys()):
            if before.get(field) != after.get(field):
                yield Change(part, item, field, _text(before.get(field)), _text(after.get(field)))


def policy_diff(a: PolicyVersion, b: PolicyVersion) -> list[Change]:
    """Every change from version ``a`` to version ``b``: segment rules, then customers, then
    products, each sorted by id and field."""
    segments_a = {k: v.model_dump(mode="json") for k, v in a.segments.items()}
    segments_b = {k: v.model_dump(mode="json") for k, v in b.segments.items()}
    customers_a = {c.customer_id: c.model_dump(mode="json") for c in a.customers}
    customers_b = {c.customer_id: c.model_dump(mode="json") for c in b.customers}
    products_a = {p.product_id: p.model_dump(mode="json") for p in a.products}
    products_b = {p.product_id: p.model_dump(mode="json") for p in b.products}
    return [
        *_compare("segment", segments_a, segments_b),
        *_compare("customer", customers_a, customers_b),
        *_compare("product", products_a, products_b),
    ]
