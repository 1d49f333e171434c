"""Order promising on the service database: what each line can be confirmed, when, and from
which allocation; reservations; supply and allocation-plan upkeep.

A line's promise uses the product's supply over all locations (stock moves between them; the
location is not part of an order) and the open reservations of other lines:

1. **Allocation** (`supplyseg.allocation.nesting`): the product's capacity is its total supply
   over the horizon; the active version's plan gives each customer segment of the product's
   segment a priority and a protected share; the line may take what every nested booking limit
   at and above its segment's rank still has room for (reservations of segments outside the
   plan count at the lowest rank). A product or segment outside the plan has no limit and no
   ``allocation_segment``.
2. **ATP** (`supplyseg.allocation.atp`): supply minus reservations with backward consumption,
   per distinct date; the promised date is the later of the requested date and the first date
   from which the quantity stays available. What the horizon cannot supply is confirmed as far
   as it goes; the rest is ``backorder_quantity``.

Lines of one order are promised in line order, each seeing the ones before it. Reservations are
written in the order's transaction: SQLite serialises write transactions (``BEGIN IMMEDIATE``),
PostgreSQL locks the products' supply rows first, so two orders never both get the last units.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from supplyseg.allocation.atp import atp, promised_period
from supplyseg.service.models import Base
from supplyseg.service.promise_models import (
    AllocationProduct,
    AllocationShare,
    PromiseRow,
    SupplyRow,
)
from supplyseg.service.schemas import OrderIn

__all__ = [
    "LinePromise",
    "line_fields",
    "line_promises",
    "promise_order",
    "publish_allocation",
    "release_reservations",
    "replace_all_supply",
    "reserve_order",
    "write_supply",
]

_EPS = 1e-9
# Registered on Base by importing promise_models; typed as Table (Core statements below).
_supply = Base.metadata.tables[SupplyRow.__tablename__]
_promises = Base.metadata.tables[PromiseRow.__tablename__]
_shares = Base.metadata.tables[AllocationShare.__tablename__]
_products = Base.metadata.tables[AllocationProduct.__tablename__]
_audit = Base.metadata.tables["audit"]

_SUPPLY_OF = select(_supply.c.product_id, _supply.c.location_id, _supply.c.date,
                    _supply.c.kind, _supply.c.quantity).where(
    _supply.c.product_id.in_(bindparam("pids", expanding=True))
)  # fmt: skip
_RESERVED_OF = select(
    _promises.c.product_id,
    _promises.c.promised_date,
    _promises.c.confirmed_quantity,
    _promises.c.customer_segment,
).where(
    _promises.c.product_id.in_(bindparam("pids", expanding=True)),
    _promises.c.status == "open",
    _promises.c.confirmed_quantity > 0,
)
_SEGMENT_OF = select(_products.c.product_id, _products.c.product_segment).where(
    _products.c.version_id == bindparam("vid"),
    _products.c.product_id.in_(bindparam("pids", expanding=True)),
)
_SHARES_OF = select(
    _shares.c.product_segment, _shares.c.customer_segment, _shares.c.priority, _shares.c.share
).where(
    _shares.c.version_id == bindparam("vid"),
    _shares.c.product_segment.in_(bindparam("segs", expanding=True)),
)


@dataclass(frozen=True)
class LinePromise:
    """What one order line can be confirmed."""

    line_no: int
    product_id: str
    quantity: float
    confirmed_quantity: float
    promised_date: date | None
    backorder_quantity: float
    allocation_segment: str | None


@dataclass
class _Product:
    supply: dict[date, float]
    reserved: list[tuple[date, float, str | None]]
    shares: dict[str, tuple[int, float]] | None  # customer segment -> (priority, share)


def supply_by_date(rows: Iterable[Any]) -> dict[str, dict[date, float]]:
    """Supply per product and date from ``supply`` rows: per location the latest on-hand and
    the receipts after it (`supplyseg.allocation.supply`), summed over locations."""
    snapshot: dict[tuple[str, str], date] = {}
    rows = list(rows)
    for r in rows:
        if r.kind == "on_hand":
            key = (r.product_id, r.location_id)
            snapshot[key] = max(snapshot.get(key, r.date), r.date)
    out: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        snap = snapshot.get((r.product_id, r.location_id))
        if (r.kind == "on_hand" and r.date == snap) or (
            r.kind == "receipt" and (snap is None or r.date > snap)
        ):
            out[r.product_id][r.date] += float(r.quantity)
    return out


def _load(
    session: Session, version_id: str, product_ids: Sequence[str], lock: bool
) -> dict[str, _Product]:
    conn = session.connection()
    pids = sorted(set(product_ids))
    if lock and conn.dialect.name != "sqlite":
        # Serialise promising per product on PostgreSQL (sorted: no deadlock between orders).
        conn.execute(
            select(_supply.c.product_id)
            .where(_supply.c.product_id.in_(pids))
            .order_by(*_supply.primary_key)
            .with_for_update()
        )
    supply = supply_by_date(conn.execute(_SUPPLY_OF, {"pids": pids}))
    reserved: dict[str, list[tuple[date, float, str | None]]] = defaultdict(list)
    for r in conn.execute(_RESERVED_OF, {"pids": pids}):
        reserved[r.product_id].append((r.promised_date, float(r.confirmed_quantity),
                                       r.customer_segment))  # fmt: skip
    seg_of = dict(conn.execute(_SEGMENT_OF, {"vid": version_id, "pids": pids}).all())
    shares: dict[str, dict[str, tuple[int, float]]] = defaultdict(dict)
    if seg_of:
        segs = sorted(set(seg_of.values()))
        for s in conn.execute(_SHARES_OF, {"vid": version_id, "segs": segs}):
            shares[s.product_segment][s.customer_segment] = (int(s.priority), float(s.share))
    return {
        p: _Product(
            dict(supply.get(p, {})),
            reserved.get(p, []),
            shares.get(seg_of[p]) if p in seg_of and seg_of[p] in shares else None,
        )
        for p in pids
    }


def _nest_room(prod: _Product, segment: str | None) -> float:
    """Room the nested booking limits leave ``segment`` (inf when the plan does not cover it)."""
    if prod.shares is None or segment not in prod.shares:
        return float("inf")
    levels = sorted({p for p, _ in prod.shares.values()})
    level_share = np.zeros(len(levels))
    for prio, share in prod.shares.values():
        level_share[levels.index(prio)] += share
    capacity = max(sum(prod.supply.values()), 0.0)
    above = np.concatenate([[0.0], np.cumsum(level_share)[:-1]])
    limits = np.maximum(capacity * (1.0 - np.minimum(above, 1.0)), 0.0)
    booked = np.zeros(len(levels))
    for _, qty, seg in prod.reserved:
        lvl = levels.index(prod.shares[seg][0]) if seg in prod.shares else len(levels) - 1
        booked[lvl] += qty
    booked_at_or_below = np.cumsum(booked[::-1])[::-1]  # B_i: ranks >= i
    k = levels.index(prod.shares[segment][0])
    return float((limits[: k + 1] - booked_at_or_below[: k + 1]).min())


def _promise_line(
    prod: _Product, segment: str | None, quantity: float, requested: date
) -> tuple[float, date | None, str | None]:
    """(confirmed quantity, promised date, allocation segment) of one line."""
    covered = prod.shares is not None and segment in prod.shares
    target = min(quantity, max(_nest_room(prod, segment), 0.0))
    if target <= _EPS:
        return 0.0, None, segment if covered else None
    dates = sorted(set(prod.supply) | {d for d, _, _ in prod.reserved} | {requested})
    index = {d: i for i, d in enumerate(dates)}
    supply = np.zeros(len(dates))
    demand = np.zeros(len(dates))
    for d, q in prod.supply.items():
        supply[index[d]] += q
    for d, q, _ in prod.reserved:
        demand[index[d]] += q
    free = atp(supply, demand)
    at = promised_period(free, target, index[requested])
    if at is None:
        most = float(np.flip(np.minimum.accumulate(np.flip(np.cumsum(free))))[-1])
        target = min(target, most)
        if target <= _EPS:
            return 0.0, None, segment if covered else None
        at = promised_period(free, target, index[requested])
        if at is None:  # pragma: no cover - what the horizon holds is promisable at its end
            return 0.0, None, segment if covered else None
    return target, dates[at], segment if covered else None


def _promise(
    products: dict[str, _Product], order: OrderIn, segment: str | None
) -> list[LinePromise]:
    out = []
    for ln in sorted(order.lines, key=lambda ln: ln.line_no):
        prod = products[ln.product_id]
        qty, when, alloc = _promise_line(prod, segment, ln.quantity, order.requested_date)
        if qty > 0 and when is not None:
            prod.reserved.append((when, qty, segment))
        out.append(
            LinePromise(
                line_no=ln.line_no,
                product_id=ln.product_id,
                quantity=ln.quantity,
                confirmed_quantity=qty,
                promised_date=when,
                backorder_quantity=max(ln.quantity - qty, 0.0),
                allocation_segment=alloc,
            )
        )
    return out


def promise_order(
    session: Session, version_id: str, order: OrderIn, segment: str | None
) -> list[LinePromise]:
    """What each line of ``order`` can be confirmed now (reserves nothing)."""
    products = _load(session, version_id, [ln.product_id for ln in order.lines], lock=False)
    return _promise(products, order, segment)


def reserve_order(
    session: Session,
    version_id: str,
    order_id: int,
    order: OrderIn,
    segment: str | None,
    now: datetime,
) -> list[LinePromise]:
    """Promise ``order``'s lines and reserve the confirmed quantities (caller commits)."""
    products = _load(session, version_id, [ln.product_id for ln in order.lines], lock=True)
    promises = _promise(products, order, segment)
    session.connection().execute(
        insert(_promises),
        [
            {
                "order_id": order_id,
                "line_no": p.line_no,
                "product_id": p.product_id,
                "customer_segment": segment,
                "allocation_segment": p.allocation_segment,
                "requested_date": order.requested_date,
                "quantity": p.quantity,
                "confirmed_quantity": p.confirmed_quantity,
                "promised_date": p.promised_date,
                "backorder_quantity": p.backorder_quantity,
                "status": "open",
                "updated_at": now,
            }
            for p in promises
        ],
    )
    return promises


def line_fields(p: LinePromise | PromiseRow | None) -> dict[str, Any]:
    """The promise fields of `OrderLineOut` for a line (all None when it has no promise)."""
    if p is None:
        return {}
    return {
        "confirmed_quantity": p.confirmed_quantity,
        "promised_date": p.promised_date,
        "backorder_quantity": p.backorder_quantity,
        "allocation_segment": p.allocation_segment,
    }


def release_reservations(session: Session, order_id: int) -> int:
    """Release the open reservations of ``order_id`` (cancel, reject); returns how many lines
    were released. The caller commits (and audits the order change)."""
    result = session.connection().execute(
        update(_promises)
        .where(_promises.c.order_id == order_id, _promises.c.status == "open")
        .values(status="released", updated_at=datetime.now(UTC))
    )
    return int(result.rowcount or 0)


def line_promises(session: Session, order_ids: Sequence[int]) -> dict[tuple[int, int], PromiseRow]:
    """The promise of every line of ``order_ids`` that has one, by (order id, line no)."""
    if not order_ids:
        return {}
    rows = session.scalars(select(PromiseRow).where(PromiseRow.order_id.in_(order_ids)))
    return {(r.order_id, r.line_no): r for r in rows}


def write_supply(
    session: Session, rows: Sequence[dict[str, Any]], *, replace: bool, actor: str
) -> int:
    """Write supply rows (``product_id, location_id, date, kind, quantity``); with ``replace``,
    the rows of the same product-location and kind are deleted first (e.g. a PO that moved).
    Audited; returns the rows written. The caller commits."""
    now = datetime.now(UTC)
    conn = session.connection()
    keys = sorted({(r["product_id"], r["location_id"], r["kind"]) for r in rows})
    for pid, loc, kind in keys:
        cond = [_supply.c.product_id == pid, _supply.c.location_id == loc]
        if replace:
            conn.execute(delete(_supply).where(*cond, _supply.c.kind == kind))
    for r in rows:
        conn.execute(
            delete(_supply).where(
                _supply.c.product_id == r["product_id"],
                _supply.c.location_id == r["location_id"],
                _supply.c.date == r["date"],
                _supply.c.kind == r["kind"],
            )
        )
    if rows:
        conn.execute(insert(_supply), [{**r, "updated_at": now} for r in rows])
    conn.execute(
        insert(_audit),
        {
            "at": now,
            "actor": actor,
            "entity": "supply",
            "entity_id": ",".join(sorted({r["product_id"] for r in rows}))[:64],
            "action": "replace" if replace else "add",
            "before": None,
            "after": {"rows": len(rows)},
            "comment": None,
        },
    )
    return len(rows)


def replace_all_supply(session: Session, rows: Sequence[dict[str, Any]], *, actor: str) -> int:
    """Replace the whole supply table with ``rows`` (a publish carries the run's supply);
    audited, returns the rows written. The caller commits."""
    conn = session.connection()
    conn.execute(delete(_supply))
    now = datetime.now(UTC)
    for i in range(0, len(rows), 5000):
        conn.execute(insert(_supply), [{**r, "updated_at": now} for r in rows[i : i + 5000]])
    conn.execute(
        insert(_audit),
        {
            "at": now,
            "actor": actor,
            "entity": "supply",
            "entity_id": "*",
            "action": "publish",
            "before": None,
            "after": {"rows": len(rows)},
            "comment": None,
        },
    )
    return len(rows)


def publish_allocation(
    session: Session,
    version_id: str,
    shares: Sequence[dict[str, Any]],
    product_segments: Sequence[dict[str, Any]],
) -> None:
    """Write the allocation plan of ``version_id``: ``shares`` rows (``product_segment,
    customer_segment, priority, share, strategy``) and ``product_segments`` rows
    (``product_id, product_segment``). A version's plan is written once; the caller commits."""
    conn = session.connection()
    done = conn.execute(
        select(_shares.c.version_id).where(_shares.c.version_id == version_id).limit(1)
    ).first()
    if done is not None:
        return
    if shares:
        conn.execute(insert(_shares), [{**s, "version_id": version_id} for s in shares])
    rows = [{**p, "version_id": version_id} for p in product_segments]
    for i in range(0, len(rows), 5000):
        conn.execute(insert(_products), rows[i : i + 5000])
