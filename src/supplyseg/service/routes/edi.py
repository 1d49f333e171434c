"""``/edi``: receive X12 and EDIFACT interchanges, read the documents written back, and manage
trading partners (admin).

``POST /edi/x12`` and ``POST /edi/edifact`` take the interchange as the raw body and answer 200
with what became of each transaction set and the ids of the 997/TA1/CONTRL and 855/ORDRSP
written (``GET /edi/messages/{id}/body``); 422 only when the body is no readable interchange.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select

from supplyseg.edi import EdiError, EdiSyntaxError, TradingPartner
from supplyseg.service.deps import (
    CacheDep,
    CanManageKeys,
    CanReadNotifications,
    CanSubmit,
    SessionDep,
    run_intake,
)
from supplyseg.service.edi_intake import EdiReceipt, partner_from_row, receive_interchange
from supplyseg.service.models import Audit, EdiMessageRow, TradingPartnerRow
from supplyseg.service.problems import ConflictError, NotFoundError, UnprocessableError
from supplyseg.service.schemas import MAX_ID
from supplyseg.service.views import utc

__all__ = ["router"]

router = APIRouter(prefix="/edi", tags=["edi"])

PartnerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class EdiErrorOut(_Out):
    """A precise EDI error (see README "EDI error codes")."""

    code: str
    message: str
    position: int | None
    segment: str | None
    element: str | None
    value: str | None


class SetOutcomeOut(_Out):
    """What became of one transaction set (X12) or message (EDIFACT)."""

    control_number: str
    position: int
    po_number: str | None
    status: Literal["accepted", "rejected"]
    order_id: int | None
    order_status: str | None
    errors: list[EdiErrorOut]


class EdiReceiptOut(_Out):
    """What became of an interchange and which documents were written back."""

    standard: str
    interchange_control: str
    sender: str
    partner_id: str | None
    customer_id: str | None
    status: Literal["accepted", "partially_accepted", "rejected"]
    errors: list[EdiErrorOut]
    sets: list[SetOutcomeOut]
    received_id: int | None
    documents: list[int]


class EdiMessageOut(_Out):
    """An EDI document received or written back (``body``: the interchange text)."""

    id: int
    created_at: datetime
    direction: Literal["in", "out"]
    standard: str
    kind: str
    partner_id: str | None
    customer_id: str | None
    interchange_control: str
    status: str
    summary: dict[str, Any]
    body: str


class EdiMessagePage(_Out):
    """EDI documents after ``since``; pass ``next_since`` as ``since`` to continue."""

    items: list[EdiMessageOut]
    next_since: int


def _error(e: EdiError) -> EdiErrorOut:
    return EdiErrorOut(
        code=e.code,
        message=e.message,
        position=e.position,
        segment=e.segment,
        element=e.element,
        value=e.value,
    )


def receipt_out(r: EdiReceipt) -> EdiReceiptOut:
    """The API form of a receipt."""
    return EdiReceiptOut(
        standard=r.standard,
        interchange_control=r.interchange_control,
        sender=r.sender,
        partner_id=r.partner_id,
        customer_id=r.customer_id,
        status=r.status,
        errors=[_error(e) for e in r.errors],
        sets=[
            SetOutcomeOut(
                control_number=s.control_number,
                position=s.position,
                po_number=s.po_number,
                status=s.status,
                order_id=s.order_id,
                order_status=s.order_status,
                errors=[_error(e) for e in s.errors],
            )
            for s in r.sets
        ],
        received_id=r.received_id,
        documents=r.documents,
    )


def decode_interchange(body: bytes) -> str:
    """The text of an interchange: UTF-8, else ISO 8859-1 (EDIFACT UNOC, extended X12)."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def _syntax_error(exc: EdiSyntaxError) -> UnprocessableError:
    e = exc.error
    loc: list[Any] = ["body", "segment", e.position] if e.position is not None else ["body"]
    if e.element:
        loc.append(e.element)
    return UnprocessableError(
        str(exc), code=e.code, errors=[{"loc": loc, "msg": str(exc), "type": e.code}]
    )


async def _receive(
    request: Request, body: bytes, standard: Literal["x12", "edifact"], cache: Any, principal: Any
) -> EdiReceiptOut:
    try:
        receipt = await run_intake(
            request,
            receive_interchange,
            cache,
            decode_interchange(body),
            standard,
            principal=principal,
        )
    except EdiSyntaxError as exc:
        raise _syntax_error(exc) from None
    return receipt_out(receipt)


@router.post("/x12")
async def receive_x12(
    body: Annotated[bytes, Body(media_type="application/edi-x12", description="ISA..IEA")],
    request: Request,
    cache: CacheDep,
    principal: CanSubmit,
) -> EdiReceiptOut:
    """Receive an X12 interchange of 850 purchase orders (004010 or 005010)."""
    return await _receive(request, body, "x12", cache, principal)


@router.post("/edifact")
async def receive_edifact(
    body: Annotated[bytes, Body(media_type="application/edifact", description="[UNA]UNB..UNZ")],
    request: Request,
    cache: CacheDep,
    principal: CanSubmit,
) -> EdiReceiptOut:
    """Receive an EDIFACT interchange of ORDERS messages (D.96A or D.01B)."""
    return await _receive(request, body, "edifact", cache, principal)


def _message_out(r: EdiMessageRow) -> EdiMessageOut:
    return EdiMessageOut(
        id=r.id,
        created_at=utc(r.created_at),
        direction=r.direction,
        standard=r.standard,
        kind=r.kind,
        partner_id=r.partner_id,
        customer_id=r.customer_id,
        interchange_control=r.interchange_control,
        status=r.status,
        summary=r.summary,
        body=r.body,
    )


@router.get("/messages")
def list_messages(
    session: SessionDep,
    principal: CanReadNotifications,
    since: Annotated[int, Query(ge=0, le=MAX_ID, description="Documents with id > since.")] = 0,
    direction: Annotated[Literal["in", "out"] | None, Query()] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    partner_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EdiMessagePage:
    """EDI documents after ``since``, oldest first (keys see their customers' only)."""
    q = select(EdiMessageRow).where(EdiMessageRow.id > since).order_by(EdiMessageRow.id)
    if direction is not None:
        q = q.where(EdiMessageRow.direction == direction)
    if kind is not None:
        q = q.where(EdiMessageRow.kind == kind)
    if partner_id is not None:
        q = q.where(EdiMessageRow.partner_id == partner_id)
    if principal.customers is not None:
        q = q.where(EdiMessageRow.customer_id.in_(sorted(principal.customers)))
    rows = list(session.scalars(q.limit(limit)))
    return EdiMessagePage(
        items=[_message_out(r) for r in rows], next_since=rows[-1].id if rows else since
    )


def _message(session: Any, principal: Any, message_id: int) -> EdiMessageRow:
    row = session.get(EdiMessageRow, message_id) if 1 <= message_id <= MAX_ID else None
    if row is None or (
        principal.customers is not None and row.customer_id not in principal.customers
    ):
        raise NotFoundError(f"no EDI message {message_id}")
    assert isinstance(row, EdiMessageRow)
    return row


@router.get("/messages/{message_id}")
def get_message(
    message_id: int, session: SessionDep, principal: CanReadNotifications
) -> EdiMessageOut:
    """One EDI document."""
    return _message_out(_message(session, principal, message_id))


@router.get("/messages/{message_id}/body", response_class=Response)
def get_message_body(
    message_id: int, session: SessionDep, principal: CanReadNotifications
) -> Response:
    """The document itself, as sent or received (text/plain)."""
    row = _message(session, principal, message_id)
    return Response(row.body, media_type="text/plain; charset=utf-8")


def _audit(session: Any, actor: str, action: str, partner_id: str, before: Any, after: Any) -> None:
    session.execute(
        insert(Audit),
        {
            "at": datetime.now(UTC),
            "actor": actor,
            "entity": "trading_partner",
            "entity_id": partner_id,
            "action": action,
            "before": before,
            "after": after,
            "comment": None,
        },
    )


def _row_values(p: TradingPartner) -> dict[str, Any]:
    return p.model_dump(mode="json")


def _check_sender_free(session: Any, p: TradingPartner) -> None:
    other = session.scalars(
        select(TradingPartnerRow.partner_id).where(
            TradingPartnerRow.standard == p.standard,
            TradingPartnerRow.sender_qualifier == p.sender_qualifier,
            TradingPartnerRow.sender_id == p.sender_id,
            TradingPartnerRow.partner_id != p.partner_id,
        )
    ).first()
    if other is not None:
        raise ConflictError(
            f"partner {other!r} already sends as {p.sender_qualifier}/{p.sender_id} in"
            f" {p.standard}; fix: change that partner or use another sender id",
            code="sender_taken",
        )


@router.put("/partners/{partner_id}")
def put_partner(
    partner_id: PartnerId,
    partner: TradingPartner,
    response: Response,
    session: SessionDep,
    principal: CanManageKeys,
) -> TradingPartner:
    """Create or replace a trading partner (201 when new); audited."""
    if partner.partner_id != partner_id:
        raise UnprocessableError(
            f"partner_id {partner.partner_id!r} in the body differs from {partner_id!r} in the"
            " path",
            code="partner_id_mismatch",
        )
    _check_sender_free(session, partner)
    now = datetime.now(UTC)
    row = session.get(TradingPartnerRow, partner_id)
    values = _row_values(partner)
    before = None
    if row is None:
        session.add(TradingPartnerRow(**values, created_at=now, updated_at=now))
        response.status_code = 201
    else:
        before = _row_values(partner_from_row(row))
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = now
    _audit(session, principal.key_id, "put", partner_id, before, values)
    session.commit()
    return partner


@router.get("/partners")
def list_partners(session: SessionDep, principal: CanManageKeys) -> list[TradingPartner]:
    """All trading partners."""
    rows = session.scalars(select(TradingPartnerRow).order_by(TradingPartnerRow.partner_id))
    return [partner_from_row(r) for r in rows]


@router.get("/partners/{partner_id}")
def get_partner(
    partner_id: PartnerId, session: SessionDep, principal: CanManageKeys
) -> TradingPartner:
    """One trading partner."""
    row = session.get(TradingPartnerRow, partner_id)
    if row is None:
        raise NotFoundError(f"no trading partner {partner_id}")
    return partner_from_row(row)


@router.delete("/partners/{partner_id}", status_code=204)
def delete_partner(partner_id: PartnerId, session: SessionDep, principal: CanManageKeys) -> None:
    """Remove a trading partner (its documents stay); audited."""
    row = session.get(TradingPartnerRow, partner_id)
    if row is None:
        raise NotFoundError(f"no trading partner {partner_id}")
    _audit(
        session, principal.key_id, "delete", partner_id, _row_values(partner_from_row(row)), None
    )
    session.delete(row)
    session.commit()
