"""Order promising on the service database: what each line can be confirmed, when, and from
which allocation; reservations; supply and allocation-plan upkeep.

A line without a ``location_id`` is promised from the product's supply over all locations
(stock moves between them); a line with one from that location's supply, and also within what
all locations together have left (reservations without a location may take any location's
stock). Both use the open reservations of other lines:

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

3. **Promising rules** of the customer's segment (`PromisingRules`): with
   ``partial_shipment`` false a line is confirmed in full or not at all, and a partial
   confirmation below ``min_fill`` of the line's quantity is dropped (the whole line goes on
   backorder); with ``substitute_locations`` a line whose location cannot confirm it in full on
   the requested date is promised from the location that does best (full on time, else the most
   quantity, then the earliest date; the requested location wins ties), recorded as the line's
   ``location_id``. ``max_lateness_days`` is checked by `late_promise_findings`.

Lines of one order are promised in line order, each seeing the ones before it. Reservations are
written in the order's transaction: SQLite serialises write transactions (``BEGIN IMMEDIATE``),
PostgreSQL locks the products' supply rows first, so two orders never both get the last units.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from supplyseg.allocation.atp import atp, promised_period
from supplyseg.allocation.nesting import nested_room, protection_by_level
from supplyseg.policy.document import PromisingRules
from supplyseg.service.models import Base
from supplyseg.service.promise_models import (
    AllocationProduct,
    AllocationProtection,
    AllocationShare,
    PromiseRow,
    SupplyRow,
)
from supplyseg.service.promise_plan import Plan, load_plan
from supplyseg.service.schemas import OrderIn

__all__ = [
    "LinePromise",
    "drop_promises",
    "line_fields",
    "line_promises",
    "products_with_supply",
    "promise_locked",
    "promise_order",
    "publish_allocation",
    "release_reservations",
    "replace_all_supply",
    "reserve_order",
    "reserved_lines",
    "ship_reservations",
    "write_reservations",
    "write_supply",
]

_EPS = 1e-9
_ANY_RULES = PromisingRules()
# Registered on Base by importing promise_models; typed as Table (Core statements below).
_supply = Base.metadata.tables[SupplyRow.__tablename__]
_promises = Base.metadata.tables[PromiseRow.__tablename__]
_shares = Base.metadata.tables[AllocationShare.__tablename__]
_products = Base.metadata.tables[AllocationProduct.__tablename__]
_protection = Base.metadata.tables[AllocationProtection.__tablename__]
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
    _promises.c.location_id,
    _promises.c.status,
    _promises.c.updated_at,
).where(
    _promises.c.product_id.in_(bindparam("pids", expanding=True)),
    _promises.c.status.in_(("open", "shipped")),
    _promises.c.confirmed_quantity > 0,
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
    location_id: str | None = None


@dataclass
class _Product:
    supply: dict[date, float]  # over all locations
    reserved: list[tuple[date, float, str | None, str | None]]  # date, qty, segment, location
    shares: dict[str, tuple[int, float]] | None  # customer segment -> (priority, share)
    by_location: dict[str, dict[date, float]]
    protected: dict[str, float] = field(default_factory=dict)  # segment -> quantity
    horizon: tuple[date, date] | None = None  # the days ``protected`` is for

    def remaining(self, today: date) -> float:
        """The part of the protection horizon still ahead on ``today`` (1 before it starts)."""
        if self.horizon is None:
            return 1.0
        start, end = self.horizon
        days = max((end - start).days, 1)
        return min(max((end - today).days / days, 0.0), 1.0)


def _supply_rows(rows: Iterable[Any]) -> list[Any]:
    """Per location the latest on-hand row and the receipt rows after it."""
    snapshot: dict[tuple[str, str], date] = {}
    rows = list(rows)
    for r in rows:
        if r.kind == "on_hand":
            key = (r.product_id, r.location_id)
            snapshot[key] = max(snapshot.get(key, r.date), r.date)
    kept = []
    for r in rows:
        snap = snapshot.get((r.product_id, r.location_id))
        if (r.kind == "on_hand" and r.date == snap) or (
            r.kind == "receipt" and (snap is None or r.date > snap)
        ):
            kept.append(r)
    return kept


def supply_by_date(rows: Iterable[Any]) -> dict[str, dict[date, float]]:
    """Supply per product and date from ``supply`` rows: per location the latest on-hand and
    the receipts after it (`supplyseg.allocation.supply`), summed over locations."""
    out: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for r in _supply_rows(rows):
        out[r.product_id][r.date] += float(r.quantity)
    return out


def _supply_by_location(rows: Iterable[Any]) -> dict[str, dict[str, dict[date, float]]]:
    out: dict[str, dict[str, dict[date, float]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(float))
    )
    for r in _supply_rows(rows):
        out[r.product_id][r.location_id][r.date] += float(r.quantity)
    return out


def _snapshots(rows: Iterable[Any]) -> dict[tuple[str, str], date]:
    """The latest on-hand date per product and location."""
    out: dict[tuple[str, str], date] = {}
    for r in rows:
        if r.kind == "on_hand":
            key = (r.product_id, r.location_id)
            out[key] = max(out.get(key, r.date), r.date)
    return out


def _counted_out(
    snapshots: dict[tuple[str, str], date], product_id: str, location: str | None, shipped: date
) -> bool:
    """Whether the on-hand snapshots no longer hold goods shipped on ``shipped``: the
    location's latest snapshot (every location's, for a line without one) is dated after it."""
    if location is not None:
        snap = snapshots.get((product_id, location))
        return snap is not None and snap > shipped
    dates = [d for (p, _), d in snapshots.items() if p == product_id]
    return bool(dates) and min(dates) > shipped


def _load(
    session: Session,
    version_id: str,
    product_ids: Sequence[str],
    lock: bool,
    plan: Plan | None = None,
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
    rows = conn.execute(_SUPPLY_OF, {"pids": pids}).all()
    located = _supply_by_location(rows)
    snapshots = _snapshots(rows)
    reserved: dict[str, list[tuple[date, float, str | None, str | None]]] = defaultdict(list)
    for r in conn.execute(_RESERVED_OF, {"pids": pids}):
        when = r.promised_date
        if r.status == "shipped":
            # shipped goods left the stock on hand: they count until a snapshot after the
            # shipment no longer holds them
            shipped = r.updated_at.date()
            if _counted_out(snapshots, r.product_id, r.location_id, shipped):
                continue
            when = min(when, shipped)
        reserved[r.product_id].append((when, float(r.confirmed_quantity),
                                       r.customer_segment, r.location_id))  # fmt: skip
    plan = plan or load_plan(session, version_id, pids)
    out = {}
    for p in pids:
        by_location = {loc: dict(d) for loc, d in located.get(p, {}).items()}
        pooled: dict[date, float] = defaultdict(float)
        for by_date in by_location.values():
            for d, q in by_date.items():
                pooled[d] += q
        out[p] = _Product(
            dict(pooled), reserved.get(p, []), plan.of(p), by_location, *plan.protection(p)
        )
    return out


def _nest_room(prod: _Product, segment: str | None, today: date) -> float:
    """Room the nested booking limits leave ``segment`` on ``today`` (inf when the plan does
    not cover it).

    A segment with a protected quantity (a fill target) keeps what it has booked plus the
    quantity's part for the rest of the plan's horizon: expected demand and its spread both
    scale with time, so the protection for the remaining days is that share of the whole (the
    protection rolls down as the horizon passes instead of idling at its end). The others keep
    their share of capacity."""
    if prod.shares is None or segment not in prod.shares:
        return float("inf")
    levels = sorted({p for p, _ in prod.shares.values()})
    capacity = max(sum(prod.supply.values()), 0.0)
    booked = np.zeros(len(levels))
    by_segment: dict[str | None, float] = defaultdict(float)
    for _, qty, seg, _ in prod.reserved:
        lvl = levels.index(prod.shares[seg][0]) if seg in prod.shares else len(levels) - 1
        booked[lvl] += qty
        by_segment[seg] += qty
    protected = protection_by_level(
        capacity, prod.shares, prod.protected, by_segment, prod.remaining(today)
    )
    return nested_room(capacity, protected, booked, levels.index(prod.shares[segment][0]))


def _free(
    dates: list[date], supply: dict[date, float], reserved: Iterable[tuple[date, float]]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """ATP per date of ``dates`` (supply minus reservations, backward consumption)."""
    index = {d: i for i, d in enumerate(dates)}
    s = np.zeros(len(dates))
    demand = np.zeros(len(dates))
    for d, q in supply.items():
        s[index[d]] += q
    for d, q in reserved:
        demand[index[d]] += q
    return atp(s, demand)


def _most(free: np.ndarray[Any, np.dtype[np.float64]]) -> float:
    """The most that can be promised at the end of the horizon."""
    return float(np.flip(np.minimum.accumulate(np.flip(np.cumsum(free))))[-1])


def _at_location(
    prod: _Product, target: float, requested: date, location: str | None
) -> tuple[float, date | None]:
    """(quantity, date) of the best promise of up to ``target`` from ``location`` (None: all
    locations pooled): the whole target on the earliest date, else what the horizon holds."""
    dates = sorted(set(prod.supply) | {d for d, *_ in prod.reserved} | {requested})
    frees = [_free(dates, prod.supply, ((d, q) for d, q, *_ in prod.reserved))]
    if location is not None:
        own = prod.by_location.get(location, {})
        mine = ((d, q) for d, q, _, loc in prod.reserved if loc == location)
        frees.append(_free(dates, own, mine))
    req = dates.index(requested)

    def when(q: float) -> int | None:
        found = [promised_period(f, q, req) for f in frees]
        return None if any(p is None for p in found) else max(p for p in found if p is not None)

    at = when(target)
    if at is None:
        target = min(target, *(_most(f) for f in frees))
        if target <= _EPS:
            return 0.0, None
        at = when(target)
        if at is None:  # pragma: no cover - what the horizon holds is promisable at its end
            return 0.0, None
    return target, dates[at]


def _promise_line(
    prod: _Product,
    segment: str | None,
    quantity: float,
    requested: date,
    rules: PromisingRules = _ANY_RULES,
    location: str | None = None,
    ordered: date | None = None,
) -> tuple[float, date | None, str | None, str | None]:
    """(confirmed quantity, promised date, allocation segment, location) of one line ordered on
    ``ordered`` (default: the requested date)."""
    covered = prod.shares is not None and segment in prod.shares
    alloc = segment if covered else None
    target = min(quantity, max(_nest_room(prod, segment, ordered or requested), 0.0))
    if target <= _EPS:
        return 0.0, None, alloc, location
    candidates: list[str | None] = [location]
    if location is not None and rules.substitute_locations:
        candidates += sorted(loc for loc in prod.by_location if loc != location)
    best: tuple[float, date | None, str | None] = (0.0, None, location)
    for loc in candidates:
        qty, when = _at_location(prod, target, requested, loc)
        if qty < quantity - _EPS and (
            not rules.partial_shipment or qty < rules.min_fill * quantity - _EPS
        ):
            qty, when = 0.0, None  # not confirmed in part: the whole line waits
        if qty >= target - _EPS and when == requested:
            best = (qty, when, loc)
            break
        if qty > best[0] + _EPS or (
            abs(qty - best[0]) <= _EPS and when is not None and (best[1] is None or when < best[1])
        ):
            best = (qty, when, loc)
    return best[0], best[1], alloc, best[2]


def _promise(
    products: dict[str, _Product],
    order: OrderIn,
    segment: str | None,
    rules: PromisingRules = _ANY_RULES,
) -> list[LinePromise]:
    out = []
    for ln in sorted(order.lines, key=lambda ln: ln.line_no):
        prod = products[ln.product_id]
        qty, when, alloc, loc = _promise_line(
            prod,
            segment,
            ln.quantity,
            order.requested_date,
            rules,
            ln.location_id,
            order.order_date,
        )
        if qty > 0 and when is not None:
            prod.reserved.append((when, qty, segment, loc))
        out.append(
            LinePromise(
                line_no=ln.line_no,
                product_id=ln.product_id,
                quantity=ln.quantity,
                confirmed_quantity=qty,
                promised_date=when,
                backorder_quantity=max(ln.quantity - qty, 0.0),
                allocation_segment=alloc,
                location_id=loc,
            )
        )
    return out


def promise_order(
    session: Session,
    version_id: str,
    order: OrderIn,
    segment: str | None,
    rules: PromisingRules | None = None,
    plan: Plan | None = None,
) -> list[LinePromise]:
    """What each line of ``order`` can be confirmed now under the segment's promising
    ``rules`` (None: `PromisingRules` defaults); reserves nothing. ``plan``: the version's
    allocation plan if held already (`PlanCache`), else it is read."""
    pids = [ln.product_id for ln in order.lines]
    products = _load(session, version_id, pids, lock=False, plan=plan)
    return _promise(products, order, segment, rules or _ANY_RULES)


def promise_locked(
    session: Session,
    version_id: str,
    order: OrderIn,
    segment: str | None,
    rules: PromisingRules | None = None,
) -> list[LinePromise]:
    """`promise_order` with the products locked until the transaction ends (PostgreSQL; SQLite
    serialises write transactions): reserve with `write_reservations` in the same transaction."""
    products = _load(session, version_id, [ln.product_id for ln in order.lines], lock=True)
    return _promise(products, order, segment, rules or _ANY_RULES)


def write_reservations(
    session: Session,
    order_id: int,
    order: OrderIn,
    segment: str | None,
    promises: Sequence[LinePromise],
    now: datetime,
) -> None:
    """Store ``promises`` as ``order_id``'s open reservations (caller commits)."""
    session.connection().execute(
        insert(_promises),
        [
            {
                "order_id": order_id,
                "line_no": p.line_no,
                "product_id": p.product_id,
                "customer_segment": segment,
                "allocation_segment": p.allocation_segment,
                "location_id": p.location_id,
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


def reserve_order(
    session: Session,
    version_id: str,
    order_id: int,
    order: OrderIn,
    segment: str | None,
    now: datetime,
    rules: PromisingRules | None = None,
) -> list[LinePromise]:
    """Promise ``order``'s lines and reserve the confirmed quantities (caller commits)."""
    promises = promise_locked(session, version_id, order, segment, rules)
    write_reservations(session, order_id, order, segment, promises, now)
    return promises


def products_with_supply(session: Session, product_ids: Sequence[str]) -> set[str]:
    """The products of ``product_ids`` that have any supply row."""
    pids = sorted(set(product_ids))
    if not pids:
        return set()
    q = select(_supply.c.product_id).where(_supply.c.product_id.in_(pids)).distinct()
    return {str(p) for p in session.connection().execute(q).scalars()}


def line_fields(p: LinePromise | PromiseRow | None) -> dict[str, Any]:
    """The promise fields of `OrderLineOut` for a line (all None when it has no promise)."""
    if p is None:
        return {}
    return {
        "confirmed_quantity": p.confirmed_quantity,
        "promised_date": p.promised_date,
        "backorder_quantity": p.backorder_quantity,
        "allocation_segment": p.allocation_segment,
        "location_id": p.location_id,
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


def ship_reservations(session: Session, order_id: int, at: datetime) -> int:
    """Mark the open reservations of ``order_id`` shipped at ``at``: backorder processing no
    longer moves them, and they hold their supply until an on-hand snapshot after ``at``'s
    date (`POST /supply`) no longer counts the goods. Returns how many lines shipped; the
    caller commits."""
    result = session.connection().execute(
        update(_promises)
        .where(_promises.c.order_id == order_id, _promises.c.status == "open")
        .values(status="shipped", updated_at=at)
    )
    return int(result.rowcount or 0)


def reserved_lines(session: Session, order_id: int) -> int:
    """How many lines of ``order_id`` hold an open reservation."""
    q = select(func.count()).where(_promises.c.order_id == order_id, _promises.c.status == "open")
    return int(session.connection().execute(q).scalar_one())


def drop_promises(session: Session, order_id: int) -> int:
    """Delete every promise of ``order_id`` (an amendment promises its lines anew; the audit
    row of the amendment keeps what they were); returns how many lines were open. The caller
    commits."""
    held = reserved_lines(session, order_id)
    session.connection().execute(delete(_promises).where(_promises.c.order_id == order_id))
    return held


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
    protection: Sequence[dict[str, Any]] = (),
) -> None:
    """Write the allocation plan of ``version_id``: ``shares`` rows (``product_segment,
    customer_segment, priority, share, strategy``), ``product_segments`` rows (``product_id,
    product_segment``) and ``protection`` rows (``product_id, customer_segment,
    protected_quantity``). A version's plan is written once; the caller commits."""
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
    rows = [{**p, "version_id": version_id} for p in protection]
    for i in range(0, len(rows), 5000):
        conn.execute(insert(_protection), rows[i : i + 5000])
