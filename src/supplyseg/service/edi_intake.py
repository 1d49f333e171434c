"""EDI intake: an X12 or EDIFACT interchange in, orders through the normal intake, acks out.

`receive_interchange` reads the interchange (`supplyseg.edi`), finds the trading partner by its
sender, and for each transaction set (X12 ST..SE) or message (UNH..UNT):

1. envelope or mapping errors (SE/UNT count, control numbers, mandatory segment, bad number or
   date) reject it in the 997/CONTRL;
2. the partner's part numbers and units turn it into an order, which `OrderIn` validates; an
   unknown part number or unit, or an order `OrderIn` refuses, rejects it with an 855/ORDRSP
   (status rejected) and no order;
3. otherwise it goes through `supplyseg.service.intake.submit_orders`, the path of every JSON
   order (segment rules, exception queue, audit, outbox), committed on its own: a transaction
   set is accepted or rejected atomically, and a set already stored (same partner, interchange,
   group and set control numbers) is replayed, not duplicated.

Then a 997 (TA1 when the interchange itself is refused) or CONTRL is written for every
interchange, and an 855/ORDRSP for the orders per the partner's ``order_ack`` (``notify``: the
customer's segment ``notify`` rule decides, as for every status notification). All documents go
to ``edi_messages`` (``GET /edi/messages?since=``), the received interchange too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from supplyseg.edi import (
    EDIFACT_ORDERS,
    X12_850,
    EdiError,
    Promise,
    PurchaseOrder,
    PurchaseOrderAck,
    ReasonFinding,
    TradingPartner,
    edifact_contrl,
    edifact_ordrsp,
    mapped_order,
    order_ack,
    purchase_order,
    read_edifact,
    read_x12,
    rejected_ack,
    x12_855,
    x12_997,
    x12_ta1,
)
from supplyseg.edi.model import Segment
from supplyseg.service.intake import active_policy, submit_orders
from supplyseg.service.models import EdiMessageRow, TradingPartnerRow
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import ConflictError
from supplyseg.service.promise import products_with_supply
from supplyseg.service.schemas import OrderIn, OrderOut
from supplyseg.service.security import Principal
from supplyseg.service.validation import CompiledPolicy

__all__ = [
    "EdiReceipt",
    "SetOutcome",
    "find_partner",
    "partner_from_row",
    "receive_interchange",
]

Standard = Literal["x12", "edifact"]


@dataclass(frozen=True)
class SetOutcome:
    """What became of one transaction set / message."""

    control_number: str
    position: int
    po_number: str | None
    status: Literal["accepted", "rejected"]
    order_id: int | None = None
    order_status: str | None = None
    errors: tuple[EdiError, ...] = ()


@dataclass
class EdiReceipt:
    """What became of one interchange, and the ids of the documents written back."""

    standard: Standard
    interchange_control: str
    sender: str
    partner_id: str | None
    customer_id: str | None
    status: Literal["accepted", "partially_accepted", "rejected"] = "rejected"
    sets: list[SetOutcome] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)
    received_id: int | None = None
    documents: list[int] = field(default_factory=list)


@dataclass
class _Unit:
    """One transaction set or message, standard-neutral."""

    control_number: str
    position: int
    message_type: str
    segments: list[Segment]
    envelope_errors: list[EdiError]


def partner_from_row(row: TradingPartnerRow) -> TradingPartner:
    """The validated partner of a stored row."""
    return TradingPartner.model_validate(
        {
            "partner_id": row.partner_id,
            "standard": row.standard,
            "sender_qualifier": row.sender_qualifier,
            "sender_id": row.sender_id,
            "customer_id": row.customer_id,
            "channel": row.channel,
            "part_numbers": row.part_numbers,
            "units": row.units,
            "order_ack": row.order_ack,
        }
    )


def find_partner(
    session: Session, standard: Standard, qualifier: str, sender_id: str
) -> TradingPartner | None:
    """The partner sending as ``qualifier``/``sender_id`` in ``standard``, if any."""
    row = session.scalars(
        select(TradingPartnerRow).where(
            TradingPartnerRow.standard == standard,
            TradingPartnerRow.sender_qualifier == qualifier.strip(),
            TradingPartnerRow.sender_id == sender_id.strip(),
        )
    ).one_or_none()
    return None if row is None else partner_from_row(row)


def _store(
    session: Session,
    receipt: EdiReceipt,
    direction: str,
    kind: str,
    status: str,
    summary: dict[str, Any],
    render: Callable[[int], str] | str,
) -> int:
    row = EdiMessageRow(
        created_at=datetime.now(UTC),
        direction=direction,
        standard=receipt.standard,
        kind=kind,
        partner_id=receipt.partner_id,
        customer_id=receipt.customer_id,
        interchange_control=receipt.interchange_control,
        status=status,
        summary=summary,
        body=render if isinstance(render, str) else "",
    )
    session.add(row)
    session.flush()
    if not isinstance(render, str):
        # The outbound interchange control number is the document's id: unique, increasing.
        row.body = render(row.id)
        session.flush()
    return row.id


def _wants_ack(partner: TradingPartner, policy: CompiledPolicy, event: str) -> bool:
    if partner.order_ack != "notify":
        return partner.order_ack == "always"
    customer = policy.customers.get(partner.customer_id)
    rules = policy.segments.get(customer.segment) if customer else None
    return rules is not None and event in rules.notify


def _order_in(po: PurchaseOrder, order: dict[str, Any]) -> tuple[OrderIn | None, list[EdiError]]:
    try:
        return OrderIn.model_validate(order), []
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "order"
        return None, [
            EdiError(
                "invalid_order",
                f"{loc}: {err['msg']}",
                po.position,
                "ST" if po.message_type == "850" else "UNH",
                None,
                str(err.get("input"))[:80] if "input" in err else None,
            )
        ]


def _process(
    session: Session,
    cache: PolicyCache,
    receipt: EdiReceipt,
    unit: _Unit,
    partner: TradingPartner,
    principal: Principal,
    key: str,
    syntax_errors: dict[int, list[EdiError]],
    acks: list[PurchaseOrderAck],
    policy: CompiledPolicy,
) -> SetOutcome:
    def rejected(errors: Sequence[EdiError], po: str | None = None) -> SetOutcome:
        return SetOutcome(unit.control_number, unit.position, po, "rejected", errors=tuple(errors))

    if unit.envelope_errors:
        return rejected(unit.envelope_errors)
    mapping = X12_850 if receipt.standard == "x12" else EDIFACT_ORDERS
    if unit.message_type != mapping.message_type:
        err = EdiError(
            "unsupported_message",
            f"only {mapping.message_type} is read here",
            unit.position,
            unit.segments[0].tag,
            "ST01" if receipt.standard == "x12" else "UNH02",
            unit.message_type,
        )
        syntax_errors[unit.position] = [err]
        return rejected([err])
    po, errors = purchase_order(mapping, unit.segments, unit.control_number)
    if po is None:
        syntax_errors[unit.position] = errors
        return rejected(errors)
    mapped, errors = mapped_order(po, partner)
    order = None
    if mapped is not None:
        order, errors = _order_in(po, mapped.order)
    if mapped is None or order is None:
        if _wants_ack(partner, policy, "rejected"):
            acks.append(rejected_ack(po, errors, partner))
        return rejected(errors, po.po_number)
    try:
        [result] = submit_orders(session, cache, [order], principal=principal, idempotency_key=key)
    except ConflictError as exc:
        session.rollback()
        err = EdiError(
            "duplicate_interchange",
            f"{exc}; fix: a new interchange needs new control numbers",
            unit.position,
            unit.segments[0].tag,
        )
        if _wants_ack(partner, policy, "rejected"):
            acks.append(rejected_ack(po, [err], partner))
        return rejected([err], po.po_number)
    out = result.order
    if _wants_ack(partner, policy, out.status):
        findings = [ReasonFinding(r.code, r.severity, r.line_no) for r in out.reasons]
        promises = _line_promises(session, out)
        acks.append(
            order_ack(po, mapped, out.status, findings, order_id=out.order_id, promises=promises)
        )
    return SetOutcome(
        unit.control_number, unit.position, po.po_number, "accepted", out.order_id, out.status
    )


def _line_promises(session: Session, out: OrderOut) -> dict[int, Promise]:
    """What order promising confirmed per line, for the lines whose product the service has
    supply of (without supply data nothing is promised, and the line is acknowledged as
    requested rather than as 0)."""
    known = products_with_supply(session, [ln.product_id for ln in out.lines])
    return {
        ln.line_no: Promise(ln.confirmed_quantity, ln.promised_date)
        for ln in out.lines
        if ln.confirmed_quantity is not None and ln.product_id in known
    }


def _units_x12(text: str) -> tuple[Any, list[tuple[Any, _Unit]], list[EdiError]]:
    ic = read_x12(text)
    units = []
    for g in ic.groups:
        for ts in g.transaction_sets:
            errors = list(g.errors) + list(ts.errors)
            units.append((g, _Unit(ts.control_number, ts.position, ts.code, ts.segments, errors)))
    return ic, units, list(ic.errors)


def _units_edifact(text: str) -> tuple[Any, list[tuple[Any, _Unit]], list[EdiError]]:
    ic = read_edifact(text)
    units = [
        (m.directory, _Unit(m.reference, m.position, m.message_type, m.segments, list(m.errors)))
        for m in ic.messages
    ]
    return ic, units, list(ic.errors)


def receive_interchange(
    session: Session,
    cache: PolicyCache,
    text: str,
    standard: Standard,
    *,
    principal: Principal,
) -> EdiReceipt:
    """Process one interchange (see module docstring) and commit; `EdiSyntaxError` when the
    input has no readable envelope (nothing stored)."""
    policy = active_policy(session, cache)  # 503 before anything is stored
    now = datetime.now(UTC)
    if standard == "x12":
        ic, units, ic_errors = _units_x12(text)
        qualifier, sender = ic.sender_qualifier, ic.sender_id
        control, where = ic.control_number, ("ISA", "ISA06")
    else:
        ic, units, ic_errors = _units_edifact(text)
        qualifier, sender = ic.sender_qualifier, ic.sender_id
        control, where = ic.control_reference, ("UNB", "UNB02")
    partner = find_partner(session, standard, qualifier, sender)
    receipt = EdiReceipt(
        standard,
        control,
        f"{qualifier}:{sender}",
        partner.partner_id if partner else None,
        partner.customer_id if partner else None,
    )
    if partner is None:
        ic_errors.insert(
            0,
            EdiError(
                "unknown_partner",
                f"no trading partner sends as {qualifier}/{sender} in {standard}; fix: create"
                " one with POST /edi/partners",
                1,
                where[0],
                where[1],
                sender,
            ),
        )
    else:
        principal.check_customer(partner.customer_id)
    receipt.errors = ic_errors
    syntax_errors: dict[int, list[EdiError]] = {}
    acks: list[tuple[Any, PurchaseOrderAck]] = []
    for env, unit in units:
        if ic_errors or partner is None:
            receipt.sets.append(
                SetOutcome(unit.control_number, unit.position, None, "rejected", errors=())
            )
            continue
        key = f"edi:{partner.partner_id}:{control}:{unit.control_number}:{unit.position}"
        found: list[PurchaseOrderAck] = []
        outcome = _process(
            session, cache, receipt, unit, partner, principal, key, syntax_errors, found, policy
        )
        receipt.sets.append(outcome)
        acks += [(env, a) for a in found]
    accepted = sum(s.status == "accepted" for s in receipt.sets)
    if accepted and accepted == len(receipt.sets):
        receipt.status = "accepted"
    elif accepted:
        receipt.status = "partially_accepted"
    receipt.received_id = _store(
        session, receipt, "in", "interchange", receipt.status, _summary(receipt), text
    )
    _write_acks(session, receipt, ic, ic_errors, syntax_errors, acks, now)
    session.commit()
    return receipt


def _write_acks(
    session: Session,
    receipt: EdiReceipt,
    ic: Any,
    ic_errors: list[EdiError],
    syntax_errors: dict[int, list[EdiError]],
    acks: list[tuple[Any, PurchaseOrderAck]],
    now: datetime,
) -> None:
    ref = {"received_id": receipt.received_id}
    if receipt.standard == "x12":
        if ic_errors:
            kind, render = "TA1", lambda n: x12_ta1(ic, ic_errors, n, now)
        else:
            kind, render = "997", lambda n: x12_997(ic, syntax_errors, n, now)
    else:
        kind, render = "CONTRL", lambda n: edifact_contrl(ic, syntax_errors, n, now)
    receipt.documents.append(_store(session, receipt, "out", kind, "written", ref, render))
    groups: dict[object, tuple[Any, list[PurchaseOrderAck]]] = {}
    for env, ack in acks:
        # One 855 interchange per X12 functional group, one ORDRSP interchange per directory.
        groups.setdefault(env if isinstance(env, str) else id(env), (env, []))[1].append(ack)
    for env, group_acks in groups.values():
        summary = {
            **ref,
            "orders": [
                {"po_number": a.po_number, "order_id": a.order_id, "status": a.status}
                for a in group_acks
            ],
        }
        if receipt.standard == "x12":
            kind = "855"

            def render_855(n: int, env: Any = env, group_acks: Any = group_acks) -> str:
                return x12_855(ic, env, group_acks, n, now)

            doc = _store(session, receipt, "out", kind, "written", summary, render_855)
        else:

            def render_ordrsp(n: int, env: Any = env, group_acks: Any = group_acks) -> str:
                return edifact_ordrsp(ic, env, group_acks, n, now)

            doc = _store(session, receipt, "out", "ORDRSP", "written", summary, render_ordrsp)
        receipt.documents.append(doc)


def _summary(receipt: EdiReceipt) -> dict[str, Any]:
    return {
        "status": receipt.status,
        "errors": [str(e) for e in receipt.errors],
        "sets": [
            {
                "control_number": s.control_number,
                "po_number": s.po_number,
                "status": s.status,
                "order_id": s.order_id,
                "order_status": s.order_status,
                "errors": [str(e) for e in s.errors],
            }
            for s in receipt.sets
        ],
    }
